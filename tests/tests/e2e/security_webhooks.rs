//! Attacks through webhook targets (issue 10, item 9): a target on the server's own network,
//! a redirect into it, a signing secret read from any environment variable, a robot key leaking
//! into `last_error`, and a target that never answers.

use anju_server::config::{Config, WebhookAllowList};
use anju_tests::TestApp;
use anju_tests::complaints::*;
use serde_json::{Value, json};

fn allow_local(c: &mut Config) {
    c.background_jobs = false;
    c.webhook_allow = WebhookAllowList::parse("127.0.0.1/32").unwrap();
}

async fn deliver(app: &TestApp, admin: &str) -> Value {
    let r = app
        .post("/api/v1/admin/outbox/run", Some(admin), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

/// The outbox messages of `kind` after a delivery round.
async fn messages(app: &TestApp, admin: &str, kind: &str) -> Vec<Value> {
    let all = app
        .get("/api/v1/admin/outbox?status=all", Some(admin))
        .await;
    all.body
        .as_array()
        .expect("list")
        .iter()
        .filter(|m| m["target_kind"] == kind)
        .cloned()
        .collect()
}

/// A port with nothing listening on it.
async fn closed_port() -> u16 {
    let (probe, port) = Receiver::start(0).await;
    probe.stop();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    port
}

/// A one-answer-fits-all HTTP server on 127.0.0.1: answers every request with `head` (status
/// line and headers) or, with `None`, never answers. Returns its port and a hit counter.
async fn canned(head: Option<String>) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let head = head.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = s.read(&mut buf).await;
                match head {
                    Some(h) => {
                        let _ = s.write_all(h.as_bytes()).await;
                        let _ = s.shutdown().await;
                    }
                    None => tokio::time::sleep(std::time::Duration::from_secs(60)).await,
                }
            });
        }
    });
    (port, hits)
}

#[tokio::test]
async fn targets_on_loopback_are_refused_unless_the_allow_list_names_them() {
    let app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    let admin = app.admin_token().await;
    let (rx, port) = Receiver::start(0).await;
    add_target(
        &app,
        "hexi_jianshe_office",
        "webhook",
        &format!("http://127.0.0.1:{port}/hook"),
        None,
    )
    .await;
    add_target(
        &app,
        "hexi_jianshe_office",
        "wecom",
        &format!("http://localhost:{port}/cgi-bin/webhook/send?key=k"),
        None,
    )
    .await;
    file(&app, "dust", &admin).await;
    assert_eq!(deliver(&app, &admin).await["attempted"], 2);
    assert!(rx.received().is_empty(), "{:?}", rx.received());
    for kind in ["webhook", "wecom"] {
        let m = &messages(&app, &admin, kind).await[0];
        assert_eq!(m["status"], "pending");
        let err = m["last_error"].as_str().unwrap_or("");
        assert!(err.contains("target refused"), "{kind}: {err}");
    }
    rx.stop();

    // Named by the administrator, the same receiver gets its message.
    let app = TestApp::spawn_with(allow_local).await;
    let admin = app.admin_token().await;
    let (rx, port) = Receiver::start(0).await;
    add_target(
        &app,
        "hexi_jianshe_office",
        "webhook",
        &format!("http://127.0.0.1:{port}/hook"),
        None,
    )
    .await;
    file(&app, "dust", &admin).await;
    deliver(&app, &admin).await;
    assert_eq!(rx.received().len(), 1);
    rx.stop();
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let app = TestApp::spawn_with(allow_local).await;
    let admin = app.admin_token().await;
    let (inner, inner_hits) = canned(Some(
        "HTTP/1.1 200 OK\r\nContent-Length: 27\r\n\r\n{\"errcode\":0,\"errmsg\":\"ok\"}".into(),
    ))
    .await;
    let (outer, outer_hits) = canned(Some(format!(
        "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{inner}/internal\r\nContent-Length: 0\r\n\r\n"
    )))
    .await;
    add_target(
        &app,
        "hexi_jianshe_office",
        "webhook",
        &format!("http://127.0.0.1:{outer}/hook"),
        None,
    )
    .await;
    file(&app, "dust", &admin).await;
    deliver(&app, &admin).await;
    assert_eq!(outer_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(
        inner_hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
    let m = &messages(&app, &admin, "webhook").await[0];
    assert_eq!(m["last_error"], "HTTP 302");
}

#[tokio::test]
async fn secrets_come_only_from_anju_webhook_variables() {
    let app = TestApp::spawn_with(allow_local).await;
    let admin = app.admin_token().await;
    let (rx, port) = Receiver::start(0).await;
    // A signature keyed with PATH (or DATABASE_URL) would let the receiver test guesses of it.
    add_target(
        &app,
        "hexi_jianshe_office",
        "webhook",
        &format!("http://127.0.0.1:{port}/hook"),
        Some("PATH"),
    )
    .await;
    file(&app, "dust", &admin).await;
    deliver(&app, &admin).await;
    assert!(rx.received().is_empty());
    let m = &messages(&app, &admin, "webhook").await[0];
    let err = m["last_error"].as_str().unwrap_or("");
    assert!(err.contains("ANJU_WEBHOOK_"), "{err}");
    rx.stop();

    // The organisation import refuses such a target up front.
    use anju_server::org::import_format::{ImportFile, NotifyKind, NotifySpec, validate};
    let mut city: ImportFile =
        serde_json::from_str(anju_server::org::store::SAMPLE_CITY).expect("sample city");
    assert!(validate(&city).is_ok());
    city.units[0].notify.push(NotifySpec {
        kind: NotifyKind::Webhook,
        url: "https://hooks.example.cn/x".into(),
        secret_env: Some("PATH".into()),
    });
    let errs = validate(&city).unwrap_err();
    assert!(errs.iter().any(|e| e.contains("secret_env")), "{errs:?}");
}

#[tokio::test]
async fn robot_keys_never_reach_last_error() {
    let app = TestApp::spawn_with(allow_local).await;
    let admin = app.admin_token().await;
    let down = closed_port().await;
    let refusal = r#"{"errcode":93000,"errmsg":"invalid webhook"}"#;
    let (refusing, _) = canned(Some(format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{refusal}",
        refusal.len()
    )))
    .await;
    add_target(
        &app,
        "hexi_jianshe_office",
        "wecom",
        &format!("http://127.0.0.1:{down}/cgi-bin/webhook/send?key=SECRETKEY-123456"),
        None,
    )
    .await;
    add_target(
        &app,
        "hexi_jianshe_office",
        "dingtalk",
        &format!("http://127.0.0.1:{refusing}/robot/send?access_token=SECRETTOKEN-98765"),
        None,
    )
    .await;
    file(&app, "dust", &admin).await;
    deliver(&app, &admin).await;
    let listed = app
        .get("/api/v1/admin/outbox?status=all", Some(&admin))
        .await;
    let text = listed.body.to_string();
    assert!(
        !text.contains("SECRETKEY") && !text.contains("SECRETTOKEN"),
        "{text}"
    );
    assert!(!text.contains("/cgi-bin/webhook/send"), "{text}");
    let wecom = &messages(&app, &admin, "wecom").await[0];
    assert!(
        wecom["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("could not connect"),
        "{wecom}"
    );
    let ding = &messages(&app, &admin, "dingtalk").await[0];
    assert!(
        ding["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("errcode 93000"),
        "{ding}"
    );
}

#[tokio::test]
async fn a_target_that_never_answers_times_out() {
    let app = TestApp::spawn_with(allow_local).await;
    let admin = app.admin_token().await;
    let (silent, hits) = canned(None).await;
    add_target(
        &app,
        "hexi_jianshe_office",
        "webhook",
        &format!("http://127.0.0.1:{silent}/hook"),
        None,
    )
    .await;
    file(&app, "dust", &admin).await;
    // The admin call itself would give up after a minute; the attempt gives up first.
    deliver(&app, &admin).await;
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    let m = &messages(&app, &admin, "webhook").await[0];
    assert!(
        m["last_error"].as_str().unwrap_or("").contains("timed out"),
        "{m}"
    );
}

#[tokio::test]
async fn only_the_first_kilobytes_of_an_answer_are_read() {
    let app = TestApp::spawn_with(allow_local).await;
    let admin = app.admin_token().await;
    // A "robot" that says yes at the end of a megabyte: read in full it would be accepted.
    let body = format!(
        "{{\"pad\":\"{}\",\"errcode\":0,\"errmsg\":\"ok\"}}",
        "x".repeat(1 << 20)
    );
    let (huge, hits) = canned(Some(format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )))
    .await;
    add_target(
        &app,
        "hexi_jianshe_office",
        "wecom",
        &format!("http://127.0.0.1:{huge}/cgi-bin/webhook/send?key=k"),
        None,
    )
    .await;
    file(&app, "dust", &admin).await;
    deliver(&app, &admin).await;
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    let m = &messages(&app, &admin, "wecom").await[0];
    assert_eq!(m["status"], "pending", "{m}");
    assert!(
        m["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("not its JSON"),
        "{m}"
    );
}
