//! `GET /api/v1/map` (staff, in their scope) and `GET /api/v1/public/map` (district level,
//! public figures only): the areas of one level as SVG paths with one figure each.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::projection::{Projection, Rings, WIDTH, rings};
use super::queries::{Figure, counts};
use crate::auth::Principal;
use crate::auth::scope::Scope;
use crate::auth::scope::scope_of;
use crate::db::DbConnection;
use crate::db::schema::areas;
use crate::error::{ApiError, ErrorCode};
use crate::plans::progress;
use crate::plans::store::parse_year;
use crate::state::AppState;

/// The programmes `plan_percent` can be asked for (the headline measure of each).
pub const PROGRAMMES: [&str; 3] = ["shantytown", "dangerous_housing", "old_community"];

/// `?level=&figure=&year=&programme=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MapQuery {
    /// `community` (default on the staff map) or `district`.
    pub level: Option<String>,
    /// `open_tickets` (default), `overdue_tickets`, `open_hazards`, `cd_buildings` or
    /// `plan_percent` (district level only).
    pub figure: Option<String>,
    /// Plan year of `plan_percent` (default: the current year).
    pub year: Option<i64>,
    /// Programme of `plan_percent`: `shantytown` (default), `dangerous_housing` or
    /// `old_community`.
    pub programme: Option<String>,
}

/// A parsed map request.
#[derive(Debug, Clone)]
struct Ask {
    level: &'static str,
    figure: Figure,
    year: i32,
    programme: &'static str,
}

fn parse(state: &AppState, q: &MapQuery, public: bool) -> Result<Ask, ApiError> {
    let level = match q
        .level
        .as_deref()
        .unwrap_or(if public { "district" } else { "community" })
    {
        "district" => "district",
        "community" if !public => "community",
        "community" | "street" if public => {
            return Err(ApiError::new(
                ErrorCode::LevelNotPublic,
                "公开地图只按区县显示",
                "the public map shows districts only",
            ));
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidLevel,
                "level 应为 community 或 district",
                "level must be community or district",
            )
            .with("valid_levels", json!(["community", "district"])));
        }
    };
    let name = q.figure.as_deref().unwrap_or("open_tickets");
    let allowed: &[Figure] = if public {
        &Figure::PUBLIC
    } else {
        &Figure::ALL
    };
    let valid = json!(allowed.iter().map(|f| f.as_str()).collect::<Vec<_>>());
    let figure = match Figure::parse(name) {
        Some(f) if allowed.contains(&f) => f,
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::FigureNotPublic,
                "公开地图不提供该指标",
                "the public map does not show this figure",
            )
            .with("valid_figures", valid));
        }
        None => {
            return Err(ApiError::new(
                ErrorCode::InvalidFigure,
                format!("没有这个指标：{name}"),
                format!("unknown figure: {name}"),
            )
            .with("valid_figures", valid));
        }
    };
    if figure.district_only() && level != "district" {
        return Err(ApiError::new(
            ErrorCode::FigureNeedsDistrict,
            "计划完成率只按区县计算，请选择 level=district",
            "progress against plan exists per district only: ask with level=district",
        ));
    }
    let year = match q.year {
        Some(y) => parse_year(y)?,
        None => i32::from(state.config.timezone.to_datetime(state.clock.now()).year()),
    };
    let programme = match q.programme.as_deref() {
        None => "shantytown",
        Some(p) => PROGRAMMES.into_iter().find(|x| *x == p).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidProgramme,
                "programme 应为 shantytown、dangerous_housing 或 old_community",
                "programme must be shantytown, dangerous_housing or old_community",
            )
            .with("valid_programmes", json!(PROGRAMMES))
        })?,
    };
    Ok(Ask {
        level,
        figure,
        year,
        programme,
    })
}

struct AreaRow {
    id: String,
    code: String,
    parent_id: Option<String>,
    kind: String,
    name_zh: String,
    name_en: String,
    rings: Option<Rings>,
}

type Raw = (
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
);

fn load_areas(conn: &mut DbConnection) -> QueryResult<Vec<AreaRow>> {
    let rows: Vec<Raw> = areas::table
        .select((
            areas::id,
            areas::code,
            areas::parent_id,
            areas::kind,
            areas::name_zh,
            areas::name_en,
            areas::polygon,
        ))
        .order(areas::code)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, code, parent_id, kind, name_zh, name_en, polygon)| AreaRow {
                rings: polygon
                    .and_then(|p| serde_json::from_str::<Value>(&p).ok())
                    .and_then(|g| rings(&g)),
                id,
                code,
                parent_id,
                kind,
                name_zh,
                name_en,
            },
        )
        .collect())
}

/// The ancestor of `id` (or `id` itself) of `kind`.
fn ancestor<'a>(by_id: &HashMap<&str, &'a AreaRow>, id: &str, kind: &str) -> Option<&'a AreaRow> {
    let mut cur = by_id.get(id).copied();
    for _ in 0..32 {
        let a = cur?;
        if a.kind == kind {
            return Some(a);
        }
        cur = a.parent_id.as_deref().and_then(|p| by_id.get(p).copied());
    }
    None
}

fn answer(
    conn: &mut DbConnection,
    ask: &Ask,
    scope: &Scope,
    now_ms: i64,
) -> Result<MapAnswer, ApiError> {
    let all = load_areas(conn)?;
    let by_id: HashMap<&str, &AreaRow> = all.iter().map(|a| (a.id.as_str(), a)).collect();
    let drawn: Vec<&AreaRow> = all
        .iter()
        .filter(|a| a.kind == ask.level && a.rings.is_some())
        .collect();
    // Counts are integers; a percent is a number with one decimal (null without a plan).
    let mut values: HashMap<String, Value> = HashMap::new();
    if ask.figure == Figure::PlanPercent {
        let p = progress::compute(conn, ask.year)?;
        for d in p["districts"].as_array().into_iter().flatten() {
            if let (Some(id), Some(v)) = (
                d["area_id"].as_str(),
                d["programmes"][ask.programme]["percent"].as_f64(),
            ) {
                values.insert(id.to_owned(), json!(v));
            }
        }
    } else {
        let mut sums: HashMap<String, i64> = drawn.iter().map(|d| (d.id.clone(), 0)).collect();
        for (area, n) in counts(conn, ask.figure, scope, now_ms)? {
            if let Some(target) = ancestor(&by_id, &area, ask.level) {
                *sums.entry(target.id.clone()).or_insert(0) += n;
            }
        }
        values.extend(sums.into_iter().map(|(k, v)| (k, json!(v))));
    }
    let projection = Projection::fit(drawn.iter().filter_map(|a| a.rings.as_ref()));
    let height = projection.map(|p| p.height).unwrap_or(0.0);
    let shapes: Vec<MapArea> = match projection {
        None => Vec::new(),
        Some(p) => drawn
            .iter()
            .filter_map(|a| {
                let r = a.rings.as_ref()?;
                let district = ancestor(&by_id, &a.id, "district").map(|d| d.id.clone());
                Some(MapArea {
                    area_id: a.id.clone(),
                    code: a.code.clone(),
                    kind: a.kind.clone(),
                    parent_id: a.parent_id.clone(),
                    district_id: district,
                    name_zh: a.name_zh.clone(),
                    name_en: a.name_en.clone(),
                    path: p.path(r),
                    label: p.label(r),
                    value: values.get(&a.id).cloned().unwrap_or(Value::Null),
                })
            })
            .collect(),
    };
    let (label_zh, label_en, unit_zh, unit_en) = ask.figure.labels();
    Ok(MapAnswer {
        level: ask.level,
        figure: ask.figure.as_str(),
        year: ask.year,
        programme: ask.programme,
        label_zh,
        label_en,
        unit_zh,
        unit_en,
        view_box: format!("0 0 {WIDTH} {height}"),
        width: WIDTH,
        height,
        areas: shapes,
    })
}

/// What `GET /api/v1/map` and `GET /api/v1/public/map` answer: the areas of one level as SVG
/// paths in one view box, each with the figure asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct MapAnswer {
    /// The level drawn (`district`, `street`, `community`).
    pub level: &'static str,
    /// The figure (`open_tickets`, `overdue_tickets`, `open_hazards`, `cd_buildings`,
    /// `plan_percent`).
    pub figure: &'static str,
    /// The year of `plan_percent`.
    pub year: i32,
    /// The programme of `plan_percent`.
    pub programme: &'static str,
    /// The figure's name in Chinese.
    pub label_zh: &'static str,
    /// The figure's name in English.
    pub label_en: &'static str,
    /// Its unit in Chinese.
    pub unit_zh: &'static str,
    /// Its unit in English.
    pub unit_en: &'static str,
    /// SVG `viewBox`.
    pub view_box: String,
    /// View box width.
    pub width: f64,
    /// View box height (0 when nothing can be drawn).
    pub height: f64,
    /// The areas drawn.
    pub areas: Vec<MapArea>,
}

/// One area of the map.
#[derive(Debug, Serialize, ToSchema)]
pub struct MapArea {
    /// Area id.
    pub area_id: String,
    /// Code.
    pub code: String,
    /// Level.
    pub kind: String,
    /// Parent area id.
    #[schema(required = true)]
    pub parent_id: Option<String>,
    /// The district it lies in.
    #[schema(required = true)]
    pub district_id: Option<String>,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// SVG path data.
    pub path: String,
    /// Where to put its label: `[x, y]`.
    #[schema(value_type = Vec<f64>)]
    pub label: (f64, f64),
    /// The figure: a count, or a percent with one decimal (null without a plan).
    #[schema(value_type = Option<f64>, required = true)]
    pub value: Value,
}

/// `GET /api/v1/map`: the areas of a level as SVG paths, each with one figure counted in the
/// caller's scope (as the registers are).
#[utoipa::path(get, path = "/api/v1/map", tag = "map", params(MapQuery),
    responses((status = 200, description = "{level, figure, year, programme, label_zh, label_en, unit_zh, unit_en, view_box, width, height, areas: [{area_id, code, kind, parent_id, district_id, name_zh, name_en, path, label: [x, y], value}]}", body = MapAnswer),
              (status = 400, description = "invalid_level, invalid_figure, figure_needs_district, invalid_year, invalid_programme"),
              (status = 401, description = "not logged in")),
    security(("bearer" = [])))]
pub async fn staff_map(
    state: web::Data<AppState>,
    principal: Principal,
    q: web::Query<MapQuery>,
) -> Result<HttpResponse, ApiError> {
    let ask = parse(&state, &q, false)?;
    let now = state.clock.now_ms();
    let body = state
        .db
        .run(move |conn| {
            let scope = scope_of(conn, &principal)?;
            answer(conn, &ask, &scope, now)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(body))
}

/// `GET /api/v1/public/map`: the districts with a public figure (open or overdue complaints,
/// progress against plan) over the whole city; no records, no positions, nothing personal.
#[utoipa::path(get, path = "/api/v1/public/map", tag = "public", params(MapQuery),
    responses((status = 200, description = "the same shape as /api/v1/map, districts only", body = MapAnswer),
              (status = 400, description = "level_not_public, figure_not_public, invalid_level, invalid_figure, invalid_year, invalid_programme")))]
pub async fn public_map(
    state: web::Data<AppState>,
    q: web::Query<MapQuery>,
) -> Result<HttpResponse, ApiError> {
    let ask = parse(&state, &q, true)?;
    let now = state.clock.now_ms();
    let body = state
        .db
        .run(move |conn| answer(conn, &ask, &Scope::All, now))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .json(body))
}
