//! Fund use (资金): entries recorded with who and when, a payment beyond the funds received
//! refused with nothing recorded, corrections as entries, the supervision flags, the sheet import
//! with every bad row named, and the public figures per district and programme.

use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::field::FieldDevice;
use serde_json::{Value, json};

fn year_of(app: &TestApp) -> i16 {
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").expect("tz");
    let ts = jiff::Timestamp::from_millisecond(app.clock().now_ms()).expect("ts");
    tz.to_datetime(ts).year()
}

async fn project(app: &TestApp, token: &str, code: &str, progress: i64) -> String {
    let area = app.area_id("hexi-jianshe-1").await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let a = app
        .post(
            "/api/v1/registers/project",
            Some(token),
            &json!({"fields": {"name": "资金测试项目", "code": code, "programme": "old_community",
                "status": "in_progress", "planned_units": 100, "progress_percent": progress,
                "area_id": area, "unit_id": unit}}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body["id"].as_str().expect("id").to_owned()
}

async fn entry(app: &TestApp, token: &str, pid: &str, body: Value) -> anju_tests::Answer {
    app.post(
        &format!("/api/v1/funds/projects/{pid}/entries"),
        Some(token),
        &body,
    )
    .await
}

async fn import(app: &TestApp, token: &str, dry_run: bool, csv: &str) -> anju_tests::Answer {
    let res = app
        .client
        .post(app.url(&format!("/api/v1/funds/import?dry_run={dry_run}")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(csv.as_bytes().to_vec())
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
async fn entries_are_recorded_and_a_payment_beyond_what_arrived_is_refused() {
    let app = TestApp::spawn().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let y = year_of(&app);
    let pid = project(&app, &sup, "ZJ-001", 10).await;
    let d = format!("{y}-01-01");
    let a = entry(
        &app,
        &sup,
        &pid,
        json!({"kind": "budget", "source": "central", "amount": 1000, "date": d}),
    )
    .await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    let a = entry(
        &app,
        &sup,
        &pid,
        json!({"kind": "received", "source": "中央补助", "amount": 400, "date": d}),
    )
    .await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    let receipt = a.body["entry"]["id"].as_str().expect("id").to_owned();
    assert_eq!(a.body["entry"]["recorded_by_name"], "sup");
    // 500 paid out of 400 received: refused, nothing recorded.
    let a = entry(
        &app,
        &sup,
        &pid,
        json!({"kind": "paid", "amount": 500, "date": d}),
    )
    .await;
    assert_eq!(a.status, 422);
    assert_eq!(a.code(), "payment_exceeds_received");
    let l = app
        .get(&format!("/api/v1/funds/projects/{pid}"), Some(&sup))
        .await
        .body;
    assert_eq!(l["entries"].as_array().map(Vec::len), Some(2));
    assert_eq!(l["funds"]["totals"]["paid"], 0);
    let a = entry(
        &app,
        &sup,
        &pid,
        json!({"kind": "paid", "amount": 300, "date": d}),
    )
    .await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    // 30 % paid against 10 % progress: ahead of progress.
    assert_eq!(
        a.body["funds"]["flags"]["ahead_of_progress"]["paid_percent"],
        30.0
    );
    // A correction is one more entry; lowering the receipt below what was paid is refused.
    let a = entry(
        &app,
        &sup,
        &pid,
        json!({"corrects": receipt, "amount": -200, "date": d}),
    )
    .await;
    assert_eq!(a.code(), "payment_exceeds_received");
    let a = entry(
        &app,
        &sup,
        &pid,
        json!({"corrects": receipt, "amount": -50, "date": d, "note": "录入错误"}),
    )
    .await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    assert_eq!(a.body["funds"]["totals"]["received"], 350);
    assert_eq!(a.body["entries"].as_array().map(Vec::len), Some(4));
    // Bad fields, with their codes.
    for (body, code) in [
        (
            json!({"kind": "gift", "amount": 1, "date": d}),
            "invalid_fund_kind",
        ),
        (
            json!({"kind": "budget", "source": "lottery", "amount": 1, "date": d}),
            "invalid_fund_source",
        ),
        (
            json!({"kind": "budget", "source": "city", "amount": -1, "date": d}),
            "invalid_fund_amount",
        ),
        (
            json!({"kind": "budget", "source": "city", "amount": 1, "date": format!("{}-01-01", y + 1)}),
            "invalid_fund_date",
        ),
        (
            json!({"corrects": "nope", "amount": 1, "date": d}),
            "fund_entry_not_found",
        ),
    ] {
        assert_eq!(entry(&app, &sup, &pid, body).await.code(), code);
    }
    // Unknown project; a dispatcher may not record.
    assert_eq!(
        entry(
            &app,
            &sup,
            "00000000-0000-4000-8000-000000000000",
            json!({"kind": "paid", "amount": 1, "date": d})
        )
        .await
        .code(),
        "project_not_found"
    );
    let disp = app.user_token("disp", Role::Dispatcher, None).await;
    assert_eq!(
        entry(
            &app,
            &disp,
            &pid,
            json!({"kind": "paid", "amount": 1, "date": d})
        )
        .await
        .status,
        403
    );

    // Public: sums per district and programme, nothing personal.
    let p = app
        .get(&format!("/api/v1/public/funds?year={y}"), None)
        .await;
    assert_eq!(p.status, 200);
    let hexi = p.body["districts"]
        .as_array()
        .and_then(|ds| ds.iter().find(|x| x["code"] == "hexi").cloned())
        .expect("hexi");
    let oc = &hexi["programmes"]["old_community"];
    assert_eq!(
        (
            oc["budget"].clone(),
            oc["received"].clone(),
            oc["paid"].clone()
        ),
        (json!(1000), json!(350), json!(300))
    );
    assert!(!p.body.to_string().contains("sup"));
    let x = app
        .get(&format!("/api/v1/funds.xlsx?year={y}"), Some(&sup))
        .await;
    assert_eq!(x.status, 200);
}

#[tokio::test]
async fn idle_money_is_flagged_and_a_sheet_names_every_bad_row() {
    let app = TestApp::spawn().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let y = year_of(&app);
    project(&app, &sup, "ZJ-002", 50).await;
    let last = format!("{}-06-01", y - 1);
    let bad = format!(
        "项目编号,类型,资金来源,金额(元),日期,备注\nZJ-002,预算,市级资金,1000,{last},\nZJ-404,到位,市级资金,10,{last},\nZJ-002,支付,,99999,{last},\nZJ-002,到位,彩票,5,{last},\n"
    );
    let a = import(&app, &sup, true, &bad).await;
    assert_eq!(a.status, 422, "{:?}", a.body);
    let rows: Vec<(i64, String)> = a.body["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap_or(0),
                e["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (3, "project_not_found".into()),
            (4, "payment_exceeds_received".into()),
            (5, "invalid_fund_source".into())
        ]
    );
    let none = app.get("/api/v1/funds", Some(&sup)).await.body;
    assert_eq!(none["items"][0]["totals"]["budget"], 0);
    let good = format!(
        "项目编号,类型,资金来源,金额(元),日期,备注\nZJ-002,预算,市级资金,1000,{last},\nZJ-002,到位,市级资金,800,{last},\nZJ-002,支付,,100,{last},\n"
    );
    let a = import(&app, &sup, true, &good).await;
    assert_eq!(
        (
            a.status,
            a.body["entries"].clone(),
            a.body["recorded"].clone()
        ),
        (200, json!(3), json!(0))
    );
    let a = import(&app, &sup, false, &good).await;
    assert_eq!(a.body["recorded"], 3, "{:?}", a.body);
    // Again: already recorded, skipped.
    let a = import(&app, &sup, false, &good).await;
    assert_eq!(
        (a.body["recorded"].clone(), a.body["skipped"].clone()),
        (json!(0), json!(3))
    );
    let l = app.get("/api/v1/funds?idle_days=90", Some(&sup)).await.body;
    let item = &l["items"][0];
    assert_eq!(item["totals"]["received"], 800);
    assert_eq!(item["flags"]["idle"]["amount"], 700);
    assert_eq!(item["flags"]["idle"]["since"], last);
    assert_eq!(l["flagged"], 1);
    let p = app
        .get(&format!("/api/v1/public/funds?year={}", y - 1), None)
        .await
        .body;
    assert_eq!(p["city"]["total"]["paid"], 100);
}

/// The fund summary of `project` the device shows, if any.
async fn summary_of(
    d: &mut FieldDevice,
    project: &str,
) -> Option<std::collections::BTreeMap<String, Value>> {
    let project = json!(project);
    d.run(move |d| {
        d.list("fund_summary")
            .expect("list")
            .into_iter()
            .find(|r| r.fields.get("project_id") == Some(&project))
            .map(|r| r.fields)
    })
    .await
}

/// The fund summary reaches the devices that see the project and may see funds, written with
/// each ledger entry; a role without fund access never gets it; a device cannot write it.
#[tokio::test]
async fn a_ledger_entry_reaches_the_devices_that_may_see_funds() {
    use anju_tests::sync::{RawDevice, outcome};
    let app = TestApp::spawn().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let y = year_of(&app);
    let d = format!("{y}-01-01");
    let pid = project(&app, &sup, "ZJ-SYNC", 50).await;
    let staff_token = app
        .user_token("js1", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let insp_token = app
        .user_token("insp1", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let disp_token = app.user_token("disp1", Role::Dispatcher, None).await;
    app.create_user("hp1", Role::UnitStaff, Some("hexi_heping_office"))
        .await;
    let mut staff = FieldDevice::login(&app, "js1").await;
    let mut insp = FieldDevice::login(&app, "insp1").await;
    let mut disp = FieldDevice::login(&app, "disp1").await;
    let mut other = FieldDevice::login(&app, "hp1").await;
    staff.sync().await;
    assert!(
        summary_of(&mut staff, &pid).await.is_none(),
        "no ledger, no summary"
    );

    // Entries in the office; the staff's next pull has the new summary.
    for body in [
        json!({"kind": "budget", "source": "central", "amount": 1000, "date": d}),
        json!({"kind": "received", "source": "central", "amount": 800, "date": d}),
        json!({"kind": "paid", "amount": 600, "date": d}),
    ] {
        assert_eq!(entry(&app, &sup, &pid, body).await.status, 201);
    }
    staff.sync().await;
    let s = summary_of(&mut staff, &pid)
        .await
        .expect("the unit's staff pull the summary");
    assert_eq!(
        (
            s["budget"].clone(),
            s["received"].clone(),
            s["paid"].clone()
        ),
        (json!(1000), json!(800), json!(600))
    );
    assert_eq!(s["budget_by_source"]["central"], 1000);
    assert_eq!(s["paid_percent"], 60.0);
    assert_eq!(s["flags"]["ahead_of_progress"]["paid_percent"], 60.0);
    assert_eq!(s["code"], "ZJ-SYNC");
    let first = staff
        .run(|d| d.list("fund_summary").expect("list").first().map(|r| r.id))
        .await
        .expect("summary id");
    let a = entry(
        &app,
        &sup,
        &pid,
        json!({"kind": "paid", "amount": 100, "date": d}),
    )
    .await;
    assert_eq!(a.status, 201);
    staff.sync().await;
    assert_eq!(
        summary_of(&mut staff, &pid).await.expect("summary")["paid"],
        700
    );

    // Progress catches up with the payments (an office edit, no ledger entry): the retention
    // worker's pass rewrites the summary without the ahead-of-progress flag.
    let project_uuid = uuid::Uuid::try_parse(&pid).expect("uuid");
    let base = staff.version(project_uuid).await.expect("project pulled");
    let e = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/registers/project/{pid}"),
            Some(&sup),
            Some(&json!({"base_version": base, "fields": {"progress_percent": 90}})),
        )
        .await;
    assert_eq!(e.status, 200, "{:?}", e.body);
    staff.sync().await;
    assert!(
        summary_of(&mut staff, &pid).await.expect("summary")["flags"]["ahead_of_progress"]
            .is_object()
    );
    let now = app.clock().now_ms();
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").expect("tz");
    let today = tz
        .to_datetime(jiff::Timestamp::from_millisecond(now).expect("ts"))
        .date();
    // The edit marked the project's summary due: one pass refreshes exactly what is due, and
    // the next finds nothing.
    let catch_up = |app: &TestApp| {
        let db = app.state().db.clone();
        async move {
            db.run(move |conn| {
                let due = anju_server::funds::record::catch_up_due(conn, today)?;
                let looked = anju_server::funds::record::catch_up(conn, now, today, 100)?;
                Ok((due, looked))
            })
            .await
        }
    };
    assert_eq!(catch_up(&app).await.expect("catch up"), (true, 1));
    assert_eq!(catch_up(&app).await.expect("catch up"), (false, 0));
    staff.sync().await;
    assert!(
        summary_of(&mut staff, &pid).await.expect("summary")["flags"]["ahead_of_progress"]
            .is_null()
    );

    // Roles without fund access, and another unit, get nothing (nor the office figures).
    for dev in [&mut insp, &mut disp, &mut other] {
        dev.sync().await;
        assert!(summary_of(dev, &pid).await.is_none());
        assert!(
            !dev.link().pulled().iter().any(|c| serde_json::to_string(c)
                .unwrap_or_default()
                .contains("fund_summary")),
            "a fund summary reached a device that may not see funds"
        );
    }
    for t in [&insp_token, &disp_token] {
        let r = app
            .get(&format!("/api/v1/funds/projects/{pid}"), Some(t))
            .await;
        assert_eq!((r.status, r.code()), (403, "role_not_allowed"));
    }
    // Dispatchers see every project, inspectors their unit's: the projects still arrive.
    assert!(
        disp.run(|d| !d.list("project").expect("list").is_empty())
            .await
    );

    // A device cannot write it: edit and create are refused with a code, nothing changes. The
    // device library refuses both before sending; the server's refusal is checked with raw
    // pushes, which no real device sends.
    let refused = staff
        .run(move |d| {
            let edit = d.edit(first, anju_tests::sync::fields_of(&json!({"paid": 0})));
            let create = d.create(
                "fund_summary",
                anju_tests::sync::fields_of(&json!({"project_id": "x", "budget": 1})),
            );
            (edit.is_err(), create.is_err())
        })
        .await;
    assert_eq!(
        refused,
        (true, true),
        "the device refuses to write a summary"
    );
    let mut raw = RawDevice::register(&app, &staff_token).await;
    let version = staff.version(first).await.expect("pulled");
    let edit = raw.upsert("fund_summary", first, Some(version), json!({"paid": 0}));
    let create = raw.upsert(
        "fund_summary",
        uuid::Uuid::now_v7(),
        None,
        json!({"project_id": pid, "budget": 1, "received": 1, "paid": 1}),
    );
    let r = raw.push_ok(&app, &[edit, create]).await;
    for x in &r {
        assert_eq!(outcome(x), "rejected", "{x:?}");
        assert_eq!(x["code"], "read_only_record_type", "{x:?}");
    }
    staff.sync().await;
    assert_eq!(
        summary_of(&mut staff, &pid).await.expect("summary")["paid"],
        700
    );
    let l = app
        .get(&format!("/api/v1/funds/projects/{pid}"), Some(&sup))
        .await;
    assert_eq!(l.body["funds"]["totals"]["paid"], 700);
}

/// Money that arrives and is not spent turns idle (资金闲置) with the days, with no new entry:
/// the synced summary is due for the catch-up on exactly the day its flag can change, is
/// looked at then and not before, and reaches the devices with the flag.
#[tokio::test]
async fn a_summary_turns_idle_on_its_day_without_a_new_entry() {
    use anju_server::funds::record::{catch_up, catch_up_due};
    let app = TestApp::spawn().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    app.create_user("js1", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let pid = project(&app, &sup, "ZJ-IDLE", 50).await;
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").expect("tz");
    let today = |app: &TestApp| {
        tz.to_datetime(jiff::Timestamp::from_millisecond(app.clock().now_ms()).expect("ts"))
            .date()
    };
    let day0 = today(&app);
    for body in [
        json!({"kind": "budget", "source": "central", "amount": 1000, "date": day0.to_string()}),
        json!({"kind": "received", "source": "central", "amount": 500, "date": day0.to_string()}),
    ] {
        assert_eq!(entry(&app, &sup, &pid, body).await.status, 201);
    }
    let pass = |app: &TestApp| {
        let (now, day) = (app.clock().now_ms(), today(app));
        let db = app.state().db.clone();
        async move {
            db.run(move |conn| {
                let due = catch_up_due(conn, day)?;
                Ok((due, catch_up(conn, now, day, 100)?))
            })
            .await
        }
    };
    // Written with the entries: nothing due until the receipt is 91 days old.
    assert_eq!(pass(&app).await.expect("pass"), (false, 0));
    app.clock().advance_ms(90 * 86_400_000);
    assert_eq!(pass(&app).await.expect("pass"), (false, 0));
    let mut staff = FieldDevice::login(&app, "js1").await;
    staff.sync().await;
    let s = summary_of(&mut staff, &pid).await.expect("summary");
    assert!(s["flags"]["idle"].is_null(), "{s:?}");

    app.clock().advance_ms(86_400_000);
    assert_eq!(pass(&app).await.expect("pass"), (true, 1));
    let mut staff = FieldDevice::login(&app, "js1").await;
    staff.sync().await;
    let s = summary_of(&mut staff, &pid).await.expect("summary");
    assert_eq!(
        (
            s["flags"]["idle"]["amount"].clone(),
            s["flags"]["idle"]["days"].clone()
        ),
        (json!(500), json!(91)),
        "{s:?}"
    );
    // Looked at once a day while idle (its day count moves on), not twice on one day.
    assert_eq!(pass(&app).await.expect("pass"), (false, 0));
    app.clock().advance_ms(86_400_000);
    assert_eq!(pass(&app).await.expect("pass"), (true, 1));

    // Paid out in full: nothing about it depends on the date any more.
    let paid = json!({"kind": "paid", "amount": 500, "date": today(&app).to_string()});
    let sup = app.user_token("sup2", Role::Supervisor, None).await;
    assert_eq!(entry(&app, &sup, &pid, paid).await.status, 201);
    app.clock().advance_ms(400 * 86_400_000);
    assert_eq!(pass(&app).await.expect("pass"), (false, 0));
}

/// The register history keeps every version of a register record, and none of a ticket's
/// synced copy (whose history is the ticket's event log): filing and handling complaints does
/// not grow the kept versions.
#[tokio::test]
async fn kept_versions_are_of_register_records_not_of_ticket_copies() {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let (_no, _) = anju_tests::complaints::file(&app, "dust", &admin).await;
    let pid = project(&app, &sup, "ZJ-HIST", 10).await;
    let kept = |record_type: &'static str| {
        let mut conn = app.state().db.get().expect("conn");
        diesel::sql_query(format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM register_record_versions \
             WHERE record_type = '{record_type}'"
        ))
        .get_result::<N>(&mut conn)
        .expect("count")
        .n
    };
    let copies = {
        let mut conn = app.state().db.get().expect("conn");
        diesel::sql_query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM sync_records WHERE record_type = 'ticket'",
        )
        .get_result::<N>(&mut conn)
        .expect("count")
        .n
    };
    assert!(copies >= 1, "the filed ticket has a synced copy");
    assert_eq!(kept("ticket"), 0);
    assert!(
        kept("project") >= 1,
        "the new project {pid} has its first version kept"
    );
}
