//! Bulletins (通报): a draft computed from real tickets and rectification orders names the slow
//! unit and commends the good one, leaves a small sample unranked and ranks property managers
//! on their facility complaints; issuing numbers it, freezes its figures (a later ticket does
//! not change it; recompute and issue again are 409; the database refuses a change too) and
//! queues its summary in the outbox; a period with no data issues and says so; a future period,
//! a wrong start day and a non-supervisor are refused; the XLSX opens with a sheet per section.

use anju_server::attachments::image::samples;
use anju_server::auth::Role;
use anju_tests::complaints::*;
use anju_tests::{TestApp, USER_PASSWORD};
use diesel::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const GOOD: &str = "hexi_jianshe_office";
const SLOW: &str = "hexi_heping_office";
const SMALL: &str = "hedong_xinhua_office";

const SITE: &[u8] = include_bytes!("../../../web-tests/fixtures/site.jpg");

fn order(unit: &str, area: &str, deadline: &str) -> Value {
    json!({"description": "楼道外墙空鼓脱落", "area_id": area, "unit_id": unit, "severity": "medium",
           "status": "open", "order_no": "青整改〔2031〕3号", "order_issued_on": "2031-03-01",
           "deadline": deadline, "responsible_person": "李明"})
}

/// Files a dust complaint in community `area_code` and returns (tracking code, ticket id).
async fn file_in(app: &TestApp, area_code: &str, category: &str, admin: &str) -> (String, String) {
    let mut body = complaint(app, category).await;
    body["area_id"] = json!(area_id(app, area_code).await);
    let a = submit(app, &body, None).await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    let code = a.body["tracking_code"].as_str().expect("code").to_string();
    let id = ticket_id(app, admin, a.body["ticket_no"].as_str().expect("no")).await;
    (code, id)
}

fn unit<'a>(data: &'a Value, id: &str) -> &'a Value {
    data["units"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["unit_id"] == id))
        .unwrap_or(&Value::Null)
}

async fn outbox_rows(app: &TestApp) -> Vec<(Option<String>, String)> {
    use anju_server::notify::schema::outbox;
    app.state()
        .db
        .run(|conn| {
            Ok(outbox::table
                .filter(outbox::event_kind.eq("bulletin_issued"))
                .select((outbox::unit_id, outbox::payload))
                .load::<(Option<String>, String)>(conn)?)
        })
        .await
        .expect("outbox")
}

#[tokio::test]
async fn a_bulletin_names_the_slow_commends_the_good_and_freezes_when_issued() {
    let mut app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    for code in [GOOD, SLOW, "housing_bureau"] {
        add_target(
            &app,
            code,
            "wecom",
            &format!("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={code}"),
            None,
        )
        .await;
    }
    app.restart().await;
    set_time(&app, "2031-03-03T01:00:00Z"); // Monday 09:00 in the city
    let admin = app.admin_token().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let good = app.user_token("good", Role::UnitStaff, Some(GOOD)).await;
    let slow = app.user_token("slow", Role::UnitStaff, Some(SLOW)).await;
    let (good_id, slow_id, small_id) = (
        app.unit_id(GOOD).await,
        app.unit_id(SLOW).await,
        app.unit_id(SMALL).await,
    );
    let photo = upload(&app, samples::png_with_text(), "image/png")
        .await
        .body["id"]
        .clone();

    // The good unit: five complaints accepted at once, resolved, confirmed with 5 stars.
    for _ in 0..5 {
        let (code, id) = file_in(&app, "hexi-jianshe-1", "dust", &admin).await;
        let r = app
            .post(
                &format!("/api/v1/tickets/{id}/accept"),
                Some(&good),
                &json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let r = app
            .post(
                &format!("/api/v1/tickets/{id}/resolve"),
                Some(&good),
                &json!({"result": "已洒水降尘", "photos": [photo]}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let r = app
            .post(
                &format!("/api/v1/track/{code}/confirm"),
                None,
                &json!({"rating": 5}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    // The slow unit: five complaints never accepted. The small one: two.
    for _ in 0..5 {
        file_in(&app, "hexi-heping-1", "dust", &admin).await;
    }
    for _ in 0..2 {
        file_in(&app, "hedong-xinhua-1", "dust", &admin).await;
    }
    // Orders due on Wednesday: the good unit rectifies on Monday, the slow one never does.
    let photo_bytes = SITE.to_vec();
    let sha = hex::encode(Sha256::digest(&photo_bytes));
    let r = app
        .client
        .put(app.url(&format!("/api/v1/attachments/{sha}")))
        .bearer_auth(&good)
        .body(photo_bytes)
        .send()
        .await
        .expect("put");
    assert!(r.status().is_success(), "{}", r.status());
    let good_area = area_id(&app, "hexi-jianshe-1").await;
    let slow_area = area_id(&app, "hexi-heping-1").await;
    let r = app
        .post(
            "/api/v1/registers/hazard",
            Some(&good),
            &json!({"fields": order(&good_id, &good_area, "2031-03-05")}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let hazard = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/registers/hazard/{hazard}/actions"),
            Some(&good),
            &json!({"action": "rectify", "photos": [sha], "note": "已修复"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app
        .post(
            "/api/v1/registers/hazard",
            Some(&slow),
            &json!({"fields": order(&slow_id, &slow_area, "2031-03-05")}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // A property manager with a community in its care and one facility complaint (too few).
    let project = app
        .post("/api/v1/registers/project", Some(&sup), &json!({"fields": {"name": "建设一社区改造", "programme": "old_community", "status": "completed", "planned_units": 80, "area_id": good_area, "unit_id": good_id}}))
        .await;
    assert_eq!(project.status, 200, "{:?}", project.body);
    let r = app
        .post("/api/v1/upkeep/handovers", Some(&sup), &json!({"project_id": project.body["id"], "unit_id": "pm_hengan", "took_over_on": "2031-03-01"}))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    file_in(&app, "hexi-jianshe-1", "damaged_facility", &admin).await;

    // A week later, in the same month: the slow unit's order is overdue.
    set_time(&app, "2031-03-10T02:00:00Z");
    let sup = app.login("sup", USER_PASSWORD).await;
    let staff = app.login("good", USER_PASSWORD).await;
    let admin = app.admin_token().await;
    let body =
        json!({"kind": "monthly", "period_start": "2031-03-01", "remarks": "请各单位对照整改。"});
    let r = app.post("/api/v1/bulletins", Some(&staff), &body).await;
    assert_eq!((r.status, r.code()), (403, "role_not_allowed"));
    for (kind, start, code) in [
        ("monthly", "2031-04-01", "period_in_future"),
        ("weekly", "2031-03-04", "period_not_monday"),
        ("monthly", "2031-03-02", "period_not_first_of_month"),
        ("daily", "2031-03-01", "invalid_kind"),
        ("monthly", "March", "invalid_date"),
    ] {
        let r = app
            .post(
                "/api/v1/bulletins",
                Some(&sup),
                &json!({"kind": kind, "period_start": start}),
            )
            .await;
        assert_eq!((r.status, r.code()), (422, code), "{kind} {start}");
    }
    let r = app.post("/api/v1/bulletins", Some(&sup), &body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["status"], "draft");
    assert_eq!(r.body["number"], Value::Null);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let d = &r.body["data"];
    assert_eq!(d["has_data"], true);
    assert_eq!(d["period"]["end"], "2031-03-31");
    assert_eq!(d["period"]["through"], "2031-03-10");
    let g = unit(d, &good_id);
    assert_eq!(
        (g["dispatched"].as_u64(), g["response_rate"].as_f64()),
        (Some(5), Some(100.0)),
        "{g}"
    );
    assert_eq!(g["satisfaction_rate"], 100.0);
    assert_eq!(
        (g["orders"]["due"].as_u64(), g["orders"]["on_time"].as_u64()),
        (Some(1), Some(1)),
        "{g}"
    );
    assert_eq!(g["orders"]["on_time_rate"], 100.0);
    assert_eq!(g["standing"]["verdict"], "commended");
    assert_eq!(g["standing"]["rank"], 1);
    let s = unit(d, &slow_id);
    assert_eq!(
        (s["dispatched"].as_u64(), s["response_rate"].as_f64()),
        (Some(5), Some(0.0)),
        "{s}"
    );
    assert_eq!(s["orders"]["overdue_open"], 1);
    assert_eq!(s["overdue_orders"], 1);
    assert_eq!(s["standing"]["verdict"], "criticised");
    assert!(
        s["standing"]["below"]
            .as_array()
            .unwrap()
            .contains(&json!("response_rate"))
    );
    let small = unit(d, &small_id);
    assert_eq!(small["dispatched"], 2);
    assert_eq!(small["standing"]["small_sample"], true);
    assert_eq!(small["standing"]["rank"], Value::Null);
    assert_eq!(small["standing"]["verdict"], Value::Null);
    let names = |k: &str| -> Vec<String> {
        d[k].as_array()
            .unwrap()
            .iter()
            .map(|n| n["unit_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("criticised"), vec![slow_id.clone()]);
    assert_eq!(names("commended"), vec![good_id.clone()]);
    assert!(
        d["overdue"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["unit_id"] == slow_id && o["overdue_orders"] == 1)
    );
    let pm = app.unit_id("pm_hengan").await;
    let m = d["property_managers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["unit_id"] == pm)
        .expect("pm listed");
    assert_eq!(m["received"], 1, "{m}");
    assert_eq!(m["standing"]["small_sample"], true);
    assert_eq!(m["communities"][0]["took_over_on"], "2031-03-01");

    // Drafts are supervision's: other staff neither list nor read them.
    let l = app.get("/api/v1/bulletins", Some(&staff)).await;
    assert_eq!(
        l.body["items"].as_array().map(Vec::len),
        Some(0),
        "{:?}",
        l.body
    );
    assert_eq!(
        app.get(&format!("/api/v1/bulletins/{id}"), Some(&staff))
            .await
            .code(),
        "bulletin_not_found"
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/bulletins/{id}/issue"),
            Some(&staff),
            &json!({})
        )
        .await
        .status,
        403
    );

    // Issue: numbered, frozen, summary queued to the named, the commended and the bureau.
    let r = app
        .post(
            &format!("/api/v1/bulletins/{id}/issue"),
            Some(&sup),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "issued");
    assert_eq!(r.body["number"], "2031年第1期");
    let sha = r.body["data_sha256"].clone();
    let bureau = app.unit_id("housing_bureau").await;
    let queued = outbox_rows(&app).await;
    for u in [&good_id, &slow_id, &bureau] {
        assert!(
            queued
                .iter()
                .any(|(unit, _)| unit.as_deref() == Some(u.as_str())),
            "{u} told: {queued:?}"
        );
    }
    let (_, payload) = queued
        .iter()
        .find(|(u, _)| u.as_deref() == Some(slow_id.as_str()))
        .unwrap();
    let msg: Value = serde_json::from_str(payload).unwrap();
    assert_eq!(msg["ticket_no"], "2031年第1期");
    assert!(msg["text"].as_str().unwrap().contains("通报批评"), "{msg}");
    for code in ["bulletin_issued"] {
        for action in ["issue", "recompute"] {
            let r = app
                .post(
                    &format!("/api/v1/bulletins/{id}/{action}"),
                    Some(&sup),
                    &json!({}),
                )
                .await;
            assert_eq!((r.status, r.code()), (409, code), "{action}");
        }
        let r = app
            .call(
                reqwest::Method::DELETE,
                &format!("/api/v1/bulletins/{id}"),
                Some(&sup),
                None,
            )
            .await;
        assert_eq!((r.status, r.code()), (409, code));
    }
    assert_eq!(outbox_rows(&app).await.len(), queued.len(), "issued once");

    // A later complaint to the slow unit changes a new draft, not the issued bulletin.
    file_in(&app, "hexi-heping-1", "dust", &admin).await;
    let again = app.post("/api/v1/bulletins", Some(&sup), &body).await;
    assert_eq!(again.status, 201);
    assert_eq!(unit(&again.body["data"], &slow_id)["dispatched"], 6);
    let issued = app
        .get(&format!("/api/v1/bulletins/{id}"), Some(&staff))
        .await;
    assert_eq!(issued.status, 200, "other staff read the issued one");
    assert_eq!(unit(&issued.body["data"], &slow_id)["dispatched"], 5);
    assert_eq!(issued.body["data_sha256"], sha);
    let second = again.body["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/bulletins/{second}/issue"),
            Some(&sup),
            &json!({}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "period_already_issued"));
    let r = app
        .post(
            &format!("/api/v1/bulletins/{second}/recompute"),
            Some(&sup),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "a draft recomputes");
    let r = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/bulletins/{second}"),
            Some(&sup),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    // Not even the database lets an issued row change.
    let key = id.clone();
    let changed = app
        .state()
        .db
        .run(move |conn| {
            use anju_server::bulletins::schema::bulletins as b;
            Ok(diesel::update(b::table.find(key))
                .set(b::title.eq("改过的标题"))
                .execute(conn)?)
        })
        .await;
    assert!(changed.is_err(), "the trigger refuses: {changed:?}");

    // Listing: staff see the issued one; filters by kind, status and year.
    let l = app
        .get(
            "/api/v1/bulletins?kind=monthly&status=issued&year=2031",
            Some(&staff),
        )
        .await;
    let items = l.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:?}", l.body);
    assert_eq!(items[0]["number"], "2031年第1期");
    assert_eq!(items[0]["summary"]["criticised"][0]["unit_id"], slow_id);
    assert_eq!(
        app.get("/api/v1/bulletins?year=2030", Some(&staff))
            .await
            .body["items"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    assert_eq!(
        app.get("/api/v1/bulletins?status=maybe", Some(&sup))
            .await
            .code(),
        "invalid_status"
    );

    // The workbook: a sheet per section, the units' verdicts in Chinese.
    use calamine::{Reader, Xlsx};
    let res = app
        .client
        .get(app.url(&format!("/api/v1/bulletins/{id}/xlsx")))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("xlsx");
    assert_eq!(res.status().as_u16(), 200);
    let bytes = res.bytes().await.expect("bytes").to_vec();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("workbook");
    let sheets = wb.sheet_names();
    for s in [
        "说明",
        "计划完成情况",
        "单位考核",
        "超期情况",
        "物业服务企业",
    ] {
        assert!(sheets.iter().any(|n| n == s), "{sheets:?}");
    }
    let range = wb.worksheet_range("单位考核").expect("range");
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert!(rows[0].contains(&"响应率(%)".to_owned()), "{:?}", rows[0]);
    assert!(rows.iter().any(|r| r.iter().any(|c| c.contains("建设街道")) && r.contains(&"通报表扬".to_owned())), "{rows:?}");
    assert!(rows.iter().any(|r| r.iter().any(|c| c.contains("和平街道")) && r.contains(&"通报批评".to_owned())));
    assert!(rows.iter().any(|r| r.iter().any(|c| c.contains("新华街道")) && r.contains(&"样本不足".to_owned())));
    let overview = wb.worksheet_range("说明").expect("range");
    assert!(overview.rows().any(|r| {
        r.iter()
            .any(|c| matches!(c, calamine::Data::String(s) if s == "2031年第1期"))
    }));
}

#[tokio::test]
async fn a_period_without_data_is_issued_and_says_so() {
    let mut app = TestApp::spawn_with(|c| c.background_jobs = false).await;
    add_target(
        &app,
        "housing_bureau",
        "dingtalk",
        "https://oapi.dingtalk.com/robot/send?access_token=t",
        None,
    )
    .await;
    app.restart().await;
    set_time(&app, "2031-06-02T02:00:00Z");
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let r = app
        .post(
            "/api/v1/bulletins",
            Some(&sup),
            &json!({"kind": "weekly", "period_start": "2031-05-26", "title": "第22周通报"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["title"], "第22周通报");
    assert_eq!(r.body["data"]["has_data"], false);
    assert_eq!(r.body["data"]["period"]["complete"], true);
    assert_eq!(r.body["data"]["units"].as_array().map(Vec::len), Some(0));
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/bulletins/{id}/issue"),
            Some(&sup),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["number"], "2031年第1期");
    let queued = outbox_rows(&app).await;
    assert_eq!(queued.len(), 1, "the bureau alone: nobody named");
    let msg: Value = serde_json::from_str(&queued[0].1).unwrap();
    assert!(
        msg["text"].as_str().unwrap().contains("本期无数据"),
        "{msg}"
    );
    // The next one that year takes the next number.
    let r = app
        .post(
            "/api/v1/bulletins",
            Some(&sup),
            &json!({"kind": "monthly", "period_start": "2031-05-01"}),
        )
        .await;
    let next = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/bulletins/{next}/issue"),
            Some(&sup),
            &json!({}),
        )
        .await;
    assert_eq!(r.body["number"], "2031年第2期", "{:?}", r.body);
    assert_eq!(
        app.get("/api/v1/bulletins/nope", Some(&sup)).await.code(),
        "bulletin_not_found"
    );
}
