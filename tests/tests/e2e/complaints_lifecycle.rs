//! The ticket lifecycle as units, dispatchers, supervisors and residents meet it: every
//! transition, the refusals with their codes, and what the resident can and cannot see.

use anju_server::attachments::image::samples;
use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::complaints::*;
use serde_json::{Value, json};

async fn photo(app: &TestApp) -> Value {
    upload(app, samples::png_with_text(), "image/png")
        .await
        .body["id"]
        .clone()
}

#[tokio::test]
async fn accept_reply_note_resolve_dispute_reopen_escalate_confirm() {
    let app = TestApp::spawn().await;
    // A working day (Wednesday 10:00 in the city), so that an hour later moves the deadlines.
    set_time(&app, "2026-11-25T02:00:00Z");
    let admin = app.admin_token().await;
    let unit = app
        .user_token("js1", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let other = app
        .user_token("hp1", Role::UnitStaff, Some("hexi_heping_office"))
        .await;
    let inspector = app
        .user_token("insp", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let (code, id) = file(&app, "dust", &admin).await;
    let path = |a: &str| format!("/api/v1/tickets/{id}/{a}");

    // The unit sees it in its queue with the actions it may take.
    let q = app.get("/api/v1/tickets", Some(&unit)).await;
    assert_eq!(q.body.as_array().unwrap().len(), 1);
    let v = app.get(&format!("/api/v1/tickets/{id}"), Some(&unit)).await;
    assert_eq!(
        v.body["actions"],
        json!(["accept", "reply", "note", "return", "request_extension"])
    );
    // Another unit neither sees nor acts.
    assert_eq!(
        app.get("/api/v1/tickets", Some(&other))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let a = app
        .get(&format!("/api/v1/tickets/{id}"), Some(&other))
        .await;
    assert_eq!((a.status, a.code()), (403, "not_your_unit"));
    let a = app.post(&path("accept"), Some(&other), &json!({})).await;
    assert_eq!((a.status, a.code()), (403, "not_your_unit"));
    let a = app
        .post(&path("accept"), Some(&inspector), &json!({}))
        .await;
    assert_eq!((a.status, a.code()), (403, "role_not_allowed"));
    // Resolving before accepting is refused and changes nothing.
    let a = app
        .post(&path("resolve"), Some(&unit), &json!({"result": "已处理"}))
        .await;
    assert_eq!((a.status, a.code()), (409, "ticket_not_in_state"));

    let a = app.post(&path("accept"), Some(&unit), &json!({})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["status"], "accepted");
    let a = app.post(&path("accept"), Some(&unit), &json!({})).await;
    assert_eq!(a.code(), "ticket_not_in_state");
    let a = app
        .post(
            &path("note"),
            Some(&unit),
            &json!({"text": "内部：施工方负责人电话 13700000000"}),
        )
        .await;
    assert_eq!(a.status, 200);
    let a = app
        .post(
            &path("reply"),
            Some(&unit),
            &json!({"text": "已联系施工方，明日整改", "public": true}),
        )
        .await;
    assert_eq!(a.status, 200);
    let a = app
        .post(&path("reply"), Some(&unit), &json!({"text": "  "}))
        .await;
    assert_eq!(a.body["errors"]["text"]["code"], "required");
    // Dust needs after-photos.
    let a = app
        .post(
            &path("resolve"),
            Some(&unit),
            &json!({"result": "已覆盖防尘网"}),
        )
        .await;
    assert_eq!(a.body["errors"]["photos"]["code"], "photos_required");
    let p = photo(&app).await;
    let a = app
        .post(
            &path("resolve"),
            Some(&unit),
            &json!({"result": "已覆盖防尘网", "photos": [p]}),
        )
        .await;
    assert_eq!(a.body["status"], "resolved", "{:?}", a.body);

    // The resident's view: public steps only.
    let t = app.get(&format!("/api/v1/track/{code}"), None).await;
    let text = t.body.to_string();
    assert!(!text.contains("13700000000"), "internal note leaked");
    assert!(!text.contains("js1"), "staff name leaked");
    assert!(text.contains("明日整改"));
    let kinds: Vec<&str> = t.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["submitted", "accepted", "replied", "resolved"]);
    assert_eq!(t.body["can_rate"], true);
    assert_eq!(t.body["timeline"][3]["photos"].as_array().unwrap().len(), 1);

    // Bad ratings, then a dispute reopens it to the same unit with fresh deadlines.
    let a = app
        .post(
            &format!("/api/v1/track/{code}/confirm"),
            None,
            &json!({"rating": 6}),
        )
        .await;
    assert_eq!(a.body["errors"]["rating"]["code"], "out_of_range");
    let a = app
        .post(
            &format!("/api/v1/track/{code}/dispute"),
            None,
            &json!({"rating": 2}),
        )
        .await;
    assert_eq!(a.body["errors"]["comment"]["code"], "required");
    app.clock().advance_ms(3_600_000);
    // Access tokens live 15 minutes on the server clock: log in again, as a client would.
    let unit = app.login("js1", anju_tests::USER_PASSWORD).await;
    let a = app
        .post(
            &format!("/api/v1/track/{code}/dispute"),
            None,
            &json!({"rating": 2, "comment": "还是很多灰"}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["status"], "reopened");
    assert_ne!(a.body["resolution_due"], t.body["resolution_due"]);
    assert_eq!(a.body["unit"]["name_zh"], t.body["unit"]["name_zh"]);
    let a = app
        .post(
            &format!("/api/v1/track/{code}/confirm"),
            None,
            &json!({"rating": 5}),
        )
        .await;
    assert_eq!(a.code(), "ticket_not_in_state");

    app.post(&path("accept"), Some(&unit), &json!({})).await;
    let a = app
        .post(
            &path("resolve"),
            Some(&unit),
            &json!({"result": "再次洒水降尘", "photos": [p]}),
        )
        .await;
    assert_eq!(a.body["status"], "resolved");
    let a = app
        .post(
            &format!("/api/v1/track/{code}/dispute"),
            None,
            &json!({"rating": 1, "comment": "依旧"}),
        )
        .await;
    assert_eq!(a.body["status"], "escalated");
    // Escalated: the unit (or a supervisor) resolves again; the resident confirms.
    let a = app
        .post(
            &path("resolve"),
            Some(&unit),
            &json!({"result": "停工整改完毕", "photos": [p]}),
        )
        .await;
    assert_eq!(a.body["status"], "resolved", "{:?}", a.body);
    let a = app
        .post(
            &format!("/api/v1/track/{code}/confirm"),
            None,
            &json!({"rating": 4, "comment": "好了"}),
        )
        .await;
    assert_eq!(a.body["status"], "closed");
    assert_eq!(a.body["rating"]["stars"], 4);
    let kinds: Vec<&str> = a.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"disputed")
            && kinds.contains(&"reopened")
            && kinds.contains(&"escalated")
            && kinds.ends_with(&["confirmed"])
    );
    let a = app
        .post(&path("reply"), Some(&unit), &json!({"text": "还在吗"}))
        .await;
    assert_eq!(a.code(), "ticket_not_in_state");
}

#[tokio::test]
async fn return_dispatch_and_reassign() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app
        .user_token("js1", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let dispatcher = app
        .user_token("pd", Role::Dispatcher, Some("dispatch_center"))
        .await;
    let (code, id) = file(&app, "dust", &admin).await;
    let path = |a: &str| format!("/api/v1/tickets/{id}/{a}");

    let a = app.post(&path("return"), Some(&unit), &json!({})).await;
    assert_eq!(a.body["errors"]["reason"]["code"], "required");
    let a = app
        .post(
            &path("dispatch"),
            Some(&unit),
            &json!({"unit_id": app.unit_id("water").await}),
        )
        .await;
    assert_eq!(a.code(), "role_not_allowed");
    let heping = app.unit_id("hexi_heping_office").await;
    let a = app
        .post(
            &path("return"),
            Some(&unit),
            &json!({"reason": "不在本街道辖区", "suggested_unit_id": heping}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["status"], "dispatching");
    assert_eq!(a.body["unit"]["id"], app.unit_id("dispatch_center").await);
    // The unit can no longer act on it.
    let a = app.post(&path("accept"), Some(&unit), &json!({})).await;
    assert_eq!(a.status, 403);
    let q = app
        .get("/api/v1/tickets?queue=dispatch", Some(&dispatcher))
        .await;
    assert_eq!(q.body[0]["id"], id.as_str());
    let v = app
        .get(&format!("/api/v1/tickets/{id}"), Some(&dispatcher))
        .await;
    assert_eq!(v.body["actions"], json!(["note", "dispatch"]));

    let a = app
        .post(
            &path("dispatch"),
            Some(&dispatcher),
            &json!({"unit_id": "nope"}),
        )
        .await;
    assert_eq!(a.body["errors"]["unit_id"]["code"], "unknown_unit");
    let a = app
        .post(
            &path("dispatch"),
            Some(&dispatcher),
            &json!({"unit_id": heping}),
        )
        .await;
    assert_eq!(a.body["status"], "dispatched");
    assert_eq!(a.body["unit"]["id"], heping.as_str());
    let a = app
        .post(
            &path("dispatch"),
            Some(&dispatcher),
            &json!({"unit_id": heping}),
        )
        .await;
    assert_eq!(a.body["errors"]["unit_id"]["code"], "same_unit");
    let a = app
        .post(
            &path("dispatch"),
            Some(&dispatcher),
            &json!({"unit_id": app.unit_id("pm_hengan").await}),
        )
        .await;
    assert_eq!(a.body["status"], "dispatched");
    let kinds: Vec<String> = a.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["submitted", "returned", "dispatched", "reassigned"]);
    let t = app.get(&format!("/api/v1/track/{code}"), None).await;
    assert!(
        !t.body.to_string().contains("不在本街道辖区"),
        "return reasons are internal"
    );
    assert_eq!(t.body["timeline"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn extensions_are_asked_approved_refused_and_shown() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app
        .user_token("js1", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let sup = app
        .user_token("db", Role::Supervisor, Some("housing_bureau"))
        .await;
    let (code, id) = file(&app, "construction_quality", &admin).await;
    let path = |a: &str| format!("/api/v1/tickets/{id}/{a}");
    app.post(&path("accept"), Some(&unit), &json!({})).await;
    let v = app.get(&format!("/api/v1/tickets/{id}"), Some(&unit)).await;
    let due: jiff::Timestamp = v.body["resolution_due"].as_str().unwrap().parse().unwrap();
    let later = due
        .checked_add(jiff::SignedDuration::from_hours(24 * 10))
        .unwrap();
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let later_s = anju_server::clock::format_local(later.as_millisecond(), &tz);

    let a = app
        .post(
            &path("extension"),
            Some(&unit),
            &json!({"reason": "需更换管线", "resolution_due": "not a time"}),
        )
        .await;
    assert_eq!(
        a.body["errors"]["resolution_due"]["code"],
        "invalid_datetime"
    );
    let a = app
        .post(
            &path("extension"),
            Some(&unit),
            &json!({"reason": "需更换管线", "resolution_due": later_s}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert!(a.body["pending_extension"].is_object());
    let a = app
        .post(
            &path("extension"),
            Some(&unit),
            &json!({"reason": "再来一次", "resolution_due": later_s}),
        )
        .await;
    assert_eq!((a.status, a.code()), (409, "extension_pending"));

    let list = app
        .get("/api/v1/extensions?status=pending", Some(&sup))
        .await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    let ext = list.body[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.get("/api/v1/extensions", Some(&unit)).await.code(),
        "role_not_allowed"
    );
    let a = app
        .post(
            &format!("/api/v1/extensions/{ext}/approve"),
            Some(&unit),
            &json!({}),
        )
        .await;
    assert_eq!(a.code(), "role_not_allowed");
    let a = app
        .post(
            &format!("/api/v1/extensions/{ext}/approve"),
            Some(&sup),
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["resolution_due"], later_s.as_str());
    let a = app
        .post(
            &format!("/api/v1/extensions/{ext}/refuse"),
            Some(&sup),
            &json!({}),
        )
        .await;
    assert_eq!(a.code(), "extension_already_decided");
    let t = app.get(&format!("/api/v1/track/{code}"), None).await;
    let granted = t.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "extension_granted")
        .cloned()
        .unwrap();
    assert_eq!(granted["reason"], "需更换管线");
    assert_eq!(granted["new_due"], later_s.as_str());
    assert_eq!(t.body["resolution_due"], later_s.as_str());

    // A second request is refused; the date stays.
    let even_later = later
        .checked_add(jiff::SignedDuration::from_hours(48))
        .unwrap()
        .to_string();
    app.post(
        &path("extension"),
        Some(&unit),
        &json!({"reason": "材料未到", "resolution_due": even_later}),
    )
    .await;
    let list = app.get("/api/v1/extensions", Some(&sup)).await;
    let ext = list.body[0]["id"].as_str().unwrap().to_string();
    let a = app
        .post(
            &format!("/api/v1/extensions/{ext}/refuse"),
            Some(&sup),
            &json!({"reason": "时限已够"}),
        )
        .await;
    assert_eq!(a.body["resolution_due"], later_s.as_str());
    let t = app.get(&format!("/api/v1/track/{code}"), None).await;
    assert!(!t.body.to_string().contains("材料未到"));

    // After the deadline no extension can be asked for.
    app.clock()
        .advance_ms(later.as_millisecond() - app.clock().now_ms() + 1000);
    let unit = app.login("js1", anju_tests::USER_PASSWORD).await;
    let a = app
        .post(
            &path("extension"),
            Some(&unit),
            &json!({"reason": "晚了", "resolution_due": "2099-01-01T00:00:00+08:00"}),
        )
        .await;
    assert_eq!((a.status, a.code()), (409, "deadline_passed"));
}

#[tokio::test]
async fn unanswered_resolutions_close_after_seven_days() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app
        .user_token("js1", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let (code, id) = file(&app, "night_noise", &admin).await;
    app.post(
        &format!("/api/v1/tickets/{id}/accept"),
        Some(&unit),
        &json!({}),
    )
    .await;
    let a = app
        .post(
            &format!("/api/v1/tickets/{id}/resolve"),
            Some(&unit),
            &json!({"result": "已停工"}),
        )
        .await;
    assert_eq!(a.body["status"], "resolved");
    app.clock().advance_ms(6 * 86_400_000);
    let admin = app.admin_token().await;
    app.post("/api/v1/admin/clocks/run", Some(&admin), &json!({}))
        .await;
    assert_eq!(
        app.get(&format!("/api/v1/track/{code}"), None).await.body["status"],
        "resolved"
    );
    app.clock().advance_ms(2 * 86_400_000);
    let admin = app.admin_token().await;
    let r = app
        .post("/api/v1/admin/clocks/run", Some(&admin), &json!({}))
        .await;
    assert_eq!(r.body["auto_closed"], 1, "{:?}", r.body);
    let t = app.get(&format!("/api/v1/track/{code}"), None).await;
    assert_eq!(t.body["status"], "closed");
    assert_eq!(
        t.body["timeline"].as_array().unwrap().last().unwrap()["kind"],
        "closed_unconfirmed"
    );
    let r = app
        .post("/api/v1/admin/clocks/run", Some(&admin), &json!({}))
        .await;
    assert_eq!(r.body["auto_closed"], 0);
}
