//! Register import (台账导入): a sheet with a bad row names it and applies nothing; fixed, it
//! applies as office mutations devices pull; re-importing is a no-op; an exported workbook
//! imports back unchanged; bad files and columns are refused; scope holds.

use anju_server::auth::Role;
use anju_tests::field::FieldDevice;
use anju_tests::{Answer, TestApp};
use serde_json::Value;

async fn import(
    app: &TestApp,
    token: &str,
    register: &str,
    dry_run: bool,
    body: Vec<u8>,
) -> Answer {
    let res = app
        .client
        .post(app.url(&format!(
            "/api/v1/registers/{register}/import?dry_run={dry_run}"
        )))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .expect("import");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    Answer {
        status,
        body,
        headers,
    }
}

async fn download(app: &TestApp, token: &str, path: &str) -> Vec<u8> {
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("download");
    assert_eq!(res.status().as_u16(), 200);
    res.bytes().await.expect("bytes").to_vec()
}

async fn buildings(app: &TestApp, token: &str) -> Vec<Value> {
    let a = app
        .get("/api/v1/registers/building?per_page=200", Some(token))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body["items"].as_array().cloned().unwrap_or_default()
}

fn errors(a: &Answer) -> Vec<Value> {
    a.body["errors"].as_array().cloned().unwrap_or_default()
}

const HEADER: &str = "房屋编号,区县,街道,所属区域,地址,结构类型,建成年份,层数,户数,安全等级";

fn sheet(rows: &[&str]) -> Vec<u8> {
    let mut s = format!("\u{feff}{HEADER}\r\n");
    for r in rows {
        s.push_str(r);
        s.push_str("\r\n");
    }
    s.into_bytes()
}

const GOOD_1: &str =
    "FW-001,河西区,河西区建设街道,纺织厂家属院,纺织厂家属院3号楼,brick_concrete,1978,5,40,C";
const GOOD_2: &str = "FW-002,河西区,,机床厂宿舍,机床厂宿舍1号楼,masonry,1965,3,18,D";

#[tokio::test]
async fn a_bad_row_is_named_and_nothing_applies_until_it_is_fixed_then_devices_pull_it() {
    let app = TestApp::spawn().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let bad = sheet(&[
        GOOD_1,
        "FW-002,河西区,,机床厂宿舍,机床厂宿舍1号楼,masonry,1965,3,18,E",
        "FW-003,河西区,,不存在的社区,某地,,1990,2,abc,A",
    ]);
    for dry_run in [true, false] {
        let a = import(&app, &sup, "building", dry_run, bad.clone()).await;
        assert_eq!(a.status, 422, "{:?}", a.body);
        assert_eq!(a.code(), "import_has_errors");
        let e = errors(&a);
        let at = |row: u64, column: &str| {
            e.iter()
                .find(|x| x["row"] == row && x["column"] == column)
                .cloned()
                .unwrap_or_else(|| panic!("no error at row {row} {column}: {e:?}"))
        };
        let grade = at(3, "安全等级");
        assert!(
            grade["message_zh"]
                .as_str()
                .is_some_and(|m| m.contains("A、B、C 或 D"))
        );
        assert!(
            grade["message_en"]
                .as_str()
                .is_some_and(|m| m.contains("E"))
        );
        assert_eq!(at(4, "所属区域")["code"], "unknown_area");
        assert_eq!(at(4, "户数")["code"], "not_a_number");
        assert_eq!(e.len(), 3, "{e:?}");
    }
    assert!(
        buildings(&app, &sup).await.is_empty(),
        "nothing may be applied"
    );

    let good = sheet(&[GOOD_1, GOOD_2]);
    let a = import(&app, &sup, "building", true, good.clone()).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(
        (a.body["created"].as_u64(), a.body["dry_run"].as_bool()),
        (Some(2), Some(true))
    );
    assert!(
        buildings(&app, &sup).await.is_empty(),
        "a dry run applies nothing"
    );
    let a = import(&app, &sup, "building", false, good.clone()).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["created"], 2);
    let listed = buildings(&app, &sup).await;
    assert_eq!(listed.len(), 2);

    // Re-importing the same sheet changes nothing: same records, no new version.
    let a = import(&app, &sup, "building", false, good).await;
    assert_eq!(
        (&a.body["created"], &a.body["updated"], &a.body["unchanged"]),
        (&Value::from(0), &Value::from(0), &Value::from(2)),
        "{:?}",
        a.body
    );
    assert_eq!(buildings(&app, &sup).await.len(), 2);

    // A changed cell updates that record only, and the history names the office user.
    let changed = GOOD_1.replace(",C", ",D");
    let a = import(&app, &sup, "building", false, sheet(&[&changed, GOOD_2])).await;
    assert_eq!(
        (&a.body["updated"], &a.body["unchanged"]),
        (&Value::from(1), &Value::from(1))
    );
    let row = buildings(&app, &sup)
        .await
        .into_iter()
        .find(|b| b["fields"]["code"] == "FW-001")
        .expect("FW-001 listed");
    let id = row["id"].as_str().expect("id").to_owned();
    let page = app
        .get(&format!("/api/v1/registers/building/{id}"), Some(&sup))
        .await;
    assert_eq!(page.status, 200);
    let history = page.body["history"].as_array().cloned().unwrap_or_default();
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(
        history.iter().all(|v| v["who"]["source"] == "office"),
        "{history:?}"
    );
    assert!(
        history[0]["changes"].to_string().contains("safety_grade")
            || history[1]["changes"].to_string().contains("safety_grade")
    );

    // A device of the street office pulls the imported records.
    app.create_user("insp", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut dev = FieldDevice::login(&app, "insp").await;
    dev.sync().await;
    let uuid = uuid::Uuid::parse_str(&id).expect("uuid");
    let shown = dev.fields(uuid).await.expect("the device shows the record");
    assert_eq!(shown.get("safety_grade"), Some(&Value::from("D")));
    assert_eq!(shown.get("code"), Some(&Value::from("FW-001")));
}

#[tokio::test]
async fn an_exported_workbook_imports_back_unchanged() {
    let app = TestApp::spawn_with(|c| c.sample_programme = true).await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    for register in ["project", "building"] {
        let total = app
            .get(
                &format!("/api/v1/registers/{register}?per_page=1"),
                Some(&sup),
            )
            .await
            .body["total"]
            .as_u64()
            .expect("total");
        for format in ["xlsx", "csv"] {
            let file = download(
                &app,
                &sup,
                &format!("/api/v1/registers/{register}.{format}"),
            )
            .await;
            let a = import(&app, &sup, register, false, file).await;
            assert_eq!(a.status, 200, "{register}.{format}: {:?}", a.body);
            assert_eq!(
                a.body["unchanged"].as_u64(),
                Some(total),
                "{register}.{format}"
            );
            assert_eq!(
                (&a.body["created"], &a.body["updated"]),
                (&Value::from(0), &Value::from(0))
            );
        }
    }
}

#[tokio::test]
async fn bad_files_unknown_columns_and_site_records_are_refused() {
    let app = TestApp::spawn().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let a = import(&app, &sup, "building", true, vec![0xff, 0xd8, 0xff, 0x00]).await;
    assert_eq!((a.status, a.code()), (400, "not_a_spreadsheet"));
    let a = import(
        &app,
        &sup,
        "building",
        true,
        b"PK\x03\x04not a zip".to_vec(),
    )
    .await;
    assert_eq!((a.status, a.code()), (400, "not_a_spreadsheet"));

    let unknown = format!("{HEADER},楼长电话\r\n{GOOD_1},13800000000\r\n").into_bytes();
    let a = import(&app, &sup, "building", false, unknown).await;
    assert_eq!(a.status, 422);
    let e = errors(&a);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        (&e[0]["row"], &e[0]["column"], &e[0]["code"]),
        (
            &Value::from(1),
            &Value::from("楼长电话"),
            &Value::from("unknown_column")
        )
    );

    // A project with a date that is not one, and a required field missing on create.
    let projects = "项目编号,项目名称,改造类型,区县,所属区域,责任单位,实际开工日期,项目状态\r\n\
                    XM-1,纺织厂棚改,shantytown,河西区,纺织厂家属院,河西区建设街道办事处,2026-02-30,planned\r\n\
                    XM-2,,old_community,河西区,机床厂宿舍,河西区建设街道办事处,2026/03/01,planned\r\n";
    let a = import(&app, &sup, "project", true, projects.as_bytes().to_vec()).await;
    assert_eq!(a.status, 422);
    let e = errors(&a);
    assert!(
        e.iter()
            .any(|x| x["row"] == 2 && x["column"] == "实际开工日期" && x["code"] == "invalid_date"),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|x| x["row"] == 3 && x["column"] == "项目名称" && x["code"] == "field_required"),
        "{e:?}"
    );
    assert_eq!(e.len(), 2, "{e:?}");

    let a = import(&app, &sup, "hazard", true, sheet(&[GOOD_1])).await;
    assert_eq!((a.status, a.code()), (400, "import_not_supported"));

    let mut many = format!("{HEADER}\r\n");
    for i in 0..20_001 {
        many.push_str(&format!("FW-{i},河西区,,纺织厂家属院,{i}号楼,,,,,A\r\n"));
    }
    let a = import(&app, &sup, "building", true, many.into_bytes()).await;
    assert_eq!((a.status, a.code()), (413, "too_many_rows"));
    assert!(buildings(&app, &sup).await.is_empty());
}

#[tokio::test]
async fn a_user_outside_the_scope_cannot_import_into_another_district() {
    let app = TestApp::spawn().await;
    let east = app
        .user_token("east", Role::UnitStaff, Some("hedong_xinhua_office"))
        .await;
    let a = import(&app, &east, "building", false, sheet(&[GOOD_1])).await;
    assert_eq!(a.status, 422, "{:?}", a.body);
    let e = errors(&a);
    assert_eq!(
        (&e[0]["row"], &e[0]["code"]),
        (&Value::from(2), &Value::from("out_of_scope")),
        "{e:?}"
    );

    // The same code, already a Hexi record, cannot be taken over from Hedong either.
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    assert_eq!(
        import(&app, &sup, "building", false, sheet(&[GOOD_1]))
            .await
            .status,
        200
    );
    let moved = GOOD_1.replace("河西区,河西区建设街道,纺织厂家属院", "河东区,,新华里社区");
    let a = import(&app, &east, "building", false, sheet(&[&moved])).await;
    assert_eq!(a.status, 422, "{:?}", a.body);
    assert_eq!(errors(&a)[0]["code"], "out_of_scope");
    let sup_rows = buildings(&app, &sup).await;
    assert_eq!(sup_rows.len(), 1);
    assert!(buildings(&app, &east).await.is_empty());
    // In its own district the unit imports.
    let own = "房屋编号,区县,所属区域,地址\r\nFW-100,河东区,新华里社区,新华里5号楼\r\n";
    let a = import(&app, &east, "building", false, own.as_bytes().to_vec()).await;
    assert_eq!(
        (a.status, &a.body["created"]),
        (200, &Value::from(1)),
        "{:?}",
        a.body
    );
    assert_eq!(buildings(&app, &east).await.len(), 1);
}
