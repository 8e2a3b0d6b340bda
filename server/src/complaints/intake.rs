//! Intake (受理): `POST /api/v1/complaints`. Parse at the edge into a [`NewComplaint`], route,
//! compute deadlines, and write ticket + first event + outbox messages + the idempotency record
//! in one transaction.
//!
//! One idea per file: the request's parsing (`parse`), the filing in a transaction (`filing`),
//! retries with the same key (`idempotency`) and the writer threads (`group_commit`).

mod filing;
pub mod group_commit;
mod idempotency;
mod parse;

pub use filing::file;
pub use parse::{MAX_PHOTOS, NewComplaint, Source, SubmitBody, parse};

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clock::format_local;
use crate::error::{ApiError, ErrorCode};
use crate::org::catalog::Catalog;
use crate::state::AppState;
use crate::tickets::store::{self, TicketRow};

use super::code::TrackingCode;
use idempotency::{idempotency_key, stored_answer};

/// What filing a complaint answers (kept with the idempotency key and answered again to a retry).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Filed {
    /// The resident's tracking code (查询码).
    pub tracking_code: String,
    /// Public ticket number.
    pub ticket_no: String,
    /// Status.
    #[schema(value_type = crate::tickets::state::TicketStatus)]
    pub status: String,
    /// The unit it was routed to, null when it waits for a dispatcher.
    #[schema(required = true)]
    pub unit: Option<store::UnitRef>,
    /// Response deadline.
    pub response_due: String,
    /// Resolution deadline.
    pub resolution_due: String,
    /// The tracking page.
    pub track_url: String,
}

/// The intake answer, as JSON (it is stored for retries).
pub fn answer_json(
    catalog: &Catalog,
    t: &TicketRow,
    code: &TrackingCode,
    tz: &jiff::tz::TimeZone,
) -> Value {
    json!(Filed {
        tracking_code: code.display(),
        ticket_no: t.ticket_no.clone(),
        status: t.status.clone(),
        unit: store::unit_ref(catalog, t.unit_id.as_deref(), true),
        response_due: format_local(t.response_due, tz),
        resolution_due: format_local(t.resolution_due, tz),
        track_url: format!("/t/{}", code.display()),
    })
}

/// `POST /api/v1/complaints`.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints", request_body(content = SubmitBody, content_type = "application/json"), responses((status = 201, description = "Filed: {tracking_code, ticket_no, status, unit, response_due, resolution_due, track_url}; 4xx problem+json for bad input, 429 when flooding", body = Filed)))]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    let parsed: SubmitBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            ErrorCode::MalformedJson,
            format!("请求内容格式错误：{e}"),
            format!("The request body is not valid: {e}"),
        )
    })?;
    let hash = hex::encode(Sha256::digest(&body));
    let state = state.into_inner();
    // A retry with a known key answers from the record and does not count against the limit.
    if let Some(key) = key.clone() {
        let h = hash.clone();
        if let Some(answer) = state
            .db
            .run(move |conn| stored_answer(conn, &key, &h))
            .await?
        {
            return Ok(HttpResponse::Created().json(answer));
        }
    }
    crate::http::ratelimit::check_client(&state, &req, "intake", state.config.intake_per_minute)?;
    let st = state.clone();
    let (catalog, complaint) = state
        .db
        .run(move |conn| {
            let catalog = st.catalog.get(conn, &st.config.timezone)?;
            let complaint = parse(parsed, &catalog, Source::Web, false)?;
            if !complaint.photos.is_empty() {
                crate::attachments::uploads::check(conn, &complaint.photos)?;
            }
            Ok((catalog, complaint))
        })
        .await?;
    let job = Job {
        complaint,
        key,
        hash,
        catalog,
    };
    let answer = group_commit::submit(&state, job).await?;
    Ok(HttpResponse::Created().json(answer))
}

/// One submission on its way to the database.
pub struct Job {
    complaint: NewComplaint,
    key: Option<String>,
    hash: String,
    catalog: std::sync::Arc<Catalog>,
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(submit))]
pub struct ApiDoc;
