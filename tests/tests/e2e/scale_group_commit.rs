//! Complaints filed together (on PostgreSQL, group-commit batches of the intake writers) write
//! what complaints filed one by one write: each new ticket's copy reaches the handling unit's
//! devices once, at a version of its own, in version order, and the per-day aggregates the
//! batches add up in multi-row upserts equal the ones recomputed from the events. On SQLite the
//! one writer files them in its own batches and the test checks the same facts.

use std::collections::{BTreeMap, BTreeSet};

use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::complaints::*;
use serde_json::{Value, json};
use tokio::task::JoinSet;

const UNIT: &str = "hexi_jianshe_office";
const TOGETHER: usize = 64;

/// Pulls from `cursor` to the end: (every change in pull order, the cursor after).
async fn pull_to_end(
    app: &TestApp,
    token: &str,
    device: &str,
    mut cursor: Option<String>,
) -> (Vec<Value>, Option<String>) {
    let mut changes = Vec::new();
    for _ in 0..1000 {
        let mut path = format!("/api/v1/sync/pull?device_id={device}&limit=200");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get(&path, Some(token)).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        changes.extend(page.body["changes"].as_array().cloned().unwrap_or_default());
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        if page.body["has_more"] != true {
            return (changes, cursor);
        }
    }
    panic!("the pull never ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn complaints_filed_together_reach_devices_once_each_and_add_up_to_the_recomputed_figures() {
    let mut app = TestApp::spawn().await;
    let staff = app.user_token("gc1", Role::UnitStaff, Some(UNIT)).await;
    let sup = app
        .user_token("gc_sup", Role::Supervisor, Some("housing_bureau"))
        .await;
    let reg = app
        .post(
            "/api/v1/devices",
            Some(&staff),
            &json!({"name": "巡查手机", "platform": "test"}),
        )
        .await;
    assert_eq!(reg.status, 201, "{:?}", reg.body);
    let device = reg.body["device_id"]
        .as_str()
        .expect("device id")
        .to_string();
    let (_, cursor) = pull_to_end(&app, &staff, &device, None).await;

    // One complaint alone, then many at once: the alone one's copy is the reference shape.
    let body = complaint(&app, "dust").await;
    let alone = submit(&app, &body, None).await;
    assert_eq!(alone.status, 201, "{:?}", alone.body);
    let client = reqwest::Client::new();
    let mut calls = JoinSet::new();
    for _ in 0..TOGETHER {
        let req = client.post(app.url("/api/v1/complaints")).json(&body);
        calls.spawn(async move {
            let r = req.send().await.expect("an answer");
            (r.status().as_u16(), r.json::<Value>().await.expect("json"))
        });
    }
    let mut filed = BTreeSet::new();
    while let Some(done) = calls.join_next().await {
        let (status, answer) = done.expect("task");
        assert_eq!(status, 201, "{answer}");
        filed.insert(answer["ticket_no"].as_str().expect("no").to_string());
    }
    assert_eq!(filed.len(), TOGETHER, "every complaint has its own number");

    let (changes, _) = pull_to_end(&app, &staff, &device, cursor).await;
    let tickets: Vec<&Value> = changes
        .iter()
        .filter(|c| c["record_type"] == "ticket")
        .collect();
    let versions: Vec<i64> = tickets
        .iter()
        .map(|c| c["version"].as_i64().expect("version"))
        .collect();
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "pull order is version order, one version per change: {versions:?}"
    );
    let mut copies: BTreeMap<String, &Value> = BTreeMap::new();
    for c in &tickets {
        assert_eq!(c["kind"], "upsert", "{c}");
        let no = c["fields"]["ticket_no"].as_str().expect("ticket_no");
        assert!(
            copies.insert(no.to_string(), &c["fields"]).is_none(),
            "ticket {no} written twice"
        );
    }
    let reference = copies
        .get(alone.body["ticket_no"].as_str().expect("no"))
        .expect("the complaint filed alone is on the device");
    let reference_keys: Vec<&String> = reference.as_object().expect("fields").keys().collect();
    for no in &filed {
        let copy = copies
            .get(no)
            .unwrap_or_else(|| panic!("{no} on the unit's device"));
        let keys: Vec<&String> = copy.as_object().expect("fields").keys().collect();
        assert_eq!(
            keys, reference_keys,
            "{no}: the same fields as a ticket filed alone"
        );
        for field in [
            "status",
            "unit_id",
            "category_code",
            "category",
            "area_id",
            "community",
            "address",
            "description",
            "resident_phone",
            "device_outcome",
            "proof",
            "replies",
        ] {
            assert_eq!(copy[field], reference[field], "{no}: {field}");
        }
        assert_eq!(copy["status"], "dispatched", "{no}");
        assert!(copy["filed_at"].is_string(), "{no}: {copy}");
    }

    // The figures the batches added up equal the ones recomputed from the events.
    let units = app.get("/api/v1/stats/units", Some(&sup)).await.body;
    let row = units
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["unit_id"] == reference["unit_id"]))
        .cloned()
        .unwrap_or_else(|| panic!("the unit's row: {units}"));
    assert_eq!(row["dispatched"], TOGETHER + 1, "{row}");
    let board = app.get("/api/v1/stats/summary", Some(&sup)).await.body;
    let public = app.get("/api/v1/public/stats", None).await.body;
    app.forget_the_aggregates();
    app.restart().await;
    let sup = app.login("gc_sup", anju_tests::USER_PASSWORD).await;
    assert_eq!(app.get("/api/v1/stats/units", Some(&sup)).await.body, units);
    assert_eq!(
        app.get("/api/v1/stats/summary", Some(&sup)).await.body,
        board
    );
    assert_eq!(app.get("/api/v1/public/stats", None).await.body, public);
}
