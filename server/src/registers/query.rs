//! Read-only queries over the sync store: the one place the office views read field records.
//! Nothing here writes; office edits go through [`super::write`] (a mutation through push).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anju_shared::merge::StoredRecord;
use diesel::prelude::*;
use serde_json::Value;

use crate::db::DbConnection;
use crate::db::schema::{areas, units};
use crate::sync::schema::sync_records;
use crate::sync::scope::Scope;
use crate::sync::store::RecordRow;

/// One area of the organisation model, as the office views name it.
#[derive(Debug, Clone)]
pub struct Area {
    /// Area id.
    pub id: String,
    /// Stable code, e.g. `hexi-jianshe-1`.
    pub code: String,
    /// Parent area id.
    pub parent_id: Option<String>,
    /// `city`, `district`, `street` or `community`.
    pub kind: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// A unit by id: code and names.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Unit id.
    pub id: String,
    /// Stable code.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// The areas and units, loaded once per request, with the lookups the views need.
pub struct Org {
    /// Areas by id.
    pub areas: HashMap<String, Area>,
    /// Units by id.
    pub units: HashMap<String, Unit>,
}

type AreaRow = (String, String, Option<String>, String, String, String);

impl Org {
    /// Loads every area and unit.
    pub fn load(conn: &mut DbConnection) -> QueryResult<Org> {
        let rows: Vec<AreaRow> = areas::table
            .select((
                areas::id,
                areas::code,
                areas::parent_id,
                areas::kind,
                areas::name_zh,
                areas::name_en,
            ))
            .load(conn)?;
        let areas = rows
            .into_iter()
            .map(|(id, code, parent_id, kind, name_zh, name_en)| {
                (
                    id.clone(),
                    Area {
                        id,
                        code,
                        parent_id,
                        kind,
                        name_zh,
                        name_en,
                    },
                )
            })
            .collect();
        let rows: Vec<(String, String, String, String)> = units::table
            .select((units::id, units::code, units::name_zh, units::name_en))
            .load(conn)?;
        let units = rows
            .into_iter()
            .map(|(id, code, name_zh, name_en)| {
                (
                    id.clone(),
                    Unit {
                        id,
                        code,
                        name_zh,
                        name_en,
                    },
                )
            })
            .collect();
        Ok(Org { areas, units })
    }

    /// The area with this id or code.
    pub fn area(&self, id_or_code: &str) -> Option<&Area> {
        self.areas
            .get(id_or_code)
            .or_else(|| self.areas.values().find(|a| a.code == id_or_code))
    }

    /// The unit with this id or code.
    pub fn unit(&self, id_or_code: &str) -> Option<&Unit> {
        self.units
            .get(id_or_code)
            .or_else(|| self.units.values().find(|u| u.code == id_or_code))
    }

    /// The area and every area below it (ids).
    pub fn below(&self, root: &str) -> BTreeSet<String> {
        let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
        for a in self.areas.values() {
            if let Some(p) = &a.parent_id {
                children.entry(p.as_str()).or_default().push(a.id.as_str());
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

    /// The ancestor of `area_id` (or the area itself) of this kind, e.g. its `district`.
    pub fn ancestor(&self, area_id: &str, kind: &str) -> Option<&Area> {
        let mut cur = self.areas.get(area_id);
        let mut steps = 0;
        while let Some(a) = cur {
            if a.kind == kind {
                return Some(a);
            }
            steps += 1;
            if steps > 32 {
                return None;
            }
            cur = a.parent_id.as_deref().and_then(|p| self.areas.get(p));
        }
        None
    }

    /// The districts, ordered by code.
    pub fn districts(&self) -> Vec<&Area> {
        let mut d: Vec<&Area> = self
            .areas
            .values()
            .filter(|a| a.kind == "district")
            .collect();
        d.sort_by(|a, b| a.code.cmp(&b.code));
        d
    }
}

/// A live record as the office views read it: the stored record and its row's columns.
#[derive(Debug, Clone)]
pub struct Live {
    /// The record (fields with their versions and authors).
    pub record: StoredRecord,
    /// Field values only.
    pub values: BTreeMap<String, Value>,
    /// Wall time of the last change, ms.
    pub updated_at: i64,
}

impl Live {
    /// A text field's value.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.values.get(field).and_then(Value::as_str)
    }

    /// An integer field's value.
    pub fn int(&self, field: &str) -> Option<i64> {
        self.values.get(field).and_then(Value::as_i64)
    }
}

fn live(row: RecordRow) -> Option<Live> {
    let updated_at = row.updated_at;
    match row.to_record() {
        Ok(record) => Some(Live {
            values: record.values(),
            record,
            updated_at,
        }),
        Err(e) => {
            tracing::error!(record = %row.id, error = %e, "unreadable sync record skipped");
            None
        }
    }
}

type Backend = <DbConnection as diesel::Connection>::Backend;

/// The live rows of `record_type`, narrowed by SQL (not yet by scope).
fn narrowed<'a>(record_type: &'a str, narrow: &'a Narrow) -> sync_records::BoxedQuery<'a, Backend> {
    let mut q = sync_records::table
        .filter(sync_records::record_type.eq(record_type))
        .filter(sync_records::deleted.eq(false))
        .into_boxed();
    if let Some(areas) = &narrow.areas {
        q = q.filter(sync_records::area_id.eq_any(areas.iter().cloned().collect::<Vec<_>>()));
    }
    if let Some(unit) = &narrow.unit_id {
        q = q.filter(sync_records::unit_id.eq(unit.clone()));
    }
    if let Some(status) = &narrow.status {
        q = q.filter(sync_records::status.eq(status.clone()));
    }
    if let Some(p) = &narrow.programme {
        q = q.filter(sync_records::programme.eq(p.clone()));
    }
    q
}

/// Every live (not deleted) record of `record_type` that `scope` sees, optionally narrowed by
/// SQL to these area ids, this unit, status and programme.
pub fn live_records(
    conn: &mut DbConnection,
    record_type: &str,
    scope: &Scope,
    narrow: &Narrow,
) -> QueryResult<Vec<Live>> {
    let rows: Vec<RecordRow> = narrowed(record_type, narrow)
        .select(RecordRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| {
            let (u, a) = r.scope_ids();
            scope.sees(u, a)
        })
        .filter_map(live)
        .collect())
}

/// For a caller who sees everything ([`Scope::All`]) and a list narrowed by SQL alone in its
/// default order (latest change first, then id): the total and one page, counted and paged by
/// SQL, so only the page's records are read (the in-memory path reads every record).
pub fn latest_page(
    conn: &mut DbConnection,
    record_type: &str,
    narrow: &Narrow,
    offset: usize,
    limit: usize,
) -> QueryResult<(usize, Vec<Live>)> {
    let total: i64 = narrowed(record_type, narrow).count().get_result(conn)?;
    let rows: Vec<RecordRow> = narrowed(record_type, narrow)
        .order((sync_records::updated_at.desc(), sync_records::id.asc()))
        .offset(i64::try_from(offset).unwrap_or(i64::MAX))
        .limit(i64::try_from(limit).unwrap_or(200))
        .select(RecordRow::as_select())
        .load(conn)?;
    Ok((
        usize::try_from(total).unwrap_or(0),
        rows.into_iter().filter_map(live).collect(),
    ))
}

/// What SQL can narrow a register list by before the rest is filtered in memory.
#[derive(Debug, Default, Clone)]
pub struct Narrow {
    /// Area ids (an area and the areas below it).
    pub areas: Option<BTreeSet<String>>,
    /// Responsible unit id.
    pub unit_id: Option<String>,
    /// Status column.
    pub status: Option<String>,
    /// Programme column (projects).
    pub programme: Option<String>,
}

/// One record by id, live or deleted, if `scope` sees it.
pub fn record(
    conn: &mut DbConnection,
    id: &str,
    scope: &Scope,
) -> QueryResult<Option<(Live, bool)>> {
    let row: Option<RecordRow> = sync_records::table
        .find(id)
        .select(RecordRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.and_then(|r| {
        let (u, a) = r.scope_ids();
        if !scope.sees(u, a) {
            return None;
        }
        let deleted = r.deleted;
        live(r).map(|l| (l, deleted))
    }))
}

/// Live records of `record_type` whose field `field` holds one of `ids`, seen by `scope`
/// (the links of the record page: a project's buildings, a building's inspections…).
pub fn linked(
    conn: &mut DbConnection,
    record_type: &str,
    field: &str,
    ids: &BTreeSet<String>,
    scope: &Scope,
) -> QueryResult<Vec<Live>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let all = live_records(conn, record_type, scope, &Narrow::default())?;
    Ok(all
        .into_iter()
        .filter(|l| l.text(field).is_some_and(|v| ids.contains(v)))
        .collect())
}
