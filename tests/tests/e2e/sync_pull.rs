//! Pull: scope (least access), widening and narrowing, tombstones, revocations, resets.

use anju_server::auth::Role;
use anju_shared::protocol::Change;
use anju_tests::TestApp;
use anju_tests::sync::{RawDevice, hazard, outcome};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

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
    let te = app
        .user_token("e", Role::Inspector, Some("hedong_xinhua_office"))
        .await;
    let ts = app.user_token("s", Role::Supervisor, None).await;
    let mut w = RawDevice::register(&app, &tw).await;
    let mut e = RawDevice::register(&app, &te).await;
    let mut s = RawDevice::register(&app, &ts).await;

    let hw = Uuid::now_v7();
    let he = Uuid::now_v7();
    let m = w.upsert("hazard", hw, None, hazard(&west, &west_area, "河西"));
    assert_eq!(outcome(&w.push_ok(&app, &[m]).await[0]), "applied");
    let m = e.upsert("hazard", he, None, hazard(&east, &east_area, "河东"));
    assert_eq!(outcome(&e.push_ok(&app, &[m]).await[0]), "applied");
    // A building only has an area.
    let b = Uuid::now_v7();
    let m = w.upsert(
        "building",
        b,
        None,
        json!({"address": "建设路 1 号", "area_id": west_area}),
    );
    assert_eq!(outcome(&w.push_ok(&app, &[m]).await[0]), "applied");

    w.pull_all(&app).await;
    e.pull_all(&app).await;
    s.pull_all(&app).await;
    assert!(w.version(hw).is_some() && w.version(b).is_some() && w.version(he).is_none());
    assert!(e.version(he).is_some() && e.version(hw).is_none() && e.version(b).is_none());
    assert_eq!(s.records.len(), 3, "a supervisor sees everything");

    // Out of scope: creating in the other district, and editing the other district's record.
    let m1 = w.upsert(
        "hazard",
        Uuid::now_v7(),
        None,
        hazard(&east, &east_area, "越界"),
    );
    let m2 = w.upsert("hazard", he, Some(1), json!({"severity": "low"}));
    let m3 = w.upsert(
        "hazard",
        Uuid::now_v7(),
        None,
        hazard(&west, &west_area, "合法"),
    );
    let r = w.push_ok(&app, &[m1, m2, m3]).await;
    assert_eq!(r[0]["code"], "out_of_scope");
    assert_eq!(r[1]["code"], "out_of_scope");
    assert_eq!(
        outcome(&r[2]),
        "applied",
        "a refused mutation costs the others nothing"
    );
    e.pull_all(&app).await;
    assert_eq!(e.records.len(), 1);
}

#[tokio::test]
async fn widening_sends_older_records_and_narrowing_revokes_them() {
    let app = TestApp::spawn().await;
    let west = app.unit_id("hexi_jianshe_office").await;
    let heping = app.unit_id("hexi_heping_office").await;
    let heping_area = app.area_id("hexi-heping-1").await;
    let heping_street = app.area_id("hexi-heping").await;
    let west_area = app.area_id("hexi-jianshe-1").await;
    let tw = app
        .user_token("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let th = app
        .user_token("h", Role::Inspector, Some("hexi_heping_office"))
        .await;
    let mut w = RawDevice::register(&app, &tw).await;
    let mut h = RawDevice::register(&app, &th).await;

    // Recorded long before the scope grows.
    let old = Uuid::now_v7();
    let m = h.upsert(
        "hazard",
        old,
        None,
        hazard(&heping, &heping_area, "和平街道旧隐患"),
    );
    h.push_ok(&app, &[m]).await;
    let mine = Uuid::now_v7();
    let m = w.upsert("hazard", mine, None, hazard(&west, &west_area, "建设街道"));
    w.push_ok(&app, &[m]).await;
    w.pull_all(&app).await;
    assert!(w.version(old).is_none());
    // Later changes elsewhere move the stream on.
    for i in 0..3 {
        let m = h.upsert(
            "hazard",
            Uuid::now_v7(),
            None,
            hazard(&heping, &heping_area, &format!("后来的 {i}")),
        );
        h.push_ok(&app, &[m]).await;
    }
    w.pull_all(&app).await;

    // The west office now also serves the Heping street: its records arrive, old ones too.
    serve_area(&app, &west, &heping_street, true).await;
    w.pull_all(&app).await;
    assert!(
        w.version(old).is_some(),
        "a record changed before the scope grew arrives"
    );
    assert_eq!(w.records.len(), 5);
    assert!(w.version(mine).is_some());
    // Nothing is sent twice once caught up.
    assert!(w.pull_all(&app).await.is_empty());

    // And narrowing takes them away again.
    serve_area(&app, &west, &heping_street, false).await;
    let changes = w.pull_all(&app).await;
    assert!(revoked(&changes, old), "{changes:?}");
    assert_eq!(w.records.len(), 1, "{:?}", w.records.keys());
    assert!(w.version(mine).is_some());
}

#[tokio::test]
async fn a_record_moved_to_another_unit_is_revoked_for_the_old_one() {
    let app = TestApp::spawn().await;
    let area = app.area_id("hexi-jianshe-1").await;
    // A property manager's staff: pm_city does not serve hexi-jianshe-1, so it sees this hazard
    // only because it is the responsible unit.
    let tw = app.user_token("w", Role::UnitStaff, Some("pm_city")).await;
    let pm_city = app.unit_id("pm_city").await;
    let ts = app.user_token("sup", Role::Supervisor, None).await;
    let mut w = RawDevice::register(&app, &tw).await;
    let mut s = RawDevice::register(&app, &ts).await;
    let id = Uuid::now_v7();
    let m = w.upsert("hazard", id, None, hazard(&pm_city, &area, "物业负责"));
    assert_eq!(outcome(&w.push_ok(&app, &[m]).await[0]), "applied");
    w.pull_all(&app).await;
    s.pull_all(&app).await;
    let v = s.version(id).unwrap();

    // The supervisor's device tries to move it (server-authoritative: a conflict) and the
    // supervisor resolves the conflict by choosing the other unit.
    let pm_hengan = app.unit_id("pm_hengan").await;
    let m = s.upsert("hazard", id, Some(v), json!({"unit_id": pm_hengan}));
    let r = s.push_ok(&app, &[m]).await;
    assert_eq!(outcome(&r[0]), "conflict");
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

    let changes = w.pull_all(&app).await;
    assert!(revoked(&changes, id), "{changes:?}");
    assert!(w.records.is_empty());
    s.pull_all(&app).await;
    assert_eq!(s.field(id, "unit_id"), pm_hengan.as_str());
}

#[tokio::test]
async fn old_or_foreign_cursors_get_one_clear_answer() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    let t = app
        .user_token("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut d = RawDevice::register(&app, &t).await;
    for i in 0..3 {
        let m = d.upsert(
            "hazard",
            Uuid::now_v7(),
            None,
            hazard(&unit, &area, &format!("{i}")),
        );
        d.push_ok(&app, &[m]).await;
    }
    d.pull_all(&app).await;
    let m = d.upsert("hazard", Uuid::now_v7(), None, hazard(&unit, &area, "新"));
    d.push_ok(&app, &[m]).await;

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
    let a = d.pull_page(&app, 100).await;
    assert_eq!(a.status, 410);
    assert_eq!(a.code(), "reset_required");
    assert!(a.body["message_en"].as_str().unwrap().contains("cursor"));
    d.cursor = None;
    d.records.clear();
    d.pull_all(&app).await;
    assert_eq!(d.records.len(), 4);

    d.cursor = Some("not-a-cursor".into());
    let a = d.pull_page(&app, 100).await;
    assert_eq!((a.status, a.code()), (400, "invalid_cursor"));
    d.cursor = Some("1.99999.all".into());
    assert_eq!(d.pull_page(&app, 100).await.status, 410);
    d.cursor = None;
    assert_eq!(d.pull_page(&app, 0).await.code(), "invalid_limit");
    let bad = app
        .client
        .get(app.url(&format!("/api/v1/sync/pull?device_id={}", d.id)))
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
    let t = app
        .user_token("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut d = RawDevice::register(&app, &t).await;
    let mut r = RawDevice::register(&app, &t).await;
    let mut muts = Vec::new();
    for i in 0..120 {
        muts.push(d.upsert(
            "hazard",
            Uuid::now_v7(),
            None,
            hazard(&unit, &area, &format!("{i}")),
        ));
    }
    d.push_ok(&app, &muts).await;
    let mut seen = std::collections::HashSet::new();
    loop {
        let a = r.pull_page(&app, 7).await;
        assert_eq!(a.status, 200);
        let page: anju_shared::protocol::PullResponse = serde_json::from_value(a.body).unwrap();
        assert!(page.changes.len() <= 7);
        for c in &page.changes {
            if let Change::Upsert { id, .. } = c {
                assert!(seen.insert(*id), "{id} sent twice");
            }
        }
        r.cursor = Some(page.next_cursor);
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen.len(), 120);
}

#[tokio::test]
async fn retention_forgets_old_tombstones_and_resets_only_cursors_behind_it() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    let t = app
        .user_token("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut d = RawDevice::register(&app, &t).await;
    let mut behind = RawDevice::register(&app, &t).await;
    let keep = Uuid::now_v7();
    let gone = Uuid::now_v7();
    let m1 = d.upsert("hazard", keep, None, hazard(&unit, &area, "保留"));
    let m2 = d.upsert("hazard", gone, None, hazard(&unit, &area, "删除"));
    let r = d.push_ok(&app, &[m1, m2]).await;
    behind.pull_all(&app).await;
    let m = d.delete("hazard", gone, r[1]["version"].as_i64().unwrap());
    d.push_ok(&app, &[m]).await;
    d.pull_all(&app).await;

    app.clock().advance_ms(31 * 86_400_000);
    // A month later both devices' sessions have to log in again.
    let t = app.login("w", anju_tests::USER_PASSWORD).await;
    (d.token, behind.token) = (t.clone(), t);
    let cutoff = app.clock().now_ms() - 30 * 86_400_000;
    let horizon = app
        .state()
        .db
        .run(move |conn| Ok(anju_server::sync::store::prune(conn, cutoff)?))
        .await
        .unwrap();
    assert!(horizon > 0);
    // Up to date: carries on. Behind the horizon: one reset, then a clean download.
    assert_eq!(d.pull_page(&app, 10).await.status, 200);
    let a = behind.pull_page(&app, 10).await;
    assert_eq!((a.status, a.code()), (410, "reset_required"));
    behind.cursor = None;
    behind.records.clear();
    behind.pull_all(&app).await;
    assert!(behind.version(keep).is_some() && behind.version(gone).is_none());
    assert_eq!(
        behind.pull_page(&app, 10).await.status,
        200,
        "no reset loop"
    );
}
