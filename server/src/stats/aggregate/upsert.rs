//! The write of a delta: additive multi-row upserts, one match per backend, rows in key order.

use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::DbConnection;
use crate::error::ApiError;

use super::super::daily::Contribution;
use super::super::schema::{
    stats_board_daily, stats_public_daily, stats_public_hours, stats_unit_daily, stats_unit_hours,
};

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
