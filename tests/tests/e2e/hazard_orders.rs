//! Rectification orders (整改通知): the status rules of `hazard_action` records from devices and
//! the office (refusals with stable codes, nothing applied), extensions, a deadline before the
//! issue date, and the orders' clock (reminder before the deadline, daily escalation after it to
//! the unit, its supervising unit and the bureau) once per deadline and day with two workers and
//! a restart.

use anju_client::{RetryPolicy, SyncOptions};
use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::complaints::set_time;
use anju_tests::field::FieldDevice;
use anju_tests::sync::{fields_of, hazard, outcome};
use diesel::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const UNIT: &str = "hexi_jianshe_office";
const AREA: &str = "hexi-jianshe-1";

const SITE: &[u8] = include_bytes!("../../../web-tests/fixtures/site.jpg");

/// A distinct photo per letter (the site photo with a byte after its end, as phones append).
fn photo_bytes(c: char) -> Vec<u8> {
    let mut b = SITE.to_vec();
    b.push(c as u8);
    b
}

fn photo(c: char) -> String {
    hex::encode(Sha256::digest(photo_bytes(c)))
}

/// Uploads the photos of `letters` as the user of `token` (their uploader may use them).
async fn upload(app: &TestApp, token: &str, letters: &str) {
    for c in letters.chars() {
        let r = app
            .client
            .put(app.url(&format!("/api/v1/attachments/{}", photo(c))))
            .bearer_auth(token)
            .body(photo_bytes(c))
            .send()
            .await
            .expect("put");
        assert!(r.status().is_success(), "{}", r.status());
    }
}

fn order(unit: &str, area: &str, deadline: &str) -> Value {
    let mut h = hazard(unit, area, "外墙脱落隐患");
    h["order_no"] = json!("河西整改〔2031〕7号");
    h["order_issued_on"] = json!("2031-03-01");
    h["deadline"] = json!(deadline);
    h["responsible_person"] = json!("王建国");
    h
}

fn action(unit: &str, area: &str, hazard_id: Uuid, kind: &str, extra: Value) -> Value {
    let mut a = json!({"hazard_id": hazard_id, "unit_id": unit, "area_id": area, "action": kind,
                       "acted_at": "2031-03-05T10:00:00+08:00"});
    a.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    a
}

/// Takes the photos of `letters` on the device (its next sync uploads them; their uploader may
/// use them).
async fn take_photos(d: &mut FieldDevice, letters: &'static str) {
    d.run(move |d| {
        for c in letters.chars() {
            let shot = d.dir().join(format!("{c}.jpg"));
            std::fs::write(&shot, photo_bytes(c)).expect("photo file");
            assert_eq!(d.add_photo(&shot).expect("photo"), photo(c));
        }
    })
    .await;
}

/// The outcome of a push result, or its rejection code.
fn outcome_or_code(r: &Value) -> String {
    match outcome(r) {
        "rejected" => r["code"].as_str().unwrap().to_owned(),
        o => o.to_owned(),
    }
}

/// Creates a record on the device and syncs; the result's outcome or rejection code.
async fn create(d: &mut FieldDevice, record_type: &'static str, fields: Value) -> (Uuid, String) {
    let id = d
        .run(move |d| d.create(record_type, fields_of(&fields)).expect("create"))
        .await;
    d.sync().await;
    (id, outcome_or_code(&d.link().last_results()[0]))
}

/// Edits a record on the device and syncs; the result's outcome or rejection code.
async fn edit(d: &mut FieldDevice, id: Uuid, fields: Value) -> String {
    d.run(move |d| d.edit(id, fields_of(&fields)).expect("edit"))
        .await;
    d.sync().await;
    outcome_or_code(&d.link().last_results()[0])
}

/// One hazard action from the device `d`; the result's outcome or rejection code.
async fn act(d: &mut FieldDevice, fields: Value) -> String {
    create(d, "hazard_action", fields).await.1
}

/// A field of the device's copy of record `id` (`null`: absent).
async fn field(d: &mut FieldDevice, id: Uuid, name: &str) -> Value {
    d.fields(id)
        .await
        .and_then(|f| f.get(name).cloned())
        .unwrap_or(Value::Null)
}

async fn order_state(app: &TestApp, token: &str, id: Uuid) -> Value {
    let r = app
        .get(&format!("/api/v1/registers/hazard/{id}/order"), Some(token))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn status_moves_only_through_actions_by_the_right_person_with_evidence() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id(UNIT).await;
    let area = app.area_id(AREA).await;
    let staff = app.user_token("staff", Role::UnitStaff, Some(UNIT)).await;
    app.create_user("insp", Role::Inspector, Some(UNIT)).await;
    let mut d = FieldDevice::login(&app, "staff").await;
    let mut i = FieldDevice::login(&app, "insp").await;
    take_photos(&mut d, "abc").await;
    take_photos(&mut i, "e").await;

    // Bad input: a deadline before the issue date is refused on create and on edit.
    let (_, r) = create(&mut d, "hazard", order(&unit, &area, "2031-02-20")).await;
    assert_eq!(r, "deadline_before_issue");
    // A new hazard starts open: a unit cannot create it already rectified.
    let mut done = order(&unit, &area, "2031-03-14");
    done["status"] = json!("rectified");
    assert_eq!(
        create(&mut d, "hazard", done).await.1,
        "hazard_status_by_action"
    );

    let (id, r) = create(&mut d, "hazard", order(&unit, &area, "2031-03-14")).await;
    assert_eq!(r, "applied");
    let v1 = d.version(id).await.expect("pulled");
    assert_eq!(
        edit(&mut d, id, json!({"order_issued_on": "2031-03-20"})).await,
        "deadline_before_issue"
    );
    // A direct status edit is refused, forward or not, whoever sends it.
    for (dev, to) in [(&mut d, "rectified"), (&mut i, "verified")] {
        dev.pull().await;
        assert_eq!(dev.version(id).await, Some(v1));
        assert_eq!(
            edit(dev, id, json!({"status": to})).await,
            "hazard_status_by_action"
        );
    }

    let rectify = |p: Option<char>| {
        let extra = match p {
            Some(c) => json!({"photos": {"add": [photo(c)]}, "note": "已加固外墙"}),
            None => json!({"note": "已加固外墙"}),
        };
        action(&unit, &area, id, "rectify", extra)
    };
    assert_eq!(
        act(&mut d, rectify(None)).await,
        "rectification_photos_required"
    );
    assert_eq!(
        act(&mut i, rectify(Some('e'))).await,
        "not_responsible_unit"
    );
    let verify = action(
        &unit,
        &area,
        id,
        "verify",
        json!({"photos": {"add": [photo('e')]}}),
    );
    assert_eq!(act(&mut i, verify.clone()).await, "hazard_not_in_state");
    assert_eq!(act(&mut d, rectify(Some('a'))).await, "applied");
    assert_eq!(field(&mut d, id, "status").await, "rectified");
    assert_eq!(
        field(&mut d, id, "rectification_photos").await,
        json!([photo('a')])
    );
    assert_eq!(field(&mut d, id, "rectification_note").await, "已加固外墙");
    assert!(field(&mut d, id, "rectified_at").await.is_string());

    // The unit cannot verify its own work; a return needs its reason.
    let own = action(
        &unit,
        &area,
        id,
        "verify",
        json!({"photos": {"add": [photo('b')]}}),
    );
    assert_eq!(act(&mut d, own).await, "checker_role_required");
    let back = |note: Option<&str>| action(&unit, &area, id, "return", json!({"note": note}));
    assert_eq!(act(&mut i, back(None)).await, "return_reason_required");
    assert_eq!(act(&mut i, back(Some("墙面仍有空鼓"))).await, "applied");
    d.pull().await;
    assert_eq!(field(&mut d, id, "status").await, "open");
    assert_eq!(field(&mut d, id, "round").await, 1);
    assert_eq!(field(&mut d, id, "return_reason").await, "墙面仍有空鼓");

    // Second round: rectified again, then verified with photos of the check.
    let no_photo = action(&unit, &area, id, "verify", json!({}));
    assert_eq!(act(&mut d, rectify(Some('b'))).await, "applied");
    assert_eq!(act(&mut i, no_photo).await, "verification_photos_required");
    assert_eq!(act(&mut i, verify.clone()).await, "applied");
    assert_eq!(act(&mut d, rectify(Some('c'))).await, "hazard_not_in_state");
    i.pull().await;
    assert_eq!(field(&mut i, id, "status").await, "verified");
    assert_eq!(
        field(&mut i, id, "verification_photos").await,
        json!([photo('e')])
    );
    let mut both = vec![photo('a'), photo('b')];
    both.sort();
    assert_eq!(field(&mut i, id, "rectification_photos").await, json!(both));
    // Refused actions are stored nowhere; the applied ones are, in order.
    let st = order_state(&app, &staff, id).await;
    let kinds: Vec<&str> = st["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["rectify", "return", "rectify", "verify"]);
    assert_eq!(
        (st["status"].as_str(), st["round"].as_i64()),
        (Some("verified"), Some(1))
    );
    assert_eq!(st["responsible_person"], "王建国");

    // The record type is published for the field app.
    let schemas = app.get("/api/v1/sync/schemas", Some(&staff)).await;
    assert!(
        schemas.body.to_string().contains("\"hazard_action\""),
        "{:?}",
        schemas.body
    );
}

#[tokio::test]
async fn a_resent_action_has_no_second_effect() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id(UNIT).await;
    let area = app.area_id(AREA).await;
    app.create_user("staff", Role::UnitStaff, Some(UNIT)).await;
    let mut d = FieldDevice::login(&app, "staff").await;
    take_photos(&mut d, "a").await;
    // One try per call, so that a lost answer leaves the batch in the outbox.
    d.run(|d| {
        d.set_options(SyncOptions {
            retry: RetryPolicy::immediate(1),
            ..SyncOptions::default()
        })
    })
    .await;
    let (o, u) = (order(&unit, &area, "2031-03-14"), unit.clone());
    let id = d
        .run(move |d| {
            let id = d.create("hazard", fields_of(&o)).expect("create");
            let fields = action(
                &u,
                &area,
                id,
                "rectify",
                json!({"photos": {"add": [photo('a')]}}),
            );
            d.create("hazard_action", fields_of(&fields))
                .expect("action");
            id
        })
        .await;
    // The create and the action in one batch: the action sees the hazard it just created.
    d.link().lose_next_push_answer();
    assert!(d.run(|d| d.push().is_err()).await, "the answer was lost");
    let r = d.link().last_results();
    assert_eq!(
        (outcome(&r[0]), outcome(&r[1])),
        ("applied", "applied"),
        "{r:?}"
    );
    d.pull().await;
    let v = d.version(id).await.unwrap();
    d.push().await;
    let r = d.link().last_results();
    assert_eq!(r.len(), 2, "the same batch again: {r:?}");
    assert_eq!(outcome(&r[1]), "already_applied");
    d.pull().await;
    assert_eq!(d.version(id).await, Some(v));
}

#[tokio::test]
async fn extensions_are_asked_by_the_unit_and_decided_by_a_supervisor() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id(UNIT).await;
    let area = app.area_id(AREA).await;
    app.create_user("staff", Role::UnitStaff, Some(UNIT)).await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let mut d = FieldDevice::login(&app, "staff").await;
    let (id, r) = create(&mut d, "hazard", order(&unit, &area, "2031-03-14")).await;
    assert_eq!(r, "applied");
    let ask = |date: &str, note: Option<&str>| {
        action(
            &unit,
            &area,
            id,
            "request_extension",
            json!({"requested_deadline": date, "note": note}),
        )
    };
    assert_eq!(
        act(&mut d, ask("2031-03-10", Some("雨季"))).await,
        "extension_not_later"
    );
    assert_eq!(
        act(&mut d, ask("2031-03-31", None)).await,
        "extension_reason_required"
    );
    assert_eq!(
        act(&mut d, ask("2031-03-31", Some("雨季施工"))).await,
        "applied"
    );
    assert_eq!(
        act(&mut d, ask("2031-04-30", Some("再延"))).await,
        "extension_pending"
    );
    // The unit cannot decide its own request; the supervisor does, in the office.
    let decide = action(
        &unit,
        &area,
        id,
        "decide_extension",
        json!({"decision": "approve"}),
    );
    assert_eq!(act(&mut d, decide).await, "supervisor_required");
    let path = format!("/api/v1/registers/hazard/{id}/actions");
    let r = app
        .post(&path, Some(&sup), &json!({"action": "decide_extension"}))
        .await;
    assert_eq!((r.status, r.code()), (422, "decision_required"));
    let r = app
        .post(
            &path,
            Some(&sup),
            &json!({"action": "decide_extension", "decision": "approve", "note": "同意"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    d.pull().await;
    assert_eq!(field(&mut d, id, "deadline").await, "2031-03-31");
    assert_eq!(field(&mut d, id, "extension_requested").await, Value::Null);
    let r = app
        .post(
            &path,
            Some(&sup),
            &json!({"action": "decide_extension", "decision": "refuse"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "no_extension_pending"));
    // A second request, refused: the deadline stays.
    assert_eq!(
        act(&mut d, ask("2031-04-30", Some("材料未到"))).await,
        "applied"
    );
    let r = app
        .post(
            &path,
            Some(&sup),
            &json!({"action": "decide_extension", "decision": "refuse"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    d.pull().await;
    assert_eq!(field(&mut d, id, "deadline").await, "2031-03-31");
    assert_eq!(field(&mut d, id, "extension_requested").await, Value::Null);
}

#[tokio::test]
async fn the_office_marks_rectified_with_a_photo_and_a_supervisor_verifies() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id(UNIT).await;
    let area = app.area_id(AREA).await;
    let staff = app.user_token("staff", Role::UnitStaff, Some(UNIT)).await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let r = app
        .post(
            "/api/v1/registers/hazard",
            Some(&staff),
            &json!({"fields": order(&unit, &area, "2031-03-14")}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let id: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    let path = format!("/api/v1/registers/hazard/{id}/actions");
    upload(&app, &staff, "a").await;
    upload(&app, &sup, "e").await;
    // A photo the server does not have is no evidence.
    let r = app
        .post(
            &path,
            Some(&staff),
            &json!({"action": "rectify", "photos": [photo('f')]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "photo_not_uploaded"));
    let r = app
        .post(&path, Some(&staff), &json!({"action": "rectify"}))
        .await;
    assert_eq!((r.status, r.code()), (422, "rectification_photos_required"));
    let r = app
        .post(
            &path,
            Some(&sup),
            &json!({"action": "verify", "photos": [photo('e')]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "hazard_not_in_state"));
    let r = app
        .post(
            &path,
            Some(&staff),
            &json!({"action": "rectify", "photos": [photo('a')], "note": "已清理"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app
        .post(
            &path,
            Some(&staff),
            &json!({"action": "verify", "photos": [photo('a')]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "checker_role_required"));
    let r = app
        .post(
            &path,
            Some(&sup),
            &json!({"action": "verify", "photos": [photo('e')]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let st = order_state(&app, &sup, id).await;
    assert_eq!(st["status"], "verified");
    // The office's edit of the status itself is refused like a device's.
    let rec = app
        .get(&format!("/api/v1/registers/hazard/{id}"), Some(&sup))
        .await;
    let v = rec.body["record"]["version"].as_i64().unwrap_or(1);
    let r = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/registers/hazard/{id}"),
            Some(&sup),
            Some(&json!({"base_version": v, "fields": {"status": "open"}})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (422, "hazard_status_by_action"),
        "{:?}",
        r.body
    );
}

async fn run_clocks(app: &TestApp) -> Value {
    let admin = app.admin_token().await;
    let r = app
        .post("/api/v1/admin/clocks/run", Some(&admin), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

async fn clock_events(app: &TestApp, id: Uuid, kind: &str) -> Vec<Value> {
    let admin = app.admin_token().await;
    order_state(app, &admin, id).await["clock_events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

/// Two concurrent passes: how many `key` effects they recorded together.
async fn two_passes(app: &TestApp, key: &str) -> u64 {
    let (a, b) = tokio::join!(run_clocks(app), run_clocks(app));
    a[key].as_u64().unwrap() + b[key].as_u64().unwrap()
}

#[tokio::test]
async fn order_clocks_remind_and_escalate_once_per_deadline_and_day() {
    let mut app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    set_time(&app, "2031-03-10T02:00:00Z"); // Monday 10:00 in the city
    let unit = app.unit_id(UNIT).await;
    let area = app.area_id(AREA).await;
    let bureau = app.unit_id("housing_bureau").await;
    let supervising = app.unit_id("hexi_gov").await;
    // The bureau's robot, to see the escalation queued in the outbox.
    let b = bureau.clone();
    app.state()
        .db
        .run(move |conn| {
            use anju_server::db::schema::unit_notify_targets as t;
            diesel::insert_into(t::table)
                .values((
                    t::id.eq(Uuid::now_v7().to_string()),
                    t::unit_id.eq(b),
                    t::kind.eq("wecom"),
                    t::url.eq("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=bureau"),
                    t::created_at.eq(0i64),
                ))
                .execute(conn)
                .map_err(anju_server::error::ApiError::from)
        })
        .await
        .unwrap();
    app.restart().await;
    let staff = app.user_token("staff", Role::UnitStaff, Some(UNIT)).await;
    let r = app
        .post(
            "/api/v1/registers/hazard",
            Some(&staff),
            &json!({"fields": order(&unit, &area, "2031-03-14")}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let id: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    run_clocks(&app).await;
    assert!(clock_events(&app, id, "reminder").await.is_empty());

    // Three working days before Friday's deadline: Tuesday.
    set_time(&app, "2031-03-11T01:00:00Z");
    assert!(two_passes(&app, "order_reminders").await >= 1);
    assert_eq!(two_passes(&app, "order_reminders").await, 0);
    app.restart().await;
    run_clocks(&app).await;
    assert_eq!(clock_events(&app, id, "reminder").await.len(), 1);

    // Still Friday (the deadline's day): not overdue.
    set_time(&app, "2031-03-14T15:00:00Z");
    run_clocks(&app).await;
    assert!(clock_events(&app, id, "escalation").await.is_empty());
    // Saturday: overdue, escalated once to the unit, its supervising unit and the bureau.
    set_time(&app, "2031-03-15T01:00:00Z");
    two_passes(&app, "order_escalations").await;
    two_passes(&app, "order_escalations").await;
    let esc = clock_events(&app, id, "escalation").await;
    assert_eq!(esc.len(), 1, "{esc:?}");
    assert_eq!(esc[0]["to_units"], json!([unit, supervising, bureau]));
    let admin = app.admin_token().await;
    assert_eq!(order_state(&app, &admin, id).await["overdue"], true);
    let out = app
        .get("/api/v1/admin/outbox?status=all", Some(&admin))
        .await;
    assert!(
        out.body
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["event_kind"] == "order_escalation" && m["unit_id"] == json!(bureau)),
        "{:?}",
        out.body
    );
    // After a restart, the same day: nothing again; the next day: once more.
    app.restart().await;
    run_clocks(&app).await;
    assert_eq!(clock_events(&app, id, "escalation").await.len(), 1);
    set_time(&app, "2031-03-16T01:00:00Z");
    two_passes(&app, "order_escalations").await;
    assert_eq!(clock_events(&app, id, "escalation").await.len(), 2);

    // An approved extension moves the clock: no escalation, and a reminder for the new date.
    let path = format!("/api/v1/registers/hazard/{id}/actions");
    let staff = app.login("staff", anju_tests::USER_PASSWORD).await;
    let r = app
        .post(
            &path,
            Some(&staff),
            &json!({"action": "request_extension", "requested_deadline": "2031-03-31", "note": "雨季"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let r = app
        .post(
            &path,
            Some(&sup),
            &json!({"action": "decide_extension", "decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    set_time(&app, "2031-03-17T01:00:00Z");
    run_clocks(&app).await;
    assert_eq!(clock_events(&app, id, "escalation").await.len(), 2);
    set_time(&app, "2031-03-26T01:00:00Z"); // Wednesday: three working days before the 31st
    run_clocks(&app).await;
    let reminders = clock_events(&app, id, "reminder").await;
    assert_eq!(reminders.len(), 2, "{reminders:?}");
    assert_eq!(reminders[1]["deadline"], "2031-03-31");

    // Verified: the clock stops.
    let staff = app.login("staff", anju_tests::USER_PASSWORD).await;
    let sup = app.login("sup", anju_tests::USER_PASSWORD).await;
    upload(&app, &staff, "a").await;
    upload(&app, &sup, "e").await;
    let r = app
        .post(
            &path,
            Some(&staff),
            &json!({"action": "rectify", "photos": [photo('a')]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app
        .post(
            &path,
            Some(&sup),
            &json!({"action": "verify", "photos": [photo('e')]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    set_time(&app, "2031-04-02T01:00:00Z");
    run_clocks(&app).await;
    assert_eq!(clock_events(&app, id, "escalation").await.len(), 2);
}

/// The overdue-orders figures of the board for `unit` (id): its row of `stats/units`
/// (`orders_overdue`, `orders_overdue_oldest_days`; (0, 0) without a row) and the summary
/// scoped to it.
async fn board_orders(app: &TestApp, sup: &str, unit: &str) -> ((i64, i64), (i64, i64)) {
    let rows = app.get("/api/v1/stats/units", Some(sup)).await;
    assert_eq!(rows.status, 200, "{:?}", rows.body);
    let row = rows
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == unit)
        .map_or((0, 0), |r| {
            (
                r["orders_overdue"].as_i64().unwrap(),
                r["orders_overdue_oldest_days"].as_i64().unwrap(),
            )
        });
    let s = app
        .get(&format!("/api/v1/stats/summary?unit_id={unit}"), Some(sup))
        .await;
    assert_eq!(s.status, 200, "{:?}", s.body);
    let summary = (
        s.body["orders_overdue"].as_i64().unwrap(),
        s.body["orders_overdue_oldest_days"].as_i64().unwrap(),
    );
    (row, summary)
}

#[tokio::test]
async fn overdue_orders_count_for_their_unit_on_the_board_until_rectified_or_verified() {
    let app = TestApp::spawn().await;
    set_time(&app, "2031-03-10T02:00:00Z"); // Monday 10:00 in the city
    const OTHER: &str = "hedong_xinhua_office";
    let unit = app.unit_id(UNIT).await;
    let area = app.area_id(AREA).await;
    let other = app.unit_id(OTHER).await;
    let other_area = app.area_id("hedong-xinhua-1").await;
    let staff = app.user_token("staff", Role::UnitStaff, Some(UNIT)).await;
    let other_staff = app.user_token("ostaff", Role::UnitStaff, Some(OTHER)).await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let create = |token: String, fields: Value| {
        let app = &app;
        async move {
            let r = app
                .post(
                    "/api/v1/registers/hazard",
                    Some(&token),
                    &json!({ "fields": fields }),
                )
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            r.body["id"].as_str().unwrap().parse::<Uuid>().unwrap()
        }
    };
    // The unit: one order due Friday the 14th, one due later; the other unit: one due the 12th.
    let mine = create(staff.clone(), order(&unit, &area, "2031-03-14")).await;
    create(staff.clone(), order(&unit, &area, "2031-03-31")).await;
    let theirs = create(
        other_staff.clone(),
        order(&other, &other_area, "2031-03-12"),
    )
    .await;
    // Before any deadline has passed: nothing overdue.
    assert_eq!(board_orders(&app, &sup, &unit).await, ((0, 0), (0, 0)));
    let all = app.get("/api/v1/stats/summary", Some(&sup)).await.body;
    assert_eq!(all["orders_overdue"], 0);

    // Monday the 16th: the unit's order is 2 days past its deadline, the other's 4.
    set_time(&app, "2031-03-16T01:00:00Z");
    let login = |name: &'static str| app.login(name, anju_tests::USER_PASSWORD);
    let (staff, other_staff, sup) = (
        login("staff").await,
        login("ostaff").await,
        login("sup").await,
    );
    assert_eq!(board_orders(&app, &sup, &unit).await, ((1, 2), (1, 2)));
    assert_eq!(board_orders(&app, &sup, &other).await, ((1, 4), (1, 4)));
    let all = app.get("/api/v1/stats/summary", Some(&sup)).await.body;
    assert_eq!(
        (&all["orders_overdue"], &all["orders_overdue_oldest_days"]),
        (&json!(2), &json!(4))
    );
    // The order page agrees with the figures.
    assert_eq!(order_state(&app, &sup, mine).await["overdue"], true);
    // Unit people do not see the board's figures, their own or another unit's.
    for token in [&staff, &other_staff] {
        for path in ["/api/v1/stats/units", "/api/v1/stats/summary"] {
            let r = app.get(path, Some(token)).await;
            assert_eq!(r.status, 403, "{path}: {:?}", r.body);
        }
        let r = app
            .get(
                &format!("/api/v1/stats/summary?unit_id={other}"),
                Some(token),
            )
            .await;
        assert_eq!(r.status, 403);
    }

    // Rectified (with a photo): no longer overdue for the unit, the other unit's stays.
    upload(&app, &staff, "a").await;
    upload(&app, &other_staff, "b").await;
    upload(&app, &sup, "e").await;
    let act_on = |id: Uuid, token: String, body: Value| {
        let app = &app;
        async move {
            let r = app
                .post(
                    &format!("/api/v1/registers/hazard/{id}/actions"),
                    Some(&token),
                    &body,
                )
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
    };
    let rectify = |c: char| json!({"action": "rectify", "photos": [photo(c)]});
    act_on(mine, staff.clone(), rectify('a')).await;
    assert_eq!(board_orders(&app, &sup, &unit).await, ((0, 0), (0, 0)));
    assert_eq!(board_orders(&app, &sup, &other).await, ((1, 4), (1, 4)));
    assert_eq!(order_state(&app, &sup, mine).await["overdue"], false);
    // Sent back by the check: overdue again.
    act_on(
        mine,
        sup.clone(),
        json!({"action": "return", "note": "墙面仍有空鼓"}),
    )
    .await;
    assert_eq!(board_orders(&app, &sup, &unit).await, ((1, 2), (1, 2)));

    // The other unit's, rectified and verified: gone; the whole city counts the unit's only.
    act_on(theirs, other_staff.clone(), rectify('b')).await;
    act_on(
        theirs,
        sup.clone(),
        json!({"action": "verify", "photos": [photo('e')]}),
    )
    .await;
    assert_eq!(board_orders(&app, &sup, &other).await, ((0, 0), (0, 0)));
    let all = app.get("/api/v1/stats/summary", Some(&sup)).await.body;
    assert_eq!(
        (&all["orders_overdue"], &all["orders_overdue_oldest_days"]),
        (&json!(1), &json!(2))
    );
}
