//! The one way a ticket changes (工单流转). Every site that moves a ticket (console actions,
//! device actions, extension decisions, the resident's confirm or dispute, the clocks' auto-close)
//! calls [`apply`]: inside the caller's write transaction it locks the ticket, checks role, unit
//! and state with the state machine, then writes the effects, the event (the ticket's change
//! log), the new state and the outbox messages. Changes that are not transitions go through the
//! same module: a new ticket's first event ([`open`]), a "me too" ([`add_supporter`]) and the
//! clocks' reminders and escalations ([`remark`]). Every event is written by [`record_event`].
//!
//! The rule and its check live here ([`apply`]); the rest, one idea per file: what a change is
//! (`change`), who may make it (`access`), the one writer of events (`record`), a new ticket's
//! first event (`open`), events that leave the status (`remarks`) and a batch's end (`deferred`).

mod access;
mod change;
mod deferred;
mod open;
mod record;
mod remarks;

pub use access::{actor_for, can_see, refusal_error, ticket_not_found};
pub use change::{Change, Mover};
pub use deferred::Deferred;
pub use open::open;
pub use record::record_event;
pub use remarks::{RemarkNotice, add_supporter, remark};

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode, FieldCode, FieldError};
use crate::org::catalog::Catalog;
use crate::tickets::schema::{extension_requests, tickets};

use super::aggregates::TicketAggregates;
use super::copies::TicketCopies;
use super::state::{Actor, TicketStatus, check};
use super::store::{self, NewEvent, TicketRow};
use record::notify;

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
    /// The per-day aggregates every change adds to (stats', wired in by `startup`).
    pub aggregates: &'a dyn TicketAggregates,
}

/// An outbox message to queue once the change is written.
struct Notice {
    units: Vec<Option<String>>,
    event: &'static str,
    title: &'static str,
    text: String,
}

fn check_uploads(conn: &mut DbConnection, ids: &[String]) -> Result<(), ApiError> {
    // Referenced by the resolution from now on, so never cleaned up as unreferenced.
    crate::attachments::uploads::claim(conn, ids)
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
    env.aggregates
        .on_ticket_change(conn, env, Some(&t), &after)?;
    for n in notices {
        let units: Vec<Option<&str>> = n.units.iter().map(Option::as_deref).collect();
        notify(conn, env, &after, &units, n.event, n.title, &n.text)?;
    }
    Ok(after)
}
