//! Which records a user sees, through sync and in the office (invariant 6, least access): the
//! vocabulary below sync and every capability that reads its records.
//!
//! Supervisors, dispatchers and admins see every record. Unit roles see a record when its
//! `unit_id` is their unit or one below it, or its `area_id` is an area their units serve (or one
//! below such an area). A scope has a fingerprint; a pull cursor carries the fingerprint it was
//! issued under, so a pull notices when the user's scope changed since the last one.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Principal;
use crate::db::DbConnection;
use crate::db::schema::{areas, unit_areas, units};
use crate::error::ApiError;

/// The set of records a user may see and change through sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// Every record (admin, supervisor, dispatcher).
    All,
    /// Records of these units or in these areas.
    Limited {
        /// The user's unit and every unit below it.
        units: BTreeSet<Uuid>,
        /// Areas served by those units, and every area below them.
        areas: BTreeSet<Uuid>,
    },
}

impl Scope {
    /// Whether a record with these scope ids is visible. A record with neither id is visible
    /// only to [`Scope::All`].
    pub fn sees(&self, unit_id: Option<Uuid>, area_id: Option<Uuid>) -> bool {
        match self {
            Scope::All => true,
            Scope::Limited { units, areas } => {
                unit_id.is_some_and(|u| units.contains(&u))
                    || area_id.is_some_and(|a| areas.contains(&a))
            }
        }
    }

    /// Whether a person with this scope may decide a record's contested values: everyone for
    /// [`Scope::All`]; otherwise the record's responsible unit (or a unit above it), or, for a
    /// record without a unit (a building), the units serving its area. Seeing a record through
    /// an area one serves is not enough to overrule its responsible unit.
    pub fn may_decide(&self, unit_id: Option<Uuid>, area_id: Option<Uuid>) -> bool {
        match self {
            Scope::All => true,
            Scope::Limited { units, areas } => match unit_id {
                Some(u) => units.contains(&u),
                None => area_id.is_some_and(|a| areas.contains(&a)),
            },
        }
    }

    /// A short stable name of this scope: equal scopes have equal fingerprints.
    pub fn fingerprint(&self) -> String {
        match self {
            Scope::All => "all".to_owned(),
            Scope::Limited { .. } => {
                // BTreeSets serialize in order, so the JSON is canonical.
                let json = serde_json::to_vec(self).unwrap_or_default();
                let digest = Sha256::digest(&json);
                hex::encode(&digest[..16])
            }
        }
    }
}

/// The records `principal` sees through sync, as the database says now: city-wide roles see
/// everything; a unit role sees its unit and the units below it, and the areas those units
/// serve and the areas below them.
pub fn scope_of(conn: &mut DbConnection, principal: &Principal) -> Result<Scope, ApiError> {
    if principal.role.is_citywide() {
        return Ok(Scope::All);
    }
    let mut unit_ids = BTreeSet::new();
    let mut area_ids = BTreeSet::new();
    if let Some(unit) = &principal.unit_id {
        let tree: Vec<(String, Option<String>)> = units::table
            .select((units::id, units::parent_id))
            .load(conn)?;
        unit_ids = below(unit, &tree);
        let served: Vec<String> = unit_areas::table
            .filter(unit_areas::unit_id.eq_any(unit_ids.iter().cloned().collect::<Vec<_>>()))
            .select(unit_areas::area_id)
            .load(conn)?;
        if !served.is_empty() {
            let tree: Vec<(String, Option<String>)> = areas::table
                .select((areas::id, areas::parent_id))
                .load(conn)?;
            for a in served {
                area_ids.extend(below(&a, &tree));
            }
        }
    }
    let parse = |ids: BTreeSet<String>| {
        ids.iter()
            .filter_map(|s| Uuid::try_parse(s).ok())
            .collect::<BTreeSet<_>>()
    };
    Ok(Scope::Limited {
        units: parse(unit_ids),
        areas: parse(area_ids),
    })
}

fn below(root: &str, parents: &[(String, Option<String>)]) -> BTreeSet<String> {
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for (id, parent) in parents {
        if let Some(p) = parent {
            children.entry(p.as_str()).or_default().push(id.as_str());
        }
    }
    let mut out = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        if out.insert(id.to_owned()) {
            stack.extend(children.get(id).into_iter().flatten().copied());
        }
    }
    out
}
