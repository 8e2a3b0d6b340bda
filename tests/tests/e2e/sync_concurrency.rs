//! Concurrent pushers and pullers (invariant 3): every puller ends with every record at its
//! final version, never goes back in time, and never receives a change twice within one pass.
//! Meant for PostgreSQL, where transactions really run in parallel; also runs on SQLite.

use std::collections::BTreeMap;
use std::sync::Arc;

use anju_server::auth::Role;
use anju_server::registers::columns::register_columns;
use anju_shared::protocol::Change;
use anju_tests::TestApp;
use anju_tests::field::FieldDevice;
use anju_tests::sync::{fields_of, hazard, outcome};
use serde_json::json;
use uuid::Uuid;

const PUSHERS: usize = 4;
const ROUNDS: usize = 15;
const PULLERS: usize = 3;

/// Asserts that every change a device pulled carried a higher version of its record than the
/// one before it: no pull went back in time, and none was received twice.
fn versions_only_grow(changes: &[Change]) {
    let mut last: BTreeMap<Uuid, i64> = BTreeMap::new();
    for c in changes {
        let (id, version) = match c {
            Change::Upsert { id, version, .. } | Change::Tombstone { id, version, .. } => {
                (*id, *version)
            }
            Change::Revoke { .. } => continue,
        };
        if let Some(v) = last.insert(id, version) {
            assert!(
                version > v,
                "a pull went back in time for {id}: {v} then {version}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushers_and_pullers_lose_skip_and_duplicate_nothing() {
    let app = Arc::new(TestApp::spawn().await);
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    app.create_user("sup", Role::Supervisor, None).await;

    let mut pushers = Vec::new();
    for p in 0..PUSHERS {
        let (unit, area) = (unit.clone(), area.clone());
        let name = format!("w{p}");
        app.create_user(&name, Role::Inspector, Some("hexi_jianshe_office"))
            .await;
        let mut d = FieldDevice::login(&app, &name).await;
        pushers.push(tokio::spawn(async move {
            // Each pusher creates records, then keeps editing them, syncing after each round
            // (so each edit is against the version its device last pulled).
            let mut mine: Vec<Uuid> = Vec::new();
            let mut finals = BTreeMap::new();
            for round in 0..ROUNDS {
                let (unit, area) = (unit.clone(), area.clone());
                let edits: Vec<Uuid> = mine.iter().take(5).copied().collect();
                let created = d
                    .run(move |d| {
                        let created: Vec<Uuid> = (0..5)
                            .map(|k| {
                                let f = hazard(&unit, &area, &format!("p{p} r{round} k{k}"));
                                d.create("hazard", fields_of(&f)).expect("create")
                            })
                            .collect();
                        for id in edits {
                            let f = json!({"location": format!("p{p} round {round}")});
                            d.edit(id, fields_of(&f)).expect("edit");
                        }
                        created
                    })
                    .await;
                let pushes_before = d.link().pushes().len();
                d.sync().await;
                for (req, resp) in d.link().pushes().split_off(pushes_before) {
                    for (m, r) in req.mutations.iter().zip(&resp.results) {
                        let r = serde_json::to_value(r).expect("a result is JSON");
                        assert_ne!(outcome(&r), "rejected", "{r:?}");
                        let v = r["version"].as_i64().unwrap();
                        finals.insert(m.record_id, v);
                    }
                }
                mine.extend(created);
                mine.rotate_left(3);
            }
            finals
        }));
    }
    let mut pullers = Vec::new();
    for _ in 0..PULLERS {
        let app = app.clone();
        let mut d = FieldDevice::login(&app, "sup").await;
        pullers.push(tokio::spawn(async move {
            // Pull continuously while the pushers run.
            for _ in 0..40 {
                d.pull().await;
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
        d.pull().await;
        versions_only_grow(&d.link().pulled());
        assert_eq!(
            d.pulled_ids().await.len(),
            expected.len(),
            "every record arrived"
        );
        for (id, v) in &expected {
            assert_eq!(d.version(*id).await, Some(*v), "{id} at its final version");
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
    use anju_shared::hlc::{DEFAULT_MAX_DRIFT_MS, HlcClock};
    use anju_shared::merge::merge;
    use anju_shared::protocol::{Mutation, Op};
    use anju_shared::records::HAZARD;
    use diesel::Connection;
    use std::sync::mpsc;

    let app = Arc::new(TestApp::spawn().await);
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    app.create_user("sup", Role::Supervisor, None).await;
    let mut reader = FieldDevice::login(&app, "sup").await;
    let mut writer = FieldDevice::login(&app, "sup").await;
    let f = hazard(&unit, &area, "已提交");
    let first = writer
        .run(move |d| d.create("hazard", fields_of(&f)).expect("create"))
        .await;
    writer.push().await;
    reader.pull().await;
    assert!(reader.version(first).await.is_some());
    let before = reader.link().pages().pop().expect("a page").next_cursor;

    // Writer A: takes the next number and writes, then waits before committing. Written
    // directly, not pushed by a device.
    let slow = Uuid::now_v7();
    let now = u64::try_from(jiff::Timestamp::now().as_millisecond()).unwrap_or(0);
    let slow_mutation = Mutation {
        seq: 1,
        record_type: "hazard".into(),
        record_id: slow,
        op: Op::Upsert,
        base_version: None,
        fields: fields_of(&hazard(&unit, &area, "慢事务")),
        hlc: HlcClock::new("console:test", DEFAULT_MAX_DRIFT_MS)
            .tick(now)
            .to_string(),
    };
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

    // Writer B's device pushes meanwhile: it has to wait for A.
    let f = hazard(&unit, &area, "快事务");
    let fast = writer
        .run(move |d| d.create("hazard", fields_of(&f)).expect("create"))
        .await;
    let push_b = tokio::spawn(async move {
        writer.push().await;
        writer
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !push_b.is_finished(),
        "a second writer waits for the first to commit"
    );

    let pages_before = reader.link().pages().len();
    assert_eq!(reader.pull().await.pulled, 0);
    let page = reader.link().pages().split_off(pages_before);
    assert_eq!(page.len(), 1, "{page:?}");
    assert!(page[0].changes.is_empty(), "{:?}", page[0].changes);
    assert_eq!(
        page[0].next_cursor, before,
        "the cursor does not move past the open change"
    );

    go_tx.send(()).expect("release A");
    holder.join().expect("writer A");
    let writer = push_b.await.expect("writer B");
    let r = writer.link().last_results();
    assert_eq!(outcome(&r[0]), "applied", "{r:?}");
    let changes = reader.pull_changes().await;
    let ids: Vec<Uuid> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Upsert { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids, vec![slow, fast], "both arrive, in commit order");
}
