//! Admin view of the outbox: list messages (dead letters by default) and retry one.

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::auth::{Authed, policy};
use crate::error::{ApiError, ErrorCode};
use crate::http::ids::OutboxMessageId;
use crate::notify::schema::outbox;
use crate::state::AppState;

use super::outbox::OutboxRow;

/// `?status=dead|pending|delivered|all` (default `dead`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Status filter.
    #[serde(default)]
    pub status: Option<String>,
}

/// `GET /api/v1/admin/outbox`.
#[utoipa::path(get, path = "/api/v1/admin/outbox", tag = "notify", params(ListQuery), responses((status = 200, description = "Outbox messages, newest first, at most 500", body = [OutboxRow]), (status = 400, description = "invalid_query")), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    _auth: Authed<policy::AdminOnly>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = q.into_inner().status.unwrap_or_else(|| "dead".into());
    if !matches!(status.as_str(), "dead" | "pending" | "delivered" | "all") {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "status 应为 dead、pending、delivered 或 all",
            "status is dead, pending, delivered or all",
        ));
    }
    let rows = state
        .db
        .run(move |conn| {
            let mut q = outbox::table.into_boxed();
            if status != "all" {
                q = q.filter(outbox::status.eq(status));
            }
            Ok(q.order(outbox::created_at.desc())
                .limit(500)
                .select(OutboxRow::as_select())
                .load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// `POST /api/v1/admin/outbox/{id}/retry`: a dead (or pending) message is tried again now.
#[utoipa::path(post, path = "/api/v1/admin/outbox/{id}/retry", tag = "notify", params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "Message queued again", body = Requeued), (status = 404, description = "outbox_message_not_found")), security(("bearer" = [])))]
pub async fn retry(
    state: web::Data<AppState>,
    _auth: Authed<policy::AdminOnly>,
    path: web::Path<OutboxMessageId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().to_string();
    let now = state.clock.now_ms();
    let n = state
        .db
        .write(move |conn| {
            Ok(diesel::update(
                outbox::table
                    .find(&id)
                    .filter(outbox::status.ne("delivered")),
            )
            .set((
                outbox::status.eq("pending"),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now),
                outbox::locked_until.eq(0i64),
            ))
            .execute(conn)?)
        })
        .await?;
    if n == 0 {
        return Err(ApiError::new(
            ErrorCode::OutboxMessageNotFound,
            "没有这条待重发的消息",
            "No such undelivered message",
        ));
    }
    Ok(HttpResponse::Ok().json(Requeued {
        status: RequeuedStatus::Pending,
    }))
}

/// `POST /api/v1/admin/outbox/run`: one delivery round now (admins; for operations and tests).
#[utoipa::path(post, path = "/api/v1/admin/outbox/run", tag = "notify",
    responses((status = 200, description = "the messages tried in this round", body = Attempted)),
    security(("bearer" = [])))]
pub async fn deliver_now(
    state: web::Data<AppState>,
    _auth: Authed<policy::AdminOnly>,
) -> Result<HttpResponse, ApiError> {
    let deliverer = super::delivery::Deliverer::new(state.config.webhook_allow.clone())
        .map_err(ApiError::internal)?;
    let n = super::outbox::run_once(&state.db, &deliverer, &state.clock).await?;
    Ok(HttpResponse::Ok().json(Attempted { attempted: n }))
}

/// A message queued again.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Requeued {
    /// Always `pending`.
    pub status: RequeuedStatus,
}

/// The status of a message queued again.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequeuedStatus {
    /// Waiting for the next delivery round.
    Pending,
}

/// One delivery round.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Attempted {
    /// Messages tried.
    pub attempted: usize,
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, retry, deliver_now))]
pub struct ApiDoc;
