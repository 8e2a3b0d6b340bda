//! Reminders and escalations on a controllable clock (no double-send across passes, restarts
//! and concurrent workers), and notification delivery through the outbox to a local receiver
//! that is down, then up; dead letters an admin retries; the three target formats.

use anju_server::notify::format::{dingtalk_sign, webhook_signature};
use anju_tests::TestApp;
use anju_tests::complaints::*;
use serde_json::{Value, json};

/// No background jobs, and the local receiver (127.0.0.1) allowed as a webhook target.
fn local_receiver_allowed(c: &mut anju_server::config::Config) {
    c.background_jobs = false;
    c.webhook_allow = anju_server::config::WebhookAllowList::parse("127.0.0.1/32").unwrap();
}

async fn run_clocks(app: &TestApp, admin: &str) -> Value {
    let r = app
        .post("/api/v1/admin/clocks/run", Some(admin), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

async fn deliver(app: &TestApp, admin: &str) -> Value {
    app.post("/api/v1/admin/outbox/run", Some(admin), &json!({}))
        .await
        .body
}

async fn events(app: &TestApp, admin: &str, id: &str, kind: &str) -> usize {
    let v = app.get(&format!("/api/v1/tickets/{id}"), Some(admin)).await;
    v.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .count()
}

#[tokio::test]
async fn reminders_and_escalations_happen_once_per_deadline_and_day() {
    let mut app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    set_time(&app, "2026-11-30T02:00:00Z"); // Monday 10:00 in the city
    // Tokens live on the server clock: log in at the new time, as a client would.
    let admin = app.admin_token().await;
    // Night noise is an emergency: respond in 2 h, resolve in 24 h, every hour counts.
    let (code, id) = file(&app, "night_noise", &admin).await;
    app.clock().advance_ms(60 * 60_000); // 50 %
    let admin = app.admin_token().await;
    assert_eq!(run_clocks(&app, &admin).await["reminders"], 0);
    app.clock().advance_ms(37 * 60_000); // 80.8 % of the response clock
    let admin = app.admin_token().await;
    assert_eq!(run_clocks(&app, &admin).await["reminders"], 1);
    assert_eq!(run_clocks(&app, &admin).await["reminders"], 0);
    // Two workers at once still record it once; so does a restarted server.
    let (a, b) = tokio::join!(run_clocks(&app, &admin), run_clocks(&app, &admin));
    assert_eq!(
        a["reminders"].as_u64().unwrap() + b["reminders"].as_u64().unwrap(),
        0
    );
    app.restart().await;
    let admin = app.admin_token().await;
    assert_eq!(run_clocks(&app, &admin).await["reminders"], 0);
    assert_eq!(events(&app, &admin, &id, "reminder").await, 1);

    app.clock().advance_ms(18 * 3_600_000); // ~19.6 h: past 80 % of 24 h
    let admin = app.admin_token().await;
    let (a, b) = tokio::join!(run_clocks(&app, &admin), run_clocks(&app, &admin));
    assert_eq!(
        a["reminders"].as_u64().unwrap() + b["reminders"].as_u64().unwrap(),
        1
    );
    app.clock().advance_ms(5 * 3_600_000); // past the resolution deadline
    let admin = app.admin_token().await;
    let (a, b) = tokio::join!(run_clocks(&app, &admin), run_clocks(&app, &admin));
    assert_eq!(
        a["escalations"].as_u64().unwrap() + b["escalations"].as_u64().unwrap(),
        1
    );
    assert_eq!(run_clocks(&app, &admin).await["escalations"], 0);
    app.clock().advance_ms(24 * 3_600_000); // still overdue the next day: again, once
    let admin = app.admin_token().await;
    assert_eq!(run_clocks(&app, &admin).await["escalations"], 1);
    assert_eq!(run_clocks(&app, &admin).await["escalations"], 0);
    assert_eq!(events(&app, &admin, &id, "overdue").await, 2);
    // Escalations are queued to the supervising unit and the dispatch center (its WeCom robot).
    let out = app
        .get("/api/v1/admin/outbox?status=all", Some(&admin))
        .await;
    assert!(
        out.body
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["event_kind"] == "escalation"),
        "{:?}",
        out.body
    );
    // None of it is public.
    let t = app.get(&format!("/api/v1/track/{code}"), None).await;
    assert!(
        t.body["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["kind"] != "reminder" && e["kind"] != "overdue")
    );
    // The overdue filter finds it.
    let q = app
        .get("/api/v1/tickets?queue=all&overdue=true", Some(&admin))
        .await;
    assert_eq!(q.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_outbox_delivers_when_the_receiver_comes_back_and_signs_each_format() {
    let app = TestApp::spawn_with(local_receiver_allowed).await;
    let admin = app.admin_token().await;
    // A port that is free now and refuses connections until the receiver starts.
    let (probe, port) = Receiver::start(0).await;
    probe.stop();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // SAFETY: tests in this binary that read this variable only read it; set once here.
    unsafe { std::env::set_var("ANJU_WEBHOOK_TEST_SECRET", "s3cret") };
    add_target(
        &app,
        "hexi_jianshe_office",
        "webhook",
        &format!("http://127.0.0.1:{port}/hook"),
        Some("ANJU_WEBHOOK_TEST_SECRET"),
    )
    .await;
    add_target(
        &app,
        "hexi_jianshe_office",
        "wecom",
        &format!("http://127.0.0.1:{port}/cgi-bin/webhook/send?key=k"),
        None,
    )
    .await;
    add_target(
        &app,
        "hexi_jianshe_office",
        "dingtalk",
        &format!("http://127.0.0.1:{port}/robot/send?access_token=t"),
        Some("ANJU_WEBHOOK_TEST_SECRET"),
    )
    .await;
    let (_code, _id) = file(&app, "dust", &admin).await;

    // Down: every attempt fails and is rescheduled, nothing lost.
    let r = deliver(&app, &admin).await;
    assert_eq!(r["attempted"], 3);
    let pending = app
        .get("/api/v1/admin/outbox?status=pending", Some(&admin))
        .await;
    let mine: Vec<&Value> = pending
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["attempts"] == 1)
        .collect();
    assert_eq!(mine.len(), 3, "{:?}", pending.body);
    assert!(mine[0]["last_error"].is_string());
    // Backoff: not yet due again.
    assert_eq!(deliver(&app, &admin).await["attempted"], 0);

    // Up: after the backoff each message arrives once.
    let (rx, _) = Receiver::start(port).await;
    app.clock().advance_ms(6_000);
    let r = deliver(&app, &admin).await;
    assert_eq!(r["attempted"], 3);
    assert_eq!(deliver(&app, &admin).await["attempted"], 0);
    let got = rx.received();
    assert_eq!(got.len(), 3, "{got:?}");

    let hook = got.iter().find(|g| g.target == "/hook").expect("webhook");
    let h = |name: &str| {
        hook.headers
            .iter()
            .find(|x| x.0 == name)
            .map(|x| x.1.clone())
            .unwrap_or_default()
    };
    let ts: i64 = h("x-anju-timestamp").parse().unwrap();
    assert_eq!(
        h("x-anju-signature"),
        webhook_signature("s3cret", ts, &hook.body)
    );
    assert_eq!(h("x-anju-event"), "ticket_dispatched");
    let body: Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(body["message"]["event"], "ticket_dispatched");
    assert!(
        !String::from_utf8_lossy(&hook.body).contains("13812345678"),
        "no resident phone in notifications"
    );

    let wecom = got
        .iter()
        .find(|g| g.target.starts_with("/cgi-bin"))
        .expect("wecom");
    let body: Value = serde_json::from_slice(&wecom.body).unwrap();
    assert_eq!(body["msgtype"], "markdown");
    let content = body["markdown"]["content"].as_str().unwrap();
    assert!(content.contains("新派工单"));
    assert!(
        content.contains("小区"),
        "the community is named: {content}"
    );
    // The resident's words stay out of third-party robots (the webhook to the unit keeps them).
    assert!(!content.contains("扬尘很大"), "{content}");

    let ding = got
        .iter()
        .find(|g| g.target.starts_with("/robot"))
        .expect("dingtalk");
    let query = ding.target.split_once('?').unwrap().1;
    let param = |k: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{k}=")))
            .unwrap()
            .to_string()
    };
    let ts: i64 = param("timestamp").parse().unwrap();
    assert_eq!(param("sign"), dingtalk_sign("s3cret", ts));
    let body: Value = serde_json::from_slice(&ding.body).unwrap();
    assert_eq!(body["msgtype"], "markdown");
    assert!(body["markdown"]["title"].is_string());
    assert!(!body.to_string().contains("扬尘很大"), "{body}");
    rx.stop();
}

#[tokio::test]
async fn undeliverable_messages_become_dead_letters_that_an_admin_retries() {
    let app = TestApp::spawn_with(local_receiver_allowed).await;
    let mut admin = app.admin_token().await;
    let (probe, port) = Receiver::start(0).await;
    probe.stop();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    add_target(
        &app,
        "hexi_jianshe_office",
        "webhook",
        &format!("http://127.0.0.1:{port}/hook"),
        None,
    )
    .await;
    file(&app, "dust", &admin).await;
    for _ in 0..8 {
        deliver(&app, &admin).await;
        app.clock().advance_ms(3_600_000);
        admin = app.admin_token().await;
    }
    let dead = app.get("/api/v1/admin/outbox", Some(&admin)).await;
    let dead: Vec<Value> = dead
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["target_kind"] == "webhook")
        .cloned()
        .collect();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["status"], "dead");
    assert_eq!(dead[0]["attempts"], 8);
    let unit = app
        .user_token(
            "js1",
            anju_server::auth::Role::UnitStaff,
            Some("hexi_jianshe_office"),
        )
        .await;
    assert_eq!(
        app.get("/api/v1/admin/outbox", Some(&unit)).await.code(),
        "role_not_allowed"
    );

    let (rx, _) = Receiver::start(port).await;
    let id = dead[0]["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/admin/outbox/{id}/retry"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    deliver(&app, &admin).await;
    assert_eq!(rx.received().len(), 1);
    let r = app
        .post(
            &format!("/api/v1/admin/outbox/{id}/retry"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "outbox_message_not_found"));
    rx.stop();
}

#[tokio::test]
async fn the_reminder_share_is_configurable() {
    let app = TestApp::spawn_with(|c| {
        c.background_jobs = false;
        c.reminder_percent = 50;
    })
    .await;
    set_time(&app, "2026-11-30T02:00:00Z"); // Monday 10:00 in the city
    // Tokens live on the server clock: log in at the new time, as a client would.
    let admin = app.admin_token().await;
    let (_code, id) = file(&app, "night_noise", &admin).await;
    app.clock().advance_ms(50 * 60_000); // 41.7 % of the 2 h response clock
    let admin = app.admin_token().await;
    assert_eq!(run_clocks(&app, &admin).await["reminders"], 0);
    app.clock().advance_ms(15 * 60_000); // 54 %
    let admin = app.admin_token().await;
    assert_eq!(run_clocks(&app, &admin).await["reminders"], 1);
    assert_eq!(events(&app, &admin, &id, "reminder").await, 1);
}
