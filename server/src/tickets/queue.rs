//! The staff queues (`GET /api/v1/tickets`): a unit's tickets, the dispatch queue, or all.

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::Role;
use crate::auth::{Authed, policy};
use crate::clock::format_local;
use crate::error::{ApiError, ErrorCode};
use crate::org::catalog::Catalog;
use crate::state::AppState;
use crate::tickets::schema::tickets;

use super::state::TicketStatus;
use super::store::{self, TicketRow, UnitRef};
use super::view::{AreaRef, CategoryRef, area_ref, category_ref};

/// Query of the ticket list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// `unit` (default for unit roles), `dispatch` (waiting for a dispatcher) or `all`.
    #[serde(default)]
    pub queue: Option<String>,
    /// Status filter.
    #[serde(default)]
    pub status: Option<String>,
    /// Category filter.
    #[serde(default)]
    pub category: Option<String>,
    /// Only tickets past their resolution deadline and not resolved.
    #[serde(default)]
    pub overdue: Option<bool>,
    /// Search in ticket number and description.
    #[serde(default)]
    pub q: Option<String>,
    /// Page size (≤ 1000, default 100).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Offset.
    #[serde(default)]
    pub offset: Option<i64>,
}

fn units_of(catalog: &Catalog, own: &str, include_below: bool) -> Vec<String> {
    let mut out = vec![own.to_string()];
    if include_below {
        // Breadth-first over the unit tree.
        let mut i = 0;
        while i < out.len() {
            let cur = out[i].clone();
            for u in catalog.units.values() {
                if u.parent_id.as_deref() == Some(cur.as_str()) && !out.contains(&u.id) {
                    out.push(u.id.clone());
                }
            }
            i += 1;
        }
    }
    out
}

/// One ticket of a staff queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueItem {
    /// Ticket id.
    pub id: String,
    /// Public ticket number.
    pub ticket_no: String,
    /// Status.
    #[schema(value_type = TicketStatus)]
    pub status: String,
    /// Category.
    pub category: CategoryRef,
    /// The description, shortened.
    pub summary: String,
    /// Area, when known.
    #[schema(required = true)]
    pub area: Option<AreaRef>,
    /// The unit it is with, null while unassigned.
    #[schema(required = true)]
    pub unit: Option<UnitRef>,
    /// When it was filed (local time, RFC 3339).
    pub created_at: String,
    /// Response deadline.
    pub response_due: String,
    /// Resolution deadline.
    pub resolution_due: String,
    /// Open and past its resolution deadline.
    pub overdue: bool,
    /// Residents who said "me too".
    pub supporters: i32,
}

/// `GET /api/v1/tickets`.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", responses((status = 200, description = "Queue (query: queue, status, category, overdue, q, limit, offset), soonest resolution deadline first", body = Vec<QueueItem>)), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authed<policy::Staff>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let q = q.into_inner();
    if let Some(s) = &q.status
        && TicketStatus::parse(s).is_none()
    {
        return Err(
            ApiError::new(ErrorCode::InvalidQuery, "没有这个状态", "Unknown status").with(
                "valid_statuses",
                json!(
                    TicketStatus::ALL
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                ),
            ),
        );
    }
    let queue = q.queue.clone().unwrap_or_else(|| {
        if p.role.is_citywide() {
            "all".into()
        } else {
            "unit".into()
        }
    });
    if !matches!(queue.as_str(), "unit" | "dispatch" | "all") {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "queue 应为 unit、dispatch 或 all",
            "queue is unit, dispatch or all",
        ));
    }
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let tz = st.config.timezone.clone();
            let catalog = st.catalog.get(conn, &tz)?;
            let mut query = tickets::table.into_boxed();
            let citywide = p.role.is_citywide();
            if !citywide || queue == "unit" {
                let Some(own) = p.unit_id.as_deref() else {
                    return Ok(Vec::new());
                };
                let ids = units_of(&catalog, own, p.role == Role::UnitAdmin);
                query = query.filter(tickets::unit_id.eq_any(ids));
            }
            if queue == "dispatch" {
                query = query.filter(tickets::status.eq("dispatching"));
            }
            if let Some(s) = &q.status {
                query = query.filter(tickets::status.eq(s.clone()));
            }
            if let Some(c) = &q.category {
                query = query.filter(tickets::category_code.eq(c.clone()));
            }
            if q.overdue == Some(true) {
                query = query
                    .filter(tickets::resolution_due.lt(st.clock.now_ms()))
                    .filter(tickets::status.ne_all(["resolved", "closed"]));
            }
            if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                let pattern = format!("%{}%", text.replace(['\\', '%', '_'], ""));
                query = query.filter(
                    tickets::ticket_no
                        .like(pattern.clone())
                        .or(tickets::description.like(pattern)),
                );
            }
            let limit = q.limit.unwrap_or(100).clamp(1, 1000);
            let offset = q.offset.unwrap_or(0).max(0);
            let rows: Vec<TicketRow> = query
                .order((tickets::resolution_due.asc(), tickets::id.asc()))
                .limit(limit)
                .offset(offset)
                .select(TicketRow::as_select())
                .load(conn)?;
            let now = st.clock.now_ms();
            Ok(rows
                .iter()
                .map(|t| QueueItem {
                    id: t.id.clone(),
                    ticket_no: t.ticket_no.clone(),
                    status: t.status.clone(),
                    category: category_ref(&catalog, &t.category_code),
                    summary: crate::redact::shorten(&t.description),
                    area: area_ref(&catalog, t.area_id.as_deref()),
                    unit: store::unit_ref(&catalog, t.unit_id.as_deref(), true),
                    created_at: format_local(t.created_at, &tz),
                    response_due: format_local(t.response_due, &tz),
                    resolution_due: format_local(t.resolution_due, &tz),
                    overdue: t.status().is_open() && t.resolution_due < now,
                    supporters: t.supporters,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}
