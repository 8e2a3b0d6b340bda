//! The per-day aggregate tables: kept up to date in each ticket event's transaction
//! ([`on_event`], called by `tickets::transition::record_event` through the
//! [`TicketAggregates`] hook that [`DailyAggregates`] implements), computed once from the existing
//! events after the upgrade ([`backfill_if_pending`], [`rebuild`]), and read by `stats/units` and
//! `public/stats` ([`unit_rates`], [`public_stats`]) as sums over the days of the period: the work
//! depends on days × units, not on the number of tickets.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::org::catalog::Catalog;
use crate::tickets::aggregates::TicketAggregates;
use crate::tickets::schema::{ticket_events, tickets};

use super::daily::{
    AggEvent, BoardTicket, Contribution, TicketKey, board_rows, contribution, histogram_median,
};
use super::rates::{MIN_SAMPLE, UnitRates, rate};
use super::schema::{
    stats_backfill, stats_board_daily, stats_public_daily, stats_public_hours, stats_unit_daily,
    stats_unit_hours,
};

/// Stats' side of [`TicketAggregates`]: [`on_event`], [`on_first_event`], [`on_ticket_change`]
/// and [`write`], the per-day aggregates every ticket change adds to in its own transaction.
/// Wired in by `startup` (`AppState::ticket_aggregates`).
#[derive(Debug, Clone, Copy, Default)]
pub struct DailyAggregates;

impl TicketAggregates for DailyAggregates {
    fn on_event(
        &self,
        conn: &mut DbConnection,
        env: &crate::tickets::transition::Env<'_>,
        ticket_id: &str,
    ) -> Result<(), ApiError> {
        on_event(conn, env, ticket_id)
    }

    fn on_first_event(
        &self,
        env: &crate::tickets::transition::Env<'_>,
        ticket: &crate::tickets::store::TicketRow,
        event: &crate::tickets::store::NewEvent,
        conn: &mut DbConnection,
    ) -> Result<(), ApiError> {
        on_first_event(env, ticket, event, conn)
    }

    fn on_ticket_change(
        &self,
        conn: &mut DbConnection,
        env: &crate::tickets::transition::Env<'_>,
        before: Option<&crate::tickets::store::TicketRow>,
        after: &crate::tickets::store::TicketRow,
    ) -> Result<(), ApiError> {
        on_ticket_change(conn, env, before, after)
    }

    fn write(&self, conn: &mut DbConnection, delta: &Contribution) -> Result<(), ApiError> {
        write(conn, delta)
    }
}

/// The city date of `ms` as YYYYMMDD.
pub fn city_day(tz: &jiff::tz::TimeZone, ms: i64) -> i32 {
    let d = tz.to_datetime(crate::clock::from_ms(ms)).date();
    i32::from(d.year()) * 10_000 + i32::from(d.month()) * 100 + i32::from(d.day())
}

/// The days (YYYYMMDD, both inclusive) of a period `[start, end)` of city midnights.
pub fn day_range(tz: &jiff::tz::TimeZone, start: i64, end: i64) -> (i32, i32) {
    (city_day(tz, start), city_day(tz, end - 1))
}

type EventTuple = (
    i64,
    String,
    Option<String>,
    String,
    Option<i32>,
    Option<i64>,
    Option<i64>,
);

fn agg_event((at, kind, unit_id, to_status, rating, rd, sd): EventTuple) -> AggEvent {
    AggEvent {
        at,
        kind,
        unit_id,
        to_status,
        rating,
        response_due: rd,
        resolution_due: sd,
    }
}

fn ticket_key(
    catalog: &Catalog,
    (created_at, area_id, category_code): (i64, Option<String>, String),
) -> TicketKey {
    let district_id = area_id
        .as_deref()
        .and_then(|a| catalog.district_of(a))
        .map(|d| d.id.clone())
        .unwrap_or_default();
    TicketKey {
        created_at,
        district_id,
        category_code,
    }
}

/// Adds the last recorded event of `ticket_id` to the aggregates, in the event's transaction:
/// `contribution(all events) − contribution(all but the last)`, written as additive upserts.
/// The caller holds the ticket's row lock on PostgreSQL (taken before the event was inserted, so
/// the event is the ticket's newest) and the write lock on SQLite. With `env.deferred` set the
/// change is gathered there for the caller to write. A new ticket's first event goes through
/// [`on_first_event`] instead, which reads nothing.
pub fn on_event(
    conn: &mut DbConnection,
    env: &crate::tickets::transition::Env<'_>,
    ticket_id: &str,
) -> Result<(), ApiError> {
    let (catalog, tz) = (env.catalog, env.tz);
    let Some(t): Option<(i64, Option<String>, String)> = tickets::table
        .find(ticket_id)
        .select((
            tickets::created_at,
            tickets::area_id,
            tickets::category_code,
        ))
        .first(conn)
        .optional()?
    else {
        return Ok(());
    };
    let key = ticket_key(catalog, t);
    let events: Vec<AggEvent> = ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket_id))
        .order(ticket_events::id)
        .select(event_columns())
        .load::<EventTuple>(conn)?
        .into_iter()
        .map(agg_event)
        .collect();
    let Some((_, before)) = events.split_last() else {
        return Ok(());
    };
    let day = |ms: i64| city_day(tz, ms);
    let mut delta = contribution(&key, &events, &day);
    delta.add(&contribution(&key, before, &day), -1);
    emit(conn, env, &delta)
}

/// Adds the first event of a ticket inserted in this transaction (`tickets::transition::open`):
/// the same change as [`on_event`] (the contribution of a one-event history; there is nothing
/// before it), computed from the caller's ticket row and event without reading anything.
pub fn on_first_event(
    env: &crate::tickets::transition::Env<'_>,
    ticket: &crate::tickets::store::TicketRow,
    event: &crate::tickets::store::NewEvent,
    conn: &mut DbConnection,
) -> Result<(), ApiError> {
    let key = ticket_key(
        env.catalog,
        (
            ticket.created_at,
            ticket.area_id.clone(),
            ticket.category_code.clone(),
        ),
    );
    let first = AggEvent {
        at: event.at,
        kind: event.kind.clone(),
        unit_id: event.unit_id.clone(),
        to_status: event.to_status.clone(),
        rating: event.rating,
        response_due: event.response_due,
        resolution_due: event.resolution_due,
    };
    let delta = contribution(&key, &[first], &|ms| city_day(env.tz, ms));
    emit(conn, env, &delta)
}

/// Writes `delta` now, or leaves it to the caller's [`crate::tickets::transition::Deferred`].
fn emit(
    conn: &mut DbConnection,
    env: &crate::tickets::transition::Env<'_>,
    delta: &Contribution,
) -> Result<(), ApiError> {
    match env.deferred {
        Some(d) => {
            d.gather(delta);
            Ok(())
        }
        None => write(conn, delta),
    }
}

/// Moves the ticket from its old place in the board's counts (`before`: the row before the
/// change, none for a new ticket) to its new one (`after`), in the change's transaction
/// (`tickets::transition::open` and `apply`, the only writers of a ticket's status, unit,
/// community and category). Nothing is read: both rows are the caller's. With `env.deferred` set
/// the change is gathered there for the caller to write, as for [`on_event`].
pub fn on_ticket_change(
    conn: &mut DbConnection,
    env: &crate::tickets::transition::Env<'_>,
    before: Option<&crate::tickets::store::TicketRow>,
    after: &crate::tickets::store::TicketRow,
) -> Result<(), ApiError> {
    let day = |ms: i64| city_day(env.tz, ms);
    let rows = |t: &crate::tickets::store::TicketRow| board_rows(&day, board_ticket(t));
    let mut delta = rows(after);
    if let Some(b) = before {
        delta.add(&rows(b), -1);
    }
    if delta.is_empty() {
        return Ok(());
    }
    emit(conn, env, &delta)
}

fn board_ticket(t: &crate::tickets::store::TicketRow) -> BoardTicket<'_> {
    BoardTicket {
        created_at: t.created_at,
        unit_id: t.unit_id.as_deref(),
        area_id: t.area_id.as_deref(),
        category_code: &t.category_code,
        status: &t.status,
    }
}

fn event_columns() -> (
    ticket_events::at,
    ticket_events::kind,
    ticket_events::unit_id,
    ticket_events::to_status,
    ticket_events::rating,
    ticket_events::response_due,
    ticket_events::resolution_due,
) {
    (
        ticket_events::at,
        ticket_events::kind,
        ticket_events::unit_id,
        ticket_events::to_status,
        ticket_events::rating,
        ticket_events::response_due,
        ticket_events::resolution_due,
    )
}

/// Rows per upsert statement: well within both backends' limits on bound parameters.
const UPSERT_ROWS: usize = 400;

/// Runs one upsert statement on whichever backend `conn` is (upserts are not portable through
/// the multi-backend connection: one match, same SQL).
macro_rules! upsert {
    ($conn:expr, $q:expr) => {
        match $conn {
            DbConnection::Pg(c) => $q.execute(c)?,
            DbConnection::Sqlite(c) => $q.execute(c)?,
        }
    };
}

/// Adds `c` to the tables: one multi-row upsert per table (per [`UPSERT_ROWS`] rows), rows in
/// key order. A group-commit batch writes its aggregates at its end, holding the hot rows
/// (today's) from its first upsert to its commit: a handful of statements, not one per row, and
/// every writer locks the rows in the same order.
pub fn write(conn: &mut DbConnection, c: &Contribution) -> Result<(), ApiError> {
    {
        use stats_unit_daily as u;
        let rows: Vec<_> = c
            .units
            .iter()
            .map(|((day, unit), v)| {
                (
                    u::day.eq(*day),
                    u::unit_id.eq(unit),
                    u::dispatched.eq(v[0]),
                    u::accepted_in_time.eq(v[1]),
                    u::resolved.eq(v[2]),
                    u::overdue.eq(v[3]),
                    u::closed_answered.eq(v[4]),
                    u::confirmed_solved.eq(v[5]),
                    u::ratings.eq(v[6]),
                    u::satisfied.eq(v[7]),
                    u::returns.eq(v[8]),
                    u::extensions.eq(v[9]),
                )
            })
            .collect();
        for chunk in rows.chunks(UPSERT_ROWS) {
            let q = diesel::insert_into(u::table)
                .values(chunk)
                .on_conflict((u::day, u::unit_id))
                .do_update()
                .set((
                    u::dispatched.eq(u::dispatched + excluded(u::dispatched)),
                    u::accepted_in_time.eq(u::accepted_in_time + excluded(u::accepted_in_time)),
                    u::resolved.eq(u::resolved + excluded(u::resolved)),
                    u::overdue.eq(u::overdue + excluded(u::overdue)),
                    u::closed_answered.eq(u::closed_answered + excluded(u::closed_answered)),
                    u::confirmed_solved.eq(u::confirmed_solved + excluded(u::confirmed_solved)),
                    u::ratings.eq(u::ratings + excluded(u::ratings)),
                    u::satisfied.eq(u::satisfied + excluded(u::satisfied)),
                    u::returns.eq(u::returns + excluded(u::returns)),
                    u::extensions.eq(u::extensions + excluded(u::extensions)),
                ));
            upsert!(&mut *conn, q);
        }
    }
    {
        use stats_unit_hours as h;
        let rows: Vec<_> = c
            .unit_hours
            .iter()
            .map(|((day, unit, bucket), n)| {
                (
                    h::day.eq(*day),
                    h::unit_id.eq(unit),
                    h::bucket.eq(*bucket),
                    h::n.eq(*n),
                )
            })
            .collect();
        for chunk in rows.chunks(UPSERT_ROWS) {
            let q = diesel::insert_into(h::table)
                .values(chunk)
                .on_conflict((h::day, h::unit_id, h::bucket))
                .do_update()
                .set(h::n.eq(h::n + excluded(h::n)));
            upsert!(&mut *conn, q);
        }
    }
    {
        use stats_public_daily as p;
        let rows: Vec<_> = c
            .public
            .iter()
            .map(|((day, district, category), v)| {
                (
                    p::day.eq(*day),
                    p::district_id.eq(district),
                    p::category_code.eq(category),
                    p::received.eq(v[0]),
                    p::resolved.eq(v[1]),
                    p::ratings.eq(v[2]),
                    p::satisfied.eq(v[3]),
                )
            })
            .collect();
        for chunk in rows.chunks(UPSERT_ROWS) {
            let q = diesel::insert_into(p::table)
                .values(chunk)
                .on_conflict((p::day, p::district_id, p::category_code))
                .do_update()
                .set((
                    p::received.eq(p::received + excluded(p::received)),
                    p::resolved.eq(p::resolved + excluded(p::resolved)),
                    p::ratings.eq(p::ratings + excluded(p::ratings)),
                    p::satisfied.eq(p::satisfied + excluded(p::satisfied)),
                ));
            upsert!(&mut *conn, q);
        }
    }
    {
        use stats_public_hours as h;
        let rows: Vec<_> = c
            .public_hours
            .iter()
            .map(|((day, district, bucket), n)| {
                (
                    h::day.eq(*day),
                    h::district_id.eq(district),
                    h::bucket.eq(*bucket),
                    h::n.eq(*n),
                )
            })
            .collect();
        for chunk in rows.chunks(UPSERT_ROWS) {
            let q = diesel::insert_into(h::table)
                .values(chunk)
                .on_conflict((h::day, h::district_id, h::bucket))
                .do_update()
                .set(h::n.eq(h::n + excluded(h::n)));
            upsert!(&mut *conn, q);
        }
    }
    {
        use stats_board_daily as b;
        let rows: Vec<_> = c
            .board
            .iter()
            .map(|((scope, day, dim, value), v)| {
                (
                    b::scope.eq(scope),
                    b::day.eq(*day),
                    b::dim.eq(dim),
                    b::value.eq(value),
                    b::received.eq(v[0]),
                    b::open.eq(v[1]),
                )
            })
            .collect();
        for chunk in rows.chunks(UPSERT_ROWS) {
            let q = diesel::insert_into(b::table)
                .values(chunk)
                .on_conflict((b::scope, b::day, b::dim, b::value))
                .do_update()
                .set((
                    b::received.eq(b::received + excluded(b::received)),
                    b::open.eq(b::open + excluded(b::open)),
                ));
            upsert!(&mut *conn, q);
        }
    }
    Ok(())
}

/// A ticket as the rebuild reads it: id, filed at, community, category, unit, status.
type RebuildTicket = (String, i64, Option<String>, String, Option<String>, String);

/// Tickets read per query while rebuilding.
const REBUILD_PAGE: i64 = 1000;

/// Recomputes every aggregate from the events (the board's counts from the ticket rows), in the caller's transaction (empties the tables
/// first). Returns the number of tickets read.
pub fn rebuild(
    conn: &mut DbConnection,
    catalog: &Catalog,
    tz: &jiff::tz::TimeZone,
) -> Result<u64, ApiError> {
    diesel::delete(stats_unit_daily::table).execute(conn)?;
    diesel::delete(stats_unit_hours::table).execute(conn)?;
    diesel::delete(stats_public_daily::table).execute(conn)?;
    diesel::delete(stats_public_hours::table).execute(conn)?;
    diesel::delete(stats_board_daily::table).execute(conn)?;
    let day = |ms: i64| city_day(tz, ms);
    let mut total = Contribution::default();
    let mut after = String::new();
    let mut count = 0u64;
    loop {
        let page: Vec<RebuildTicket> = tickets::table
            .filter(tickets::id.gt(&after))
            .order(tickets::id)
            .limit(REBUILD_PAGE)
            .select((
                tickets::id,
                tickets::created_at,
                tickets::area_id,
                tickets::category_code,
                tickets::unit_id,
                tickets::status,
            ))
            .load(conn)?;
        let Some(last) = page.last() else { break };
        after = last.0.clone();
        let ids: Vec<&str> = page.iter().map(|t| t.0.as_str()).collect();
        let rows: Vec<(String, EventTuple)> = ticket_events::table
            .filter(ticket_events::ticket_id.eq_any(&ids))
            .order((ticket_events::ticket_id, ticket_events::id))
            .select((ticket_events::ticket_id, event_columns()))
            .load(conn)?;
        let mut by: BTreeMap<String, Vec<AggEvent>> = BTreeMap::new();
        for (tid, e) in rows {
            by.entry(tid).or_default().push(agg_event(e));
        }
        for (id, created, area, category, unit, status) in page {
            let board = BoardTicket {
                created_at: created,
                unit_id: unit.as_deref(),
                area_id: area.as_deref(),
                category_code: &category,
                status: &status,
            };
            total.accumulate(&board_rows(&day, board));
            let events = by.remove(&id).unwrap_or_default();
            let key = ticket_key(catalog, (created, area, category));
            total.accumulate(&contribution(&key, &events, &day));
            count += 1;
        }
    }
    total.prune();
    write(conn, &total)?;
    Ok(count)
}

/// After the upgrade that adds the aggregates (or on a new database), computes them once from
/// the existing events: the marker row is deleted in the same write transaction, so with two
/// processes starting together exactly one does the work. Returns the tickets read, if it ran.
pub fn backfill_if_pending(
    db: &crate::db::Db,
    conn: &mut DbConnection,
    tz: &jiff::tz::TimeZone,
) -> Result<Option<u64>, ApiError> {
    let pending: i64 = stats_backfill::table.count().get_result(conn)?;
    if pending == 0 {
        return Ok(None);
    }
    db.background_tx(conn, |conn| {
        if diesel::delete(stats_backfill::table).execute(conn)? == 0 {
            return Ok(None);
        }
        let catalog = crate::org::catalog::load(conn, tz)?;
        rebuild(conn, &catalog, tz).map(Some)
    })
}

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
/// and rates as [`super::rates::unit_rates`] over the events of that period;
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
