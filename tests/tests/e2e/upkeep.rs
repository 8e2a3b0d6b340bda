//! After-renovation upkeep (后续管理): a completed project's community is handed over to a
//! property manager; the hand-over's routing rules send damaged-facility and
//! property-management complaints there, and the routing explanation names the hand-over. A
//! hand-over to a unit that is not a property manager is refused with nothing created.

use anju_server::auth::Role;
use anju_tests::TestApp;
use serde_json::{Value, json};

async fn project(app: &TestApp, token: &str, status: &str) -> String {
    project_in(app, token, status, "hexi-jianshe-1").await
}

async fn project_in(app: &TestApp, token: &str, status: &str, community: &str) -> String {
    let area = app.area_id(community).await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let a = app
        .post(
            "/api/v1/registers/project",
            Some(token),
            &json!({"fields": {"name": "移交测试项目", "programme": "old_community", "status": status,
                "planned_units": 100, "area_id": area, "unit_id": unit}}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_hand_over_routes_facility_complaints_to_the_property_manager() {
    let app = TestApp::spawn().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let area = app.area_id("hexi-jianshe-1").await;
    let pid = project(&app, &sup, "completed").await;
    let rules = || app.get("/api/v1/admin/routing/rules", Some(&sup));
    let before = rules().await.body.as_array().map(Vec::len);
    // Not a property manager: refused, nothing created.
    let a = app
        .post("/api/v1/upkeep/handovers", Some(&sup), &json!({"project_id": pid, "unit_id": "hexi_jianshe_office", "took_over_on": "2030-05-01"}))
        .await;
    assert_eq!(a.status, 422);
    assert_eq!(a.code(), "not_a_property_manager");
    let open = project(&app, &sup, "in_progress").await;
    let a = app
        .post(
            "/api/v1/upkeep/handovers",
            Some(&sup),
            &json!({"project_id": open, "unit_id": "pm_hengan", "took_over_on": "2030-05-01"}),
        )
        .await;
    assert_eq!(a.code(), "project_not_completed");
    assert_eq!(rules().await.body.as_array().map(Vec::len), before);
    assert!(
        app.get("/api/v1/upkeep/handovers", Some(&sup)).await.body["items"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );

    let a = app
        .post(
            "/api/v1/upkeep/handovers",
            Some(&sup),
            &json!({"project_id": pid, "unit_id": "pm_hengan", "took_over_on": "2030-05-01"}),
        )
        .await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    assert_eq!(a.body["rules"].as_array().map(Vec::len), Some(2));
    assert_eq!(a.body["created_by_name"], "sup");
    let pm = app.unit_id("pm_hengan").await;
    for cat in ["damaged_facility", "property_management"] {
        let d = app
            .get(
                &format!("/api/v1/routing/dry-run?category={cat}&area_id={area}"),
                Some(&sup),
            )
            .await
            .body;
        assert_eq!(d["unit"]["id"], pm, "{d}");
        assert_eq!(d["reason"], "upkeep_handover");
        assert_eq!(d["handover"]["took_over_on"], "2030-05-01");
    }
    // Other categories are not affected.
    let d = app
        .get(
            &format!("/api/v1/routing/dry-run?category=dust&area_id={area}"),
            Some(&sup),
        )
        .await
        .body;
    assert_ne!(d["unit"]["id"], pm);
    let again = app
        .post(
            "/api/v1/upkeep/handovers",
            Some(&sup),
            &json!({"project_id": pid, "unit_id": "pm_hengan", "took_over_on": "2030-05-01"}),
        )
        .await;
    assert_eq!(again.code(), "already_handed_over");
}

fn city_today(app: &TestApp) -> String {
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").expect("tz");
    let ts = jiff::Timestamp::from_millisecond(app.clock().now_ms()).expect("ts");
    tz.to_datetime(ts).date().to_string()
}

/// Files a property-management complaint in `hexi-jianshe-2` (the street office's until a
/// hand-over); (tracking code, ticket id).
async fn complain(app: &TestApp, admin: &str) -> (String, String) {
    let mut body = anju_tests::complaints::complaint(app, "property_management").await;
    body["area_id"] = json!(app.area_id("hexi-jianshe-2").await);
    let a = anju_tests::complaints::submit(app, &body, None).await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    let code = a.body["tracking_code"].as_str().expect("code").to_owned();
    let no = a.body["ticket_no"].as_str().expect("no");
    (
        code,
        anju_tests::complaints::ticket_id(app, admin, no).await,
    )
}

#[tokio::test]
async fn a_community_is_compared_before_and_after_its_hand_over_and_managers_are_ranked() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let js = app
        .user_token("js1", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let area = app.area_id("hexi-jianshe-2").await;
    let pid = project_in(&app, &sup, "completed", "hexi-jianshe-2").await;
    let act = |id: &str, a: &str| format!("/api/v1/tickets/{id}/{a}");
    let track = |c: &str, a: &str| format!("/api/v1/track/{c}/{a}");
    // Before: the street office. One disputed (2 stars) then confirmed (2 stars), one confirmed
    // with 3 stars: resolution 2 of 3, satisfaction 0 of 3.
    let (ca, ta) = complain(&app, &admin).await;
    let (cb, tb) = complain(&app, &admin).await;
    for t in [&ta, &tb] {
        assert_eq!(
            app.post(&act(t, "accept"), Some(&js), &json!({}))
                .await
                .status,
            200
        );
        let r = app
            .post(&act(t, "resolve"), Some(&js), &json!({"result": "已处理"}))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let d = app
        .post(
            &track(&ca, "dispute"),
            None,
            &json!({"rating": 2, "comment": "没修好"}),
        )
        .await;
    assert_eq!(d.status, 200, "{:?}", d.body);
    app.post(&act(&ta, "accept"), Some(&js), &json!({})).await;
    app.post(
        &act(&ta, "resolve"),
        Some(&js),
        &json!({"result": "再次处理"}),
    )
    .await;
    app.post(&track(&ca, "confirm"), None, &json!({"rating": 2}))
        .await;
    app.post(&track(&cb, "confirm"), None, &json!({"rating": 3}))
        .await;

    // Forty days on, the community is handed over to 恒安物业.
    app.clock().advance_ms(40 * 86_400_000);
    let (admin, sup) = (
        app.admin_token().await,
        app.login("sup", anju_tests::USER_PASSWORD).await,
    );
    let js = app.login("js1", anju_tests::USER_PASSWORD).await;
    let pm = app
        .user_token("hengan1", Role::UnitStaff, Some("pm_hengan"))
        .await;
    let jiahe = app
        .user_token("jiahe1", Role::UnitStaff, Some("pm_jiahe"))
        .await;
    let day = city_today(&app);
    let h = app
        .post(
            "/api/v1/upkeep/handovers",
            Some(&sup),
            &json!({"project_id": pid, "unit_id": "pm_hengan", "took_over_on": day}),
        )
        .await;
    assert_eq!(h.status, 201, "{:?}", h.body);
    // After: the property manager resolves two (5 and 4 stars) and leaves one unanswered.
    let (cc, tc) = complain(&app, &admin).await;
    let (cd, td) = complain(&app, &admin).await;
    let (_ce, _te) = complain(&app, &admin).await;
    for (c, t, stars) in [(&cc, &tc, 5), (&cd, &td, 4)] {
        assert_eq!(
            app.post(&act(t, "accept"), Some(&pm), &json!({}))
                .await
                .status,
            200
        );
        app.post(&act(t, "resolve"), Some(&pm), &json!({"result": "已清理"}))
            .await;
        let r = app
            .post(&track(c, "confirm"), None, &json!({"rating": stars}))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    // Twenty days later the third is long overdue.
    app.clock().advance_ms(20 * 86_400_000);
    let sup = app.login("sup", anju_tests::USER_PASSWORD).await;
    let js = {
        let _ = js;
        app.login("js1", anju_tests::USER_PASSWORD).await
    };
    let jiahe = {
        let _ = jiahe;
        app.login("jiahe1", anju_tests::USER_PASSWORD).await
    };

    let c = app
        .get(
            &format!("/api/v1/upkeep/communities/{area}?months=2"),
            Some(&sup),
        )
        .await;
    assert_eq!(c.status, 200, "{:?}", c.body);
    let c = c.body;
    assert_eq!(c["handover"]["took_over_on"], day.as_str());
    assert_eq!(c["handover"]["unit_code"], "pm_hengan");
    assert_eq!(c["handover"]["project"]["name"], "移交测试项目");
    let before = &c["before"]["figures"];
    assert_eq!(before["complaints"], 2, "{before}");
    assert_eq!(before["dispatched"], 3); // two filings and one reopening
    assert_eq!(before["resolution_rate"], 0.6667);
    assert_eq!(before["satisfaction_rate"], 0.0);
    let after = &c["after"]["figures"];
    assert_eq!(after["complaints"], 3, "{after}");
    assert_eq!(after["response_rate"], 0.6667);
    assert_eq!(after["resolution_rate"], 1.0);
    assert_eq!(after["satisfaction_rate"], 1.0);
    assert_eq!(after["overdue"], 1);
    assert_eq!(c["change"]["satisfaction_rate"], 1.0);
    assert_eq!(c["change"]["resolution_rate"], 0.3333);
    assert_eq!(c["overdue_open"], 1);
    assert_eq!(c["manager_figures"]["dispatched"], 3);
    let monthly = c["monthly"].as_array().expect("months");
    let sum = |phase: &str| -> u64 {
        monthly
            .iter()
            .filter(|m| m["phase"] == phase)
            .map(|m| m["complaints"].as_u64().unwrap_or(0))
            .sum()
    };
    assert!(monthly.len() >= 3, "{monthly:?}");
    assert_eq!(
        sum("before") + sum("handover") + sum("after"),
        5,
        "{monthly:?}"
    );
    assert!(monthly.iter().any(|m| m["phase"] == "before"));

    // The managers: 恒安物业 with its community, unranked (fewer than 10 dispatches).
    let m = app.get("/api/v1/upkeep/managers", Some(&sup)).await;
    assert_eq!(m.status, 200, "{:?}", m.body);
    let items = m.body["items"].as_array().expect("items").clone();
    assert!(items.len() >= 3, "{items:?}");
    let hengan = items
        .iter()
        .find(|i| i["code"] == "pm_hengan")
        .expect("hengan");
    assert_eq!(hengan["communities"].as_array().map(Vec::len), Some(1));
    assert_eq!(hengan["communities"][0]["area_id"], area.as_str());
    assert_eq!(hengan["figures"]["dispatched"], 3);
    assert_eq!(hengan["figures"]["small_sample"], true);
    assert_eq!(hengan["rank"], Value::Null);
    assert_eq!(hengan["overdue_open"], 1);
    let one = app
        .get("/api/v1/upkeep/managers/pm_hengan", Some(&sup))
        .await;
    assert_eq!(one.status, 200, "{:?}", one.body);
    assert_eq!(
        one.body["manager"]["communities"][0]["project"]["name"],
        "移交测试项目"
    );
    assert_eq!(
        app.get("/api/v1/upkeep/managers/hexi_jianshe_office", Some(&sup))
            .await
            .code(),
        "unit_not_found"
    );

    // Scope: the street office serving the community sees it; another manager does not, and
    // sees only itself in the list.
    let s = app
        .get(&format!("/api/v1/upkeep/communities/{area}"), Some(&js))
        .await;
    assert_eq!(s.status, 200, "{:?}", s.body);
    let o = app
        .get(&format!("/api/v1/upkeep/communities/{area}"), Some(&jiahe))
        .await;
    assert_eq!((o.status, o.code()), (404, "community_not_found"));
    let l = app.get("/api/v1/upkeep/managers", Some(&jiahe)).await.body;
    let codes: Vec<&str> = l["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["code"].as_str())
        .collect();
    assert_eq!(codes, ["pm_jiahe"]);
    // Bad input and no login.
    let bad = app
        .get(
            &format!("/api/v1/upkeep/communities/{area}?months=0"),
            Some(&sup),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_query"));
    assert_eq!(app.get("/api/v1/upkeep/managers", None).await.status, 401);
}
