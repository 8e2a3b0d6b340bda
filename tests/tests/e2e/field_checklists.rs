//! Inspection checklists served as data (检查表): seeded defaults per programme that every staff
//! role reads (the field app downloads them), an administrator's change recorded with who and
//! when, refused for other roles and for bad bodies with nothing changed; and the field app's
//! directory of the caller's areas and units for its pickers.

use anju_server::auth::Role;
use anju_tests::TestApp;
use serde_json::{Value, json};

async fn put(app: &TestApp, token: &str, programme: &str, body: &Value) -> anju_tests::Answer {
    app.call(
        reqwest::Method::PUT,
        &format!("/api/v1/checklists/{programme}"),
        Some(token),
        Some(body),
    )
    .await
}

fn checklist<'a>(list: &'a Value, programme: &str) -> &'a Value {
    list["checklists"]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["programme"] == programme))
        .unwrap_or_else(|| panic!("no checklist for {programme}: {list}"))
}

#[tokio::test]
async fn every_programme_has_a_seeded_checklist_that_an_inspector_reads() {
    let app = TestApp::spawn().await;
    let inspector = app
        .user_token("insp", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let a = app.get("/api/v1/checklists", Some(&inspector)).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let d = checklist(&a.body, "dangerous_housing");
    assert_eq!(d["name_zh"], "危房排查检查表");
    assert_eq!(d["version"], 1);
    assert_eq!(d["updated_by"], "system");
    let labels: Vec<&str> = d["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label_zh"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"承重墙体裂缝、酥碱"), "{labels:?}");
    for p in ["old_community", "shantytown"] {
        assert!(
            !checklist(&a.body, p)["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    }
    // without a login there is nothing
    assert_eq!(app.get("/api/v1/checklists", None).await.status, 401);
}

#[tokio::test]
async fn an_administrator_changes_a_checklist_and_who_and_when_are_recorded() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.clock().advance_ms(60_000);
    let body = json!({"name_zh": "危房排查检查表（2027 版）", "name_en": "Dangerous buildings 2027",
        "items": [{"id": "walls", "label_zh": "墙体裂缝", "label_en": "Wall cracks"},
                  {"id": "roof", "label_zh": "屋面渗漏"}]});
    let before = app.clock().now_ms();
    let a = put(&app, &admin, "dangerous_housing", &body).await;
    let after = app.clock().now_ms();
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["version"], 2);
    let at = a.body["updated_at"].as_i64().unwrap();
    assert!((before..=after).contains(&at), "{before} ≤ {at} ≤ {after}");
    assert_ne!(a.body["updated_by"], "system");
    let staff = app
        .user_token("staff", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let list = app.get("/api/v1/checklists", Some(&staff)).await.body;
    let d = checklist(&list, "dangerous_housing");
    assert_eq!(d["items"].as_array().unwrap().len(), 2);
    assert_eq!(d["items"][1]["label_en"], "");
    assert_eq!(d["name_en"], "Dangerous buildings 2027");
    assert_eq!(d["updated_by"], a.body["updated_by"]);
    // the other programmes are untouched
    assert_eq!(checklist(&list, "old_community")["version"], 1);

    // the change log keeps the old and the new items
    let db = app.state().db.clone();
    let rows: Vec<(i64, String, String)> = db
        .run(|conn| {
            use anju_server::checklists::schema::checklist_changes as c;
            use diesel::prelude::*;
            Ok(c::table
                .select((c::version, c::old_items, c::new_items))
                .load(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].1.contains("承重墙体"), "{}", rows[0].1);
    assert!(rows[0].2.contains("墙体裂缝"));
}

#[tokio::test]
async fn other_roles_are_refused_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let body = json!({"name_zh": "改", "items": [{"id": "a", "label_zh": "一项"}]});
    for (name, role, unit) in [
        ("sup", Role::Supervisor, None),
        ("ua", Role::UnitAdmin, Some("hexi_jianshe_office")),
        ("insp", Role::Inspector, Some("hexi_jianshe_office")),
    ] {
        let token = app.user_token(name, role, unit).await;
        let a = put(&app, &token, "dangerous_housing", &body).await;
        assert_eq!(a.status, 403, "{name}: {:?}", a.body);
    }
    let admin = app.admin_token().await;
    let list = app.get("/api/v1/checklists", Some(&admin)).await.body;
    assert_eq!(checklist(&list, "dangerous_housing")["version"], 1);
}

#[tokio::test]
async fn bad_bodies_are_refused_with_each_problem_named_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let a = put(
        &app,
        &admin,
        "dangerous_housing",
        &json!({"name_zh": "", "items": [{"id": "Bad Id", "label_zh": "墙"}, {"id": "b", "label_zh": "长".repeat(101)}]}),
    )
    .await;
    assert_eq!(a.status, 422, "{:?}", a.body);
    assert_eq!(a.body["code"], "invalid_checklist");
    let at: Vec<&str> = a.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["at"].as_str().unwrap())
        .collect();
    assert_eq!(at, ["name_zh", "items[0].id", "items[1].label_zh"]);
    assert!(a.body["errors"][0]["message_zh"].as_str().is_some());

    let empty = put(
        &app,
        &admin,
        "dangerous_housing",
        &json!({"name_zh": "空", "items": []}),
    )
    .await;
    assert_eq!(empty.status, 422);
    let unknown = put(
        &app,
        &admin,
        "palaces",
        &json!({"name_zh": "宫殿", "items": [{"id": "a", "label_zh": "一"}]}),
    )
    .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["code"], "unknown_programme");
    let extra = put(
        &app,
        &admin,
        "dangerous_housing",
        &json!({"name_zh": "改", "items": [{"id": "a", "label_zh": "一"}], "owner": "me"}),
    )
    .await;
    assert_eq!(extra.status, 400, "{:?}", extra.body);
    let list = app.get("/api/v1/checklists", Some(&admin)).await.body;
    assert_eq!(checklist(&list, "dangerous_housing")["version"], 1);
}

#[tokio::test]
async fn the_directory_lists_the_callers_areas_with_parent_names_and_units() {
    let app = TestApp::spawn().await;
    let staff = app
        .user_token("staff", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let d = app.get("/api/v1/directory", Some(&staff)).await;
    assert_eq!(d.status, 200, "{:?}", d.body);
    let codes: Vec<&str> = d.body["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"hexi-jianshe-1"), "{codes:?}");
    assert!(
        !codes.iter().any(|c| c.starts_with("hedong")),
        "another district leaked: {codes:?}"
    );
    let c1 = d.body["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "hexi-jianshe-1")
        .unwrap();
    assert_eq!(c1["path_zh"].as_array().unwrap().len(), 4, "{c1}");
    let units: Vec<&str> = d.body["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["hexi_jianshe_office"]);

    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let all = app.get("/api/v1/directory", Some(&sup)).await.body;
    assert!(all["units"].as_array().unwrap().len() > 10);
    assert_eq!(app.get("/api/v1/directory", None).await.status, 401);
}
