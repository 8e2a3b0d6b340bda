//! The foundation as a user meets it: start-up, the sample city, login and sessions, role and
//! unit checks, and bad input answered with problem+json.

use anju_server::auth::Role;
use anju_tests::{ADMIN_PASSWORD, TestApp, USER_PASSWORD};
use base64::Engine;
use serde_json::json;

#[tokio::test]
async fn an_empty_start_has_no_city_but_an_admin() {
    let app = TestApp::spawn_with(|c| c.sample = anju_server::config::SampleMode::None).await;
    assert_eq!(app.get("/readyz", None).await.status, 200);
    let areas = app.get("/api/v1/areas", None).await;
    assert_eq!(areas.body.as_array().map(Vec::len), Some(0));
    app.admin_token().await;
}

#[tokio::test]
async fn the_sample_city_loads_with_areas_categories_units_and_calendar() {
    let app = TestApp::spawn().await;
    let areas = app.get("/api/v1/areas", None).await.body;
    let areas = areas.as_array().unwrap();
    let count = |kind: &str| areas.iter().filter(|a| a["kind"] == kind).count();
    assert_eq!(count("city"), 1);
    assert_eq!(count("district"), 2);
    assert_eq!(count("street"), 6);
    assert!(count("community") >= 20);
    assert!(areas.iter().all(|a| a["polygon"]["type"] == "Polygon"));

    let cats = app.get("/api/v1/categories", None).await.body;
    let codes: Vec<&str> = cats
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(codes.len() >= 10, "{codes:?}");
    assert!(codes.contains(&"night_noise") && codes.contains(&"dust"));

    let cal = app.get("/api/v1/calendar?year=2026", None).await.body;
    let days = cal["days"].as_array().unwrap();
    assert!(
        days.iter()
            .any(|d| d["day"] == "2026-10-01" && d["kind"] == "holiday")
    );
    assert!(
        days.iter()
            .any(|d| d["day"] == "2026-02-14" && d["kind"] == "workday")
    );

    let admin = app.admin_token().await;
    let units = app.get("/api/v1/units", Some(&admin)).await.body;
    assert!(
        units
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["kind"] == "dispatch_center")
    );
}

#[tokio::test]
async fn importing_the_same_data_twice_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let file: serde_json::Value =
        serde_json::from_str(anju_server::org::store::SAMPLE_CITY).unwrap();
    let again = app.post("/api/v1/admin/import", Some(&admin), &file).await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["areas_created"], 0);
    assert_eq!(again.body["units_created"], 0);
    assert_eq!(again.body["rules_created"], 0);

    // A file with a dangling reference is refused whole.
    let bad = json!({"areas": [{"code": "x-new", "parent": "nowhere", "kind": "street",
                                 "name_zh": "无", "name_en": "None"}]});
    let refused = app.post("/api/v1/admin/import", Some(&admin), &bad).await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.code(), "import_invalid");
    let areas = app.get("/api/v1/areas", None).await.body;
    assert!(
        !areas
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["code"] == "x-new")
    );
}

#[tokio::test]
async fn login_wrong_password_and_throttling() {
    let app = TestApp::spawn().await;
    let ok = app.login_answer("admin", ADMIN_PASSWORD).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["user"]["role"], "admin");
    assert_eq!(ok.body["expires_in"], 900);

    let wrong = app.login_answer("admin", "not the password").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.code(), "invalid_credentials");
    assert_eq!(wrong.headers["content-type"], "application/problem+json");
    let unknown = app.login_answer("nobody", "not the password").await;
    assert_eq!(unknown.code(), "invalid_credentials");

    for _ in 0..4 {
        app.login_answer("admin", "still wrong!").await;
    }
    let throttled = app.login_answer("admin", ADMIN_PASSWORD).await;
    assert_eq!(throttled.status, 429, "{:?}", throttled.body);
    let retry: u64 = throttled.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60);

    // The window passes: the right password works again.
    app.clock().advance_ms(16 * 60 * 1000);
    assert_eq!(app.login_answer("admin", ADMIN_PASSWORD).await.status, 200);
}

#[tokio::test]
async fn errors_follow_accept_language() {
    let app = TestApp::spawn().await;
    let en = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("Accept-Language", "en-US,en;q=0.9")
        .json(&json!({"username": "admin", "password": "nope"}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = en.json().await.unwrap();
    assert_eq!(body["title"], "Wrong username or password");
    let zh = app.login_answer("admin", "nope").await;
    assert_eq!(zh.body["title"], "用户名或密码错误");
}

fn forge(payload: serde_json::Value, header: serde_json::Value) -> String {
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!("{}.{}.", b64(&header), b64(&payload))
}

#[tokio::test]
async fn tampered_none_and_expired_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);

    // Change one character of the payload.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&parts[1])
        .unwrap();
    let mut claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    claims["tv"] = json!(claims["tv"].as_i64().unwrap());
    claims["sub"] = json!("someone-else");
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    let tampered = parts.join(".");
    let a = app.get("/api/v1/me", Some(&tampered)).await;
    assert_eq!((a.status, a.code()), (401, "unauthorized"));

    // alg: none with the real claims.
    let mut real: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    real["exp"] = json!(real["exp"].as_i64().unwrap() + 3600);
    let none = forge(real, json!({"alg": "none", "typ": "JWT"}));
    assert_eq!(app.get("/api/v1/me", Some(&none)).await.status, 401);

    assert_eq!(app.get("/api/v1/me", Some("garbage")).await.status, 401);
    assert_eq!(app.get("/api/v1/me", None).await.status, 401);

    // Expired: on the server's own clock, 16 minutes later the access token is dead, and a
    // fresh login works again (as a real client would do).
    app.clock().advance_ms(14 * 60 * 1000);
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);
    app.clock().advance_ms(2 * 60 * 1000);
    let a = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!((a.status, a.code()), (401, "unauthorized"));
    let fresh = app.admin_token().await;
    assert_eq!(app.get("/api/v1/me", Some(&fresh)).await.status, 200);

    // Issued in the future (a clock far ahead, or a forged `iat`): refused, while the same
    // token issued now is accepted.
    let user_id = app.get("/api/v1/me", Some(&fresh)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tv = i32::try_from(claims["tv"].as_i64().unwrap()).unwrap();
    let keys = &app.state().keys;
    let now = app.clock().now_ms();
    let issued_now = keys.issue(&user_id, tv, None, now).unwrap();
    assert_eq!(app.get("/api/v1/me", Some(&issued_now)).await.status, 200);
    let ahead = keys
        .issue(&user_id, tv, None, now + 10 * 60 * 1000)
        .unwrap();
    assert_eq!(app.get("/api/v1/me", Some(&ahead)).await.status, 401);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let login = app.login_answer("admin", ADMIN_PASSWORD).await.body;
    let first = login["refresh_token"].as_str().unwrap().to_string();

    let r1 = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": first}),
        )
        .await;
    assert_eq!(r1.status, 200);
    let second = r1.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    let access = r1.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/me", Some(&access)).await.status, 200);

    // The spent token comes back: someone copied it. The whole family dies.
    let reuse = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": first}),
        )
        .await;
    assert_eq!((reuse.status, reuse.code()), (401, "refresh_token_reused"));
    let after = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": second}),
        )
        .await;
    assert_eq!((after.status, after.code()), (401, "invalid_refresh_token"));

    // Logout ends a fresh session too.
    let s = app.login_answer("admin", ADMIN_PASSWORD).await.body;
    let rt = s["refresh_token"].as_str().unwrap();
    assert_eq!(
        app.post("/api/v1/auth/logout", None, &json!({"refresh_token": rt}))
            .await
            .status,
        204
    );
    assert_eq!(
        app.post("/api/v1/auth/refresh", None, &json!({"refresh_token": rt}))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn disabling_or_changing_a_password_cuts_tokens_off() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let uid = app
        .create_user("zhang.san", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let login = app.login_answer("zhang.san", USER_PASSWORD).await.body;
    let token = login["access_token"].as_str().unwrap().to_string();
    let refresh = login["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);

    let patch = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/admin/users/{uid}"),
            Some(&admin),
            Some(&json!({"disabled": true})),
        )
        .await;
    assert_eq!(patch.status, 200, "{:?}", patch.body);
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 401);
    assert_eq!(
        app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh})
        )
        .await
        .status,
        401
    );
    let again = app.login_answer("zhang.san", USER_PASSWORD).await;
    assert_eq!((again.status, again.code()), (403, "account_disabled"));

    // Password change by the owner ends their other sessions.
    let li = app
        .user_token("li.si", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let changed = app
        .post(
            "/api/v1/me/password",
            Some(&li),
            &json!({"current_password": USER_PASSWORD, "new_password": "a-new-long-password"}),
        )
        .await;
    assert_eq!(changed.status, 204, "{:?}", changed.body);
    assert_eq!(app.get("/api/v1/me", Some(&li)).await.status, 401);
    app.login("li.si", "a-new-long-password").await;
}

#[tokio::test]
async fn a_unit_user_is_denied_another_units_data_and_admin_endpoints() {
    let app = TestApp::spawn().await;
    let own = app.unit_id("hexi_jianshe_office").await;
    let other = app.unit_id("hedong_xinhua_office").await;
    let boss = app
        .user_token("wang.wu", Role::UnitAdmin, Some("hexi_jianshe_office"))
        .await;

    let mine = app
        .get(&format!("/api/v1/admin/users?unit_id={own}"), Some(&boss))
        .await;
    assert_eq!(mine.status, 200);
    let theirs = app
        .get(&format!("/api/v1/admin/users?unit_id={other}"), Some(&boss))
        .await;
    assert_eq!((theirs.status, theirs.code()), (403, "not_your_unit"));

    // A unit admin may not make a supervisor, nor staff of another unit.
    let sup = app
        .post("/api/v1/admin/users", Some(&boss), &json!({"username": "x1", "display_name": "X", "role": "supervisor", "password": "long-enough-pw"}))
        .await;
    assert_eq!(sup.code(), "role_not_allowed");
    let elsewhere = app
        .post("/api/v1/admin/users", Some(&boss), &json!({"username": "x2", "display_name": "X", "role": "unit_staff", "unit": "hedong_xinhua_office", "password": "long-enough-pw"}))
        .await;
    assert_eq!(elsewhere.code(), "not_your_unit");
    let fine = app
        .post("/api/v1/admin/users", Some(&boss), &json!({"username": "x3", "display_name": "X", "role": "unit_staff", "unit": "hexi_jianshe_office", "password": "long-enough-pw"}))
        .await;
    assert_eq!(fine.status, 201, "{:?}", fine.body);

    let staff = app
        .user_token("zhao.liu", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let import = app
        .post("/api/v1/admin/import", Some(&staff), &json!({}))
        .await;
    assert_eq!((import.status, import.code()), (403, "role_not_allowed"));
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_problems_not_500s() {
    let app = TestApp::spawn().await;
    let send = |body: Vec<u8>, ct: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let r = send(b"{not json".to_vec(), "application/json")
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = send(
        br#"{"username": 5, "password": []}"#.to_vec(),
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let r = send(vec![b' '; 2 * 1024 * 1024], "application/json")
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let r = send(b"username=a".to_vec(), "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(r.status(), 415);

    let admin = app.admin_token().await;
    let weird = app.get("/api/v1/calendar?year=abc", None).await;
    assert_eq!((weird.status, weird.code()), (400, "invalid_query"));
    let bad_day = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/admin/calendar/2026-13-40",
            Some(&admin),
            Some(&json!({"kind": "holiday"})),
        )
        .await;
    assert_eq!(bad_day.status, 422);
    let bad_role = app
        .post("/api/v1/admin/users", Some(&admin), &json!({"username": "a.b", "display_name": "A", "role": "king", "password": "long-enough-pw"}))
        .await;
    assert_eq!(
        (bad_role.status, bad_role.code()),
        (422, "validation_failed")
    );
    assert_eq!(app.get("/no/such/page", None).await.status, 404);
}

#[tokio::test]
async fn health_metrics_and_api_docs() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz", None).await.status, 200);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "anju_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        )
    );
    assert!(metrics.contains("anju_db_pool_max"));
    let doc = app.get("/api/openapi.json", None).await;
    assert!(doc.body["paths"]["/api/v1/auth/login"]["post"].is_object());
    let page = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("://unpkg") && !html.contains("cdn."),
        "docs page must work offline"
    );
}

#[tokio::test]
async fn failures_from_one_ip_across_many_accounts_are_throttled_too() {
    let app = TestApp::spawn().await;
    for i in 0..20 {
        let a = app
            .login_answer(&format!("guess{i}"), "wrong password")
            .await;
        assert_eq!(a.status, 401);
    }
    let blocked = app.login_answer("someone-else", "wrong password").await;
    assert_eq!((blocked.status, blocked.code()), (429, "too_many_requests"));
    assert_eq!(blocked.body["reason"], "ip");
    assert!(blocked.headers.contains_key("retry-after"));
}

/// `GET /api/v1/admin/tiers`, the deadline tiers the console shows and routing counts on: every
/// tier of the sample city in code order, each deadline one kind and value, for every staff
/// role; nobody without a login; a tier an administrator writes is listed at once, and no one
/// else may write one.
#[tokio::test]
async fn deadline_tiers_are_listed_for_staff_and_written_by_the_administrator() {
    let app = TestApp::spawn().await;
    let staff = app
        .user_token("js1", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let a = app.get("/api/v1/admin/tiers", None).await;
    assert_eq!(a.status, 401, "{:?}", a.body);
    let a = app.get("/api/v1/admin/tiers", Some("not-a-token")).await;
    assert_eq!(a.status, 401, "{:?}", a.body);

    let a = app.get("/api/v1/admin/tiers", Some(&staff)).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let tiers = a.body.as_array().cloned().expect("a list");
    let codes: Vec<&str> = tiers.iter().filter_map(|t| t["code"].as_str()).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(codes, sorted, "in code order");
    for want in ["emergency", "utility_cut", "general"] {
        assert!(codes.contains(&want), "{want} in {codes:?}");
    }
    let emergency = tiers
        .iter()
        .find(|t| t["code"] == "emergency")
        .expect("emergency");
    assert_eq!(emergency["name_zh"], "紧急");
    assert_eq!(emergency["name_en"], "Emergency");
    assert_eq!(emergency["response"], json!({"hours": 2}));
    assert_eq!(emergency["resolution"], json!({"hours": 24}));
    assert_eq!(emergency["clock"], "all_hours");
    let general = tiers
        .iter()
        .find(|t| t["code"] == "general")
        .expect("general");
    assert_eq!(general["response"], json!({"working_days": 1}));
    assert_eq!(general["resolution"], json!({"working_days": 7}));
    assert_eq!(general["clock"], "working");
    for t in &tiers {
        for k in ["response", "resolution"] {
            assert_eq!(
                t[k].as_object().map(serde_json::Map::len),
                Some(1),
                "{k} of {t}"
            );
        }
    }

    let tier = json!({"code": "lift_stuck", "name_zh": "电梯困人", "name_en": "Lift stuck",
        "response": {"hours": 1}, "resolution": {"hours": 4}, "clock": "all_hours"});
    let a = app.post("/api/v1/admin/tiers", Some(&staff), &tier).await;
    assert_eq!(a.status, 403, "{:?}", a.body);
    let admin = app.admin_token().await;
    let a = app.post("/api/v1/admin/tiers", Some(&admin), &tier).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let a = app.get("/api/v1/admin/tiers", Some(&staff)).await;
    let lift = a
        .body
        .as_array()
        .and_then(|l| l.iter().find(|t| t["code"] == "lift_stuck").cloned())
        .expect("the new tier is listed");
    assert_eq!(lift["response"], json!({"hours": 1}));
    assert_eq!(lift["name_zh"], "电梯困人");
}
