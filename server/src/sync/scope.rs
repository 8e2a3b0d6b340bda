//! Which records a user's devices see (invariant 6, least access).
//!
//! Supervisors, dispatchers and admins see every record. Unit roles see a record when its
//! `unit_id` is their unit or one below it, or its `area_id` is an area their units serve (or one
//! below such an area). A scope has a fingerprint; a pull cursor carries the fingerprint it was
//! issued under, so a pull notices when the user's scope changed since the last one.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

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
