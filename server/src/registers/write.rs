//! Office edits of field records (and the sample programme) as mutations through sync's push:
//! the same merge, scope check, change log and conflict records as a device, so devices pull
//! an office edit like any other change. There is no second write path: this module only builds
//! mutations and hands them to [`crate::sync::push::apply_push`].
//!
//! Each office user pushes under a device id of its own (`register_office_devices`), with
//! contiguous sequence numbers like a device; the sample loader pushes as the system.

use std::collections::BTreeMap;
use std::sync::Mutex;

use anju_shared::hlc::HlcClock;
use anju_shared::protocol::{Mutation, MutationResult, Op};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::schema::register_office_devices;
use crate::auth::scope::Scope;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::ids::UserId;
use crate::sync::SyncState;
use crate::sync::hooks::RecordHooks;
use crate::sync::push::{PushContext, PushError, apply_push};
use crate::sync::schema::sync_device_seqs;
use crate::tickets::device_api::{TicketActor, TicketsUnavailable};

/// Who writes: an office user (its id, role and unit) or the system (sample data).
#[derive(Debug, Clone)]
pub struct OfficeAuthor {
    /// The user's id; `None` for the system.
    pub user_id: Option<String>,
    /// The user's role name.
    pub role: String,
    /// The user's unit.
    pub unit_id: Option<String>,
    /// Shown in the history, e.g. the user's display name.
    pub label: String,
}

impl OfficeAuthor {
    /// The system author of the sample programme (样例数据).
    pub fn system() -> OfficeAuthor {
        OfficeAuthor {
            user_id: None,
            role: "admin".into(),
            unit_id: None,
            label: "系统 / system".into(),
        }
    }
}

/// One office change of one record.
#[derive(Debug, Clone)]
pub struct Edit {
    /// Record type wire name.
    pub record_type: String,
    /// Record id (new: a fresh UUIDv7).
    pub record_id: Uuid,
    /// The version the office user saw; `None` creates the record.
    pub base_version: Option<i64>,
    /// Changed fields.
    pub fields: BTreeMap<String, Value>,
}

/// The office device id of `author`, made on first use.
pub fn office_device(
    conn: &mut DbConnection,
    author: &OfficeAuthor,
    now_ms: i64,
) -> QueryResult<Uuid> {
    let mut q = register_office_devices::table
        .select(register_office_devices::device_id)
        .into_boxed();
    q = match &author.user_id {
        Some(u) => q.filter(register_office_devices::user_id.eq(u.clone())),
        None => q.filter(register_office_devices::user_id.is_null()),
    };
    if let Some(id) = q.first::<String>(conn).optional()?
        && let Ok(id) = Uuid::try_parse(&id)
    {
        return Ok(id);
    }
    let id = Uuid::now_v7();
    diesel::insert_into(register_office_devices::table)
        .values((
            register_office_devices::device_id.eq(id.to_string()),
            register_office_devices::user_id.eq(author.user_id.clone()),
            register_office_devices::label.eq(&author.label),
            register_office_devices::created_at.eq(now_ms),
        ))
        .execute(conn)?;
    Ok(id)
}

/// What an office push writes with: this process's hybrid clock, and the rules of the
/// capabilities on every record written (the same `sync::hooks::RecordHooks` that `startup`
/// wires into sync for devices, so an office edit and a device edit do the same).
#[derive(Clone, Copy)]
pub struct OfficeSync<'a> {
    /// The hybrid clock that stamps the edits.
    pub clock: &'a Mutex<HlcClock>,
    /// The rules applied to each record written.
    pub records: &'a dyn RecordHooks,
}

impl<'a> From<&'a SyncState> for OfficeSync<'a> {
    fn from(sync: &'a SyncState) -> Self {
        OfficeSync {
            clock: &sync.clock,
            records: sync.records.as_ref(),
        }
    }
}

/// Pushes `edits` as one batch from `author`'s office device through sync's push, within one
/// transaction. The sync counter is taken first so that two office edits of one user cannot
/// pick the same sequence number. Returns one result per edit (applied, merged, conflict or
/// rejected, exactly as a device would be told).
pub fn push_office(
    conn: &mut DbConnection,
    sync: OfficeSync<'_>,
    scope: &Scope,
    author: &OfficeAuthor,
    edits: Vec<Edit>,
    now_ms: i64,
) -> Result<Vec<MutationResult>, ApiError> {
    push_office_checked(conn, sync, None, scope, author, edits, now_ms)
}

/// [`push_office`] with the rules that check a rectification's photos (an office action on a
/// hazard's order, `registers/orders.rs`).
pub fn push_office_checked(
    conn: &mut DbConnection,
    sync: OfficeSync<'_>,
    proof: Option<&crate::sync::hazard_proof::ProofRules>,
    scope: &Scope,
    author: &OfficeAuthor,
    edits: Vec<Edit>,
    now_ms: i64,
) -> Result<Vec<MutationResult>, ApiError> {
    conn.transaction(|conn| {
        crate::sync::store::lock_counter(conn)?;
        let device = office_device(conn, author, now_ms)?;
        let last: Option<i64> = sync_device_seqs::table
            .filter(sync_device_seqs::device_id.eq(device.to_string()))
            .select(sync_device_seqs::last_seq)
            .first(conn)
            .optional()?;
        let mut seq = u64::try_from(last.unwrap_or(0)).unwrap_or(0);
        let mutations: Vec<Mutation> = edits
            .into_iter()
            .map(|e| {
                seq += 1;
                let hlc = {
                    let mut c = sync.clock.lock().unwrap_or_else(|p| p.into_inner());
                    c.tick(u64::try_from(now_ms).unwrap_or(0)).to_string()
                };
                Mutation {
                    seq,
                    record_type: e.record_type,
                    record_id: e.record_id,
                    op: Op::Upsert,
                    base_version: e.base_version,
                    fields: e.fields,
                    hlc,
                }
            })
            .collect();
        let parse = |s: &Option<String>| s.as_deref().and_then(|s| Uuid::try_parse(s).ok());
        let ctx = PushContext {
            device_id: device,
            actor: TicketActor {
                user: author.user_id.as_deref().and_then(UserId::parse),
                role: author.role.clone(),
                unit_id: parse(&author.unit_id),
                device_id: device,
            },
            user_id: author.user_id.as_deref().unwrap_or("system"),
            scope,
            // The office user changes server-owned fields exactly as their device could.
            may_overrule: crate::auth::Role::parse(&author.role)
                .is_some_and(crate::sync::may_overrule),
            tickets: &TicketsUnavailable,
            clock: sync.clock,
            now_ms,
            proof,
            records: sync.records,
        };
        apply_push(conn, &ctx, &mutations).map_err(|e| match e {
            PushError::SequenceGap { expected } => ApiError::internal(anyhow::anyhow!(
                "office device {device} out of sequence (expected {expected})"
            )),
            PushError::Db(e) => e.into(),
            PushError::Corrupt(e) => ApiError::internal(e),
        })
    })
}
