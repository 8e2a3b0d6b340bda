//! Ticket actions from field devices (sync `ticket_action` records) reach the same ticket state
//! machine as the console: applied as events the console and the resident see, or refused with
//! the reason, kept in `sync_rejections`, and answered to the device; never applied twice.

use anju_client::{RetryPolicy, SyncOptions};
use anju_server::attachments::image::samples;
use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::complaints::*;
use anju_tests::field::FieldDevice;
use anju_tests::sync::{fields_of, outcome};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const UNIT: &str = "hexi_jianshe_office";

struct Setup {
    app: TestApp,
    admin: String,
    staff: String,
    device: FieldDevice,
    unit: String,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let staff = app.user_token("js1", Role::UnitStaff, Some(UNIT)).await;
    let device = FieldDevice::login(&app, "js1").await;
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

/// Takes a proof photo on the device (uploaded by its next sync); its SHA-256.
async fn take_photo(d: &mut FieldDevice) -> String {
    let bytes = samples::png_with_text();
    let sha = hex::encode(Sha256::digest(&bytes));
    let taken = d
        .run(move |d| {
            let shot = d.dir().join("proof.png");
            std::fs::write(&shot, bytes).expect("photo file");
            d.add_photo(&shot).expect("photo")
        })
        .await;
    assert_eq!(taken, sha, "the device names the photo by its SHA-256");
    sha
}

/// Queues a ticket action on the device (offline); its id.
async fn queue(d: &mut FieldDevice, fields: Value) -> Uuid {
    d.run(move |d| {
        d.create("ticket_action", fields_of(&fields))
            .expect("create")
    })
    .await
}

/// The results of the device's last answered push.
fn answered(d: &FieldDevice) -> Vec<Value> {
    d.link().last_results()
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
    let sha = take_photo(&mut s.device).await;
    queue(&mut s.device, action(&id, &s.unit, "accept", None, &[])).await;
    queue(
        &mut s.device,
        action(&id, &s.unit, "reply", Some("已到现场，正在协调施工方"), &[]),
    )
    .await;
    queue(
        &mut s.device,
        action(
            &id,
            &s.unit,
            "resolve",
            Some("已洒水降尘并覆盖裸土"),
            std::slice::from_ref(&sha),
        ),
    )
    .await;
    // One try per call, and the answer is lost: the batch stays in the outbox.
    s.device
        .run(|d| {
            d.set_options(SyncOptions {
                retry: RetryPolicy::immediate(1),
                ..SyncOptions::default()
            })
        })
        .await;
    s.device.link().lose_next_push_answer();
    assert!(s.device.run(|d| d.push().is_err()).await, "answer lost");
    let r = answered(&s.device);
    assert_eq!(r.len(), 3);
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

    // The device re-sends the batch whose answer it lost: no second effect.
    s.device.sync().await;
    let again = answered(&s.device);
    assert_eq!(again.len(), 3);
    for x in &again {
        assert_eq!(outcome(x), "already_applied", "{x:?}");
    }
    let v2 = view(&s, &id).await;
    assert_eq!(
        v2["events"].as_array().unwrap().len(),
        v["events"].as_array().unwrap().len()
    );
    assert!(rejections(&s).await.is_empty());
    // The applied actions sync to the unit's devices.
    let pulled = s.device.link().pulled();
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
    app.create_user("hp1", Role::UnitStaff, Some("hexi_heping_office"))
        .await;
    let mut d = FieldDevice::login(&app, "hp1").await;
    let other_unit = app.unit_id("hexi_heping_office").await;
    let (_, id) = file(&app, "dust", &admin).await;
    queue(&mut d, action(&id, &other_unit, "accept", None, &[])).await;
    queue(
        &mut d,
        action(
            &Uuid::now_v7().to_string(),
            &other_unit,
            "accept",
            None,
            &[],
        ),
    )
    .await;
    let report = d.sync().await;
    let r = answered(&d);
    assert_eq!(outcome(&r[0]), "rejected");
    assert_eq!(r[0]["code"], "not_your_unit");
    assert!(r[0]["message_zh"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(r[0]["message_en"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(outcome(&r[1]), "rejected");
    assert_eq!(r[1]["code"], "ticket_not_found");
    let codes: Vec<&str> = report.refusals.iter().map(|x| x.code.as_str()).collect();
    assert_eq!(
        codes,
        ["not_your_unit", "ticket_not_found"],
        "shown at once"
    );
    let v = app
        .get(&format!("/api/v1/tickets/{id}"), Some(&admin))
        .await;
    assert_eq!(v.body["status"], "dispatched");
    assert!(
        d.link().pulled().is_empty(),
        "refused actions leave no record"
    );
}

#[tokio::test]
async fn console_first_then_the_devices_offline_action_is_refused_with_the_reason() {
    let mut s = setup().await;
    let (_, id) = file(&s.app, "dust", &s.admin).await;
    // The device accepted offline; meanwhile a colleague accepts and resolves at the console.
    let offline_accept = queue(&mut s.device, action(&id, &s.unit, "accept", None, &[])).await;
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

    // The first answer is lost, so the device sends the action again.
    s.device.link().lose_next_push_answer();
    s.device.push().await;
    let pushes = s.device.link().pushes();
    assert_eq!(pushes.len(), 2, "sent, answer lost, sent again");
    let r = s.device.link().results();
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
    assert_eq!(kept[0]["record_id"], offline_accept.to_string());
    // Re-sent: the same answer, nothing more.
    assert_eq!(r[1]["code"], "ticket_not_in_state");
    assert_eq!(rejections(&s).await.len(), 1);

    // The console resolves; the device's offline resolve then arrives.
    let sha = take_photo(&mut s.device).await;
    queue(
        &mut s.device,
        action(&id, &s.unit, "resolve", Some("现场已整改"), &[sha]),
    )
    .await;
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
    s.device.sync().await;
    let r = answered(&s.device);
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
    assert_eq!(
        s.device
            .run(|d| d.rejected().expect("rejections"))
            .await
            .len(),
        2,
        "the device keeps both refusals"
    );
}

#[tokio::test]
async fn device_first_then_the_console_action_is_refused() {
    let mut s = setup().await;
    let (_, id) = file(&s.app, "dust", &s.admin).await;
    queue(&mut s.device, action(&id, &s.unit, "accept", None, &[])).await;
    s.device.sync().await;
    let r = answered(&s.device);
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

    // A resolve without the category's photo proof is refused with its reason; so is one
    // naming a photo the device never took (so never uploads).
    let sha = take_photo(&mut s.device).await;
    queue(
        &mut s.device,
        action(&id, &s.unit, "resolve", Some("已处理"), &[]),
    )
    .await;
    queue(
        &mut s.device,
        action(&id, &s.unit, "resolve", Some("已处理"), &["0".repeat(64)]),
    )
    .await;
    queue(
        &mut s.device,
        action(&id, &s.unit, "resolve", Some("已处理完毕"), &[sha]),
    )
    .await;
    let report = s.device.sync().await;
    assert_eq!(report.photos_uploaded, 1);
    let r = answered(&s.device);
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
