//! Registers (台账): the sample programme written through sync, lists with filters, sorting and
//! paging in the caller's scope, the record page (history, links, conflicts), office edits as
//! mutations devices pull, and the XLSX download.

use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::field::FieldDevice;
use anju_tests::sync::{fields_of, hazard, outcome};
use serde_json::{Value, json};
use uuid::Uuid;

async fn with_programme() -> TestApp {
    TestApp::spawn_with(|c| c.sample_programme = true).await
}

fn year_of(app: &TestApp) -> i16 {
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").expect("tz");
    let ts = jiff::Timestamp::from_millisecond(app.clock().now_ms()).expect("ts");
    tz.to_datetime(ts).year()
}

fn items(a: &anju_tests::Answer) -> Vec<Value> {
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_sample_programme_is_alive_in_the_server_year_and_devices_pull_it() {
    let app = with_programme().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let total = |a: anju_tests::Answer| a.body["total"].as_i64().unwrap_or(-1);
    assert_eq!(
        total(
            app.get("/api/v1/registers/project?per_page=1", Some(&sup))
                .await
        ),
        30
    );
    assert!(
        total(
            app.get("/api/v1/registers/building?per_page=1", Some(&sup))
                .await
        ) >= 150
    );
    assert!(
        total(
            app.get("/api/v1/registers/inspection?per_page=1", Some(&sup))
                .await
        ) > 0
    );
    assert!(
        total(
            app.get("/api/v1/registers/building?grade=D&per_page=1", Some(&sup))
                .await
        ) > 0
    );
    assert!(
        total(
            app.get(
                "/api/v1/registers/hazard?overdue=true&per_page=1",
                Some(&sup)
            )
            .await
        ) > 0
    );
    for status in ["planned", "in_progress", "completed"] {
        let a = app
            .get(
                &format!("/api/v1/registers/project?status={status}&per_page=200"),
                Some(&sup),
            )
            .await;
        assert!(!items(&a).is_empty(), "no {status} project");
    }
    // Completed projects were completed in the server clock's year.
    let year = year_of(&app).to_string();
    let done = items(
        &app.get(
            "/api/v1/registers/project?status=completed&per_page=200",
            Some(&sup),
        )
        .await,
    );
    for p in &done {
        let d = p["fields"]["actual_completion"].as_str().unwrap_or("");
        assert!(d.starts_with(&year), "{d} not in {year}");
    }
    // A device of a street office pulls the sample records of its street only.
    let t = app
        .user_token("insp", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut dev = FieldDevice::login(&app, "insp").await;
    let report = dev.sync().await;
    assert!(report.pulled > 0);
    let pulled: std::collections::BTreeSet<Uuid> = dev
        .run(|d| {
            d.pulled()
                .expect("pulled")
                .into_iter()
                .map(|r| r.id)
                .collect()
        })
        .await;
    let mine = items(
        &app.get("/api/v1/registers/building?per_page=200", Some(&t))
            .await,
    );
    let street = app.area_id("hexi-jianshe").await;
    assert!(!mine.is_empty());
    for b in &mine {
        assert_eq!(b["area"]["street"]["id"].as_str(), Some(street.as_str()));
        let id = Uuid::try_parse(b["id"].as_str().unwrap_or("")).expect("uuid");
        assert!(pulled.contains(&id), "the device did not pull {id}");
    }
}

#[tokio::test]
async fn filters_sorting_and_paging_happen_on_the_server() {
    let app = with_programme().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    for b in items(
        &app.get(
            "/api/v1/registers/building?grade=C&per_page=200",
            Some(&sup),
        )
        .await,
    ) {
        assert_eq!(b["fields"]["safety_grade"], "C");
    }
    let hedong = app.area_id("hedong").await;
    for p in items(
        &app.get(
            "/api/v1/registers/project?area=hedong&programme=shantytown&per_page=200",
            Some(&sup),
        )
        .await,
    ) {
        assert_eq!(p["area"]["district"]["id"].as_str(), Some(hedong.as_str()));
        assert_eq!(p["fields"]["programme"], "shantytown");
    }
    let unit = app.unit_id("hexi_heping_office").await;
    for h in items(
        &app.get(
            "/api/v1/registers/hazard?unit=hexi_heping_office&severity=critical&per_page=200",
            Some(&sup),
        )
        .await,
    ) {
        assert_eq!(h["fields"]["unit_id"].as_str(), Some(unit.as_str()));
        assert_eq!(h["fields"]["severity"], "critical");
    }
    let sorted = items(
        &app.get(
            "/api/v1/registers/building?sort=floors&order=asc&per_page=200",
            Some(&sup),
        )
        .await,
    );
    let floors: Vec<i64> = sorted
        .iter()
        .map(|b| b["fields"]["floors"].as_i64().unwrap_or(0))
        .collect();
    assert!(floors.windows(2).all(|w| w[0] <= w[1]));
    let p1 = items(
        &app.get(
            "/api/v1/registers/building?sort=address&per_page=10&page=1",
            Some(&sup),
        )
        .await,
    );
    let p2 = items(
        &app.get(
            "/api/v1/registers/building?sort=address&per_page=10&page=2",
            Some(&sup),
        )
        .await,
    );
    assert_eq!(p1.len(), 10);
    assert!(p1.iter().all(|a| p2.iter().all(|b| a["id"] != b["id"])));
    let year = year_of(&app);
    let from = format!("{year}-01-01");
    for i in items(
        &app.get(
            &format!("/api/v1/registers/inspection?from={from}&to={year}-12-31&per_page=200"),
            Some(&sup),
        )
        .await,
    ) {
        assert!(
            i["fields"]["inspected_at"]
                .as_str()
                .unwrap_or("")
                .starts_with(&year.to_string())
        );
    }
    let found = items(
        &app.get(
            "/api/v1/registers/project?q=%E6%A3%9A%E6%88%B7%E5%8C%BA&per_page=200",
            Some(&sup),
        )
        .await,
    );
    assert!(!found.is_empty());
    assert!(found.iter().all(|p| {
        p["fields"]["name"]
            .as_str()
            .unwrap_or("")
            .contains("棚户区")
    }));
    for (path, code) in [
        ("/api/v1/registers/building?grade=E", "invalid_grade"),
        (
            "/api/v1/registers/building?per_page=500",
            "invalid_per_page",
        ),
        ("/api/v1/registers/building?sort=nope", "invalid_sort"),
        ("/api/v1/registers/building?area=nowhere", "unknown_area"),
        ("/api/v1/registers/hazard?from=2026-13-01", "invalid_date"),
        ("/api/v1/registers/tickets", "unknown_register"),
    ] {
        let a = app.get(path, Some(&sup)).await;
        assert!(a.status == 400 || a.status == 404, "{path}: {}", a.status);
        assert_eq!(a.code(), code, "{path}");
    }
    assert_eq!(
        app.get("/api/v1/registers/building", None).await.status,
        401
    );
}

#[tokio::test]
async fn an_office_edit_is_a_mutation_devices_pull_and_the_history_shows_who() {
    let app = TestApp::spawn().await;
    app.create_user("insp", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut dev = FieldDevice::login(&app, "insp").await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    let fields = fields_of(&hazard(&unit, &area, "楼道堆物"));
    let id = dev
        .run(move |d| d.create("hazard", fields).expect("create"))
        .await;
    dev.push().await;
    let r = dev.link().results();
    assert_eq!(outcome(&r[0]), "applied");
    let v1 = r[0]["version"].as_i64().expect("version");

    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let a = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/registers/hazard/{id}"),
            Some(&sup),
            Some(&json!({"base_version": v1, "fields": {"description": "楼道堆物，已通知清理"}})),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["result"]["outcome"], "applied");
    dev.sync().await;
    assert_eq!(
        dev.fields(id).await.expect("shown")["description"],
        json!("楼道堆物，已通知清理")
    );

    // Both sides change the severity from the same version: a conflict both see.
    let v2 = dev.version(id).await.expect("pulled");
    let edit = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/registers/hazard/{id}"),
            Some(&sup),
            Some(&json!({"base_version": v2, "fields": {"severity": "high"}})),
        )
        .await;
    assert_eq!(edit.body["result"]["outcome"], "applied", "{:?}", edit.body);
    dev.run(move |d| {
        d.edit(id, fields_of(&json!({"severity": "low"})))
            .expect("edit")
    })
    .await;
    dev.push().await;
    let pushes = dev.link().pushes();
    let (sent, answer) = pushes.last().expect("the edit was pushed");
    assert_eq!(
        sent.mutations[0].base_version,
        Some(v2),
        "the edit is based on v2"
    );
    let r = serde_json::to_value(&answer.results).expect("results");
    assert_eq!(outcome(&r[0]), "conflict");

    let page = app
        .get(&format!("/api/v1/registers/hazard/{id}"), Some(&sup))
        .await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let fields = page.body["fields"].as_array().cloned().unwrap_or_default();
    assert!(
        fields
            .iter()
            .any(|f| f["name"] == "severity" && f["label_zh"] == "严重程度")
    );
    let history = page.body["history"].as_array().cloned().unwrap_or_default();
    assert!(history.len() >= 3, "{history:?}");
    assert_eq!(history[0]["who"]["source"], "device");
    assert_eq!(history[0]["who"]["device"], "insp 的设备");
    assert_eq!(history[1]["who"]["source"], "office");
    assert_eq!(history[1]["who"]["user"], "sup");
    let change = &history[1]["changes"][0];
    assert_eq!(change["field"], "description");
    assert_eq!(change["old"], "楼道堆物");
    assert_eq!(change["new"], "楼道堆物，已通知清理");
    let conflicts = page.body["conflicts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["field"], "severity");
    assert_eq!(conflicts[0]["device_who"]["source"], "device");
    assert_eq!(conflicts[0]["server_who"]["source"], "office");

    // The supervisor keeps the contested value that lost (which one won depends on the two
    // clocks' stamps), so the decision writes a new version.
    let current = fields
        .iter()
        .find(|f| f["name"] == "severity")
        .map(|f| f["value"].clone())
        .expect("severity shown");
    assert!(current == "low" || current == "high", "{current:?}");
    let kept = if current == "low" { "high" } else { "low" };
    let cid = conflicts[0]["id"].as_str().expect("id").to_owned();
    let a = app
        .post(
            &format!("/api/v1/sync/conflicts/{cid}/resolve"),
            Some(&sup),
            &json!({"value": kept}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let page = app
        .get(&format!("/api/v1/registers/hazard/{id}"), Some(&sup))
        .await;
    assert!(
        page.body["conflicts"]
            .as_array()
            .is_some_and(|c| c.is_empty())
    );
    let last = page.body["history"]
        .as_array()
        .and_then(|h| h.last().cloned())
        .unwrap_or_default();
    assert_eq!(last["who"]["source"], "review");
    assert_eq!(last["changes"][0]["new"], kept);

    // An office create is a record devices pull too; a bad field is refused with its code.
    let a = app
        .post(
            "/api/v1/registers/hazard",
            Some(&sup),
            &json!({"fields": hazard(&unit, &area, "屋面渗漏")}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let new_id = Uuid::try_parse(a.body["id"].as_str().unwrap_or("")).expect("id");
    dev.sync().await;
    assert!(dev.version(new_id).await.is_some());
    let bad = app
        .post(
            "/api/v1/registers/hazard",
            Some(&sup),
            &json!({"fields": {"description": "x"}}),
        )
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
}

#[tokio::test]
async fn a_unit_user_sees_and_edits_only_its_scope() {
    let app = TestApp::spawn().await;
    let t = app
        .user_token("insp", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut dev = FieldDevice::login(&app, "insp").await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    let fields = fields_of(&hazard(&unit, &area, "电线老化"));
    let id = dev
        .run(move |d| d.create("hazard", fields).expect("create"))
        .await;
    dev.push().await;

    let other = app
        .user_token("east", Role::UnitStaff, Some("hedong_xinhua_office"))
        .await;
    assert!(items(&app.get("/api/v1/registers/hazard", Some(&other)).await).is_empty());
    assert_eq!(
        app.get(&format!("/api/v1/registers/hazard/{id}"), Some(&other))
            .await
            .status,
        404
    );
    let a = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/registers/hazard/{id}"),
            Some(&other),
            Some(&json!({"base_version": 1, "fields": {"description": "改掉"}})),
        )
        .await;
    assert_eq!(a.status, 404);
    // Creating a record outside one's scope is refused by the push's own scope check.
    let a = app
        .post(
            "/api/v1/registers/hazard",
            Some(&other),
            &json!({"fields": hazard(&unit, &area, "x")}),
        )
        .await;
    assert_eq!(a.status, 403, "{:?}", a.body);
    assert_eq!(a.code(), "out_of_scope");
    assert_eq!(
        items(&app.get("/api/v1/registers/hazard", Some(&t)).await).len(),
        1
    );
}

#[tokio::test]
async fn the_register_downloads_as_a_workbook_with_chinese_headers() {
    use calamine::{Reader, Xlsx};
    let app = with_programme().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let total = app
        .get("/api/v1/registers/building?grade=C&per_page=1", Some(&sup))
        .await
        .body["total"]
        .as_u64()
        .expect("total");
    let res = app
        .client
        .get(app.url("/api/v1/registers/building.xlsx?grade=C"))
        .bearer_auth(&sup)
        .send()
        .await
        .expect("download");
    assert_eq!(res.status().as_u16(), 200);
    let bytes = res.bytes().await.expect("bytes").to_vec();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("a workbook");
    let sheet = wb.sheet_names().first().cloned().expect("a sheet");
    let range = wb.worksheet_range(&sheet).expect("range");
    let header: Vec<String> = range
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(|c| c.to_string())
        .collect();
    for h in ["地址", "安全等级", "区县", "街道"] {
        assert!(header.iter().any(|x| x == h), "{h} missing from {header:?}");
    }
    assert_eq!(range.height() as u64, total + 1);
    let grade_col = header.iter().position(|h| h == "安全等级").expect("col");
    assert!(range.rows().skip(1).all(|r| r[grade_col] == "C"));

    let csv = app
        .client
        .get(app.url("/api/v1/registers/building.csv?grade=C"))
        .bearer_auth(&sup)
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("text");
    assert_eq!(csv.lines().count() as u64, total + 1);
}

/// `GET /api/v1/registers`, the catalogue the registers page is built from: the four registers
/// with their labels, record schemas (fields with Chinese labels) and date field, and the areas
/// and units to filter by (areas with their kind and parent, by code); nobody without a login.
#[tokio::test]
async fn the_catalogue_names_the_registers_their_fields_and_the_places_to_filter_by() {
    let app = TestApp::spawn().await;
    let a = app.get("/api/v1/registers", None).await;
    assert_eq!(a.status, 401, "{:?}", a.body);
    let t = app
        .user_token("insp", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let a = app.get("/api/v1/registers", Some(&t)).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let registers = a.body["registers"].as_array().cloned().expect("registers");
    let names: Vec<&str> = registers
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["project", "building", "inspection", "hazard"]);
    for r in &registers {
        assert!(r["label_zh"].as_str().is_some_and(|s| !s.is_empty()), "{r}");
        assert!(r["label_en"].as_str().is_some_and(|s| !s.is_empty()), "{r}");
        assert!(r["date_field"].is_string(), "{r}");
        let fields = r["schema"]["fields"].as_array().expect("schema fields");
        assert!(!fields.is_empty(), "{r}");
        for f in fields {
            assert!(f["name"].is_string() && f["label_zh"].is_string(), "{f}");
        }
    }
    let hazard = &registers[3];
    assert!(hazard["schema"]["fields"].as_array().is_some_and(|f| {
        f.iter()
            .any(|f| f["name"] == "severity" && f["label_zh"] == "严重程度")
    }));

    let areas = a.body["areas"].as_array().cloned().expect("areas");
    let codes: Vec<&str> = areas.iter().filter_map(|x| x["code"].as_str()).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(codes, sorted, "areas by code");
    let community = areas
        .iter()
        .find(|x| x["code"] == "hexi-jianshe-1")
        .expect("a community");
    assert_eq!(community["kind"], "community");
    assert_eq!(community["id"], json!(app.area_id("hexi-jianshe-1").await));
    assert_eq!(
        community["parent_id"],
        json!(app.area_id("hexi-jianshe").await)
    );
    assert!(community["name_zh"].is_string() && community["name_en"].is_string());
    let units = a.body["units"].as_array().cloned().expect("units");
    let office = units
        .iter()
        .find(|u| u["code"] == "hexi_jianshe_office")
        .expect("a unit");
    assert_eq!(
        office["id"],
        json!(app.unit_id("hexi_jianshe_office").await)
    );
    assert!(office["name_zh"].is_string());
}
