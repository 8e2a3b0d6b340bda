//! Ticket rows and their queries, the append-only event history's rows, and the outbox
//! messages about a ticket. Changes go through [`super::transition`].

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::notify::outbox;
use crate::org::catalog::Catalog;
use crate::tickets::schema::{ticket_events, tickets};

use super::state::{TicketFacts, TicketStatus};

/// A ticket as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tickets)]
pub struct TicketRow {
    /// Id (UUID).
    pub id: String,
    /// Public number, e.g. `2026-000123`.
    pub ticket_no: String,
    /// The resident's secret code (canonical form).
    pub tracking_code: String,
    /// `web` or `open311`.
    pub source: String,
    /// Category code.
    pub category_code: String,
    /// What the resident wrote.
    pub description: String,
    /// Free address text.
    pub address: Option<String>,
    /// The area (community) it is in.
    pub area_id: Option<String>,
    /// Latitude given by the resident.
    pub lat: Option<f64>,
    /// Longitude given by the resident.
    pub lon: Option<f64>,
    /// Name for callbacks (staff only).
    pub reporter_name: Option<String>,
    /// Phone for callbacks (staff only).
    pub reporter_phone: Option<String>,
    /// JSON array of upload ids.
    pub photos: String,
    /// Status name.
    pub status: String,
    /// Holding unit (the dispatch center while `dispatching`).
    pub unit_id: Option<String>,
    /// The routing rule that decided, if one did.
    pub route_rule_id: Option<String>,
    /// Why it went where it went (JSON).
    pub route_note: String,
    /// Start of the current deadline clocks.
    pub clock_start: i64,
    /// Response (签收) deadline, ms.
    pub response_due: i64,
    /// Resolution (办结) deadline, ms.
    pub resolution_due: i64,
    /// First acceptance of the current round.
    pub accepted_at: Option<i64>,
    /// Last resolution.
    pub resolved_at: Option<i64>,
    /// When it closed.
    pub closed_at: Option<i64>,
    /// Disputes so far.
    pub disputes: i32,
    /// Whether an extension request waits.
    pub extension_pending: bool,
    /// "Me too" count.
    pub supporters: i32,
    /// Resident's last rating.
    pub rating: Option<i32>,
    /// Resident's last comment.
    pub rating_comment: Option<String>,
    /// When rated.
    pub rated_at: Option<i64>,
    /// Filed at.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

impl TicketRow {
    /// Parsed status (unknown names read as `dispatching`, which only a dispatcher can move).
    pub fn status(&self) -> TicketStatus {
        TicketStatus::parse(&self.status).unwrap_or(TicketStatus::Dispatching)
    }

    /// What the state machine needs.
    pub fn facts(&self) -> TicketFacts<'_> {
        TicketFacts {
            status: self.status(),
            unit_id: self.unit_id.as_deref(),
            disputes: u32::try_from(self.disputes).unwrap_or(0),
            extension_pending: self.extension_pending,
        }
    }

    /// Upload ids of the resident's photos.
    pub fn photo_ids(&self) -> Vec<String> {
        serde_json::from_str(&self.photos).unwrap_or_default()
    }
}

/// An event as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ticket_events)]
pub struct EventRow {
    /// Sequence id.
    pub id: i64,
    /// Ticket.
    pub ticket_id: String,
    /// When.
    pub at: i64,
    /// Kind.
    pub kind: String,
    /// `resident`, `staff` or `system`.
    pub actor_kind: String,
    /// Staff user id.
    pub actor_user_id: Option<String>,
    /// Staff display name (staff views only).
    pub actor_name: Option<String>,
    /// The unit concerned.
    pub unit_id: Option<String>,
    /// Reply, result, note or comment text.
    pub body: Option<String>,
    /// Whether the resident sees it.
    pub public: bool,
    /// JSON array of upload ids.
    pub photos: String,
    /// Status before.
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: String,
    /// Reason (returns, extensions).
    pub reason: Option<String>,
    /// Rating (confirm/dispute).
    pub rating: Option<i32>,
    /// Response deadline this event set.
    pub response_due: Option<i64>,
    /// Resolution deadline this event set.
    pub resolution_due: Option<i64>,
    /// Extra JSON (rule, suggested unit, …).
    pub data: Option<String>,
}

/// A new event to append.
#[derive(Debug, Clone, Default, Insertable)]
#[diesel(table_name = ticket_events)]
pub struct NewEvent {
    /// Ticket.
    pub ticket_id: String,
    /// When.
    pub at: i64,
    /// Kind.
    pub kind: String,
    /// `resident`, `staff` or `system`.
    pub actor_kind: String,
    /// Staff user id.
    pub actor_user_id: Option<String>,
    /// Staff display name.
    pub actor_name: Option<String>,
    /// Unit concerned.
    pub unit_id: Option<String>,
    /// Text.
    pub body: Option<String>,
    /// Public?
    pub public: bool,
    /// JSON array of upload ids.
    pub photos: String,
    /// Status before.
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: String,
    /// Reason.
    pub reason: Option<String>,
    /// Rating.
    pub rating: Option<i32>,
    /// Response deadline set.
    pub response_due: Option<i64>,
    /// Resolution deadline set.
    pub resolution_due: Option<i64>,
    /// Extra JSON.
    pub data: Option<String>,
}

/// Whether events of `kind` are shown to the resident (公开). Internal notes, extension
/// requests and refusals, reminders and escalations to supervisors are not.
pub fn is_public_kind(kind: &str) -> bool {
    !matches!(
        kind,
        "note" | "extension_requested" | "extension_refused" | "reminder" | "overdue"
    )
}

/// Load a ticket by id.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<TicketRow>, ApiError> {
    Ok(tickets::table
        .find(id)
        .select(TicketRow::as_select())
        .first(conn)
        .optional()?)
}

/// Load a ticket by id for update: on PostgreSQL the row is locked until the transaction ends,
/// so two concurrent actions on one ticket serialise and the second sees the first's result.
/// (SQLite transactions are already serial.) `copies` takes its lock first (see
/// [`super::copies::TicketCopies::lock`]).
pub fn find_for_update(
    conn: &mut DbConnection,
    copies: &dyn super::copies::TicketCopies,
    id: &str,
) -> Result<Option<TicketRow>, ApiError> {
    // The sync counter before the ticket, as a device push takes them (counter, then the ticket
    // its action names): every change writes the ticket's synced copy, and two transactions
    // taking the two locks in opposite orders would deadlock on PostgreSQL.
    copies.lock(conn)?;
    match conn {
        DbConnection::Pg(pg) => Ok(tickets::table
            .find(id)
            .select(TicketRow::as_select())
            .for_update()
            .first(pg)
            .optional()?),
        DbConnection::Sqlite(_) => find(conn, id),
    }
}

/// The events of a ticket, oldest first.
pub fn events(conn: &mut DbConnection, ticket_id: &str) -> Result<Vec<EventRow>, ApiError> {
    Ok(ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket_id))
        .order(ticket_events::id)
        .select(EventRow::as_select())
        .load(conn)?)
}

/// Marks the ticket's clocks (`next_clock_at`) for recomputation on the next clock pass
/// (`crate::clocks`). Called for every ticket event ([`super::transition::record_event`]), in
/// the event's transaction; writes nothing when the ticket is already marked. Here, with the
/// tickets' table, so that the ticket lifecycle does not reach up into the clocks.
pub fn reconsider_clocks(conn: &mut DbConnection, ticket_id: &str) -> Result<(), ApiError> {
    diesel::update(
        tickets::table
            .filter(tickets::id.eq(ticket_id))
            .filter(tickets::next_clock_at.ne(0)),
    )
    .set(tickets::next_clock_at.eq(0i64))
    .execute(conn)?;
    Ok(())
}

/// Set the status (and `updated_at`) of a ticket (for [`super::transition::apply`]).
pub fn set_status(
    conn: &mut DbConnection,
    id: &str,
    status: TicketStatus,
    now: i64,
) -> Result<(), ApiError> {
    diesel::update(tickets::table.find(id))
        .set((
            tickets::status.eq(status.as_str()),
            tickets::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Queue a notification about `ticket` to every target of `units` (deduplicated), in the
/// caller's transaction. Targets come from the catalog (cached for 2 s).
#[allow(clippy::too_many_arguments)] // the message's parts, each from a different place
pub fn notify(
    conn: &mut DbConnection,
    catalog: &Catalog,
    ticket: &TicketRow,
    units: &[Option<&str>],
    event: &str,
    title: &str,
    text: &str,
    tz: &jiff::tz::TimeZone,
    public_url: &str,
    now: i64,
) -> Result<(), ApiError> {
    let category = catalog
        .categories
        .get(&ticket.category_code)
        .map_or(ticket.category_code.clone(), |c| c.name_zh.clone());
    let mut seen: Vec<&str> = Vec::new();
    for u in units.iter().flatten() {
        if seen.contains(u) {
            continue;
        }
        seen.push(u);
        let unit_name = catalog
            .units
            .get(*u)
            .map_or(String::new(), |x| x.name_zh.clone());
        let message = crate::notify::format::Message {
            event: event.to_string(),
            ticket_no: ticket.ticket_no.clone(),
            category: category.clone(),
            community: ticket
                .area_id
                .as_ref()
                .and_then(|a| catalog.areas.get(a))
                .map_or(String::new(), |a| a.name_zh.clone()),
            unit: unit_name,
            title: title.to_string(),
            text: text.to_string(),
            resolution_due: crate::clock::format_local(ticket.resolution_due, tz),
            url: format!(
                "{}/console/tickets/{}",
                public_url.trim_end_matches('/'),
                ticket.id
            ),
        };
        let targets = catalog.targets.get(*u).map(Vec::as_slice).unwrap_or(&[]);
        outbox::enqueue_to(conn, u, targets, Some(&ticket.id), &message, now)?;
    }
    Ok(())
}

/// Parse a JSON array of upload ids into URLs.
pub fn photo_urls(json_ids: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(json_ids)
        .unwrap_or_default()
        .iter()
        .map(|id| crate::attachments::uploads::photo_url(id))
        .collect()
}

/// A unit as views name it; `id` is absent where the viewer is a resident.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UnitRef {
    /// Unit id (staff views only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Chinese (public) name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// The unit `unit_id` (with its id when `with_id`), or `None` when unset or unknown.
pub fn unit_ref(catalog: &Catalog, unit_id: Option<&str>, with_id: bool) -> Option<UnitRef> {
    unit_id.and_then(|u| catalog.units.get(u)).map(|u| UnitRef {
        id: with_id.then(|| u.id.clone()),
        name_zh: u.name_zh.clone(),
        name_en: u.name_en.clone(),
    })
}

/// `{id, name_zh, name_en}` of a unit, or null: [`unit_ref`] as JSON.
pub fn unit_json(catalog: &Catalog, unit_id: Option<&str>, with_id: bool) -> Value {
    json!(unit_ref(catalog, unit_id, with_id))
}
