//! The staff view of a ticket (`GET /api/v1/tickets/{id}`): its facts, events and the actions
//! this user may take now.

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::{Authed, Principal, policy};
use crate::clock::format_local;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::ids::TicketId;
use crate::org::catalog::Catalog;
use crate::state::AppState;
use crate::tickets::schema::extension_requests;

use super::proof::ProofSummary;
use super::state::{TicketStatus, allowed_actions};
use super::store::{self, TicketRow, UnitRef};
use super::transition::{actor_for, can_see, ticket_not_found};

/// A category as ticket views name it: the code, and its names when the catalog knows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryRef {
    /// The category code.
    pub code: String,
    /// Chinese name (absent for a code the catalog no longer knows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_zh: Option<String>,
    /// English name (absent for a code the catalog no longer knows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// Whether resolving needs after-photos (absent for an unknown code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_photo_proof: Option<bool>,
}

/// An area as ticket views name it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AreaRef {
    /// Area id.
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// The category `code` as views show it.
pub fn category_ref(catalog: &Catalog, code: &str) -> CategoryRef {
    match catalog.categories.get(code) {
        Some(c) => CategoryRef {
            code: c.code.clone(),
            name_zh: Some(c.name_zh.clone()),
            name_en: Some(c.name_en.clone()),
            needs_photo_proof: Some(c.needs_photo_proof),
        },
        None => CategoryRef {
            code: code.to_string(),
            name_zh: None,
            name_en: None,
            needs_photo_proof: None,
        },
    }
}

/// The area `area_id` as views show it, or `None` when unset or unknown.
pub fn area_ref(catalog: &Catalog, area_id: Option<&str>) -> Option<AreaRef> {
    area_id.and_then(|a| catalog.areas.get(a)).map(|a| AreaRef {
        id: a.id.clone(),
        name_zh: a.name_zh.clone(),
        name_en: a.name_en.clone(),
    })
}

/// The staff view of a ticket (`GET /api/v1/tickets/{id}` and every staff action's answer).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffTicket {
    /// Ticket id.
    pub id: String,
    /// The verdict on the resolution's proof photos; null before a resolution or without them.
    #[schema(required = true)]
    pub proof: Option<ProofSummary>,
    /// Public ticket number.
    pub ticket_no: String,
    /// Status.
    #[schema(value_type = TicketStatus)]
    pub status: String,
    /// How it came in (`web`, `hotline`, `open311`, …).
    pub source: String,
    /// Category.
    pub category: CategoryRef,
    /// The resident's description.
    pub description: String,
    /// Address given.
    #[schema(required = true)]
    pub address: Option<String>,
    /// Area, when known.
    #[schema(required = true)]
    pub area: Option<AreaRef>,
    /// Latitude.
    #[schema(required = true)]
    pub lat: Option<f64>,
    /// Longitude.
    #[schema(required = true)]
    pub lon: Option<f64>,
    /// The unit it is with, null while unassigned.
    #[schema(required = true)]
    pub unit: Option<UnitRef>,
    /// How it was routed (the routing note as recorded), null when unreadable.
    #[schema(value_type = Option<Object>, required = true)]
    pub route: Value,
    /// Who reported it, null when anonymous.
    #[schema(required = true)]
    pub reporter: Option<Reporter>,
    /// Photo URLs.
    pub photos: Vec<String>,
    /// When it was filed (local time, RFC 3339).
    pub created_at: String,
    /// Response deadline.
    pub response_due: String,
    /// Resolution deadline.
    pub resolution_due: String,
    /// Residents who said "me too".
    pub supporters: i32,
    /// Times residents disputed a resolution.
    pub disputes: i32,
    /// The extension request waiting for a decision.
    #[schema(required = true)]
    pub pending_extension: Option<PendingExtension>,
    /// The history, oldest first.
    pub events: Vec<TicketEvent>,
    /// The actions this user may take now.
    pub actions: Vec<&'static str>,
}

/// The reporter's contact (staff only).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reporter {
    /// Name.
    #[schema(required = true)]
    pub name: Option<String>,
    /// Phone.
    #[schema(required = true)]
    pub phone: Option<String>,
}

/// An extension request waiting for a decision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingExtension {
    /// Request id.
    pub id: String,
    /// Why.
    pub reason: String,
    /// Requested resolution deadline.
    pub requested_due: String,
}

/// One event of a ticket's history as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketEvent {
    /// Sequence id.
    pub id: i64,
    /// When (local time, RFC 3339).
    pub at: String,
    /// Kind.
    pub kind: String,
    /// Who.
    pub actor: EventActor,
    /// The unit concerned.
    #[schema(required = true)]
    pub unit: Option<UnitRef>,
    /// Reply, result, note or comment text.
    #[schema(required = true)]
    pub text: Option<String>,
    /// Whether the resident sees it.
    pub public: bool,
    /// Photo URLs.
    pub photos: Vec<String>,
    /// Status before.
    #[schema(required = true)]
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: String,
    /// Reason (returns, extensions).
    #[schema(required = true)]
    pub reason: Option<String>,
    /// Rating (confirm/dispute).
    #[schema(required = true)]
    pub rating: Option<i32>,
    /// Resolution deadline this event set.
    #[schema(required = true)]
    pub new_due: Option<String>,
    /// Extra facts (rule, suggested unit, …).
    #[schema(value_type = Option<Object>, required = true)]
    pub data: Option<Value>,
}

/// Who made an event: `resident`, `system`, or `staff` with the staff member's name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventActor {
    /// `resident`, `staff` or `system`.
    pub kind: String,
    /// The staff member's display name (present for staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
}

/// The staff view of a ticket (as `GET /api/v1/tickets/{id}` answers).
pub fn ticket_view(
    conn: &mut DbConnection,
    catalog: &Catalog,
    p: &Principal,
    t: &TicketRow,
    tz: &jiff::tz::TimeZone,
) -> Result<StaffTicket, ApiError> {
    let actor = actor_for(conn, p, t)?;
    let actions = allowed_actions(&actor, &t.facts());
    let events = store::events(conn, &t.id)?
        .into_iter()
        .map(|e| TicketEvent {
            id: e.id,
            at: format_local(e.at, tz),
            actor: EventActor {
                name: (e.actor_kind == "staff").then_some(e.actor_name),
                kind: e.actor_kind,
            },
            kind: e.kind,
            unit: store::unit_ref(catalog, e.unit_id.as_deref(), true),
            text: e.body,
            public: e.public,
            photos: store::photo_urls(&e.photos),
            from_status: e.from_status,
            to_status: e.to_status,
            reason: e.reason,
            rating: e.rating,
            new_due: e.resolution_due.map(|d| format_local(d, tz)),
            data: e
                .data
                .as_deref()
                .and_then(|d| serde_json::from_str::<Value>(d).ok()),
        })
        .collect();
    let pending: Option<(String, String, i64)> = extension_requests::table
        .filter(extension_requests::ticket_id.eq(&t.id))
        .filter(extension_requests::status.eq("pending"))
        .select((
            extension_requests::id,
            extension_requests::reason,
            extension_requests::requested_due,
        ))
        .first(conn)
        .optional()?;
    let reporter = (t.reporter_name.is_some() || t.reporter_phone.is_some()).then(|| Reporter {
        name: t.reporter_name.clone(),
        phone: t.reporter_phone.clone(),
    });
    let proof = match t.resolved_at {
        Some(at) => super::proof::summary(conn, &t.id, at, true)?,
        None => None,
    };
    Ok(StaffTicket {
        id: t.id.clone(),
        proof,
        ticket_no: t.ticket_no.clone(),
        status: t.status.clone(),
        source: t.source.clone(),
        category: category_ref(catalog, &t.category_code),
        description: t.description.clone(),
        address: t.address.clone(),
        area: area_ref(catalog, t.area_id.as_deref()),
        lat: t.lat,
        lon: t.lon,
        unit: store::unit_ref(catalog, t.unit_id.as_deref(), true),
        route: serde_json::from_str::<Value>(&t.route_note).unwrap_or(Value::Null),
        reporter,
        photos: store::photo_urls(&t.photos),
        created_at: format_local(t.created_at, tz),
        response_due: format_local(t.response_due, tz),
        resolution_due: format_local(t.resolution_due, tz),
        supporters: t.supporters,
        disputes: t.disputes,
        pending_extension: pending.map(|(id, reason, due)| PendingExtension {
            id,
            reason,
            requested_due: format_local(due, tz),
        }),
        events,
        actions,
    })
}

/// `GET /api/v1/tickets/{id}`.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "The staff view with events and the actions this user may take", body = StaffTicket)), security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    path: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let id = path.into_inner().to_string();
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let tz = st.config.timezone.clone();
            let catalog = st.catalog.get(conn, &tz)?;
            let t = store::find(conn, &id)?.ok_or_else(ticket_not_found)?;
            if !can_see(conn, &p, &t)? {
                return Err(crate::auth::principal::not_your_unit());
            }
            ticket_view(conn, &catalog, &p, &t, &tz)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}
