//! The per-day aggregates as tickets sees them: every ticket change adds its [`Contribution`]
//! (the aggregate delta) to the aggregate rows in the change's own transaction through
//! [`TicketAggregates`]. Stats implements it (`stats::aggregate::DailyAggregates`: it computes
//! the deltas and owns the tables) and `startup` wires it in (`AppState::ticket_aggregates`,
//! `DeviceActions::new`), so tickets never imports stats. The delta type lives here, below both,
//! so a batch ([`super::transition::Deferred`]) can gather the deltas of its changes and write
//! them once.

use std::collections::BTreeMap;

use crate::db::DbConnection;
use crate::error::ApiError;

use super::store::{NewEvent, TicketRow};
use super::transition::Env;

/// What a ticket change asks of the per-day aggregates, inside the caller's write transaction.
/// With `env.deferred` set, the `on_*` hooks leave their delta there
/// ([`super::transition::Deferred::gather`]) instead of writing it; the batch writes the sum with
/// [`TicketAggregates::write`] at its end. The caller takes the locks in the one order (sync
/// counter, ticket, aggregate rows) before calling a hook: the hooks only take aggregate rows.
pub trait TicketAggregates: Send + Sync {
    /// Adds the last recorded event of ticket `ticket_id` (already inserted) to the aggregates.
    /// The caller holds the ticket's row lock on PostgreSQL (taken before the event was
    /// inserted, so the event is the ticket's newest) and the write lock on SQLite.
    fn on_event(
        &self,
        conn: &mut DbConnection,
        env: &Env<'_>,
        ticket_id: &str,
    ) -> Result<(), ApiError>;

    /// Adds `event`, the first event of `ticket`, a ticket inserted in this transaction: the same
    /// change as [`TicketAggregates::on_event`], computed from the caller's rows without reading
    /// anything.
    fn on_first_event(
        &self,
        env: &Env<'_>,
        ticket: &TicketRow,
        event: &NewEvent,
        conn: &mut DbConnection,
    ) -> Result<(), ApiError>;

    /// Moves the ticket from its old place in the board's counts (`before`: the row before the
    /// change, none for a new ticket) to its new one (`after`). Nothing is read.
    fn on_ticket_change(
        &self,
        conn: &mut DbConnection,
        env: &Env<'_>,
        before: Option<&TicketRow>,
        after: &TicketRow,
    ) -> Result<(), ApiError>;

    /// Adds `delta` to the aggregate tables now (one upsert per changed row, in key order).
    fn write(&self, conn: &mut DbConnection, delta: &Contribution) -> Result<(), ApiError>;
}

/// Index of each counter in [`UnitCounts`].
pub mod field {
    /// Dispatches (派单/转派/重办) to the unit.
    pub const DISPATCHED: usize = 0;
    /// Acceptances by the response deadline.
    pub const ACCEPTED_IN_TIME: usize = 1;
    /// Resolutions.
    pub const RESOLVED: usize = 2;
    /// Deadlines missed.
    pub const OVERDUE: usize = 3;
    /// Resident answers to the unit's resolutions.
    pub const CLOSED_ANSWERED: usize = 4;
    /// Confirmations.
    pub const CONFIRMED_SOLVED: usize = 5;
    /// Ratings.
    pub const RATINGS: usize = 6;
    /// Ratings of 4 or 5.
    pub const SATISFIED: usize = 7;
    /// Returns.
    pub const RETURNS: usize = 8;
    /// Extension requests.
    pub const EXTENSIONS: usize = 9;
}

/// The unit counters of one (day, unit), in [`field`] order.
pub type UnitCounts = [i64; 10];

/// The public counters of one (day, district, category): received, resolved, ratings, satisfied.
pub type PublicCounts = [i64; 4];

/// A ticket's (or a sum of tickets') contribution to the four aggregate tables. Days are city
/// dates as YYYYMMDD.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contribution {
    /// (day, unit) → counters.
    pub units: BTreeMap<(i32, String), UnitCounts>,
    /// (day, unit, bucket) → first resolutions by the unit.
    pub unit_hours: BTreeMap<(i32, String, i32), i64>,
    /// (day filed, district, category) → counters.
    pub public: BTreeMap<(i32, String, String), PublicCounts>,
    /// (day filed, district, bucket) → resolved tickets.
    pub public_hours: BTreeMap<(i32, String, i32), i64>,
    /// The board's counts (`stats::daily::board_rows`): (scope, day filed, dimension, value) → tickets
    /// received and still open (from the ticket rows, not from the events).
    pub board: BTreeMap<BoardKey, BoardCounts>,
}

/// A row of the board's counts: (scope: `stats::daily::ALL_UNITS` or the holding unit, `""` for
/// none; the city day of filing as YYYYMMDD; the dimension: `DIM_STATUS`, `DIM_CATEGORY` or
/// `DIM_COMMUNITY` of `stats::daily`; the value: a status, a category code or a community id, `""` when not
/// located).
pub type BoardKey = (String, i32, String, String);

/// Tickets counted in a board row: [received, still open].
pub type BoardCounts = [i64; 2];

fn add_map<K: Ord + Clone, const N: usize>(
    into: &mut BTreeMap<K, [i64; N]>,
    from: &BTreeMap<K, [i64; N]>,
    sign: i64,
    prune: bool,
) {
    for (k, v) in from {
        let e = into.entry(k.clone()).or_insert([0; N]);
        for (a, b) in e.iter_mut().zip(v) {
            *a += sign * b;
        }
    }
    if prune {
        into.retain(|_, v| v.iter().any(|x| *x != 0));
    }
}

fn add_counts<K: Ord + Clone>(
    into: &mut BTreeMap<K, i64>,
    from: &BTreeMap<K, i64>,
    sign: i64,
    prune: bool,
) {
    for (k, v) in from {
        *into.entry(k.clone()).or_insert(0) += sign * v;
    }
    if prune {
        into.retain(|_, v| *v != 0);
    }
}

impl Contribution {
    /// Adds `other` times `sign` (1 or −1); entries that become zero are dropped.
    pub fn add(&mut self, other: &Contribution, sign: i64) {
        self.add_with(other, sign, true);
    }

    /// Adds `other` without dropping zero entries (each add is then proportional to `other`, not
    /// to `self`: for summing many tickets, then [`Contribution::prune`] once).
    pub fn accumulate(&mut self, other: &Contribution) {
        self.add_with(other, 1, false);
    }

    /// Drops the entries that are zero.
    pub fn prune(&mut self) {
        self.add_with(&Contribution::default(), 1, true);
    }

    fn add_with(&mut self, other: &Contribution, sign: i64, prune: bool) {
        add_map(&mut self.units, &other.units, sign, prune);
        add_counts(&mut self.unit_hours, &other.unit_hours, sign, prune);
        add_map(&mut self.public, &other.public, sign, prune);
        add_counts(&mut self.public_hours, &other.public_hours, sign, prune);
        add_map(&mut self.board, &other.board, sign, prune);
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
            && self.unit_hours.is_empty()
            && self.public.is_empty()
            && self.public_hours.is_empty()
            && self.board.is_empty()
    }
}
