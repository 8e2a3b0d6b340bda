//! Events that leave the ticket's status as it is: a resident's "me too" ([`add_supporter`]) and
//! the clocks' reminders and escalations ([`remark`]).

use diesel::prelude::*;
use serde_json::Value;

use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::tickets::schema::tickets;
use crate::tickets::store::{self, NewEvent, TicketRow};

use super::Env;
use super::access::ticket_not_found;
use super::record::{notify, record_event};

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
