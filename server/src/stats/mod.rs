//! Rates (考核指标) for supervisors and aggregate figures for the public (信息公开).
//! Formulas: see [`rates`] and `docs/complaints.md`. Both endpoints read the per-day aggregates
//! ([`aggregate`], kept in each event's transaction); [`reference`] computes the same figures from
//! the events.

pub mod aggregate;
pub mod daily;
pub mod rates;
pub mod reference;
pub mod schema;
pub mod summary;

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::{Authed, policy};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

use rates::{UnitRates, rate};

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD` (city dates, both inclusive; default: the last 30 days).
#[derive(Debug, Deserialize)]
pub struct Period {
    /// First day.
    #[serde(default)]
    pub from: Option<String>,
    /// Last day.
    #[serde(default)]
    pub to: Option<String>,
}

/// The longest period the figures are computed over: two years (the public endpoint is
/// unauthenticated, and a longer window would read the whole history on every call).
pub const MAX_WINDOW_YEARS: i64 = 2;

/// The period as `[start, end)` in ms; 400 `window_too_long` beyond [`MAX_WINDOW_YEARS`].
pub fn window(p: &Period, now_ms: i64, tz: &jiff::tz::TimeZone) -> Result<(i64, i64), ApiError> {
    let bad = |field: &str| {
        ApiError::new(
            ErrorCode::InvalidQuery,
            format!("{field} 应为 YYYY-MM-DD 日期"),
            format!("{field} must be a YYYY-MM-DD date"),
        )
    };
    let today = tz.to_datetime(crate::clock::from_ms(now_ms)).date();
    let to = match p.to.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => s.parse::<jiff::civil::Date>().map_err(|_| bad("to"))?,
        None => today,
    };
    let from = match p.from.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => s.parse::<jiff::civil::Date>().map_err(|_| bad("from"))?,
        None => to
            .checked_sub(jiff::Span::new().days(29))
            .map_err(|_| bad("to"))?,
    };
    if from > to {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "from 不能晚于 to",
            "from must not be after to",
        ));
    }
    let earliest = to
        .checked_sub(jiff::Span::new().years(MAX_WINDOW_YEARS))
        .unwrap_or(jiff::civil::Date::MIN);
    if from < earliest {
        return Err(ApiError::new(
            ErrorCode::WindowTooLong,
            "统计区间最长为两年",
            "The period may be at most two years long",
        )
        .with("max_years", serde_json::json!(MAX_WINDOW_YEARS)));
    }
    let start = tz
        .to_timestamp(from.to_datetime(jiff::civil::Time::midnight()))
        .map_err(|_| bad("from"))?;
    let end_day = to.tomorrow().map_err(|_| bad("to"))?;
    let end = tz
        .to_timestamp(end_day.to_datetime(jiff::civil::Time::midnight()))
        .map_err(|_| bad("to"))?;
    Ok((start.as_millisecond(), end.as_millisecond()))
}

/// `GET /api/v1/stats/units`: per unit the complaint rates of the period, its share of verified
/// proof photos, and its rectification orders overdue now (`orders_overdue`,
/// `orders_overdue_oldest_days`: [`crate::clocks::hazards::overdue_by_unit`], whatever the
/// period); a unit with overdue orders and no complaint has a row too.
#[utoipa::path(get, path = "/api/v1/stats/units", tag = "stats", responses((status = 200, description = "Rates per unit (query: from, to), with its rectification orders overdue now (orders_overdue, orders_overdue_oldest_days)", body = Vec<UnitFigures>), (status = 400, description = "invalid_query, or window_too_long (more than two years)")), security(("bearer" = [])))]
pub async fn units(
    state: web::Data<AppState>,
    _auth: Authed<policy::Supervision>,
    q: web::Query<Period>,
) -> Result<HttpResponse, ApiError> {
    let st = state.into_inner();
    let (start, end) = window(&q, st.clock.now_ms(), &st.config.timezone)?;
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let catalog = st.catalog.get(conn, &st.config.timezone)?;
            let (from, to) = aggregate::day_range(&st.config.timezone, start, end);
            let mut rates = aggregate::unit_rates(conn, from, to)?;
            let proofs = proof_shares(conn, start, end)?;
            let today = crate::clocks::hazards::city_today(&st, st.clock.now_ms());
            let orders = crate::clocks::hazards::overdue_by_unit(conn, today)?;
            // A unit with overdue orders and no complaint in the period still has its row.
            for unit in orders.keys() {
                if !rates.iter().any(|r| &r.unit_id == unit) {
                    rates.push(UnitRates {
                        unit_id: unit.clone(),
                        small_sample: true,
                        ..UnitRates::default()
                    });
                }
            }
            Ok(rates
                .into_iter()
                .map(|r| {
                    let (checked, verified) = proofs.get(&r.unit_id).copied().unwrap_or((0, 0));
                    let o = orders.get(&r.unit_id).copied().unwrap_or_default();
                    let unit = catalog.units.get(&r.unit_id);
                    UnitFigures {
                        name_zh: unit.map(|u| u.name_zh.clone()),
                        name_en: unit.map(|u| u.name_en.clone()),
                        rates: r,
                        proofs_checked: checked,
                        proofs_verified: verified,
                        proof_verified_rate: rate(verified, checked),
                        orders_overdue: o.count,
                        orders_overdue_oldest_days: o.oldest_days,
                    }
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// One unit's row of `GET /api/v1/stats/units`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UnitFigures {
    /// The complaint rates of the period.
    #[serde(flatten)]
    pub rates: UnitRates,
    /// Proof photos checked in the period.
    pub proofs_checked: u64,
    /// Of those, verified.
    pub proofs_verified: u64,
    /// `proofs_verified ÷ proofs_checked`; null when none was checked.
    #[schema(required = true)]
    pub proof_verified_rate: Option<f64>,
    /// Rectification orders overdue now (whatever the period).
    pub orders_overdue: u64,
    /// Days the oldest of them is past its deadline (0 when none).
    pub orders_overdue_oldest_days: i64,
    /// The unit's Chinese name (absent for a unit the catalog no longer knows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_zh: Option<String>,
    /// The unit's English name (absent likewise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
}

/// Per unit, the proof photos checked in `[start, end)` and how many of them were verified.
fn proof_shares(
    conn: &mut crate::db::DbConnection,
    start: i64,
    end: i64,
) -> Result<std::collections::HashMap<String, (u64, u64)>, ApiError> {
    use crate::tickets::schema::proof_checks;
    use diesel::dsl::count_star;
    // Counted by the database, one row per unit (index `proof_checks_unit`), not row by row here.
    let in_period = proof_checks::checked_at
        .ge(start)
        .and(proof_checks::checked_at.lt(end));
    let checked: Vec<(Option<String>, i64)> = proof_checks::table
        .filter(in_period)
        .group_by(proof_checks::unit_id)
        .select((proof_checks::unit_id, count_star()))
        .load(conn)?;
    let verified: Vec<(Option<String>, i64)> = proof_checks::table
        .filter(in_period)
        .filter(proof_checks::verified.eq(true))
        .group_by(proof_checks::unit_id)
        .select((proof_checks::unit_id, count_star()))
        .load(conn)?;
    let mut out: std::collections::HashMap<String, (u64, u64)> = std::collections::HashMap::new();
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    for (unit, n) in checked {
        out.entry(unit.unwrap_or_default()).or_default().0 = count(n);
    }
    for (unit, n) in verified {
        out.entry(unit.unwrap_or_default()).or_default().1 = count(n);
    }
    Ok(out)
}

/// `GET /api/v1/public/stats`: per district and category, no personal data.
#[utoipa::path(get, path = "/api/v1/public/stats", tag = "stats", responses((status = 200, description = "Aggregates per district and category (query: from, to)", body = aggregate::PublicStats), (status = 400, description = "invalid_query, or window_too_long (more than two years)")))]
pub async fn public(
    state: web::Data<AppState>,
    q: web::Query<Period>,
) -> Result<HttpResponse, ApiError> {
    let st = state.into_inner();
    let (start, end) = window(&q, st.clock.now_ms(), &st.config.timezone)?;
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let catalog = st.catalog.get(conn, &st.config.timezone)?;
            let (from, to) = aggregate::day_range(&st.config.timezone, start, end);
            aggregate::public_stats(conn, &catalog, from, to)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Mounts the rates endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/stats/units", web::get().to(units))
        .route("/api/v1/public/stats", web::get().to(public))
        .route("/api/v1/stats/summary", web::get().to(summary::summary));
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(units, public, summary::summary))]
pub struct ApiDoc;
