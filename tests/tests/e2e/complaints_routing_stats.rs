//! Routing rules admin and the dry run; the unit rates on a small known data set; the public
//! aggregate with no personal data.

use anju_server::attachments::image::samples;
use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::complaints::*;
use serde_json::{Value, json};

#[tokio::test]
async fn rules_can_be_added_explained_and_removed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let dispatcher = app
        .user_token("pd", Role::Dispatcher, Some("dispatch_center"))
        .await;
    let area = area_id(&app, "hexi-jianshe-1").await;
    let d = app
        .get(
            &format!("/api/v1/routing/dry-run?category=other&area_id={area}"),
            Some(&dispatcher),
        )
        .await;
    assert_eq!(d.status, 200, "{:?}", d.body);
    assert_eq!(d.body["reason"], "no_rule_dispatch_center");
    let d = app
        .get(
            "/api/v1/routing/dry-run?category=dust&lat=43.81&lon=125.20",
            Some(&dispatcher),
        )
        .await;
    assert_eq!(d.body["unit"]["code"], "hexi_jianshe_office");
    assert_eq!(d.body["rule"]["area_code"], "hexi-jianshe");
    assert_eq!(d.body["reason"], "rule_on_an_enclosing_area");
    let d = app
        .get(
            "/api/v1/routing/dry-run?category=dust&lat=1&lon=1",
            Some(&dispatcher),
        )
        .await;
    assert_eq!(d.code(), "outside_jurisdiction");

    let pm = app.unit_id("pm_city").await;
    let rule = json!({"category": "other", "area_id": area, "unit_id": pm, "priority": 5});
    assert_eq!(
        app.post("/api/v1/admin/routing/rules", Some(&dispatcher), &rule)
            .await
            .code(),
        "role_not_allowed"
    );
    let bad = app
        .post(
            "/api/v1/admin/routing/rules",
            Some(&admin),
            &json!({"area_id": "x", "unit_id": "y"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["errors"]["area_id"]["code"], "unknown_area");
    let made = app
        .post("/api/v1/admin/routing/rules", Some(&admin), &rule)
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    assert_eq!(
        app.post("/api/v1/admin/routing/rules", Some(&admin), &rule)
            .await
            .status,
        409
    );
    let d = app
        .get(
            &format!("/api/v1/routing/dry-run?category=other&area_id={area}"),
            Some(&dispatcher),
        )
        .await;
    assert_eq!(d.body["unit"]["code"], "pm_city");
    assert_eq!(d.body["reason"], "rule_on_this_area");
    let a = submit(&app, &complaint(&app, "other").await, None).await;
    assert_eq!(a.body["unit"]["id"], pm.as_str());
    assert_eq!(a.body["status"], "dispatched");
    let rules = app.get("/api/v1/admin/routing/rules", Some(&admin)).await;
    assert!(
        rules
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == made.body["id"])
    );

    let id = made.body["id"].as_str().unwrap();
    let del = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/routing/rules/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(del.status, 204);
    let a = submit(&app, &complaint(&app, "other").await, None).await;
    assert_eq!(a.body["status"], "dispatching");
}

fn unit<'a>(rows: &'a Value, id: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == id)
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn rates_on_a_small_known_data_set() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let js = app
        .user_token("js1", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    app.create_user("hengan", Role::UnitStaff, Some("pm_hengan"))
        .await;
    app.create_user("db", Role::Supervisor, Some("housing_bureau"))
        .await;
    let photo = upload(&app, samples::png_with_text(), "image/png")
        .await
        .body["id"]
        .clone();
    let act = |id: &str, a: &str| format!("/api/v1/tickets/{id}/{a}");

    // Ticket 1: accepted in time, resolved, confirmed with 5 stars.
    let (c1, t1) = file(&app, "dust", &admin).await;
    app.post(&act(&t1, "accept"), Some(&js), &json!({})).await;
    app.post(
        &act(&t1, "resolve"),
        Some(&js),
        &json!({"result": "已处理", "photos": [photo]}),
    )
    .await;
    app.post(
        &format!("/api/v1/track/{c1}/confirm"),
        None,
        &json!({"rating": 5}),
    )
    .await;
    // Ticket 2: an emergency accepted 3 h late, disputed (2 stars), reopened, accepted at once,
    // resolved, confirmed with 4 stars.
    let (c2, t2) = file(&app, "night_noise", &admin).await;
    app.clock().advance_ms(3 * 3_600_000);
    // Access tokens live 15 minutes on the server clock: everyone logs in again.
    let (admin, js) = (
        app.admin_token().await,
        app.login("js1", anju_tests::USER_PASSWORD).await,
    );
    let (pm, sup) = (
        app.login("hengan", anju_tests::USER_PASSWORD).await,
        app.login("db", anju_tests::USER_PASSWORD).await,
    );
    app.post(&act(&t2, "accept"), Some(&js), &json!({})).await;
    app.post(
        &act(&t2, "resolve"),
        Some(&js),
        &json!({"result": "已停工"}),
    )
    .await;
    app.post(
        &format!("/api/v1/track/{c2}/dispute"),
        None,
        &json!({"rating": 2, "comment": "还在施工"}),
    )
    .await;
    app.post(&act(&t2, "accept"), Some(&js), &json!({})).await;
    app.post(
        &act(&t2, "resolve"),
        Some(&js),
        &json!({"result": "已罚款停工"}),
    )
    .await;
    app.post(
        &format!("/api/v1/track/{c2}/confirm"),
        None,
        &json!({"rating": 4}),
    )
    .await;
    // Ticket 3: property management goes to 恒安物业, which returns it.
    let (_c3, t3) = file(&app, "property_management", &admin).await;
    let r = app
        .post(
            &act(&t3, "return"),
            Some(&pm),
            &json!({"reason": "非我司项目"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    assert_eq!(
        app.get("/api/v1/stats/units", Some(&js)).await.code(),
        "role_not_allowed"
    );
    let s = app.get("/api/v1/stats/units", Some(&sup)).await;
    assert_eq!(s.status, 200, "{:?}", s.body);
    let a = unit(&s.body, &app.unit_id("hexi_jianshe_office").await).clone();
    assert_eq!(a["dispatched"], 3, "{a:?}");
    assert_eq!(a["accepted_in_time"], 2);
    assert_eq!(a["response_rate"], 0.6667);
    assert_eq!(a["resolved"], 3);
    assert_eq!(a["closed_answered"], 3);
    assert_eq!(a["confirmed_solved"], 2);
    assert_eq!(a["resolution_rate"], 0.6667);
    assert_eq!(
        (a["ratings"].as_u64(), a["satisfied"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(a["satisfaction_rate"], 0.6667);
    assert_eq!(a["overdue"], 0);
    assert_eq!(a["returns"], 0);
    assert_eq!(a["small_sample"], true);
    assert!(a["name_zh"].as_str().unwrap().contains("建设街道"));
    let b = unit(&s.body, &app.unit_id("pm_hengan").await);
    assert_eq!(
        (
            b["dispatched"].as_u64(),
            b["returns"].as_u64(),
            b["accepted_in_time"].as_u64()
        ),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(b["response_rate"], 0.0);
    assert_eq!(b["resolution_rate"], Value::Null);
    // A period before any of it is empty; a bad date is a 400.
    let empty = app
        .get(
            "/api/v1/stats/units?from=2020-01-01&to=2020-01-31",
            Some(&sup),
        )
        .await;
    assert_eq!(empty.body.as_array().unwrap().len(), 0);
    assert_eq!(
        app.get("/api/v1/stats/units?from=yesterday", Some(&sup))
            .await
            .code(),
        "invalid_query"
    );

    let p = app.get("/api/v1/public/stats", None).await;
    assert_eq!(p.status, 200);
    let hexi = p.body["districts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name_en"] == "Hexi District")
        .cloned()
        .unwrap();
    assert_eq!(hexi["received"], 3);
    assert_eq!(hexi["resolved"], 2);
    assert_eq!(hexi["satisfaction_rate"], 1.0);
    assert!(
        hexi["by_category"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "dust" && c["resolved"] == 1)
    );
    let text = p.body.to_string();
    assert!(!text.contains("13812345678") && !text.contains("王女士"));
}

#[tokio::test]
async fn an_org_edit_applies_to_the_next_complaint_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // Warm the cached catalog, then add a category through the org admin API.
    assert_eq!(
        submit(&app, &complaint(&app, "dust").await, None)
            .await
            .status,
        201
    );
    let added = app
        .post(
            "/api/v1/admin/categories",
            Some(&admin),
            &json!({"code": "lift_fault", "name_zh": "加装电梯故障", "name_en": "Added lift fault",
                    "tier": "general", "icon": "facility"}),
        )
        .await;
    assert_eq!(added.status, 200, "{:?}", added.body);
    let filed = submit(&app, &complaint(&app, "lift_fault").await, None).await;
    assert_eq!(filed.status, 201, "{:?}", filed.body);
}
