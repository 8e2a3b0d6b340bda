//! Helpers shared by the complaints tests.

use crate::{Answer, TestApp};
use serde_json::{Value, json};

/// The id of the area with `code`.
pub async fn area_id(app: &TestApp, code: &str) -> String {
    let areas = app.get("/api/v1/areas", None).await.body;
    areas
        .as_array()
        .expect("areas")
        .iter()
        .find(|a| a["code"] == code)
        .and_then(|a| a["id"].as_str())
        .expect("area exists")
        .to_string()
}

/// A valid complaint body in community `hexi-jianshe-1`.
pub async fn complaint(app: &TestApp, category: &str) -> Value {
    json!({
        "category": category,
        "description": "工地夜里还在施工，扬尘很大",
        "area_id": area_id(app, "hexi-jianshe-1").await,
        "address": "纺织厂家属院 3 号楼",
        "name": "王女士",
        "phone": "138 1234 5678",
    })
}

/// Submit with an optional idempotency key.
pub async fn submit(app: &TestApp, body: &Value, key: Option<&str>) -> Answer {
    let mut req = reqwest::Client::new()
        .post(app.url("/api/v1/complaints"))
        .json(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    answer(req).await
}

/// Send a prepared request and read it as an [`Answer`].
pub async fn answer(req: reqwest::RequestBuilder) -> Answer {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
    }
}

/// File a complaint and return (tracking code, ticket id as the staff API knows it).
pub async fn file(app: &TestApp, category: &str, admin: &str) -> (String, String) {
    let a = submit(app, &complaint(app, category).await, None).await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    let code = a.body["tracking_code"].as_str().expect("code").to_string();
    let id = ticket_id(app, admin, a.body["ticket_no"].as_str().expect("no")).await;
    (code, id)
}

/// The staff id of ticket `no`.
pub async fn ticket_id(app: &TestApp, admin: &str, no: &str) -> String {
    let list = app
        .get(&format!("/api/v1/tickets?queue=all&q={no}"), Some(admin))
        .await;
    list.body
        .as_array()
        .and_then(|l| l.iter().find(|t| t["ticket_no"] == no))
        .and_then(|t| t["id"].as_str())
        .expect("ticket listed")
        .to_string()
}

/// How many tickets exist.
pub async fn ticket_count(app: &TestApp, admin: &str) -> usize {
    app.get("/api/v1/tickets?queue=all&limit=1000", Some(admin))
        .await
        .body
        .as_array()
        .map_or(0, Vec::len)
}

/// Upload raw bytes.
pub async fn upload(app: &TestApp, bytes: Vec<u8>, content_type: &str) -> Answer {
    answer(
        reqwest::Client::new()
            .post(app.url("/api/v1/uploads"))
            .header("Content-Type", content_type)
            .body(bytes),
    )
    .await
}

/// Move the server clock to `rfc3339`.
pub fn set_time(app: &TestApp, rfc3339: &str) {
    let target: jiff::Timestamp = rfc3339.parse().expect("time");
    let now = app.clock().now_ms();
    app.clock().advance_ms(target.as_millisecond() - now);
}

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Path and query.
    pub target: String,
    /// Lower-case header names and values.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// A local HTTP receiver for notifications: answers every POST with a robot's `errcode: 0`.
pub struct Receiver {
    /// Requests received so far.
    pub got: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Listen on `127.0.0.1:port` (0 = any).
    pub async fn start(port: u16) -> (Receiver, u16) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind receiver");
        let port = listener.local_addr().expect("addr").port();
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = got.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                let sink = sink.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let head_end = loop {
                        let Ok(n) = s.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let mut lines = head.split("\r\n");
                    let target = lines
                        .next()
                        .unwrap_or("")
                        .split(' ')
                        .nth(1)
                        .unwrap_or("")
                        .to_string();
                    let headers: Vec<(String, String)> = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                        .collect();
                    let len: usize = headers
                        .iter()
                        .find(|h| h.0 == "content-length")
                        .and_then(|h| h.1.parse().ok())
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        let Ok(n) = s.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let body = buf[head_end..].to_vec();
                    if let Ok(mut g) = sink.lock() {
                        g.push(Received {
                            target,
                            headers,
                            body,
                        });
                    }
                    let reply = br#"{"errcode":0,"errmsg":"ok"}"#;
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        reply.len()
                    );
                    let _ = s.write_all(resp.as_bytes()).await;
                    let _ = s.write_all(reply).await;
                    let _ = s.shutdown().await;
                });
            }
        });
        (Receiver { got, task }, port)
    }

    /// What arrived.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Stop listening (the port refuses connections afterwards).
    pub fn stop(self) {
        self.task.abort();
    }
}

/// Add a notification target to the unit with `code`.
pub async fn add_target(
    app: &TestApp,
    unit_code: &str,
    kind: &str,
    url: &str,
    secret_env: Option<&str>,
) {
    use anju_server::db::schema::unit_notify_targets as t;
    use diesel::prelude::*;
    let unit = app.unit_id(unit_code).await;
    let (kind, url, secret_env) = (
        kind.to_string(),
        url.to_string(),
        secret_env.map(str::to_string),
    );
    app.state()
        .db
        .run(move |conn| {
            diesel::insert_into(t::table)
                .values((
                    t::id.eq(uuid::Uuid::new_v4().to_string()),
                    t::unit_id.eq(unit),
                    t::kind.eq(kind),
                    t::url.eq(url),
                    t::secret_env.eq(secret_env),
                    t::created_at.eq(0i64),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("target added");
}
