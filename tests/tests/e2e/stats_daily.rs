//! The per-day aggregates equal the event history: random ticket histories (a seeded generator;
//! accept, reply, resolve, return, extension requests and decisions, dispatch, confirm, dispute,
//! clock advances with clock passes and auto-close) go through the real transition service, then
//! the rates from the aggregates are compared with the rates computed from the events
//! (`stats::reference`) over many periods, the public figures with those computed from the
//! tickets, and the incremental tables with a rebuild from the events (the upgrade's backfill).

use anju_server::auth::{Principal, Role};
use anju_server::db::DbConnection;
use anju_server::state::AppState;
use anju_server::stats::{Period, aggregate, rates::UnitRates, reference, summary, window};
use anju_server::tickets::transition::{self, Change, Env, Mover};
use anju_tests::TestApp;
use anju_tests::complaints::*;
use diesel::prelude::*;
use serde_json::{Value, json};

/// A small deterministic generator (xorshift64*), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

fn ids(conn: &mut DbConnection, sql: &str) -> Vec<String> {
    diesel::sql_query(sql)
        .load::<Id>(conn)
        .expect("ids")
        .into_iter()
        .map(|r| r.id)
        .collect()
}

fn principal(user_id: &str, role: Role, unit: Option<String>) -> Principal {
    Principal {
        user_id: user_id.into(),
        user: anju_server::http::ids::UserId::parse(user_id),
        username: "admin".into(),
        display_name: "随机测试".into(),
        role,
        unit_id: unit,
        device_id: None,
    }
}

/// One random change on a random ticket, through `transition::apply` in a write transaction
/// (refusals roll back and leave no event, as on the real endpoints).
fn random_step(st: &AppState, rng: &mut Rng, tickets: &[String], units: &[String], admin: &str) {
    let mut conn = st.db.get().expect("conn");
    let catalog = st
        .catalog
        .get(&mut conn, &st.config.timezone)
        .expect("catalog");
    let id = &tickets[rng.below(tickets.len())];
    let unit: Option<String> = anju_server::tickets::schema::tickets::table
        .find(id)
        .select(anju_server::tickets::schema::tickets::unit_id)
        .first(&mut *conn)
        .expect("ticket");
    let staff = principal(admin, Role::UnitStaff, unit.clone());
    let dispatcher = principal(admin, Role::Dispatcher, None);
    let supervisor = principal(admin, Role::Supervisor, None);
    let now = st.clock.now_ms();
    let (mover, change) = match rng.below(11) {
        0 | 1 => (Mover::Staff(&staff), Change::Accept),
        2 => (
            Mover::Staff(&staff),
            Change::Reply {
                text: "正在处理".into(),
            },
        ),
        3 | 4 => (
            Mover::Staff(&staff),
            Change::Resolve {
                result: "已处理".into(),
                photos: vec![],
                proof: vec![],
                max_distance_m: 200.0,
            },
        ),
        5 => (
            Mover::Staff(&staff),
            Change::Return {
                reason: "不属本单位".into(),
                suggested_unit_id: None,
            },
        ),
        6 => (
            Mover::Staff(&staff),
            Change::RequestExtension {
                reason: "需要协调".into(),
                due: now + (3 + rng.below(10) as i64) * 86_400_000,
            },
        ),
        7 => (
            Mover::Staff(&dispatcher),
            Change::Dispatch {
                unit_id: units[rng.below(units.len())].clone(),
            },
        ),
        8 => {
            let pending: Vec<String> = anju_server::tickets::schema::extension_requests::table
                .filter(anju_server::tickets::schema::extension_requests::ticket_id.eq(id))
                .filter(anju_server::tickets::schema::extension_requests::status.eq("pending"))
                .select(anju_server::tickets::schema::extension_requests::id)
                .load(&mut *conn)
                .expect("extensions");
            let Some(extension_id) = pending.into_iter().next() else {
                return;
            };
            (
                Mover::Staff(&supervisor),
                Change::DecideExtension {
                    extension_id,
                    approve: rng.below(2) == 0,
                    reason: Some("同意".into()),
                },
            )
        }
        9 => (
            Mover::Resident,
            Change::Confirm {
                rating: 1 + rng.below(5) as i32,
                comment: None,
            },
        ),
        _ => (
            Mover::Resident,
            Change::Dispute {
                rating: 1 + rng.below(5) as i32,
                comment: Some("没解决".into()),
            },
        ),
    };
    let env = Env {
        catalog: &catalog,
        tz: &st.config.timezone,
        public_url: &st.config.public_url,
        now,
        deferred: None,
        copies: &*st.ticket_copies,
        aggregates: &*st.ticket_aggregates,
    };
    let _ = st.db.write_tx(&mut conn, |c| {
        transition::apply(c, &env, mover, id, change, None)
    });
}

fn without_median(mut v: Vec<UnitRates>) -> Vec<UnitRates> {
    for r in &mut v {
        r.median_hours_to_resolve = None;
    }
    v
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 0.05 * b + 0.02,
        _ => false,
    }
}

fn strip_public_medians(v: &Value) -> (Value, Vec<Option<f64>>) {
    let mut v = v.clone();
    let mut medians = Vec::new();
    for d in v["districts"].as_array_mut().expect("districts") {
        medians.push(d["median_hours_to_resolve"].as_f64());
        d["median_hours_to_resolve"] = Value::Null;
    }
    (v, medians)
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Dump {
    #[diesel(sql_type = diesel::sql_types::Text)]
    row: String,
}

/// Every aggregate row as text, in a stable order (zero rows left out).
fn dump(conn: &mut DbConnection) -> Vec<Dump> {
    let mut out = Vec::new();
    for sql in [
        "SELECT CAST(day AS TEXT) || ' ' || unit_id || ' ' || CAST(dispatched AS TEXT) || ' ' || CAST(accepted_in_time AS TEXT) || ' ' || CAST(resolved AS TEXT) || ' ' || CAST(overdue AS TEXT) || ' ' || CAST(closed_answered AS TEXT) || ' ' || CAST(confirmed_solved AS TEXT) || ' ' || CAST(ratings AS TEXT) || ' ' || CAST(satisfied AS TEXT) || ' ' || CAST(returns AS TEXT) || ' ' || CAST(extensions AS TEXT) AS row FROM stats_unit_daily WHERE dispatched + accepted_in_time + resolved + overdue + closed_answered + confirmed_solved + ratings + satisfied + returns + extensions <> 0 ORDER BY day, unit_id",
        "SELECT CAST(day AS TEXT) || ' ' || unit_id || ' ' || CAST(bucket AS TEXT) || ' ' || CAST(n AS TEXT) AS row FROM stats_unit_hours WHERE n <> 0 ORDER BY day, unit_id, bucket",
        "SELECT CAST(day AS TEXT) || ' ' || district_id || ' ' || category_code || ' ' || CAST(received AS TEXT) || ' ' || CAST(resolved AS TEXT) || ' ' || CAST(ratings AS TEXT) || ' ' || CAST(satisfied AS TEXT) AS row FROM stats_public_daily WHERE received + resolved + ratings + satisfied <> 0 ORDER BY day, district_id, category_code",
        "SELECT CAST(day AS TEXT) || ' ' || district_id || ' ' || CAST(bucket AS TEXT) || ' ' || CAST(n AS TEXT) AS row FROM stats_public_hours WHERE n <> 0 ORDER BY day, district_id, bucket",
        "SELECT scope || ' ' || CAST(day AS TEXT) || ' ' || dim || ' ' || value || ' ' || CAST(received AS TEXT) || ' ' || CAST(open AS TEXT) AS row FROM stats_board_daily WHERE received <> 0 OR open <> 0 ORDER BY scope, day, dim, value",
    ] {
        out.extend(diesel::sql_query(sql).load::<Dump>(conn).expect("dump"));
    }
    out
}

#[tokio::test]
async fn rates_from_the_aggregates_equal_the_rates_from_the_events() {
    let app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    set_time(&app, "2026-11-02T01:00:00Z"); // a Monday morning in the city
    let admin = app.admin_token().await;
    let st = app.state().clone();
    let (areas, categories, units, admin_id) = {
        let mut conn = st.db.get().expect("conn");
        (
            ids(
                &mut conn,
                "SELECT id FROM areas WHERE kind = 'community' ORDER BY id",
            ),
            ids(
                &mut conn,
                "SELECT code AS id FROM categories WHERE active = TRUE ORDER BY code",
            ),
            ids(
                &mut conn,
                "SELECT id FROM units WHERE kind = 'street_office' ORDER BY id",
            ),
            ids(&mut conn, "SELECT id FROM users WHERE username = 'admin'")[0].clone(),
        )
    };
    let mut rng = Rng(0x5eed_1234_abcd_0042);
    let mut tickets: Vec<String> = Vec::new();
    let start_day = "2026-11-02";
    for round in 0..12 {
        // New complaints through the real intake, over several areas and categories.
        for _ in 0..6 {
            let mut body = complaint(&app, &categories[rng.below(categories.len())]).await;
            body["area_id"] = json!(areas[rng.below(areas.len())]);
            let a = submit(&app, &body, None).await;
            assert_eq!(a.status, 201, "{:?}", a.body);
        }
        tickets = {
            let mut conn = st.db.get().expect("conn");
            ids(&mut conn, "SELECT id FROM tickets ORDER BY id")
        };
        let (st2, units2, admin2, seed) = (st.clone(), units.clone(), admin_id.clone(), rng.next());
        let tickets2 = tickets.clone();
        tokio::task::spawn_blocking(move || {
            let mut rng = Rng(seed | 1);
            for _ in 0..40 {
                random_step(&st2, &mut rng, &tickets2, &units2, &admin2);
                if rng.below(4) == 0 {
                    st2.clock
                        .advance_ms((rng.below(20 * 60) as i64 + 1) * 60_000);
                }
            }
            // A longer wait, then the clocks (reminders, overdue escalations, auto-close).
            st2.clock
                .advance_ms((rng.below(3 * 24) as i64 + 1) * 3_600_000);
            let mut conn = st2.db.get().expect("conn");
            anju_server::clocks::run_pass(&mut conn, &st2).expect("clock pass");
        })
        .await
        .expect("steps");
        if round == 5 {
            // Past the auto-close delay for the resolutions left unanswered so far.
            st.clock.advance_ms(8 * 86_400_000);
            let st2 = st.clone();
            tokio::task::spawn_blocking(move || {
                let mut conn = st2.db.get().expect("conn");
                anju_server::clocks::run_pass(&mut conn, &st2).expect("clock pass");
            })
            .await
            .expect("pass");
        }
    }
    assert!(tickets.len() >= 70);

    let st2 = st.clone();
    tokio::task::spawn_blocking(move || {
        let tz = st2.config.timezone.clone();
        let now = st2.clock.now_ms();
        let mut conn = st2.db.get().expect("conn");
        let catalog = st2.catalog.get(&mut conn, &tz).expect("catalog");
        let kinds = ids(
            &mut conn,
            "SELECT DISTINCT kind AS id FROM ticket_events ORDER BY kind",
        );
        for k in [
            "accepted",
            "resolved",
            "returned",
            "extension_requested",
            "confirmed",
            "disputed",
            "reopened",
            "closed_unconfirmed",
            "reassigned",
        ] {
            assert!(kinds.iter().any(|x| x == k), "no {k} event in {kinds:?}");
        }
        let today = tz.to_datetime(anju_server::clock::from_ms(now)).date();
        let first: jiff::civil::Date = start_day.parse().expect("date");
        let mut periods = vec![(first.to_string(), today.to_string())];
        let mut prng = Rng(77);
        let span = first.until(today).expect("span").get_days();
        for _ in 0..30 {
            let a = prng.below(span as usize + 3) as i64;
            let b = a + prng.below(12) as i64;
            let d = |n: i64| first.checked_add(jiff::Span::new().days(n)).expect("day");
            periods.push((d(a).to_string(), d(b).to_string()));
        }
        let mut compared = 0;
        let (mut board_received, mut board_overdue) = (0i64, 0i64);
        let mut board_units = units.clone();
        board_units.extend(catalog.dispatch_center.clone());
        for (i, (from, to)) in periods.iter().enumerate() {
            let p = Period {
                from: Some(from.clone()),
                to: Some(to.clone()),
            };
            let (start, end) = window(&p, now, &tz).expect("window");
            let (d0, d1) = aggregate::day_range(&tz, start, end);
            let agg = aggregate::unit_rates(&mut conn, d0, d1).expect("aggregates");
            let ev = reference::unit_rates_from_events(&mut conn, start, end).expect("events");
            compared += ev.len();
            if i == 0 {
                // The whole history: medians from the histogram are within its 4.5 %.
                assert!(!ev.is_empty());
                for (a, e) in agg.iter().zip(&ev) {
                    assert!(
                        close(a.median_hours_to_resolve, e.median_hours_to_resolve),
                        "{a:?} vs {e:?}"
                    );
                }
            }
            assert_eq!(
                without_median(agg),
                without_median(ev),
                "period {from}..{to}"
            );
            let pa = serde_json::to_value(
                aggregate::public_stats(&mut conn, &catalog, d0, d1).expect("public"),
            )
            .expect("public as JSON");
            let pe = reference::public_from_tickets(&mut conn, &catalog, start, end)
                .expect("public ref");
            let ((pa, ma), (pe, me)) = (strip_public_medians(&pa), strip_public_medians(&pe));
            assert_eq!(pa, pe, "public {from}..{to}");
            for (a, e) in ma.into_iter().zip(me) {
                assert!(close(a, e), "public median {a:?} vs {e:?}");
            }
            // The board's counts from its aggregate equal those counted over the tickets, for
            // every unit and each street office, now and with more deadlines passed.
            for unit in std::iter::once(None).chain(board_units.iter().map(Some)) {
                for at in [now, now + 5 * 86_400_000] {
                    let u = unit.map(String::as_str);
                    let agg = summary::board_from_aggregates(&mut conn, &tz, start, end, u, at)
                        .expect("board");
                    let scan = reference::board_from_tickets(&mut conn, &tz, start, end, u, at)
                        .expect("board ref");
                    board_received += agg.by_status.values().sum::<i64>();
                    board_overdue += agg.by_category.values().map(|t| t.overdue).sum::<i64>();
                    assert_eq!(
                        summary::board(&catalog, &tz, start, end, u, agg),
                        summary::board(&catalog, &tz, start, end, u, scan),
                        "board {from}..{to} unit {unit:?}"
                    );
                }
            }
        }
        assert!(
            board_received > 500,
            "board compared {board_received} tickets"
        );
        assert!(board_overdue > 0, "no overdue ticket on the board");
        assert!(compared > 20, "only {compared} unit rows compared");
        // The backfill computes the same tables from the events as the events' hook did.
        let incremental = dump(&mut conn);
        assert!(!incremental.is_empty());
        st2.db
            .write_tx(&mut conn, |c| aggregate::rebuild(c, &catalog, &tz))
            .expect("rebuild");
        assert_eq!(dump(&mut conn), incremental);
    })
    .await
    .expect("compare");
    // And the endpoints answer from them.
    let sup = app
        .user_token("stats_sup", Role::Supervisor, Some("housing_bureau"))
        .await;
    let r = app
        .get(
            &format!("/api/v1/stats/units?from={start_day}&to=2026-12-31"),
            Some(&sup),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body.as_array().is_some_and(|a| !a.is_empty()));
    let _ = admin;
}

#[tokio::test]
async fn an_upgraded_database_gets_its_aggregates_from_the_existing_events() {
    let mut app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    let admin = app.admin_token().await;
    let (code, id) = file(&app, "night_noise", &admin).await;
    let js = app
        .user_token("bf_js", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    for a in ["accept", "resolve"] {
        let r = app
            .post(
                &format!("/api/v1/tickets/{id}/{a}"),
                Some(&js),
                &json!({"result": "已处理"}),
            )
            .await;
        assert_eq!(r.status, 200, "{a}: {:?}", r.body);
    }
    let r = app
        .post(
            &format!("/api/v1/track/{code}/confirm"),
            None,
            &json!({"rating": 5}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let sup = app
        .user_token("bf_sup", Role::Supervisor, Some("housing_bureau"))
        .await;
    let before = app.get("/api/v1/stats/units", Some(&sup)).await.body;
    assert_eq!(before[0]["dispatched"], 1, "{before}");
    let board_before = app.get("/api/v1/stats/summary", Some(&sup)).await.body;
    assert_eq!(board_before["received"], 1, "{board_before}");
    // As a database from before the aggregates: tables empty, the backfill marker set.
    app.forget_the_aggregates();
    let sup_token = sup.clone();
    assert_eq!(
        app.get("/api/v1/stats/units", Some(&sup_token)).await.body,
        json!([])
    );
    assert_eq!(
        app.get("/api/v1/stats/summary", Some(&sup_token))
            .await
            .body["received"],
        0
    );
    app.restart().await;
    let sup = app.login("bf_sup", anju_tests::USER_PASSWORD).await;
    let after = app.get("/api/v1/stats/units", Some(&sup)).await.body;
    assert_eq!(after, before);
    let board_after = app.get("/api/v1/stats/summary", Some(&sup)).await.body;
    assert_eq!(board_after, board_before);
    let public = app.get("/api/v1/public/stats", None).await.body;
    assert_eq!(public["districts"][0]["received"], 1, "{public}");
}
