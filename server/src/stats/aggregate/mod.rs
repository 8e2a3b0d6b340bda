//! The per-day aggregate tables: kept up to date in each ticket event's transaction
//! ([`on_event`], called by `tickets::transition::record_event` through the
//! [`TicketAggregates`] hook that [`DailyAggregates`] implements), computed once from the existing
//! events after the upgrade ([`backfill_if_pending`], [`rebuild`]), and read by `stats/units` and
//! `public/stats` ([`unit_rates`], [`public_stats`]) as sums over the days of the period: the work
//! depends on days × units, not on the number of tickets.
//!
//! One idea per file: what a ticket change adds (`deltas`), the additive upserts that write it
//! (`upsert`), the recomputation from the events (`rebuild`) and the sums over a period that
//! the figures read (`period`).

mod deltas;
mod period;
mod rebuild;
mod upsert;

pub use deltas::{on_event, on_first_event, on_ticket_change};
pub use period::{CategoryCounts, DistrictStats, PublicStats, public_stats, unit_rates};
pub use rebuild::{backfill_if_pending, rebuild};
pub use upsert::write;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::tickets::aggregates::TicketAggregates;

use super::daily::Contribution;

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
