//! Ticket actions from field devices (sync `ticket_action` records) reach the same ticket state
//! machine as the console: applied as events the console and the resident see, or refused with
//! the reason, kept in `sync_rejections`, and answered to the device; never applied twice.

use anju_server::attachments::image::samples;
use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::complaints::*;
use anju_tests::sync::{RawDevice, outcome};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const UNIT: &str = "hexi_jianshe_office";

struct Setup {
    app: TestApp,
    admin: String,
    staff: String,
    device: RawDevice,
    unit: String,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let staff = app.user_token("js1", Role::UnitStaff, Some(UNIT)).await;
    let device = RawDevice::register(&app, &staff).await;
    let unit = app.unit_id(UNIT).await;
    Setup {
        app,
        admin,
        staff,
        device,
        unit,
    }
}

fn action(ticket: &str, unit: &str, kind: &str, message: Option<&str>, photos: &[String]) -> Value {
    let mut f = json!({"ticket_id": ticket, "unit_id": unit, "action": kind,
                       "acted_at": "2026-11-26T10:00:00+08:00"});
    if let Some(m) = message {
        f["message"] = json!(m);
    }
    if !photos.is_empty() {
        f["photos"] = json!({"add": photos});
    }
    f
}

/// Uploads a proof photo as an attachment; its SHA-256.
async fn attach(app: &TestApp, token: &str) -> String {
    let bytes = samples::png_with_text();
    let sha = hex::encode(Sha256::digest(&bytes));
    let res = reqwest::Client::new()
        .put(app.url(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(token)
        .header("Content-Type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .expect("put");
    assert!(res.status().is_success(), "{}", res.status());
    sha
}

async fn view(s: &Setup, id: &str) -> Value {
    s.app
        .get(&format!("/api/v1/tickets/{id}"), Some(&s.admin))
        .await
        .body
}

async fn rejections(s: &Setup) -> Vec<Value> {
    s.app
        .get("/api/v1/sync/rejections", Some(&s.staff))
        .await
        .body
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_device_accepts_replies_and_resolves_and_the_console_and_resident_see_it() {
    let mut s = setup().await;
    let (code, id) = file(&s.app, "dust", &s.admin).await;
    let sha = attach(&s.app, &s.staff).await;
    let accept = s.device.upsert(
        "ticket_action",
        Uuid::now_v7(),
        None,
        action(&id, &s.unit, "accept", None, &[]),
    );
    let reply = s.device.upsert(
        "ticket_action",
        Uuid::now_v7(),
        None,
        action(&id, &s.unit, "reply", Some("已到现场，正在协调施工方"), &[]),
    );
    let resolve = s.device.upsert(
        "ticket_action",
        Uuid::now_v7(),
        None,
        action(
            &id,
            &s.unit,
            "resolve",
            Some("已洒水降尘并覆盖裸土"),
            std::slice::from_ref(&sha),
        ),
    );
    let batch = vec![accept, reply, resolve];
    let r = s.device.push_ok(&s.app, &batch).await;
    for x in &r {
        assert_eq!(outcome(x), "applied", "{x:?}");
    }
    let v = view(&s, &id).await;
    assert_eq!(v["status"], "resolved", "{v:?}");
    let kinds: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    for k in ["accepted", "replied", "resolved"] {
        assert!(kinds.contains(&k), "{k} missing in {kinds:?}");
    }
    let resolved = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "resolved")
        .unwrap();
    assert_eq!(resolved["text"], "已洒水降尘并覆盖裸土");
    assert_eq!(resolved["data"]["photo_sha256"], json!([sha]));
    assert_eq!(resolved["photos"].as_array().unwrap().len(), 1);

    // The resident's tracking page shows the reply, the result and the (metadata-free) photo.
    let t = s.app.get(&format!("/api/v1/track/{code}"), None).await;
    assert_eq!(t.status, 200, "{:?}", t.body);
    assert_eq!(t.body["status"], "resolved");
    let text = t.body.to_string();
    assert!(text.contains("已到现场，正在协调施工方"), "{text}");
    assert!(text.contains("已洒水降尘并覆盖裸土"), "{text}");
    let url = resolved["photos"][0].as_str().unwrap();
    assert!(text.contains(url), "{text}");
    let img = reqwest::get(s.app.url(url)).await.unwrap();
    assert_eq!(img.status(), 200);
    let bytes = img.bytes().await.unwrap();
    assert!(!bytes.windows(4).any(|w| w == b"tEXt"), "metadata stripped");

    // A re-sent batch has no second effect.
    let again = s.device.push_ok(&s.app, &batch).await;
    assert_eq!(again.len(), 3);
    let v2 = view(&s, &id).await;
    assert_eq!(
        v2["events"].as_array().unwrap().len(),
        v["events"].as_array().unwrap().len()
    );
    assert!(rejections(&s).await.is_empty());
    // The applied actions sync to the unit's devices.
    let pulled = s.device.pull_all(&s.app).await;
    assert_eq!(
        pulled
            .iter()
            .filter(|c| matches!(
                c,
                anju_shared::protocol::Change::Upsert { record_type, .. } if record_type == "ticket_action"
            ))
            .count(),
        3
    );
}

#[tokio::test]
async fn another_units_ticket_is_not_your_unit_and_unknown_tickets_are_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let other = app
        .user_token("hp1", Role::UnitStaff, Some("hexi_heping_office"))
        .await;
    let mut d = RawDevice::register(&app, &other).await;
    let other_unit = app.unit_id("hexi_heping_office").await;
    let (_, id) = file(&app, "dust", &admin).await;
    let m1 = d.upsert(
        "ticket_action",
        Uuid::now_v7(),
        None,
        action(&id, &other_unit, "accept", None, &[]),
    );
    let m2 = d.upsert(
        "ticket_action",
        Uuid::now_v7(),
        None,
        action(
            &Uuid::now_v7().to_string(),
            &other_unit,
            "accept",
            None,
            &[],
        ),
    );
    let r = d.push_ok(&app, &[m1, m2]).await;
    assert_eq!(outcome(&r[0]), "rejected");
    assert_eq!(r[0]["code"], "not_your_unit");
    assert!(r[0]["message_zh"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(r[0]["message_en"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(outcome(&r[1]), "rejected");
    assert_eq!(r[1]["code"], "ticket_not_found");
    let v = app
        .get(&format!("/api/v1/tickets/{id}"), Some(&admin))
        .await;
    assert_eq!(v.body["status"], "dispatched");
    assert!(
        d.pull_all(&app).await.is_empty(),
        "refused actions leave no record"
    );
}

#[tokio::test]
async fn console_first_then_the_devices_offline_action_is_refused_with_the_reason() {
    let mut s = setup().await;
    let (_, id) = file(&s.app, "dust", &s.admin).await;
    // The device accepted offline; meanwhile a colleague accepts and resolves at the console.
    let offline_accept = s.device.upsert(
        "ticket_action",
        Uuid::now_v7(),
        None,
        action(&id, &s.unit, "accept", None, &[]),
    );
    let a = s
        .app
        .post(
            &format!("/api/v1/tickets/{id}/accept"),
            Some(&s.staff),
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let before = view(&s, &id).await["events"].as_array().unwrap().len();

    let r = s
        .device
        .push_ok(&s.app, std::slice::from_ref(&offline_accept))
        .await;
    assert_eq!(outcome(&r[0]), "rejected");
    assert_eq!(r[0]["code"], "ticket_not_in_state");
    assert_eq!(
        view(&s, &id).await["events"].as_array().unwrap().len(),
        before
    );
    // Kept for review with its reason.
    let kept = rejections(&s).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["code"], "ticket_not_in_state");
    assert_eq!(kept[0]["record_id"], offline_accept.record_id.to_string());
    // Re-sent: the same answer, nothing more.
    let r = s.device.push_ok(&s.app, &[offline_accept]).await;
    assert_eq!(r[0]["code"], "ticket_not_in_state");
    assert_eq!(rejections(&s).await.len(), 1);

    // The console resolves; the device's offline resolve then arrives.
    let photo = upload(&s.app, samples::png_with_text(), "image/png")
        .await
        .body["id"]
        .clone();
    let a = s
        .app
        .post(
            &format!("/api/v1/tickets/{id}/resolve"),
            Some(&s.staff),
            &json!({"result": "已处理", "photos": [photo]}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let sha = attach(&s.app, &s.staff).await;
    let offline_resolve = s.device.upsert(
        "ticket_action",
        Uuid::now_v7(),
        None,
        action(&id, &s.unit, "resolve", Some("现场已整改"), &[sha]),
    );
    let r = s.device.push_ok(&s.app, &[offline_resolve]).await;
    assert_eq!(outcome(&r[0]), "rejected");
    assert_eq!(r[0]["code"], "ticket_not_in_state");
    let v = view(&s, &id).await;
    assert_eq!(v["status"], "resolved");
    assert_eq!(
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "resolved")
            .count(),
        1
    );
    assert_eq!(rejections(&s).await.len(), 2);
}

#[tokio::test]
async fn device_first_then_the_console_action_is_refused() {
    let mut s = setup().await;
    let (_, id) = file(&s.app, "dust", &s.admin).await;
    let sha = attach(&s.app, &s.staff).await;
    let acc = s.device.upsert(
        "ticket_action",
        Uuid::now_v7(),
        None,
        action(&id, &s.unit, "accept", None, &[]),
    );
    let r = s.device.push_ok(&s.app, &[acc]).await;
    assert_eq!(outcome(&r[0]), "applied", "{:?}", r[0]);
    let a = s
        .app
        .post(
            &format!("/api/v1/tickets/{id}/accept"),
            Some(&s.staff),
            &json!({}),
        )
        .await;
    assert_eq!((a.status, a.code()), (409, "ticket_not_in_state"));

    // A resolve without the category's photo proof is refused with its reason.
    let bare = s.device.upsert(
        "ticket_action",
        Uuid::now_v7(),
        None,
        action(&id, &s.unit, "resolve", Some("已处理"), &[]),
    );
    let missing = s.device.upsert(
        "ticket_action",
        Uuid::now_v7(),
        None,
        action(&id, &s.unit, "resolve", Some("已处理"), &["0".repeat(64)]),
    );
    let res = s.device.upsert(
        "ticket_action",
        Uuid::now_v7(),
        None,
        action(&id, &s.unit, "resolve", Some("已处理完毕"), &[sha]),
    );
    let r = s.device.push_ok(&s.app, &[bare, missing, res]).await;
    assert_eq!(r[0]["code"], "photos_required", "{:?}", r[0]);
    assert_eq!(r[1]["code"], "photo_not_uploaded", "{:?}", r[1]);
    assert_eq!(outcome(&r[2]), "applied", "{:?}", r[2]);
    let a = s
        .app
        .post(
            &format!("/api/v1/tickets/{id}/resolve"),
            Some(&s.staff),
            &json!({"result": "x"}),
        )
        .await;
    assert_eq!(a.code(), "ticket_not_in_state");
    assert_eq!(view(&s, &id).await["status"], "resolved");
}
