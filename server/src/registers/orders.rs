//! The office side of a hazard's rectification order (整改通知): its state with the actions
//! taken and the clock's reminders and escalations, and the office actions (rectify with
//! photos, verify, return, request or decide an extension). An office action is a
//! `hazard_action` record pushed as the office user through sync's push
//! ([`super::write::push_office`]), so the rules of [`crate::sync::hazard_action`] hold exactly as
//! for a device, and devices pull the action and the hazard's new state.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use anju_shared::protocol::MutationOutcome;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::answers::{ClockEvent, OrderState, Pushed};
use super::query;
use super::write::{Edit, OfficeAuthor, push_office_checked};
use crate::auth::Principal;
use crate::auth::scope::scope_of;
use crate::clocks::schema::hazard_clock_events;
use crate::error::{ApiError, ErrorCode};
use crate::http::ids::RecordId;
use crate::state::AppState;

fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::RecordNotFound,
        "没有这条记录，或不在您的管辖范围内",
        "no such record, or not in your scope",
    )
}

/// `GET /api/v1/registers/hazard/{id}/order`: the order's state (status, round, deadline,
/// overdue, pending extension), its actions in the order taken, and the clock's reminders and
/// escalations. 404 when the caller's scope does not see the hazard.
#[utoipa::path(get, path = "/api/v1/registers/hazard/{id}/order", tag = "registers", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = OrderState), (status = 404, description = "record_not_found")))]
pub async fn order_state(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<RecordId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().to_string();
    let st = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let scope = scope_of(conn, &principal)?;
            let (h, _) = query::record(conn, &id, &scope)?.ok_or_else(not_found)?;
            if h.record.record_type != "hazard" || h.record.deleted {
                return Err(not_found());
            }
            let me: BTreeSet<String> = [id.clone()].into();
            let mut actions: Vec<Value> =
                query::linked(conn, "hazard_action", "hazard_id", &me, &scope)?
                    .into_iter()
                    .map(|a| {
                        let mut v = json!(a.values);
                        v["id"] = json!(a.record.id);
                        v["author"] =
                            json!(a.record.fields.get("action").map(|f| f.author.clone()));
                        v["version"] = json!(a.record.version);
                        v
                    })
                    .collect();
            actions.sort_by_key(|a| a["version"].as_i64().unwrap_or(0));
            let events: Vec<(String, String, String, i64, String, i64)> =
                hazard_clock_events::table
                    .filter(hazard_clock_events::hazard_id.eq(&id))
                    .order(hazard_clock_events::created_at.asc())
                    .select((
                        hazard_clock_events::kind,
                        hazard_clock_events::deadline,
                        hazard_clock_events::day,
                        hazard_clock_events::round,
                        hazard_clock_events::to_units,
                        hazard_clock_events::created_at,
                    ))
                    .load(conn)?;
            let clock_events: Vec<ClockEvent> = events
                .into_iter()
                .map(|(kind, deadline, day, round, to, at)| ClockEvent {
                    kind,
                    deadline,
                    day,
                    round,
                    to_units: serde_json::from_str(&to).unwrap_or(Value::Null),
                    at: crate::clock::format_local(at, &st.config.timezone),
                })
                .collect();
            let now = st.clock.now_ms();
            // The check of the current rectification's photos, with each photo's distance for
            // staff (never a position).
            let rectified_ms = h
                .text("rectified_at")
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .map(|t| t.as_millisecond());
            let proof = match rectified_ms {
                Some(at) => crate::sync::hazard_proof::summary(conn, &id, at)?,
                None => None,
            };
            let text = |f: &str| h.text(f).map(str::to_owned);
            Ok(OrderState {
                status: h.text("status").unwrap_or("open").to_owned(),
                round: h.values.get("round").and_then(Value::as_i64).unwrap_or(0),
                order_no: text("order_no"),
                order_issued_on: text("order_issued_on"),
                deadline: text("deadline"),
                responsible_person: text("responsible_person"),
                extension_requested: text("extension_requested"),
                return_reason: text("return_reason"),
                overdue: crate::clocks::hazards::overdue(&st, &h.record, now),
                proof,
                actions,
                clock_events,
                hazard_id: id,
                version: h.record.version,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Body of an office action on a hazard's order.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderAction {
    /// `rectify`, `verify`, `return`, `request_extension` or `decide_extension`.
    pub action: String,
    /// Rectification note, return reason or extension reason.
    #[serde(default)]
    pub note: Option<String>,
    /// SHA-256 of photos uploaded before (`POST /api/v1/attachments`).
    #[serde(default)]
    pub photos: Vec<String>,
    /// For `request_extension`: the date asked for (YYYY-MM-DD).
    #[serde(default)]
    pub requested_deadline: Option<String>,
    /// For `decide_extension`: `approve` or `refuse`.
    #[serde(default)]
    pub decision: Option<String>,
}

fn status_of(code: &str) -> StatusCode {
    match code {
        "out_of_scope"
        | "not_responsible_unit"
        | "checker_role_required"
        | "supervisor_required" => StatusCode::FORBIDDEN,
        "hazard_not_in_state" | "extension_pending" | "no_extension_pending" => {
            StatusCode::CONFLICT
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// `POST /api/v1/registers/hazard/{id}/actions`: an office action on the order, as a
/// `hazard_action` pushed through sync (the rules are the same as a device's). The answer is
/// the action's id and push result; a refusal is its stable code (403 role or unit, 409 state,
/// 422 missing evidence or bad value) and nothing is applied.
#[utoipa::path(post, path = "/api/v1/registers/hazard/{id}/actions", tag = "registers", params(("id" = uuid::Uuid, Path)), request_body = OrderAction, responses((status = 200, body = Pushed), (status = 403, description = "not_responsible_unit, checker_role_required, supervisor_required"), (status = 409, description = "hazard_not_in_state"), (status = 422, description = "rectification_photos_required, return_reason_required, …")))]
pub async fn order_action(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<RecordId>,
    body: web::Json<OrderAction>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().to_string();
    let body = body.into_inner();
    let now = state.clock.now_ms();
    let sync = state.sync.clone();
    let proof = crate::sync::hazard_proof::ProofRules {
        tz: state.config.timezone.clone(),
        max_distance_m: f64::from(state.config.proof_max_distance_m),
    };
    let action_id = Uuid::now_v7();
    let acted_at = jiff::Timestamp::from_millisecond(now)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let result = state
        .db
        .write(move |conn| {
            let scope = scope_of(conn, &principal)?;
            let (h, _) = query::record(conn, &id, &scope)?.ok_or_else(not_found)?;
            if h.record.record_type != "hazard" || h.record.deleted {
                return Err(not_found());
            }
            let mut fields = BTreeMap::new();
            fields.insert("hazard_id".into(), json!(id));
            fields.insert("unit_id".into(), json!(h.text("unit_id")));
            fields.insert("area_id".into(), json!(h.text("area_id")));
            fields.insert("action".into(), json!(body.action));
            fields.insert("acted_at".into(), json!(acted_at));
            if let Some(n) = body.note.filter(|n| !n.trim().is_empty()) {
                fields.insert("note".into(), json!(n));
            }
            if !body.photos.is_empty() {
                fields.insert("photos".into(), json!({"add": body.photos}));
            }
            if let Some(d) = body.requested_deadline {
                fields.insert("requested_deadline".into(), json!(d));
            }
            if let Some(d) = body.decision {
                fields.insert("decision".into(), json!(d));
            }
            let author = OfficeAuthor {
                user_id: Some(principal.user_id.clone()),
                role: principal.role.as_str().to_owned(),
                unit_id: principal.unit_id.clone(),
                label: principal.display_name.clone(),
            };
            let edit = Edit {
                record_type: "hazard_action".into(),
                record_id: action_id,
                base_version: None,
                fields,
            };
            let mut results = push_office_checked(
                conn,
                sync.as_ref().into(),
                Some(&proof),
                &scope,
                &author,
                vec![edit],
                now,
            )?;
            results
                .pop()
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("push answered nothing")))
        })
        .await?;
    match &result.outcome {
        MutationOutcome::Rejected {
            code,
            message_zh,
            message_en,
        } => Err(ApiError::relay(
            status_of(code),
            code.clone(),
            message_zh.clone(),
            message_en.clone(),
        )),
        _ => Ok(HttpResponse::Ok().json(Pushed {
            id: action_id,
            result,
        })),
    }
}

/// Mounts the order endpoints (before the generic record routes).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/registers/hazard/{id}/order",
        web::get().to(order_state),
    )
    .route(
        "/api/v1/registers/hazard/{id}/actions",
        web::post().to(order_action),
    );
}
