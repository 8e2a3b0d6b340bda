//! Clocks (催办/督办): a background pass that reminds a unit when a configurable share of a
//! deadline's clock has run (default 80 %), records an escalation to the unit's supervising
//! unit and the dispatch center when the resolution deadline passes (again every day while it
//! stays overdue), and closes resolutions the resident left unanswered for N days.
//!
//! Only due work is touched: each ticket carries `next_clock_at`, the instant of its next clock
//! event (indexed). A pass reads the tickets whose instant has passed, in batches of [`BATCH`],
//! one short background write transaction per batch (which yields the SQLite write turn to
//! waiting requests), and recomputes each instant ([`next::instant`]) in the transaction of its
//! events. A batch's tickets whose effects all happened already (their marks are there: the
//! common case, a ticket whose instant an event reset) get their instant without the sync
//! counter, which every writer of synced changes takes until it commits; only tickets with an
//! event to record go on to a second transaction that takes it. Every ticket event resets the
//! instant to 0
//! ([`crate::tickets::store::reconsider_clocks`]), so a transition is seen by the next pass. A pass with nothing due is one indexed read.
//!
//! Exactly once per `(ticket, kind, deadline, day)`: each effect inserts a row into
//! `clock_marks` in the same transaction as its event and outbox messages, and skips when the
//! row exists. So a restart, a second pass, or a second server process never sends twice. On
//! PostgreSQL a pass claims tickets with `FOR UPDATE SKIP LOCKED`, so two processes share the
//! work instead of queueing on the same rows.

pub mod hazards;
pub mod next;
pub mod schema;

use std::time::Duration;

use diesel::prelude::*;
use serde::Serialize;

use crate::clock::from_ms;
use crate::clocks::schema::clock_marks;
use crate::db::{Db, DbConnection};
use crate::error::ApiError;
use crate::org::catalog::Catalog;
use crate::state::AppState;
use crate::tickets::schema::tickets;
use crate::tickets::state::{Action, Actor, TicketStatus, check};
use crate::tickets::store::TicketRow;
use crate::tickets::transition::{self, Change, Env, Mover, RemarkNotice};

/// Tickets examined per transaction. A batch holds the write turn on SQLite, and on PostgreSQL
/// the sync counter while it records events, from its start to its commit, so a request's write
/// may wait for one whole batch: 50 tickets is about 10 ms on PostgreSQL, 2 ms on SQLite (200
/// held the counter for 80 ms on PostgreSQL under load; BENCHMARKS.md, issue 12).
const BATCH: i64 = 50;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PassReport {
    /// Reminders recorded.
    pub reminders: u32,
    /// Overdue escalations recorded.
    pub escalations: u32,
    /// Resolutions closed as unconfirmed.
    pub auto_closed: u32,
    /// Due tickets read and given their next instant.
    pub examined: u32,
    /// Rectification-order reminders recorded.
    pub order_reminders: u32,
    /// Rectification-order escalations recorded (one per overdue order and day).
    pub order_escalations: u32,
    /// Due rectification orders read and given their next instant.
    pub orders_examined: u32,
}

/// Insert a mark; `false` when it already exists (the effect happened before).
fn mark(
    conn: &mut DbConnection,
    ticket: &str,
    kind: &str,
    due: i64,
    day: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let values = (
        clock_marks::ticket_id.eq(ticket),
        clock_marks::kind.eq(kind),
        clock_marks::due.eq(due),
        clock_marks::day.eq(day),
        clock_marks::created_at.eq(now),
    );
    let n = match conn {
        DbConnection::Pg(c) => diesel::insert_into(clock_marks::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(clock_marks::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(n == 1)
}

/// The due tickets, earliest first, at most [`BATCH`]; on PostgreSQL locked for this pass
/// (`SKIP LOCKED`: another process takes the others).
fn due(conn: &mut DbConnection, now: i64, lock: bool) -> Result<Vec<TicketRow>, ApiError> {
    macro_rules! query {
        () => {
            tickets::table
                .filter(tickets::next_clock_at.le(now))
                .order(tickets::next_clock_at)
                .limit(BATCH)
                .select(TicketRow::as_select())
        };
    }
    Ok(match conn {
        DbConnection::Pg(pg) if lock => query!().for_update().skip_locked().load(pg)?,
        DbConnection::Pg(pg) => query!().load(pg)?,
        DbConnection::Sqlite(c) => query!().load(c)?,
    })
}

/// A clock effect whose moment has come for a ticket, before its mark says whether it happened
/// already.
#[derive(Debug, Clone, PartialEq)]
enum Effect {
    /// Close a resolution the resident left unanswered (`resolved`: when it was resolved).
    AutoClose { resolved: i64 },
    /// Remind the unit of the response deadline (`share` of its clock has run).
    ResponseReminder { share: f64 },
    /// Remind the unit of the resolution deadline.
    Reminder { share: f64 },
    /// Escalate the overdue ticket, once per city day.
    Overdue { day: String },
}

/// The key of a row of `clock_marks`: ticket, kind, deadline, day.
type MarkKey = (String, String, i64, String);

impl Effect {
    /// The key of its row in `clock_marks`.
    fn mark_key(&self, t: &TicketRow) -> MarkKey {
        let (kind, due, day) = match self {
            Effect::AutoClose { resolved } => ("auto_close", *resolved, "-".to_string()),
            Effect::ResponseReminder { .. } => ("response_reminder", t.response_due, "-".into()),
            Effect::Reminder { .. } => ("reminder", t.resolution_due, "-".into()),
            Effect::Overdue { day } => ("overdue", t.resolution_due, day.clone()),
        };
        (t.id.clone(), kind.to_string(), due, day)
    }
}

/// The effects whose moment has come for `t` at `now` (no database: whether each happened
/// already is its mark's to say).
fn effects(st: &AppState, catalog: &Catalog, t: &TicketRow, now: i64) -> Vec<Effect> {
    let mut out = Vec::new();
    let Some(category) = catalog.categories.get(&t.category_code) else {
        return out;
    };
    let tier = &category.tier;
    let status = t.status();
    if status == TicketStatus::Resolved {
        let resolved = t.resolved_at.unwrap_or(t.updated_at);
        if now - resolved >= i64::from(st.config.auto_close_days) * 86_400_000
            && check(Action::AutoClose, &Actor::System, &t.facts()).is_ok()
        {
            out.push(Effect::AutoClose { resolved });
        }
        return out;
    }
    if !status.at_unit() {
        return out;
    }
    let start = from_ms(t.clock_start);
    let now_ts = from_ms(now);
    // Response reminder while not yet accepted.
    if t.accepted_at.is_none()
        && matches!(status, TicketStatus::Dispatched | TicketStatus::Reopened)
        && now < t.response_due
    {
        let share = tier.response.fraction_elapsed(
            start,
            from_ms(t.response_due),
            now_ts,
            &catalog.calendar,
        );
        if share >= st.config.reminder_share() {
            out.push(Effect::ResponseReminder { share });
        }
    }
    if now < t.resolution_due {
        let share = tier.resolution.fraction_elapsed(
            start,
            from_ms(t.resolution_due),
            now_ts,
            &catalog.calendar,
        );
        if share >= st.config.reminder_share() {
            out.push(Effect::Reminder { share });
        }
    } else {
        let day = st.config.timezone.to_datetime(now_ts).date().to_string();
        out.push(Effect::Overdue { day });
    }
    out
}

/// Runs those of `effects` whose marks are not there yet (each mark inserted with its event);
/// `true` when the ticket was closed.
fn process(
    conn: &mut DbConnection,
    st: &AppState,
    catalog: &Catalog,
    t: &TicketRow,
    effects: &[Effect],
    now: i64,
    report: &mut PassReport,
) -> Result<bool, ApiError> {
    let tz = &st.config.timezone;
    let unit = t.unit_id.as_deref();
    let supervising = unit
        .and_then(|u| catalog.units.get(u))
        .and_then(|u| u.supervising_unit_id.as_deref());
    let env = Env {
        catalog,
        tz,
        public_url: &st.config.public_url,
        now,
        deferred: None,
        copies: &*st.ticket_copies,
        aggregates: &*st.ticket_aggregates,
    };
    for effect in effects {
        let (_, kind, due, day) = effect.mark_key(t);
        if !mark(conn, &t.id, &kind, due, &day, now)? {
            continue;
        }
        match effect {
            Effect::AutoClose { .. } => {
                transition::apply(
                    conn,
                    &env,
                    Mover::System,
                    &t.id,
                    Change::AutoClose {
                        days: st.config.auto_close_days,
                    },
                    None,
                )?;
                report.auto_closed += 1;
                return Ok(true);
            }
            Effect::ResponseReminder { share } | Effect::Reminder { share } => {
                let (deadline, title, text) = match effect {
                    Effect::ResponseReminder { .. } => {
                        ("response", "催办：即将超过签收时限", "请尽快签收该工单")
                    }
                    _ => (
                        "resolution",
                        "催办：即将超过办结时限",
                        "请在时限内办结该工单",
                    ),
                };
                transition::remark(
                    conn,
                    &env,
                    t,
                    "reminder",
                    serde_json::json!({"deadline": deadline, "share": share}),
                    RemarkNotice {
                        units: &[unit],
                        event: "reminder",
                        title,
                        text,
                    },
                )?;
                report.reminders += 1;
            }
            Effect::Overdue { day } => {
                transition::remark(
                    conn,
                    &env,
                    t,
                    "overdue",
                    serde_json::json!({"day": day, "to_units": [supervising, catalog.dispatch_center]}),
                    RemarkNotice {
                        units: &[supervising, catalog.dispatch_center.as_deref()],
                        event: "escalation",
                        title: "督办：工单已超过办结时限",
                        text: "责任单位未在时限内办结",
                    },
                )?;
                report.escalations += 1;
            }
        }
    }
    Ok(false)
}

/// The marks of these tickets (one query for a batch).
fn marked(
    conn: &mut DbConnection,
    ids: &[&str],
) -> Result<std::collections::HashSet<MarkKey>, ApiError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(clock_marks::table
        .filter(clock_marks::ticket_id.eq_any(ids))
        .select((
            clock_marks::ticket_id,
            clock_marks::kind,
            clock_marks::due,
            clock_marks::day,
        ))
        .load::<MarkKey>(conn)?
        .into_iter()
        .collect())
}

/// The tickets `ids` again, still due at `now`, locked for their events (on PostgreSQL
/// `FOR UPDATE`: it waits for another process's pass instead of skipping).
fn relock(conn: &mut DbConnection, ids: &[String], now: i64) -> Result<Vec<TicketRow>, ApiError> {
    macro_rules! query {
        () => {
            tickets::table
                .filter(tickets::id.eq_any(ids))
                .filter(tickets::next_clock_at.le(now))
                .order(tickets::id)
                .select(TicketRow::as_select())
        };
    }
    Ok(match conn {
        DbConnection::Pg(pg) => query!().for_update().load(pg)?,
        DbConnection::Sqlite(c) => query!().load(c)?,
    })
}

/// Run one pass at the clock's `now` over the tickets whose `next_clock_at` has passed.
pub fn run_pass(conn: &mut DbConnection, st: &AppState) -> Result<PassReport, ApiError> {
    let now = st.clock.now_ms();
    let mut report = PassReport::default();
    // Nothing due: these indexed reads are the whole pass (no write lock, no catalog).
    let tickets_due = !due(conn, now, false)?.is_empty();
    let orders_due = hazards::any_due(conn, now)?;
    if !tickets_due && !orders_due {
        return Ok(report);
    }
    let tz = st.config.timezone.clone();
    let catalog = st.catalog.get(conn, &tz)?;
    if orders_due {
        hazards::run_pass(conn, st, &catalog, now, &mut report)?;
    }
    if !tickets_due {
        return Ok(report);
    }
    loop {
        // First the batch without the sync counter: a ticket whose effects all happened already
        // (the common case: every event sets the instant to 0, to be recomputed) only gets its
        // next instant, and the batch holds the rows it read and nothing every writer needs.
        let (n, eventful) = st.db.background_tx(conn, |conn| {
            let batch = due(conn, now, true)?;
            let planned: Vec<(TicketRow, Vec<Effect>)> = batch
                .into_iter()
                .map(|t| {
                    let e = effects(st, &catalog, &t, now);
                    (t, e)
                })
                .collect();
            let with_effects: Vec<&str> = planned
                .iter()
                .filter(|(_, e)| !e.is_empty())
                .map(|(t, _)| t.id.as_str())
                .collect();
            let marks = marked(conn, &with_effects)?;
            let mut eventful = Vec::new();
            for (t, effects) in &planned {
                if !effects.iter().all(|e| marks.contains(&e.mark_key(t))) {
                    eventful.push(t.id.clone());
                    continue;
                }
                diesel::update(tickets::table.find(&t.id))
                    .set(tickets::next_clock_at.eq(next::instant(st, &catalog, t, now)))
                    .execute(conn)?;
            }
            Ok((planned.len(), eventful))
        })?;
        // Then the tickets with an event to record, in a transaction of their own: the sync
        // counter before the ticket rows (the order of a device push), as the events write the
        // tickets' synced copies.
        if !eventful.is_empty() {
            st.db.background_tx(conn, |conn| {
                crate::sync::store::lock_counter(conn)?;
                for t in relock(conn, &eventful, now)? {
                    let due_now = effects(st, &catalog, &t, now);
                    let closed = process(conn, st, &catalog, &t, &due_now, now, &mut report)?;
                    let at = if closed {
                        next::NEVER
                    } else {
                        next::instant(st, &catalog, &t, now)
                    };
                    diesel::update(tickets::table.find(&t.id))
                        .set(tickets::next_clock_at.eq(at))
                        .execute(conn)?;
                }
                Ok(())
            })?;
        }
        report.examined += n as u32;
        if (n as i64) < BATCH {
            break;
        }
    }
    Ok(report)
}

/// The background loop: a pass every `interval`.
pub async fn worker(state: AppState, interval: Duration) {
    loop {
        let st = state.clone();
        let db: Db = state.db.clone();
        if let Err(e) = db.run(move |conn| run_pass(conn, &st)).await {
            tracing::warn!(error = %e, "clock pass failed");
        }
        tokio::time::sleep(interval).await;
    }
}

/// `POST /api/v1/admin/clocks/run`: run one pass now (admins; for operations and tests).
#[utoipa::path(post, path = "/api/v1/admin/clocks/run", tag = "clocks",
    responses((status = 200, description = "What the pass did: reminders, escalations, auto-closes", body = PassReport)),
    security(("bearer" = [])))]
pub async fn run_now(
    state: actix_web::web::Data<AppState>,
    _auth: crate::auth::Authed<crate::auth::policy::AdminOnly>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let st: AppState = state.get_ref().clone();
    let report = state.db.run(move |conn| run_pass(conn, &st)).await?;
    Ok(actix_web::HttpResponse::Ok().json(report))
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(run_now))]
pub struct ApiDoc;

/// Mounts the clock admin endpoints.
pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.route(
        "/api/v1/admin/clocks/run",
        actix_web::web::post().to(run_now),
    );
}
