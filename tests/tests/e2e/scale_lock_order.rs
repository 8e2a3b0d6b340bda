//! Writers take their locks in one order. On PostgreSQL every transaction that changes a ticket
//! takes the sync counter, the ticket, then the per-day aggregate rows; a batch of filed
//! complaints (group commit) must not take today's aggregate row of a unit before the counter,
//! or a staff action on that unit's tickets and the batch wait for each other until
//! PostgreSQL's deadlock detector kills one (a 500 for a resident or for the unit). On SQLite
//! the writer queue serialises them and the test checks the same answers.

use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::complaints::*;
use tokio::task::JoinSet;

const UNIT: &str = "hexi_jianshe_office";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_actions_and_filed_complaints_of_one_unit_never_deadlock() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app.user_token("js1", Role::UnitStaff, Some(UNIT)).await;
    let body = complaint(&app, "dust").await;
    let mut ids = Vec::new();
    for _ in 0..30 {
        ids.push(file(&app, "dust", &admin).await.1);
    }

    let client = reqwest::Client::new();
    let mut calls = JoinSet::new();
    // Accepts and replies (the unit's row of today's aggregates, after the counter) interleaved
    // with complaints filed for the same unit (the same row, in group-commit batches).
    for (i, id) in ids.iter().enumerate() {
        for action in ["accept", "reply"] {
            let req = client
                .post(app.url(&format!("/api/v1/tickets/{id}/{action}")))
                .bearer_auth(&unit)
                .json(&serde_json::json!({"text": format!("已联系，第{i}件")}));
            calls.spawn(async move { (action, req.send().await.map(|r| r.status().as_u16())) });
        }
        for _ in 0..3 {
            let req = client.post(app.url("/api/v1/complaints")).json(&body);
            calls.spawn(async move { ("file", req.send().await.map(|r| r.status().as_u16())) });
        }
    }
    let mut answers: Vec<(&str, u16)> = Vec::new();
    while let Some(done) = calls.join_next().await {
        let (what, status) = done.expect("task");
        answers.push((what, status.expect("an answer")));
    }
    let failed: Vec<_> = answers.iter().filter(|(_, s)| *s >= 500).collect();
    assert!(failed.is_empty(), "server errors: {failed:?}");
    let filed = answers
        .iter()
        .filter(|(w, s)| *w == "file" && *s == 201)
        .count();
    assert_eq!(filed, ids.len() * 3, "{answers:?}");
    // An accept and a reply of one ticket race: each is answered 200, or 409 when the other
    // one's change made it not apply. Whatever the order, no ticket is left untouched.
    for (w, s) in &answers {
        assert!(
            *w == "file" || *s == 200 || *s == 409,
            "{w} {s}: {answers:?}"
        );
    }
    let unit_view = app
        .get("/api/v1/tickets?queue=all&limit=200", Some(&unit))
        .await;
    assert_eq!(unit_view.status, 200);
    for id in &ids {
        let t = unit_view
            .body
            .as_array()
            .and_then(|l| l.iter().find(|t| t["id"] == id.as_str()))
            .unwrap_or_else(|| panic!("{id} listed for the unit"));
        assert_ne!(t["status"], "dispatched", "{t}");
    }
}
