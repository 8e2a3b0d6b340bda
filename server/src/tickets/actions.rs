//! The staff actions on one ticket, one handler each: parse the body at the edge into a
//! [`Change`], run it through [`transition::apply`] in one write transaction, answer the fresh
//! staff view.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::{Authed, Principal, policy};
use crate::error::{ApiError, FieldCode, FieldError};
use crate::http::ids::TicketId;
use crate::state::AppState;

use super::transition::{self, Change, Env, Mover};
use super::view::{StaffTicket, ticket_view};

/// Body of every action (fields as the action needs them).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ActionBody {
    /// Reply or note text.
    #[serde(default)]
    pub text: Option<String>,
    /// Resolution result (办结结果).
    #[serde(default)]
    pub result: Option<String>,
    /// After-photos (upload ids).
    #[serde(default)]
    pub photos: Option<Vec<String>>,
    /// Return or extension reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// Suggested unit on a return.
    #[serde(default)]
    pub suggested_unit_id: Option<String>,
    /// Requested new resolution deadline (RFC 3339).
    #[serde(default)]
    pub resolution_due: Option<String>,
    /// Target unit of a dispatch.
    #[serde(default)]
    pub unit_id: Option<String>,
    /// Ignored (the contract's `public: true` on replies).
    #[serde(default)]
    pub public: Option<bool>,
}

fn text_field(v: Option<&str>, field: &str, max: usize) -> Result<String, ApiError> {
    let t = v.map(str::trim).unwrap_or("");
    if t.is_empty() {
        return Err(FieldError::new(
            field.to_owned(),
            FieldCode::Required,
            "此项必填",
            "This field is required",
        )
        .into());
    }
    if t.chars().count() > max {
        return Err(FieldError::new(
            field.to_owned(),
            FieldCode::TooLong,
            format!("最多 {max} 个字"),
            format!("At most {max} characters"),
        )
        .into());
    }
    Ok(t.to_string())
}

fn body_of(body: Option<web::Json<ActionBody>>) -> ActionBody {
    body.map(web::Json::into_inner).unwrap_or_default()
}

/// Run `change` on ticket `id` for `p` in one write transaction; answers the fresh staff view.
async fn run(
    state: web::Data<AppState>,
    p: Principal,
    id: String,
    change: Change,
) -> Result<HttpResponse, ApiError> {
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let tz = st.config.timezone.clone();
            let catalog = st.catalog.get(conn, &tz)?;
            st.db.write_tx(conn, |conn| {
                let env = Env {
                    catalog: &catalog,
                    tz: &tz,
                    public_url: &st.config.public_url,
                    now: st.clock.now_ms(),
                    deferred: None,
                    copies: &*st.ticket_copies,
                    aggregates: &*st.ticket_aggregates,
                };
                let t = transition::apply(conn, &env, Mover::Staff(&p), &id, change, None)?;
                ticket_view(conn, &catalog, &p, &t, &tz)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /api/v1/tickets/{id}/accept` (签收).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/accept", tag = "tickets", params(("id" = uuid::Uuid, Path)), request_body(content = Option<ActionBody>, description = "No fields needed"), responses((status = 200, description = "The staff view after the action", body = StaffTicket), (status = 409, description = "ticket_not_in_state")), security(("bearer" = [])))]
pub async fn accept(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    path: web::Path<TicketId>,
    _body: Option<web::Json<ActionBody>>,
) -> Result<HttpResponse, ApiError> {
    run(state, auth.0, path.into_inner().to_string(), Change::Accept).await
}

/// `POST /api/v1/tickets/{id}/reply`: a public reply.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/reply", tag = "tickets", params(("id" = uuid::Uuid, Path)), request_body(content = ActionBody, description = "`text` (≤ 2000 characters)"), responses((status = 200, description = "The staff view after the action", body = StaffTicket), (status = 422, description = "validation_failed")), security(("bearer" = [])))]
pub async fn reply(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    path: web::Path<TicketId>,
    body: Option<web::Json<ActionBody>>,
) -> Result<HttpResponse, ApiError> {
    let text = text_field(body_of(body).text.as_deref(), "text", 2000)?;
    run(
        state,
        auth.0,
        path.into_inner().to_string(),
        Change::Reply { text },
    )
    .await
}

/// `POST /api/v1/tickets/{id}/note`: an internal note, never public.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/note", tag = "tickets", params(("id" = uuid::Uuid, Path)), request_body(content = ActionBody, description = "`text` (≤ 2000 characters)"), responses((status = 200, description = "The staff view after the action", body = StaffTicket), (status = 422, description = "validation_failed")), security(("bearer" = [])))]
pub async fn note(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    path: web::Path<TicketId>,
    body: Option<web::Json<ActionBody>>,
) -> Result<HttpResponse, ApiError> {
    let text = text_field(body_of(body).text.as_deref(), "text", 2000)?;
    run(
        state,
        auth.0,
        path.into_inner().to_string(),
        Change::Note { text },
    )
    .await
}

/// `POST /api/v1/tickets/{id}/resolve` (办结).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/resolve", tag = "tickets", params(("id" = uuid::Uuid, Path)), request_body(content = ActionBody, description = "`result` (≤ 2000 characters) and `photos` (≤ 6 upload ids)"), responses((status = 200, description = "The staff view after the action", body = StaffTicket), (status = 422, description = "validation_failed")), security(("bearer" = [])))]
pub async fn resolve(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    path: web::Path<TicketId>,
    body: Option<web::Json<ActionBody>>,
) -> Result<HttpResponse, ApiError> {
    let b = body_of(body);
    let photos = b.photos.unwrap_or_default();
    if photos.len() > 6 {
        return Err(FieldError::new(
            "photos",
            FieldCode::TooMany,
            "最多 6 张照片",
            "At most 6 photos",
        )
        .into());
    }
    let result = text_field(b.result.as_deref(), "result", 2000)?;
    // Console photos arrive through the public upload, which keeps no metadata: their proof is
    // recorded as not checkable.
    let proof = photos
        .iter()
        .map(|id| super::proof::PhotoFacts {
            photo: id.clone(),
            metadata_not_kept: true,
            ..Default::default()
        })
        .collect();
    let change = Change::Resolve {
        result,
        photos,
        proof,
        max_distance_m: f64::from(state.config.proof_max_distance_m),
    };
    run(state, auth.0, path.into_inner().to_string(), change).await
}

/// `POST /api/v1/tickets/{id}/return` (退单).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/return", tag = "tickets", params(("id" = uuid::Uuid, Path)), request_body(content = ActionBody, description = "`reason` (≤ 500 characters) and an optional `suggested_unit_id`"), responses((status = 200, description = "The staff view after the action", body = StaffTicket), (status = 422, description = "validation_failed")), security(("bearer" = [])))]
pub async fn return_ticket(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    path: web::Path<TicketId>,
    body: Option<web::Json<ActionBody>>,
) -> Result<HttpResponse, ApiError> {
    let b = body_of(body);
    let change = Change::Return {
        reason: text_field(b.reason.as_deref(), "reason", 500)?,
        suggested_unit_id: b.suggested_unit_id.filter(|s| !s.trim().is_empty()),
    };
    run(state, auth.0, path.into_inner().to_string(), change).await
}

/// `POST /api/v1/tickets/{id}/extension` (延期申请).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/extension", tag = "tickets", params(("id" = uuid::Uuid, Path)), request_body(content = ActionBody, description = "`reason` (≤ 500 characters) and `resolution_due` (RFC 3339, later than the current deadline)"), responses((status = 200, description = "The staff view after the action", body = StaffTicket), (status = 409, description = "extension_pending or deadline_passed"), (status = 422, description = "validation_failed")), security(("bearer" = [])))]
pub async fn request_extension(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    path: web::Path<TicketId>,
    body: Option<web::Json<ActionBody>>,
) -> Result<HttpResponse, ApiError> {
    let b = body_of(body);
    let reason = text_field(b.reason.as_deref(), "reason", 500)?;
    let due = b
        .resolution_due
        .as_deref()
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        .ok_or_else(|| {
            ApiError::from(FieldError::new(
                "resolution_due",
                FieldCode::InvalidDatetime,
                "请填写新的办结时限（含时区的时间）",
                "Give the new deadline as an RFC 3339 time",
            ))
        })?;
    let change = Change::RequestExtension {
        reason,
        due: due.as_millisecond(),
    };
    run(state, auth.0, path.into_inner().to_string(), change).await
}

/// `POST /api/v1/tickets/{id}/dispatch` (派单/转派).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/dispatch", tag = "tickets", params(("id" = uuid::Uuid, Path)), request_body(content = ActionBody, description = "`unit_id` of the target unit"), responses((status = 200, description = "The staff view after the action", body = StaffTicket), (status = 422, description = "validation_failed")), security(("bearer" = [])))]
pub async fn dispatch(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    path: web::Path<TicketId>,
    body: Option<web::Json<ActionBody>>,
) -> Result<HttpResponse, ApiError> {
    let unit_id = text_field(body_of(body).unit_id.as_deref(), "unit_id", 100)?;
    run(
        state,
        auth.0,
        path.into_inner().to_string(),
        Change::Dispatch { unit_id },
    )
    .await
}
