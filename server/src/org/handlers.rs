//! The organisation model over HTTP: public `GET /api/v1/areas`, `/categories`, `/calendar`;
//! staff `GET /api/v1/units`; administrators upsert areas, units, tiers, categories and
//! calendar days, or import a whole file, all by code.

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{Authed, policy};
use crate::db::schema::{areas, calendar_days, categories, deadline_tiers, unit_areas, units};
use crate::error::{ApiError, FieldCode, FieldError};
use crate::org::import_format::{AreaSpec, CategorySpec, ImportFile, TierSpec, UnitSpec};
use crate::org::store::{self, Completeness, ImportSummary};
use crate::state::AppState;

/// An area as the public sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AreaView {
    /// Id.
    pub id: String,
    /// Code.
    pub code: String,
    /// Parent id.
    pub parent_id: Option<String>,
    /// city, district, street or community.
    pub kind: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// GeoJSON Polygon geometry, or null for an area drawn without a boundary.
    #[schema(value_type = Option<Object>)]
    pub polygon: Option<Value>,
}

/// A complaint category as the public sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryView {
    /// Code clients send.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Deadline tier code.
    pub tier: String,
    /// Whether resolving needs after-photos.
    pub needs_photo_proof: bool,
    /// Icon name.
    pub icon: String,
}

/// A unit as staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitView {
    /// Id.
    pub id: String,
    /// Code.
    pub code: String,
    /// Parent unit id.
    pub parent_id: Option<String>,
    /// Kind.
    pub kind: String,
    /// Chinese (public) name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Supervising unit id (督办).
    pub supervising_unit_id: Option<String>,
    /// Ids of the areas it serves.
    pub area_ids: Vec<String>,
}

/// Every area, parents before children.
#[utoipa::path(get, path = "/api/v1/areas", tag = "org", responses((status = 200, body = [AreaView])))]
pub async fn list_areas(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let list = state
        .db
        .run(|conn| {
            type Row = (
                String,
                String,
                Option<String>,
                String,
                String,
                String,
                Option<String>,
            );
            let rows: Vec<Row> = areas::table
                .select((
                    areas::id,
                    areas::code,
                    areas::parent_id,
                    areas::kind,
                    areas::name_zh,
                    areas::name_en,
                    areas::polygon,
                ))
                .order((areas::created_at, areas::code))
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(
                    |(id, code, parent_id, kind, name_zh, name_en, polygon)| AreaView {
                        id,
                        code,
                        parent_id,
                        kind,
                        name_zh,
                        name_en,
                        polygon: polygon.and_then(|p| serde_json::from_str(&p).ok()),
                    },
                )
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(list))
}

/// Active complaint categories in display order.
#[utoipa::path(get, path = "/api/v1/categories", tag = "org", responses((status = 200, body = [CategoryView])))]
pub async fn list_categories(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let list = state
        .db
        .run(|conn| {
            let rows: Vec<(String, String, String, String, bool, String)> = categories::table
                .filter(categories::active.eq(true))
                .select((
                    categories::code,
                    categories::name_zh,
                    categories::name_en,
                    categories::tier_code,
                    categories::needs_photo_proof,
                    categories::icon,
                ))
                .order((categories::sort_order, categories::code))
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(
                    |(code, name_zh, name_en, tier, needs_photo_proof, icon)| CategoryView {
                        code,
                        name_zh,
                        name_en,
                        tier,
                        needs_photo_proof,
                        icon,
                    },
                )
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Every unit with the areas it serves.
#[utoipa::path(get, path = "/api/v1/units", tag = "org",
    responses((status = 200, body = [UnitView])), security(("bearer" = [])))]
pub async fn list_units(
    state: web::Data<AppState>,
    _who: Authed<policy::Staff>,
) -> Result<HttpResponse, ApiError> {
    let list = state
        .db
        .run(|conn| {
            type Row = (
                String,
                String,
                Option<String>,
                String,
                String,
                String,
                Option<String>,
            );
            let rows: Vec<Row> = units::table
                .select((
                    units::id,
                    units::code,
                    units::parent_id,
                    units::kind,
                    units::name_zh,
                    units::name_en,
                    units::supervising_unit_id,
                ))
                .order(units::code)
                .load(conn)?;
            let links: Vec<(String, String)> = unit_areas::table
                .select((unit_areas::unit_id, unit_areas::area_id))
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(
                    |(id, code, parent_id, kind, name_zh, name_en, supervising_unit_id)| {
                        let area_ids = links
                            .iter()
                            .filter(|(u, _)| *u == id)
                            .map(|(_, a)| a.clone())
                            .collect();
                        UnitView {
                            id,
                            code,
                            parent_id,
                            kind,
                            name_zh,
                            name_en,
                            supervising_unit_id,
                            area_ids,
                        }
                    },
                )
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Query of the calendar.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CalendarQuery {
    /// Only days of this year.
    pub year: Option<i32>,
}

/// Statutory holidays and make-up working days (调休) the deadlines use.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "org", params(CalendarQuery),
    responses((status = 200, description = "{timezone, days: [{day, kind, note}]}", body = Calendar)))]
pub async fn calendar(
    state: web::Data<AppState>,
    query: web::Query<CalendarQuery>,
) -> Result<HttpResponse, ApiError> {
    let year = query.year;
    let tz = state.config.timezone_name.clone();
    let days = state
        .db
        .run(move |conn| {
            let mut q = calendar_days::table
                .select((calendar_days::day, calendar_days::kind, calendar_days::note))
                .order(calendar_days::day)
                .into_boxed();
            if let Some(y) = year {
                q = q.filter(calendar_days::day.like(format!("{y:04}-%")));
            }
            Ok(q.load::<(String, String, Option<String>)>(conn)?)
        })
        .await?;
    let days = days
        .into_iter()
        .map(|(day, kind, note)| CalendarEntry { day, kind, note })
        .collect();
    Ok(HttpResponse::Ok().json(Calendar { timezone: tz, days }))
}

/// What `GET /api/v1/calendar` answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Calendar {
    /// The city's IANA time zone the deadlines are counted in.
    pub timezone: String,
    /// The marked days, in date order.
    pub days: Vec<CalendarEntry>,
}

/// One marked day of the working calendar.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CalendarEntry {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `holiday` (法定节假日) or `workday` (调休上班日).
    pub kind: String,
    /// Why, e.g. 春节.
    #[schema(required = true)]
    pub note: Option<String>,
}

/// Body of a calendar change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDay {
    /// `holiday` (法定节假日) or `workday` (调休上班日).
    pub kind: String,
    /// Why, e.g. 春节.
    #[serde(default)]
    pub note: Option<String>,
}

/// Mark a day as a holiday or a make-up working day.
#[utoipa::path(put, path = "/api/v1/admin/calendar/{day}", tag = "admin", request_body = CalendarDay,
    responses((status = 204), (status = 422)), security(("bearer" = [])))]
pub async fn put_calendar_day(
    state: web::Data<AppState>,
    _who: Authed<policy::AdminOnly>,
    path: web::Path<String>,
    body: web::Json<CalendarDay>,
) -> Result<HttpResponse, ApiError> {
    let day = path.into_inner();
    let body = body.into_inner();
    let date = day.parse::<jiff::civil::Date>().map_err(|_| {
        ApiError::from(FieldError::new(
            "day",
            FieldCode::InvalidDate,
            "日期格式应为 YYYY-MM-DD",
            "A date is YYYY-MM-DD",
        ))
    })?;
    if !matches!(body.kind.as_str(), "holiday" | "workday") {
        return Err(FieldError::new(
            "kind",
            FieldCode::InvalidKind,
            "类型应为 holiday 或 workday",
            "kind is holiday or workday",
        )
        .into());
    }
    let note = body.note.map(|n| n.chars().take(64).collect::<String>());
    state
        .db
        .write(move |conn| {
            store::set_calendar_day(conn, &date.to_string(), &body.kind, note.as_deref())
        })
        .await?;
    org_changed(&state);
    Ok(HttpResponse::NoContent().finish())
}

/// Return a day to the ordinary weekday/weekend rule.
#[utoipa::path(delete, path = "/api/v1/admin/calendar/{day}", tag = "admin",
    responses((status = 204)), security(("bearer" = [])))]
pub async fn delete_calendar_day(
    state: web::Data<AppState>,
    _who: Authed<policy::AdminOnly>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let day = path.into_inner();
    state
        .db
        .write(move |conn| {
            diesel::delete(calendar_days::table.find(&day)).execute(conn)?;
            Ok(())
        })
        .await?;
    org_changed(&state);
    Ok(HttpResponse::NoContent().finish())
}

/// A deadline tier (时限档位) as the admin list shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TierView {
    /// Tier code.
    pub code: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// The response deadline: one key, its kind (e.g. `hours`, `working_days`), and its value.
    pub response: std::collections::BTreeMap<String, i32>,
    /// The resolution deadline, the same way.
    pub resolution: std::collections::BTreeMap<String, i32>,
    /// The clock it counts on.
    pub clock: String,
}

/// Deadline tiers.
#[utoipa::path(get, path = "/api/v1/admin/tiers", tag = "admin",
    responses((status = 200, body = [TierView])), security(("bearer" = [])))]
pub async fn list_tiers(
    state: web::Data<AppState>,
    _who: Authed<policy::Staff>,
) -> Result<HttpResponse, ApiError> {
    let rows = state
        .db
        .run(|conn| {
            Ok(deadline_tiers::table
                .select((
                    deadline_tiers::code,
                    deadline_tiers::name_zh,
                    deadline_tiers::name_en,
                    deadline_tiers::response_kind,
                    deadline_tiers::response_value,
                    deadline_tiers::resolution_kind,
                    deadline_tiers::resolution_value,
                    deadline_tiers::clock,
                ))
                .order(deadline_tiers::code)
                .load::<(String, String, String, String, i32, String, i32, String)>(conn)?)
        })
        .await?;
    let list: Vec<TierView> = rows
        .into_iter()
        .map(|(code, name_zh, name_en, rk, rv, sk, sv, clock)| TierView {
            code,
            name_zh,
            name_en,
            response: [(rk, rv)].into(),
            resolution: [(sk, sv)].into(),
            clock,
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

/// Every write to the organisation model ends here: routing and deadlines read a cached copy,
/// which must not serve the old data after an edit.
fn org_changed(state: &AppState) {
    state.catalog.invalidate();
}

async fn upsert(state: &AppState, file: ImportFile) -> Result<ImportSummary, ApiError> {
    let now = state.clock.now_ms();
    let summary = state
        .db
        .write(move |conn| store::import(conn, &file, Completeness::Partial, now))
        .await?;
    org_changed(state);
    Ok(summary)
}

/// Create or update an area by code.
#[utoipa::path(post, path = "/api/v1/admin/areas", tag = "admin", request_body(content = Object),
    responses((status = 200, body = ImportSummary), (status = 422)), security(("bearer" = [])))]
pub async fn upsert_area(
    state: web::Data<AppState>,
    _who: Authed<policy::AdminOnly>,
    body: web::Json<AreaSpec>,
) -> Result<HttpResponse, ApiError> {
    let file = ImportFile {
        areas: vec![body.into_inner()],
        ..empty()
    };
    Ok(HttpResponse::Ok().json(upsert(&state, file).await?))
}

/// Create or update a unit by code.
#[utoipa::path(post, path = "/api/v1/admin/units", tag = "admin", request_body(content = Object),
    responses((status = 200, body = ImportSummary), (status = 422)), security(("bearer" = [])))]
pub async fn upsert_unit(
    state: web::Data<AppState>,
    _who: Authed<policy::AdminOnly>,
    body: web::Json<UnitSpec>,
) -> Result<HttpResponse, ApiError> {
    let file = ImportFile {
        units: vec![body.into_inner()],
        ..empty()
    };
    Ok(HttpResponse::Ok().json(upsert(&state, file).await?))
}

/// Create or update a deadline tier by code.
#[utoipa::path(post, path = "/api/v1/admin/tiers", tag = "admin", request_body(content = Object),
    responses((status = 200, body = ImportSummary), (status = 422)), security(("bearer" = [])))]
pub async fn upsert_tier(
    state: web::Data<AppState>,
    _who: Authed<policy::AdminOnly>,
    body: web::Json<TierSpec>,
) -> Result<HttpResponse, ApiError> {
    let file = ImportFile {
        tiers: vec![body.into_inner()],
        ..empty()
    };
    Ok(HttpResponse::Ok().json(upsert(&state, file).await?))
}

/// Create or update a complaint category by code.
#[utoipa::path(post, path = "/api/v1/admin/categories", tag = "admin", request_body(content = Object),
    responses((status = 200, body = ImportSummary), (status = 422)), security(("bearer" = [])))]
pub async fn upsert_category(
    state: web::Data<AppState>,
    _who: Authed<policy::AdminOnly>,
    body: web::Json<CategorySpec>,
) -> Result<HttpResponse, ApiError> {
    let file = ImportFile {
        categories: vec![body.into_inner()],
        ..empty()
    };
    Ok(HttpResponse::Ok().json(upsert(&state, file).await?))
}

/// Import the city's whole data file (the same format as `anju import`); idempotent by code.
#[utoipa::path(post, path = "/api/v1/admin/import", tag = "admin", request_body(content = Object),
    responses((status = 200, body = ImportSummary), (status = 422)), security(("bearer" = [])))]
pub async fn import(
    state: web::Data<AppState>,
    _who: Authed<policy::AdminOnly>,
    body: web::Json<ImportFile>,
) -> Result<HttpResponse, ApiError> {
    let file = body.into_inner();
    let now = state.clock.now_ms();
    let summary = state
        .db
        .write(move |conn| store::import(conn, &file, Completeness::Whole, now))
        .await?;
    org_changed(&state);
    Ok(HttpResponse::Ok().json(summary))
}

fn empty() -> ImportFile {
    ImportFile {
        areas: vec![],
        units: vec![],
        tiers: vec![],
        categories: vec![],
        routing_rules: vec![],
        calendar: None,
        users: vec![],
    }
}

/// Mounts the organisation endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/areas", web::get().to(list_areas))
        .route("/api/v1/categories", web::get().to(list_categories))
        .route("/api/v1/units", web::get().to(list_units))
        .route("/api/v1/calendar", web::get().to(calendar))
        .route(
            "/api/v1/admin/calendar/{day}",
            web::put().to(put_calendar_day),
        )
        .route(
            "/api/v1/admin/calendar/{day}",
            web::delete().to(delete_calendar_day),
        )
        .route("/api/v1/admin/tiers", web::get().to(list_tiers))
        .route("/api/v1/admin/tiers", web::post().to(upsert_tier))
        .route("/api/v1/admin/areas", web::post().to(upsert_area))
        .route("/api/v1/admin/units", web::post().to(upsert_unit))
        .route("/api/v1/admin/categories", web::post().to(upsert_category))
        .route("/api/v1/admin/import", web::post().to(import));
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_areas,
    list_categories,
    list_units,
    calendar,
    put_calendar_day,
    delete_calendar_day,
    list_tiers,
    upsert_tier,
    upsert_area,
    upsert_unit,
    upsert_category,
    import
))]
pub struct ApiDoc;
