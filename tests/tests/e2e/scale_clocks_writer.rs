//! Scale guarantees: a clock pass reads only due tickets (nothing due → nothing examined), a
//! request that cannot get the SQLite write turn in time answers 503 with `Retry-After` (never
//! 500), the board's counts come from the server over every ticket of the period, and bad
//! periods or units are clear 4xx answers.

use std::time::Duration;

use anju_server::auth::Role;
use anju_server::db::Priority;
use anju_tests::TestApp;
use anju_tests::complaints::*;
use serde_json::{Value, json};

async fn run_clocks(app: &TestApp, admin: &str) -> Value {
    let r = app
        .post("/api/v1/admin/clocks/run", Some(admin), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn a_clock_pass_reads_only_the_tickets_whose_instant_has_passed() {
    let app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    set_time(&app, "2026-11-30T02:00:00Z"); // Monday 10:00 in the city
    // Tokens live on the server clock: log in again after each move, as a client would.
    let admin = app.admin_token().await;
    // Night noise: respond in 2 h, resolve in 24 h, every hour counts.
    let (_, id) = file(&app, "night_noise", &admin).await;
    for _ in 0..4 {
        file(&app, "dust", &admin).await;
    }
    // The first pass gives each new ticket its next instant; nothing is due yet.
    let first = run_clocks(&app, &admin).await;
    assert_eq!(first["examined"], 5, "{first}");
    assert_eq!(first["reminders"], 0);
    // Nothing due: the pass examines nothing.
    let idle = run_clocks(&app, &admin).await;
    assert_eq!(idle["examined"], 0, "{idle}");
    // Past 80 % of the night-noise response clock: that ticket alone is due.
    app.clock().advance_ms(97 * 60_000);
    let admin = app.admin_token().await;
    let due = run_clocks(&app, &admin).await;
    assert_eq!(
        (due["examined"].as_u64(), due["reminders"].as_u64()),
        (Some(1), Some(1)),
        "{due}"
    );
    assert_eq!(run_clocks(&app, &admin).await["examined"], 0);
    // An event on a ticket (here: accepting it) makes the next pass look at it again, once.
    let unit_user = app
        .user_token("scale_unit", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let acc = app
        .post(
            &format!("/api/v1/tickets/{id}/accept"),
            Some(&unit_user),
            &json!({}),
        )
        .await;
    assert_eq!(acc.status, 200, "{:?}", acc.body);
    assert_eq!(run_clocks(&app, &admin).await["examined"], 1);
    assert_eq!(run_clocks(&app, &admin).await["examined"], 0);
    // Past the resolution deadline: one escalation, then one per city day.
    app.clock().advance_ms(23 * 3_600_000);
    let admin = app.admin_token().await;
    let over = run_clocks(&app, &admin).await;
    assert!(over["escalations"].as_u64().unwrap() >= 1, "{over}");
    assert_eq!(run_clocks(&app, &admin).await["examined"], 0);
    // The unit replies the same day: the next pass looks at the ticket again, finds today's
    // escalation already recorded, records nothing and gives it its next instant.
    let unit_user = app.login("scale_unit", anju_tests::USER_PASSWORD).await;
    let reply = app
        .post(
            &format!("/api/v1/tickets/{id}/reply"),
            Some(&unit_user),
            &json!({"text": "已安排人员今晚处理"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let again = run_clocks(&app, &admin).await;
    assert_eq!(
        (again["examined"].as_u64(), again["escalations"].as_u64()),
        (Some(1), Some(0)),
        "{again}"
    );
    assert_eq!(run_clocks(&app, &admin).await["examined"], 0);
    app.clock().advance_ms(24 * 3_600_000);
    let admin = app.admin_token().await;
    let next_day = run_clocks(&app, &admin).await;
    assert!(next_day["escalations"].as_u64().unwrap() >= 1, "{next_day}");
}

#[tokio::test]
async fn a_request_that_cannot_get_the_write_turn_answers_503_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    if app.state().db.is_postgres() {
        return; // PostgreSQL writers do not take turns (row locks instead).
    }
    let body = complaint(&app, "dust").await;
    let writer = app.state().db.writer().clone();
    let wait = writer.request_wait();
    // A background batch that holds the turn longer than a request may wait.
    let holder = std::thread::spawn(move || {
        let _turn = writer.turn(Priority::Background).expect("turn");
        std::thread::sleep(wait + Duration::from_millis(1500));
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let a = submit(&app, &body, None).await;
    assert_eq!(a.status, 503, "{:?}", a.body);
    assert_eq!(a.body["code"], "server_busy");
    assert!(a.headers.get("retry-after").is_some(), "{:?}", a.headers);
    holder.join().expect("holder");
    // A background batch that holds SQLite's write lock itself (a long clock batch). A login's
    // attempt reservation is a write: it waits in the writer queue, so a batch longer than
    // SQLite's 2 s busy timeout but shorter than the queue's bound delays it and nothing more,
    // and a longer one makes it answer 503 server_busy with Retry-After, never a 500.
    let login = |hold: Duration| {
        let db = app.state().db.clone();
        let url = app.url("/api/v1/auth/login");
        async move {
            let holder = std::thread::spawn(move || {
                let mut conn = db.get().expect("conn");
                db.background_tx(&mut conn, |_| {
                    std::thread::sleep(hold);
                    Ok(())
                })
                .expect("batch");
            });
            tokio::time::sleep(Duration::from_millis(100)).await;
            let r = reqwest::Client::new()
                .post(url)
                .json(&serde_json::json!({"username": "admin", "password": anju_tests::ADMIN_PASSWORD}))
                .send()
                .await
                .expect("login");
            let status = r.status().as_u16();
            let retry = r.headers().get("retry-after").cloned();
            let body: serde_json::Value = r.json().await.expect("json");
            holder.join().expect("holder");
            (status, retry, body)
        }
    };
    let (status, _, answer) = login(Duration::from_millis(2600)).await;
    assert_eq!(status, 200, "{answer}");
    let (status, retry, answer) = login(wait + Duration::from_millis(1500)).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["code"], "server_busy", "{answer}");
    assert!(retry.is_some());
    // The turn is free again: the same complaint is filed.
    assert_eq!(submit(&app, &body, None).await.status, 201);
}

#[tokio::test]
async fn the_board_summary_counts_every_ticket_of_the_period_on_the_server() {
    let app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    set_time(&app, "2026-11-30T02:00:00Z");
    // Tokens live on the server clock: log in at the new time.
    let admin = app.admin_token().await;
    let sup = app.user_token("scale_sup", Role::Supervisor, None).await;
    for _ in 0..3 {
        file(&app, "dust", &admin).await;
    }
    file(&app, "night_noise", &admin).await;
    let s = app
        .get(
            "/api/v1/stats/summary?from=2026-11-30&to=2026-11-30",
            Some(&sup),
        )
        .await;
    assert_eq!(s.status, 200, "{:?}", s.body);
    assert_eq!(s.body["received"], 4);
    let dust = s.body["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "dust")
        .cloned()
        .unwrap();
    assert_eq!(dust["received"], 3);
    let community = &s.body["by_community"][0];
    assert_eq!(community["received"], 4);
    assert_eq!(s.body["per_day"][0]["received"], 4);
    let statuses: i64 = s.body["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["count"].as_i64().unwrap())
        .sum();
    assert_eq!(statuses, 4);
    // Two days later the night-noise ticket is past its resolution deadline.
    app.clock().advance_ms(48 * 3_600_000);
    let sup = app.login("scale_sup", anju_tests::USER_PASSWORD).await;
    let later = app
        .get(
            "/api/v1/stats/summary?from=2026-11-30&to=2026-12-02",
            Some(&sup),
        )
        .await;
    assert!(
        later.body["overdue"].as_i64().unwrap() >= 1,
        "{:?}",
        later.body
    );
    // Residents and unit staff do not see it.
    assert_eq!(app.get("/api/v1/stats/summary", None).await.status, 401);
}

#[tokio::test]
async fn bad_periods_and_units_are_clear_4xx_answers() {
    let app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    let sup = app.user_token("scale_sup", Role::Supervisor, None).await;
    for path in [
        "/api/v1/stats/units?from=2016-01-01&to=2026-01-01",
        "/api/v1/stats/summary?from=2016-01-01&to=2026-01-01",
        "/api/v1/public/stats?from=2016-01-01&to=2026-01-01",
    ] {
        let a = app.get(path, Some(&sup)).await;
        assert_eq!((a.status, a.code()), (400, "window_too_long"), "{path}");
    }
    let a = app
        .get("/api/v1/stats/summary?unit_id=no_such_unit", Some(&sup))
        .await;
    assert_eq!((a.status, a.code()), (400, "unknown_unit"));
    // A year is fine.
    let a = app
        .get(
            "/api/v1/stats/summary?from=2026-01-01&to=2026-12-31",
            Some(&sup),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
}
