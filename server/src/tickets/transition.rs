//! The one way a ticket changes (工单流转). Every site that moves a ticket (console actions,
//! device actions, extension decisions, the resident's confirm or dispute, the clocks' auto-close)
//! calls [`apply`]: inside the caller's write transaction it locks the ticket, checks role, unit
//! and state with the state machine, then writes the effects, the event (the ticket's change
//! log), the new state and the outbox messages. Changes that are not transitions go through the
//! same module: a new ticket's first event ([`open`]), a "me too" ([`add_supporter`]) and the
//! clocks' reminders and escalations ([`remark`]). Every event is written by [`record_event`].

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode, FieldCode, FieldError};
use crate::org::catalog::Catalog;
use crate::tickets::schema::{extension_requests, ticket_events, tickets};

use super::copies::TicketCopies;
use super::state::{Action, Actor, Refusal, TicketStatus, check};
use super::store::{self, NewEvent, TicketRow, is_public_kind};

/// What a change needs besides the connection: the catalog, time zone, link base and instant.
pub struct Env<'a> {
    /// The catalog (categories, units, targets, calendar).
    pub catalog: &'a Catalog,
    /// The city's time zone.
    pub tz: &'a jiff::tz::TimeZone,
    /// Base of the links in outbox messages.
    pub public_url: &'a str,
    /// The instant the change happens at.
    pub now: i64,
    /// When set, the per-day aggregate changes and the synced copies of the tickets are left
    /// here for the caller to write once before committing ([`Deferred::finish`]).
    pub deferred: Option<&'a Deferred>,
    /// The tickets' synced copies on the field devices (sync's, wired in by `startup`).
    pub copies: &'a dyn TicketCopies,
}

/// Work a batch of changes (PostgreSQL group commit) leaves to the end of its transaction: the
/// aggregate changes of its events and the synced copies of its tickets. Written by
/// [`Deferred::finish`] just before the commit, the hot aggregate rows (today × unit, today ×
/// district × category) are each updated once, in key order, and the sync counter (one row
/// lock every writer of changes takes until commit) is held only for the end of the
/// transaction instead of from the batch's first submission on, so concurrent batches file in
/// parallel and only their last steps take turns.
#[derive(Debug, Default)]
pub struct Deferred {
    stats: std::cell::RefCell<crate::stats::daily::Contribution>,
    synced: std::cell::RefCell<Vec<(String, i64)>>,
}

impl Deferred {
    /// Adds an aggregate change to write at the end.
    pub fn gather(&self, delta: &crate::stats::daily::Contribution) {
        self.stats.borrow_mut().add(delta, 1);
    }

    /// Writes each ticket's synced copy as of the end of the transaction (once per ticket, at
    /// the instant of its last event, through `copies`), then the gathered aggregate changes, in
    /// the caller's transaction. Must run before the commit: nothing deferred is written
    /// otherwise.
    pub fn finish(
        self,
        conn: &mut DbConnection,
        copies: &dyn TicketCopies,
    ) -> Result<(), ApiError> {
        let mut synced = self.synced.into_inner();
        // The last instant of each ticket, tickets in id order (the order every writer takes).
        synced.sort();
        synced.reverse();
        synced.dedup_by(|a, b| a.0 == b.0);
        synced.reverse();
        // The copies take the counter before the aggregate rows are written, in the order every
        // writer of a ticket takes them (counter, ticket, aggregates): a staff action holding
        // the counter while it adds to today's row of a unit, and this batch holding that row
        // while it waits for the counter, would deadlock on PostgreSQL. The new tickets' copies
        // are read before the counter and written after it in one statement, and the aggregates
        // in one statement per table, so batches take turns for a few statements only.
        copies.refresh_all(conn, &synced)?;
        crate::stats::aggregate::write(conn, &self.stats.into_inner())?;
        Ok(())
    }
}

/// Who moves the ticket.
#[derive(Debug, Clone, Copy)]
pub enum Mover<'a> {
    /// A staff member (console or field device), with their role and unit.
    Staff(&'a Principal),
    /// The resident who filed the complaint (by their tracking code).
    Resident,
    /// The server itself (the clocks).
    System,
}

/// A transition and what it carries, parsed at the edge.
#[derive(Debug, Clone)]
pub enum Change {
    /// 签收.
    Accept,
    /// A public reply.
    Reply {
        /// The reply text.
        text: String,
    },
    /// An internal note.
    Note {
        /// The note text.
        text: String,
    },
    /// 办结 with the result and after-photos (upload ids).
    Resolve {
        /// The result text.
        result: String,
        /// Upload ids of the after-photos.
        photos: Vec<String>,
        /// What each proof photo says about itself (one per photo), judged against the
        /// acceptance and the complaint's location.
        proof: Vec<super::proof::PhotoFacts>,
        /// The distance limit of a verified proof, metres (`ANJU_PROOF_MAX_DISTANCE_M`).
        max_distance_m: f64,
    },
    /// 退单 to the dispatch center.
    Return {
        /// Why.
        reason: String,
        /// The unit the returning unit suggests, if any.
        suggested_unit_id: Option<String>,
    },
    /// 延期申请.
    RequestExtension {
        /// Why.
        reason: String,
        /// The requested resolution deadline, ms.
        due: i64,
    },
    /// 派单/转派 to a unit, with fresh deadline clocks.
    Dispatch {
        /// The target unit.
        unit_id: String,
    },
    /// A supervisor's decision on a pending extension request.
    DecideExtension {
        /// The extension request.
        extension_id: String,
        /// Approve (true) or refuse.
        approve: bool,
        /// The decision's reason, if given.
        reason: Option<String>,
    },
    /// The resident confirms the resolution.
    Confirm {
        /// 1–5 stars.
        rating: i32,
        /// Optional comment.
        comment: Option<String>,
    },
    /// The resident disputes the resolution: reopened, or escalated the second time.
    Dispute {
        /// 1–5 stars.
        rating: i32,
        /// The comment.
        comment: Option<String>,
    },
    /// The clocks close a resolution the resident left unanswered.
    AutoClose {
        /// The configured number of days.
        days: u32,
    },
}

impl Change {
    /// The state-machine action of this change.
    pub fn action(&self) -> Action {
        match self {
            Change::Accept => Action::Accept,
            Change::Reply { .. } => Action::Reply,
            Change::Note { .. } => Action::Note,
            Change::Resolve { .. } => Action::Resolve,
            Change::Return { .. } => Action::Return,
            Change::RequestExtension { .. } => Action::RequestExtension,
            Change::Dispatch { .. } => Action::Dispatch,
            Change::DecideExtension { approve: true, .. } => Action::ApproveExtension,
            Change::DecideExtension { approve: false, .. } => Action::RefuseExtension,
            Change::Confirm { .. } => Action::Confirm,
            Change::Dispute { .. } => Action::Dispute,
            Change::AutoClose { .. } => Action::AutoClose,
        }
    }
}

/// An outbox message to queue once the change is written.
struct Notice {
    units: Vec<Option<String>>,
    event: &'static str,
    title: &'static str,
    text: String,
}

/// 404 `ticket_not_found`.
pub fn ticket_not_found() -> ApiError {
    ApiError::new(ErrorCode::TicketNotFound, "没有这个工单", "No such ticket")
}

/// Map a state-machine refusal to its API error.
pub fn refusal_error(r: Refusal) -> ApiError {
    match r {
        Refusal::NotInState => ApiError::new(
            ErrorCode::TicketNotInState,
            "工单当前状态不允许此操作",
            "The ticket's current status does not allow this action",
        ),
        Refusal::NotYourUnit => crate::auth::principal::not_your_unit(),
        Refusal::RoleNotAllowed => crate::auth::principal::role_not_allowed(),
        Refusal::ExtensionPending => ApiError::new(
            ErrorCode::ExtensionPending,
            "已有延期申请在审批中",
            "An extension request is already waiting for a decision",
        ),
        Refusal::NoPendingExtension => ApiError::new(
            ErrorCode::NoPendingExtension,
            "没有待审批的延期申请",
            "There is no pending extension request",
        ),
    }
}

/// The state-machine actor for a principal and a ticket.
pub fn actor_for(conn: &mut DbConnection, p: &Principal, t: &TicketRow) -> Result<Actor, ApiError> {
    let same_unit = match t.unit_id.as_deref() {
        Some(u) => p.can_access_unit(conn, u)?,
        None => false,
    };
    Ok(Actor::Staff {
        role: p.role,
        same_unit,
    })
}

/// Whether `p` may see `t` at all (city-wide roles: every ticket; others: their unit's).
pub fn can_see(conn: &mut DbConnection, p: &Principal, t: &TicketRow) -> Result<bool, ApiError> {
    if p.role.is_citywide() {
        return Ok(true);
    }
    match t.unit_id.as_deref() {
        Some(u) => p.can_access_unit(conn, u),
        None => Ok(false),
    }
}

fn check_uploads(conn: &mut DbConnection, ids: &[String]) -> Result<(), ApiError> {
    // Referenced by the resolution from now on, so never cleaned up as unreferenced.
    crate::complaints::uploads::claim(conn, ids)
}

fn withdraw_pending_extension(conn: &mut DbConnection, ticket_id: &str) -> Result<(), ApiError> {
    diesel::update(
        extension_requests::table
            .filter(extension_requests::ticket_id.eq(ticket_id))
            .filter(extension_requests::status.eq("pending")),
    )
    .set(extension_requests::status.eq("withdrawn"))
    .execute(conn)?;
    Ok(())
}

/// Fresh (response, resolution) deadlines from `now` for the ticket's category.
fn fresh_deadlines(env: &Env<'_>, t: &TicketRow) -> Result<(i64, i64), ApiError> {
    let tier = &env
        .catalog
        .categories
        .get(&t.category_code)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("category vanished")))?
        .tier;
    let (resp, res) = tier
        .deadlines(crate::clock::from_ms(env.now), &env.catalog.calendar)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("deadline: {e}")))?;
    Ok((resp.as_millisecond(), res.as_millisecond()))
}

/// Apply `change` to ticket `ticket_id` for `mover`, inside the caller's write transaction: lock
/// the ticket, check role, unit and state, write the change's effects, its event(s), the new
/// state and its outbox messages. `data` is extra JSON merged into the event's `data` (e.g. the
/// device action it came from). Returns the ticket after the change. On `Err` the caller's
/// transaction must roll back (it wrote part of the change).
pub fn apply(
    conn: &mut DbConnection,
    env: &Env<'_>,
    mover: Mover<'_>,
    ticket_id: &str,
    change: Change,
    data: Option<Value>,
) -> Result<TicketRow, ApiError> {
    let (catalog, now) = (env.catalog, env.now);
    let action = change.action();
    let t = store::find_for_update(conn, env.copies, ticket_id)?.ok_or_else(ticket_not_found)?;
    let actor = match mover {
        Mover::Staff(p) => {
            if !can_see(conn, p, &t)? {
                return Err(crate::auth::principal::not_your_unit());
            }
            actor_for(conn, p, &t)?
        }
        Mover::Resident => Actor::Resident,
        Mover::System => Actor::System,
    };
    if let Change::DecideExtension { extension_id, .. } = &change {
        let status: Option<String> = extension_requests::table
            .find(extension_id)
            .select(extension_requests::status)
            .first(conn)
            .optional()?;
        if status.as_deref() != Some("pending") {
            return Err(ApiError::new(
                ErrorCode::ExtensionAlreadyDecided,
                "该延期申请已处理",
                "This extension request was already decided",
            ));
        }
    }
    let tr = check(action, &actor, &t.facts()).map_err(refusal_error)?;
    let mut ev = NewEvent {
        ticket_id: t.id.clone(),
        at: now,
        kind: tr.event.into(),
        unit_id: t.unit_id.clone(),
        from_status: Some(t.status.clone()),
        to_status: tr.to.as_str().into(),
        ..NewEvent::default()
    };
    match mover {
        Mover::Staff(p) => {
            ev.actor_kind = "staff".into();
            ev.actor_user_id = Some(p.user_id.clone());
            ev.actor_name = Some(p.display_name.clone());
        }
        Mover::Resident => ev.actor_kind = "resident".into(),
        Mover::System => ev.actor_kind = "system".into(),
    }
    let category = catalog.categories.get(&t.category_code);
    let mut notices: Vec<Notice> = Vec::new();
    match change {
        Change::Accept => {
            diesel::update(tickets::table.find(&t.id))
                .set(tickets::accepted_at.eq(now))
                .execute(conn)?;
        }
        Change::Reply { text } | Change::Note { text } => ev.body = Some(text),
        Change::Resolve {
            result,
            photos,
            proof,
            max_distance_m,
        } => {
            if category.is_some_and(|c| c.needs_photo_proof) && photos.is_empty() {
                return Err(FieldError::new(
                    "photos",
                    FieldCode::PhotosRequired,
                    "该类别办结时须上传整改后照片",
                    "This category needs after-photos to resolve",
                )
                .into());
            }
            check_uploads(conn, &photos)?;
            ev.body = Some(result);
            ev.photos = serde_json::to_string(&photos).unwrap_or_else(|_| "[]".into());
            diesel::update(tickets::table.find(&t.id))
                .set(tickets::resolved_at.eq(now))
                .execute(conn)?;
            super::proof::record(
                conn,
                (&t.id, t.unit_id.as_deref()),
                now,
                &proof,
                t.accepted_at,
                t.lat.zip(t.lon),
                max_distance_m,
            )?;
        }
        Change::Return {
            reason,
            suggested_unit_id,
        } => {
            if let Some(s) = &suggested_unit_id
                && !catalog.units.contains_key(s)
            {
                return Err(FieldError::new(
                    "suggested_unit_id",
                    FieldCode::UnknownUnit,
                    "没有这个单位",
                    "No such unit",
                )
                .into());
            }
            ev.reason = Some(reason.clone());
            ev.data = Some(json!({"suggested_unit_id": suggested_unit_id}).to_string());
            // A return withdraws any pending extension.
            diesel::update(tickets::table.find(&t.id))
                .set((
                    tickets::unit_id.eq(&catalog.dispatch_center),
                    tickets::accepted_at.eq(None::<i64>),
                    tickets::extension_pending.eq(false),
                ))
                .execute(conn)?;
            withdraw_pending_extension(conn, &t.id)?;
            notices.push(Notice {
                units: vec![catalog.dispatch_center.clone()],
                event: "ticket_returned",
                title: "工单被退回派单中心",
                text: reason,
            });
        }
        Change::RequestExtension { reason, due } => {
            let Mover::Staff(p) = mover else {
                return Err(crate::auth::principal::role_not_allowed());
            };
            if now >= t.resolution_due {
                return Err(ApiError::new(
                    ErrorCode::DeadlinePassed,
                    "办结时限已过，不能再申请延期",
                    "The resolution deadline has passed; an extension can no longer be asked for",
                ));
            }
            if due <= t.resolution_due {
                return Err(FieldError::new(
                    "resolution_due",
                    FieldCode::NotLater,
                    "新时限须晚于当前办结时限",
                    "The new deadline must be later than the current one",
                )
                .into());
            }
            let ext_id = uuid::Uuid::now_v7().to_string();
            diesel::insert_into(extension_requests::table)
                .values((
                    extension_requests::id.eq(&ext_id),
                    extension_requests::ticket_id.eq(&t.id),
                    extension_requests::unit_id.eq(t.unit_id.clone().unwrap_or_default()),
                    extension_requests::requested_by.eq(&p.user_id),
                    extension_requests::reason.eq(&reason),
                    extension_requests::requested_due.eq(due),
                    extension_requests::previous_due.eq(t.resolution_due),
                    extension_requests::status.eq("pending"),
                    extension_requests::created_at.eq(now),
                ))
                .execute(conn)?;
            diesel::update(tickets::table.find(&t.id))
                .set(tickets::extension_pending.eq(true))
                .execute(conn)?;
            ev.reason = Some(reason.clone());
            ev.data = Some(json!({"extension_id": ext_id, "requested_due": due}).to_string());
            let supervising = t
                .unit_id
                .as_deref()
                .and_then(|u| catalog.units.get(u))
                .and_then(|u| u.supervising_unit_id.clone());
            notices.push(Notice {
                units: vec![supervising],
                event: "extension_requested",
                title: "延期申请待审批",
                text: reason,
            });
        }
        Change::Dispatch { unit_id } => {
            if !catalog.units.contains_key(&unit_id) {
                return Err(FieldError::new(
                    "unit_id",
                    FieldCode::UnknownUnit,
                    "没有这个单位",
                    "No such unit",
                )
                .into());
            }
            if t.unit_id.as_deref() == Some(unit_id.as_str())
                && t.status() != TicketStatus::Dispatching
            {
                return Err(FieldError::new(
                    "unit_id",
                    FieldCode::SameUnit,
                    "工单已在该单位",
                    "The ticket is already at this unit",
                )
                .into());
            }
            // A new unit gets fresh clocks from now (it could not act before it had the ticket).
            let (resp, res) = fresh_deadlines(env, &t)?;
            diesel::update(tickets::table.find(&t.id))
                .set((
                    tickets::unit_id.eq(&unit_id),
                    tickets::clock_start.eq(now),
                    tickets::response_due.eq(resp),
                    tickets::resolution_due.eq(res),
                    tickets::accepted_at.eq(None::<i64>),
                    tickets::extension_pending.eq(false),
                ))
                .execute(conn)?;
            withdraw_pending_extension(conn, &t.id)?;
            ev.unit_id = Some(unit_id.clone());
            ev.response_due = Some(resp);
            ev.resolution_due = Some(res);
            ev.data = Some(json!({"from_unit_id": t.unit_id}).to_string());
            notices.push(Notice {
                units: vec![Some(unit_id)],
                event: "ticket_dispatched",
                title: "新派工单",
                text: crate::redact::shorten(&t.description),
            });
        }
        Change::DecideExtension {
            extension_id,
            approve,
            reason,
        } => {
            let Mover::Staff(p) = mover else {
                return Err(crate::auth::principal::role_not_allowed());
            };
            let (ask_reason, due): (String, i64) = extension_requests::table
                .find(&extension_id)
                .select((
                    extension_requests::reason,
                    extension_requests::requested_due,
                ))
                .first(conn)?;
            diesel::update(extension_requests::table.find(&extension_id))
                .set((
                    extension_requests::status.eq(if approve { "approved" } else { "refused" }),
                    extension_requests::decided_by.eq(&p.user_id),
                    extension_requests::decided_at.eq(now),
                    extension_requests::decision_reason.eq(&reason),
                ))
                .execute(conn)?;
            if approve {
                diesel::update(tickets::table.find(&t.id))
                    .set((
                        tickets::resolution_due.eq(due),
                        tickets::extension_pending.eq(false),
                    ))
                    .execute(conn)?;
            } else {
                diesel::update(tickets::table.find(&t.id))
                    .set(tickets::extension_pending.eq(false))
                    .execute(conn)?;
            }
            // The resident sees the unit's reason for the new date.
            ev.reason = Some(if approve {
                ask_reason
            } else {
                reason.clone().unwrap_or_default()
            });
            ev.body = reason.clone();
            ev.resolution_due = approve.then_some(due);
            ev.data = Some(json!({"extension_id": extension_id}).to_string());
            notices.push(Notice {
                units: vec![t.unit_id.clone()],
                event: if approve {
                    "extension_granted"
                } else {
                    "extension_refused"
                },
                title: if approve {
                    "延期申请已批准"
                } else {
                    "延期申请未批准"
                },
                text: reason.unwrap_or_default(),
            });
        }
        Change::Confirm { rating, comment } => {
            ev.body = comment.clone();
            ev.rating = Some(rating);
            diesel::update(tickets::table.find(&t.id))
                .set((
                    tickets::closed_at.eq(now),
                    tickets::rating.eq(rating),
                    tickets::rating_comment.eq(&comment),
                    tickets::rated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Change::Dispute { rating, comment } => {
            // The resident's verdict first, then the transition it causes.
            record_event(
                conn,
                env,
                NewEvent {
                    kind: "disputed".into(),
                    body: comment.clone(),
                    rating: Some(rating),
                    ..ev.clone()
                },
            )?;
            let (resp, res) = fresh_deadlines(env, &t)?;
            diesel::update(tickets::table.find(&t.id))
                .set((
                    tickets::disputes.eq(t.disputes + 1),
                    tickets::clock_start.eq(now),
                    tickets::response_due.eq(resp),
                    tickets::resolution_due.eq(res),
                    tickets::accepted_at.eq(None::<i64>),
                    tickets::rating.eq(rating),
                    tickets::rating_comment.eq(&comment),
                    tickets::rated_at.eq(now),
                ))
                .execute(conn)?;
            ev.response_due = Some(resp);
            ev.resolution_due = Some(res);
            let text = comment.unwrap_or_default();
            if tr.to == TicketStatus::Reopened {
                notices.push(Notice {
                    units: vec![t.unit_id.clone()],
                    event: "ticket_reopened",
                    title: "居民不满意，工单重办",
                    text,
                });
            } else {
                let supervising = t
                    .unit_id
                    .as_deref()
                    .and_then(|u| catalog.units.get(u))
                    .and_then(|u| u.supervising_unit_id.clone());
                notices.push(Notice {
                    units: vec![supervising, catalog.dispatch_center.clone()],
                    event: "ticket_escalated",
                    title: "居民再次不满意，升级督办",
                    text,
                });
            }
        }
        Change::AutoClose { days } => {
            ev.data = Some(json!({"days": days}).to_string());
            diesel::update(tickets::table.find(&t.id))
                .set(tickets::closed_at.eq(now))
                .execute(conn)?;
        }
    }
    if let Some(extra) = data {
        let mut merged = ev
            .data
            .as_deref()
            .and_then(|d| serde_json::from_str::<serde_json::Map<String, Value>>(d).ok())
            .unwrap_or_default();
        if let Value::Object(m) = extra {
            merged.extend(m);
        }
        ev.data = Some(Value::Object(merged).to_string());
    }
    // The status first, so the event's synced ticket copy (written by `record_event`) is the
    // ticket after the change.
    store::set_status(conn, &t.id, tr.to, now)?;
    record_event(conn, env, ev)?;
    let after = store::find(conn, &t.id)?.ok_or_else(ticket_not_found)?;
    crate::stats::aggregate::on_ticket_change(conn, env, Some(&t), &after)?;
    for n in notices {
        let units: Vec<Option<&str>> = n.units.iter().map(Option::as_deref).collect();
        notify(conn, env, &after, &units, n.event, n.title, &n.text)?;
    }
    Ok(after)
}

/// File a new ticket: insert `ticket`, record its first event (`submitted`, with the routing
/// `note`) and queue the message to its unit (or the dispatch center), in the caller's
/// transaction.
pub fn open(
    conn: &mut DbConnection,
    env: &Env<'_>,
    ticket: &TicketRow,
    note: &Value,
) -> Result<(), ApiError> {
    diesel::insert_into(tickets::table)
        .values(ticket)
        .execute(conn)?;
    crate::stats::aggregate::on_ticket_change(conn, env, None, ticket)?;
    record(
        conn,
        env,
        Some(ticket),
        NewEvent {
            ticket_id: ticket.id.clone(),
            at: env.now,
            kind: "submitted".into(),
            actor_kind: "resident".into(),
            unit_id: ticket.unit_id.clone(),
            photos: ticket.photos.clone(),
            to_status: ticket.status.clone(),
            response_due: Some(ticket.response_due),
            resolution_due: Some(ticket.resolution_due),
            data: Some(note.to_string()),
            ..NewEvent::default()
        },
    )?;
    let dispatching = ticket.status() == TicketStatus::Dispatching;
    notify(
        conn,
        env,
        ticket,
        &[ticket.unit_id.as_deref()],
        if dispatching {
            "ticket_awaiting_dispatch"
        } else {
            "ticket_dispatched"
        },
        if dispatching {
            "新诉求待派单"
        } else {
            "新派工单"
        },
        &crate::redact::shorten(&ticket.description),
    )
}

/// A "me too" (我也遇到): lock the open ticket `ticket_id`, count one more supporter and record
/// the `supported` event. Returns the ticket as it was before (409 `ticket_not_in_state` when it
/// is resolved or closed). The caller stores the supporter in the same transaction.
pub fn add_supporter(
    conn: &mut DbConnection,
    env: &Env<'_>,
    ticket_id: &str,
) -> Result<TicketRow, ApiError> {
    let now = env.now;
    let t = store::find_for_update(conn, env.copies, ticket_id)?.ok_or_else(ticket_not_found)?;
    if !t.status().is_open() {
        return Err(ApiError::new(
            ErrorCode::TicketNotInState,
            "该工单已办结，不能再加入",
            "This ticket is already resolved or closed",
        ));
    }
    diesel::update(tickets::table.find(&t.id))
        .set((
            tickets::supporters.eq(t.supporters + 1),
            tickets::updated_at.eq(now),
        ))
        .execute(conn)?;
    record_event(
        conn,
        env,
        NewEvent {
            ticket_id: t.id.clone(),
            at: now,
            kind: "supported".into(),
            actor_kind: "resident".into(),
            unit_id: t.unit_id.clone(),
            from_status: Some(t.status.clone()),
            to_status: t.status.clone(),
            ..NewEvent::default()
        },
    )?;
    Ok(t)
}

/// A message that goes with a [`remark`]: to whom, and what it says.
pub struct RemarkNotice<'a> {
    /// The units to tell.
    pub units: &'a [Option<&'a str>],
    /// The message's event name (`reminder`, `escalation`).
    pub event: &'a str,
    /// Its title.
    pub title: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// A system event that does not move the ticket (the clocks' `reminder` and `overdue`), with its
/// outbox messages, in the caller's transaction.
pub fn remark(
    conn: &mut DbConnection,
    env: &Env<'_>,
    t: &TicketRow,
    kind: &str,
    data: Value,
    notice: RemarkNotice<'_>,
) -> Result<(), ApiError> {
    record_event(
        conn,
        env,
        NewEvent {
            ticket_id: t.id.clone(),
            at: env.now,
            kind: kind.into(),
            actor_kind: "system".into(),
            unit_id: t.unit_id.clone(),
            from_status: Some(t.status.clone()),
            to_status: t.status.clone(),
            data: Some(data.to_string()),
            ..NewEvent::default()
        },
    )?;
    notify(
        conn,
        env,
        t,
        notice.units,
        notice.event,
        notice.title,
        notice.text,
    )
}

/// Append `event` to the ticket's history: the one function that writes `ticket_events`. The
/// table is append-only: nothing in the server updates or deletes its rows. In the same
/// transaction the clocks reconsider the ticket, the per-day aggregates take the event
/// ([`crate::stats::aggregate::on_event`]) and the ticket's synced copy is rewritten
/// ([`TicketCopies::refresh`] of `env.copies`, which reads the ticket row: write the ticket's
/// new state before its event). On PostgreSQL the ticket's row is locked first, so the events of one
/// ticket are inserted and aggregated one transaction at a time, in id order.
pub fn record_event(
    conn: &mut DbConnection,
    env: &Env<'_>,
    event: NewEvent,
) -> Result<(), ApiError> {
    record(conn, env, None, event)
}

/// [`record_event`]; `new` is the ticket when `event` is the first event of a ticket inserted
/// in this transaction (nothing to lock, no earlier events to read for the aggregates).
fn record(
    conn: &mut DbConnection,
    env: &Env<'_>,
    new: Option<&TicketRow>,
    mut event: NewEvent,
) -> Result<(), ApiError> {
    if event.photos.is_empty() {
        event.photos = "[]".into();
    }
    event.public = is_public_kind(&event.kind);
    if env.deferred.is_none() {
        // Every writer of a ticket takes the sync counter, then the ticket, then the aggregate
        // rows (a no-op when the caller took the counter already, as `apply` does). A batch
        // (`deferred`) takes the counter at its end, in [`Deferred::finish`].
        env.copies.lock(conn)?;
    }
    if let (DbConnection::Pg(pg), None) = (&mut *conn, new) {
        tickets::table
            .find(&event.ticket_id)
            .select(tickets::id)
            .for_update()
            .first::<String>(pg)
            .optional()?;
    }
    diesel::insert_into(ticket_events::table)
        .values(&event)
        .execute(conn)?;
    store::reconsider_clocks(conn, &event.ticket_id)?;
    match new {
        Some(t) => crate::stats::aggregate::on_first_event(env, t, &event, conn)?,
        None => crate::stats::aggregate::on_event(conn, env, &event.ticket_id)?,
    }
    // The ticket's copy on the handling unit's devices (a server-authored sync change).
    match env.deferred {
        Some(d) => d
            .synced
            .borrow_mut()
            .push((event.ticket_id.clone(), event.at)),
        None => env.copies.refresh(conn, &event.ticket_id, event.at)?,
    }
    Ok(())
}

fn notify(
    conn: &mut DbConnection,
    env: &Env<'_>,
    ticket: &TicketRow,
    units: &[Option<&str>],
    event: &str,
    title: &str,
    text: &str,
) -> Result<(), ApiError> {
    store::notify(
        conn,
        env.catalog,
        ticket,
        units,
        event,
        title,
        text,
        env.tz,
        env.public_url,
        env.now,
    )
}
