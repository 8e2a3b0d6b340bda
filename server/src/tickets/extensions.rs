//! Extension requests (延期申请) for supervisors: the list, and approve or refuse (each a
//! transition through [`super::transition::apply`]).

// Row tuples mirror the columns each query selects; naming every one would hide that.
#![allow(clippy::type_complexity)]

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Authed, Principal, policy};
use crate::clock::format_local;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tickets::schema::{extension_requests, tickets};

use super::store;
use super::transition::{self, Change, Env, Mover};
use super::view::ticket_view;

/// Query of the extension list.
#[derive(Debug, Deserialize)]
pub struct ExtensionQuery {
    /// `pending` (default), `approved`, `refused`, `withdrawn` or `all`.
    #[serde(default)]
    pub status: Option<String>,
}

/// `GET /api/v1/extensions`.
#[utoipa::path(get, path = "/api/v1/extensions", tag = "tickets", responses((status = 200, description = "Extension requests (query: status)")), security(("bearer" = [])))]
pub async fn list_extensions(
    state: web::Data<AppState>,
    _auth: Authed<policy::Supervision>,
    q: web::Query<ExtensionQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = q.into_inner().status.unwrap_or_else(|| "pending".into());
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let tz = st.config.timezone.clone();
            let catalog = st.catalog.get(conn, &tz)?;
            let mut query = extension_requests::table
                .inner_join(tickets::table.on(tickets::id.eq(extension_requests::ticket_id)))
                .into_boxed();
            if status != "all" {
                query = query.filter(extension_requests::status.eq(status.clone()));
            }
            let rows: Vec<(
                String,
                String,
                String,
                String,
                String,
                i64,
                i64,
                String,
                Option<String>,
                i64,
            )> = query
                .order(extension_requests::created_at.asc())
                .limit(500)
                .select((
                    extension_requests::id,
                    extension_requests::ticket_id,
                    tickets::ticket_no,
                    extension_requests::unit_id,
                    extension_requests::reason,
                    extension_requests::previous_due,
                    extension_requests::requested_due,
                    extension_requests::status,
                    extension_requests::decision_reason,
                    extension_requests::created_at,
                ))
                .load(conn)?;
            Ok(Value::Array(
                rows.into_iter()
                    .map(
                        |(id, ticket_id, no, unit, reason, prev, req, status, dr, at)| {
                            json!({
                                "id": id, "ticket_id": ticket_id, "ticket_no": no,
                                "unit": store::unit_json(&catalog, Some(&unit), true),
                                "reason": reason, "current_due": format_local(prev, &tz),
                                "requested_due": format_local(req, &tz), "status": status,
                                "decision_reason": dr, "created_at": format_local(at, &tz),
                            })
                        },
                    )
                    .collect(),
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Body of an extension decision.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct DecisionBody {
    /// Why (shown to the resident on approval).
    #[serde(default)]
    pub reason: Option<String>,
}

async fn decide(
    state: web::Data<AppState>,
    p: Principal,
    ext_id: String,
    approve: bool,
    body: DecisionBody,
) -> Result<HttpResponse, ApiError> {
    let reason = body
        .reason
        .map(|r| r.trim().chars().take(500).collect::<String>())
        .filter(|r| !r.is_empty());
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let tz = st.config.timezone.clone();
            let catalog = st.catalog.get(conn, &tz)?;
            st.db.write_tx(conn, |conn| {
                let ticket_id: Option<String> = extension_requests::table
                    .find(&ext_id)
                    .select(extension_requests::ticket_id)
                    .first(conn)
                    .optional()?;
                let ticket_id = ticket_id.ok_or_else(|| {
                    ApiError::not_found(
                        "extension_not_found",
                        "没有这个延期申请",
                        "No such extension request",
                    )
                })?;
                let env = Env {
                    catalog: &catalog,
                    tz: &tz,
                    public_url: &st.config.public_url,
                    now: st.clock.now_ms(),
                    stats: None,
                };
                let change = Change::DecideExtension {
                    extension_id: ext_id,
                    approve,
                    reason,
                };
                let t = transition::apply(conn, &env, Mover::Staff(&p), &ticket_id, change, None)?;
                ticket_view(conn, &catalog, &p, &t, &tz)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /api/v1/extensions/{id}/approve`.
#[utoipa::path(post, path = "/api/v1/extensions/{id}/approve", tag = "tickets", params(("id" = String, Path)), responses((status = 200, description = "Approve: the ticket view")), security(("bearer" = [])))]
pub async fn approve_extension(
    state: web::Data<AppState>,
    auth: Authed<policy::Supervision>,
    path: web::Path<String>,
    body: Option<web::Json<DecisionBody>>,
) -> Result<HttpResponse, ApiError> {
    decide(
        state,
        auth.0,
        path.into_inner(),
        true,
        body.map(web::Json::into_inner).unwrap_or_default(),
    )
    .await
}

/// `POST /api/v1/extensions/{id}/refuse`.
#[utoipa::path(post, path = "/api/v1/extensions/{id}/refuse", tag = "tickets", params(("id" = String, Path)), responses((status = 200, description = "Refuse: the ticket view")), security(("bearer" = [])))]
pub async fn refuse_extension(
    state: web::Data<AppState>,
    auth: Authed<policy::Supervision>,
    path: web::Path<String>,
    body: Option<web::Json<DecisionBody>>,
) -> Result<HttpResponse, ApiError> {
    decide(
        state,
        auth.0,
        path.into_inner(),
        false,
        body.map(web::Json::into_inner).unwrap_or_default(),
    )
    .await
}
