//! The figures over a period, read from the aggregates as sums over its days: the work depends
//! on days × units, not on the number of tickets.

use std::collections::BTreeMap;

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::org::catalog::Catalog;

use super::super::daily::histogram_median;
use super::super::rates::{MIN_SAMPLE, UnitRates, rate};

#[derive(QueryableByName)]
struct UnitSums {
    #[diesel(sql_type = diesel::sql_types::Text)]
    unit_id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    dispatched: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    accepted_in_time: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    resolved: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    overdue: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    closed_answered: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    confirmed_solved: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    ratings: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    satisfied: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    returns: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    extensions: i64,
}

#[derive(QueryableByName)]
struct HourSums {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    bucket: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct PublicSums {
    #[diesel(sql_type = diesel::sql_types::Text)]
    district_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    category_code: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    received: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    resolved: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    ratings: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    satisfied: i64,
}

/// Runs `sql` (PostgreSQL placeholders `$1`, `$2`: the days) on either backend.
fn load_days<T>(conn: &mut DbConnection, sql: &str, from: i32, to: i32) -> Result<Vec<T>, ApiError>
where
    T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    use diesel::sql_types::Integer;
    Ok(match conn {
        DbConnection::Pg(c) => diesel::sql_query(sql)
            .bind::<Integer, _>(from)
            .bind::<Integer, _>(to)
            .load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql.replace('$', "?"))
            .bind::<Integer, _>(from)
            .bind::<Integer, _>(to)
            .load(c)?,
    })
}

fn histograms(rows: Vec<HourSums>) -> BTreeMap<String, BTreeMap<i32, i64>> {
    let mut out: BTreeMap<String, BTreeMap<i32, i64>> = BTreeMap::new();
    for r in rows {
        *out.entry(r.key).or_default().entry(r.bucket).or_insert(0) += r.n;
    }
    out
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Per-unit rates for the days `from..=to` (YYYYMMDD), from the aggregates: the same counters
/// and rates as [`crate::stats::rates::unit_rates`] over the events of that period;
/// `median_hours_to_resolve` from the histogram (within 4.5 %).
pub fn unit_rates(conn: &mut DbConnection, from: i32, to: i32) -> Result<Vec<UnitRates>, ApiError> {
    let sums: Vec<UnitSums> = load_days(
        conn,
        "SELECT unit_id, CAST(SUM(dispatched) AS BIGINT) AS dispatched, \
         CAST(SUM(accepted_in_time) AS BIGINT) AS accepted_in_time, \
         CAST(SUM(resolved) AS BIGINT) AS resolved, CAST(SUM(overdue) AS BIGINT) AS overdue, \
         CAST(SUM(closed_answered) AS BIGINT) AS closed_answered, \
         CAST(SUM(confirmed_solved) AS BIGINT) AS confirmed_solved, \
         CAST(SUM(ratings) AS BIGINT) AS ratings, CAST(SUM(satisfied) AS BIGINT) AS satisfied, \
         CAST(SUM(returns) AS BIGINT) AS returns, CAST(SUM(extensions) AS BIGINT) AS extensions \
         FROM stats_unit_daily WHERE day >= $1 AND day <= $2 GROUP BY unit_id ORDER BY unit_id",
        from,
        to,
    )?;
    let mut hours = histograms(load_days(
        conn,
        "SELECT unit_id AS key, bucket, CAST(SUM(n) AS BIGINT) AS n FROM stats_unit_hours \
         WHERE day >= $1 AND day <= $2 GROUP BY unit_id, bucket",
        from,
        to,
    )?);
    Ok(sums
        .into_iter()
        .map(|s| {
            let mut r = UnitRates {
                unit_id: s.unit_id,
                dispatched: count(s.dispatched),
                accepted_in_time: count(s.accepted_in_time),
                resolved: count(s.resolved),
                closed_answered: count(s.closed_answered),
                confirmed_solved: count(s.confirmed_solved),
                ratings: count(s.ratings),
                satisfied: count(s.satisfied),
                overdue: count(s.overdue),
                returns: count(s.returns),
                extensions: count(s.extensions),
                ..UnitRates::default()
            };
            r.response_rate = rate(r.accepted_in_time, r.dispatched);
            r.resolution_rate = rate(r.confirmed_solved, r.closed_answered);
            r.satisfaction_rate = rate(r.satisfied, r.ratings);
            r.median_hours_to_resolve = hours.remove(&r.unit_id).and_then(|h| histogram_median(&h));
            r.small_sample = r.dispatched < MIN_SAMPLE;
            r
        })
        // A unit appears once something was counted for it (as the event replay lists it).
        .filter(|r| {
            r.dispatched
                + r.accepted_in_time
                + r.resolved
                + r.closed_answered
                + r.returns
                + r.extensions
                + r.overdue
                > 0
        })
        .collect())
}

/// `public/stats` for the filing days `from..=to` from the aggregates: per district (`unknown`
/// when not located), received, resolved, median hours to resolve and satisfaction, and per
/// category received and resolved.
pub fn public_stats(
    conn: &mut DbConnection,
    catalog: &Catalog,
    from: i32,
    to: i32,
) -> Result<PublicStats, ApiError> {
    let sums: Vec<PublicSums> = load_days(
        conn,
        "SELECT district_id, category_code, CAST(SUM(received) AS BIGINT) AS received, \
         CAST(SUM(resolved) AS BIGINT) AS resolved, CAST(SUM(ratings) AS BIGINT) AS ratings, \
         CAST(SUM(satisfied) AS BIGINT) AS satisfied FROM stats_public_daily \
         WHERE day >= $1 AND day <= $2 GROUP BY district_id, category_code",
        from,
        to,
    )?;
    let mut hours = histograms(load_days(
        conn,
        "SELECT district_id AS key, bucket, CAST(SUM(n) AS BIGINT) AS n FROM stats_public_hours \
         WHERE day >= $1 AND day <= $2 GROUP BY district_id, bucket",
        from,
        to,
    )?);
    #[derive(Default)]
    struct Acc {
        received: i64,
        resolved: i64,
        ratings: i64,
        satisfied: i64,
        by_cat: BTreeMap<String, (i64, i64)>,
        hours: BTreeMap<i32, i64>,
    }
    let name = |d: &str| {
        if d.is_empty() {
            "unknown".to_string()
        } else {
            d.to_string()
        }
    };
    let mut by: BTreeMap<String, Acc> = BTreeMap::new();
    for s in sums.into_iter().filter(|s| s.received > 0) {
        let acc = by.entry(name(&s.district_id)).or_default();
        if acc.hours.is_empty()
            && let Some(h) = hours.remove(&s.district_id)
        {
            acc.hours = h;
        }
        acc.received += s.received;
        acc.resolved += s.resolved;
        acc.ratings += s.ratings;
        acc.satisfied += s.satisfied;
        let c = acc.by_cat.entry(s.category_code).or_default();
        c.0 += s.received;
        c.1 += s.resolved;
    }
    let districts = by
        .into_iter()
        .map(|(id, a)| {
            let area = catalog.areas.get(&id);
            DistrictStats {
                name_zh: area.map_or("未定位", |x| x.name_zh.as_str()).to_owned(),
                name_en: area
                    .map_or("Not located", |x| x.name_en.as_str())
                    .to_owned(),
                area_id: area.is_some().then_some(id),
                received: a.received,
                resolved: a.resolved,
                median_hours_to_resolve: histogram_median(&a.hours),
                satisfaction_rate: rate(count(a.satisfied), count(a.ratings)),
                by_category: a
                    .by_cat
                    .into_iter()
                    .map(|(code, (received, resolved))| CategoryCounts {
                        code,
                        received,
                        resolved,
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(PublicStats { districts })
}

/// What `GET /api/v1/public/stats` answers: per district, nothing personal.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PublicStats {
    /// One row per district with complaints filed in the period (`area_id` null: not located).
    pub districts: Vec<DistrictStats>,
}

/// One district's figures over the period.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DistrictStats {
    /// District id, null for complaints that were not located.
    #[schema(required = true)]
    pub area_id: Option<String>,
    /// Chinese name (`未定位` when not located).
    pub name_zh: String,
    /// English name (`Not located`).
    pub name_en: String,
    /// Complaints filed.
    pub received: i64,
    /// Of those, resolved.
    pub resolved: i64,
    /// Median hours from filing to resolution.
    #[schema(required = true)]
    pub median_hours_to_resolve: Option<f64>,
    /// Ratings of 4 or 5 ÷ ratings.
    #[schema(required = true)]
    pub satisfaction_rate: Option<f64>,
    /// Per category.
    pub by_category: Vec<CategoryCounts>,
}

/// One category's counts in a district.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CategoryCounts {
    /// Category code.
    pub code: String,
    /// Complaints filed.
    pub received: i64,
    /// Of those, resolved.
    pub resolved: i64,
}
