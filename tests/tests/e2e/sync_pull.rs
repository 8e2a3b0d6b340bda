//! Pull: scope (least access), widening and narrowing, tombstones, revocations, resets.
//!
//! The real device (`FieldDevice`) records and pulls; the raw steps are what no real device
//! sends: an edit of a record it cannot see, forged cursors, a bad limit, another protocol.

use anju_client::SyncOptions;
use anju_server::auth::Role;
use anju_shared::protocol::Change;
use anju_tests::TestApp;
use anju_tests::field::FieldDevice;
use anju_tests::sync::{RawDevice, fields_of, hazard, outcome};
use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

/// Queues the creation of a record on the device; its id.
async fn create(d: &mut FieldDevice, record_type: &'static str, fields: Value) -> Uuid {
    d.run(move |d| d.create(record_type, fields_of(&fields)).expect("create"))
        .await
}

/// Creates a record and syncs; the outcome of its push.
async fn record(d: &mut FieldDevice, record_type: &'static str, fields: Value) -> (Uuid, Value) {
    let id = create(d, record_type, fields).await;
    d.sync().await;
    (id, d.link().last_results()[0].clone())
}

async fn serve_area(app: &TestApp, unit: &str, area: &str, serve: bool) {
    use anju_server::db::schema::unit_areas;
    let (unit, area) = (unit.to_string(), area.to_string());
    app.state()
        .db
        .run(move |conn| {
            if serve {
                diesel::insert_into(unit_areas::table)
                    .values((unit_areas::unit_id.eq(&unit), unit_areas::area_id.eq(&area)))
                    .execute(conn)?;
            } else {
                diesel::delete(
                    unit_areas::table
                        .filter(unit_areas::unit_id.eq(&unit))
                        .filter(unit_areas::area_id.eq(&area)),
                )
                .execute(conn)?;
            }
            Ok(())
        })
        .await
        .expect("unit_areas changed");
}

fn revoked(changes: &[Change], id: Uuid) -> bool {
    changes
        .iter()
        .any(|c| matches!(c, Change::Revoke { id: r, .. } if *r == id))
}

#[tokio::test]
async fn a_device_sees_only_its_scope_and_cannot_write_outside_it() {
    let app = TestApp::spawn().await;
    let west = app.unit_id("hexi_jianshe_office").await;
    let east = app.unit_id("hedong_xinhua_office").await;
    let west_area = app.area_id("hexi-jianshe-2").await;
    let east_area = app.area_id("hedong-xinhua-1").await;
    let tw = app
        .user_token("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    app.create_user("e", Role::Inspector, Some("hedong_xinhua_office"))
        .await;
    app.create_user("s", Role::Supervisor, None).await;
    let mut w = FieldDevice::login(&app, "w").await;
    let mut e = FieldDevice::login(&app, "e").await;
    let mut s = FieldDevice::login(&app, "s").await;

    let (hw, r) = record(&mut w, "hazard", hazard(&west, &west_area, "河西")).await;
    assert_eq!(outcome(&r), "applied");
    let (he, r) = record(&mut e, "hazard", hazard(&east, &east_area, "河东")).await;
    assert_eq!(outcome(&r), "applied");
    // A building only has an area.
    let (b, r) = record(
        &mut w,
        "building",
        json!({"address": "建设路 1 号", "area_id": west_area}),
    )
    .await;
    assert_eq!(outcome(&r), "applied");

    w.pull().await;
    e.pull().await;
    s.pull().await;
    assert!(w.version(hw).await.is_some() && w.version(b).await.is_some());
    assert!(w.version(he).await.is_none());
    assert!(e.version(he).await.is_some() && e.version(hw).await.is_none());
    assert!(e.version(b).await.is_none());
    assert_eq!(
        s.pulled_ids().await.len(),
        3,
        "a supervisor sees everything"
    );

    // Out of scope: creating in the other district, in one batch with a record in scope.
    let out = create(&mut w, "hazard", hazard(&east, &east_area, "越界")).await;
    let fine = create(&mut w, "hazard", hazard(&west, &west_area, "合法")).await;
    w.push().await;
    let r = w.link().last_results();
    assert_eq!((r.len(), r[0]["record_id"].clone()), (2, json!(out)));
    assert_eq!(r[0]["code"], "out_of_scope");
    assert_eq!(r[1]["record_id"], json!(fine));
    assert_eq!(
        outcome(&r[1]),
        "applied",
        "a refused mutation costs the others nothing"
    );
    // The hostile step: an edit of the other district's record, which w's device never saw
    // (so a real device cannot make it), with a version guessed.
    let mut raw = RawDevice::register(&app, &tw).await;
    let m1 = raw.upsert("hazard", he, Some(1), json!({"severity": "low"}));
    let m2 = raw.upsert(
        "hazard",
        Uuid::now_v7(),
        None,
        hazard(&west, &west_area, "合法"),
    );
    let r = raw.push_ok(&app, &[m1, m2]).await;
    assert_eq!(r[0]["code"], "out_of_scope");
    assert_eq!(
        outcome(&r[1]),
        "applied",
        "a refused mutation costs the others nothing"
    );
    e.pull().await;
    assert_eq!(e.pulled_ids().await.len(), 1);
    assert_eq!(
        e.fields(he).await.expect("e's hazard")["severity"],
        "medium"
    );
}

#[tokio::test]
async fn widening_sends_older_records_and_narrowing_revokes_them() {
    let app = TestApp::spawn().await;
    let west = app.unit_id("hexi_jianshe_office").await;
    let heping = app.unit_id("hexi_heping_office").await;
    let heping_area = app.area_id("hexi-heping-1").await;
    let heping_street = app.area_id("hexi-heping").await;
    let west_area = app.area_id("hexi-jianshe-1").await;
    app.create_user("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    app.create_user("h", Role::Inspector, Some("hexi_heping_office"))
        .await;
    let mut w = FieldDevice::login(&app, "w").await;
    let mut h = FieldDevice::login(&app, "h").await;

    // Recorded long before the scope grows.
    let (old, _) = record(
        &mut h,
        "hazard",
        hazard(&heping, &heping_area, "和平街道旧隐患"),
    )
    .await;
    let (mine, _) = record(&mut w, "hazard", hazard(&west, &west_area, "建设街道")).await;
    w.pull().await;
    assert!(w.version(old).await.is_none());
    // Later changes elsewhere move the stream on.
    for i in 0..3 {
        record(
            &mut h,
            "hazard",
            hazard(&heping, &heping_area, &format!("后来的 {i}")),
        )
        .await;
    }
    w.pull().await;

    // The west office now also serves the Heping street: its records arrive, old ones too.
    serve_area(&app, &west, &heping_street, true).await;
    w.pull().await;
    assert!(
        w.version(old).await.is_some(),
        "a record changed before the scope grew arrives"
    );
    assert_eq!(w.pulled_ids().await.len(), 5);
    assert!(w.version(mine).await.is_some());
    // Nothing is sent twice once caught up.
    assert!(w.pull_changes().await.is_empty());

    // And narrowing takes them away again.
    serve_area(&app, &west, &heping_street, false).await;
    let changes = w.pull_changes().await;
    assert!(revoked(&changes, old), "{changes:?}");
    let left = w.pulled_ids().await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(w.version(mine).await.is_some());
    assert!(w.fields(old).await.is_none(), "gone from the device");
}

#[tokio::test]
async fn a_record_moved_to_another_unit_is_revoked_for_the_old_one() {
    let app = TestApp::spawn().await;
    let area = app.area_id("hexi-jianshe-1").await;
    // A property manager's staff: pm_city does not serve hexi-jianshe-1, so it sees this hazard
    // only because it is the responsible unit.
    app.create_user("w", Role::UnitStaff, Some("pm_city")).await;
    let pm_city = app.unit_id("pm_city").await;
    let ts = app.user_token("sup", Role::Supervisor, None).await;
    let mut w = FieldDevice::login(&app, "w").await;
    let mut s = FieldDevice::login(&app, "sup").await;
    let (id, r) = record(&mut w, "hazard", hazard(&pm_city, &area, "物业负责")).await;
    assert_eq!(outcome(&r), "applied");
    s.pull().await;
    let v = s.version(id).await.unwrap();

    // The supervisor's device tries to move it (server-authoritative: a conflict) and the
    // supervisor resolves the conflict by choosing the other unit.
    let pm_hengan = app.unit_id("pm_hengan").await;
    let to = json!({"unit_id": pm_hengan});
    s.run(move |d| d.edit(id, fields_of(&to)).expect("edit"))
        .await;
    s.push().await;
    let (sent, answer) = s.link().pushes().pop().expect("a push");
    assert_eq!(sent.mutations[0].base_version, Some(v));
    assert_eq!(
        outcome(&serde_json::to_value(&answer.results[0]).unwrap()),
        "conflict"
    );
    let list = app.get("/api/v1/sync/conflicts", Some(&ts)).await;
    let cid = list.body[0]["id"].as_str().unwrap().to_string();
    let res = app
        .post(
            &format!("/api/v1/sync/conflicts/{cid}/resolve"),
            Some(&ts),
            &json!({"value": pm_hengan}),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert_eq!(res.body["conflict"]["status"], "resolved");

    let changes = w.pull_changes().await;
    assert!(revoked(&changes, id), "{changes:?}");
    assert!(w.pulled_ids().await.is_empty());
    assert!(
        w.fields(id).await.is_none(),
        "gone from the old unit's device"
    );
    s.pull().await;
    assert_eq!(
        s.fields(id).await.expect("the supervisor's copy")["unit_id"],
        pm_hengan.as_str()
    );
}

#[tokio::test]
async fn old_or_foreign_cursors_get_one_clear_answer() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    let t = app
        .user_token("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut d = FieldDevice::login(&app, "w").await;
    for i in 0..3 {
        create(&mut d, "hazard", hazard(&unit, &area, &format!("{i}"))).await;
    }
    d.sync().await;
    create(&mut d, "hazard", hazard(&unit, &area, "新")).await;
    d.push().await;

    // Retention moved past the device's cursor: 410 reset_required, then a fresh pull works.
    use anju_server::sync::schema::sync_counter;
    app.state()
        .db
        .run(|conn| {
            diesel::update(sync_counter::table)
                .set(sync_counter::horizon.eq(sync_counter::seq))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let report = d.pull().await;
    assert!(report.reset, "the device started over");
    let resets = d.link().resets();
    assert_eq!(resets.len(), 1, "one reset, then a fresh pull: {resets:?}");
    assert_eq!(resets[0].code, "reset_required");
    assert!(resets[0].message_en.contains("cursor"));
    assert_eq!(d.pulled_ids().await.len(), 4);

    // The hostile steps: cursors no device was given, a limit and a protocol no device sends.
    let mut raw = RawDevice::register(&app, &t).await;
    raw.cursor = Some("not-a-cursor".into());
    let a = raw.pull_page(&app, 100).await;
    assert_eq!((a.status, a.code()), (400, "invalid_cursor"));
    raw.cursor = Some("1.99999.all".into());
    assert_eq!(raw.pull_page(&app, 100).await.status, 410);
    raw.cursor = None;
    assert_eq!(raw.pull_page(&app, 0).await.code(), "invalid_limit");
    let bad = app
        .client
        .get(app.url(&format!("/api/v1/sync/pull?device_id={}", raw.id)))
        .bearer_auth(&t)
        .header("X-Anju-Protocol", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["code"], "protocol_version_unsupported");
    assert_eq!(body["supported"], json!([1]));
}

#[tokio::test]
async fn pages_follow_the_cursor_without_loss_or_repeat() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    app.create_user("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut d = FieldDevice::login(&app, "w").await;
    let mut r = FieldDevice::login(&app, "w").await;
    for i in 0..120 {
        create(&mut d, "hazard", hazard(&unit, &area, &format!("{i}"))).await;
    }
    d.push().await;
    assert_eq!(d.link().pushes().len(), 1, "one batch");
    r.run(|d| {
        d.set_options(SyncOptions {
            pull_limit: 7,
            ..SyncOptions::default()
        })
    })
    .await;
    r.pull().await;
    let pages = r.link().pages();
    assert!(pages.len() >= 120 / 7, "{} pages", pages.len());
    let mut seen = std::collections::HashSet::new();
    for page in &pages {
        assert!(page.changes.len() <= 7);
        for c in &page.changes {
            if let Change::Upsert { id, .. } = c {
                assert!(seen.insert(*id), "{id} sent twice");
            }
        }
    }
    assert!(!pages.last().expect("a page").has_more);
    assert_eq!(seen.len(), 120);
    assert_eq!(r.pulled_ids().await.len(), 120);
}

#[tokio::test]
async fn retention_forgets_old_tombstones_and_resets_only_cursors_behind_it() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    app.create_user("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut d = FieldDevice::login(&app, "w").await;
    let mut behind = FieldDevice::login(&app, "w").await;
    let keep = create(&mut d, "hazard", hazard(&unit, &area, "保留")).await;
    let gone = create(&mut d, "hazard", hazard(&unit, &area, "删除")).await;
    d.sync().await;
    behind.pull().await;
    d.run(move |d| d.delete(gone).expect("delete")).await;
    d.sync().await;
    assert_eq!(outcome(&d.link().last_results()[0]), "applied");

    app.clock().advance_ms(31 * 86_400_000);
    // A month later both devices' sessions have to log in again.
    for dev in [&mut d, &mut behind] {
        dev.run(|d| {
            d.login("w", anju_tests::USER_PASSWORD, "w 的设备")
                .expect("login again")
        })
        .await;
    }
    let cutoff = app.clock().now_ms() - 30 * 86_400_000;
    let horizon = app
        .state()
        .db
        .run(move |conn| Ok(anju_server::sync::store::prune(conn, cutoff)?))
        .await
        .unwrap();
    assert!(horizon > 0);
    // Up to date: carries on. Behind the horizon: one reset, then a clean download.
    assert!(!d.pull().await.reset);
    assert!(d.link().resets().is_empty());
    assert!(behind.pull().await.reset);
    let resets = behind.link().resets();
    assert_eq!(resets.len(), 1, "{resets:?}");
    assert_eq!(resets[0].code, "reset_required");
    assert!(behind.version(keep).await.is_some() && behind.version(gone).await.is_none());
    assert!(!behind.pull().await.reset, "no reset loop");
    assert_eq!(behind.link().resets().len(), 1, "no reset loop");
}
