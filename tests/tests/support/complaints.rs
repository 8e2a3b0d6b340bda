//! Helpers shared by the complaints tests.
#![allow(dead_code)]

use anju_tests::{Answer, TestApp};
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
    let mut req = reqwest::Client::new().post(app.url("/api/v1/complaints")).json(body);
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
    Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), headers }
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
    let list = app.get(&format!("/api/v1/tickets?queue=all&q={no}"), Some(admin)).await;
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
