//! Similar complaints and "me too" (我也遇到): before filing, a resident sees open tickets of the
//! same category in the same community from the last 30 days, and can join one instead of
//! filing a duplicate. Joining gives them their own tracking code for that ticket. The list is
//! public: each summary is redacted ([`crate::redact`]) and no photo is listed.

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::clock::format_local;
use crate::error::{ApiError, ErrorCode, FieldCode, FieldError};
use crate::state::AppState;
use crate::tickets::transition;

use super::code::TrackingCode;
use super::phone::MobilePhone;
use crate::http::ratelimit::check_client;
use crate::org::catalog::unknown_category;
use crate::tickets::schema::{ticket_supporters, tickets};

/// How far back similar complaints are looked for.
pub const SIMILAR_WINDOW_MS: i64 = 30 * 24 * 3_600_000;

/// Query of `GET /api/v1/complaints/similar`.
#[derive(Debug, Deserialize)]
pub struct SimilarQuery {
    /// Category code.
    pub category: String,
    /// Community id.
    pub area_id: String,
}

/// An open ticket like the one a resident is about to file (public: the summary is redacted).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Similar {
    /// Public ticket number, to join with "me too".
    pub ticket_no: String,
    /// The description, redacted and shortened.
    pub summary: String,
    /// When it was filed.
    pub created_at: String,
    /// Status.
    #[schema(value_type = crate::tickets::state::TicketStatus)]
    pub status: String,
    /// Residents who said "me too".
    pub supporters: i32,
}

/// What "me too" answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Supported {
    /// The supporter's own tracking code for the ticket.
    pub tracking_code: String,
    /// Public ticket number.
    pub ticket_no: String,
    /// Residents who said "me too", this one included.
    pub supporters: i32,
}

/// `GET /api/v1/complaints/similar`.
#[utoipa::path(get, path = "/api/v1/complaints/similar", tag = "complaints", responses((status = 200, description = "Open tickets of the category in the community from the last 30 days (query: category, area_id), newest first, at most 20", body = Vec<Similar>)))]
pub async fn similar(
    state: web::Data<AppState>,
    q: web::Query<SimilarQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let st = state.into_inner();
    let list = st
        .db
        .clone()
        .run(move |conn| {
            let tz = st.config.timezone.clone();
            let catalog = st.catalog.get(conn, &tz)?;
            if !catalog.categories.contains_key(&q.category) {
                return Err(unknown_category(&catalog));
            }
            let since = st.clock.now_ms() - SIMILAR_WINDOW_MS;
            let rows: Vec<(String, String, i64, String, i32)> = tickets::table
                .filter(tickets::category_code.eq(&q.category))
                .filter(tickets::area_id.eq(&q.area_id))
                .filter(tickets::created_at.ge(since))
                .filter(tickets::status.ne_all(["resolved", "closed"]))
                .order(tickets::created_at.desc())
                .limit(20)
                .select((
                    tickets::ticket_no,
                    tickets::description,
                    tickets::created_at,
                    tickets::status,
                    tickets::supporters,
                ))
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(|(no, d, at, status, s)| Similar {
                    ticket_no: no,
                    summary: crate::redact::summary(&d),
                    created_at: format_local(at, &tz),
                    status,
                    supporters: s,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Body of "me too".
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct SupportBody {
    /// Name for callbacks.
    #[serde(default)]
    pub name: Option<String>,
    /// Mobile number for callbacks.
    #[serde(default)]
    pub phone: Option<String>,
}

/// `POST /api/v1/complaints/{ticket_no}/support`.
#[utoipa::path(post, path = "/api/v1/complaints/{ticket_no}/support", tag = "complaints", params(("ticket_no" = String, Path)), responses((status = 201, description = "Me too: the supporter's own tracking code", body = Supported)))]
pub async fn support(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Option<web::Json<SupportBody>>,
) -> Result<HttpResponse, ApiError> {
    let ticket_no = path.into_inner();
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    let phone = match body
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => Some(MobilePhone::parse(p).ok_or_else(|| {
            ApiError::from(FieldError::new(
                "phone",
                FieldCode::InvalidPhone,
                "请填写有效的手机号码",
                "Enter a valid mainland mobile number",
            ))
        })?),
    };
    let name = body
        .name
        .map(|n| n.trim().chars().take(50).collect::<String>())
        .filter(|n| !n.is_empty());
    check_client(&state, &req, "intake", state.config.intake_per_minute)?;
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| {
            st.db.write_tx(conn, |conn| {
                let id: Option<String> = tickets::table
                    .filter(tickets::ticket_no.eq(&ticket_no))
                    .select(tickets::id)
                    .first(conn)
                    .optional()?;
                let id = id.ok_or_else(|| {
                    ApiError::new(ErrorCode::TicketNotFound, "没有这个工单", "No such ticket")
                })?;
                let now = st.clock.now_ms();
                let catalog = st.catalog.get(conn, &st.config.timezone)?;
                let env = transition::Env {
                    catalog: &catalog,
                    tz: &st.config.timezone,
                    public_url: &st.config.public_url,
                    now,
                    deferred: None,
                    copies: &*st.ticket_copies,
                    aggregates: &*st.ticket_aggregates,
                };
                let t = transition::add_supporter(conn, &env, &id)?;
                let code = TrackingCode::generate();
                diesel::insert_into(ticket_supporters::table)
                    .values((
                        ticket_supporters::id.eq(uuid::Uuid::now_v7().to_string()),
                        ticket_supporters::ticket_id.eq(&t.id),
                        ticket_supporters::tracking_code.eq(code.as_str()),
                        ticket_supporters::name.eq(&name),
                        ticket_supporters::phone.eq(phone.as_ref().map(|p| p.as_str())),
                        ticket_supporters::created_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(Supported {
                    tracking_code: code.display(),
                    ticket_no: t.ticket_no,
                    supporters: t.supporters + 1,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(similar, support))]
pub struct ApiDoc;
