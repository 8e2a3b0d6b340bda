//! HTTP handlers of plans and progress: read and set targets, their change log, import from a
//! sheet (dry run first; nothing applied while any row is bad), progress (office and public)
//! and the XLSX downloads.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::answers::{
    DistrictPlan, MeasureInfo, PlanChanges, PlanImport, PlanTable, PlansSet, Progress,
};
use super::progress;
use super::store::{self, Changer, Measure, Target, check_entry, parse_year};
use crate::auth::principal::{Authed, Principal, policy};
use crate::error::{ApiError, ErrorCode};
use crate::registers::query::Org;
use crate::registers::sheet::{self, Cell, ImportQuery, SheetFile};
use crate::state::AppState;

/// `?year=YYYY` (default: the server clock's current year in the city's time zone).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct YearQuery {
    /// Plan year.
    pub year: Option<i64>,
}

fn year_of(state: &AppState, q: &YearQuery) -> Result<i32, ApiError> {
    match q.year {
        Some(y) => parse_year(y),
        None => Ok(i32::from(
            state.config.timezone.to_datetime(state.clock.now()).year(),
        )),
    }
}

fn plan_table(
    org: &Org,
    year: i32,
    targets: &std::collections::HashMap<(String, Measure), i64>,
) -> PlanTable {
    let districts = org
        .districts()
        .into_iter()
        .map(|d| DistrictPlan {
            area_id: d.id.clone(),
            code: d.code.clone(),
            name_zh: d.name_zh.clone(),
            name_en: d.name_en.clone(),
            targets: Measure::ALL
                .into_iter()
                .map(|m| (m.as_str(), targets.get(&(d.id.clone(), m)).copied()))
                .collect(),
        })
        .collect();
    let measures = Measure::ALL
        .into_iter()
        .map(|m| MeasureInfo {
            measure: m.as_str(),
            programme: m.programme(),
            label_zh: m.label_zh(),
            label_en: m.label_en(),
        })
        .collect();
    PlanTable {
        year,
        measures,
        districts,
    }
}

/// `GET /api/v1/plans?year=`: every district's targets of the year (null where not set).
#[utoipa::path(get, path = "/api/v1/plans", tag = "plans", params(YearQuery), responses((status = 200, body = PlanTable)))]
pub async fn get_plans(
    state: web::Data<AppState>,
    _p: Principal,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, ApiError> {
    let year = year_of(&state, &q)?;
    let body = state
        .db
        .run(move |conn| {
            let org = Org::load(conn)?;
            let t = store::targets(conn, year)?;
            Ok(plan_table(&org, year, &t))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// One target in a `PUT /api/v1/plans` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanEntry {
    /// District id, code (`hexi`) or Chinese name (河西区).
    pub district: String,
    /// Measure wire name, e.g. `shantytown_started`.
    pub measure: String,
    /// The target (≥ 0).
    pub target: i64,
}

/// Body of `PUT /api/v1/plans`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPlans {
    /// Plan year.
    pub year: i64,
    /// Targets to set.
    pub entries: Vec<PlanEntry>,
}

/// `PUT /api/v1/plans`: sets targets (admin, supervisor), all or nothing; each change logged.
#[utoipa::path(put, path = "/api/v1/plans", tag = "plans", request_body = SetPlans, responses((status = 200, body = PlansSet), (status = 422, description = "invalid_plan: errors per entry")))]
pub async fn set_plans(
    state: web::Data<AppState>,
    auth: Authed<policy::Supervision>,
    body: web::Json<SetPlans>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.0;
    let body = body.into_inner();
    let year = parse_year(body.year)?;
    let now = state.clock.now_ms();
    let answer = state
        .db
        .write(move |conn| {
            let org = Org::load(conn)?;
            let mut targets = Vec::new();
            let mut errors = Vec::new();
            for (i, e) in body.entries.iter().enumerate() {
                match check_entry(&org, year, &e.district, &e.measure, e.target) {
                    Ok(t) => targets.push(t),
                    Err((zh, en)) => {
                        errors.push(json!({"entry": i, "message_zh": zh, "message_en": en}))
                    }
                }
            }
            if !errors.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::InvalidPlan,
                    "计划有误，未作任何修改",
                    "the plan has errors; nothing was changed",
                )
                .with("errors", json!(errors)));
            }
            let changed = store::set_targets(
                conn,
                &targets,
                &Changer {
                    id: &who.user_id,
                    name: &who.display_name,
                    source: "api",
                },
                now,
            )?;
            let t = store::targets(conn, year)?;
            Ok(PlansSet {
                changed,
                plans: plan_table(&org, year, &t),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// `GET /api/v1/plans/changes?year=`: every change of the year's targets, newest first.
#[utoipa::path(get, path = "/api/v1/plans/changes", tag = "plans", params(YearQuery), responses((status = 200, body = PlanChanges)))]
pub async fn plan_changes(
    state: web::Data<AppState>,
    _p: Principal,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, ApiError> {
    let year = year_of(&state, &q)?;
    let items = state
        .db
        .run(move |conn| Ok(store::changes(conn, year)?))
        .await?;
    Ok(HttpResponse::Ok().json(PlanChanges { items }))
}

/// The columns of the plan sheet: 年度, 区县, then one per measure.
fn plan_headers() -> Vec<String> {
    let mut h = vec!["年度".to_owned(), "区县".to_owned()];
    h.extend(Measure::ALL.into_iter().map(|m| m.label_zh().to_owned()));
    h
}

fn download(bytes: Vec<u8>, filename: &str, csv: bool) -> HttpResponse {
    let ctype = if csv {
        "text/csv; charset=utf-8"
    } else {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, ctype))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(bytes)
}

/// `GET /api/v1/plans.xlsx?year=`: the year's plans as the import sheet's layout.
#[utoipa::path(get, path = "/api/v1/plans.xlsx", tag = "plans", params(YearQuery), responses((status = 200, description = "XLSX workbook", body = SheetFile, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn plans_xlsx(
    state: web::Data<AppState>,
    _p: Principal,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, ApiError> {
    let year = year_of(&state, &q)?;
    let bytes = state
        .db
        .run(move |conn| {
            let org = Org::load(conn)?;
            let t = store::targets(conn, year)?;
            let rows: Vec<Vec<Cell>> = org
                .districts()
                .into_iter()
                .map(|d| {
                    let mut r = vec![Cell::Number(f64::from(year)), Cell::Text(d.name_zh.clone())];
                    r.extend(Measure::ALL.into_iter().map(|m| {
                        t.get(&(d.id.clone(), m))
                            .map(|v| Cell::Number(*v as f64))
                            .unwrap_or(Cell::Empty)
                    }));
                    r
                })
                .collect();
            sheet::xlsx("年度计划", &plan_headers(), &rows)
        })
        .await?;
    Ok(download(bytes, &format!("plans-{year}.xlsx"), false))
}

/// One refused cell of an import: row (1 = header), column name, reason.
fn row_error(row: usize, column: &str, zh: String, en: String) -> Value {
    json!({"row": row, "column": column, "message_zh": zh, "message_en": en})
}

/// Parses a plan sheet: every bad row named; the targets when none is bad.
pub fn parse_plan_sheet(org: &Org, rows: &[Vec<String>]) -> (Vec<Target>, Vec<Value>) {
    let mut errors = Vec::new();
    let mut targets = Vec::new();
    let Some(header) = rows.first() else {
        errors.push(row_error(
            1,
            "",
            "表格是空的".into(),
            "the sheet is empty".into(),
        ));
        return (targets, errors);
    };
    let mut cols: Vec<(usize, Option<Measure>)> = Vec::new();
    let (mut year_col, mut district_col) = (None, None);
    for (i, h) in header.iter().enumerate() {
        let h = h.trim();
        if h.is_empty() {
            continue;
        }
        if h == "年度" || h.eq_ignore_ascii_case("year") {
            year_col = Some(i);
        } else if h == "区县" || h == "区" || h.eq_ignore_ascii_case("district") {
            district_col = Some(i);
        } else if let Some(m) = Measure::ALL
            .into_iter()
            .find(|m| m.label_zh() == h || m.as_str() == h)
        {
            cols.push((i, Some(m)));
        } else {
            errors.push(row_error(
                1,
                h,
                format!("未知的列：{h}"),
                format!("unknown column: {h}"),
            ));
        }
    }
    for (name, col) in [("年度", year_col), ("区县", district_col)] {
        if col.is_none() {
            errors.push(row_error(
                1,
                name,
                format!("缺少列：{name}"),
                format!("missing column: {name}"),
            ));
        }
    }
    let (Some(yc), Some(dc)) = (year_col, district_col) else {
        return (targets, errors);
    };
    let cell =
        |r: &Vec<String>, c: usize| r.get(c).map(|s| s.trim().to_owned()).unwrap_or_default();
    for (n, r) in rows.iter().enumerate().skip(1) {
        let row = n + 1;
        let year = match cell(r, yc)
            .parse::<i64>()
            .ok()
            .and_then(|y| parse_year(y).ok())
        {
            Some(y) => y,
            None => {
                let v = cell(r, yc);
                errors.push(row_error(
                    row,
                    "年度",
                    format!("年度无效：{v}"),
                    format!("not a year: {v}"),
                ));
                continue;
            }
        };
        let district = cell(r, dc);
        for (c, m) in &cols {
            let Some(m) = m else { continue };
            let raw = cell(r, *c);
            if raw.is_empty() {
                continue;
            }
            let Ok(target) = raw.parse::<i64>() else {
                errors.push(row_error(
                    row,
                    m.label_zh(),
                    format!("不是整数：{raw}"),
                    format!("not a whole number: {raw}"),
                ));
                continue;
            };
            match check_entry(org, year, &district, m.as_str(), target) {
                Ok(t) => targets.push(t),
                Err((zh, en)) => {
                    let column = if zh.contains("区县") {
                        "区县"
                    } else {
                        m.label_zh()
                    };
                    errors.push(row_error(row, column, zh, en));
                    if column == "区县" {
                        break;
                    }
                }
            }
        }
    }
    (targets, errors)
}

/// `POST /api/v1/plans/import?dry_run=`: an XLSX or CSV plan sheet (body = the file). Every bad
/// row is named (row, column, reason); nothing is applied while any is bad. Idempotent: an
/// unchanged target is not logged again.
#[utoipa::path(post, path = "/api/v1/plans/import", tag = "plans", params(ImportQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 200, body = PlanImport), (status = 422, description = "import_has_errors: {errors: [{row, column, message_zh, message_en}]}")))]
pub async fn import_plans(
    state: web::Data<AppState>,
    auth: Authed<policy::Supervision>,
    q: web::Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let who = auth.0;
    let dry_run = q.dry_run.unwrap_or(true);
    let rows = sheet::read_rows(&body)?;
    let now = state.clock.now_ms();
    let body = state
        .db
        .write(move |conn| {
            let org = Org::load(conn)?;
            let (targets, errors) = parse_plan_sheet(&org, &rows);
            if !errors.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::ImportHasErrors,
                    format!("有 {} 处错误，未导入任何数据", errors.len()),
                    format!("{} errors; nothing was imported", errors.len()),
                )
                .with("errors", json!(errors)));
            }
            let changed = if dry_run {
                0
            } else {
                store::set_targets(
                    conn,
                    &targets,
                    &Changer {
                        id: &who.user_id,
                        name: &who.display_name,
                        source: "import",
                    },
                    now,
                )?
            };
            Ok(PlanImport {
                dry_run,
                rows: rows.len().saturating_sub(1),
                targets: targets.len(),
                changed,
                errors: Vec::new(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/v1/progress?year=`: progress against plan per district and programme (staff).
#[utoipa::path(get, path = "/api/v1/progress", tag = "plans", params(YearQuery), responses((status = 200, body = Progress)))]
pub async fn office_progress(
    state: web::Data<AppState>,
    _p: Principal,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, ApiError> {
    let year = year_of(&state, &q)?;
    let body = state
        .db
        .run(move |conn| Ok(progress::compute(conn, year)?))
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/v1/public/progress?year=`: the same figures without login; sums only, nothing
/// personal.
#[utoipa::path(get, path = "/api/v1/public/progress", tag = "public", params(YearQuery), responses((status = 200, body = Progress)))]
pub async fn public_progress(
    state: web::Data<AppState>,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, ApiError> {
    let year = year_of(&state, &q)?;
    let body = state
        .db
        .run(move |conn| Ok(progress::compute(conn, year)?))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .json(body))
}

/// `GET /api/v1/progress.xlsx?year=`: the progress table (district × measure: plan, done, %,
/// rank).
#[utoipa::path(get, path = "/api/v1/progress.xlsx", tag = "plans", params(YearQuery), responses((status = 200, description = "XLSX workbook", body = SheetFile, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn progress_xlsx(
    state: web::Data<AppState>,
    _p: Principal,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, ApiError> {
    let year = year_of(&state, &q)?;
    let bytes = state
        .db
        .run(move |conn| {
            let p = progress::compute(conn, year)?;
            let headers: Vec<String> =
                ["年度", "区县", "指标", "计划", "完成", "完成率(%)", "排名"]
                    .map(String::from)
                    .to_vec();
            let mut rows = Vec::new();
            for d in p["districts"].as_array().into_iter().flatten() {
                for m in Measure::ALL {
                    let x = &d["programmes"][m.programme()]["measures"][m.as_str()];
                    let num = |v: &Value| v.as_f64().map(Cell::Number).unwrap_or(Cell::Empty);
                    rows.push(vec![
                        Cell::Number(f64::from(year)),
                        Cell::Text(d["name_zh"].as_str().unwrap_or("").to_owned()),
                        Cell::Text(m.label_zh().to_owned()),
                        num(&x["planned"]),
                        num(&x["done"]),
                        num(&x["percent"]),
                        num(&x["rank"]),
                    ]);
                }
            }
            sheet::xlsx("计划完成情况", &headers, &rows)
        })
        .await?;
    Ok(download(bytes, &format!("progress-{year}.xlsx"), false))
}

/// Mounts the plans and progress endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/plans", web::get().to(get_plans))
        .route("/api/v1/plans", web::put().to(set_plans))
        .route("/api/v1/plans.xlsx", web::get().to(plans_xlsx))
        .route("/api/v1/plans/changes", web::get().to(plan_changes))
        .service(
            web::resource("/api/v1/plans/import")
                .app_data(web::PayloadConfig::new(8 * 1024 * 1024))
                .route(web::post().to(import_plans)),
        )
        .route("/api/v1/progress", web::get().to(office_progress))
        .route("/api/v1/progress.xlsx", web::get().to(progress_xlsx))
        .route("/api/v1/public/progress", web::get().to(public_progress));
}
