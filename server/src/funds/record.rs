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
//! area — is caught up by [`catch_up`] in [`worker`] (every six hours).
//!
//! The record is written into sync's store (`sync::store`, the same rows, counter and scope exits
//! as every server-authored change), so funds builds on sync; sync never imports funds.

use std::collections::BTreeMap;

use anju_shared::merge::{FieldState, StoredRecord};
use anju_shared::protocol::Change;
use anju_shared::records::FUND_SUMMARY;
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
use crate::sync::hooks::PullFilter;
use crate::sync::schema::sync_records;
use crate::sync::store::{
    RecordRow, ServerAuthor, insert_rows, lock_counter, record_scope_exit, same_as_stored,
    scope_columns, server_record_row, store_counter,
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
    let t = Thresholds {
        idle_days: None,
        ahead_margin: None,
    };
    let f = flags::compute(l, progress, today, &t);
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
/// that no longer see it get a `Revoke`).
pub fn refresh(
    conn: &mut DbConnection,
    project_id: &str,
    now: i64,
    today: Date,
) -> Result<(), ApiError> {
    let Ok(pid) = Uuid::try_parse(project_id) else {
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

/// Background pass: refreshes the summary of every project with fund entries or a summary
/// (each written only when it changed: flags as days pass, the project's progress or scope).
/// Returns how many projects it looked at.
pub fn catch_up(conn: &mut DbConnection, now: i64, today: Date) -> Result<usize, ApiError> {
    use super::schema::fund_entries;
    let mut projects: std::collections::BTreeSet<String> = fund_entries::table
        .select(fund_entries::project_id)
        .distinct()
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let summaries: Vec<String> = sync_records::table
        .filter(sync_records::record_type.eq(FUND_SUMMARY.name))
        .filter(sync_records::deleted.eq(false))
        .select(sync_records::state)
        .load(conn)?;
    for state in summaries {
        let fields: BTreeMap<String, FieldState> = serde_json::from_str(&state).unwrap_or_default();
        if let Some(p) = fields.get("project_id").and_then(|f| f.value.as_str()) {
            projects.insert(p.to_owned());
        }
    }
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

/// Background job: at start and then every six hours, [`catch_up`] in one background
/// transaction (a failure is logged and retried at the next pass).
pub async fn worker(state: AppState) {
    loop {
        let now = state.clock.now_ms();
        let today = state.config.timezone.to_datetime(state.clock.now()).date();
        let db = state.db.clone();
        let funds = state
            .db
            .run(move |conn| db.background_tx(conn, |conn| catch_up(conn, now, today)))
            .await;
        if let Err(e) = funds {
            tracing::warn!(error = %e, "fund summaries catch-up failed; retrying later");
        }
        tokio::time::sleep(std::time::Duration::from_secs(6 * 3600)).await;
    }
}
