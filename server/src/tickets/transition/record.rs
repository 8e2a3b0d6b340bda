//! The one writer of a ticket's history: [`record_event`] appends an event with everything that
//! goes with it in the same transaction (clocks, aggregates, the synced copy), in the one lock
//! order; [`notify`] queues a change's outbox messages.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::tickets::copies::DueCopy;
use crate::tickets::schema::{ticket_events, tickets};
use crate::tickets::store::{self, NewEvent, TicketRow, is_public_kind};

use super::Env;

/// Append `event` to the ticket's history: the one function that writes `ticket_events`. The
/// table is append-only: nothing in the server updates or deletes its rows. In the same
/// transaction the clocks reconsider the ticket, the per-day aggregates take the event
/// ([`crate::tickets::aggregates::TicketAggregates::on_event`] of `env.aggregates`) and the
/// ticket's synced copy is rewritten ([`crate::tickets::copies::TicketCopies::refresh`] of
/// `env.copies`, which reads the ticket row: write the ticket's new state before its event). On
/// PostgreSQL the ticket's row is locked first, so the events of one ticket are inserted and
/// aggregated one transaction at a time, in id order.
pub fn record_event(
    conn: &mut DbConnection,
    env: &Env<'_>,
    event: NewEvent,
) -> Result<(), ApiError> {
    record(conn, env, None, event)
}

/// [`record_event`]; `new` is the ticket when `event` is the first event of a ticket inserted
/// in this transaction (nothing to lock, no earlier events to read for the aggregates).
pub(super) fn record(
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
        // (`deferred`) takes the counter at its end, in [`super::Deferred::finish`].
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
        Some(t) => env.aggregates.on_first_event(env, t, &event, conn)?,
        None => env.aggregates.on_event(conn, env, &event.ticket_id)?,
    }
    // The ticket's copy on the handling unit's devices (a server-authored sync change).
    match env.deferred {
        Some(d) => d.synced.borrow_mut().push(DueCopy {
            ticket_id: event.ticket_id.clone(),
            at: event.at,
            opened: new.is_some(),
        }),
        None => env.copies.refresh(conn, &event.ticket_id, event.at)?,
    }
    Ok(())
}

/// Queues an outbox message about `ticket` to `units`, with the change's links and instant.
pub(super) fn notify(
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
