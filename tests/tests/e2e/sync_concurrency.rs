//! Concurrent pushers and pullers (invariant 3): every puller ends with every record at its
//! final version, never goes back in time, and never receives a change twice within one pass.
//! Meant for PostgreSQL, where transactions really run in parallel; also runs on SQLite.

use std::collections::BTreeMap;
use std::sync::Arc;

use anju_server::auth::Role;
use anju_server::registers::columns::register_columns;
use anju_tests::TestApp;
use anju_tests::sync::{RawDevice, hazard, outcome};
use serde_json::json;
use uuid::Uuid;

const PUSHERS: usize = 4;
const ROUNDS: usize = 15;
const PULLERS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushers_and_pullers_lose_skip_and_duplicate_nothing() {
    let app = Arc::new(TestApp::spawn().await);
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;

    let mut pushers = Vec::new();
    for p in 0..PUSHERS {
        let app = app.clone();
        let (unit, area) = (unit.clone(), area.clone());
        let token = app
            .user_token(
                &format!("w{p}"),
                Role::Inspector,
                Some("hexi_jianshe_office"),
            )
            .await;
        let mut d = RawDevice::register(&app, &token).await;
        pushers.push(tokio::spawn(async move {
            // Each pusher creates records, then keeps editing them (and one shared record).
            let mut mine: Vec<(Uuid, i64)> = Vec::new();
            let mut finals = BTreeMap::new();
            for round in 0..ROUNDS {
                let mut batch = Vec::new();
                for k in 0..5 {
                    let id = Uuid::now_v7();
                    batch.push(d.upsert(
                        "hazard",
                        id,
                        None,
                        hazard(&unit, &area, &format!("p{p} r{round} k{k}")),
                    ));
                }
                for (id, v) in mine.iter().take(5) {
                    batch.push(d.upsert(
                        "hazard",
                        *id,
                        Some(*v),
                        json!({"location": format!("p{p} round {round}")}),
                    ));
                }
                let r = d.push_ok(&app, &batch).await;
                for (m, r) in batch.iter().zip(&r) {
                    assert_ne!(outcome(r), "rejected", "{r:?}");
                    let v = r["version"].as_i64().unwrap();
                    finals.insert(m.record_id, v);
                    if m.base_version.is_none() {
                        mine.push((m.record_id, v));
                    }
                }
                for e in mine.iter_mut() {
                    if let Some(v) = finals.get(&e.0) {
                        e.1 = *v;
                    }
                }
                mine.rotate_left(3);
            }
            finals
        }));
    }
    let mut pullers = Vec::new();
    for _ in 0..PULLERS {
        let app = app.clone();
        let mut d = RawDevice::register(&app, &sup).await;
        pullers.push(tokio::spawn(async move {
            // Pull continuously while the pushers run (RawDevice::pull_all asserts that versions
            // only grow).
            for _ in 0..40 {
                d.pull_all(&app).await;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            d
        }));
    }
    let mut expected = BTreeMap::new();
    for p in pushers {
        expected.extend(p.await.expect("pusher"));
    }
    for p in pullers {
        let mut d = p.await.expect("puller");
        d.pull_all(&app).await;
        assert_eq!(d.records.len(), expected.len(), "every record arrived");
        for (id, v) in &expected {
            assert_eq!(d.version(*id), Some(*v), "{id} at its final version");
        }
    }
    assert_eq!(expected.len(), PUSHERS * ROUNDS * 5);
}

/// The mechanism itself, step by step: a writer holds change numbers it has not committed; a
/// puller meanwhile neither sees that change nor moves its cursor past it, and a second writer
/// waits; once the first commits, the puller receives both changes in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_puller_never_moves_past_an_uncommitted_change() {
    use anju_server::sync::store::{RecordRow, insert_rows, lock_counter, store_counter};
    use anju_shared::merge::merge;
    use anju_shared::protocol::{Change, PullResponse};
    use anju_shared::records::HAZARD;
    use diesel::Connection;
    use std::sync::mpsc;

    let app = Arc::new(TestApp::spawn().await);
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let mut reader = RawDevice::register(&app, &sup).await;
    let mut writer = RawDevice::register(&app, &sup).await;
    let first = Uuid::now_v7();
    let m = writer.upsert("hazard", first, None, hazard(&unit, &area, "已提交"));
    writer.push_ok(&app, &[m]).await;
    reader.pull_all(&app).await;
    let before = reader.cursor.clone();

    // Writer A: takes the next number and writes, then waits before committing.
    let slow = Uuid::now_v7();
    let mut slow_mutation = writer.upsert("hazard", slow, None, hazard(&unit, &area, "慢事务"));
    // Written directly, not pushed by the device: give the number back.
    slow_mutation.seq = 1;
    writer.seq -= 1;
    let (written_tx, written_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let db = app.state().db.clone();
    let holder = std::thread::spawn(move || {
        let mut conn = db.get().expect("connection");
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            let (seq, _) = lock_counter(conn)?;
            let r = merge(&HAZARD, None, &slow_mutation, "console:test", seq + 1)
                .expect("valid mutation");
            let columns = register_columns(&r.record);
            insert_rows(
                conn,
                &[RecordRow::from_record(&r.record, seq + 1, 0, columns)],
            )?;
            store_counter(conn, seq + 1)?;
            written_tx.send(()).ok();
            go_rx.recv().ok();
            Ok(())
        })
        .expect("slow transaction commits");
    });
    written_rx.recv().expect("writer A wrote");

    // Writer B pushes meanwhile: it has to wait for A.
    let fast = Uuid::now_v7();
    let m = writer.upsert("hazard", fast, None, hazard(&unit, &area, "快事务"));
    let push_b = {
        let app = app.clone();
        let token = writer.token.clone();
        let body = json!({"protocol": 1, "device_id": writer.id, "mutations": [m]});
        tokio::spawn(async move { app.post("/api/v1/sync/push", Some(&token), &body).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !push_b.is_finished(),
        "a second writer waits for the first to commit"
    );

    let a = reader.pull_page(&app, 100).await;
    let page: PullResponse = serde_json::from_value(a.body).expect("page");
    assert!(page.changes.is_empty(), "{:?}", page.changes);
    assert_eq!(
        Some(page.next_cursor),
        before,
        "the cursor does not move past the open change"
    );

    go_tx.send(()).expect("release A");
    holder.join().expect("writer A");
    assert_eq!(push_b.await.expect("writer B").status, 200);
    let changes = reader.pull_all(&app).await;
    let ids: Vec<Uuid> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Upsert { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids, vec![slow, fast], "both arrive, in commit order");
}
