//! Thumbnails of register photos (`GET /api/v1/attachments/{sha256}/thumbnail`): a small JPEG
//! made once and kept next to the photo, for the staff who may see the photo; anonymous and
//! out-of-scope callers get 401 / 404, never the bytes.

use anju_server::attachments::schema::attachment_thumbnails;
use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::field::FieldDevice;
use anju_tests::sync::{fields_of, hazard, outcome};
use diesel::prelude::*;
use serde_json::json;
use sha2::{Digest, Sha256};

const PHOTO: &[u8] = include_bytes!("../../../web-tests/fixtures/site.jpg");

async fn fetch(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut req = app.client.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let cache = res
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, cache, res.bytes().await.expect("body").to_vec())
}

async fn cached(app: &TestApp) -> i64 {
    app.state()
        .db
        .run(|conn| {
            Ok(attachment_thumbnails::table
                .count()
                .get_result::<i64>(conn)?)
        })
        .await
        .expect("count")
}

#[tokio::test]
async fn thumbnails_are_for_staff_in_scope_only() {
    let app = TestApp::spawn().await;
    let insp = app
        .user_token("insp", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let other = app
        .user_token("other", Role::Inspector, Some("hedong_shengli_office"))
        .await;
    let hash = hex::encode(Sha256::digest(PHOTO));
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    // The inspector's device takes the photo into a new hazard; its sync uploads the photo the
    // server lacks, then pushes the record.
    let mut dev = FieldDevice::login(&app, "insp").await;
    let (taken, report) = dev
        .run(move |d| {
            let shot = d.dir().join("site.jpg");
            std::fs::write(&shot, PHOTO).expect("photo file");
            let taken = d.add_photo(&shot).expect("photo");
            let mut fields = hazard(&unit, &area, "楼道堆放杂物");
            fields["photos"] = json!({"add": [taken]});
            d.create("hazard", fields_of(&fields)).expect("create");
            (taken, d.sync().expect("sync"))
        })
        .await;
    assert_eq!(taken, hash, "the device names the photo by its SHA-256");
    assert_eq!(
        report.photos_uploaded, 1,
        "the server did not have the photo"
    );
    let r = dev.link().results();
    assert_eq!(outcome(&r[0]), "applied", "{r:?}");

    let path = format!("/api/v1/attachments/{hash}/thumbnail");
    // The attack: no login, another street's inspector, a hash that is not one.
    let (s, _, body) = fetch(&app, &path, None).await;
    assert_eq!(s, 401);
    assert!(!body.starts_with(&[0xFF, 0xD8]));
    let (s, _, body) = fetch(&app, &path, Some(&other)).await;
    assert_eq!(s, 404, "out of scope looks like missing");
    assert!(!body.starts_with(&[0xFF, 0xD8]));
    assert_eq!(cached(&app).await, 0, "nothing made for a refused caller");
    let (s, _, _) = fetch(&app, "/api/v1/attachments/abc/thumbnail", Some(&sup)).await;
    assert_eq!(s, 400);
    let (s, _, _) = fetch(
        &app,
        &format!("/api/v1/attachments/{}/thumbnail", "c".repeat(64)),
        Some(&sup),
    )
    .await;
    assert_eq!(s, 404);

    // Staff in scope: a small JPEG, privately cacheable, made once.
    let (s, cache, thumb) = fetch(&app, &path, Some(&insp)).await;
    assert_eq!(s, 200);
    assert!(cache.starts_with("private"), "{cache}");
    assert!(thumb.starts_with(&[0xFF, 0xD8, 0xFF]));
    assert!(
        thumb.len() < PHOTO.len(),
        "{} ≥ {}",
        thumb.len(),
        PHOTO.len()
    );
    assert_eq!(cached(&app).await, 1);
    let (s, _, again) = fetch(&app, &path, Some(&sup)).await;
    assert_eq!(s, 200);
    assert_eq!(again, thumb, "served from the stored thumbnail");
    assert_eq!(cached(&app).await, 1);
    // Still refused after it exists.
    assert_eq!(fetch(&app, &path, Some(&other)).await.0, 404);
    assert_eq!(fetch(&app, &path, None).await.0, 401);
}
