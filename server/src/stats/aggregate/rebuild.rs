//! The aggregates recomputed from the existing events and ticket rows: once after the upgrade
//! that adds them, or on demand (benchmarks, tests).

use std::collections::BTreeMap;

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::org::catalog::Catalog;
use crate::tickets::schema::{ticket_events, tickets};

use super::super::daily::{AggEvent, BoardTicket, Contribution, board_rows, contribution};
use super::super::schema::{
    stats_backfill, stats_board_daily, stats_public_daily, stats_public_hours, stats_unit_daily,
    stats_unit_hours,
};
use super::city_day;
use super::deltas::{EventTuple, agg_event, event_columns, ticket_key};
use super::upsert::write;

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
