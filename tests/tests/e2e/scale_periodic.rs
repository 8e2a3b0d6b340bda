//! Periodic jobs touch only what is due (issue 12): with nothing due, sync retention, the
//! ticket-copy catch-up and the outbox read one index and write nothing (they finish while
//! another connection holds the write lock: SQLite's, or on PostgreSQL the sync counter's row);
//! with many due, they work through bounded batches, one short transaction each.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use anju_server::db::Db;
use anju_server::sync::retention::{PRUNE_BATCH, prune_batch, prune_due, prune_pass};
use anju_server::sync::ticket_record::{catch_up, catch_up_due};
use anju_tests::TestApp;
use diesel::prelude::*;

const DAY_MS: i64 = 86_400_000;

/// Another connection takes the write lock (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: the sync
/// counter's row and every outbox row) and keeps it until the sender is dropped or signals.
fn hold_write_lock(db: Db) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (release, wait) = mpsc::channel::<()>();
    let (ready, is_ready) = mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut conn = db.get().expect("conn");
        let statements: &[&str] = if db.is_postgres() {
            &[
                "BEGIN",
                "SELECT seq FROM sync_counter WHERE id = 1 FOR UPDATE",
                "SELECT id FROM outbox FOR UPDATE",
            ]
        } else {
            &["BEGIN IMMEDIATE"]
        };
        for s in statements {
            diesel::sql_query(*s).execute(&mut *conn).expect(s);
        }
        ready.send(()).expect("ready");
        let _ = wait.recv();
        diesel::sql_query("ROLLBACK")
            .execute(&mut *conn)
            .expect("rollback");
    });
    is_ready.recv().expect("lock taken");
    (release, holder)
}

/// Runs `f` on a pooled connection while another one holds the write lock; `f` must finish,
/// well before SQLite's 2 s busy timeout (a write would wait for it and then fail).
async fn without_writing<T: Send + 'static>(
    app: &TestApp,
    f: impl FnOnce(&mut anju_server::db::DbConnection) -> T + Send + 'static,
) -> T {
    let db = app.state().db.clone();
    let (release, holder) = hold_write_lock(db.clone());
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().expect("conn");
        f(&mut conn)
    })
    .await
    .expect("join");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "waited for the write lock: {:?}",
        started.elapsed()
    );
    release.send(()).expect("release");
    holder.join().expect("holder");
    out
}

fn exec(conn: &mut anju_server::db::DbConnection, sql: &str) {
    diesel::sql_query(sql).execute(conn).expect(sql);
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn number(conn: &mut anju_server::db::DbConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<N>(conn).expect(sql).n
}

#[tokio::test]
async fn sync_retention_reads_only_what_is_due_in_bounded_batches() {
    let app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    let now = app.clock().now_ms();
    let cutoff = now - 90 * DAY_MS;
    let db = app.state().db.clone();
    let mut conn = db.get().expect("conn");
    // Everything before now counts as already pruned; then 1,200 tombstones older than the
    // cutoff and one newer one, in change order.
    let s0 = number(
        &mut conn,
        "SELECT CAST(seq AS BIGINT) AS n FROM sync_counter WHERE id = 1",
    );
    let old = 1200i64;
    let rows: Vec<String> = (1..=old + 1)
        .map(|i| {
            let at = if i <= old { cutoff - DAY_MS } else { now };
            format!(
                "('{}', 'hazard', {}, TRUE, {}, '{{}}', {at})",
                uuid::Uuid::now_v7(),
                s0 + i,
                s0 + i
            )
        })
        .collect();
    for chunk in rows.chunks(400) {
        exec(
            &mut conn,
            &format!(
                "INSERT INTO sync_records (id, record_type, version, deleted, change_seq, state, \
                 updated_at) VALUES {}",
                chunk.join(", ")
            ),
        );
    }
    exec(
        &mut conn,
        &format!(
            "UPDATE sync_counter SET seq = {}, horizon = {s0} WHERE id = 1",
            s0 + old + 1
        ),
    );
    drop(conn);

    // Nothing older than a cutoff 200 days back: one read, no write (it finishes while the
    // write lock is held elsewhere), and the horizon stays.
    let early = now - 200 * DAY_MS;
    let due = without_writing(&app, move |c| prune_due(c, early).expect("due")).await;
    assert!(!due);
    let (batches, horizon) = prune_pass(&app.state().db, early).await.expect("pass");
    assert_eq!((batches, horizon), (0, None));

    // 1,200 due: batches of at most PRUNE_BATCH, each its own transaction, the horizon moving
    // with each; the tombstone newer than the cutoff stays, and the horizon stops before it.
    let mut conn = db.get().expect("conn");
    let first = db
        .background_tx(&mut conn, |c| Ok(prune_batch(c, cutoff, PRUNE_BATCH)?))
        .expect("batch");
    assert_eq!(first.tombstones as i64, PRUNE_BATCH);
    assert!(first.more);
    assert_eq!(first.horizon, s0 + PRUNE_BATCH);
    drop(conn);
    let (batches, horizon) = prune_pass(&app.state().db, cutoff).await.expect("pass");
    assert_eq!(batches, 2, "the other 700 in batches of at most 500");
    assert_eq!(horizon, Some(s0 + old));
    let mut conn = db.get().expect("conn");
    let left = number(
        &mut conn,
        "SELECT COUNT(*) AS n FROM sync_records WHERE deleted",
    );
    assert_eq!(left, 1, "only the tombstone newer than the cutoff");
    drop(conn);
    // Done: nothing due again, one read.
    assert!(!without_writing(&app, move |c| prune_due(c, cutoff).expect("due")).await);
}

#[tokio::test]
async fn the_ticket_copy_catch_up_walks_old_tickets_once_then_reads_one_index() {
    let app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    let now = app.clock().now_ms();
    let db = app.state().db.clone();
    // A new database starts with the one-time walk pending; it ends in bounded batches.
    let mut conn = db.get().expect("conn");
    assert!(catch_up_due(&mut conn, now).expect("due"));
    let tickets = number(&mut conn, "SELECT COUNT(*) AS n FROM tickets");
    let mut batches = 0;
    loop {
        let done = db
            .background_tx(&mut conn, |c| catch_up(c, now, 2))
            .expect("batch");
        batches += 1;
        assert!(batches <= tickets / 2 + 2, "the walk ends");
        if !done.more {
            break;
        }
    }
    assert!(
        batches >= tickets / 2,
        "{batches} batches of 2 for {tickets}"
    );
    drop(conn);
    // Nothing due now: one read, no write.
    assert!(!without_writing(&app, move |c| catch_up_due(c, now).expect("due")).await);
}

#[tokio::test]
async fn the_outbox_reads_only_due_messages_in_batches() {
    let app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    let now = app.clock().now_ms();
    let db = app.state().db.clone();
    let mut conn = db.get().expect("conn");
    exec(&mut conn, "UPDATE outbox SET status = 'delivered'");
    drop(conn);
    // Nothing due: one read of the due index, no write transaction.
    let owner = db.clone();
    let rows = without_writing(&app, move |c| {
        anju_server::notify::outbox::claim(&owner, c, now).expect("claim")
    })
    .await;
    assert!(rows.is_empty());
    // 50 due messages (and 10 not yet due): leased 20 at a time, then nothing.
    let mut conn = db.get().expect("conn");
    let values: Vec<String> = (0..60)
        .map(|i| {
            let next = if i < 50 { now - 1000 } else { now + DAY_MS };
            format!(
                "('{}', {now}, 'ticket_dispatched', 'webhook', 'http://example.invalid/', '{{}}', \
                 'pending', 0, {next}, 0)",
                uuid::Uuid::now_v7()
            )
        })
        .collect();
    exec(
        &mut conn,
        &format!(
            "INSERT INTO outbox (id, created_at, event_kind, target_kind, url, payload, status, \
             attempts, next_attempt_at, locked_until) VALUES {}",
            values.join(", ")
        ),
    );
    let mut sizes = Vec::new();
    loop {
        let rows = anju_server::notify::outbox::claim(&db, &mut conn, now).expect("claim");
        if rows.is_empty() {
            break;
        }
        assert!(rows.iter().all(|r| r.next_attempt_at <= now));
        sizes.push(rows.len());
    }
    assert_eq!(sizes, vec![20, 20, 10]);
}

#[tokio::test]
async fn the_fund_summary_catch_up_reads_only_due_summaries_in_batches() {
    use anju_server::funds::record::{catch_up, catch_up_due};
    let app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    let now = app.clock().now_ms();
    let today: jiff::civil::Date = "2031-06-01".parse().expect("date");
    let db = app.state().db.clone();
    let mut conn = db.get().expect("conn");
    // Ten summaries due only next year: nothing due today, one read and no write.
    let later: Vec<String> = (0..10)
        .map(|_| format!("('{}', '2032-01-01')", uuid::Uuid::now_v7()))
        .collect();
    exec(
        &mut conn,
        &format!(
            "INSERT INTO fund_summary_due (project_id, due_on) VALUES {}",
            later.join(", ")
        ),
    );
    drop(conn);
    let due = without_writing(&app, move |c| catch_up_due(c, today).expect("due")).await;
    assert!(!due);

    // 250 due (projects without a ledger: each refresh writes nothing and clears the mark):
    // batches of at most 100, then nothing; the ten of next year stay.
    let mut conn = db.get().expect("conn");
    let due: Vec<String> = (0..250)
        .map(|i| format!("('{}', '2031-05-{:02}')", uuid::Uuid::now_v7(), 1 + i % 28))
        .collect();
    exec(
        &mut conn,
        &format!(
            "INSERT INTO fund_summary_due (project_id, due_on) VALUES {}",
            due.join(", ")
        ),
    );
    let mut sizes = Vec::new();
    while catch_up_due(&mut conn, today).expect("due") {
        let n = db
            .background_tx(&mut conn, |c| catch_up(c, now, today, 100))
            .expect("batch");
        sizes.push(n);
    }
    assert_eq!(sizes, vec![100, 100, 50]);
    let left = number(
        &mut conn,
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM fund_summary_due",
    );
    assert_eq!(left, 10);
}
