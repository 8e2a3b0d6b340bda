//! Photo proof of a hazard's rectification (整改照片核验): the rectification photos of a
//! `rectify` action are judged from their EXIF time and position (on or after the order's issue
//! date, within 200 m of the hazard's position: its `location` as coordinates, else its
//! inspection's GPS), stored in `proof_checks`, and the verdict (never a position) rides on the
//! synced hazard; the register's order page adds the distance; the unit's share of verified
//! proofs counts them; a return clears the verdict for the next round.

use anju_server::attachments::image::samples;
use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::field::FieldDevice;
use anju_tests::sync::{RawDevice, fields_of, hazard, outcome};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const UNIT: &str = "hexi_jianshe_office";
const AREA: &str = "hexi-jianshe-1";
/// Where the inspection stood (in community hexi-jianshe-1).
const SITE: (f64, f64) = (43.812, 125.207);
const DAY: i64 = 86_400_000;

struct Setup {
    app: TestApp,
    unit: String,
    area: String,
    staff: FieldDevice,
    staff_token: String,
    insp: FieldDevice,
    sup: String,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let unit = app.unit_id(UNIT).await;
    let area = app.area_id(AREA).await;
    let staff_token = app.user_token("staff", Role::UnitStaff, Some(UNIT)).await;
    app.create_user("insp", Role::Inspector, Some(UNIT)).await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let staff = FieldDevice::login(&app, "staff").await;
    let insp = FieldDevice::login(&app, "insp").await;
    Setup {
        app,
        unit,
        area,
        staff,
        staff_token,
        insp,
        sup,
    }
}

/// The city's local date or EXIF time `offset_ms` after the app's now.
fn local(app: &TestApp, offset_ms: i64, format: &str) -> String {
    let ts = jiff::Timestamp::from_millisecond(app.clock().now_ms() + offset_ms).unwrap();
    app.state()
        .config
        .timezone
        .to_datetime(ts)
        .strftime(format)
        .to_string()
}

/// Takes the photo `bytes` on the device (uploaded by its next sync); its SHA-256.
async fn take_photo(d: &mut FieldDevice, bytes: Vec<u8>) -> String {
    let sha = hex::encode(Sha256::digest(&bytes));
    let taken = d
        .run(move |d| {
            let shot = d.dir().join("rectified.jpg");
            std::fs::write(&shot, bytes).expect("photo file");
            d.add_photo(&shot).expect("photo")
        })
        .await;
    assert_eq!(taken, sha, "the device names the photo by its SHA-256");
    sha
}

/// Creates a record on the device and syncs; its id, once applied.
async fn record(d: &mut FieldDevice, record_type: &'static str, fields: Value) -> Uuid {
    let id = d
        .run(move |d| d.create(record_type, fields_of(&fields)).expect("create"))
        .await;
    d.sync().await;
    let r = d.link().last_results();
    assert_eq!(outcome(&r[0]), "applied", "{r:?}");
    id
}

/// An inspection with GPS at `SITE` and a hazard from it with an order issued today (or a
/// hazard with `location` and no inspection when `location` is given); the hazard's id.
async fn order(s: &mut Setup, location: Option<&str>) -> Uuid {
    let mut h = hazard(&s.unit, &s.area, "楼道外墙空鼓脱落");
    h["order_no"] = json!(format!("河西整改〔2026〕{}号", Uuid::now_v7().simple()));
    h["order_issued_on"] = json!(local(&s.app, 0, "%Y-%m-%d"));
    h["deadline"] = json!(local(&s.app, 10 * DAY, "%Y-%m-%d"));
    h["responsible_person"] = json!("王建国");
    match location {
        Some(l) => h["location"] = json!(l),
        None => {
            let insp = json!({"area_id": s.area, "unit_id": s.unit, "inspector": "李检查",
                              "inspected_at": "2026-11-20T09:00:00+08:00",
                              "gps_lat": SITE.0, "gps_lng": SITE.1});
            let iid = record(&mut s.insp, "inspection", insp).await;
            h["inspection_id"] = json!(iid);
        }
    }
    record(&mut s.staff, "hazard", h).await
}

/// The unit marks hazard `id` rectified with `photo`; the synced hazard's verdict.
async fn rectify(s: &mut Setup, id: Uuid, photo: Vec<u8>) -> Value {
    let sha = take_photo(&mut s.staff, photo).await;
    let a = json!({"hazard_id": id, "unit_id": s.unit, "area_id": s.area, "action": "rectify",
                   "note": "已铲除空鼓层并重新抹灰", "photos": {"add": [sha]},
                   "acted_at": "2026-12-03T10:00:00+08:00"});
    record(&mut s.staff, "hazard_action", a).await;
    let h = s
        .staff
        .fields(id)
        .await
        .expect("the staff's device has the hazard");
    assert_eq!(h["status"], "rectified");
    h.get("rectification_proof").cloned().unwrap_or(Value::Null)
}

async fn order_state(s: &Setup, id: Uuid) -> Value {
    let r = s
        .app
        .get(
            &format!("/api/v1/registers/hazard/{id}/order"),
            Some(&s.sup),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

fn assert_no_position(v: &Value) {
    let text = v.to_string();
    for leak in [
        "43.81",
        "125.20",
        "\"lat\"",
        "\"lon\"",
        "taken_at",
        "distance_m",
    ] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
}

/// The unit's row of `/api/v1/stats/units` (a complaint filed to it gives it one).
async fn unit_row(s: &Setup) -> Value {
    let mut body = anju_tests::complaints::complaint(&s.app, "dust").await;
    body["lat"] = json!(SITE.0);
    body["lon"] = json!(SITE.1);
    let a = anju_tests::complaints::submit(&s.app, &body, None).await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    let stats = s.app.get("/api/v1/stats/units", Some(&s.sup)).await;
    assert_eq!(stats.status, 200, "{:?}", stats.body);
    stats
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == json!(s.unit))
        .cloned()
        .expect("the unit's row")
}

#[tokio::test]
async fn a_rectification_photo_taken_on_site_after_the_order_is_verified() {
    let mut s = setup().await;
    let id = order(&mut s, None).await;
    // An hour from now, about 50 m north of the inspection's position.
    let photo = samples::jpeg_with_proof_exif(
        &local(&s.app, 3_600_000, "%Y:%m:%d %H:%M:%S"),
        SITE.0 + 0.00045,
        SITE.1,
    );
    let proof = rectify(&mut s, id, photo).await;
    assert_eq!(proof["verified"], true, "{proof:?}");
    assert_eq!(proof["label_zh"], "已核验");
    assert_eq!(proof["photos"][0]["reason"], "verified");
    assert_no_position(&proof);

    // The register's order page: the verdict with the distance for staff.
    let o = order_state(&s, id).await;
    assert_eq!(o["status"], "rectified");
    assert_eq!(o["proof"]["verified"], true, "{o:?}");
    let d = o["proof"]["photos"][0]["distance_m"]
        .as_f64()
        .expect("a distance");
    assert!((40.0..60.0).contains(&d), "{d}");
    assert!(!o["proof"].to_string().contains("43.81"));

    // The unit's share of verified proofs counts the rectification photo.
    let row = unit_row(&s).await;
    assert_eq!(
        (
            row["proofs_checked"].clone(),
            row["proofs_verified"].clone()
        ),
        (json!(1), json!(1)),
        "{row:?}"
    );

    // A device cannot write the verdict itself: not as an edit of the real device, and not
    // as a forged write (no base version, as if the device had created the hazard) either.
    s.staff
        .run(move |d| {
            d.edit(
                id,
                fields_of(&json!({"rectification_proof": {"verified": true}})),
            )
            .expect("edit")
        })
        .await;
    s.staff.sync().await;
    let r = s.staff.link().last_results();
    assert_eq!(outcome(&r[0]), "rejected", "{r:?}");
    let mut raw = RawDevice::register(&s.app, &s.staff_token).await;
    let m = raw.upsert(
        "hazard",
        id,
        None,
        json!({"rectification_proof": {"verified": true}}),
    );
    let r = raw.push_ok(&s.app, &[m]).await;
    assert_eq!(outcome(&r[0]), "rejected", "{r:?}");
    assert_eq!(order_state(&s, id).await["proof"]["verified"], true);

    // Sent back: open again in the next round, the verdict cleared; the inspector's device got it.
    let a = json!({"hazard_id": id, "unit_id": s.unit, "area_id": s.area, "action": "return",
                   "note": "抹灰未干透即刷漆", "acted_at": "2026-12-03T11:00:00+08:00"});
    record(&mut s.insp, "hazard_action", a).await;
    let h = s
        .insp
        .fields(id)
        .await
        .expect("the inspector's device has the hazard");
    assert_eq!(h["status"], "open");
    assert_eq!(
        h.get("rectification_proof").cloned().unwrap_or(Value::Null),
        Value::Null
    );
    assert_eq!(order_state(&s, id).await["proof"], Value::Null);
}

#[tokio::test]
async fn far_early_or_unplaced_rectification_photos_are_not_verified_with_the_reason() {
    let mut s = setup().await;
    let soon = |s: &Setup| local(&s.app, 3_600_000, "%Y:%m:%d %H:%M:%S");
    let cases: [(&str, Option<&str>, &str); 4] = [
        // 0.0126° of latitude ≈ 1.4 km.
        ("too_far", None, "1.4 km away from the hazard"),
        ("before_issue", None, "taken before the order was issued"),
        (
            "no_hazard_position",
            Some("3号楼北侧外墙"),
            "no position for the hazard",
        ),
        ("no_time", None, "no time in the photo"),
    ];
    for (reason, location, message) in cases {
        let id = order(&mut s, location).await;
        let photo = match reason {
            "too_far" => samples::jpeg_with_proof_exif(&soon(&s), SITE.0 + 0.0126, SITE.1),
            "before_issue" => samples::jpeg_with_proof_exif(
                &local(&s.app, -3 * DAY, "%Y:%m:%d %H:%M:%S"),
                SITE.0,
                SITE.1,
            ),
            "no_hazard_position" => samples::jpeg_with_proof_exif(&soon(&s), SITE.0, SITE.1),
            _ => samples::png_with_text(),
        };
        let proof = rectify(&mut s, id, photo).await;
        assert_eq!(proof["verified"], false, "{reason}: {proof:?}");
        assert_eq!(proof["label_zh"], "未核验");
        assert_eq!(proof["photos"][0]["reason"], reason);
        assert_eq!(proof["photos"][0]["message_en"], message);
        assert_no_position(&proof);
        let o = order_state(&s, id).await;
        assert_eq!(o["proof"]["photos"][0]["reason"], reason, "{o:?}");
    }
    // The hazard's own location, written as coordinates, is its position.
    let id = order(&mut s, Some("43.812,125.207")).await;
    let photo = samples::jpeg_with_proof_exif(&soon(&s), SITE.0 + 0.0003, SITE.1);
    let proof = rectify(&mut s, id, photo).await;
    assert_eq!(proof["verified"], true, "{proof:?}");
    let row = unit_row(&s).await;
    assert_eq!(
        (
            row["proofs_checked"].clone(),
            row["proofs_verified"].clone()
        ),
        (json!(5), json!(1)),
        "{row:?}"
    );
}
