//! The staff view of a ticket (`GET /api/v1/tickets/{id}`): its facts, events and the actions
//! this user may take now.

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::auth::{Authed, Principal, policy};
use crate::clock::format_local;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::org::catalog::Catalog;
use crate::state::AppState;
use crate::tickets::schema::extension_requests;

use super::state::allowed_actions;
use super::store::{self, TicketRow};
use super::transition::{actor_for, can_see, ticket_not_found};

pub(crate) fn category_json(catalog: &Catalog, code: &str) -> Value {
    match catalog.categories.get(code) {
        Some(c) => {
            json!({"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "needs_photo_proof": c.needs_photo_proof})
        }
        None => json!({"code": code}),
    }
}

pub(crate) fn area_json(catalog: &Catalog, area_id: Option<&str>) -> Value {
    area_id
        .and_then(|a| catalog.areas.get(a))
        .map(|a| json!({"id": a.id, "name_zh": a.name_zh, "name_en": a.name_en}))
        .unwrap_or(Value::Null)
}

/// The staff view of a ticket (as `GET /api/v1/tickets/{id}` answers).
pub fn ticket_view(
    conn: &mut DbConnection,
    catalog: &Catalog,
    p: &Principal,
    t: &TicketRow,
    tz: &jiff::tz::TimeZone,
) -> Result<Value, ApiError> {
    let actor = actor_for(conn, p, t)?;
    let actions = allowed_actions(&actor, &t.facts());
    let events: Vec<Value> = store::events(conn, &t.id)?
        .into_iter()
        .map(|e| {
            json!({
                "id": e.id,
                "at": format_local(e.at, tz),
                "kind": e.kind,
                "actor": match e.actor_kind.as_str() {
                    "staff" => json!({"kind": "staff", "name": e.actor_name}),
                    other => json!({"kind": other}),
                },
                "unit": store::unit_json(catalog, e.unit_id.as_deref(), true),
                "text": e.body,
                "public": e.public,
                "photos": store::photo_urls(&e.photos),
                "from_status": e.from_status,
                "to_status": e.to_status,
                "reason": e.reason,
                "rating": e.rating,
                "new_due": e.resolution_due.map(|d| format_local(d, tz)),
                "data": e.data.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()),
            })
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
    let reporter = if t.reporter_name.is_some() || t.reporter_phone.is_some() {
        json!({"name": t.reporter_name, "phone": t.reporter_phone})
    } else {
        Value::Null
    };
    let proof = match t.resolved_at {
        Some(at) => super::proof::summary(conn, &t.id, at, true)?,
        None => None,
    };
    Ok(json!({
        "id": t.id,
        "proof": proof,
        "ticket_no": t.ticket_no,
        "status": t.status,
        "source": t.source,
        "category": category_json(catalog, &t.category_code),
        "description": t.description,
        "address": t.address,
        "area": area_json(catalog, t.area_id.as_deref()),
        "lat": t.lat,
        "lon": t.lon,
        "unit": store::unit_json(catalog, t.unit_id.as_deref(), true),
        "route": serde_json::from_str::<Value>(&t.route_note).unwrap_or(Value::Null),
        "reporter": reporter,
        "photos": store::photo_urls(&t.photos),
        "created_at": format_local(t.created_at, tz),
        "response_due": format_local(t.response_due, tz),
        "resolution_due": format_local(t.resolution_due, tz),
        "supporters": t.supporters,
        "disputes": t.disputes,
        "pending_extension": pending.map(|(id, reason, due)| json!({"id": id, "reason": reason, "requested_due": format_local(due, tz)})),
        "events": events,
        "actions": actions,
    }))
}

/// `GET /api/v1/tickets/{id}`.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = String, Path)), responses((status = 200, description = "The staff view with events and the actions this user may take")), security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let id = path.into_inner();
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
