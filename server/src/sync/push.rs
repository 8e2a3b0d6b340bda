//! Push: apply one device's batch of mutations, in one transaction, exactly once.

use std::collections::HashMap;
use std::sync::Mutex;

use anju_shared::hlc::{Hlc, HlcClock};
use anju_shared::merge::{
    Rejection, StoredRecord, merge, merge_server, server_authoritative_changes,
    server_authoritative_rejection,
};
use anju_shared::protocol::{
    FieldConflict, Mutation, MutationOutcome, MutationResult, SeqCheck, Winner, check_seq,
};
use anju_shared::records::{HAZARD, HAZARD_ACTION, TICKET_ACTION, schema_for};
use anju_shared::rejection::RejectionCode;
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::schema::{sync_conflicts, sync_device_seqs, sync_records, sync_rejections};
use super::store::{
    RecordRow, device_author, insert_rows, load_rows, lock_counter, read_counter,
    replace_photo_refs, scope_columns, store_counter,
};
use crate::auth::scope::Scope;
use crate::db::DbConnection;
use crate::tickets::device_api::{TicketAction, TicketActions, TicketActor};

/// Inserts many rows in one statement. Batch inserts are not available through the
/// `MultiConnection`, so each backend runs its own.
macro_rules! batch_insert {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            DbConnection::Pg(c) => diesel::insert_into($table).values($rows).execute(c),
            DbConnection::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    };
}

/// Everything a push needs besides the mutations.
pub struct PushContext<'a> {
    /// The pushing device.
    pub device_id: Uuid,
    /// The device's user, for ticket actions.
    pub actor: TicketActor,
    /// The device's user id, for photo access.
    pub user_id: &'a str,
    /// What the user may see and change.
    pub scope: &'a Scope,
    /// The user may change server-authoritative fields (supervisors and administrators, see
    /// [`super::may_overrule`]); anyone else's attempt is rejected, not kept as a conflict.
    pub may_overrule: bool,
    /// The ticket state machine.
    pub tickets: &'a dyn TicketActions,
    /// This server process's hybrid clock.
    pub clock: &'a Mutex<HlcClock>,
    /// Wall time, ms since the epoch.
    pub now_ms: i64,
    /// How rectification photos are checked (`None`: not checked, e.g. a sample import).
    pub proof: Option<&'a super::hazard_proof::ProofRules>,
    /// The capabilities' rules on every written record (register columns, hazard clocks).
    pub records: &'a dyn super::hooks::RecordHooks,
}

/// Why a whole batch was refused.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// A sequence number is missing; nothing was applied.
    #[error("sequence gap, expected {expected}")]
    SequenceGap {
        /// The sequence number the server expects next.
        expected: u64,
    },
    /// The database failed; nothing was applied.
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    /// A stored row could not be read.
    #[error(transparent)]
    Corrupt(#[from] anyhow::Error),
}

/// A conflict row.
#[derive(Insertable)]
#[diesel(table_name = sync_conflicts)]
struct NewConflict {
    id: String,
    record_type: String,
    record_id: String,
    field: String,
    base_version: Option<i64>,
    server_value: String,
    device_value: String,
    winner: String,
    server_author: Option<String>,
    device_author: String,
    server_hlc: Option<String>,
    device_hlc: String,
    unit_id: Option<String>,
    area_id: Option<String>,
    created_at: i64,
    status: String,
}

/// A rejection row.
#[derive(Insertable)]
#[diesel(table_name = sync_rejections)]
struct NewRejection {
    id: String,
    device_id: String,
    seq: i64,
    record_type: String,
    record_id: String,
    mutation: String,
    code: String,
    message_zh: String,
    message_en: String,
    created_at: i64,
}

fn rejection(code: RejectionCode, zh: &str, en: &str) -> Rejection {
    Rejection::new(code, zh, en)
}

/// Checks the batch's sequence numbers against the device's last applied one; `Err` with the
/// expected number on a gap. Pure, so a refused batch costs no writes.
fn check_batch(last: u64, mutations: &[Mutation]) -> Result<(), PushError> {
    let mut last = last;
    for m in mutations {
        match check_seq(last, m.seq) {
            SeqCheck::AlreadyApplied => {}
            SeqCheck::Next => last = m.seq,
            SeqCheck::Gap { expected } => return Err(PushError::SequenceGap { expected }),
        }
    }
    Ok(())
}

struct Touched {
    record: StoredRecord,
    existed: bool,
    change_seq: i64,
    dirty: bool,
}

/// Applies a batch in one transaction: per mutation dedupe, merge, scope check, write; the
/// device's last sequence number is stored with the effects. Returns one result per mutation.
pub fn apply_push(
    conn: &mut DbConnection,
    ctx: &PushContext<'_>,
    mutations: &[Mutation],
) -> Result<Vec<MutationResult>, PushError> {
    conn.transaction(|conn| {
        let (mut seq, _) = lock_counter(conn)?;
        let device = ctx.device_id.to_string();
        let stored_last: Option<i64> = sync_device_seqs::table
            .filter(sync_device_seqs::device_id.eq(&device))
            .select(sync_device_seqs::last_seq)
            .first(conn)
            .optional()?;
        let mut last = u64::try_from(stored_last.unwrap_or(0)).unwrap_or(0);
        check_batch(last, mutations)?;
        // A re-sent mutation has no second effect, but its device learns again what happened.
        let resent: Vec<&Mutation> = mutations.iter().filter(|m| m.seq <= last).collect();
        let earlier = super::replay::earlier_outcomes(conn, ctx.device_id, &resent)?;

        // With each hazard action, its hazard: the action is applied to it in this batch.
        let ids: Vec<String> = mutations
            .iter()
            .filter(|m| m.seq > last)
            .flat_map(|m| {
                let target = (m.record_type == HAZARD_ACTION.name)
                    .then(|| m.fields.get("hazard_id").and_then(Value::as_str))
                    .flatten()
                    .map(str::to_owned);
                std::iter::once(m.record_id.to_string()).chain(target)
            })
            .collect();
        let mut touched: HashMap<Uuid, Touched> = HashMap::new();
        for row in load_rows(conn, &ids)? {
            let record = row.to_record()?;
            touched.insert(
                record.id,
                Touched {
                    record,
                    existed: true,
                    change_seq: row.change_seq,
                    dirty: false,
                },
            );
        }
        let author = device_author(ctx.device_id);
        let mut results = Vec::with_capacity(mutations.len());
        let mut conflicts = Vec::new();
        let mut rejections = Vec::new();
        for m in mutations {
            if m.seq <= last {
                results.push(MutationResult {
                    seq: m.seq,
                    record_id: m.record_id,
                    outcome: earlier
                        .get(&m.seq)
                        .cloned()
                        .unwrap_or(MutationOutcome::AlreadyApplied),
                });
                continue;
            }
            last = m.seq;
            let is_action = m.record_type == TICKET_ACTION.name;
            if is_action {
                // The action's record keeps `seq + 1`; the ticket's synced copy, which the
                // state machine writes, takes the numbers after it from the stored counter.
                store_counter(conn, seq + 1)?;
            }
            let current = touched.get(&m.record_id).map(|t| &t.record);
            let mut one = apply_one(conn, ctx, &author, current, m, seq + 1)?;
            // A hazard action changes its hazard (at the version after the action's own) or is
            // refused as a whole.
            let mut hazard_change = None;
            if m.record_type == HAZARD_ACTION.name
                && let Ok((action, _, true)) = &one
            {
                match act_on_hazard(conn, ctx, &touched, action, seq + 2)? {
                    Ok(h) => hazard_change = Some(h),
                    Err(r) => one = Err(r),
                }
            }
            if is_action {
                note_action(conn, ctx, m, one.as_ref().err())?;
            }
            let outcome = match one {
                Ok((record, outcome, changed)) => {
                    if changed {
                        seq += 1;
                        let existed = touched.get(&m.record_id).is_some_and(|t| t.existed);
                        touched.insert(
                            m.record_id,
                            Touched {
                                record,
                                existed,
                                change_seq: seq,
                                dirty: true,
                            },
                        );
                    }
                    if let Some(hazard) = hazard_change {
                        seq += 1;
                        let existed = touched.get(&hazard.id).is_some_and(|t| t.existed);
                        touched.insert(
                            hazard.id,
                            Touched {
                                record: hazard,
                                existed,
                                change_seq: seq,
                                dirty: true,
                            },
                        );
                    }
                    if let MutationOutcome::Conflict { conflicts: c, .. } = &outcome {
                        let rec = touched.get(&m.record_id).map(|t| &t.record);
                        let (unit, area) = rec.map(scope_columns).unwrap_or((None, None));
                        for fc in c {
                            conflicts.push(conflict_row(m, fc, unit, area, ctx.now_ms));
                        }
                    }
                    outcome
                }
                Err(r) => {
                    rejections.push(NewRejection {
                        id: Uuid::now_v7().to_string(),
                        device_id: device.clone(),
                        seq: i64::try_from(m.seq).unwrap_or(i64::MAX),
                        record_type: m.record_type.clone(),
                        record_id: m.record_id.to_string(),
                        mutation: serde_json::to_string(m).unwrap_or_default(),
                        code: r.code.clone(),
                        message_zh: r.message_zh.clone(),
                        message_en: r.message_en.clone(),
                        created_at: ctx.now_ms,
                    });
                    r.into()
                }
            };
            if is_action {
                seq = seq.max(read_counter(conn)?.0);
            }
            results.push(MutationResult {
                seq: m.seq,
                record_id: m.record_id,
                outcome,
            });
        }

        // Changed records are replaced: one delete and batched inserts instead of a statement
        // per record (the same effect as updates, inside this transaction).
        let mut replaced = Vec::new();
        let mut rows = Vec::new();
        for t in touched.values().filter(|t| t.dirty) {
            if t.existed {
                replaced.push(t.record.id.to_string());
            }
            let columns = ctx.records.columns(&t.record);
            rows.push(RecordRow::from_record(
                &t.record,
                t.change_seq,
                ctx.now_ms,
                columns,
            ));
        }
        for chunk in replaced.chunks(500) {
            diesel::delete(sync_records::table.filter(sync_records::id.eq_any(chunk)))
                .execute(conn)?;
        }
        insert_rows(conn, &rows)?;
        let written: Vec<&StoredRecord> = touched
            .values()
            .filter(|t| t.dirty)
            .map(|t| &t.record)
            .collect();
        replace_photo_refs(conn, &written)?;
        for r in &written {
            ctx.records.written(conn, r, ctx.now_ms)?;
        }
        for chunk in conflicts.chunks(500) {
            batch_insert!(conn, sync_conflicts::table, chunk)?;
        }
        for chunk in rejections.chunks(500) {
            batch_insert!(conn, sync_rejections::table, chunk)?;
        }
        store_counter(conn, seq)?;
        let last = i64::try_from(last).unwrap_or(i64::MAX);
        if stored_last.is_some() {
            diesel::update(sync_device_seqs::table.find(&device))
                .set((
                    sync_device_seqs::last_seq.eq(last),
                    sync_device_seqs::updated_at.eq(ctx.now_ms),
                ))
                .execute(conn)?;
        } else {
            diesel::insert_into(sync_device_seqs::table)
                .values((
                    sync_device_seqs::device_id.eq(&device),
                    sync_device_seqs::last_seq.eq(last),
                    sync_device_seqs::updated_at.eq(ctx.now_ms),
                ))
                .execute(conn)?;
        }
        Ok(results)
    })
}

/// Merges one mutation and checks its scope and, for ticket actions, the ticket state machine.
/// The outer `Err` is a database failure (the batch fails); the inner one a rejection.
fn apply_one(
    conn: &mut DbConnection,
    ctx: &PushContext<'_>,
    author: &str,
    current: Option<&StoredRecord>,
    m: &Mutation,
    next_version: i64,
) -> Result<Result<(StoredRecord, MutationOutcome, bool), Rejection>, diesel::result::Error> {
    let Some(schema) = schema_for(&m.record_type) else {
        return Ok(Err(rejection(
            RejectionCode::UnknownRecordType,
            &format!("未知的记录类型：{}", m.record_type),
            &format!("unknown record type: {}", m.record_type),
        )));
    };
    if let Some(cur) = current {
        let (unit, area) = scope_columns(cur);
        if !ctx.scope.sees(unit, area) {
            return Ok(Err(out_of_scope()));
        }
    }
    let hlc = match Hlc::parse(&m.hlc) {
        Ok(h) => h,
        Err(e) => return Ok(Err(e.into())),
    };
    {
        let mut clock = ctx.clock.lock().unwrap_or_else(|p| p.into_inner());
        let now = u64::try_from(ctx.now_ms).unwrap_or(0);
        if let Err(e) = clock.observe(&hlc, now) {
            return Ok(Err(e.into()));
        }
    }
    let result = match merge(schema, current, m, author, next_version) {
        Ok(r) => r,
        Err(r) => return Ok(Err(r)),
    };
    match current {
        None => {
            // A unit role names its own unit (or one below it) as the responsible unit of what it
            // creates; seeing the area is not enough to hand work to another unit.
            let (unit, area) = scope_columns(&result.record);
            if !ctx.scope.sees(unit, area) {
                return Ok(Err(out_of_scope()));
            }
            // A hazard action names the hazard's unit (checked against the hazard when it is
            // applied): an inspector verifies another unit's work.
            if schema.name != HAZARD_ACTION.name && !ctx.scope.may_decide(unit, area) {
                return Ok(Err(rejection(
                    RejectionCode::ResponsibleUnitNotYours,
                    "新建记录的责任单位必须是本单位或下级单位",
                    "a record you create must name your unit (or a unit below it) as responsible",
                )));
            }
        }
        Some(cur) if !ctx.may_overrule => {
            let refused = server_authoritative_changes(schema, cur, m);
            if !refused.is_empty() {
                return Ok(Err(server_authoritative_rejection(&refused)));
            }
        }
        Some(_) => {}
    }
    if schema.name == HAZARD.name
        && let Err(r) =
            super::hazard_action::check_hazard_write(current, &result.record, m, ctx.may_overrule)
    {
        return Ok(Err(r));
    }
    let hidden = super::photos::refused_additions(conn, ctx.user_id, ctx.scope, schema, m)?;
    if !hidden.is_empty() {
        return Ok(Err(rejection(
            RejectionCode::PhotoNotAccessible,
            "记录引用了您无权查看的照片；请上传您自己拍摄的照片",
            "the record names a photo you may not see; upload your own photo instead",
        )));
    }
    if schema.name == TICKET_ACTION.name && result.changed {
        let action = ticket_action(&result.record);
        // A savepoint: a refused or failed action leaves nothing behind, and the rest of the
        // batch goes on.
        let applied = conn.transaction::<_, TicketTxError, _>(|conn| {
            ctx.tickets
                .apply(conn, &ctx.actor, &action)
                .map_err(TicketTxError::Refused)
        });
        match applied {
            Ok(()) => {}
            Err(TicketTxError::Refused(r)) => return Ok(Err(r)),
            Err(TicketTxError::Db(e)) => return Err(e),
        }
    }
    Ok(Ok((result.record, result.outcome, result.changed)))
}

/// The hazard after `action` (a `hazard_action` record just merged), written by the server at
/// `version` through [`merge_server`]; or the rule that refuses the action. The action's photos
/// must be on the server (uploaded before the push, as for a ticket's resolution photos):
/// `photo_not_uploaded` otherwise. A rectification's photos are checked
/// ([`super::hazard_proof`]) and the verdict written onto the hazard with the same mutation.
/// The outer `Err` is a database failure.
fn act_on_hazard(
    conn: &mut DbConnection,
    ctx: &PushContext<'_>,
    touched: &HashMap<Uuid, Touched>,
    action: &StoredRecord,
    version: i64,
) -> Result<Result<StoredRecord, Rejection>, diesel::result::Error> {
    let hazard_id = action
        .fields
        .get("hazard_id")
        .and_then(|f| f.value.as_str())
        .and_then(|s| Uuid::try_parse(s).ok());
    let hazard = hazard_id.and_then(|id| touched.get(&id)).map(|t| &t.record);
    let who = super::hazard_action::Acting {
        role: &ctx.actor.role,
        scope: ctx.scope,
        now_ms: ctx.now_ms,
    };
    let mut fields = match super::hazard_action::effect(hazard, action, &who) {
        Ok(f) => f,
        Err(r) => return Ok(Err(r)),
    };
    // `effect` refuses an action whose hazard is missing, so the hazard is here.
    let Some(hazard_id) = hazard.map(|h| h.id) else {
        return Ok(Err(rejection(
            RejectionCode::HazardNotFound,
            "没有这条隐患（可能已删除）",
            "no such hazard (it may have been deleted)",
        )));
    };
    let photos: Vec<String> = action
        .fields
        .get("photos")
        .and_then(|f| f.value.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if !photos.is_empty() {
        use crate::attachments::schema::attachments;
        let stored: i64 = attachments::table
            .filter(attachments::sha256.eq_any(&photos))
            .count()
            .get_result(conn)?;
        if usize::try_from(stored).unwrap_or(0) < photos.len() {
            return Ok(Err(rejection(
                RejectionCode::PhotoNotUploaded,
                "照片尚未上传到服务器，请先上传照片",
                "a photo of this action was not uploaded to the server; upload it first",
            )));
        }
    }
    let rectify = action.fields.get("action").and_then(|f| f.value.as_str()) == Some("rectify");
    // A savepoint: the proof rows go with the hazard's change or not at all.
    let applied = conn.transaction::<_, TicketTxError, _>(|conn| {
        if rectify && let (Some(rules), Some(h)) = (ctx.proof, hazard) {
            let inspection = inspection_of(conn, touched, h)?;
            if let Some(verdict) = super::hazard_proof::check(
                conn,
                rules,
                h,
                inspection.as_ref(),
                &photos,
                ctx.now_ms,
            )? {
                fields.insert("rectification_proof".into(), verdict);
            }
        }
        let hlc = {
            let mut clock = ctx.clock.lock().unwrap_or_else(|p| p.into_inner());
            clock
                .tick(u64::try_from(ctx.now_ms).unwrap_or(0))
                .to_string()
        };
        let mutation = Mutation {
            seq: 0,
            record_type: HAZARD.name.into(),
            record_id: hazard_id,
            op: anju_shared::protocol::Op::Upsert,
            base_version: hazard.map(|h| h.version),
            fields: std::mem::take(&mut fields),
            hlc,
        };
        merge_server(
            &HAZARD,
            hazard,
            &mutation,
            super::hazard_action::AUTHOR,
            version,
        )
        .map(|m| m.record)
        .map_err(TicketTxError::Refused)
    });
    match applied {
        Ok(h) => Ok(Ok(h)),
        Err(TicketTxError::Refused(r)) => Ok(Err(r)),
        Err(TicketTxError::Db(e)) => Err(e),
    }
}

/// The inspection a hazard names (`inspection_id`), from this batch or as stored.
fn inspection_of(
    conn: &mut DbConnection,
    touched: &HashMap<Uuid, Touched>,
    hazard: &StoredRecord,
) -> Result<Option<StoredRecord>, diesel::result::Error> {
    let Some(id) = hazard
        .fields
        .get("inspection_id")
        .and_then(|f| f.value.as_str())
        .and_then(|s| Uuid::try_parse(s).ok())
    else {
        return Ok(None);
    };
    if let Some(t) = touched.get(&id) {
        return Ok(Some(t.record.clone()));
    }
    Ok(load_rows(conn, &[id.to_string()])?
        .into_iter()
        .find_map(|r| r.to_record().ok()))
}

/// Notes on the ticket's synced copy what became of a device's ticket action (see
/// `ticket_record::note_device_outcome`); a mutation without a readable ticket id leaves none.
fn note_action(
    conn: &mut DbConnection,
    ctx: &PushContext<'_>,
    m: &Mutation,
    refused: Option<&Rejection>,
) -> Result<(), PushError> {
    let Some(ticket_id) = m.fields.get("ticket_id").and_then(Value::as_str) else {
        return Ok(());
    };
    let action = m.fields.get("action").and_then(Value::as_str).unwrap_or("");
    let outcome = super::ticket_record::DeviceOutcome {
        action_id: m.record_id,
        action,
        device_id: ctx.device_id,
        refused,
    };
    super::ticket_record::note_device_outcome(conn, ctx.scope, ticket_id, &outcome, ctx.now_ms)
        .map_err(|e| {
            PushError::Corrupt(anyhow::anyhow!("noting a device action on the ticket: {e}"))
        })
}

enum TicketTxError {
    Refused(Rejection),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for TicketTxError {
    fn from(e: diesel::result::Error) -> Self {
        TicketTxError::Db(e)
    }
}

fn out_of_scope() -> Rejection {
    rejection(
        RejectionCode::OutOfScope,
        "该记录不在本设备用户的管辖范围内",
        "the record is outside this device user's scope",
    )
}

/// The ticket action a validated `ticket_action` record describes.
fn ticket_action(record: &StoredRecord) -> TicketAction {
    let values = record.values();
    let text = |k: &str| values.get(k).and_then(Value::as_str).map(str::to_owned);
    let uuid = |k: &str| {
        text(k)
            .and_then(|s| Uuid::try_parse(&s).ok())
            .unwrap_or_default()
    };
    TicketAction {
        action_id: record.id,
        ticket_id: uuid("ticket_id"),
        unit_id: uuid("unit_id"),
        action: text("action").unwrap_or_default(),
        message: text("message"),
        acted_at: text("acted_at").unwrap_or_default(),
        photos: values
            .get("photos")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn conflict_row(
    m: &Mutation,
    fc: &FieldConflict,
    unit: Option<Uuid>,
    area: Option<Uuid>,
    now_ms: i64,
) -> NewConflict {
    NewConflict {
        id: Uuid::now_v7().to_string(),
        record_type: m.record_type.clone(),
        record_id: m.record_id.to_string(),
        field: fc.field.clone(),
        base_version: fc.base_version,
        server_value: fc.server_value.to_string(),
        device_value: fc.device_value.to_string(),
        winner: match fc.winner {
            Winner::Server => "server",
            Winner::Device => "device",
        }
        .into(),
        server_author: fc.server_author.clone(),
        device_author: fc.device_author.clone(),
        server_hlc: fc.server_hlc.clone(),
        device_hlc: fc.device_hlc.clone(),
        unit_id: unit.map(|u| u.to_string()),
        area_id: area.map(|a| a.to_string()),
        created_at: now_ms,
        status: "open".into(),
    }
}
