//! Read-only queries over the sync store: the one place the office views read field records.
//! Nothing here writes; office edits go through [`super::write`] (a mutation through push).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anju_shared::merge::StoredRecord;
use diesel::prelude::*;
use serde_json::Value;

use crate::auth::scope::Scope;
use crate::db::DbConnection;
use crate::db::schema::{areas, units};
use crate::sync::schema::sync_records;
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

/// The live rows of `record_type` that `scope` sees, narrowed by `narrow`: every filter of a
/// register list is a condition on an indexed column of `sync_records` (see
/// [`super::columns`]), so nothing is filtered in memory.
fn narrowed<'a>(
    record_type: &'a str,
    scope: &'a Scope,
    narrow: &'a Narrow,
) -> sync_records::BoxedQuery<'a, Backend> {
    use diesel::dsl::sql;
    use diesel::sql_types::Bool;
    let mut q = sync_records::table
        .filter(sync_records::record_type.eq(record_type))
        .filter(sync_records::deleted.eq(false))
        .into_boxed();
    if let Scope::Limited { units, areas } = scope {
        let ids = |s: &BTreeSet<uuid::Uuid>| s.iter().map(ToString::to_string).collect::<Vec<_>>();
        q = q.filter(
            sync_records::unit_id
                .eq_any(ids(units))
                .or(sync_records::area_id.eq_any(ids(areas))),
        );
    }
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
    if let Some(g) = &narrow.grade {
        q = q.filter(sync_records::grade.eq(g.clone()));
    }
    if let Some(s) = &narrow.severity {
        q = q.filter(sync_records::severity.eq(s.clone()));
    }
    if let Some(today) = &narrow.overdue_on {
        q = match record_type {
            "hazard" => q.filter(
                sync_records::status
                    .eq("open")
                    .and(sync_records::due_on.lt(today.clone())),
            ),
            "project" => q.filter(
                sync_records::status
                    .is_null()
                    .or(sync_records::status.ne("completed"))
                    .and(sync_records::due_on.lt(today.clone())),
            ),
            _ => q.filter(sql::<Bool>("1 = 0")),
        };
    }
    if let Some(from) = &narrow.from {
        q = q.filter(sync_records::date_on.ge(from.clone()));
    }
    if let Some(to) = &narrow.to {
        q = q.filter(sync_records::date_on.le(to.clone()));
    }
    if let Some(search) = &narrow.search {
        let in_areas = sync_records::area_id.eq_any(search.areas.clone());
        q = if search.needle.contains(super::columns::SEARCH_SEPARATOR) {
            q.filter(in_areas)
        } else {
            let escaped: String = search
                .needle
                .chars()
                .flat_map(|c| match c {
                    '\\' | '%' | '_' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            q.filter(
                sync_records::search
                    .like(format!("%{escaped}%"))
                    .escape('\\')
                    .or(in_areas),
            )
        };
    }
    q
}

/// Every live (not deleted) record of `record_type` that `scope` sees, narrowed by `narrow`
/// (all in SQL).
pub fn live_records(
    conn: &mut DbConnection,
    record_type: &str,
    scope: &Scope,
    narrow: &Narrow,
) -> QueryResult<Vec<Live>> {
    let rows: Vec<RecordRow> = narrowed(record_type, scope, narrow)
        .select(RecordRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().filter_map(live).collect())
}

/// The order of a register list.
#[derive(Debug, Clone, PartialEq)]
pub enum Sort {
    /// By the time of the last change (then by id).
    Updated {
        /// Latest first.
        desc: bool,
    },
    /// By a field of the record type: numbers by value, other values by their JSON text
    /// (strings by character code), missing values last in both directions, then by id.
    Field {
        /// The field (a name of the record type's schema: `[a-z_]` only).
        name: &'static str,
        /// An integer or decimal field.
        numeric: bool,
        /// Descending.
        desc: bool,
    },
}

/// The ORDER BY clause of `sort` on this connection's backend. A field's value is read from the
/// record's JSON state by the database (only the narrowed rows are sorted).
fn order_clause(conn: &DbConnection, sort: &Sort) -> String {
    let dir = |desc: bool| if desc { "DESC" } else { "ASC" };
    match sort {
        Sort::Updated { desc } => format!("updated_at {}, id ASC", dir(*desc)),
        Sort::Field {
            name,
            numeric,
            desc,
        } => {
            debug_assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            let key = match (conn, numeric) {
                (DbConnection::Pg(_), true) => {
                    format!("((state::json -> '{name}' ->> 'value')::float8)")
                }
                (DbConnection::Pg(_), false) => format!(
                    "(nullif((state::json -> '{name}' -> 'value')::text, 'null') COLLATE \"C\")"
                ),
                (DbConnection::Sqlite(_), true) => format!("(state ->> '$.{name}.value')"),
                (DbConnection::Sqlite(_), false) => {
                    format!("nullif(state -> '$.{name}.value', 'null')")
                }
            };
            format!("{key} {} NULLS LAST, id ASC", dir(*desc))
        }
    }
}

/// The total and one page of a register list, counted, filtered, sorted and paged by SQL:
/// only the page's records are read and parsed.
pub fn page(
    conn: &mut DbConnection,
    record_type: &str,
    scope: &Scope,
    narrow: &Narrow,
    sort: &Sort,
    offset: usize,
    limit: usize,
) -> QueryResult<(usize, Vec<Live>)> {
    let total: i64 = narrowed(record_type, scope, narrow)
        .count()
        .get_result(conn)?;
    let order = order_clause(conn, sort);
    let rows: Vec<RecordRow> = narrowed(record_type, scope, narrow)
        .order_by(diesel::dsl::sql::<diesel::sql_types::Text>(&order))
        .offset(i64::try_from(offset).unwrap_or(i64::MAX))
        .limit(i64::try_from(limit).unwrap_or(200))
        .select(RecordRow::as_select())
        .load(conn)?;
    Ok((
        usize::try_from(total).unwrap_or(0),
        rows.into_iter().filter_map(live).collect(),
    ))
}

/// Every record of a register list in its order, read `batch` records at a time and handed to
/// `each` in order, so a download of 100,000 rows never holds more than one batch of records
/// (the ordered ids are read first: 100,000 ids are a few MB).
pub fn for_each_batch(
    conn: &mut DbConnection,
    record_type: &str,
    scope: &Scope,
    narrow: &Narrow,
    sort: &Sort,
    batch: usize,
    mut each: impl FnMut(&[Live]) -> Result<(), crate::error::ApiError>,
) -> Result<usize, crate::error::ApiError> {
    let order = order_clause(conn, sort);
    let ids: Vec<String> = narrowed(record_type, scope, narrow)
        .order_by(diesel::dsl::sql::<diesel::sql_types::Text>(&order))
        .select(sync_records::id)
        .load(conn)?;
    for chunk in ids.chunks(batch.max(1)) {
        let mut by_id: HashMap<String, RecordRow> = crate::sync::store::load_rows(conn, chunk)?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
        let rows: Vec<Live> = chunk
            .iter()
            .filter_map(|id| by_id.remove(id))
            .filter_map(live)
            .collect();
        each(&rows)?;
    }
    Ok(ids.len())
}

/// What a register list is narrowed by (every part a condition on a `sync_records` column).
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
    /// Grade column: a building's safety grade, an inspection's grade.
    pub grade: Option<String>,
    /// Severity column (hazards).
    pub severity: Option<String>,
    /// Only records overdue on this day (`YYYY-MM-DD`): open hazards past their deadline,
    /// projects past their planned completion and not completed; none of other types.
    pub overdue_on: Option<String>,
    /// The register's date field on or after this day.
    pub from: Option<String>,
    /// The register's date field on or before this day.
    pub to: Option<String>,
    /// Text search.
    pub search: Option<Search>,
}

/// A text search: records with a text field containing `needle`, or in one of `areas`.
#[derive(Debug, Default, Clone)]
pub struct Search {
    /// The lowercased search text.
    pub needle: String,
    /// Areas whose Chinese name contains the needle or whose lowercased English name does.
    pub areas: Vec<String>,
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
