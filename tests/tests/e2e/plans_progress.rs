//! Annual plans (年度计划): set by supervisors, every change logged, imported from a sheet with
//! every bad row named; progress against plan computed from project records by the year of
//! their actual start and completion; the public progress and the XLSX downloads.

use anju_server::auth::Role;
use anju_tests::TestApp;
use serde_json::{Value, json};

fn year_of(app: &TestApp) -> i16 {
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").expect("tz");
    let ts = jiff::Timestamp::from_millisecond(app.clock().now_ms()).expect("ts");
    tz.to_datetime(ts).year()
}

async fn put_plans(app: &TestApp, token: &str, year: i16, entries: Value) -> anju_tests::Answer {
    app.call(
        reqwest::Method::PUT,
        "/api/v1/plans",
        Some(token),
        Some(&json!({"year": year, "entries": entries})),
    )
    .await
}

fn target(plans: &Value, district: &str, measure: &str) -> Value {
    plans["districts"]
        .as_array()
        .and_then(|d| d.iter().find(|x| x["code"] == district))
        .map(|d| d["targets"][measure].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_supervisor_sets_plans_and_every_change_is_logged() {
    let app = TestApp::spawn().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let year = year_of(&app);
    let a = put_plans(
        &app,
        &sup,
        year,
        json!([{"district": "hexi", "measure": "shantytown_started", "target": 1000}]),
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["changed"], 1);
    let a = put_plans(
        &app,
        &sup,
        year,
        json!([{"district": "河西区", "measure": "shantytown_started", "target": 1200}]),
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let plans = app
        .get(&format!("/api/v1/plans?year={year}"), Some(&sup))
        .await
        .body;
    assert_eq!(target(&plans, "hexi", "shantytown_started"), 1200);
    assert_eq!(target(&plans, "hedong", "shantytown_started"), Value::Null);

    let log = app
        .get(&format!("/api/v1/plans/changes?year={year}"), Some(&sup))
        .await
        .body;
    let items = log["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["old_target"], 1000);
    assert_eq!(items[0]["new_target"], 1200);
    assert_eq!(items[0]["changed_by_name"], "sup");
    assert_eq!(items[1]["old_target"], Value::Null);

    // Refusals change nothing: a negative target, an unknown district, a unit role.
    let a = put_plans(
        &app,
        &sup,
        year,
        json!([
            {"district": "hexi", "measure": "shantytown_started", "target": 5},
            {"district": "hexi", "measure": "dangerous_households", "target": -3}
        ]),
    )
    .await;
    assert_eq!(a.status, 422);
    assert_eq!(a.code(), "invalid_plan");
    assert_eq!(a.body["errors"][0]["entry"], 1);
    let a = put_plans(
        &app,
        &sup,
        year,
        json!([{"district": "atlantis", "measure": "shantytown_started", "target": 5}]),
    )
    .await;
    assert_eq!(a.code(), "invalid_plan");
    let staff = app
        .user_token("staff", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let a = put_plans(
        &app,
        &staff,
        year,
        json!([{"district": "hexi", "measure": "shantytown_started", "target": 5}]),
    )
    .await;
    assert_eq!(a.status, 403);
    let a = put_plans(&app, &sup, 1900, json!([])).await;
    assert_eq!(a.code(), "invalid_year");
    let plans = app
        .get(&format!("/api/v1/plans?year={year}"), Some(&sup))
        .await
        .body;
    assert_eq!(target(&plans, "hexi", "shantytown_started"), 1200);
    assert_eq!(target(&plans, "hexi", "dangerous_households"), Value::Null);
}

async fn create_project(app: &TestApp, token: &str, community: &str, unit: &str, fields: Value) {
    let area = app.area_id(community).await;
    let unit = app.unit_id(unit).await;
    let mut f = json!({"name": "测试项目", "area_id": area, "unit_id": unit});
    for (k, v) in fields.as_object().cloned().unwrap_or_default() {
        f[k] = v;
    }
    let a = app
        .post(
            "/api/v1/registers/project",
            Some(token),
            &json!({"fields": f}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["result"]["outcome"], "applied", "{:?}", a.body);
}

#[tokio::test]
async fn progress_counts_projects_in_the_year_of_their_actual_start_and_completion() {
    let app = TestApp::spawn().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let year = year_of(&app);
    put_plans(
        &app,
        &sup,
        year,
        json!([
            {"district": "hexi", "measure": "shantytown_started", "target": 1000},
            {"district": "hedong", "measure": "shantytown_started", "target": 1000},
            {"district": "hexi", "measure": "dangerous_households", "target": 40},
            {"district": "hexi", "measure": "old_community_started", "target": 4}
        ]),
    )
    .await;
    let s = |y: i16, md: &str| format!("{y}-{md}");
    // Counts: started this year in March (250 flats) and completed this year (100 households).
    create_project(&app, &sup, "hexi-jianshe-1", "hexi_jianshe_office", json!({"programme": "shantytown", "status": "in_progress", "planned_units": 250, "actual_start": s(year, "03-15")})).await;
    create_project(&app, &sup, "hedong-xinhua-1", "hedong_xinhua_office", json!({"programme": "shantytown", "status": "in_progress", "planned_units": 500, "actual_start": s(year, "02-01")})).await;
    create_project(&app, &sup, "hexi-heping-1", "hexi_heping_office", json!({"programme": "dangerous_housing", "status": "completed", "planned_units": 12, "completed_units": 10, "actual_start": s(year - 1, "05-01"), "actual_completion": s(year, "01-20")})).await;
    create_project(&app, &sup, "hexi-heping-2", "hexi_heping_office", json!({"programme": "old_community", "status": "in_progress", "planned_units": 800, "actual_start": s(year, "04-02")})).await;
    // Does not count this year: started last year, or not started.
    create_project(&app, &sup, "hexi-jianshe-2", "hexi_jianshe_office", json!({"programme": "shantytown", "status": "in_progress", "planned_units": 999, "actual_start": s(year - 1, "12-31")})).await;
    create_project(
        &app,
        &sup,
        "hexi-jianshe-3",
        "hexi_jianshe_office",
        json!({"programme": "shantytown", "status": "planned", "planned_units": 777}),
    )
    .await;

    let p = app
        .get(&format!("/api/v1/public/progress?year={year}"), None)
        .await;
    assert_eq!(p.status, 200, "{:?}", p.body);
    assert_eq!(p.body["year"], year);
    let d = |code: &str| {
        p.body["districts"]
            .as_array()
            .and_then(|ds| ds.iter().find(|x| x["code"] == code).cloned())
            .expect("district")
    };
    let hexi = d("hexi");
    let st = &hexi["programmes"]["shantytown"];
    assert_eq!(st["planned"], 1000);
    assert_eq!(st["done"], 250);
    assert_eq!(st["percent"], 25.0);
    assert_eq!(st["rank"], 2);
    assert_eq!(d("hedong")["programmes"]["shantytown"]["rank"], 1);
    let monthly = st["measures"]["shantytown_started"]["monthly"]
        .as_array()
        .cloned()
        .expect("monthly");
    assert_eq!(monthly.len(), 12);
    assert_eq!(monthly[1], 0);
    assert_eq!(monthly[2], 250);
    assert_eq!(monthly[11], 250);
    assert_eq!(st["measures"]["shantytown_started"]["even_pace"][5], 500.0);
    assert_eq!(hexi["programmes"]["dangerous_housing"]["done"], 10);
    assert_eq!(hexi["programmes"]["dangerous_housing"]["percent"], 25.0);
    assert_eq!(hexi["programmes"]["old_community"]["done"], 1);
    assert_eq!(
        hexi["programmes"]["old_community"]["measures"]["old_community_households"]["done"],
        800
    );
    assert_eq!(p.body["city"]["programmes"]["shantytown"]["done"], 750);
    // Nothing personal: no names of people, no unit ids, no project list.
    let text = p.body.to_string();
    assert!(!text.contains("sup") && !text.contains("unit_id") && !text.contains("测试项目"));

    // The previous year sees last year's start.
    let last = app
        .get(&format!("/api/v1/public/progress?year={}", year - 1), None)
        .await;
    let hexi_last = last.body["districts"]
        .as_array()
        .and_then(|ds| ds.iter().find(|x| x["code"] == "hexi").cloned())
        .expect("hexi");
    assert_eq!(hexi_last["programmes"]["shantytown"]["done"], 999);
    assert_eq!(
        hexi_last["programmes"]["shantytown"]["planned"],
        Value::Null
    );
    assert_eq!(
        app.get("/api/v1/public/progress?year=abc", None)
            .await
            .status,
        400
    );
}

fn sheet(rows: &[Vec<&str>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if let Ok(n) = v.parse::<f64>() {
                ws.write_number(r as u32, c as u16, n).expect("write");
            } else {
                ws.write_string(r as u32, c as u16, *v).expect("write");
            }
        }
    }
    wb.save_to_buffer().expect("xlsx")
}

async fn import(app: &TestApp, token: &str, dry_run: bool, body: Vec<u8>) -> anju_tests::Answer {
    let res = app
        .client
        .post(app.url(&format!("/api/v1/plans/import?dry_run={dry_run}")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .expect("import");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    anju_tests::Answer {
        status,
        body,
        headers,
    }
}

#[tokio::test]
async fn a_plan_sheet_with_a_bad_row_is_refused_whole_and_names_the_row() {
    let app = TestApp::spawn().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let y = year_of(&app).to_string();
    let header = vec!["年度", "区县", "棚改新开工(套)", "危房改造(户)"];
    let bad = sheet(&[
        header.clone(),
        vec![&y, "河西区", "1500", "80"],
        vec![&y, "河南区", "10", "5"],
        vec![&y, "河东区", "-4", "x"],
    ]);
    let a = import(&app, &sup, true, bad.clone()).await;
    assert_eq!(a.status, 422, "{:?}", a.body);
    assert_eq!(a.code(), "import_has_errors");
    let errors = a.body["errors"].as_array().cloned().unwrap_or_default();
    assert!(
        errors
            .iter()
            .any(|e| e["row"] == 3 && e["column"] == "区县"),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e["row"] == 4 && e["column"] == "棚改新开工(套)"),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e["row"] == 4 && e["column"] == "危房改造(户)"),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .all(|e| e["message_zh"].is_string() && e["message_en"].is_string())
    );
    assert_eq!(import(&app, &sup, false, bad).await.status, 422);
    let plans = app
        .get(&format!("/api/v1/plans?year={y}"), Some(&sup))
        .await
        .body;
    assert_eq!(
        target(&plans, "hexi", "shantytown_started"),
        Value::Null,
        "nothing half-applied"
    );

    let unknown = sheet(&[vec!["年度", "区县", "棚改开工"], vec![&y, "河西区", "1"]]);
    let a = import(&app, &sup, true, unknown).await;
    assert!(
        a.body["errors"]
            .as_array()
            .is_some_and(|e| e.iter().any(|x| x["row"] == 1 && x["column"] == "棚改开工"))
    );

    let good = sheet(&[
        header.clone(),
        vec![&y, "河西区", "1500", "80"],
        vec![&y, "hedong", "900", ""],
    ]);
    let a = import(&app, &sup, true, good.clone()).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["targets"], 3);
    assert_eq!(a.body["changed"], 0);
    assert_eq!(
        target(
            &app.get(&format!("/api/v1/plans?year={y}"), Some(&sup))
                .await
                .body,
            "hexi",
            "shantytown_started"
        ),
        Value::Null
    );
    let a = import(&app, &sup, false, good.clone()).await;
    assert_eq!(a.body["changed"], 3, "{:?}", a.body);
    let plans = app
        .get(&format!("/api/v1/plans?year={y}"), Some(&sup))
        .await
        .body;
    assert_eq!(target(&plans, "hexi", "shantytown_started"), 1500);
    assert_eq!(
        target(&plans, "hedong", "dangerous_households"),
        Value::Null
    );
    assert_eq!(
        import(&app, &sup, false, good).await.body["changed"],
        0,
        "idempotent"
    );
    let log = app
        .get(&format!("/api/v1/plans/changes?year={y}"), Some(&sup))
        .await
        .body;
    assert!(
        log["items"]
            .as_array()
            .is_some_and(|i| i.len() == 3 && i.iter().all(|c| c["source"] == "import"))
    );

    let csv = format!("年度,区县,危房改造(户)\n{y},河东区,70\n");
    let a = import(&app, &sup, false, csv.into_bytes()).await;
    assert_eq!(a.body["changed"], 1, "{:?}", a.body);
    let a = import(&app, &sup, true, vec![0xff, 0xd8, 0xff, 0x00]).await;
    assert_eq!(a.code(), "not_a_spreadsheet");
    let staff = app
        .user_token("staff", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    assert_eq!(import(&app, &staff, true, b"x".to_vec()).await.status, 403);
}

#[tokio::test]
async fn plans_and_progress_download_as_workbooks() {
    use calamine::{Reader, Xlsx};
    let app = TestApp::spawn_with(|c| c.sample_programme = true).await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let y = year_of(&app);
    for (path, header) in [
        (format!("/api/v1/plans.xlsx?year={y}"), "棚改新开工(套)"),
        (format!("/api/v1/progress.xlsx?year={y}"), "完成率(%)"),
    ] {
        let res = app
            .client
            .get(app.url(&path))
            .bearer_auth(&sup)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let bytes = res.bytes().await.expect("bytes").to_vec();
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("workbook");
        let name = wb.sheet_names().first().cloned().expect("sheet");
        let range = wb.worksheet_range(&name).expect("range");
        let first: Vec<String> = range
            .rows()
            .next()
            .expect("header")
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert!(first.iter().any(|h| h == header), "{first:?}");
        assert!(range.height() >= 3);
    }
    // The sample plans exist for the server's year, and the progress reads them.
    let p = app
        .get(&format!("/api/v1/progress?year={y}"), Some(&sup))
        .await;
    for d in p.body["districts"].as_array().cloned().unwrap_or_default() {
        for prog in ["shantytown", "dangerous_housing", "old_community"] {
            assert!(
                d["programmes"][prog]["planned"]
                    .as_i64()
                    .is_some_and(|x| x > 0)
            );
        }
    }
}

/// A small deterministic generator (xorshift), so a failure replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test]
async fn progress_by_sql_equals_the_parsed_computation() {
    use anju_server::plans::progress::{compute, compute_from, monthly_by_parsing, monthly_by_sql};
    use anju_server::registers::query::Org;

    let app = TestApp::spawn().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let year = year_of(&app);
    put_plans(
        &app,
        &sup,
        year,
        json!([
            {"district": "hexi", "measure": "shantytown_started", "target": 3000},
            {"district": "hedong", "measure": "dangerous_households", "target": 500},
            {"district": "hexi", "measure": "old_community_started", "target": 6}
        ]),
    )
    .await;
    let places = [
        ("hexi-jianshe-1", "hexi_jianshe_office"),
        ("hexi-heping-1", "hexi_heping_office"),
        ("hedong-xinhua-1", "hedong_xinhua_office"),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let date = |rng: &mut Rng| -> Value {
        match rng.below(5) {
            0 => Value::Null,
            k => {
                let y = i64::from(year) + i64::try_from(k % 3).unwrap_or(0) - 1;
                Value::from(format!(
                    "{y}-{:02}-{:02}",
                    1 + rng.below(12),
                    1 + rng.below(28)
                ))
            }
        }
    };
    let count = |rng: &mut Rng| -> Value {
        match rng.below(6) {
            0 => Value::Null,
            1 => Value::from(0),
            _ => Value::from(rng.below(400)),
        }
    };
    for _ in 0..48 {
        let (community, unit) = places[usize::try_from(rng.below(3)).unwrap_or(0)];
        let programme = ["shantytown", "dangerous_housing", "old_community"]
            [usize::try_from(rng.below(3)).unwrap_or(0)];
        let status =
            ["planned", "in_progress", "completed"][usize::try_from(rng.below(3)).unwrap_or(0)];
        let mut fields = json!({"programme": programme, "status": status});
        for (k, v) in [
            ("planned_units", count(&mut rng)),
            ("completed_units", count(&mut rng)),
            ("actual_start", date(&mut rng)),
            ("actual_completion", date(&mut rng)),
        ] {
            if !v.is_null() {
                fields[k] = v;
            }
        }
        create_project(&app, &sup, community, unit, fields).await;
    }
    // Edits through the same path: some dates and counts change or are cleared afterwards, so
    // the columns follow an update as well as a create.
    let list = app
        .get("/api/v1/registers/project?per_page=200", Some(&sup))
        .await;
    for item in list.body["items"].as_array().cloned().unwrap_or_default() {
        if rng.below(3) != 0 {
            continue;
        }
        let mut fields = json!({"actual_start": date(&mut rng), "planned_units": count(&mut rng)});
        if rng.below(2) == 0 {
            fields["actual_completion"] = date(&mut rng);
        }
        let id = item["id"].as_str().unwrap_or_default();
        let a = app
            .call(
                reqwest::Method::PATCH,
                &format!("/api/v1/registers/project/{id}"),
                Some(&sup),
                Some(&json!({"base_version": item["version"], "fields": fields})),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    let years = [i32::from(year) - 1, i32::from(year), i32::from(year) + 1];
    let checked = app
        .state()
        .db
        .run(move |conn| {
            let org = Org::load(conn)?;
            let mut nonzero = 0;
            for y in years {
                let by_sql = monthly_by_sql(conn, &org, y)?;
                let by_parsing = monthly_by_parsing(conn, &org, y)?;
                let clean = |m: anju_server::plans::progress::Monthly| {
                    let mut v: Vec<_> = m
                        .into_iter()
                        .filter(|(_, a)| a.iter().any(|x| *x != 0))
                        .collect();
                    v.sort_by(|a, b| {
                        (a.0.0.as_str(), a.0.1.as_str()).cmp(&(b.0.0.as_str(), b.0.1.as_str()))
                    });
                    v
                };
                let parsed_answer = compute_from(conn, &org, y, &by_parsing)?;
                assert_eq!(compute(conn, y)?, parsed_answer, "year {y}");
                let (a, b) = (clean(by_sql), clean(by_parsing));
                assert_eq!(a, b, "year {y}");
                nonzero += a.len();
            }
            Ok(nonzero)
        })
        .await
        .expect("db");
    // The random data reaches most district × measure cells, so the comparison is not vacuous.
    assert!(checked >= 8, "only {checked} non-zero cells compared");
}
