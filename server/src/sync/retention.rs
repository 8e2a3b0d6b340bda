//! Sync retention in bounded batches: tombstones and scope exits older than the cutoff are
//! forgotten and the horizon moves past them, a batch (at most [`PRUNE_BATCH`] of each) per
//! short write transaction. Each batch walks the due rows from the horizon in change order
//! (the partial index `sync_records_tombstones`, the scope exits' primary key), so a pass reads
//! what it removes and nothing else; with nothing due, [`prune_due`] is one statement of index
//! probes and no write.
//!
//! The horizon never passes a tombstone or exit that is not yet due (the walk stops at the
//! first one), so a device is reset (410 `reset_required`) only for changes older than the
//! cutoff; and every batch moves the horizon in the same transaction as it deletes, so a device
//! below the horizon always learns of it.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::store::lock_counter;
use crate::db::DbConnection;

/// Most tombstones (and most scope exits) one batch removes.
pub const PRUNE_BATCH: i64 = 500;

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// The horizon after the batch.
    pub horizon: i64,
    /// Tombstones removed.
    pub tombstones: usize,
    /// Scope exits removed.
    pub exits: usize,
    /// Whether more may be due (the batch stopped at its size, not at a row not yet due).
    pub more: bool,
}

#[derive(QueryableByName)]
struct SeqAt {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = BigInt)]
    at: i64,
}

#[derive(QueryableByName)]
struct Firsts {
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    t_seq: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    t_at: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    e_seq: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    e_at: Option<i64>,
}

/// Runs `sql` (PostgreSQL placeholders `$1`, `$2`) with two numbers on either backend.
fn load2<T>(conn: &mut DbConnection, sql: &str, a: i64, b: i64) -> QueryResult<Vec<T>>
where
    T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    match conn {
        DbConnection::Pg(c) => diesel::sql_query(sql)
            .bind::<BigInt, _>(a)
            .bind::<BigInt, _>(b)
            .load(c),
        DbConnection::Sqlite(c) => diesel::sql_query(sql.replace('$', "?"))
            .bind::<BigInt, _>(a)
            .bind::<BigInt, _>(b)
            .load(c),
    }
}

fn load0<T>(conn: &mut DbConnection, sql: &str) -> QueryResult<Vec<T>>
where
    T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    match conn {
        DbConnection::Pg(c) => diesel::sql_query(sql).load(c),
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c),
    }
}

fn execute2(conn: &mut DbConnection, sql: &str, a: i64, b: i64) -> QueryResult<usize> {
    match conn {
        DbConnection::Pg(c) => diesel::sql_query(sql)
            .bind::<BigInt, _>(a)
            .bind::<BigInt, _>(b)
            .execute(c),
        DbConnection::Sqlite(c) => diesel::sql_query(sql.replace('$', "?"))
            .bind::<BigInt, _>(a)
            .bind::<BigInt, _>(b)
            .execute(c),
    }
}

/// Whether anything is due before `cutoff_ms`: the oldest change above the horizon (the first
/// tombstone or scope exit in change order) is older than the cutoff. One statement, four index
/// probes, no write and no lock.
pub fn prune_due(conn: &mut DbConnection, cutoff_ms: i64) -> QueryResult<bool> {
    let firsts: Vec<Firsts> = load0(
        conn,
        "SELECT \
         (SELECT change_seq FROM sync_records WHERE deleted AND change_seq > c.horizon \
          ORDER BY change_seq LIMIT 1) AS t_seq, \
         (SELECT updated_at FROM sync_records WHERE deleted AND change_seq > c.horizon \
          ORDER BY change_seq LIMIT 1) AS t_at, \
         (SELECT seq FROM sync_scope_exits WHERE seq > c.horizon ORDER BY seq LIMIT 1) AS e_seq, \
         (SELECT created_at FROM sync_scope_exits WHERE seq > c.horizon ORDER BY seq LIMIT 1) \
          AS e_at \
         FROM sync_counter c WHERE c.id = 1",
    )?;
    let Some(f) = firsts.into_iter().next() else {
        return Ok(false);
    };
    let first = match (f.t_seq.zip(f.t_at), f.e_seq.zip(f.e_at)) {
        (Some(t), Some(e)) => Some(if t.0 < e.0 { t.1 } else { e.1 }),
        (t, e) => t.or(e).map(|x| x.1),
    };
    Ok(first.is_some_and(|at| at < cutoff_ms))
}

/// The highest change the horizon may move to: walking tombstones and exits above it in change
/// order, the last one before the first that is not yet due, and not past what the batch read
/// of a list that was full (what lies beyond it is unknown).
fn bound(ts: &[SeqAt], es: &[SeqAt], cutoff_ms: i64, batch: i64) -> Option<i64> {
    let full = |l: &[SeqAt]| {
        if l.len() as i64 >= batch {
            l.last().map(|x| x.seq)
        } else {
            None
        }
    };
    let limit = [full(ts), full(es)].into_iter().flatten().min();
    let mut all: Vec<&SeqAt> = ts
        .iter()
        .chain(es)
        .filter(|x| limit.is_none_or(|l| x.seq <= l))
        .collect();
    all.sort_by_key(|x| x.seq);
    let mut h = None;
    for x in all {
        if x.at >= cutoff_ms {
            break;
        }
        h = Some(x.seq);
    }
    h
}

/// One batch, in the caller's write transaction: takes the change counter, forgets at most
/// `batch` tombstones and `batch` scope exits older than `cutoff_ms` (in change order from the
/// horizon) and moves the horizon past them.
pub fn prune_batch(conn: &mut DbConnection, cutoff_ms: i64, batch: i64) -> QueryResult<Pruned> {
    let (_, horizon) = lock_counter(conn)?;
    let ts: Vec<SeqAt> = load2(
        conn,
        "SELECT change_seq AS seq, updated_at AS at FROM sync_records \
         WHERE deleted AND change_seq > $1 ORDER BY change_seq LIMIT $2",
        horizon,
        batch,
    )?;
    let es: Vec<SeqAt> = load2(
        conn,
        "SELECT seq, created_at AS at FROM sync_scope_exits WHERE seq > $1 ORDER BY seq LIMIT $2",
        horizon,
        batch,
    )?;
    let Some(h) = bound(&ts, &es, cutoff_ms, batch).filter(|h| *h > horizon) else {
        return Ok(Pruned {
            horizon,
            ..Pruned::default()
        });
    };
    let tombstones = execute2(
        conn,
        "DELETE FROM sync_records WHERE deleted AND change_seq > $1 AND change_seq <= $2",
        horizon,
        h,
    )?;
    let exits = execute2(
        conn,
        "DELETE FROM sync_scope_exits WHERE seq > $1 AND seq <= $2",
        horizon,
        h,
    )?;
    execute2(
        conn,
        "UPDATE sync_counter SET horizon = $1 WHERE id = $2",
        h,
        1,
    )?;
    let reached = |l: &[SeqAt]| l.len() as i64 >= batch && l.last().is_some_and(|x| x.seq <= h);
    Ok(Pruned {
        horizon: h,
        tombstones,
        exits,
        more: reached(&ts) || reached(&es),
    })
}

/// The retention pass of the worker: batch after batch through the writer queue at background
/// priority (a request's write waits for at most one batch), yielding between batches; with
/// nothing due, one read ([`prune_due`]). Returns the batches run and the horizon reached.
pub async fn prune_pass(
    db: &crate::db::Db,
    cutoff_ms: i64,
) -> Result<(usize, Option<i64>), crate::error::ApiError> {
    let mut batches = 0;
    let mut horizon = None;
    loop {
        let owner = db.clone();
        let step = db
            .run(move |conn| {
                if !prune_due(conn, cutoff_ms)? {
                    return Ok(None);
                }
                owner
                    .background_tx(conn, |conn| Ok(prune_batch(conn, cutoff_ms, PRUNE_BATCH)?))
                    .map(Some)
            })
            .await?;
        let Some(p) = step else {
            return Ok((batches, horizon));
        };
        batches += 1;
        horizon = Some(p.horizon);
        if !p.more {
            return Ok((batches, horizon));
        }
        tokio::task::yield_now().await;
    }
}
