//! Filing a complaint as a resident meets it: routing, deadlines, idempotency, photos, tracking,
//! and every kind of bad input answered with its own 4xx that changes nothing.

use anju_server::attachments::image::samples;
use anju_tests::TestApp;
use anju_tests::complaints::*;
use serde_json::json;

#[tokio::test]
async fn a_complaint_is_routed_with_deadlines_and_a_tracking_code() {
    let app = TestApp::spawn().await;
    let a = submit(&app, &complaint(&app, "dust").await, None).await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    let code = a.body["tracking_code"].as_str().unwrap();
    assert_eq!(code.len(), 14);
    assert_eq!(code.matches('-').count(), 2);
    assert_eq!(a.body["status"], "dispatched");
    assert_eq!(
        a.body["unit"]["id"],
        app.unit_id("hexi_jianshe_office").await
    );
    assert!(
        a.body["unit"]["name_zh"]
            .as_str()
            .unwrap()
            .contains("建设街道")
    );
    assert!(a.body["response_due"].as_str().unwrap().ends_with("+08:00"));
    assert!(a.body["ticket_no"].as_str().unwrap().contains('-'));

    // Tracking works with the code typed loosely.
    let loose = code.to_lowercase().replace('-', " ");
    let t = app
        .get(
            &format!("/api/v1/track/{}", loose.replace(' ', "%20")),
            None,
        )
        .await;
    assert_eq!(t.status, 200, "{:?}", t.body);
    assert_eq!(t.body["status"], "dispatched");
    assert_eq!(t.body["timeline"][0]["kind"], "submitted");
    assert_eq!(t.body["category"]["code"], "dust");
    // The routing decision is stored with its rule.
    let admin = app.admin_token().await;
    let id = ticket_id(&app, &admin, a.body["ticket_no"].as_str().unwrap()).await;
    let v = app
        .get(&format!("/api/v1/tickets/{id}"), Some(&admin))
        .await;
    assert!(
        v.body["route"]["rule_id"].is_string(),
        "{:?}",
        v.body["route"]
    );
    assert_eq!(v.body["reporter"]["phone"], "13812345678");
    // The endpoints are in the OpenAPI document.
    let doc = app.get("/api/openapi.json", None).await;
    assert!(doc.body["paths"]["/api/v1/complaints"]["post"].is_object());
    assert!(doc.body["paths"]["/api/v1/track/{code}"]["get"].is_object());
}

#[tokio::test]
async fn a_point_routes_to_its_community_and_outside_the_city_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = complaint(&app, "dust").await;
    body.as_object_mut().unwrap().remove("area_id");
    // Inside 纺织厂家属院 (hexi-jianshe-1).
    body["lat"] = json!(43.81);
    body["lon"] = json!(125.20);
    let a = submit(&app, &body, None).await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    let t = app
        .get(
            &format!(
                "/api/v1/track/{}",
                a.body["tracking_code"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(t.body["area"]["id"], area_id(&app, "hexi-jianshe-1").await);
    assert_eq!(
        a.body["unit"]["id"],
        app.unit_id("hexi_jianshe_office").await
    );

    body["lat"] = json!(39.9);
    body["lon"] = json!(116.4);
    let a = submit(&app, &body, None).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.code(), "outside_jurisdiction");
    assert_eq!(ticket_count(&app, &admin).await, 1);
}

#[tokio::test]
async fn no_rule_goes_to_the_dispatch_center() {
    let app = TestApp::spawn().await;
    let a = submit(&app, &complaint(&app, "other").await, None).await;
    assert_eq!(a.status, 201);
    assert_eq!(a.body["status"], "dispatching");
    assert_eq!(a.body["unit"]["id"], app.unit_id("dispatch_center").await);
    let admin = app.admin_token().await;
    let q = app
        .get("/api/v1/tickets?queue=dispatch", Some(&admin))
        .await;
    assert_eq!(q.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_retried_submit_returns_the_first_answer() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = complaint(&app, "dust").await;
    let a = submit(&app, &body, Some("k-123")).await;
    let b = submit(&app, &body, Some("k-123")).await;
    assert_eq!(a.status, 201);
    assert_eq!(b.status, 201);
    assert_eq!(a.body, b.body);
    // Concurrent retries too.
    let body2 = complaint(&app, "night_noise").await;
    let (x, y) = tokio::join!(
        submit(&app, &body2, Some("k-456")),
        submit(&app, &body2, Some("k-456"))
    );
    assert_eq!(x.body["tracking_code"], y.body["tracking_code"]);
    assert_eq!(ticket_count(&app, &admin).await, 2);
    // The same key for another complaint is refused.
    let mut other = body.clone();
    other["description"] = json!("完全不同的另一件事情");
    let c = submit(&app, &other, Some("k-123")).await;
    assert_eq!(c.status, 422);
    assert_eq!(c.code(), "idempotency_key_reused");
    let d = submit(&app, &body, Some(&"x".repeat(200))).await;
    assert_eq!(d.code(), "invalid_idempotency_key");
    assert_eq!(ticket_count(&app, &admin).await, 2);
}

#[tokio::test]
async fn bad_input_gets_its_own_code_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let good = complaint(&app, "dust").await;

    let mut b = good.clone();
    b["category"] = json!("no_such_thing");
    let a = submit(&app, &b, None).await;
    assert_eq!((a.status, a.code()), (400, "unknown_category"));
    assert!(
        a.body["valid_codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "dust")
    );

    let mut b = good.clone();
    b["description"] = json!("太吵");
    let a = submit(&app, &b, None).await;
    assert_eq!((a.status, a.code()), (422, "validation_failed"));
    assert_eq!(a.body["errors"]["description"]["code"], "too_short");

    let mut b = good.clone();
    b["phone"] = json!("12345");
    let a = submit(&app, &b, None).await;
    assert_eq!(a.body["errors"]["phone"]["code"], "invalid_phone");

    let mut b = good.clone();
    b["area_id"] = json!("nope");
    let a = submit(&app, &b, None).await;
    assert_eq!(a.body["errors"]["area_id"]["code"], "unknown_area");

    let mut b = good.clone();
    b.as_object_mut().unwrap().remove("area_id");
    let a = submit(&app, &b, None).await;
    assert_eq!(a.body["errors"]["location"]["code"], "location_required");

    let mut b = good.clone();
    b["photos"] = json!(["00000000-0000-0000-0000-000000000000"]);
    let a = submit(&app, &b, None).await;
    assert_eq!(a.body["errors"]["photos"]["code"], "unknown_upload");

    let a = answer(
        reqwest::Client::new()
            .post(app.url("/api/v1/complaints"))
            .header("Content-Type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!((a.status, a.code()), (400, "malformed_json"));
    let a = submit(&app, &json!({"category": 5}), None).await;
    assert_eq!(a.status, 400);

    let a = app.get("/api/v1/track/AAAA-BBBB-CCCC", None).await;
    assert_eq!((a.status, a.code()), (404, "tracking_code_not_found"));
    let a = app.get("/api/v1/track/%3Cscript%3E", None).await;
    assert_eq!((a.status, a.code()), (404, "tracking_code_not_found"));

    assert_eq!(ticket_count(&app, &admin).await, 0);
}

#[tokio::test]
async fn a_flood_from_one_address_is_limited() {
    let app = TestApp::spawn_with(|c| c.intake_per_minute = 3).await;
    let admin = app.admin_token().await;
    let body = complaint(&app, "dust").await;
    for _ in 0..3 {
        assert_eq!(submit(&app, &body, None).await.status, 201);
    }
    let a = submit(&app, &body, None).await;
    assert_eq!((a.status, a.code()), (429, "too_many_requests"));
    assert!(a.headers.get("retry-after").is_some());
    assert_eq!(ticket_count(&app, &admin).await, 3);
}

#[tokio::test]
async fn photos_are_sniffed_and_stripped_of_metadata() {
    let app = TestApp::spawn().await;
    for (bytes, declared, ct) in [
        (samples::jpeg_with_exif(), "image/png", "image/jpeg"),
        (samples::png_with_text(), "image/png", "image/png"),
        (
            samples::webp_with_exif(),
            "application/octet-stream",
            "image/webp",
        ),
    ] {
        let a = upload(&app, bytes, declared).await;
        assert_eq!(a.status, 201, "{:?}", a.body);
        assert_eq!(a.body["content_type"], ct);
        let got = reqwest::get(app.url(a.body["url"].as_str().unwrap()))
            .await
            .unwrap();
        assert_eq!(got.headers()["content-type"], ct);
        let data = got.bytes().await.unwrap();
        assert!(
            !data.windows(11).any(|w| w == b"GPSLatitude"),
            "metadata left in {ct}"
        );
        // Attach it to a complaint.
        let mut body = complaint(&app, "dust").await;
        body["photos"] = json!([a.body["id"]]);
        let c = submit(&app, &body, None).await;
        assert_eq!(c.status, 201);
        let t = app
            .get(
                &format!(
                    "/api/v1/track/{}",
                    c.body["tracking_code"].as_str().unwrap()
                ),
                None,
            )
            .await;
        assert_eq!(t.body["photos"][0], a.body["url"]);
    }
    let a = upload(&app, b"<html>not an image</html>".to_vec(), "image/jpeg").await;
    assert_eq!((a.status, a.code()), (415, "unsupported_image"));
    let jpeg = samples::jpeg_with_exif();
    let a = upload(&app, jpeg[..12].to_vec(), "image/jpeg").await;
    assert_eq!((a.status, a.code()), (422, "damaged_image"));
    let a = upload(&app, vec![0xFF; 11 * 1024 * 1024], "image/jpeg").await;
    assert_eq!(a.status, 413);
    let a = upload(&app, Vec::new(), "image/jpeg").await;
    assert_eq!((a.status, a.code()), (400, "empty_upload"));
    let a = app.get("/api/v1/uploads/not-a-uuid", None).await;
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn deadlines_skip_the_national_day_holiday() {
    let app = TestApp::spawn().await;
    // Wednesday 30 September 2026, 10:00 in the city; 1-7 October are holidays.
    set_time(&app, "2026-09-30T02:00:00Z");
    let a = submit(&app, &complaint(&app, "dust").await, None).await;
    assert_eq!(a.status, 201);
    assert_eq!(a.body["response_due"], "2026-10-08T10:00:00+08:00");
    // Night noise is an emergency: 2 hours on every clock.
    let a = submit(&app, &complaint(&app, "night_noise").await, None).await;
    assert_eq!(a.body["response_due"], "2026-09-30T12:00:00+08:00");
    assert_eq!(a.body["resolution_due"], "2026-10-01T10:00:00+08:00");
}

#[tokio::test]
async fn similar_complaints_and_me_too() {
    let app = TestApp::spawn().await;
    let a = submit(&app, &complaint(&app, "dust").await, None).await;
    let area = area_id(&app, "hexi-jianshe-1").await;
    let s = app
        .get(
            &format!("/api/v1/complaints/similar?category=dust&area_id={area}"),
            None,
        )
        .await;
    assert_eq!(s.status, 200);
    let list = s.body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["ticket_no"], a.body["ticket_no"]);
    assert!(list[0].get("tracking_code").is_none());
    assert!(!s.body.to_string().contains("13812345678"));
    let other = app
        .get(
            &format!("/api/v1/complaints/similar?category=night_noise&area_id={area}"),
            None,
        )
        .await;
    assert_eq!(other.body.as_array().unwrap().len(), 0);
    let bad = app
        .get(
            &format!("/api/v1/complaints/similar?category=zzz&area_id={area}"),
            None,
        )
        .await;
    assert_eq!(bad.code(), "unknown_category");

    let no = a.body["ticket_no"].as_str().unwrap();
    let me = app
        .post(
            &format!("/api/v1/complaints/{no}/support"),
            None,
            &json!({"phone": "13900001111"}),
        )
        .await;
    assert_eq!(me.status, 201, "{:?}", me.body);
    assert_eq!(me.body["supporters"], 1);
    let mine = me.body["tracking_code"].as_str().unwrap();
    assert_ne!(mine, a.body["tracking_code"].as_str().unwrap());
    let t = app.get(&format!("/api/v1/track/{mine}"), None).await;
    assert_eq!(t.body["ticket_no"], no);
    assert_eq!(t.body["supporters"], 1);
    assert_eq!(t.body["can_rate"], false);
    assert!(
        !t.body.to_string().contains("纺织厂家属院 3 号楼"),
        "a supporter sees no other resident's address"
    );
    let bad = app
        .post(
            &format!("/api/v1/complaints/{no}/support"),
            None,
            &json!({"phone": "1"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    let none = app
        .post("/api/v1/complaints/1999-999999/support", None, &json!({}))
        .await;
    assert_eq!((none.status, none.code()), (404, "ticket_not_found"));
}
