//! Rates (考核指标) for supervisors and aggregate figures for the public (信息公开).
//! Formulas: see [`rates`] and `docs/complaints.md`.

// Row tuples mirror the columns each query selects; naming every one would hide that.
#![allow(clippy::type_complexity)]

pub mod rates;
pub mod summary;

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Authed, policy};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tickets::schema::{ticket_events, tickets};

use rates::{RateEvent, TicketHistory, median, rate, unit_rates};

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
        ApiError::bad_request(
            "invalid_query",
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
        return Err(ApiError::bad_request(
            "invalid_query",
            "from 不能晚于 to",
            "from must not be after to",
        ));
    }
    let earliest = to
        .checked_sub(jiff::Span::new().years(MAX_WINDOW_YEARS))
        .unwrap_or(jiff::civil::Date::MIN);
    if from < earliest {
        return Err(ApiError::bad_request(
            "window_too_long",
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

type EventTuple = (
    String,
    i64,
    String,
    Option<String>,
    String,
    Option<i32>,
    Option<i64>,
    Option<i64>,
);

/// Histories of tickets filed before `end` that were still open at or after `start`.
fn histories(
    conn: &mut crate::db::DbConnection,
    start: i64,
    end: i64,
) -> Result<Vec<(String, TicketHistory)>, ApiError> {
    let rows: Vec<(String, i64)> = tickets::table
        .filter(tickets::created_at.lt(end))
        .filter(
            tickets::closed_at
                .is_null()
                .or(tickets::closed_at.ge(start)),
        )
        .select((tickets::id, tickets::created_at))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(500) {
        let ids: Vec<&str> = chunk.iter().map(|r| r.0.as_str()).collect();
        let evs: Vec<EventTuple> = ticket_events::table
            .filter(ticket_events::ticket_id.eq_any(&ids))
            .order((ticket_events::ticket_id, ticket_events::id))
            .select((
                ticket_events::ticket_id,
                ticket_events::at,
                ticket_events::kind,
                ticket_events::unit_id,
                ticket_events::to_status,
                ticket_events::rating,
                ticket_events::response_due,
                ticket_events::resolution_due,
            ))
            .load(conn)?;
        let mut by: BTreeMap<String, Vec<RateEvent>> = BTreeMap::new();
        for (tid, at, kind, unit_id, to_status, rating, rd, sd) in evs {
            // Time at the dispatch center is not a unit's dispatch.
            let unit_id = if to_status == "dispatching" {
                None
            } else {
                unit_id
            };
            by.entry(tid).or_default().push(RateEvent {
                at: crate::clock::from_ms(at),
                kind,
                unit_id,
                rating,
                response_due: rd.map(crate::clock::from_ms),
                resolution_due: sd.map(crate::clock::from_ms),
            });
        }
        for (id, created) in chunk {
            let events = by.remove(id).unwrap_or_default();
            out.push((
                id.clone(),
                TicketHistory {
                    created_at: crate::clock::from_ms(*created),
                    events,
                },
            ));
        }
    }
    Ok(out)
}

/// `GET /api/v1/stats/units`.
#[utoipa::path(get, path = "/api/v1/stats/units", tag = "stats", responses((status = 200, description = "Rates per unit (query: from, to)"), (status = 400, description = "invalid_query, or window_too_long (more than two years)")), security(("bearer" = [])))]
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
            let hist: Vec<TicketHistory> = histories(conn, start, end)?
                .into_iter()
                .map(|(_, h)| h)
                .collect();
            let rates = unit_rates(
                &hist,
                crate::clock::from_ms(start),
                crate::clock::from_ms(end),
            );
            let proofs = proof_shares(conn, start, end)?;
            Ok(Value::Array(
                rates
                    .into_iter()
                    .map(|r| {
                        let mut v = serde_json::to_value(&r).unwrap_or(Value::Null);
                        let (checked, verified) = proofs.get(&r.unit_id).copied().unwrap_or((0, 0));
                        if let Some(obj) = v.as_object_mut() {
                            obj.insert("proofs_checked".into(), json!(checked));
                            obj.insert("proofs_verified".into(), json!(verified));
                            obj.insert(
                                "proof_verified_rate".into(),
                                json!(rate(verified, checked)),
                            );
                        }
                        if let (Some(obj), Some(u)) =
                            (v.as_object_mut(), catalog.units.get(&r.unit_id))
                        {
                            obj.insert("name_zh".into(), json!(u.name_zh));
                            obj.insert("name_en".into(), json!(u.name_en));
                        }
                        v
                    })
                    .collect(),
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Per unit, the proof photos checked in `[start, end)` and how many of them were verified.
fn proof_shares(
    conn: &mut crate::db::DbConnection,
    start: i64,
    end: i64,
) -> Result<std::collections::HashMap<String, (u64, u64)>, ApiError> {
    use crate::tickets::schema::proof_checks;
    let rows: Vec<(Option<String>, bool)> = proof_checks::table
        .filter(proof_checks::checked_at.ge(start))
        .filter(proof_checks::checked_at.lt(end))
        .select((proof_checks::unit_id, proof_checks::verified))
        .load(conn)?;
    let mut out = std::collections::HashMap::new();
    for (unit, verified) in rows {
        let e: &mut (u64, u64) = out.entry(unit.unwrap_or_default()).or_default();
        e.0 += 1;
        e.1 += u64::from(verified);
    }
    Ok(out)
}

/// `GET /api/v1/public/stats`: per district and category, no personal data.
#[utoipa::path(get, path = "/api/v1/public/stats", tag = "stats", responses((status = 200, description = "Aggregates per district and category (query: from, to)"), (status = 400, description = "invalid_query, or window_too_long (more than two years)")))]
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
            let rows: Vec<(Option<String>, String, String, i64, Option<i64>, Option<i32>)> = tickets::table
                .filter(tickets::created_at.ge(start))
                .filter(tickets::created_at.lt(end))
                .select((tickets::area_id, tickets::category_code, tickets::status, tickets::created_at, tickets::resolved_at, tickets::rating))
                .load(conn)?;
            #[derive(Default)]
            struct Acc {
                received: u64,
                resolved: u64,
                hours: Vec<f64>,
                ratings: u64,
                satisfied: u64,
                by_cat: BTreeMap<String, (u64, u64)>,
            }
            let mut by: BTreeMap<String, Acc> = BTreeMap::new();
            for (area, cat, status, created, resolved_at, rating) in rows {
                let district = area
                    .as_deref()
                    .and_then(|a| catalog.district_of(a))
                    .map_or_else(|| "unknown".to_string(), |d| d.id.clone());
                let acc = by.entry(district).or_default();
                acc.received += 1;
                let done = matches!(status.as_str(), "resolved" | "closed");
                let c = acc.by_cat.entry(cat).or_default();
                c.0 += 1;
                if done {
                    acc.resolved += 1;
                    c.1 += 1;
                    if let Some(r) = resolved_at {
                        acc.hours.push((r - created) as f64 / 3_600_000.0);
                    }
                }
                if let Some(stars) = rating {
                    acc.ratings += 1;
                    if stars >= 4 {
                        acc.satisfied += 1;
                    }
                }
            }
            let districts: Vec<Value> = by
                .into_iter()
                .map(|(id, mut a)| {
                    let area = catalog.areas.get(&id);
                    json!({
                        "area_id": if area.is_some() { json!(id) } else { Value::Null },
                        "name_zh": area.map_or("未定位", |x| x.name_zh.as_str()),
                        "name_en": area.map_or("Not located", |x| x.name_en.as_str()),
                        "received": a.received,
                        "resolved": a.resolved,
                        "median_hours_to_resolve": median(&mut a.hours).map(|h| (h * 100.0).round() / 100.0),
                        "satisfaction_rate": rate(a.satisfied, a.ratings),
                        "by_category": a.by_cat.into_iter().map(|(code, (r, s))| json!({"code": code, "received": r, "resolved": s})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            Ok(json!({"districts": districts}))
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
