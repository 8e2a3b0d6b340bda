//! The supervision board's figures (督办看板): tickets filed in a period counted by status,
//! category, community and district, with how many are open past their resolution deadline, and
//! per day. Counted by the database over every ticket of the period (not a capped list in the
//! browser), so the numbers are right at any volume.

// Row tuples mirror the columns each query selects; naming every one would hide that.
#![allow(clippy::type_complexity)]

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Authed, policy};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::org::catalog::Catalog;
use crate::state::AppState;
use crate::tickets::schema::tickets;

use super::{Period, window};

/// Statuses in which a unit holds the ticket and its resolution clock runs.
const OPEN_AT_UNIT: [&str; 4] = ["dispatched", "accepted", "reopened", "escalated"];

/// `?from&to&unit_id`: the period (as for the rates) and optionally one holding unit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// First day (city date, inclusive).
    #[serde(default)]
    pub from: Option<String>,
    /// Last day (inclusive).
    #[serde(default)]
    pub to: Option<String>,
    /// Only tickets this unit holds now (id or code).
    #[serde(default)]
    pub unit_id: Option<String>,
}

#[derive(Default)]
struct Tally {
    received: i64,
    open: i64,
    overdue: i64,
}

fn is_open(status: &str) -> bool {
    !matches!(status, "resolved" | "closed")
}

fn unit_of(catalog: &Catalog, raw: &str) -> Result<String, ApiError> {
    if catalog.units.contains_key(raw) {
        return Ok(raw.to_string());
    }
    catalog
        .units
        .values()
        .find(|u| u.code == raw)
        .map(|u| u.id.clone())
        .ok_or_else(|| {
            ApiError::bad_request("unknown_unit", "没有这个单位", "unit_id names no unit")
        })
}

fn counts(
    conn: &mut DbConnection,
    start: i64,
    end: i64,
    unit: Option<&str>,
    now: i64,
) -> Result<
    (
        Vec<(String, Option<String>, String, i64)>,
        Vec<(String, Option<String>, i64)>,
    ),
    ApiError,
> {
    let mut q = tickets::table
        .filter(tickets::created_at.ge(start))
        .filter(tickets::created_at.lt(end))
        .group_by((tickets::category_code, tickets::area_id, tickets::status))
        .select((
            tickets::category_code,
            tickets::area_id,
            tickets::status,
            diesel::dsl::count_star(),
        ))
        .into_boxed();
    let mut o = tickets::table
        .filter(tickets::created_at.ge(start))
        .filter(tickets::created_at.lt(end))
        .filter(tickets::status.eq_any(OPEN_AT_UNIT))
        .filter(tickets::resolution_due.lt(now))
        .group_by((tickets::category_code, tickets::area_id))
        .select((
            tickets::category_code,
            tickets::area_id,
            diesel::dsl::count_star(),
        ))
        .into_boxed();
    if let Some(u) = unit {
        q = q.filter(tickets::unit_id.eq(u.to_string()));
        o = o.filter(tickets::unit_id.eq(u.to_string()));
    }
    Ok((q.load(conn)?, o.load(conn)?))
}

fn per_day(
    conn: &mut DbConnection,
    start: i64,
    end: i64,
    unit: Option<&str>,
) -> Result<Vec<(i64, i64)>, ApiError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        d: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    use diesel::sql_types::{BigInt, Text};
    // Days counted from the period's start (a city midnight): the city's zone keeps whole days.
    let rows: Vec<Row> = match (conn, unit) {
        (DbConnection::Pg(c), None) => diesel::sql_query(
            "SELECT (created_at - $1) / 86400000 AS d, COUNT(*) AS n FROM tickets \
             WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 1",
        )
        .bind::<BigInt, _>(start)
        .bind::<BigInt, _>(end)
        .load(c)?,
        (DbConnection::Pg(c), Some(u)) => diesel::sql_query(
            "SELECT (created_at - $1) / 86400000 AS d, COUNT(*) AS n FROM tickets \
             WHERE created_at >= $1 AND created_at < $2 AND unit_id = $3 GROUP BY 1 ORDER BY 1",
        )
        .bind::<BigInt, _>(start)
        .bind::<BigInt, _>(end)
        .bind::<Text, _>(u)
        .load(c)?,
        (DbConnection::Sqlite(c), None) => diesel::sql_query(
            "SELECT (created_at - ?1) / 86400000 AS d, COUNT(*) AS n FROM tickets \
             WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1 ORDER BY 1",
        )
        .bind::<BigInt, _>(start)
        .bind::<BigInt, _>(end)
        .load(c)?,
        (DbConnection::Sqlite(c), Some(u)) => diesel::sql_query(
            "SELECT (created_at - ?1) / 86400000 AS d, COUNT(*) AS n FROM tickets \
             WHERE created_at >= ?1 AND created_at < ?2 AND unit_id = ?3 GROUP BY 1 ORDER BY 1",
        )
        .bind::<BigInt, _>(start)
        .bind::<BigInt, _>(end)
        .bind::<Text, _>(u)
        .load(c)?,
    };
    Ok(rows.into_iter().map(|r| (r.d, r.n)).collect())
}

fn named(id: &str, zh: &str, en: &str, t: &Tally) -> Value {
    json!({"id": id, "name_zh": zh, "name_en": en, "received": t.received, "open": t.open, "overdue": t.overdue})
}

fn sorted(map: BTreeMap<String, Tally>, name: impl Fn(&str) -> (String, String)) -> Vec<Value> {
    let mut v: Vec<(String, Tally)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.received.cmp(&a.1.received).then(a.0.cmp(&b.0)));
    v.iter()
        .map(|(id, t)| {
            let (zh, en) = name(id);
            named(id, &zh, &en, t)
        })
        .collect()
}

/// `GET /api/v1/stats/summary`: the board's counts for a period (at most 366 days).
#[utoipa::path(get, path = "/api/v1/stats/summary", tag = "stats",
    params(("from" = Option<String>, Query, description = "first day YYYY-MM-DD"),
           ("to" = Option<String>, Query, description = "last day YYYY-MM-DD"),
           ("unit_id" = Option<String>, Query, description = "holding unit, id or code")),
    responses((status = 200, description = "Counts by status, category, community, district and day"),
              (status = 400, description = "invalid_query, window_too_long or unknown_unit")),
    security(("bearer" = [])))]
pub async fn summary(
    state: web::Data<AppState>,
    _auth: Authed<policy::Supervision>,
    q: web::Query<SummaryQuery>,
) -> Result<HttpResponse, ApiError> {
    let st = state.into_inner();
    let q = q.into_inner();
    let now = st.clock.now_ms();
    let period = Period {
        from: q.from.clone(),
        to: q.to.clone(),
    };
    let (start, end) = window(&period, now, &st.config.timezone)?;
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let catalog = st.catalog.get(conn, &st.config.timezone)?;
            let unit = q
                .unit_id
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|u| unit_of(&catalog, u))
                .transpose()?;
            let (rows, overdue_rows) = counts(conn, start, end, unit.as_deref(), now)?;
            let days = per_day(conn, start, end, unit.as_deref())?;
            let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
            let mut by_cat: BTreeMap<String, Tally> = BTreeMap::new();
            let mut by_com: BTreeMap<String, Tally> = BTreeMap::new();
            let mut by_dis: BTreeMap<String, Tally> = BTreeMap::new();
            let district = |area: &Option<String>| {
                area.as_deref()
                    .and_then(|a| catalog.district_of(a))
                    .map_or_else(String::new, |d| d.id.clone())
            };
            let community = |area: &Option<String>| area.clone().unwrap_or_default();
            let mut total = Tally::default();
            for (cat, area, status, n) in &rows {
                *by_status.entry(status.clone()).or_default() += n;
                let open = if is_open(status) { *n } else { 0 };
                for t in [
                    by_cat.entry(cat.clone()).or_default(),
                    by_com.entry(community(area)).or_default(),
                    by_dis.entry(district(area)).or_default(),
                    &mut total,
                ] {
                    t.received += n;
                    t.open += open;
                }
            }
            for (cat, area, n) in &overdue_rows {
                for t in [
                    by_cat.entry(cat.clone()).or_default(),
                    by_com.entry(community(area)).or_default(),
                    by_dis.entry(district(area)).or_default(),
                    &mut total,
                ] {
                    t.overdue += n;
                }
            }
            let area_name = |id: &str| match catalog.areas.get(id) {
                Some(a) => (a.name_zh.clone(), a.name_en.clone()),
                None => ("未定位".into(), "Not located".into()),
            };
            let cat_name = |code: &str| match catalog.categories.get(code) {
                Some(c) => (c.name_zh.clone(), c.name_en.clone()),
                None => (code.to_string(), code.to_string()),
            };
            let start_ts = crate::clock::from_ms(start);
            let tz = &st.config.timezone;
            let first = tz.to_datetime(start_ts).date();
            let per_day: Vec<Value> = days
                .into_iter()
                .map(|(d, n)| {
                    let day = first
                        .checked_add(jiff::Span::new().days(d))
                        .map_or_else(|_| d.to_string(), |x| x.to_string());
                    json!({"day": day, "received": n})
                })
                .collect();
            Ok(json!({
                "from": first.to_string(),
                "to": tz.to_datetime(crate::clock::from_ms(end - 1)).date().to_string(),
                "unit_id": unit,
                "received": total.received,
                "open": total.open,
                "overdue": total.overdue,
                "by_status": by_status.into_iter().map(|(s, n)| json!({"status": s, "count": n})).collect::<Vec<_>>(),
                "by_category": sorted(by_cat, cat_name),
                "by_community": sorted(by_com, area_name),
                "by_district": sorted(by_dis, area_name),
                "per_day": per_day,
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}
