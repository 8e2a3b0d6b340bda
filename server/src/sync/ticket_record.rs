//! The synced copy of a complaint ticket (record type `ticket`, read-only for devices).
//!
//! The ticket state machine stays the one place a ticket changes: every event it records
//! (`tickets::transition::record_event`) calls [`refresh`] in the same transaction, which writes
//! the ticket's snapshot as a server-authored change when it differs from the stored one. The
//! record is scoped by the holding unit only (not by the community's area), so the handling
//! unit's devices (and those of the units above it, and city-wide roles) see it; when the ticket
//! is transferred, returned or reassigned, a scope exit makes the old unit's devices purge it
//! (`Revoke`) while the new unit pulls it.
//!
//! "Open and recent": a ticket is on devices while it is open and for [`RECENT_MS`] (30 days)
//! after it closed; [`expire`] then writes a tombstone (a pull tells devices to delete it).
//! The resident's phone is in the stored snapshot but a pull hands it only to staff of the
//! handling unit ([`redact_for`]).

use std::collections::BTreeMap;

use anju_shared::merge::StoredRecord;
use anju_shared::protocol::Change;
use anju_shared::records::TICKET;
use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use super::schema::sync_records;
use super::store::{
    RecordRow, ServerAuthor, insert_rows, lock_counter, record_scope_exit, same_as_stored,
    scope_columns, server_record_row, store_counter,
};
use crate::auth::{Principal, Role};
use crate::db::DbConnection;
use crate::db::schema::{areas, categories};
use crate::error::ApiError;
use crate::tickets::copies::{DueCopy, TicketCopies};
use crate::tickets::schema::{ticket_events, tickets};
use crate::tickets::store::{self as ticket_store, TicketRow};

/// How long a closed ticket stays on devices: 30 days after it closed.
pub const RECENT_MS: i64 = 30 * 86_400_000;

/// The author of ticket snapshots in field states and conflict views.
pub const AUTHOR: &str = "server:tickets";

/// The field that only the handling unit's staff receive.
pub const PHONE_FIELD: &str = "resident_phone";

fn rfc3339(ms: i64) -> Value {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| Value::String(t.to_string()))
        .unwrap_or(Value::Null)
}

fn opt(v: Option<String>) -> Value {
    v.map(Value::String).unwrap_or(Value::Null)
}

/// The snapshot's field values for `t` (nulls for absent optional fields), without
/// `device_outcome` (carried over or set by the caller) and `proof`.
fn snapshot(conn: &mut DbConnection, t: &TicketRow) -> Result<BTreeMap<String, Value>, ApiError> {
    let category: Option<String> = categories::table
        .find(&t.category_code)
        .select(categories::name_zh)
        .first(conn)
        .optional()?;
    let community: Option<String> = match &t.area_id {
        Some(a) => areas::table
            .find(a)
            .select(areas::name_zh)
            .first(conn)
            .optional()?,
        None => None,
    };
    let events: Vec<(i64, String, Option<String>)> = ticket_events::table
        .filter(ticket_events::ticket_id.eq(&t.id))
        .filter(ticket_events::public.eq(true))
        .filter(ticket_events::kind.eq_any(["replied", "resolved"]))
        .order(ticket_events::id.asc())
        .select((ticket_events::at, ticket_events::kind, ticket_events::body))
        .load(conn)?;
    let replies: Vec<Value> = events
        .into_iter()
        .rev()
        .take(200)
        .rev()
        .map(|(at, kind, body)| json!({"at": rfc3339(at), "kind": kind, "text": body}))
        .collect();
    let mut v = BTreeMap::new();
    v.insert("ticket_no".into(), json!(t.ticket_no));
    v.insert("unit_id".into(), opt(t.unit_id.clone()));
    v.insert("status".into(), json!(t.status));
    v.insert("category_code".into(), json!(t.category_code));
    v.insert(
        "category".into(),
        json!(category.unwrap_or_else(|| t.category_code.clone())),
    );
    v.insert("area_id".into(), opt(t.area_id.clone()));
    v.insert("community".into(), opt(community));
    v.insert("address".into(), opt(t.address.clone()));
    v.insert("description".into(), json!(t.description));
    v.insert("response_due".into(), rfc3339(t.response_due));
    v.insert("resolution_due".into(), rfc3339(t.resolution_due));
    v.insert(
        "accepted_at".into(),
        t.accepted_at.map_or(Value::Null, rfc3339),
    );
    v.insert(
        "resolved_at".into(),
        t.resolved_at.map_or(Value::Null, rfc3339),
    );
    v.insert("closed_at".into(), t.closed_at.map_or(Value::Null, rfc3339));
    v.insert("filed_at".into(), rfc3339(t.created_at));
    v.insert(
        "replies".into(),
        if replies.is_empty() {
            Value::Null
        } else {
            Value::Array(replies)
        },
    );
    v.insert(PHONE_FIELD.into(), opt(t.reporter_phone.clone()));
    Ok(v)
}

/// Whether a ticket in state `t` belongs on devices at `now`: open, or closed within
/// [`RECENT_MS`], and held by a unit.
fn on_devices(t: &TicketRow, now: i64) -> bool {
    t.unit_id.is_some() && t.closed_at.is_none_or(|c| now - c < RECENT_MS)
}

/// What changes besides the ticket itself: the outcome of a device action. (The proof verdict
/// is read from `proof_checks` with the ticket.)
#[derive(Debug, Default)]
pub struct Extra {
    /// `device_outcome`: what became of the last device action on the ticket.
    pub device_outcome: Option<Value>,
}

/// Writes ticket `ticket_id`'s synced copy at `now` if it differs from the stored one, inside
/// the caller's transaction: takes the sync counter, writes a scope exit when the holding unit
/// changed (the old unit's devices get a `Revoke`), and the record at a new version. A ticket
/// that does not belong on devices any more ([`on_devices`]) becomes a tombstone.
pub fn refresh(
    conn: &mut DbConnection,
    ticket_id: &str,
    now: i64,
    extra: Extra,
) -> Result<(), ApiError> {
    let Ok(id) = Uuid::try_parse(ticket_id) else {
        return Ok(());
    };
    let (mut seq, _) = lock_counter(conn)?;
    let Some(t) = ticket_store::find(conn, ticket_id)? else {
        return Ok(());
    };
    let current: Option<RecordRow> = sync_records::table
        .find(ticket_id)
        .select(RecordRow::as_select())
        .first(conn)
        .optional()?;
    let current = match current {
        Some(row) => Some(row.to_record().map_err(ApiError::internal)?),
        None => None,
    };
    if current
        .as_ref()
        .is_some_and(|c| c.record_type != TICKET.name)
    {
        return Ok(());
    }
    let live = on_devices(&t, now);
    if !live && current.as_ref().is_none_or(|c| c.deleted) {
        return Ok(());
    }
    let values = values(conn, &t, current.as_ref(), extra)?;
    if same_as_stored(current.as_ref(), &values, live) {
        return Ok(());
    }
    let before = current.as_ref().map(scope_columns);
    if let Some(left) = before.filter(|b| *b != (parse(&t.unit_id), None)) {
        seq += 1;
        record_scope_exit(conn, seq, TICKET.name, ticket_id, left, now)?;
    }
    seq += 1;
    let row = server_record_row(BY, id, values, current.as_ref(), live, seq, now);
    if current.is_some() {
        diesel::update(sync_records::table.find(ticket_id))
            .set(&row)
            .execute(conn)?;
    } else {
        insert_rows(conn, &[row])?;
    }
    store_counter(conn, seq)?;
    Ok(())
}

/// The copy's field values for ticket `t`: the snapshot, the device outcome (`extra`'s, else
/// the stored one) and the proof verdict of its resolution.
fn values(
    conn: &mut DbConnection,
    t: &TicketRow,
    current: Option<&StoredRecord>,
    extra: Extra,
) -> Result<BTreeMap<String, Value>, ApiError> {
    let mut values = snapshot(conn, t)?;
    let outcome = extra.device_outcome.unwrap_or_else(|| {
        current
            .and_then(|c| c.fields.get("device_outcome"))
            .map_or(Value::Null, |f| f.value.clone())
    });
    values.insert("device_outcome".into(), outcome);
    let proof = match t.resolved_at {
        Some(at) => crate::tickets::proof::summary(conn, &t.id, at, false)?,
        None => None,
    };
    values.insert("proof".into(), serde_json::json!(proof));
    Ok(values)
}

/// The writer of ticket copies.
const BY: ServerAuthor = ServerAuthor {
    record_type: TICKET.name,
    node: "server-tickets",
    author: AUTHOR,
};

/// [`refresh`] for the tickets of a group-commit batch (each once, in id order), in the
/// caller's transaction. The copies of the tickets the batch opened (which no other transaction
/// can see, so they have no copy and none can appear) are computed before the sync counter is
/// taken and written after it in one statement, without looking for an existing copy: the
/// batch holds the counter for a few statements instead of several queries per ticket. The
/// others are refreshed one by one after it. Always takes the counter, even for an empty list
/// (the lock order of [`TicketCopies::lock`]). The rows are those [`refresh`] writes.
///
/// No lookup by a list of ids either: a plan cached while `sync_records` was small (a seq scan
/// for `id = ANY(..)`) made every batch scan the whole table under the counter, and intake on
/// PostgreSQL sank minute by minute as the table grew (BENCHMARKS.md, issue 12).
pub fn refresh_all(conn: &mut DbConnection, tickets: &[DueCopy]) -> Result<(), ApiError> {
    let mut fresh = Vec::new();
    let mut others = Vec::new();
    for due in tickets {
        if !due.opened {
            others.push(due);
            continue;
        }
        let Ok(id) = Uuid::try_parse(&due.ticket_id) else {
            continue;
        };
        let Some(t) = ticket_store::find(conn, &due.ticket_id)? else {
            continue;
        };
        if !on_devices(&t, due.at) {
            continue;
        }
        fresh.push((id, values(conn, &t, None, Extra::default())?, due.at));
    }
    let (mut seq, _) = lock_counter(conn)?;
    let mut rows = Vec::with_capacity(fresh.len());
    for (id, values, at) in fresh {
        seq += 1;
        rows.push(server_record_row(BY, id, values, None, true, seq, at));
    }
    if !rows.is_empty() {
        insert_rows(conn, &rows)?;
        store_counter(conn, seq)?;
    }
    // After the counter is stored: each of these reads it and takes the next numbers.
    for due in others {
        refresh(conn, &due.ticket_id, due.at, Extra::default())?;
    }
    Ok(())
}

fn parse(s: &Option<String>) -> Option<Uuid> {
    s.as_deref().and_then(|s| Uuid::try_parse(s).ok())
}

/// Sync's side of [`TicketCopies`]: the counter lock ([`lock_counter`]) and [`refresh`] with no
/// device outcome to add.
#[derive(Debug, Default, Clone, Copy)]
pub struct SyncedCopies;

impl TicketCopies for SyncedCopies {
    fn lock(&self, conn: &mut DbConnection) -> Result<(), ApiError> {
        lock_counter(conn)?;
        Ok(())
    }

    fn refresh(&self, conn: &mut DbConnection, ticket_id: &str, at: i64) -> Result<(), ApiError> {
        refresh(conn, ticket_id, at, Extra::default())
    }

    fn refresh_all(&self, conn: &mut DbConnection, tickets: &[DueCopy]) -> Result<(), ApiError> {
        refresh_all(conn, tickets)
    }
}

/// What one [`catch_up`] batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// Copies written (tombstones of expired copies, and new copies).
    pub wrote: usize,
    /// Whether more may be due (a list was full, or the one-time walk of old tickets is not at
    /// its end).
    pub more: bool,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// The copies of closed tickets unchanged since before `before`, oldest first, at most `batch`:
/// read through the partial index `sync_records_closed_tickets` (only such copies are in it).
fn expired_copies(conn: &mut DbConnection, before: i64, batch: i64) -> QueryResult<Vec<String>> {
    use diesel::sql_types::BigInt;
    let sql = "SELECT id FROM sync_records WHERE record_type = 'ticket' AND NOT deleted \
               AND status = 'closed' AND updated_at < $1 ORDER BY updated_at LIMIT $2";
    let rows: Vec<IdRow> = match conn {
        DbConnection::Pg(c) => diesel::sql_query(sql)
            .bind::<BigInt, _>(before)
            .bind::<BigInt, _>(batch)
            .load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql.replace('$', "?"))
            .bind::<BigInt, _>(before)
            .bind::<BigInt, _>(batch)
            .load(c)?,
    };
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The one-time walk over tickets filed before the server wrote ticket copies: the next
/// `batch` tickets by id after the walk's position (`sync_ticket_copies_pending`), those that
/// belong on devices and have no copy. The position moves on in the caller's transaction; at
/// the end the row is removed and later passes read nothing here. Returns the ids and whether
/// the walk goes on.
fn missing_copies(
    conn: &mut DbConnection,
    now: i64,
    batch: i64,
) -> Result<(Vec<String>, bool), ApiError> {
    let sql = "SELECT after AS id FROM sync_ticket_copies_pending WHERE id = 1";
    let pending: Vec<IdRow> = match conn {
        DbConnection::Pg(c) => diesel::sql_query(sql).load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c)?,
    };
    let Some(after) = pending.into_iter().next().map(|r| r.id) else {
        return Ok((Vec::new(), false));
    };
    let page: Vec<(String, Option<String>, Option<i64>)> = tickets::table
        .filter(tickets::id.gt(&after))
        .order(tickets::id)
        .limit(batch)
        .select((tickets::id, tickets::unit_id, tickets::closed_at))
        .load(conn)?;
    let more = page.len() as i64 >= batch;
    use diesel::sql_types::Text;
    match (page.last(), &mut *conn) {
        (Some(last), DbConnection::Pg(c)) if more => {
            diesel::sql_query("UPDATE sync_ticket_copies_pending SET after = $1 WHERE id = 1")
                .bind::<Text, _>(&last.0)
                .execute(c)?;
        }
        (Some(last), DbConnection::Sqlite(c)) if more => {
            diesel::sql_query("UPDATE sync_ticket_copies_pending SET after = ? WHERE id = 1")
                .bind::<Text, _>(&last.0)
                .execute(c)?;
        }
        (_, DbConnection::Pg(c)) => {
            diesel::sql_query("DELETE FROM sync_ticket_copies_pending").execute(c)?;
        }
        (_, DbConnection::Sqlite(c)) => {
            diesel::sql_query("DELETE FROM sync_ticket_copies_pending").execute(c)?;
        }
    }
    let belongs: Vec<String> = page
        .into_iter()
        .filter(|(_, unit, closed)| unit.is_some() && closed.is_none_or(|c| now - c < RECENT_MS))
        .map(|(id, _, _)| id)
        .collect();
    let copied: std::collections::HashSet<String> = sync_records::table
        .filter(sync_records::id.eq_any(&belongs))
        .select(sync_records::id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    Ok((
        belongs
            .into_iter()
            .filter(|id| !copied.contains(id))
            .collect(),
        more,
    ))
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Whether [`catch_up`] has anything to do at `now`: a closed ticket's copy older than
/// [`RECENT_MS`] (the partial index `sync_records_closed_tickets`), or the one-time walk not yet
/// done. One statement, no write.
pub fn catch_up_due(conn: &mut DbConnection, now: i64) -> QueryResult<bool> {
    use diesel::sql_types::BigInt;
    let sql = "SELECT (SELECT COUNT(*) FROM (SELECT 1 AS x FROM sync_records \
               WHERE record_type = 'ticket' AND NOT deleted AND status = 'closed' \
               AND updated_at < $1 LIMIT 1) e) \
               + (SELECT COUNT(*) FROM sync_ticket_copies_pending) AS n";
    let rows: Vec<Due> = match conn {
        DbConnection::Pg(c) => diesel::sql_query(sql)
            .bind::<BigInt, _>(now - RECENT_MS)
            .load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql.replace('$', "?"))
            .bind::<BigInt, _>(now - RECENT_MS)
            .load(c)?,
    };
    Ok(rows.first().is_some_and(|r| r.n > 0))
}

/// Background batch, in the caller's write transaction: closed tickets whose copy has not
/// changed for [`RECENT_MS`] become tombstones (at most `batch`, read through an index of
/// exactly those copies), and, until the one-time walk is done, tickets that belong on devices
/// but have no copy yet (filed before this server wrote copies; `batch` tickets examined) get
/// one. With nothing due and the walk done: one indexed read.
pub fn catch_up(conn: &mut DbConnection, now: i64, batch: i64) -> Result<CatchUp, ApiError> {
    let expired = expired_copies(conn, now - RECENT_MS, batch)?;
    let (missing, walking) = missing_copies(conn, now, batch)?;
    for id in expired.iter().chain(&missing) {
        refresh(conn, id, now, Extra::default())?;
    }
    Ok(CatchUp {
        wrote: expired.len() + missing.len(),
        more: walking || expired.len() as i64 >= batch,
    })
}

/// Whether `principal` is staff of the unit holding a ticket of unit `unit_id`: the one rule
/// for who receives the resident's phone.
pub fn sees_phone(principal: &Principal, unit_id: Option<&str>) -> bool {
    matches!(principal.role, Role::UnitStaff | Role::UnitAdmin)
        && principal.unit_id.is_some()
        && principal.unit_id.as_deref() == unit_id
}

/// Takes the resident's phone out of every ticket in `changes` that `principal` is not
/// handling-unit staff of (see [`sees_phone`]).
pub fn redact_for(principal: &Principal, changes: &mut [Change]) {
    for change in changes {
        if let Change::Upsert {
            record_type,
            fields,
            field_hlc,
            ..
        } = change
            && record_type == TICKET.name
            && !sees_phone(principal, fields.get("unit_id").and_then(Value::as_str))
        {
            fields.remove(PHONE_FIELD);
            if let Some(h) = field_hlc {
                h.remove(PHONE_FIELD);
            }
        }
    }
}

/// What became of a device's ticket action, written onto the ticket's copy so the devices of
/// the handling unit see the outcome of a race with the console (applied, or refused with the
/// state machine's reason).
#[derive(Debug)]
pub struct DeviceOutcome<'a> {
    /// The `ticket_action` record id.
    pub action_id: Uuid,
    /// `accept`, `reply` or `resolve`.
    pub action: &'a str,
    /// The device that sent it.
    pub device_id: Uuid,
    /// `None` when applied; the refusal's code and messages otherwise.
    pub refused: Option<&'a anju_shared::merge::Rejection>,
}

/// Notes `outcome` on ticket `ticket_id`'s copy when the ticket is in `scope` (a unit acting on
/// another unit's ticket leaves no trace on it), inside the caller's transaction.
pub fn note_device_outcome(
    conn: &mut DbConnection,
    scope: &crate::auth::scope::Scope,
    ticket_id: &str,
    outcome: &DeviceOutcome<'_>,
    now: i64,
) -> Result<(), ApiError> {
    let Some(t) = ticket_store::find(conn, ticket_id)? else {
        return Ok(());
    };
    if !scope.sees(parse(&t.unit_id), None) {
        return Ok(());
    }
    let mut v = json!({
        "action_id": outcome.action_id.to_string(),
        "action": outcome.action,
        "device_id": outcome.device_id.to_string(),
        "at": rfc3339(now),
        "outcome": if outcome.refused.is_some() { "refused" } else { "applied" },
    });
    if let Some(r) = outcome.refused {
        v["code"] = json!(r.code);
        v["message_zh"] = json!(r.message_zh);
        v["message_en"] = json!(r.message_en);
    }
    refresh(
        conn,
        ticket_id,
        now,
        Extra {
            device_outcome: Some(v),
        },
    )
}
