//! Tables of the per-day aggregates (migration `2026-12-02-000200_stats_daily`).

diesel::table! {
    /// Rate counters per city day and unit.
    stats_unit_daily (day, unit_id) {
        /// City date, YYYYMMDD.
        day -> Integer,
        /// Unit.
        unit_id -> Text,
        /// Dispatches to the unit.
        dispatched -> BigInt,
        /// Acceptances by the response deadline.
        accepted_in_time -> BigInt,
        /// Resolutions.
        resolved -> BigInt,
        /// Deadlines missed.
        overdue -> BigInt,
        /// Resident answers to the unit's resolutions.
        closed_answered -> BigInt,
        /// Confirmations among them.
        confirmed_solved -> BigInt,
        /// Ratings given.
        ratings -> BigInt,
        /// Ratings of 4 or 5.
        satisfied -> BigInt,
        /// Returns.
        returns -> BigInt,
        /// Extension requests.
        extensions -> BigInt,
    }
}

diesel::table! {
    /// Histogram of hours to a unit's first resolution, per day and unit.
    stats_unit_hours (day, unit_id, bucket) {
        /// City date, YYYYMMDD.
        day -> Integer,
        /// Unit.
        unit_id -> Text,
        /// Histogram bucket ([`crate::stats::daily::bucket`]).
        bucket -> Integer,
        /// Count.
        n -> BigInt,
    }
}

diesel::table! {
    /// Public figures per filing day, district and category.
    stats_public_daily (day, district_id, category_code) {
        /// City date of filing, YYYYMMDD.
        day -> Integer,
        /// District area id, `''` when not located.
        district_id -> Text,
        /// Category.
        category_code -> Text,
        /// Tickets filed.
        received -> BigInt,
        /// Of those, resolved or closed now.
        resolved -> BigInt,
        /// Ratings given.
        ratings -> BigInt,
        /// Ratings of 4 or 5.
        satisfied -> BigInt,
    }
}

diesel::table! {
    /// Histogram of hours to resolution of the tickets filed that day, per district.
    stats_public_hours (day, district_id, bucket) {
        /// City date of filing, YYYYMMDD.
        day -> Integer,
        /// District area id, `''` when not located.
        district_id -> Text,
        /// Histogram bucket.
        bucket -> Integer,
        /// Count.
        n -> BigInt,
    }
}

diesel::table! {
    /// One row while the aggregates still have to be computed from the events.
    stats_backfill (id) {
        /// Always 1.
        id -> Integer,
    }
}

diesel::table! {
    /// The board's counts: tickets filed on a day, received and still open, per scope, dimension
    /// and value (migration `2026-12-03-000420_stats_board`; see `stats::daily::board_rows`).
    stats_board_daily (scope, day, dim, value) {
        /// `*` for every unit, or the holding unit (`''` for none).
        scope -> Text,
        /// City date of filing, YYYYMMDD.
        day -> Integer,
        /// `s` status, `c` category, `a` community.
        dim -> Text,
        /// The status, category code or community id (`''` when not located).
        value -> Text,
        /// Tickets received.
        received -> BigInt,
        /// Of them, still open.
        open -> BigInt,
    }
}
