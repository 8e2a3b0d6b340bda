//! The supervision board's figures (督办看板): tickets filed in a period counted by status,
//! category, community and district, with how many are open past their resolution deadline, and
//! per day. Read from the board's per-day aggregate (`stats_board_daily`, kept in each ticket
//! change's transaction by [`super::aggregate::on_ticket_change`]): about 40 rows a day whatever
//! the number of tickets. The overdue counts depend on the instant, so they come from the open
//! tickets past their deadline through a partial index (`tickets_open_overdue`).
//! [`super::reference::board_from_tickets`] counts the same from the tickets (tested equal).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Authed, policy};
use crate::clocks::hazards::OverdueOrders;
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::org::catalog::Catalog;
use crate::state::AppState;

use super::daily::{ALL_UNITS, DIM_CATEGORY, DIM_COMMUNITY, DIM_STATUS};
use super::{Period, aggregate, window};

/// Statuses in which a unit holds the ticket and its resolution clock runs.
pub const OPEN_AT_UNIT: [&str; 4] = ["dispatched", "accepted", "reopened", "escalated"];

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

/// Tickets received, still open and open past the deadline, of one group.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    /// Filed in the period.
    pub received: i64,
    /// Of them, not resolved or closed.
    pub open: i64,
    /// Of them, held by a unit past the resolution deadline.
    pub overdue: i64,
}

/// The board's counts for a period before naming: what [`board`] renders.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BoardCounts {
    /// Status → tickets.
    pub by_status: BTreeMap<String, i64>,
    /// Category code → tally.
    pub by_category: BTreeMap<String, Tally>,
    /// Community id (`""` when not located) → tally.
    pub by_community: BTreeMap<String, Tally>,
    /// (city date YYYY-MM-DD, tickets filed), days with none left out, in order.
    pub per_day: Vec<(String, i64)>,
}

/// Open tickets past their resolution deadline of one category and community.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct OverdueRow {
    /// Category code.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub category_code: String,
    /// Community id (`None`: not located).
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub area_id: Option<String>,
    /// Tickets.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

impl BoardCounts {
    /// Adds the overdue rows.
    pub fn add_overdue(&mut self, rows: &[OverdueRow]) {
        for r in rows {
            self.by_category
                .entry(r.category_code.clone())
                .or_default()
                .overdue += r.n;
            self.by_community
                .entry(r.area_id.clone().unwrap_or_default())
                .or_default()
                .overdue += r.n;
        }
    }
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
            ApiError::new(
                ErrorCode::UnknownUnit,
                "没有这个单位",
                "unit_id names no unit",
            )
        })
}

#[derive(diesel::QueryableByName)]
struct DimRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    dim: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    received: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    open: i64,
}

#[derive(diesel::QueryableByName)]
struct DayRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    day: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    received: i64,
}

/// Runs `sql` (PostgreSQL placeholders) with the scope and the days on either backend.
fn load_scope<T>(
    conn: &mut DbConnection,
    sql: &str,
    scope: &str,
    from: i32,
    to: i32,
) -> Result<Vec<T>, ApiError>
where
    T: diesel::QueryableByName<diesel::pg::Pg>
        + diesel::QueryableByName<diesel::sqlite::Sqlite>
        + 'static,
{
    use diesel::RunQueryDsl;
    use diesel::sql_types::{Integer, Text};
    Ok(match conn {
        DbConnection::Pg(c) => diesel::sql_query(sql)
            .bind::<Text, _>(scope)
            .bind::<Integer, _>(from)
            .bind::<Integer, _>(to)
            .load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql.replace('$', "?"))
            .bind::<Text, _>(scope)
            .bind::<Integer, _>(from)
            .bind::<Integer, _>(to)
            .load(c)?,
    })
}

/// Open tickets filed in `[start, end)` that a unit (`unit`, or any) holds past their
/// resolution deadline at `now`, per category and community, through the partial index.
pub fn overdue(
    conn: &mut DbConnection,
    start: i64,
    end: i64,
    unit: Option<&str>,
    now: i64,
) -> Result<Vec<OverdueRow>, ApiError> {
    use diesel::RunQueryDsl;
    use diesel::sql_types::{BigInt, Text};
    // The status list is written out (not bound) so that the planners match the partial index;
    // SQLite's planner prefers the index on `created_at` (a whole year of tickets) unless told.
    let sql = format!(
        "SELECT category_code, area_id, COUNT(*) AS n FROM tickets{} \
         WHERE status IN ('dispatched', 'accepted', 'reopened', 'escalated') \
         AND resolution_due < $1 AND created_at >= $2 AND created_at < $3{} \
         GROUP BY category_code, area_id",
        if conn.is_postgres() {
            ""
        } else {
            " INDEXED BY tickets_open_overdue"
        },
        if unit.is_some() {
            " AND unit_id = $4"
        } else {
            ""
        }
    );
    Ok(match conn {
        DbConnection::Pg(c) => {
            let q = diesel::sql_query(sql)
                .bind::<BigInt, _>(now)
                .bind::<BigInt, _>(start)
                .bind::<BigInt, _>(end);
            match unit {
                Some(u) => q.bind::<Text, _>(u).load(c)?,
                None => q.load(c)?,
            }
        }
        DbConnection::Sqlite(c) => {
            let q = diesel::sql_query(sql.replace('$', "?"))
                .bind::<BigInt, _>(now)
                .bind::<BigInt, _>(start)
                .bind::<BigInt, _>(end);
            match unit {
                Some(u) => q.bind::<Text, _>(u).load(c)?,
                None => q.load(c)?,
            }
        }
    })
}

/// The board's counts for tickets filed in `[start, end)` (city midnights) held now by `unit`
/// (or any), from the aggregate and the overdue index: three small queries.
pub fn board_from_aggregates(
    conn: &mut DbConnection,
    tz: &jiff::tz::TimeZone,
    start: i64,
    end: i64,
    unit: Option<&str>,
    now: i64,
) -> Result<BoardCounts, ApiError> {
    let (d0, d1) = aggregate::day_range(tz, start, end);
    let scope = unit.unwrap_or(ALL_UNITS);
    let dims: Vec<DimRow> = load_scope(
        conn,
        "SELECT dim, value, CAST(SUM(received) AS BIGINT) AS received, \
         CAST(SUM(open) AS BIGINT) AS open FROM stats_board_daily \
         WHERE scope = $1 AND day >= $2 AND day <= $3 GROUP BY dim, value",
        scope,
        d0,
        d1,
    )?;
    let days: Vec<DayRow> = load_scope(
        conn,
        "SELECT day, CAST(SUM(received) AS BIGINT) AS received FROM stats_board_daily \
         WHERE scope = $1 AND day >= $2 AND day <= $3 AND dim = 's' GROUP BY day ORDER BY day",
        scope,
        d0,
        d1,
    )?;
    let mut c = BoardCounts::default();
    for r in dims.into_iter().filter(|r| r.received != 0) {
        let tally = Tally {
            received: r.received,
            open: r.open,
            overdue: 0,
        };
        match r.dim.as_str() {
            DIM_STATUS => {
                c.by_status.insert(r.value, r.received);
            }
            DIM_CATEGORY => {
                c.by_category.insert(r.value, tally);
            }
            DIM_COMMUNITY => {
                c.by_community.insert(r.value, tally);
            }
            _ => {}
        }
    }
    c.per_day = days
        .into_iter()
        .filter(|d| d.received != 0)
        .map(|d| {
            let day = format!(
                "{:04}-{:02}-{:02}",
                d.day / 10_000,
                d.day / 100 % 100,
                d.day % 100
            );
            (day, d.received)
        })
        .collect();
    c.add_overdue(&overdue(conn, start, end, unit, now)?);
    Ok(c)
}

/// The board: counts of the tickets filed in the period, held now by one unit or any.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Board {
    /// First day (YYYY-MM-DD, city time).
    pub from: String,
    /// Last day.
    pub to: String,
    /// The holding unit asked for, null for all.
    #[schema(required = true)]
    pub unit_id: Option<String>,
    /// Tickets filed.
    pub received: i64,
    /// Of them, not resolved or closed.
    pub open: i64,
    /// Of them, held by a unit past the resolution deadline.
    pub overdue: i64,
    /// Tickets per status.
    pub by_status: Vec<StatusCount>,
    /// Per category, most received first.
    pub by_category: Vec<NamedTally>,
    /// Per community (id `""`: not located), most received first.
    pub by_community: Vec<NamedTally>,
    /// Per district, most received first.
    pub by_district: Vec<NamedTally>,
    /// Tickets filed per day, days with none left out.
    pub per_day: Vec<DayCount>,
}

/// Tickets of one status.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatusCount {
    /// Status.
    pub status: String,
    /// Tickets.
    pub count: i64,
}

/// One category, community or district of the board, named.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NamedTally {
    /// Category code or area id.
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Filed in the period.
    pub received: i64,
    /// Of them, open.
    pub open: i64,
    /// Of them, overdue.
    pub overdue: i64,
}

/// Tickets filed on one day.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DayCount {
    /// YYYY-MM-DD.
    pub day: String,
    /// Tickets filed.
    pub received: i64,
}

/// What `GET /api/v1/stats/summary` answers: the board and the orders overdue now.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = BoardSummary)]
pub struct Summary {
    /// The board.
    #[serde(flatten)]
    pub board: Board,
    /// Rectification orders overdue now (of `unit_id`, or of all), whatever the period.
    pub orders_overdue: u64,
    /// Days the oldest of them is past its deadline (0 when none).
    pub orders_overdue_oldest_days: i64,
}

fn sorted(
    map: BTreeMap<String, Tally>,
    name: impl Fn(&str) -> (String, String),
) -> Vec<NamedTally> {
    let mut v: Vec<(String, Tally)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.received.cmp(&a.1.received).then(a.0.cmp(&b.0)));
    v.into_iter()
        .map(|(id, t)| {
            let (name_zh, name_en) = name(&id);
            NamedTally {
                id,
                name_zh,
                name_en,
                received: t.received,
                open: t.open,
                overdue: t.overdue,
            }
        })
        .collect()
}

/// The board's answer for the period `[start, end)` and `unit` from `counts`: totals, by
/// status, category, community and district (the communities' districts), named, and per day.
pub fn board(
    catalog: &Catalog,
    tz: &jiff::tz::TimeZone,
    start: i64,
    end: i64,
    unit: Option<&str>,
    counts: BoardCounts,
) -> Board {
    let mut total = Tally::default();
    let mut by_dis: BTreeMap<String, Tally> = BTreeMap::new();
    for (area, t) in &counts.by_community {
        let district = catalog
            .district_of(area)
            .map_or_else(String::new, |d| d.id.clone());
        let d = by_dis.entry(district).or_default();
        for x in [d, &mut total] {
            x.received += t.received;
            x.open += t.open;
            x.overdue += t.overdue;
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
    let first = tz.to_datetime(crate::clock::from_ms(start)).date();
    Board {
        from: first.to_string(),
        to: tz
            .to_datetime(crate::clock::from_ms(end - 1))
            .date()
            .to_string(),
        unit_id: unit.map(str::to_owned),
        received: total.received,
        open: total.open,
        overdue: total.overdue,
        by_status: counts
            .by_status
            .into_iter()
            .map(|(status, count)| StatusCount { status, count })
            .collect(),
        by_category: sorted(counts.by_category, cat_name),
        by_community: sorted(counts.by_community, area_name),
        by_district: sorted(by_dis, area_name),
        per_day: counts
            .per_day
            .into_iter()
            .map(|(day, received)| DayCount { day, received })
            .collect(),
    }
}

/// The rectification orders overdue at `now` of `unit` (or of every unit), by the one rule
/// ([`crate::clocks::hazards::overdue_by_unit`]): not bound to the board's period.
pub fn orders_overdue(
    conn: &mut DbConnection,
    st: &AppState,
    unit: Option<&str>,
    now: i64,
) -> Result<OverdueOrders, ApiError> {
    let today = crate::clocks::hazards::city_today(st, now);
    let by_unit = crate::clocks::hazards::overdue_by_unit(conn, today)?;
    Ok(by_unit
        .into_iter()
        .filter(|(u, _)| unit.is_none_or(|x| x == u))
        .fold(OverdueOrders::default(), |acc, (_, o)| OverdueOrders {
            count: acc.count + o.count,
            oldest_days: acc.oldest_days.max(o.oldest_days),
        }))
}

/// `GET /api/v1/stats/summary`: the board's counts for a period (at most 366 days), with the
/// rectification orders overdue now (`orders_overdue`, `orders_overdue_oldest_days`) of the
/// same unit (`unit_id`) or of all.
#[utoipa::path(get, path = "/api/v1/stats/summary", tag = "stats",
    params(("from" = Option<String>, Query, description = "first day YYYY-MM-DD"),
           ("to" = Option<String>, Query, description = "last day YYYY-MM-DD"),
           ("unit_id" = Option<String>, Query, description = "holding unit, id or code")),
    responses((status = 200, description = "Counts by status, category, community, district and day; orders_overdue and orders_overdue_oldest_days: rectification orders overdue now (of unit_id, or of all)", body = Summary),
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
            let tz = &st.config.timezone;
            let catalog = st.catalog.get(conn, tz)?;
            let unit = q
                .unit_id
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|u| unit_of(&catalog, u))
                .transpose()?;
            let counts = board_from_aggregates(conn, tz, start, end, unit.as_deref(), now)?;
            let board = board(&catalog, tz, start, end, unit.as_deref(), counts);
            let orders = orders_overdue(conn, &st, unit.as_deref(), now)?;
            Ok(Summary {
                board,
                orders_overdue: orders.count,
                orders_overdue_oldest_days: orders.oldest_days,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}
