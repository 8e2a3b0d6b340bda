//! Devices, photos, the public progress page, and bad input to push.

use anju_server::auth::Role;
use anju_shared::protocol::PROTOCOL_VERSION;
use anju_tests::TestApp;
use anju_tests::sync::{RawDevice, hazard, outcome};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

#[tokio::test]
async fn a_revoked_device_can_neither_push_nor_pull_nor_refresh() {
    let app = TestApp::spawn().await;
    let t = app
        .user_token("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut d = RawDevice::register(&app, &t).await;
    // A device-bound session.
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "w", "password": anju_tests::USER_PASSWORD, "device_id": d.id}),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    let refresh = login.body["refresh_token"].as_str().unwrap().to_string();
    d.token = login.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(d.pull_page(&app, 10).await.status, 200);

    let list = app.get("/api/v1/devices", Some(&t)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    // Another user can neither revoke nor use it.
    let other = app
        .user_token("x", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let a = app
        .post(
            &format!("/api/v1/devices/{}/revoke", d.id),
            Some(&other),
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 404);
    let mut stolen = RawDevice::register(&app, &other).await;
    stolen.id = d.id.clone();
    assert_eq!(stolen.pull_page(&app, 10).await.code(), "device_not_yours");

    let admin = app.admin_token().await;
    let a = app
        .post(
            &format!("/api/v1/devices/{}/revoke", d.id),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert!(a.body["revoked_at"].is_i64());

    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    let m = d.upsert(
        "hazard",
        Uuid::now_v7(),
        None,
        hazard(&unit, &area, "丢失的设备"),
    );
    assert_eq!(
        d.push(&app, std::slice::from_ref(&m)).await.code(),
        "device_revoked"
    );
    assert_eq!(d.pull_page(&app, 10).await.code(), "device_revoked");
    // Even with the user's own (not device-bound) token the device id is refused.
    d.token = t.clone();
    assert_eq!(d.push(&app, &[m]).await.code(), "device_revoked");
    let r = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(r.status, 403, "{:?}", r.body);
}

#[tokio::test]
async fn photos_are_content_addressed_and_verified() {
    let app = TestApp::spawn().await;
    let t = app
        .user_token("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
    jpeg.extend_from_slice(b"Exif\0\0GPS 31.23 121.47 evidence");
    let hash = hex::encode(Sha256::digest(&jpeg));
    let put = |h: String, bytes: Vec<u8>| {
        let req = app
            .client
            .put(app.url(&format!("/api/v1/attachments/{h}")))
            .bearer_auth(&t)
            .body(bytes);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let missing = app
        .post(
            "/api/v1/attachments/missing",
            Some(&t),
            &json!({"hashes": [hash]}),
        )
        .await;
    assert_eq!(missing.body["missing"], json!([hash]));
    assert_eq!(put(hash.clone(), jpeg.clone()).await, 201);
    assert_eq!(put(hash.clone(), jpeg.clone()).await, 200, "idempotent");
    assert_eq!(
        put("a".repeat(64), jpeg.clone()).await,
        422,
        "hash mismatch"
    );
    assert_eq!(put("nothex".into(), jpeg.clone()).await, 400);
    let text = b"not an image".to_vec();
    assert_eq!(put(hex::encode(Sha256::digest(&text)), text).await, 415);
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE0];
    photo.resize(3 * 1024 * 1024, 7);
    assert_eq!(
        put(hex::encode(Sha256::digest(&photo)), photo).await,
        201,
        "a 3 MB photo"
    );
    let big = vec![0u8; 10 * 1024 * 1024 + 1];
    assert_eq!(put(hex::encode(Sha256::digest(&big)), big).await, 413);

    let missing = app
        .post(
            "/api/v1/attachments/missing",
            Some(&t),
            &json!({"hashes": [hash, "b".repeat(64)]}),
        )
        .await;
    assert_eq!(missing.body["missing"], json!(["b".repeat(64)]));
    // Staff get the bytes as uploaded (EXIF kept as evidence); nobody else does.
    let got = app
        .client
        .get(app.url(&format!("/api/v1/attachments/{hash}")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), jpeg);
    assert_eq!(
        app.get(&format!("/api/v1/attachments/{hash}"), None)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn public_progress_shows_projects_without_personal_data() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    let t = app
        .user_token("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut d = RawDevice::register(&app, &t).await;
    let m = d.upsert(
        "project",
        Uuid::now_v7(),
        None,
        json!({"name": "建设街道老旧小区改造", "programme": "old_community", "area_id": area,
               "unit_id": unit, "planned_units": 200, "completed_units": 50,
               "progress_percent": 25, "status": "in_progress", "contractor": "城建公司"}),
    );
    assert_eq!(outcome(&d.push_ok(&app, &[m]).await[0]), "applied");
    let a = app.get("/api/v1/public/projects", None).await;
    assert_eq!(a.status, 200);
    let p = &a.body["projects"][0];
    assert_eq!(p["name"], "建设街道老旧小区改造");
    assert_eq!(p["planned_units"], 200);
    assert_eq!(p["completed_units"], 50);
    assert_eq!(p["status"], "in_progress");
    assert!(p["area_name"].is_string());
    assert_eq!(
        a.body["totals"]["old_community"]["completion_percent"],
        25.0
    );
    let text = a.body.to_string();
    assert!(!text.contains(&d.id) && !text.contains("device:") && !text.contains("hlc"));
}

#[tokio::test]
async fn bad_input_gets_specific_answers_and_never_costs_valid_mutations_their_place() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    let t = app
        .user_token("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut d = RawDevice::register(&app, &t).await;
    let push = |body: serde_json::Value| {
        let (app, t) = (&app, &t);
        async move { app.post("/api/v1/sync/push", Some(t), &body).await }
    };

    // Whole-batch refusals.
    let a = push(json!({"protocol": 99, "device_id": d.id, "mutations": []})).await;
    assert_eq!((a.status, a.code()), (400, "protocol_version_unsupported"));
    assert_eq!(a.body["requested"], 99);
    let a = push(
        json!({"protocol": PROTOCOL_VERSION, "device_id": d.id, "mutations": [{"seq": "one"}]}),
    )
    .await;
    assert_eq!((a.status, a.code()), (400, "malformed_batch"));
    let a = app
        .client
        .post(app.url("/api/v1/sync/push"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"protocol\": 1, ")
        .send()
        .await
        .unwrap();
    assert_eq!(a.status().as_u16(), 400);
    let a =
        push(json!({"protocol": PROTOCOL_VERSION, "device_id": Uuid::now_v7(), "mutations": []}))
            .await;
    assert_eq!((a.status, a.code()), (403, "device_not_registered"));

    // Per-mutation refusals in one batch with valid mutations around them.
    let good1 = d.upsert(
        "hazard",
        Uuid::now_v7(),
        None,
        hazard(&unit, &area, "有效一"),
    );
    let unknown_type = d.upsert("spaceship", Uuid::now_v7(), None, json!({"name": "x"}));
    let mut f = hazard(&unit, &area, "x");
    f["colour"] = json!("red");
    let unknown_field = d.upsert("hazard", Uuid::now_v7(), None, f);
    let mut f = hazard(&unit, &area, "x");
    f["severity"] = json!(5);
    let wrong_type = d.upsert("hazard", Uuid::now_v7(), None, f);
    let mut bad_clock = d.upsert("hazard", Uuid::now_v7(), None, hazard(&unit, &area, "x"));
    bad_clock.hlc = "yesterday".into();
    let mut f = hazard(&unit, &area, "x");
    f["photos"] = json!({"add": ["not-a-hash"]});
    let bad_photo = d.upsert("hazard", Uuid::now_v7(), None, f);
    let missing_required = d.upsert("hazard", Uuid::now_v7(), None, json!({"description": "x"}));
    let edit_missing = d.upsert(
        "hazard",
        Uuid::now_v7(),
        Some(3),
        json!({"severity": "low"}),
    );
    let good2 = d.upsert(
        "hazard",
        Uuid::now_v7(),
        None,
        hazard(&unit, &area, "有效二"),
    );
    let batch = [
        good1,
        unknown_type,
        unknown_field,
        wrong_type,
        bad_clock,
        bad_photo,
        missing_required,
        edit_missing,
        good2,
    ];
    let r = d.push_ok(&app, &batch).await;
    let codes: Vec<String> = r
        .iter()
        .map(|r| r["code"].as_str().unwrap_or(outcome(r)).to_string())
        .collect();
    assert_eq!(
        codes,
        [
            "applied",
            "unknown_record_type",
            "unknown_field",
            "wrong_type",
            "invalid_hlc",
            "invalid_sha256",
            "field_required",
            "record_not_found",
            "applied",
        ],
    );
    assert!(
        r.iter()
            .all(|r| r["message_zh"].is_string() || r["version"].is_i64())
    );
    let changes = d.pull_all(&app).await;
    assert_eq!(changes.len(), 2, "only the valid mutations: {changes:?}");
    // Every rejected mutation is kept for review.
    let list = app.get("/api/v1/sync/rejections", Some(&t)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 7);
    // The sequence moved past them: the next mutation is seq 10.
    let next = d.upsert(
        "hazard",
        Uuid::now_v7(),
        None,
        hazard(&unit, &area, "下一条"),
    );
    assert_eq!(next.seq, 10);
    assert_eq!(outcome(&d.push_ok(&app, &[next]).await[0]), "applied");
}

#[tokio::test]
async fn the_openapi_document_lists_the_sync_endpoints() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/openapi.json", None).await.body;
    for path in [
        "/api/v1/sync/push",
        "/api/v1/sync/pull",
        "/api/v1/sync/conflicts/{id}/resolve",
        "/api/v1/devices/{id}/revoke",
        "/api/v1/attachments/{sha256}",
        "/api/v1/public/projects",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
}
