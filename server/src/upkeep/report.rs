//! The upkeep pages' API: the property managers ranked by their figures on the complaints of
//! the communities they took over (since each hand-over), one manager with its communities, and
//! one renovated community month by month before and after its hand-over. Staff only, in the
//! caller's scope (a unit role sees the hand-overs to its units and of the communities it
//! serves). Figures: [`super::figures`].

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::{Value, json};

use super::figures::{
    self, DEFAULT_MONTHS, Figures, Handover, MAX_MONTHS, UpkeepTicket, add_months, midnight,
    month_start,
};
use crate::auth::Principal;
use crate::auth::scope::Scope;
use crate::auth::scope::scope_of;
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::org::catalog::Catalog;
use crate::state::AppState;

/// `?months=N` (1..=24, default 6).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MonthsQuery {
    /// Months compared before and after the hand-over (1–24, default 6).
    pub months: Option<i64>,
}

fn months_of(q: &MonthsQuery) -> Result<i64, ApiError> {
    match q.months {
        None => Ok(DEFAULT_MONTHS),
        Some(n) if (1..=MAX_MONTHS).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "months 应为 1 到 24 之间的整数",
            "months must be a whole number from 1 to 24",
        )),
    }
}

struct Ctx {
    catalog: std::sync::Arc<Catalog>,
    tz: jiff::tz::TimeZone,
    now: i64,
    today: Date,
}

fn ctx(conn: &mut DbConnection, st: &AppState) -> Result<Ctx, ApiError> {
    let now = st.clock.now_ms();
    let tz = st.config.timezone.clone();
    Ok(Ctx {
        catalog: st.catalog.get(conn, &tz)?,
        today: tz.to_datetime(crate::clock::from_ms(now)).date(),
        tz,
        now,
    })
}

fn names(c: &Catalog, area: &str) -> Value {
    let a = c.areas.get(area);
    json!({
        "name_zh": a.map(|a| a.name_zh.clone()),
        "name_en": a.map(|a| a.name_en.clone()),
        "district_zh": c.district_of(area).map(|d| d.name_zh.clone()),
        "district_en": c.district_of(area).map(|d| d.name_en.clone()),
    })
}

fn project_json(conn: &mut DbConnection, id: &str) -> Result<Value, ApiError> {
    let p = crate::registers::query::record(conn, id, &Scope::All)?;
    Ok(match p {
        Some((p, _)) => json!({"id": id, "code": p.text("code"), "name": p.text("name"),
            "actual_completion": p.text("actual_completion")}),
        None => json!({"id": id}),
    })
}

/// One hand-over's figures: the manager's own counters on the community's upkeep tickets from
/// the hand-over day to the next hand-over (or now), and its open overdue tickets there.
struct Period<'a> {
    h: &'a Handover,
    figures: Figures,
    overdue_open: usize,
    current: bool,
}

fn period<'a>(
    c: &Ctx,
    h: &'a Handover,
    until: Option<Date>,
    tickets: &[UpkeepTicket],
) -> Period<'a> {
    let from = midnight(&c.tz, h.took_over_on);
    let to = until.map_or(c.now, |d| midnight(&c.tz, d).min(c.now));
    let figures = figures::figures(tickets, from, to, Some(&h.unit_id));
    let overdue_open = if until.is_none() {
        tickets
            .iter()
            .filter(|t| t.unit_id.as_deref() == Some(h.unit_id.as_str()) && t.overdue_open(c.now))
            .count()
    } else {
        0
    };
    Period {
        h,
        figures,
        overdue_open,
        current: until.is_none(),
    }
}

/// Every property manager (unit kind `property_manager`) the caller may see, with its
/// communities and its figures, ranked (small samples unranked).
fn managers(conn: &mut DbConnection, c: &Ctx, scope: &Scope) -> Result<Vec<Value>, ApiError> {
    let all = figures::handovers(conn)?;
    let areas: Vec<String> = all.iter().map(|h| h.area_id.clone()).collect();
    let tickets = figures::tickets_of(conn, &areas, c.now)?;
    let empty = Vec::new();
    let mut by_unit: BTreeMap<String, Vec<Period<'_>>> = BTreeMap::new();
    for (h, until) in figures::periods(&all) {
        if !figures::visible(scope, h) {
            continue;
        }
        let ts = tickets.get(&h.area_id).unwrap_or(&empty);
        by_unit
            .entry(h.unit_id.clone())
            .or_default()
            .push(period(c, h, until, ts));
    }
    let mut rows: Vec<(Option<f64>, String, Value)> = Vec::new();
    for u in c.catalog.units.values() {
        if u.kind != "property_manager" {
            continue;
        }
        let own = uuid::Uuid::try_parse(&u.id).ok();
        let periods = by_unit.remove(&u.id).unwrap_or_default();
        if periods.is_empty() && !scope.sees(own, None) {
            continue;
        }
        let mut total = Figures::default();
        let mut overdue_open = 0;
        let mut communities = Vec::new();
        for p in &periods {
            total.merge(&p.figures);
            overdue_open += p.overdue_open;
            let mut v = names(&c.catalog, &p.h.area_id);
            v["area_id"] = json!(p.h.area_id);
            v["handover_id"] = json!(p.h.id);
            v["project_id"] = json!(p.h.project_id);
            v["took_over_on"] = json!(p.h.took_over_on.to_string());
            v["current"] = json!(p.current);
            v["figures"] = serde_json::to_value(&p.figures).unwrap_or(Value::Null);
            v["overdue_open"] = json!(p.overdue_open);
            communities.push(v);
        }
        let total = total.finish();
        let score = if total.small_sample {
            None
        } else {
            total.score()
        };
        rows.push((
            score,
            u.code.clone(),
            json!({
                "unit_id": u.id, "code": u.code, "name_zh": u.name_zh, "name_en": u.name_en,
                "communities": communities, "figures": total, "overdue_open": overdue_open,
                "score": score,
            }),
        ));
    }
    rows.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.1.cmp(&b.1)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.1.cmp(&b.1),
    });
    let mut rank = 0;
    Ok(rows
        .into_iter()
        .map(|(score, _, mut v)| {
            if score.is_some() {
                rank += 1;
                v["rank"] = json!(rank);
            } else {
                v["rank"] = Value::Null;
            }
            v
        })
        .collect())
}

/// `GET /api/v1/upkeep/managers`: every property manager in scope, ranked by the mean of its
/// response, resolution and satisfaction rates on the facility and property-management
/// complaints of its communities since it took them over (fewer than 10 dispatches: shown,
/// `rank: null`).
#[utoipa::path(get, path = "/api/v1/upkeep/managers", tag = "upkeep", responses((status = 200, body = super::answers::ManagerList)))]
pub async fn list_managers(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let st = state.into_inner();
    let body = st
        .db
        .clone()
        .run(move |conn| {
            let c = ctx(conn, &st)?;
            let scope = scope_of(conn, &principal)?;
            let items = managers(conn, &c, &scope)?;
            Ok(
                json!({"items": items, "min_sample": crate::stats::rates::MIN_SAMPLE,
                "categories": super::CATEGORIES}),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/v1/upkeep/managers/{unit_id}`: one property manager (id or code) with its rank,
/// figures and communities (404 `unit_not_found` for another kind of unit or out of scope).
#[utoipa::path(get, path = "/api/v1/upkeep/managers/{unit_id}", tag = "upkeep", params(("unit_id" = String, Path)), responses((status = 200, body = super::answers::ManagerPage), (status = 404, description = "unit_not_found")))]
pub async fn get_manager(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let st = state.into_inner();
    let body = st
        .db
        .clone()
        .run(move |conn| {
            let c = ctx(conn, &st)?;
            let scope = scope_of(conn, &principal)?;
            let items = managers(conn, &c, &scope)?;
            let ranked = items.iter().filter(|v| !v["rank"].is_null()).count();
            let m = items
                .into_iter()
                .find(|v| v["unit_id"] == id.as_str() || v["code"] == id.as_str())
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::UnitNotFound,
                        "没有这个物业服务企业，或不在您的管辖范围内",
                        "no such property manager, or not in your scope",
                    )
                })?;
            let mut m = m;
            if let Some(list) = m["communities"].as_array_mut() {
                for v in list {
                    let pid = v["project_id"].as_str().unwrap_or("").to_owned();
                    v["project"] = project_json(conn, &pid)?;
                }
            }
            Ok(json!({"manager": m, "ranked_of": ranked, "min_sample": crate::stats::rates::MIN_SAMPLE}))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

fn phase(start: i64, end: i64, t: i64) -> &'static str {
    if end <= t {
        "before"
    } else if start >= t {
        "after"
    } else {
        "handover"
    }
}

fn change(before: Option<f64>, after: Option<f64>) -> Value {
    match (before, after) {
        (Some(b), Some(a)) => json!(((a - b) * 10_000.0).round() / 10_000.0),
        _ => Value::Null,
    }
}

/// A community's comparison (see [`get_community`]).
fn community(
    conn: &mut DbConnection,
    c: &Ctx,
    scope: &Scope,
    area: &str,
    months: i64,
) -> Result<Value, ApiError> {
    let all = figures::handovers(conn)?;
    let mine: Vec<&Handover> = all
        .iter()
        .filter(|h| h.area_id == area && figures::visible(scope, h))
        .collect();
    let Some(h) = mine.last().copied() else {
        return Err(ApiError::new(
            ErrorCode::CommunityNotFound,
            "该小区没有移交后续管理记录，或不在您的管辖范围内",
            "this community was not handed over to a property manager, or is not in your scope",
        ));
    };
    let t = midnight(&c.tz, h.took_over_on);
    let before_from = midnight(&c.tz, add_months(h.took_over_on, -months));
    let after_to = midnight(&c.tz, add_months(h.took_over_on, months)).min(c.now);
    let tickets = figures::tickets_of(conn, &[area.to_owned()], c.now)?;
    let ts: &[UpkeepTicket] = tickets.get(area).map_or(&[], Vec::as_slice);
    // Calendar months from the one N months before the hand-over to the last one compared.
    let last_day = add_months(h.took_over_on, months)
        .yesterday()
        .unwrap_or(h.took_over_on)
        .min(c.today);
    let mut monthly = Vec::new();
    let mut m = month_start(add_months(h.took_over_on, -months));
    while m <= last_day && monthly.len() < 2 * MAX_MONTHS as usize + 2 {
        let next = add_months(m, 1);
        let (s, e) = (midnight(&c.tz, m), midnight(&c.tz, next).min(c.now));
        let f = figures::figures(ts, s, e, None);
        let overdue_open = ts
            .iter()
            .filter(|x| x.created_at >= s && x.created_at < e && x.overdue_open(c.now))
            .count();
        let mut v = serde_json::to_value(&f).unwrap_or(Value::Null);
        v["month"] = json!(format!("{:04}-{:02}", m.year(), m.month()));
        v["phase"] = json!(phase(s, e, t));
        v["overdue_open"] = json!(overdue_open);
        monthly.push(v);
        m = next;
    }
    let before = figures::figures(ts, before_from, t, None);
    let after = figures::figures(ts, t, after_to, None);
    let manager = period(c, h, None, ts);
    let unit = c.catalog.units.get(&h.unit_id);
    let mut v = names(&c.catalog, area);
    v["area_id"] = json!(area);
    v["months"] = json!(months);
    v["handover"] = json!({
        "id": h.id, "took_over_on": h.took_over_on.to_string(), "unit_id": h.unit_id,
        "unit_code": unit.map(|u| u.code.clone()), "unit_name_zh": unit.map(|u| u.name_zh.clone()),
        "unit_name_en": unit.map(|u| u.name_en.clone()),
        "project": project_json(conn, &h.project_id)?,
    });
    v["earlier_handovers"] = json!(
        mine[..mine.len() - 1]
            .iter()
            .map(|o| json!({"id": o.id, "unit_id": o.unit_id, "took_over_on": o.took_over_on.to_string()}))
            .collect::<Vec<_>>()
    );
    v["before"] = json!({"from": add_months(h.took_over_on, -months).to_string(),
        "to": h.took_over_on.yesterday().unwrap_or(h.took_over_on).to_string(), "figures": before});
    v["after"] = json!({"from": h.took_over_on.to_string(),
        "to": last_day.max(h.took_over_on).to_string(), "figures": after});
    v["change"] = json!({
        "complaints": after.complaints as i64 - before.complaints as i64,
        "response_rate": change(before.response_rate, after.response_rate),
        "resolution_rate": change(before.resolution_rate, after.resolution_rate),
        "satisfaction_rate": change(before.satisfaction_rate, after.satisfaction_rate),
        "overdue": after.overdue as i64 - before.overdue as i64,
    });
    v["manager_figures"] = serde_json::to_value(&manager.figures).unwrap_or(Value::Null);
    v["overdue_open"] = json!(manager.overdue_open);
    v["monthly"] = Value::Array(monthly);
    Ok(v)
}

/// `GET /api/v1/upkeep/communities/{area_id}?months=6`: a renovated community month by month,
/// for the N months before its (latest) hand-over and the N after (up to today): complaints in
/// the upkeep categories, the three rates, deadlines missed, open overdue; the before and after
/// periods summed and their difference; the manager's own figures since it took over.
#[utoipa::path(get, path = "/api/v1/upkeep/communities/{area_id}", tag = "upkeep", params(("area_id" = String, Path), MonthsQuery), responses((status = 200, body = super::answers::CommunityPage), (status = 400, description = "invalid_query"), (status = 404, description = "community_not_found")))]
pub async fn get_community(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    q: web::Query<MonthsQuery>,
) -> Result<HttpResponse, ApiError> {
    let months = months_of(&q)?;
    let area = path.into_inner();
    let st = state.into_inner();
    let body = st
        .db
        .clone()
        .run(move |conn| {
            let c = ctx(conn, &st)?;
            let scope = scope_of(conn, &principal)?;
            community(conn, &c, &scope, &area, months)
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}
