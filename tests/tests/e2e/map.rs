//! The map (`/api/v1/map`, `/api/v1/public/map`): every figure equals what the registers,
//! the ticket queue and the progress table say for the sample city, counted in the caller's
//! scope; the public map is district-only with nothing personal; bad input is a clear 400.

use std::collections::HashMap;

use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::complaints::{complaint, submit};
use serde_json::{Value, json};

async fn with_programme() -> TestApp {
    TestApp::spawn_with(|c| c.sample_programme = true).await
}

fn year_of(app: &TestApp) -> i16 {
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").expect("tz");
    let ts = jiff::Timestamp::from_millisecond(app.clock().now_ms()).expect("ts");
    tz.to_datetime(ts).year()
}

/// area code → value of a map answer (asserting 200 and that every area is drawn).
fn values(a: &anju_tests::Answer) -> HashMap<String, Value> {
    assert_eq!(a.status, 200, "{:?}", a.body);
    let areas = a.body["areas"].as_array().expect("areas");
    assert!(!areas.is_empty());
    for x in areas {
        let path = x["path"].as_str().unwrap_or("");
        assert!(path.starts_with('M') && path.ends_with('Z'), "{path}");
    }
    areas
        .iter()
        .map(|x| {
            (
                x["code"].as_str().unwrap_or("").to_owned(),
                x["value"].clone(),
            )
        })
        .collect()
}

async fn total(app: &TestApp, token: &str, path: &str) -> i64 {
    let a = app.get(path, Some(token)).await;
    assert_eq!(a.status, 200, "{path}: {:?}", a.body);
    a.body["total"].as_i64().expect("total")
}

#[tokio::test]
async fn register_figures_equal_the_registers_in_the_callers_scope() {
    let app = with_programme().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let insp = app
        .user_token("insp", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    for token in [&sup, &insp] {
        let cd = values(
            &app.get("/api/v1/map?figure=cd_buildings", Some(token))
                .await,
        );
        let hz = values(
            &app.get("/api/v1/map?figure=open_hazards", Some(token))
                .await,
        );
        assert_eq!(cd.len(), 24, "every community is drawn");
        let (mut cd_sum, mut hz_sum) = (0, 0);
        for (code, v) in &cd {
            let c = total(
                &app,
                token,
                &format!("/api/v1/registers/building?grade=C&area={code}&per_page=1"),
            )
            .await;
            let d = total(
                &app,
                token,
                &format!("/api/v1/registers/building?grade=D&area={code}&per_page=1"),
            )
            .await;
            assert_eq!(v.as_i64(), Some(c + d), "C/D buildings of {code}");
            cd_sum += c + d;
            let h = total(
                &app,
                token,
                &format!("/api/v1/registers/hazard?status=open&area={code}&per_page=1"),
            )
            .await;
            assert_eq!(hz[code].as_i64(), Some(h), "open hazards of {code}");
            hz_sum += h;
        }
        // The district level sums its communities.
        let cd_d = values(
            &app.get(
                "/api/v1/map?level=district&figure=cd_buildings",
                Some(token),
            )
            .await,
        );
        assert_eq!(cd_d.len(), 2);
        let district_sum: i64 = cd_d.values().filter_map(Value::as_i64).sum();
        assert_eq!(district_sum, cd_sum);
        if token == &sup {
            assert!(
                cd_sum > 0 && hz_sum > 0,
                "the sample city has C/D buildings and open hazards"
            );
        } else {
            // A street office sees its street only, as on its devices.
            assert!(
                cd.iter()
                    .filter(|(c, _)| !c.starts_with("hexi-jianshe"))
                    .all(|(_, v)| v == &json!(0))
            );
            assert!(cd_sum > 0);
        }
    }
    // plan_percent: the progress table's percent of the programme, per district.
    let year = year_of(&app);
    let progress = app
        .get(&format!("/api/v1/progress?year={year}"), Some(&sup))
        .await;
    assert_eq!(progress.status, 200);
    for programme in ["shantytown", "dangerous_housing", "old_community"] {
        let m = values(
            &app.get(&format!("/api/v1/map?level=district&figure=plan_percent&year={year}&programme={programme}"), Some(&sup))
                .await,
        );
        for d in progress.body["districts"].as_array().expect("districts") {
            let code = d["code"].as_str().expect("code");
            let want = &d["programmes"][programme]["percent"];
            assert_eq!(&m[code], want, "{programme} of {code}");
        }
        assert!(
            m.values().any(Value::is_number),
            "the sample plans give a percent"
        );
    }
}

#[tokio::test]
async fn ticket_figures_equal_the_ticket_queue_and_move_with_the_clock() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let spots = ["hexi-jianshe-1", "hexi-jianshe-1", "hedong-xinhua-2"];
    for code in spots {
        let mut body = complaint(&app, "night_noise").await;
        body["area_id"] = json!(anju_tests::complaints::area_id(&app, code).await);
        let a = submit(&app, &body, None).await;
        assert_eq!(a.status, 201, "{:?}", a.body);
    }
    let open = values(
        &app.get("/api/v1/map?figure=open_tickets", Some(&admin))
            .await,
    );
    assert_eq!(open["hexi-jianshe-1"].as_i64(), Some(2));
    assert_eq!(open["hedong-xinhua-2"].as_i64(), Some(1));
    assert_eq!(open.values().filter_map(Value::as_i64).sum::<i64>(), 3);
    let overdue = values(
        &app.get("/api/v1/map?figure=overdue_tickets", Some(&admin))
            .await,
    );
    assert_eq!(overdue.values().filter_map(Value::as_i64).sum::<i64>(), 0);
    // Past the 24-hour resolution deadline of night noise, all three are overdue, as the queue says.
    app.clock().advance_ms(25 * 3600 * 1000);
    let admin = app.admin_token().await;
    let overdue = values(
        &app.get(
            "/api/v1/map?level=district&figure=overdue_tickets",
            Some(&admin),
        )
        .await,
    );
    let queue = app
        .get(
            "/api/v1/tickets?queue=all&overdue=true&limit=1000",
            Some(&admin),
        )
        .await;
    let listed = queue.body.as_array().expect("list").len() as i64;
    assert_eq!(listed, 3);
    assert_eq!(overdue["hexi"].as_i64(), Some(2));
    assert_eq!(overdue["hedong"].as_i64(), Some(1));
    // Out of scope: a unit of the other district counts none of hexi's tickets by area.
    let other = app
        .user_token("gm", Role::Inspector, Some("hedong_shengli_office"))
        .await;
    let theirs = values(
        &app.get("/api/v1/map?figure=open_tickets", Some(&other))
            .await,
    );
    assert_eq!(theirs["hexi-jianshe-1"].as_i64(), Some(0));
}

#[tokio::test]
async fn the_public_map_is_district_only_and_tells_nothing_personal() {
    let app = with_programme().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let mut body = complaint(&app, "dust").await;
    body["name"] = json!("张三丰");
    assert_eq!(submit(&app, &body, None).await.status, 201);
    let a = app.get("/api/v1/public/map", None).await;
    let public = values(&a);
    assert_eq!(a.body["level"], "district");
    assert_eq!(public.len(), 2, "districts only: {public:?}");
    let allowed = [
        "area_id",
        "code",
        "kind",
        "parent_id",
        "district_id",
        "name_zh",
        "name_en",
        "path",
        "label",
        "value",
    ];
    for x in a.body["areas"].as_array().expect("areas") {
        assert_eq!(x["kind"], "district");
        for k in x.as_object().expect("object").keys() {
            assert!(allowed.contains(&k.as_str()), "unexpected field {k}");
        }
    }
    let text = a.body.to_string();
    for secret in ["张三丰", "1234 5678", "lat", "lon", "phone", "纺织厂"] {
        assert!(!text.contains(secret), "{secret} in the public map");
    }
    assert_eq!(public["hexi"].as_i64(), Some(1));
    let staff = values(&app.get("/api/v1/map?level=district", Some(&sup)).await);
    assert_eq!(staff, public);
    assert!(
        a.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .starts_with("public")
    );
    let pp = app
        .get("/api/v1/public/map?figure=plan_percent", None)
        .await;
    assert_eq!(pp.status, 200, "{:?}", pp.body);
    // Refused on the public map: communities, and the figures about buildings and hazards.
    for (q, code) in [
        ("level=community", "level_not_public"),
        ("figure=open_hazards", "figure_not_public"),
        ("figure=cd_buildings", "figure_not_public"),
    ] {
        let r = app.get(&format!("/api/v1/public/map?{q}"), None).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.body["code"], code, "{q}: {:?}", r.body);
    }
}

#[tokio::test]
async fn bad_questions_are_clear_refusals() {
    let app = TestApp::spawn().await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    assert_eq!(app.get("/api/v1/map", None).await.status, 401);
    for (q, code) in [
        ("figure=open_ticket", "invalid_figure"),
        ("level=street", "invalid_level"),
        ("level=planet", "invalid_level"),
        ("figure=plan_percent", "figure_needs_district"),
        (
            "level=district&figure=plan_percent&year=1999",
            "invalid_year",
        ),
        (
            "level=district&figure=plan_percent&programme=roads",
            "invalid_programme",
        ),
    ] {
        let r = app.get(&format!("/api/v1/map?{q}"), Some(&sup)).await;
        assert_eq!(r.status, 400, "{q}: {:?}", r.body);
        assert_eq!(r.body["code"], code, "{q}: {:?}", r.body);
        assert!(
            r.body["title"].is_string() || r.body["detail"].is_string(),
            "{:?}",
            r.body
        );
    }
    for q in ["year=abc", "colour=red"] {
        let r = app.get(&format!("/api/v1/map?{q}"), Some(&sup)).await;
        assert_eq!(r.status, 400, "{q}: {:?}", r.body);
    }
    let r = app.get("/api/v1/public/map?year=20260", None).await;
    assert_eq!(r.status, 400);
}
