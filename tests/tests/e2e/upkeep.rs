//! After-renovation upkeep (后续管理): a completed project's community is handed over to a
//! property manager; the hand-over's routing rules send damaged-facility and
//! property-management complaints there, and the routing explanation names the hand-over. A
//! hand-over to a unit that is not a property manager is refused with nothing created.

use anju_server::auth::Role;
use anju_tests::TestApp;
use serde_json::json;

async fn project(app: &TestApp, token: &str, status: &str) -> String {
    let area = app.area_id("hexi-jianshe-1").await;
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
