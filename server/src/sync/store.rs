//! Rows of `sync_records` and the change counter that orders them.

use std::collections::BTreeMap;

use anju_shared::merge::{FieldState, StoredRecord};
use anju_shared::records::{FieldKind, schema_for};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::schema::{sync_counter, sync_photo_refs, sync_records, sync_scope_exits};
use crate::db::DbConnection;

/// The author name stamped on a device's writes (and its conflicts and rejections): it identifies the device, as the merge needs.
pub fn device_author(device_id: Uuid) -> String {
    format!("device:{device_id}")
}

/// The register columns of one record (all `None` for record types that are not registers),
/// computed by the registers' rule ([`super::hooks::RecordHooks::columns`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegisterColumns {
    /// A building's `safety_grade`, another register's `grade` (inspections).
    pub grade: Option<String>,
    /// `severity` (hazards).
    pub severity: Option<String>,
    /// The register's date field (`registers::list::date_field`), its first 10 characters (the day).
    pub date_on: Option<String>,
    /// What "overdue" compares with today: a project's `planned_completion`, a hazard's
    /// `deadline` (whole value).
    pub due_on: Option<String>,
    /// A project's `actual_completion` (progress: the month it counts as completed).
    pub finished_on: Option<String>,
    /// A project's `planned_units` (integers only, as progress reads them).
    pub planned_units: Option<i64>,
    /// A project's `completed_units`.
    pub completed_units: Option<i64>,
    /// Every text value of the record, each lowercased, joined by `registers::columns::SEARCH_SEPARATOR`: what
    /// `q` searches (`LIKE '%q%'`), exactly the fields the in-memory search looked at.
    pub search: Option<String>,
}

/// One row of `sync_records`: a record's latest state and the change that produced it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = sync_records, treat_none_as_null = true)]
pub struct RecordRow {
    /// Record id (UUID text).
    pub id: String,
    /// Record type wire name.
    pub record_type: String,
    /// Record version (the change sequence number that made it).
    pub version: i64,
    /// Tombstone.
    pub deleted: bool,
    /// Position in the pull stream.
    pub change_seq: i64,
    /// Scope column: the responsible unit.
    pub unit_id: Option<String>,
    /// Scope column: the area.
    pub area_id: Option<String>,
    /// Queryable copy of `status`.
    pub status: Option<String>,
    /// Queryable copy of `programme` (projects).
    pub programme: Option<String>,
    /// The field states as JSON (`BTreeMap<String, FieldState>`).
    pub state: String,
    /// Wall time of the last change, ms since the epoch.
    pub updated_at: i64,
    /// Register column: safety grade ([`RegisterColumns`]).
    pub grade: Option<String>,
    /// Register column: severity.
    pub severity: Option<String>,
    /// Register column: the register's date field (the day).
    pub date_on: Option<String>,
    /// Register column: the date "overdue" compares with today.
    pub due_on: Option<String>,
    /// Register column: a project's actual completion.
    pub finished_on: Option<String>,
    /// Register column: a project's planned units.
    pub planned_units: Option<i64>,
    /// Register column: a project's completed units.
    pub completed_units: Option<i64>,
    /// Register column: the lowercased texts the list's search looks in.
    pub search: Option<String>,
}

impl RecordRow {
    /// The row for `record` written by change `change_seq` at `now_ms`, with its register
    /// columns `c` (`RecordHooks::columns`, or none for a record that is no register).
    pub fn from_record(
        record: &StoredRecord,
        change_seq: i64,
        now_ms: i64,
        c: RegisterColumns,
    ) -> RecordRow {
        let text = |name: &str| {
            record
                .fields
                .get(name)
                .and_then(|f| f.value.as_str())
                .map(str::to_owned)
        };
        let (unit_id, area_id) = scope_columns(record);
        RecordRow {
            id: record.id.to_string(),
            record_type: record.record_type.clone(),
            version: record.version,
            deleted: record.deleted,
            change_seq,
            unit_id: unit_id.map(|u| u.to_string()),
            area_id: area_id.map(|a| a.to_string()),
            status: text("status"),
            programme: text("programme"),
            // A map of plain values always serializes.
            state: serde_json::to_string(&record.fields).unwrap_or_else(|_| "{}".into()),
            updated_at: now_ms,
            grade: c.grade,
            severity: c.severity,
            date_on: c.date_on,
            due_on: c.due_on,
            finished_on: c.finished_on,
            planned_units: c.planned_units,
            completed_units: c.completed_units,
            search: c.search,
        }
    }

    /// The stored record this row holds; an unreadable row is a server bug (logged by the
    /// caller as an internal error).
    pub fn to_record(&self) -> anyhow::Result<StoredRecord> {
        let fields: BTreeMap<String, FieldState> = serde_json::from_str(&self.state)?;
        Ok(StoredRecord {
            record_type: self.record_type.clone(),
            id: Uuid::try_parse(&self.id)?,
            version: self.version,
            deleted: self.deleted,
            fields,
        })
    }

    /// The scope ids of this row.
    pub fn scope_ids(&self) -> (Option<Uuid>, Option<Uuid>) {
        let parse = |s: &Option<String>| s.as_deref().and_then(|s| Uuid::try_parse(s).ok());
        (parse(&self.unit_id), parse(&self.area_id))
    }
}

/// The `(unit_id, area_id)` a record is scoped by, from its schema's scope fields.
pub fn scope_columns(record: &StoredRecord) -> (Option<Uuid>, Option<Uuid>) {
    let Some(schema) = schema_for(&record.record_type) else {
        return (None, None);
    };
    let ids = schema.scope_ids(&record.values());
    (ids.get("unit_id").copied(), ids.get("area_id").copied())
}

/// Records, as change `seq`, that record `record_id` of `record_type` left the scope `left`
/// (its `(unit_id, area_id)` before the write, as [`scope_columns`] gives it). A pull after
/// `seq` by a device that saw the record under `left` and no longer sees it gets a revocation
/// for it. Written in the caller's transaction, which holds the counter ([`lock_counter`]) and
/// took `seq` from it.
pub fn record_scope_exit(
    conn: &mut DbConnection,
    seq: i64,
    record_type: &str,
    record_id: &str,
    left: (Option<Uuid>, Option<Uuid>),
    now_ms: i64,
) -> QueryResult<()> {
    let (unit, area) = left;
    diesel::insert_into(sync_scope_exits::table)
        .values((
            sync_scope_exits::seq.eq(seq),
            sync_scope_exits::record_id.eq(record_id),
            sync_scope_exits::record_type.eq(record_type),
            sync_scope_exits::unit_id.eq(unit.map(|u| u.to_string())),
            sync_scope_exits::area_id.eq(area.map(|a| a.to_string())),
            sync_scope_exits::created_at.eq(now_ms),
        ))
        .execute(conn)?;
    Ok(())
}

/// Takes the change counter for the rest of the transaction and returns `(seq, horizon)`.
///
/// This must be the first write of every transaction that adds changes: on PostgreSQL the row
/// lock is held until commit, so writers commit one at a time in sequence order and a reader
/// that sees the counter at `T` can see every change up to `T`; on SQLite the first write takes
/// the database write lock before anything is read.
pub fn lock_counter(conn: &mut DbConnection) -> QueryResult<(i64, i64)> {
    diesel::update(sync_counter::table.filter(sync_counter::id.eq(1)))
        .set(sync_counter::seq.eq(sync_counter::seq))
        .execute(conn)?;
    sync_counter::table
        .filter(sync_counter::id.eq(1))
        .select((sync_counter::seq, sync_counter::horizon))
        .first(conn)
}

/// Records the last sequence number handed out in this transaction.
pub fn store_counter(conn: &mut DbConnection, seq: i64) -> QueryResult<()> {
    diesel::update(sync_counter::table.filter(sync_counter::id.eq(1)))
        .set(sync_counter::seq.eq(seq))
        .execute(conn)
        .map(|_| ())
}

/// The committed counter `(seq, horizon)`, without locking: every change up to `seq` is
/// committed and visible to statements that start after this one.
pub fn read_counter(conn: &mut DbConnection) -> QueryResult<(i64, i64)> {
    sync_counter::table
        .filter(sync_counter::id.eq(1))
        .select((sync_counter::seq, sync_counter::horizon))
        .first(conn)
}

/// Loads the rows of these record ids.
pub fn load_rows(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<RecordRow>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            sync_records::table
                .filter(sync_records::id.eq_any(chunk))
                .select(RecordRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Inserts new record rows, 500 per statement (batch inserts are not available through the
/// `MultiConnection`, so each backend runs its own). The caller holds the counter and gives each
/// row a fresh `change_seq`.
pub fn insert_rows(conn: &mut DbConnection, rows: &[RecordRow]) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in rows.chunks(500) {
        n += match conn {
            DbConnection::Pg(c) => diesel::insert_into(sync_records::table)
                .values(chunk)
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(sync_records::table)
                .values(chunk)
                .execute(c)?,
        };
    }
    Ok(n)
}

/// Who writes a record the server authors itself (a ticket's copy, a project's fund summary):
/// the record type, the node of its clock stamps and the author of its field states.
#[derive(Debug, Clone, Copy)]
pub struct ServerAuthor {
    /// Record type wire name.
    pub record_type: &'static str,
    /// The node in the fields' clock stamps.
    pub node: &'static str,
    /// The author of the fields' states (shown in field histories and conflict views).
    pub author: &'static str,
}

/// Whether writing `values` (`live`, or a tombstone) over `current` would change nothing: the
/// same deletion state and exactly the same field values.
pub fn same_as_stored(
    current: Option<&StoredRecord>,
    values: &BTreeMap<String, Value>,
    live: bool,
) -> bool {
    current.is_some_and(|c| {
        c.deleted != live
            && c.fields.len() == values.len()
            && values
                .iter()
                .all(|(k, v)| c.fields.get(k).is_some_and(|f| &f.value == v))
    })
}

/// The row of a server-authored record `id` at change `seq`: fields whose value is unchanged
/// from `current` keep their state, the others are new states by `by` at `now`. Such a record
/// is no register record: the row has no register columns.
pub fn server_record_row(
    by: ServerAuthor,
    id: Uuid,
    values: BTreeMap<String, Value>,
    current: Option<&StoredRecord>,
    live: bool,
    seq: i64,
    now: i64,
) -> RecordRow {
    let hlc = anju_shared::hlc::Hlc {
        wall_ms: u64::try_from(now).unwrap_or(0),
        counter: 0,
        node: by.node.into(),
    }
    .to_string();
    let mut record = StoredRecord {
        record_type: by.record_type.into(),
        id,
        version: seq,
        deleted: !live,
        fields: BTreeMap::new(),
    };
    for (name, value) in values {
        let unchanged = current
            .and_then(|c| c.fields.get(&name))
            .filter(|f| f.value == value)
            .cloned();
        let state = unchanged.unwrap_or_else(|| FieldState {
            value,
            hlc: hlc.clone(),
            version: seq,
            author: by.author.into(),
            elements: BTreeMap::new(),
        });
        record.fields.insert(name, state);
    }
    RecordRow::from_record(&record, seq, now, RegisterColumns::default())
}

/// The photo hashes a record references: every element of its SHA-256 set fields (none for a
/// tombstone).
pub fn photo_hashes(record: &StoredRecord) -> Vec<String> {
    let Some(schema) = schema_for(&record.record_type) else {
        return Vec::new();
    };
    if record.deleted {
        return Vec::new();
    }
    let mut out: Vec<String> = schema
        .fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::StringSet { sha256: true, .. }))
        .filter_map(|f| record.fields.get(f.name))
        .flat_map(|s| s.value.as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Makes `sync_photo_refs` say what these records reference now. Every writer of
/// `sync_records` calls it in the same transaction as the write.
pub fn replace_photo_refs(conn: &mut DbConnection, records: &[&StoredRecord]) -> QueryResult<()> {
    let ids: Vec<String> = records.iter().map(|r| r.id.to_string()).collect();
    for chunk in ids.chunks(500) {
        diesel::delete(sync_photo_refs::table.filter(sync_photo_refs::record_id.eq_any(chunk)))
            .execute(conn)?;
    }
    let rows: Vec<(String, String)> = records
        .iter()
        .flat_map(|r| {
            let id = r.id.to_string();
            photo_hashes(r).into_iter().map(move |h| (h, id.clone()))
        })
        .collect();
    for chunk in rows.chunks(500) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(h, id)| {
                (
                    sync_photo_refs::sha256.eq(h.as_str()),
                    sync_photo_refs::record_id.eq(id.as_str()),
                )
            })
            .collect();
        match conn {
            DbConnection::Pg(c) => diesel::insert_into(sync_photo_refs::table)
                .values(&values)
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(sync_photo_refs::table)
                .values(&values)
                .execute(c)?,
        };
    }
    Ok(())
}

/// Retention: forgets tombstones and scope exits last changed before `cutoff_ms` and moves the
/// horizon past them, batch after batch ([`super::retention::prune_batch`], one transaction
/// each). Devices whose cursor is below the new horizon get one 410 `reset_required` and
/// download their scope again; live records are never removed. Returns the new horizon. For
/// tests and tools: the worker runs [`super::retention::prune_pass`] through the writer queue.
pub fn prune(conn: &mut DbConnection, cutoff_ms: i64) -> QueryResult<i64> {
    loop {
        let p = conn.transaction(|c| {
            super::retention::prune_batch(c, cutoff_ms, super::retention::PRUNE_BATCH)
        })?;
        if !p.more {
            return Ok(p.horizon);
        }
    }
}
