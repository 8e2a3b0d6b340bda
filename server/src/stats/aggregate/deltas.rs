//! The rule of a ticket change: what its newest event (or its new row) adds to the per-day
//! aggregates, `contribution(after) − contribution(before)`, written now or gathered by the
//! caller's batch.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::org::catalog::Catalog;
use crate::tickets::schema::{ticket_events, tickets};

use super::super::daily::{
    AggEvent, BoardTicket, Contribution, TicketKey, board_rows, contribution,
};
use super::city_day;
use super::upsert::write;

pub(super) type EventTuple = (
    i64,
    String,
    Option<String>,
    String,
    Option<i32>,
    Option<i64>,
    Option<i64>,
);

pub(super) fn agg_event((at, kind, unit_id, to_status, rating, rd, sd): EventTuple) -> AggEvent {
    AggEvent {
        at,
        kind,
        unit_id,
        to_status,
        rating,
        response_due: rd,
        resolution_due: sd,
    }
}

pub(super) fn ticket_key(
    catalog: &Catalog,
    (created_at, area_id, category_code): (i64, Option<String>, String),
) -> TicketKey {
    let district_id = area_id
        .as_deref()
        .and_then(|a| catalog.district_of(a))
        .map(|d| d.id.clone())
        .unwrap_or_default();
    TicketKey {
        created_at,
        district_id,
        category_code,
    }
}

/// Adds the last recorded event of `ticket_id` to the aggregates, in the event's transaction:
/// `contribution(all events) − contribution(all but the last)`, written as additive upserts.
/// The caller holds the ticket's row lock on PostgreSQL (taken before the event was inserted, so
/// the event is the ticket's newest) and the write lock on SQLite. With `env.deferred` set the
/// change is gathered there for the caller to write. A new ticket's first event goes through
/// [`on_first_event`] instead, which reads nothing.
pub fn on_event(
    conn: &mut DbConnection,
    env: &crate::tickets::transition::Env<'_>,
    ticket_id: &str,
) -> Result<(), ApiError> {
    let (catalog, tz) = (env.catalog, env.tz);
    let Some(t): Option<(i64, Option<String>, String)> = tickets::table
        .find(ticket_id)
        .select((
            tickets::created_at,
            tickets::area_id,
            tickets::category_code,
        ))
        .first(conn)
        .optional()?
    else {
        return Ok(());
    };
    let key = ticket_key(catalog, t);
    let events: Vec<AggEvent> = ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket_id))
        .order(ticket_events::id)
        .select(event_columns())
        .load::<EventTuple>(conn)?
        .into_iter()
        .map(agg_event)
        .collect();
    let Some((_, before)) = events.split_last() else {
        return Ok(());
    };
    let day = |ms: i64| city_day(tz, ms);
    let mut delta = contribution(&key, &events, &day);
    delta.add(&contribution(&key, before, &day), -1);
    emit(conn, env, &delta)
}

/// Adds the first event of a ticket inserted in this transaction (`tickets::transition::open`):
/// the same change as [`on_event`] (the contribution of a one-event history; there is nothing
/// before it), computed from the caller's ticket row and event without reading anything.
pub fn on_first_event(
    env: &crate::tickets::transition::Env<'_>,
    ticket: &crate::tickets::store::TicketRow,
    event: &crate::tickets::store::NewEvent,
    conn: &mut DbConnection,
) -> Result<(), ApiError> {
    let key = ticket_key(
        env.catalog,
        (
            ticket.created_at,
            ticket.area_id.clone(),
            ticket.category_code.clone(),
        ),
    );
    let first = AggEvent {
        at: event.at,
        kind: event.kind.clone(),
        unit_id: event.unit_id.clone(),
        to_status: event.to_status.clone(),
        rating: event.rating,
        response_due: event.response_due,
        resolution_due: event.resolution_due,
    };
    let delta = contribution(&key, &[first], &|ms| city_day(env.tz, ms));
    emit(conn, env, &delta)
}

/// Writes `delta` now, or leaves it to the caller's [`crate::tickets::transition::Deferred`].
fn emit(
    conn: &mut DbConnection,
    env: &crate::tickets::transition::Env<'_>,
    delta: &Contribution,
) -> Result<(), ApiError> {
    match env.deferred {
        Some(d) => {
            d.gather(delta);
            Ok(())
        }
        None => write(conn, delta),
    }
}

/// Moves the ticket from its old place in the board's counts (`before`: the row before the
/// change, none for a new ticket) to its new one (`after`), in the change's transaction
/// (`tickets::transition::open` and `apply`, the only writers of a ticket's status, unit,
/// community and category). Nothing is read: both rows are the caller's. With `env.deferred` set
/// the change is gathered there for the caller to write, as for [`on_event`].
pub fn on_ticket_change(
    conn: &mut DbConnection,
    env: &crate::tickets::transition::Env<'_>,
    before: Option<&crate::tickets::store::TicketRow>,
    after: &crate::tickets::store::TicketRow,
) -> Result<(), ApiError> {
    let day = |ms: i64| city_day(env.tz, ms);
    let rows = |t: &crate::tickets::store::TicketRow| board_rows(&day, board_ticket(t));
    let mut delta = rows(after);
    if let Some(b) = before {
        delta.add(&rows(b), -1);
    }
    if delta.is_empty() {
        return Ok(());
    }
    emit(conn, env, &delta)
}

fn board_ticket(t: &crate::tickets::store::TicketRow) -> BoardTicket<'_> {
    BoardTicket {
        created_at: t.created_at,
        unit_id: t.unit_id.as_deref(),
        area_id: t.area_id.as_deref(),
        category_code: &t.category_code,
        status: &t.status,
    }
}

pub(super) fn event_columns() -> (
    ticket_events::at,
    ticket_events::kind,
    ticket_events::unit_id,
    ticket_events::to_status,
    ticket_events::rating,
    ticket_events::response_due,
    ticket_events::resolution_due,
) {
    (
        ticket_events::at,
        ticket_events::kind,
        ticket_events::unit_id,
        ticket_events::to_status,
        ticket_events::rating,
        ticket_events::response_due,
        ticket_events::resolution_due,
    )
}
