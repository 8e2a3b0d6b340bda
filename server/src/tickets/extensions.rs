//! Extension requests (延期申请) for supervisors: the list, and approve or refuse (each a
//! transition through [`super::transition::apply`]).

// Row tuples mirror the columns each query selects; naming every one would hide that.

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::auth::{Authed, Principal, policy};
use crate::clock::format_local;
use crate::error::{ApiError, ErrorCode};
use crate::http::ids::ExtensionId;
use crate::state::AppState;
use crate::tickets::schema::{extension_requests, tickets};

use super::store::{self, UnitRef};
use super::transition::{self, Change, Env, Mover};
use super::view::{StaffTicket, ticket_view};

/// Query of the extension list.
#[derive(Debug, Deserialize)]
pub struct ExtensionQuery {
    /// `pending` (default), `approved`, `refused`, `withdrawn` or `all`.
    #[serde(default)]
    pub status: Option<String>,
}

/// `GET /api/v1/extensions`.
#[utoipa::path(get, path = "/api/v1/extensions", tag = "tickets", responses((status = 200, description = "Extension requests (query: status), oldest first, at most 500", body = Vec<ExtensionItem>)), security(("bearer" = [])))]
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
            let rows: Vec<ExtensionRow> = query
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
            Ok(rows
                .into_iter()
                .map(|r| ExtensionItem {
                    unit: store::unit_ref(&catalog, Some(&r.unit_id), true),
                    current_due: format_local(r.previous_due, &tz),
                    requested_due: format_local(r.requested_due, &tz),
                    created_at: format_local(r.created_at, &tz),
                    id: r.id,
                    ticket_id: r.ticket_id,
                    ticket_no: r.ticket_no,
                    reason: r.reason,
                    status: r.status,
                    decision_reason: r.decision_reason,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// One extension request of the supervisors' list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExtensionItem {
    /// Request id.
    pub id: String,
    /// The ticket's id.
    pub ticket_id: String,
    /// The ticket's public number.
    pub ticket_no: String,
    /// The unit that asked (null if it no longer exists).
    #[schema(required = true)]
    pub unit: Option<UnitRef>,
    /// Why.
    pub reason: String,
    /// The deadline when it was asked.
    pub current_due: String,
    /// The deadline asked for.
    pub requested_due: String,
    /// `pending`, `approved`, `refused` or `withdrawn`.
    pub status: String,
    /// Why it was decided so.
    #[schema(required = true)]
    pub decision_reason: Option<String>,
    /// When it was asked.
    pub created_at: String,
}

/// An extension request with its ticket's number, in the order of the list's select.
#[derive(Queryable)]
struct ExtensionRow {
    id: String,
    ticket_id: String,
    ticket_no: String,
    unit_id: String,
    reason: String,
    previous_due: i64,
    requested_due: i64,
    status: String,
    decision_reason: Option<String>,
    created_at: i64,
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
                    ApiError::new(
                        ErrorCode::ExtensionNotFound,
                        "没有这个延期申请",
                        "No such extension request",
                    )
                })?;
                let env = Env {
                    catalog: &catalog,
                    tz: &tz,
                    public_url: &st.config.public_url,
                    now: st.clock.now_ms(),
                    deferred: None,
                    copies: &*st.ticket_copies,
                    aggregates: &*st.ticket_aggregates,
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
#[utoipa::path(post, path = "/api/v1/extensions/{id}/approve", tag = "tickets", params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "Approve: the ticket view", body = StaffTicket)), security(("bearer" = [])))]
pub async fn approve_extension(
    state: web::Data<AppState>,
    auth: Authed<policy::Supervision>,
    path: web::Path<ExtensionId>,
    body: Option<web::Json<DecisionBody>>,
) -> Result<HttpResponse, ApiError> {
    decide(
        state,
        auth.0,
        path.into_inner().to_string(),
        true,
        body.map(web::Json::into_inner).unwrap_or_default(),
    )
    .await
}

/// `POST /api/v1/extensions/{id}/refuse`.
#[utoipa::path(post, path = "/api/v1/extensions/{id}/refuse", tag = "tickets", params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "Refuse: the ticket view", body = StaffTicket)), security(("bearer" = [])))]
pub async fn refuse_extension(
    state: web::Data<AppState>,
    auth: Authed<policy::Supervision>,
    path: web::Path<ExtensionId>,
    body: Option<web::Json<DecisionBody>>,
) -> Result<HttpResponse, ApiError> {
    decide(
        state,
        auth.0,
        path.into_inner().to_string(),
        false,
        body.map(web::Json::into_inner).unwrap_or_default(),
    )
    .await
}
