//! A new ticket's first event: [`open`] inserts the ticket, records `submitted` and queues the
//! message to its unit, in the intake's transaction.

use diesel::prelude::*;
use serde_json::Value;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::tickets::schema::tickets;
use crate::tickets::state::TicketStatus;
use crate::tickets::store::{NewEvent, TicketRow};

use super::Env;
use super::record::{notify, record};

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
    env.aggregates.on_ticket_change(conn, env, None, ticket)?;
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
