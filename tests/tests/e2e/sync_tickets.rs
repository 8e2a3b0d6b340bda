//! Tickets on the device: the read-only synced record type `ticket`. The handling unit's devices
//! pull its tickets (the resident's phone only to its own staff), other units' devices never see
//! them, a transfer revokes them, console actions update the copy, a device cannot write one,
//! and the outcome of a device action racing the console is on the copy.
//!
//! The real device (`FieldDevice`) pulls and acts; only the write of a ticket itself is sent
//! raw, since the real device refuses to make it (checked too).

use std::collections::BTreeMap;

use anju_server::attachments::image::samples;
use anju_server::auth::Role;
use anju_shared::protocol::Change;
use anju_tests::complaints::*;
use anju_tests::field::FieldDevice;
use anju_tests::sync::{RawDevice, fields_of, outcome};
use anju_tests::{TestApp, USER_PASSWORD};
use serde_json::{Value, json};
use uuid::Uuid;

const UNIT: &str = "hexi_jianshe_office";
const OTHER: &str = "hexi_heping_office";

async fn device(app: &TestApp, name: &str, role: Role, unit: Option<&str>) -> FieldDevice {
    app.create_user(name, role, unit).await;
    FieldDevice::login(app, name).await
}

async fn photo(app: &TestApp) -> Value {
    upload(app, samples::png_with_text(), "image/png")
        .await
        .body["id"]
        .clone()
}

/// The device's copy of ticket `id` (`None`: not on the device).
async fn ticket_of(d: &mut FieldDevice, id: &str) -> Option<BTreeMap<String, Value>> {
    let id = Uuid::try_parse(id).expect("uuid");
    d.run(move |d| d.show(id).expect("show"))
        .await
        .filter(|r| r.record_type == "ticket")
        .map(|r| r.fields)
}

/// Queues a ticket action on the device and syncs; the action's id and its push result.
async fn act(d: &mut FieldDevice, fields: Value) -> (Uuid, Value) {
    let action = d
        .run(move |d| {
            d.create("ticket_action", fields_of(&fields))
                .expect("create")
        })
        .await;
    d.sync().await;
    let r = d.link().results();
    let r = r
        .iter()
        .rev()
        .find(|r| r["record_id"] == json!(action))
        .expect("the action was pushed")
        .clone();
    (action, r)
}

#[tokio::test]
async fn the_handling_units_staff_pull_their_tickets_with_the_phone_and_no_one_else_gets_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, id) = file(&app, "dust", &admin).await;
    let mut staff = device(&app, "js1", Role::UnitStaff, Some(UNIT)).await;
    let mut unit_admin = device(&app, "js_admin", Role::UnitAdmin, Some(UNIT)).await;
    let mut inspector = device(&app, "js_insp", Role::Inspector, Some(UNIT)).await;
    let mut other = device(&app, "hp1", Role::UnitStaff, Some(OTHER)).await;
    let mut supervisor = device(&app, "sup1", Role::Supervisor, None).await;
    for d in [
        &mut staff,
        &mut unit_admin,
        &mut inspector,
        &mut other,
        &mut supervisor,
    ] {
        d.pull().await;
    }

    let t = ticket_of(&mut staff, &id)
        .await
        .expect("the handling unit's staff have the ticket");
    assert_eq!(t["status"], "dispatched");
    assert_eq!(t["unit_id"], json!(app.unit_id(UNIT).await));
    assert_eq!(t["category_code"], "dust");
    assert!(t["category"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(t["address"], "纺织厂家属院 3 号楼");
    assert_eq!(t["description"], "工地夜里还在施工，扬尘很大");
    assert!(t["community"].as_str().is_some_and(|c| !c.is_empty()));
    assert!(t["ticket_no"].as_str().is_some_and(|n| !n.is_empty()));
    for k in ["response_due", "resolution_due", "filed_at"] {
        assert!(t[k].as_str().is_some_and(|s| s.contains('T')), "{k}: {t:?}");
    }
    let phone = t["resident_phone"].as_str().expect("staff get the phone");
    assert!(phone.replace(' ', "").contains("12345678"), "{phone}");
    let t = ticket_of(&mut unit_admin, &id)
        .await
        .expect("the unit's admin has it");
    assert!(t["resident_phone"].is_string());

    // Same unit, not staff: the ticket without the phone. A city-wide role: the same.
    for d in [&mut inspector, &mut supervisor] {
        let t = ticket_of(d, &id).await.expect("in scope");
        assert!(!t.contains_key("resident_phone"), "{t:?}");
    }
    for c in inspector
        .link()
        .pulled()
        .iter()
        .chain(&supervisor.link().pulled())
    {
        assert!(
            !serde_json::to_string(c).unwrap().contains("12345678"),
            "the phone reached a device that must not have it: {c:?}"
        );
    }
    // Another unit: nothing at all.
    assert!(ticket_of(&mut other, &id).await.is_none());
    assert!(!other.link().pulled().iter().any(|c| matches!(c,
        Change::Upsert { record_type, .. } if record_type == "ticket")));
}

#[tokio::test]
async fn a_transfer_revokes_the_ticket_and_the_new_unit_pulls_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, id) = file(&app, "dust", &admin).await;
    let mut staff = device(&app, "js1", Role::UnitStaff, Some(UNIT)).await;
    let mut other = device(&app, "hp1", Role::UnitStaff, Some(OTHER)).await;
    staff.pull().await;
    other.pull().await;
    assert!(ticket_of(&mut staff, &id).await.is_some());

    let heping = app.unit_id(OTHER).await;
    let a = app
        .post(
            &format!("/api/v1/tickets/{id}/dispatch"),
            Some(&admin),
            &json!({"unit_id": heping}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);

    let got = staff.pull_changes().await;
    let uuid = Uuid::try_parse(&id).unwrap();
    assert!(
        got.iter()
            .any(|c| matches!(c, Change::Revoke { id: r, record_type } if *r == uuid && record_type == "ticket")),
        "the old unit is told to drop the ticket: {got:?}"
    );
    assert!(ticket_of(&mut staff, &id).await.is_none());
    other.pull().await;
    let t = ticket_of(&mut other, &id)
        .await
        .expect("the new unit has it");
    assert_eq!(t["unit_id"], json!(heping));
    assert!(t["resident_phone"].is_string(), "its staff get the phone");

    // The new unit returns it to the dispatch center: revoked from them too.
    let hp_token = app.login("hp1", USER_PASSWORD).await;
    let a = app
        .post(
            &format!("/api/v1/tickets/{id}/return"),
            Some(&hp_token),
            &json!({"reason": "不在本街道辖区"}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let got = other.pull_changes().await;
    assert!(
        got.iter()
            .any(|c| matches!(c, Change::Revoke { id: r, .. } if *r == uuid))
    );
    assert!(ticket_of(&mut other, &id).await.is_none());
}

#[tokio::test]
async fn console_actions_update_the_devices_copy() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, id) = file(&app, "dust", &admin).await;
    let console = app
        .user_token("js_console", Role::UnitStaff, Some(UNIT))
        .await;
    let mut staff = device(&app, "js1", Role::UnitStaff, Some(UNIT)).await;
    staff.pull().await;
    let before = staff
        .version(Uuid::try_parse(&id).unwrap())
        .await
        .expect("pulled");

    let path = |a: &str| format!("/api/v1/tickets/{id}/{a}");
    let a = app.post(&path("accept"), Some(&console), &json!({})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let a = app
        .post(
            &path("reply"),
            Some(&console),
            &json!({"text": "已安排人员本周内处理"}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    // An internal note is not public: it must not reach the copy.
    let a = app
        .post(&path("note"), Some(&console), &json!({"text": "内部备注"}))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);

    staff.pull().await;
    let t = ticket_of(&mut staff, &id).await.expect("still there");
    assert_eq!(t["status"], "accepted");
    assert!(t["accepted_at"].is_string());
    let replies = t["replies"].as_array().expect("public replies");
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["text"], "已安排人员本周内处理");
    assert!(staff.version(Uuid::try_parse(&id).unwrap()).await.unwrap() > before);
}

#[tokio::test]
async fn a_device_cannot_write_a_ticket() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, id) = file(&app, "dust", &admin).await;
    let mut staff = device(&app, "js1", Role::UnitStaff, Some(UNIT)).await;
    staff.pull().await;
    let uuid = Uuid::try_parse(&id).unwrap();
    let version = staff.version(uuid).await.expect("pulled");
    // The real device refuses to write a ticket at all.
    let refused = staff
        .run(move |d| {
            let closed = fields_of(&json!({"status": "closed"}));
            (
                d.edit(uuid, closed.clone()).is_err(),
                d.create("ticket", closed).is_err(),
            )
        })
        .await;
    assert_eq!(
        refused,
        (true, true),
        "the device refuses to write a ticket"
    );
    // The hostile step: the same writes sent raw, as no real device sends them.
    let token = app.login("js1", USER_PASSWORD).await;
    let mut raw = RawDevice::register(&app, &token).await;
    let edit = raw.upsert("ticket", uuid, Some(version), json!({"status": "closed"}));
    let create = raw.upsert(
        "ticket",
        Uuid::now_v7(),
        None,
        json!({"ticket_no": "x", "status": "closed"}),
    );
    let r = raw.push_ok(&app, &[edit, create]).await;
    for x in &r {
        assert_eq!(outcome(x), "rejected", "{x:?}");
        assert_eq!(x["code"], "read_only_record_type", "{x:?}");
    }
    let v = app
        .get(&format!("/api/v1/tickets/{id}"), Some(&admin))
        .await;
    assert_eq!(v.body["status"], "dispatched");
    staff.pull().await;
    assert_eq!(
        ticket_of(&mut staff, &id).await.unwrap()["status"],
        "dispatched"
    );
}

#[tokio::test]
async fn a_device_action_that_lost_the_race_with_the_console_says_so_on_the_ticket() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, id) = file(&app, "dust", &admin).await;
    let console = app
        .user_token("js_console", Role::UnitStaff, Some(UNIT))
        .await;
    let mut staff = device(&app, "js1", Role::UnitStaff, Some(UNIT)).await;
    let unit = app.unit_id(UNIT).await;
    staff.pull().await;

    // Offline, the device accepts; meanwhile the console accepted and resolved.
    let path = |a: &str| format!("/api/v1/tickets/{id}/{a}");
    assert_eq!(
        app.post(&path("accept"), Some(&console), &json!({}))
            .await
            .status,
        200
    );
    let a = app
        .post(
            &path("resolve"),
            Some(&console),
            &json!({"result": "已处理完毕", "photos": [photo(&app).await]}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let (action_id, r) = act(
        &mut staff,
        json!({"ticket_id": id, "unit_id": unit, "action": "accept",
               "acted_at": "2026-11-26T10:00:00+08:00"}),
    )
    .await;
    assert_eq!(outcome(&r), "rejected", "{r:?}");
    let code = r["code"].as_str().unwrap().to_string();

    let t = ticket_of(&mut staff, &id).await.expect("still there");
    assert_eq!(t["status"], "resolved");
    let o = &t["device_outcome"];
    assert_eq!(o["outcome"], "refused", "{t:?}");
    assert_eq!(o["code"], json!(code));
    assert_eq!(o["action"], "accept");
    assert_eq!(o["action_id"], json!(action_id.to_string()));
    assert!(o["message_zh"].as_str().is_some_and(|m| !m.is_empty()));

    // A device action that goes through is noted as applied.
    let (_, id2) = file(&app, "dust", &admin).await;
    staff.pull().await;
    let (_, r) = act(
        &mut staff,
        json!({"ticket_id": id2, "unit_id": unit, "action": "accept",
               "acted_at": "2026-11-26T10:00:00+08:00"}),
    )
    .await;
    assert_eq!(outcome(&r), "applied", "{r:?}");
    let t = ticket_of(&mut staff, &id2).await.expect("pulled");
    assert_eq!(t["status"], "accepted");
    assert_eq!(t["device_outcome"]["outcome"], "applied");
}

#[tokio::test]
async fn closed_tickets_leave_devices_after_thirty_days() {
    use anju_server::sync::ticket_record::{RECENT_MS, catch_up};
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (code, id) = file(&app, "dust", &admin).await;
    let console = app
        .user_token("js_console", Role::UnitStaff, Some(UNIT))
        .await;
    let mut staff = device(&app, "js1", Role::UnitStaff, Some(UNIT)).await;
    let path = |a: &str| format!("/api/v1/tickets/{id}/{a}");
    assert_eq!(
        app.post(&path("accept"), Some(&console), &json!({}))
            .await
            .status,
        200
    );
    let a = app
        .post(
            &path("resolve"),
            Some(&console),
            &json!({"result": "已处理完毕", "photos": [photo(&app).await]}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let a = app
        .post(
            &format!("/api/v1/track/{code}/confirm"),
            None,
            &json!({"rating": 5}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    staff.pull().await;
    assert_eq!(
        ticket_of(&mut staff, &id).await.expect("recent")["status"],
        "closed"
    );

    let soon = app.clock().now_ms() + RECENT_MS / 2;
    let n = app
        .state()
        .db
        .run(move |conn| catch_up(conn, soon, 200))
        .await
        .unwrap();
    assert_eq!(n.wrote, 0, "closed 15 days ago is still recent");
    let later = app.clock().now_ms() + RECENT_MS + 1;
    let n = app
        .state()
        .db
        .run(move |conn| catch_up(conn, later, 200))
        .await
        .unwrap();
    assert_eq!(n.wrote, 1);
    let got = staff.pull_changes().await;
    let uuid = Uuid::try_parse(&id).unwrap();
    assert!(
        got.iter()
            .any(|c| matches!(c, Change::Tombstone { id: r, .. } if *r == uuid))
    );
    assert!(ticket_of(&mut staff, &id).await.is_none());
}
