//! Photo proof that is checked: a device's resolution photos are judged from their EXIF time and
//! position (after acceptance, within 200 m of the complaint). The console sees the verdict and
//! the distance, the resident's tracking page and the unit's devices only the verdict and its
//! reason, never a position; the unit's share of verified proofs is in `/api/v1/stats/units`.

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
/// Inside community hexi-jianshe-1.
const SITE: (f64, f64) = (43.812, 125.207);

struct Setup {
    app: TestApp,
    admin: String,
    device: FieldDevice,
    unit: String,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user("js1", Role::UnitStaff, Some(UNIT)).await;
    let device = FieldDevice::login(&app, "js1").await;
    let unit = app.unit_id(UNIT).await;
    Setup {
        app,
        admin,
        device,
        unit,
    }
}

/// Files a complaint at the site; (tracking code, ticket id).
async fn file_at_site(s: &Setup) -> (String, String) {
    let mut body = complaint(&s.app, "dust").await;
    body["lat"] = json!(SITE.0);
    body["lon"] = json!(SITE.1);
    let a = submit(&s.app, &body, None).await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    let code = a.body["tracking_code"].as_str().unwrap().to_string();
    let id = ticket_id(&s.app, &s.admin, a.body["ticket_no"].as_str().unwrap()).await;
    (code, id)
}

/// The EXIF local time (city zone) `offset_ms` after the app's now.
fn exif_time(app: &TestApp, offset_ms: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(app.clock().now_ms() + offset_ms).unwrap();
    app.state()
        .config
        .timezone
        .to_datetime(ts)
        .strftime("%Y:%m:%d %H:%M:%S")
        .to_string()
}

/// Takes the photo `bytes` on the device (uploaded by its next sync); its SHA-256.
async fn take_photo(d: &mut FieldDevice, bytes: Vec<u8>) -> String {
    let sha = hex::encode(Sha256::digest(&bytes));
    let taken = d
        .run(move |d| {
            let shot = d.dir().join("resolved.jpg");
            std::fs::write(&shot, bytes).expect("photo file");
            d.add_photo(&shot).expect("photo")
        })
        .await;
    assert_eq!(taken, sha, "the device names the photo by its SHA-256");
    sha
}

/// Queues a ticket action on the device and syncs; the result of its push.
async fn act(d: &mut FieldDevice, fields: Value) -> Value {
    let id = d
        .run(move |d| {
            d.create("ticket_action", fields_of(&fields))
                .expect("create")
        })
        .await;
    d.sync().await;
    let r = d.link().last_results();
    assert_eq!(r[0]["record_id"], json!(id), "{r:?}");
    r[0].clone()
}

fn action(ticket: &str, unit: &str, kind: &str, photos: &[String]) -> Value {
    let mut f = json!({"ticket_id": ticket, "unit_id": unit, "action": kind,
                       "acted_at": "2026-11-26T10:00:00+08:00"});
    if kind == "resolve" {
        f["message"] = json!("已清理完毕");
        f["photos"] = json!({"add": photos});
    }
    f
}

/// Accepts on the device, moves the clock a minute on, resolves with `photo`; returns the
/// staff view's `proof`.
async fn resolve_with(s: &mut Setup, id: &str, photo: Vec<u8>) -> Value {
    let r = act(&mut s.device, action(id, &s.unit, "accept", &[])).await;
    assert_eq!(outcome(&r), "applied", "{r:?}");
    s.app.clock().advance_ms(60_000);
    let sha = take_photo(&mut s.device, photo).await;
    let r = act(&mut s.device, action(id, &s.unit, "resolve", &[sha])).await;
    assert_eq!(outcome(&r), "applied", "{r:?}");
    let v = s
        .app
        .get(&format!("/api/v1/tickets/{id}"), Some(&s.admin))
        .await;
    assert_eq!(v.body["status"], "resolved");
    v.body["proof"].clone()
}

fn assert_no_position(v: &Value) {
    let text = v.to_string();
    for leak in [
        "43.81",
        "125.20",
        "distance_m",
        "\"lat\"",
        "\"lon\"",
        "taken_at",
    ] {
        assert!(!text.contains(leak), "{leak} in a public answer: {text}");
    }
}

#[tokio::test]
async fn a_photo_taken_on_site_after_acceptance_is_verified() {
    let mut s = setup().await;
    let (code, id) = file_at_site(&s).await;
    // Taken 30 s after acceptance (the clock moves a minute on before the resolution), about
    // 50 m north of the site.
    let taken = exif_time(&s.app, 30_000);
    let photo = samples::jpeg_with_proof_exif(&taken, SITE.0 + 0.00045, SITE.1);
    let proof = resolve_with(&mut s, &id, photo).await;
    assert_eq!(proof["verified"], true, "{proof:?}");
    assert_eq!(proof["label_zh"], "已核验");
    let p = &proof["photos"][0];
    assert_eq!(p["reason"], "verified");
    let d = p["distance_m"].as_f64().expect("staff see the distance");
    assert!((40.0..60.0).contains(&d), "{d}");

    // The resident: the verdict, no position.
    let t = s.app.get(&format!("/api/v1/track/{code}"), None).await;
    assert_eq!(t.body["proof"]["verified"], true, "{:?}", t.body);
    assert_no_position(&t.body["proof"]);
    assert_no_position(&t.body);

    // The unit's devices: the verdict on the ticket's copy.
    s.device.pull().await;
    let copy = s
        .device
        .fields(Uuid::try_parse(&id).unwrap())
        .await
        .expect("the ticket's copy")["proof"]
        .clone();
    assert_eq!(copy["verified"], true, "{copy:?}");
    assert_no_position(&copy);

    // The board's figure: the unit's share of verified proofs.
    let sup = s.app.user_token("sup1", Role::Supervisor, None).await;
    let stats = s.app.get("/api/v1/stats/units", Some(&sup)).await;
    assert_eq!(stats.status, 200, "{:?}", stats.body);
    let row = stats
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == json!(s.unit))
        .cloned()
        .expect("the unit's row");
    assert_eq!(row["proofs_checked"], 1, "{row:?}");
    assert_eq!(row["proofs_verified"], 1);
    assert_eq!(row["proof_verified_rate"], 1.0);
}

#[tokio::test]
async fn a_photo_far_away_before_acceptance_or_without_exif_is_not_verified() {
    let mut s = setup().await;
    let cases = [
        // 0.0126° of latitude ≈ 1.4 km.
        ("too_far", "1.4 km away from the complaint"),
        ("before_acceptance", "taken before the ticket was accepted"),
        ("no_time", "no time in the photo"),
    ];
    for (reason, message) in cases {
        let (code, id) = file_at_site(&s).await;
        let photo = match reason {
            "too_far" => {
                samples::jpeg_with_proof_exif(&exif_time(&s.app, 30_000), SITE.0 + 0.0126, SITE.1)
            }
            "before_acceptance" => {
                samples::jpeg_with_proof_exif(&exif_time(&s.app, -3_600_000), SITE.0, SITE.1)
            }
            _ => samples::png_with_text(),
        };
        let proof = resolve_with(&mut s, &id, photo).await;
        assert_eq!(proof["verified"], false, "{reason}: {proof:?}");
        assert_eq!(proof["label_zh"], "未核验");
        assert_eq!(proof["photos"][0]["reason"], reason);
        assert_eq!(proof["photos"][0]["message_en"], message);
        let t = s.app.get(&format!("/api/v1/track/{code}"), None).await;
        assert_eq!(t.body["proof"]["verified"], false);
        assert_eq!(t.body["proof"]["photos"][0]["reason"], reason);
        assert_no_position(&t.body);
    }
    let sup = s.app.user_token("sup1", Role::Supervisor, None).await;
    let stats = s.app.get("/api/v1/stats/units", Some(&sup)).await;
    let row = stats
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == json!(s.unit))
        .cloned()
        .expect("the unit's row");
    assert_eq!(
        (
            row["proofs_checked"].clone(),
            row["proofs_verified"].clone()
        ),
        (json!(3), json!(0))
    );
    assert_eq!(row["proof_verified_rate"], 0.0);
}
