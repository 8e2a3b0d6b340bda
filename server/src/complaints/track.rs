//! Resident tracking (进度查询) with the secret code: the public timeline, and confirm or dispute
//! a resolution (回访评价). No internal notes, no staff names or phones, no other residents' data.
//!
//! A supporter ("me too", with their own code) sees the status, the deadlines and the public
//! replies, redacted like every public output ([`crate::redact`]); never the reporter's photos,
//! address or words other than a redacted summary.

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;

use crate::clock::format_local;
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode, FieldCode, FieldError};
use crate::state::AppState;
use crate::tickets::state::{Action, TicketStatus};
use crate::tickets::store::{self, EventRow, TicketRow};
use crate::tickets::transition::{self, Change, Env, Mover};
use crate::tickets::view::AreaRef;

use super::code::TrackingCode;
pub use super::track_answer::Viewer;
use super::track_answer::{TimelineItem, TrackCategory, TrackRating, TrackView};
use crate::org::catalog::Catalog;
use crate::tickets::copies::TicketCopies;
use crate::tickets::schema::{ticket_supporters, tickets};

/// 404 `tracking_code_not_found`.
pub fn code_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::TrackingCodeNotFound,
        "查询码不存在，请核对后重试",
        "No complaint has this tracking code; please check it",
    )
}

/// The database's answer to "does this tracking code exist?", for the `/t/{code}` page.
pub struct KnownCodes(pub crate::db::Db);

impl crate::web::TrackingCodes for KnownCodes {
    fn exists(&self, raw: &str) -> bool {
        let Some(code) = TrackingCode::parse(raw) else {
            return false;
        };
        let Ok(mut conn) = self.0.get() else {
            // Unsure: serve the page; it asks the API, which answers properly.
            return true;
        };
        let reporter: Result<i64, _> = tickets::table
            .filter(tickets::tracking_code.eq(code.as_str()))
            .count()
            .get_result(&mut *conn);
        let supporter: Result<i64, _> = ticket_supporters::table
            .filter(ticket_supporters::tracking_code.eq(code.as_str()))
            .count()
            .get_result(&mut *conn);
        match (reporter, supporter) {
            (Ok(a), Ok(b)) => a + b > 0,
            _ => true,
        }
    }
}

/// Find the ticket a code opens.
pub fn resolve_code(
    conn: &mut DbConnection,
    copies: &dyn TicketCopies,
    raw: &str,
) -> Result<(TicketRow, Viewer), ApiError> {
    let code = TrackingCode::parse(raw).ok_or_else(code_not_found)?;
    let id: Option<String> = tickets::table
        .filter(tickets::tracking_code.eq(code.as_str()))
        .select(tickets::id)
        .first(conn)
        .optional()?;
    let (id, viewer) = match id {
        Some(id) => (id, Viewer::Reporter),
        None => {
            let id: Option<String> = ticket_supporters::table
                .filter(ticket_supporters::tracking_code.eq(code.as_str()))
                .select(ticket_supporters::ticket_id)
                .first(conn)
                .optional()?;
            (id.ok_or_else(code_not_found)?, Viewer::Supporter)
        }
    };
    let t = store::find_for_update(conn, copies, &id)?.ok_or_else(code_not_found)?;
    Ok((t, viewer))
}

fn timeline_item(
    e: &EventRow,
    catalog: &Catalog,
    viewer: Viewer,
    tz: &jiff::tz::TimeZone,
) -> TimelineItem {
    // A resident's own photos (the report's) are for the reporter; staff proof photos are public.
    let photos = if viewer == Viewer::Reporter || e.actor_kind != "resident" {
        store::photo_urls(&e.photos)
    } else {
        Vec::new()
    };
    let text: Option<String> = match e.kind.as_str() {
        "replied" | "resolved" if viewer == Viewer::Reporter => e.body.clone(),
        "replied" | "resolved" => e.body.as_deref().map(crate::redact::redact),
        "confirmed" | "disputed" if viewer == Viewer::Reporter => e.body.clone(),
        "submitted" | "dispatched" | "reassigned" | "reopened" => e
            .unit_id
            .as_deref()
            .and_then(|u| catalog.units.get(u))
            .map(|u| u.name_zh.clone()),
        _ => None,
    };
    let granted = e.kind == "extension_granted";
    let reason = granted.then(|| match viewer {
        Viewer::Reporter => e.reason.clone(),
        Viewer::Supporter => e.reason.as_deref().map(crate::redact::redact),
    });
    let sets_due = granted || matches!(e.kind.as_str(), "reopened" | "reassigned" | "dispatched");
    TimelineItem {
        at: format_local(e.at, tz),
        kind: e.kind.clone(),
        photos,
        text,
        reason,
        new_due: e
            .resolution_due
            .filter(|_| sets_due)
            .map(|d| format_local(d, tz)),
    }
}

/// The tracking view of a ticket as `viewer` may see it: everything for the reporter; for a
/// supporter the status, deadlines and redacted public replies, never the reporter's photos,
/// address or words other than a redacted summary.
pub fn view(
    conn: &mut DbConnection,
    catalog: &Catalog,
    t: &TicketRow,
    viewer: Viewer,
    tz: &jiff::tz::TimeZone,
) -> Result<TrackView, ApiError> {
    let events = store::events(conn, &t.id)?;
    let timeline = events
        .iter()
        .filter(|e| e.public)
        .map(|e| timeline_item(e, catalog, viewer, tz))
        .collect();
    let category = catalog.categories.get(&t.category_code);
    let area = t
        .area_id
        .as_deref()
        .and_then(|a| catalog.areas.get(a))
        .map(|a| AreaRef {
            id: a.id.clone(),
            name_zh: a.name_zh.clone(),
            name_en: a.name_en.clone(),
        });
    let reporter = viewer == Viewer::Reporter;
    let rating = match (t.rating, t.rated_at, reporter) {
        (Some(stars), Some(at), true) => Some(TrackRating {
            stars,
            comment: t.rating_comment.clone(),
            at: format_local(at, tz),
        }),
        _ => None,
    };
    // The verdict and its reason only: never a position or a time read from a photo.
    let proof = match t.resolved_at {
        Some(at) => crate::tickets::proof::summary(conn, &t.id, at, false)?,
        None => None,
    };
    Ok(TrackView {
        ticket_no: t.ticket_no.clone(),
        status: t.status(),
        proof,
        category: TrackCategory {
            code: t.category_code.clone(),
            name_zh: category.map(|c| c.name_zh.clone()),
            name_en: category.map(|c| c.name_en.clone()),
        },
        description: if reporter {
            t.description.clone()
        } else {
            crate::redact::summary(&t.description)
        },
        address: if reporter { t.address.clone() } else { None },
        area,
        unit: store::unit_ref(catalog, t.unit_id.as_deref(), false),
        created_at: format_local(t.created_at, tz),
        response_due: format_local(t.response_due, tz),
        resolution_due: format_local(t.resolution_due, tz),
        supporters: t.supporters,
        photos: if reporter {
            store::photo_urls(&t.photos)
        } else {
            Vec::new()
        },
        timeline,
        can_rate: reporter && t.status() == TicketStatus::Resolved,
        rating,
        viewer,
    })
}

/// `GET /api/v1/track/{code}`.
#[utoipa::path(get, path = "/api/v1/track/{code}", tag = "complaints", params(("code" = String, Path)), responses((status = 200, description = "The public tracking view; 404 tracking_code_not_found; 429 too_many_requests (ANJU_TRACK_PER_MINUTE per client) with Retry-After", body = super::track_answer::TrackView)))]
pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let tz = st.config.timezone.clone();
            let catalog = st.catalog.get(conn, &tz)?;
            let (t, viewer) = resolve_code(conn, &*st.ticket_copies, &raw)?;
            view(conn, &catalog, &t, viewer, &tz)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Body of confirm and dispute.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RatingBody {
    /// 1-5 stars.
    pub rating: i64,
    /// Comment (required for a dispute).
    #[serde(default)]
    pub comment: Option<String>,
}

fn rating_errors(
    body: &RatingBody,
    comment_required: bool,
) -> Result<(i32, Option<String>), ApiError> {
    let mut errors = Vec::new();
    if !(1..=5).contains(&body.rating) {
        errors.push(FieldError::new(
            "rating",
            FieldCode::OutOfRange,
            "评分为 1-5 星",
            "rating is 1 to 5",
        ));
    }
    let comment = body
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from);
    if comment_required && comment.is_none() {
        errors.push(FieldError::new(
            "comment",
            FieldCode::Required,
            "请说明未解决的情况",
            "Say what is still wrong",
        ));
    }
    if comment.as_ref().is_some_and(|c| c.chars().count() > 1000) {
        errors.push(FieldError::new(
            "comment",
            FieldCode::TooLong,
            "最多 1000 个字",
            "At most 1000 characters",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::with_fields(errors));
    }
    Ok((body.rating as i32, comment))
}

async fn rate(
    state: web::Data<AppState>,
    raw: String,
    body: RatingBody,
    action: Action,
) -> Result<HttpResponse, ApiError> {
    let (stars, comment) = rating_errors(&body, action == Action::Dispute)?;
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let tz = st.config.timezone.clone();
            let catalog = st.catalog.get(conn, &tz)?;
            st.db.write_tx(conn, |conn| {
                let (t, viewer) = resolve_code(conn, &*st.ticket_copies, &raw)?;
                if viewer != Viewer::Reporter {
                    return Err(ApiError::new(
                        ErrorCode::SupporterCannotRate,
                        "只有投诉人本人可以评价",
                        "Only the resident who filed the complaint can rate it",
                    ));
                }
                let env = Env {
                    catalog: &catalog,
                    tz: &tz,
                    public_url: &st.config.public_url,
                    now: st.clock.now_ms(),
                    deferred: None,
                    copies: &*st.ticket_copies,
                    aggregates: &*st.ticket_aggregates,
                };
                let change = if action == Action::Confirm {
                    Change::Confirm {
                        rating: stars,
                        comment,
                    }
                } else {
                    Change::Dispute {
                        rating: stars,
                        comment,
                    }
                };
                let t = transition::apply(conn, &env, Mover::Resident, &t.id, change, None)?;
                view(conn, &catalog, &t, Viewer::Reporter, &tz)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /api/v1/track/{code}/confirm`.
#[utoipa::path(post, path = "/api/v1/track/{code}/confirm", tag = "complaints", params(("code" = String, Path)), request_body = RatingBody, responses((status = 200, description = "Confirm a resolution with {rating, comment?}: the reporter's tracking view after it", body = super::track_answer::TrackView)))]
pub async fn confirm(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<RatingBody>,
) -> Result<HttpResponse, ApiError> {
    rate(state, path.into_inner(), body.into_inner(), Action::Confirm).await
}

/// `POST /api/v1/track/{code}/dispute`.
#[utoipa::path(post, path = "/api/v1/track/{code}/dispute", tag = "complaints", params(("code" = String, Path)), request_body = RatingBody, responses((status = 200, description = "Dispute a resolution with {rating, comment}: reopened, or escalated the second time; the reporter's tracking view after it", body = super::track_answer::TrackView)))]
pub async fn dispute(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<RatingBody>,
) -> Result<HttpResponse, ApiError> {
    rate(state, path.into_inner(), body.into_inner(), Action::Dispute).await
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(get, confirm, dispute))]
pub struct ApiDoc;
