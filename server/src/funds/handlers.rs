//! HTTP handlers of the fund ledgers: the office list with flags, a project's ledger, recording
//! an entry (all or nothing; a payment beyond the funds received is refused with
//! `payment_exceeds_received`), the XLSX export and the public figures. The sheet import is in
//! [`super::import`].

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use jiff::civil::Date;
use serde::Deserialize;

use super::answers::{FundsList, Ledger, LedgerEntry, Recorded, sources};
use super::flags::Thresholds;
use super::ledger::{self, Kind, NewEntry, Recorder, Refusal, Source};
use super::report;
use crate::auth::Role;
use crate::auth::principal::{Authed, RolePolicy};
use crate::auth::scope::Scope;
use crate::auth::scope::scope_of;
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::http::ids::ProjectId;
use crate::registers::query::{self, Live, Org};
use crate::registers::sheet::{self, Cell, SheetFile};
use crate::state::AppState;

/// Who may record fund entries: administrators, supervisors and a unit's administrators and
/// staff (for the projects in their scope).
pub struct FundRecording;
impl RolePolicy for FundRecording {
    const ROLES: &'static [Role] = &[
        Role::Admin,
        Role::Supervisor,
        Role::UnitAdmin,
        Role::UnitStaff,
    ];
}

/// Who may read the fund figures (the office list, a ledger, the export): the same roles, the
/// one rule that also decides which devices pull fund summaries
/// ([`super::record::FUND_ROLES`]).
pub struct FundAccess;
impl RolePolicy for FundAccess {
    const ROLES: &'static [Role] = super::record::FUND_ROLES;
}

/// Today in the city's time zone.
pub fn today(state: &AppState) -> Date {
    state.config.timezone.to_datetime(state.clock.now()).date()
}

/// A refusal as a 422 with its code.
pub fn refusal(r: Refusal) -> ApiError {
    ApiError::new(r.code, r.zh, r.en)
}

fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::ProjectNotFound,
        "没有这个项目，或不在您的管辖范围内",
        "no such project, or not in your scope",
    )
}

/// The live project `id` if `scope` sees it.
pub fn project(conn: &mut DbConnection, id: &str, scope: &Scope) -> Result<Live, ApiError> {
    match query::record(conn, id, scope)? {
        Some((p, false)) if p.record.record_type == "project" => Ok(p),
        _ => Err(not_found()),
    }
}

/// `GET /api/v1/funds?idle_days=&ahead_margin=`: every project in the caller's scope with its
/// budget, received, paid and supervision flags.
#[utoipa::path(get, path = "/api/v1/funds", tag = "funds", params(Thresholds), responses((status = 200, body = FundsList)))]
pub async fn list_funds(
    state: web::Data<AppState>,
    auth: Authed<FundAccess>,
    q: web::Query<Thresholds>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    let t = q.into_inner();
    let today = today(&state);
    let body = state
        .db
        .run(move |conn| {
            let scope = scope_of(conn, &principal)?;
            let items = report::summaries(conn, &scope, today, &t)?;
            let flagged = items.iter().filter(|i| i.flags.any()).count();
            Ok(FundsList {
                items,
                flagged,
                idle_days: t.idle_days(),
                ahead_margin: t.ahead_margin(),
                sources: sources(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

fn ledger_of(
    conn: &mut DbConnection,
    p: &Live,
    today: Date,
    t: &Thresholds,
) -> Result<Ledger, ApiError> {
    let org = Org::load(conn)?;
    let id = p.record.id.to_string();
    let l = ledger::load(conn, &id)?;
    let summary = report::summary(&org, p, &l, today, t);
    let entries = l
        .entries
        .iter()
        .rev()
        .map(|e| LedgerEntry {
            entry: e.clone(),
            effective_amount: e.corrects.is_none().then(|| l.effective(&e.id)),
        })
        .collect();
    Ok(Ledger {
        funds: summary,
        entries,
        sources: sources(),
    })
}

/// `GET /api/v1/funds/projects/{id}`: a project's ledger: totals by source, flags and every
/// entry (newest first; corrections are entries naming the one they correct).
#[utoipa::path(get, path = "/api/v1/funds/projects/{id}", tag = "funds", params(("id" = uuid::Uuid, Path), Thresholds), responses((status = 200, body = Ledger), (status = 404, description = "project_not_found")))]
pub async fn project_ledger(
    state: web::Data<AppState>,
    auth: Authed<FundAccess>,
    path: web::Path<ProjectId>,
    q: web::Query<Thresholds>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    let id = path.into_inner().to_string();
    let t = q.into_inner();
    let today = today(&state);
    let body = state
        .db
        .run(move |conn| {
            let scope = scope_of(conn, &principal)?;
            let p = project(conn, &id, &scope)?;
            ledger_of(conn, &p, today, &t)
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// `POST /api/v1/funds/projects/{id}/entries`: records one entry (budget, received or paid; or
/// a correction of an earlier entry) with the caller as its recorder. Refused with a stable code
/// and nothing recorded: `payment_exceeds_received`, `invalid_fund_kind`, `invalid_fund_source`,
/// `invalid_fund_amount`, `invalid_fund_date`, `fund_entry_not_found`, `correction_below_zero`.
#[utoipa::path(post, path = "/api/v1/funds/projects/{id}/entries", tag = "funds", params(("id" = uuid::Uuid, Path)), request_body = NewEntry, responses((status = 201, body = Recorded), (status = 404, description = "project_not_found"), (status = 422, description = "payment_exceeds_received and the other codes")))]
pub async fn record_entry(
    state: web::Data<AppState>,
    auth: Authed<FundRecording>,
    path: web::Path<ProjectId>,
    body: web::Json<NewEntry>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.0;
    let id = path.into_inner().to_string();
    let e = body.into_inner();
    let today = today(&state);
    let now = state.clock.now_ms();
    let body = state
        .db
        .write(move |conn| {
            let scope = scope_of(conn, &who)?;
            let p = project(conn, &id, &scope)?;
            let l = ledger::load(conn, &id)?;
            let checked = l.check(&e, today).map_err(refusal)?;
            let entry = ledger::insert(
                conn,
                &id,
                &checked,
                &Recorder {
                    id: &who.user_id,
                    name: &who.display_name,
                    origin: "api",
                },
                now,
                today,
            )?;
            let ledger = ledger_of(
                conn,
                &p,
                today,
                &Thresholds {
                    idle_days: None,
                    ahead_margin: None,
                },
            )?;
            Ok(Recorded { entry, ledger })
        })
        .await?;
    Ok(HttpResponse::Created().json(body))
}

/// `?year=YYYY`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct YearQuery {
    /// Year (default: the current year in the city's time zone).
    pub year: Option<i64>,
}

fn year_of(state: &AppState, q: &YearQuery) -> Result<i32, ApiError> {
    match q.year {
        Some(y) => crate::plans::store::parse_year(y),
        None => Ok(i32::from(today(state).year())),
    }
}

/// `GET /api/v1/public/funds?year=`: budget, received and paid of the year per district and
/// programme (yuan), without login; sums only, nothing personal.
#[utoipa::path(get, path = "/api/v1/public/funds", tag = "public", params(YearQuery), responses((status = 200, body = crate::funds::answers::PublicFunds)))]
pub async fn public_funds(
    state: web::Data<AppState>,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, ApiError> {
    let year = year_of(&state, &q)?;
    let body = state
        .db
        .run(move |conn| Ok(report::public(conn, year)?))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .json(body))
}

/// The columns of the fund sheet (import reads the first six; export adds the rest).
pub const HEADERS: [&str; 10] = [
    "项目编号",
    "类型",
    "资金来源",
    "金额(元)",
    "日期",
    "备注",
    "记录编号",
    "更正记录",
    "记录人",
    "记录时间",
];

/// `GET /api/v1/funds.xlsx?year=`: every entry of the projects in the caller's scope (of the
/// year when given), in the import sheet's layout plus id, corrected id, recorder and time.
#[utoipa::path(get, path = "/api/v1/funds.xlsx", tag = "funds", params(YearQuery), responses((status = 200, description = "XLSX workbook", body = SheetFile, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn funds_xlsx(
    state: web::Data<AppState>,
    auth: Authed<FundAccess>,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    let year = match q.year {
        Some(y) => Some(crate::plans::store::parse_year(y)?),
        None => None,
    };
    let tz = state.config.timezone.clone();
    let bytes = state
        .db
        .run(move |conn| {
            let scope = scope_of(conn, &principal)?;
            let projects = query::live_records(conn, "project", &scope, &query::Narrow::default())?;
            let ledgers = ledger::load_all(conn)?;
            let prefix = year.map(|y| format!("{y:04}-"));
            let mut rows = Vec::new();
            let mut ps: Vec<&Live> = projects.iter().collect();
            ps.sort_by(|a, b| a.text("code").cmp(&b.text("code")));
            for p in ps {
                let Some(l) = ledgers.get(&p.record.id.to_string()) else {
                    continue;
                };
                let code = p
                    .text("code")
                    .map(str::to_owned)
                    .unwrap_or_else(|| p.record.id.to_string());
                for e in &l.entries {
                    if prefix
                        .as_ref()
                        .is_some_and(|x| !e.entry_date.starts_with(x))
                    {
                        continue;
                    }
                    let at = tz.to_datetime(crate::clock::from_ms(e.recorded_at));
                    rows.push(vec![
                        Cell::Text(code.clone()),
                        Cell::Text(
                            Kind::parse(&e.kind)
                                .map(|k| k.label_zh())
                                .unwrap_or("")
                                .to_owned(),
                        ),
                        Cell::Text(
                            e.source
                                .as_deref()
                                .and_then(Source::parse)
                                .map(|s| s.label_zh())
                                .unwrap_or("")
                                .to_owned(),
                        ),
                        Cell::Number(e.amount as f64),
                        Cell::Text(e.entry_date.clone()),
                        Cell::Text(e.note.clone()),
                        Cell::Text(e.id.clone()),
                        Cell::Text(e.corrects.clone().unwrap_or_default()),
                        Cell::Text(e.recorded_by_name.clone()),
                        Cell::Text(at.strftime("%Y-%m-%d %H:%M").to_string()),
                    ]);
                }
            }
            let headers: Vec<String> = HEADERS.map(String::from).to_vec();
            sheet::xlsx("资金台账", &headers, &rows)
        })
        .await?;
    let name = match year {
        Some(y) => format!("funds-{y}.xlsx"),
        None => "funds.xlsx".to_owned(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(bytes))
}

/// Mounts the funds endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/funds", web::get().to(list_funds))
        .route("/api/v1/funds.xlsx", web::get().to(funds_xlsx))
        .route("/api/v1/funds/projects/{id}", web::get().to(project_ledger))
        .route(
            "/api/v1/funds/projects/{id}/entries",
            web::post().to(record_entry),
        )
        .service(
            web::resource("/api/v1/funds/import")
                .app_data(web::PayloadConfig::new(8 * 1024 * 1024))
                .route(web::post().to(super::import::import_funds)),
        )
        .route("/api/v1/public/funds", web::get().to(public_funds));
}
