//! The synced summary of a project's funds (record type `fund_summary`, read-only for devices).
//!
//! The fund ledger stays the one place money is recorded: every entry it stores
//! (`funds::ledger::insert`: the office form, the sheet import, the sample) calls [`refresh`] in
//! the same transaction, which writes the project's summary (budget by source, received by
//! source, paid, paid share and the supervision flags) as a server-authored change when it
//! differs from the stored one. The record has its own id (derived from the project's, see
//! [`summary_id`]) and the project's scope fields, so it reaches the devices that see the project;
//! a pull hands it only to the roles that may see funds ([`may_see_funds`], [`withhold_for`],
//! wired into sync's pull as [`FundSummaries`], a `sync::hooks::PullFilter`).
//! A device's push of it is refused with `read_only_record_type` (the schema's `read_only`).
//!
//! What a ledger entry does not change — the flags as days pass, the project's progress, unit or
//! area — is caught up by [`catch_up`] in [`worker`] (every minute), which reads only the
//! summaries that are due (table `fund_summary_due`): each refresh records the day its flags can
//! next change ([`flags::next_change`]), and a written project record marks its summary due at
//! once ([`ProjectChanges`], a `sync::hooks::RecordHooks`). With nothing due a pass is one
//! indexed read.
//!
//! The record is written into sync's store (`sync::store`, the same rows, counter and scope exits
//! as every server-authored change), so funds builds on sync; sync never imports funds.

use std::collections::BTreeMap;

use anju_shared::merge::StoredRecord;
use anju_shared::protocol::Change;
use anju_shared::records::{FUND_SUMMARY, PROJECT};
use diesel::prelude::*;
use jiff::civil::Date;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::flags::{self, Thresholds};
use super::ledger::{self, Ledger};
use crate::auth::scope::Scope;
use crate::auth::{Principal, Role};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::state::AppState;
use crate::sync::hooks::{PullFilter, RecordHooks};
use crate::sync::schema::sync_records;
use crate::sync::store::{
    RecordRow, RegisterColumns, ServerAuthor, insert_rows, lock_counter, record_scope_exit,
    same_as_stored, scope_columns, server_record_row, store_counter,
};

/// The author of fund summaries in field states and conflict views.
pub const AUTHOR: &str = "server:funds";

/// The roles that may see funds, in the office and on devices: administrators, supervisors and
/// units' administrators and staff (the roles that record them). Dispatchers and inspectors
/// do not.
pub const FUND_ROLES: &[Role] = &[
    Role::Admin,
    Role::Supervisor,
    Role::UnitAdmin,
    Role::UnitStaff,
];

/// Whether `role` may see fund figures.
pub fn may_see_funds(role: Role) -> bool {
    FUND_ROLES.contains(&role)
}

/// The thresholds of the synced summary's flags: the defaults (the office pages take others
/// per query).
const DEFAULT_THRESHOLDS: Thresholds = Thresholds {
    idle_days: None,
    ahead_margin: None,
};

/// The summary record's id for project `project_id`: a fixed UUID derived from it.
pub fn summary_id(project_id: Uuid) -> Uuid {
    let digest = Sha256::digest(format!("fund_summary/{project_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// The summary's field values for project `p` with ledger `l` on `today` (default thresholds).
fn values(p: &crate::registers::query::Live, l: &Ledger, today: Date) -> BTreeMap<String, Value> {
    let totals = l.totals();
    let progress = p.int("progress_percent").unwrap_or(0);
    let f = flags::compute(l, progress, today, &DEFAULT_THRESHOLDS);
    let text = |k: &str| p.text(k).map_or(Value::Null, |s| json!(s));
    let mut v = BTreeMap::new();
    v.insert("project_id".into(), json!(p.record.id.to_string()));
    v.insert("unit_id".into(), text("unit_id"));
    v.insert("area_id".into(), text("area_id"));
    v.insert("code".into(), text("code"));
    v.insert("name".into(), text("name"));
    v.insert("budget".into(), json!(totals.budget));
    v.insert("received".into(), json!(totals.received));
    v.insert("paid".into(), json!(totals.paid));
    v.insert(
        "paid_percent".into(),
        flags::paid_percent(totals.paid, totals.budget).map_or(Value::Null, |x| json!(x)),
    );
    v.insert("budget_by_source".into(), json!(totals.budget_by_source));
    v.insert(
        "received_by_source".into(),
        json!(totals.received_by_source),
    );
    v.insert(
        "flags".into(),
        serde_json::to_value(&f).unwrap_or(Value::Null),
    );
    v
}

/// Writes project `project_id`'s fund summary at `now` if it differs from the stored one, in
/// the caller's transaction: the summary of its ledger, or a tombstone when the project is gone
/// or has no entries. A change of the project's unit or area writes a scope exit (the devices
/// that no longer see it get a `Revoke`). Records when the summary is next due for
/// [`catch_up`] (the day its flags can next change; no row when none can).
pub fn refresh(
    conn: &mut DbConnection,
    project_id: &str,
    now: i64,
    today: Date,
) -> Result<(), ApiError> {
    let Ok(pid) = Uuid::try_parse(project_id) else {
        // Not a project id: never a summary, and never due again.
        set_due(conn, project_id, None)?;
        return Ok(());
    };
    let id = summary_id(pid);
    let (mut seq, _) = lock_counter(conn)?;
    let current: Option<StoredRecord> = match sync_records::table
        .find(id.to_string())
        .select(RecordRow::as_select())
        .first(conn)
        .optional()?
    {
        Some(row) => Some(row.to_record().map_err(ApiError::internal)?),
        None => None,
    };
    let project = crate::registers::query::record(conn, project_id, &Scope::All)?;
    let l = ledger::load(conn, project_id)?;
    let (live, new_values) = match &project {
        Some((p, false)) if !l.entries.is_empty() => (true, values(p, &l, today)),
        _ => (false, BTreeMap::new()),
    };
    let next = if live {
        flags::next_change(&l, today, &DEFAULT_THRESHOLDS)
    } else {
        None
    };
    set_due(conn, project_id, next)?;
    if !live && current.as_ref().is_none_or(|c| c.deleted) {
        return Ok(());
    }
    let values = if live {
        new_values
    } else {
        // A tombstone keeps the last values (and scope) it had.
        current
            .as_ref()
            .map(|c| {
                c.fields
                    .iter()
                    .map(|(k, f)| (k.clone(), f.value.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    if same_as_stored(current.as_ref(), &values, live) {
        return Ok(());
    }
    let uuid_of = |k: &str| {
        values
            .get(k)
            .and_then(Value::as_str)
            .and_then(|s| Uuid::try_parse(s).ok())
    };
    let after = (uuid_of("unit_id"), uuid_of("area_id"));
    if let Some(before) = current.as_ref().map(scope_columns)
        && before != after
    {
        seq += 1;
        record_scope_exit(conn, seq, FUND_SUMMARY.name, &id.to_string(), before, now)?;
    }
    seq += 1;
    let by = ServerAuthor {
        record_type: FUND_SUMMARY.name,
        node: "server-funds",
        author: AUTHOR,
    };
    let row = server_record_row(by, id, values, current.as_ref(), live, seq, now);
    if current.is_some() {
        diesel::update(sync_records::table.find(id.to_string()))
            .set(&row)
            .execute(conn)?;
    } else {
        insert_rows(conn, &[row])?;
    }
    store_counter(conn, seq)?;
    Ok(())
}

/// `due_on` of a project whose summary is due at once (its record changed): before any date.
pub const DUE_AT_ONCE: &str = "0001-01-01";

/// Records when project `project_id`'s summary is next due for [`catch_up`] (`None`: never, as
/// nothing in it depends on the date), in the caller's transaction.
fn set_due(conn: &mut DbConnection, project_id: &str, next: Option<Date>) -> QueryResult<()> {
    use super::schema::fund_summary_due as due;
    let Some(day) = next else {
        diesel::delete(due::table.find(project_id)).execute(conn)?;
        return Ok(());
    };
    write_due(conn, project_id, &day.to_string())
}

/// Replaces project `project_id`'s due row with `due_on` (upserts are not portable through
/// diesel's two-backend connection; the delete and insert share the caller's transaction).
fn write_due(conn: &mut DbConnection, project_id: &str, due_on: &str) -> QueryResult<()> {
    use super::schema::fund_summary_due as due;
    diesel::delete(due::table.find(project_id)).execute(conn)?;
    diesel::insert_into(due::table)
        .values((due::project_id.eq(project_id), due::due_on.eq(due_on)))
        .execute(conn)?;
    Ok(())
}

/// Marks project `project_id`'s summary due at once (its record changed: progress, unit, area,
/// name, or it was deleted), in the caller's transaction. Cheap for a project without ledger
/// entries: [`refresh`] of it writes nothing and removes the mark.
pub fn mark_due(conn: &mut DbConnection, project_id: &str) -> QueryResult<()> {
    write_due(conn, project_id, DUE_AT_ONCE)
}

/// Whether any summary is due on `today`: one read of the index of due summaries.
pub fn catch_up_due(conn: &mut DbConnection, today: Date) -> QueryResult<bool> {
    use super::schema::fund_summary_due as due;
    diesel::select(diesel::dsl::exists(
        due::table.filter(due::due_on.le(today.to_string())),
    ))
    .get_result(conn)
}

/// One batch of the background catch-up, in the caller's write transaction: refreshes the
/// summaries of at most `batch` projects due on or before `today` (read through the index of due
/// summaries, oldest first), each of which records when it is next due. Returns how many it
/// refreshed; fewer than `batch` means nothing more is due.
pub fn catch_up(
    conn: &mut DbConnection,
    now: i64,
    today: Date,
    batch: i64,
) -> Result<usize, ApiError> {
    use super::schema::fund_summary_due as due;
    let projects: Vec<String> = due::table
        .filter(due::due_on.le(today.to_string()))
        .order((due::due_on, due::project_id))
        .select(due::project_id)
        .limit(batch)
        .load(conn)?;
    for p in &projects {
        refresh(conn, p, now, today)?;
    }
    Ok(projects.len())
}

/// Takes the fund summaries out of a pull page for a role that may not see funds.
pub fn withhold_for(principal: &Principal, changes: &mut Vec<Change>) {
    if may_see_funds(principal.role) {
        return;
    }
    changes.retain(|c| {
        let t = match c {
            Change::Upsert { record_type, .. }
            | Change::Tombstone { record_type, .. }
            | Change::Revoke { record_type, .. } => record_type,
        };
        t != FUND_SUMMARY.name
    });
}

/// Funds' rule on a pull page: fund summaries only for the roles that may see funds
/// ([`withhold_for`]). `startup` wires it into `SyncState::pull_filter`.
pub struct FundSummaries;

impl PullFilter for FundSummaries {
    fn withhold(&self, principal: &Principal, changes: &mut Vec<Change>) {
        withhold_for(principal, changes);
    }
}

/// Projects per catch-up transaction: each refresh reads one project and its ledger.
pub const CATCH_UP_BATCH: i64 = 100;

/// Funds' rule on record writes: a written project record makes its fund summary due at once
/// ([`mark_due`]), so an office edit or a device's edit of progress, unit or area reaches the
/// summary at the next catch-up. `startup` wires it after the registers' rule
/// (`sync::hooks::AllOf`).
pub struct ProjectChanges;

impl RecordHooks for ProjectChanges {
    fn columns(&self, _record: &StoredRecord) -> RegisterColumns {
        RegisterColumns::default()
    }

    fn written(
        &self,
        conn: &mut DbConnection,
        record: &StoredRecord,
        _now_ms: i64,
    ) -> QueryResult<()> {
        if record.record_type == PROJECT.name {
            mark_due(conn, &record.id.to_string())?;
        }
        Ok(())
    }
}

/// Background job: every `period` (and at start), catches up the summaries that are due
/// ([`catch_up_due`], one indexed read when none is), in batches of [`CATCH_UP_BATCH`], one
/// short background transaction each, yielding between batches. A failure is logged and
/// retried at the next pass.
pub async fn worker(state: AppState, period: std::time::Duration) {
    loop {
        loop {
            let now = state.clock.now_ms();
            let today = state.config.timezone.to_datetime(state.clock.now()).date();
            let db = state.db.clone();
            let done = state
                .db
                .run(move |conn| {
                    if !catch_up_due(conn, today)? {
                        return Ok(0);
                    }
                    db.background_tx(conn, |conn| catch_up(conn, now, today, CATCH_UP_BATCH))
                })
                .await;
            match done {
                Ok(n) if n as i64 >= CATCH_UP_BATCH => tokio::task::yield_now().await,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "fund summaries catch-up failed; retrying later");
                    break;
                }
            }
        }
        tokio::time::sleep(period).await;
    }
}
