//! Attacks on the limits (issue 10, items 2, 3 and 10): a spoofed `X-Forwarded-For` without and
//! with trusted proxies, 200 parallel password guesses, a full hashing queue, guessing through
//! the password-change endpoint, a refresh chain that never ends, tracking-code enumeration and
//! an unbounded public statistics window.

use anju_server::auth::Role;
use anju_server::http::client_ip::TrustedProxies;
use anju_tests::complaints::*;
use anju_tests::{Answer, TestApp, USER_PASSWORD};
use serde_json::json;

const DAY_MS: i64 = 24 * 3600 * 1000;

async fn login_from(app: &TestApp, forwarded: Option<&str>, user: &str, pw: &str) -> Answer {
    let mut req = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": user, "password": pw}));
    if let Some(f) = forwarded {
        req = req.header("X-Forwarded-For", f);
    }
    answer(req).await
}

async fn complaint_from(app: &TestApp, forwarded: &str) -> Answer {
    let body = complaint(app, "dust").await;
    answer(
        app.client
            .post(app.url("/api/v1/complaints"))
            .header("X-Forwarded-For", forwarded)
            .json(&body),
    )
    .await
}

#[tokio::test]
async fn a_spoofed_forwarded_for_buys_no_fresh_limits_without_trusted_proxies() {
    let app = TestApp::spawn_with(|c| c.intake_per_minute = 2).await;
    // 20 wrong logins (different accounts, so only the per-IP limit counts), each claiming to
    // come from somewhere else.
    for i in 0..20 {
        let a = login_from(
            &app,
            Some(&format!("203.0.113.{i}")),
            &format!("nobody{i}"),
            "x",
        )
        .await;
        assert_eq!(a.status, 401, "{:?}", a.body);
    }
    let a = login_from(&app, Some("198.51.100.99"), "nobody99", "x").await;
    assert_eq!((a.status, a.code()), (429, "too_many_requests"));
    assert_eq!(a.body["reason"], "ip");
    assert!(a.headers.get("retry-after").is_some());

    for _ in 0..2 {
        assert_eq!(complaint_from(&app, "203.0.113.1").await.status, 201);
    }
    assert_eq!(complaint_from(&app, "203.0.113.2").await.status, 429);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limits() {
    let app = TestApp::spawn_with(|c| {
        c.intake_per_minute = 2;
        c.trusted_proxies = TrustedProxies::parse("127.0.0.1/32").unwrap();
    })
    .await;
    app.create_user("clerk", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    // One client behind the proxy guesses 20 times; it forges a left-most hop each time, which
    // the proxy (this test) keeps and appends the real address to.
    for i in 0..20 {
        let a = login_from(
            &app,
            Some(&format!("10.9.9.{i}, 203.0.113.7")),
            &format!("nobody{i}"),
            "x",
        )
        .await;
        assert_eq!(a.status, 401, "{:?}", a.body);
    }
    let a = login_from(&app, Some("10.9.9.99, 203.0.113.7"), "nobody99", "x").await;
    assert_eq!((a.status, a.body["reason"].as_str()), (429, Some("ip")));
    // Everyone else behind the same proxy still logs in.
    let a = login_from(&app, Some("198.51.100.20"), "clerk", USER_PASSWORD).await;
    assert_eq!(a.status, 200, "{:?}", a.body);

    // The intake limit is per client too, not one limit for the whole city.
    for _ in 0..2 {
        assert_eq!(complaint_from(&app, "203.0.113.7").await.status, 201);
    }
    assert_eq!(complaint_from(&app, "203.0.113.7").await.status, 429);
    assert_eq!(complaint_from(&app, "198.51.100.20").await.status, 201);

    // So is the uploads limit (six times the intake limit).
    let jpeg = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../web-tests/fixtures/site.jpg"
    ))
    .expect("fixture photo");
    let upload = |who: &'static str| {
        let req = app
            .client
            .post(app.url("/api/v1/uploads"))
            .header("Content-Type", "image/jpeg")
            .header("X-Forwarded-For", who)
            .body(jpeg.clone());
        answer(req)
    };
    for _ in 0..12 {
        assert_eq!(upload("203.0.113.8").await.status, 201);
    }
    assert_eq!(upload("203.0.113.8").await.status, 429);
    assert_eq!(upload("198.51.100.21").await.status, 201);
}

#[tokio::test]
async fn two_hundred_parallel_wrong_logins_check_the_password_at_most_five_times() {
    let app = TestApp::spawn().await;
    app.create_user("target", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let before = app.state().hasher.password_checks();
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..200 {
        let (client, url) = (app.client.clone(), app.url("/api/v1/auth/login"));
        guesses.spawn(async move {
            let res = client
                .post(url)
                .json(&json!({"username": "target", "password": format!("guess-{i}")}))
                .send()
                .await
                .expect("request");
            res.status().as_u16()
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = guesses.join_next().await {
        statuses.push(s.expect("task"));
    }
    let checks = app.state().hasher.password_checks() - before;
    assert!(checks <= 5, "{checks} password checks for 200 guesses");
    assert!(
        statuses.iter().all(|s| [401, 429, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.iter().filter(|s| **s == 401).count() <= 5);
    // The account is locked for the window, even for the right password.
    let a = app.login_answer("target", USER_PASSWORD).await;
    assert_eq!((a.status, a.code()), (429, "too_many_requests"));
}

#[tokio::test]
async fn a_full_hashing_queue_answers_503_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.hash_queue = 0).await;
    let mut held = Vec::new();
    while let Ok(slot) = app.state().hasher.try_slot() {
        held.push(slot);
    }
    let before = app.state().hasher.password_checks();
    let a = app.login_answer("admin", anju_tests::ADMIN_PASSWORD).await;
    assert_eq!((a.status, a.code()), (503, "server_busy"), "{:?}", a.body);
    assert!(a.headers.get("retry-after").is_some());
    assert!(a.body["detail"].is_string() || a.body["title"].is_string());
    assert_eq!(app.state().hasher.password_checks(), before);
    drop(held);
    // A refusal for a full queue is not a failed attempt.
    app.admin_token().await;
}

#[tokio::test]
async fn the_password_change_endpoint_is_throttled_like_login() {
    let app = TestApp::spawn().await;
    let token = app
        .user_token("clerk", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let change = async |current: &str| {
        app.post(
            "/api/v1/me/password",
            Some(&token),
            &json!({"current_password": current, "new_password": "a-new-password-123"}),
        )
        .await
    };
    for i in 0..5 {
        let a = change(&format!("wrong-{i}")).await;
        assert_eq!((a.status, a.code()), (401, "invalid_credentials"));
    }
    let a = change(USER_PASSWORD).await;
    assert_eq!((a.status, a.code()), (429, "too_many_requests"));
    assert!(a.headers.get("retry-after").is_some());
    // The same account lock as login: no way around it.
    assert_eq!(app.login_answer("clerk", USER_PASSWORD).await.status, 429);
    // After the window the right password works, and changes it.
    app.clock().advance_ms(16 * 60_000);
    let token = app.login("clerk", USER_PASSWORD).await;
    let a = app
        .post(
            "/api/v1/me/password",
            Some(&token),
            &json!({"current_password": USER_PASSWORD, "new_password": "a-new-password-123"}),
        )
        .await;
    assert_eq!(a.status, 204, "{:?}", a.body);
    app.login("clerk", "a-new-password-123").await;
}

#[tokio::test]
async fn a_session_ends_ninety_days_after_login_however_often_it_is_refreshed() {
    let app = TestApp::spawn().await;
    let first = app.login_answer("admin", anju_tests::ADMIN_PASSWORD).await;
    let mut refresh = first.body["refresh_token"].as_str().unwrap().to_string();
    // A device that refreshes every 30 days keeps its session up to day 90 ...
    for _ in 0..2 {
        app.clock().advance_ms(30 * DAY_MS);
        let a = app
            .post(
                "/api/v1/auth/refresh",
                None,
                &json!({"refresh_token": refresh}),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        refresh = a.body["refresh_token"].as_str().unwrap().to_string();
    }
    app.clock().advance_ms(29 * DAY_MS);
    let a = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(a.status, 200, "day 89: {:?}", a.body);
    refresh = a.body["refresh_token"].as_str().unwrap().to_string();
    // ... and not a day longer.
    app.clock().advance_ms(2 * DAY_MS);
    let a = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!((a.status, a.code()), (401, "invalid_refresh_token"));
    // Logging in again starts a new session.
    app.admin_token().await;
}

#[tokio::test]
async fn tracking_lookups_are_limited_per_client() {
    let app = TestApp::spawn_with(|c| {
        c.track_per_minute = 3;
        c.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let look = |path: &'static str, who: &'static str| {
        answer(
            app.client
                .get(app.url(path))
                .header("X-Forwarded-For", who)
                .header("Accept-Language", "en"),
        )
    };
    // Guessing codes: the API and the page draw on the same allowance.
    assert_eq!(
        look("/api/v1/track/AAAA-BBBB-CCCC", "203.0.113.5")
            .await
            .status,
        404
    );
    assert_eq!(look("/t/AAAA-BBBB-CCCD", "203.0.113.5").await.status, 404);
    assert_eq!(
        look("/api/v1/track/AAAA-BBBB-CCCE", "203.0.113.5")
            .await
            .status,
        404
    );
    let a = look("/api/v1/track/AAAA-BBBB-CCCF", "203.0.113.5").await;
    assert_eq!((a.status, a.code()), (429, "too_many_requests"));
    assert!(a.headers.get("retry-after").is_some());
    assert!(a.body["title"].as_str().unwrap_or("").contains("Too many"));
    assert_eq!(look("/t/AAAA-BBBB-CCCF", "203.0.113.5").await.status, 429);
    // Another resident is not affected; a minute later the guesser may look again.
    assert_eq!(
        look("/api/v1/track/AAAA-BBBB-CCCF", "198.51.100.5")
            .await
            .status,
        404
    );
    app.clock().advance_ms(121_000);
    assert_eq!(
        look("/api/v1/track/AAAA-BBBB-CCCF", "203.0.113.5")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn public_statistics_refuse_windows_longer_than_two_years() {
    let app = TestApp::spawn().await;
    set_time(&app, "2026-11-30T02:00:00Z");
    let long = answer(
        app.client
            .get(app.url("/api/v1/public/stats?from=2016-01-01&to=2026-11-30"))
            .header("Accept-Language", "en"),
    )
    .await;
    assert_eq!((long.status, long.code()), (400, "window_too_long"));
    assert!(
        long.body["title"]
            .as_str()
            .unwrap_or("")
            .contains("two years")
    );
    let zh = app
        .get("/api/v1/public/stats?from=2024-11-29&to=2026-11-30", None)
        .await;
    assert_eq!((zh.status, zh.code()), (400, "window_too_long"));
    let ok = app
        .get("/api/v1/public/stats?from=2024-11-30&to=2026-11-30", None)
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
}
