//! [`HttpTransport`] against a canned HTTP stub: request shape, and how each kind of answer
//! (page, 410 reset, problem+json errors, Retry-After, garbage) reaches the sync loop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use anju_client::{HttpTransport, Transport, TransportError};
use anju_shared::protocol::{PROTOCOL_VERSION, PullAnswer, PushRequest};
use uuid::Uuid;

/// Serves `answers` (status line + headers + body) one per connection, and sends back each
/// request's head and body.
fn stub(answers: Vec<String>) -> (String, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for answer in answers {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut len = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).ok();
            tx.send((head, String::from_utf8_lossy(&body).into_owned()))
                .ok();
            let mut stream = stream;
            stream.write_all(answer.as_bytes()).ok();
        }
    });
    (url, rx)
}

fn answer(status: &str, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    )
}

#[test]
fn pull_sends_device_cursor_limit_protocol_and_token_and_reads_pages_and_resets() {
    let page = r#"{"changes":[{"kind":"revoke","record_type":"hazard","id":"01890a5d-ac96-774b-bcce-b302099a8057"}],"next_cursor":"c2","has_more":false}"#;
    let reset = r#"{"code":"reset_required","message_zh":"x","message_en":"y"}"#;
    let (url, rx) = stub(vec![
        answer("200 OK", "", page),
        answer("410 Gone", "", reset),
    ]);
    let t = HttpTransport::new(&url).unwrap();
    let dev = Uuid::now_v7();
    let got = t.pull("tok-1", dev, Some("a b&c"), 500).unwrap();
    assert!(matches!(got, PullAnswer::Page(p) if p.next_cursor == "c2" && p.changes.len() == 1));
    let (head, _) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    let first = head.lines().next().unwrap();
    assert!(first.starts_with("GET /api/v1/sync/pull?"), "{first}");
    assert!(first.contains(&format!("device_id={dev}")), "{first}");
    assert!(first.contains("cursor=a+b%26c"), "{first}");
    assert!(first.contains("limit=500"), "{first}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("authorization: bearer tok-1"), "{head}");
    assert!(
        lower.contains(&format!("x-anju-protocol: {PROTOCOL_VERSION}")),
        "{head}"
    );
    let got = t.pull("tok-1", dev, Some("old"), 500).unwrap();
    assert!(matches!(got, PullAnswer::ResetRequired(r) if r.code == "reset_required"));
}

#[test]
fn problem_codes_retry_after_and_garbage_are_told_apart() {
    let mismatch = r#"{"type":"/problems/protocol_version_unsupported","title":"t","status":400,"code":"protocol_version_unsupported","requested":1,"supported":[2],"message_zh":"请升级","message_en":"please update"}"#;
    let (url, rx) = stub(vec![
        answer("400 Bad Request", "", mismatch),
        answer("503 Service Unavailable", "Retry-After: 7\r\n", "busy"),
        answer("200 OK", "", "<html>captive portal</html>"),
        answer(
            "401 Unauthorized",
            "",
            r#"{"code":"token_expired","detail":"expired"}"#,
        ),
    ]);
    let t = HttpTransport::new(&url).unwrap();
    let req = PushRequest {
        protocol: PROTOCOL_VERSION,
        device_id: Uuid::now_v7(),
        mutations: vec![],
    };
    match t.push("tok", &req) {
        Err(TransportError::Status {
            status: 400,
            code: Some(code),
            body: Some(body),
            ..
        }) => {
            assert_eq!(code, "protocol_version_unsupported");
            assert_eq!(body["supported"], serde_json::json!([2]));
        }
        other => panic!("{other:?}"),
    }
    let (head, body) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(head.starts_with("POST /api/v1/sync/push "), "{head}");
    assert_eq!(serde_json::from_str::<PushRequest>(&body).unwrap(), req);
    let e = t.push("tok", &req).unwrap_err();
    assert!(e.is_retryable());
    assert!(
        matches!(e, TransportError::Status { retry_after: Some(d), .. } if d == Duration::from_secs(7))
    );
    assert!(matches!(
        t.push("tok", &req),
        Err(TransportError::Garbage(_))
    ));
    let e = t.push("tok", &req).unwrap_err();
    assert_eq!(e.http_status(), Some(401));
    assert!(!e.is_retryable());
}

#[test]
fn unreachable_server_is_a_retryable_network_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let t = HttpTransport::new(&url).unwrap();
    let e = t.refresh("r").unwrap_err();
    assert!(matches!(e, TransportError::Network(_)), "{e:?}");
    assert!(e.is_retryable());
    assert!(HttpTransport::new("ftp://x").is_err());
}

#[test]
fn the_directory_is_read_with_the_token_and_only_for_areas_and_units() {
    let list = r#"[{"id":"01890a5d-ac96-774b-bcce-b302099a8059","code":"hexi-jianshe-1","name_zh":"纺织厂家属院","name_en":"Textile Mill Residences"}]"#;
    let (url, rx) = stub(vec![answer("200 OK", "", list)]);
    let t = HttpTransport::new(&url).unwrap();
    let got = t.directory("tok-9", "areas").unwrap();
    assert_eq!(got[0]["code"], "hexi-jianshe-1");
    let (head, _) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(head.starts_with("GET /api/v1/areas "), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("authorization: bearer tok-9")
    );
    assert!(t.directory("tok-9", "../admin").is_err());
}
