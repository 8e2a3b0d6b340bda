//! Open311 GeoReport v2 as a 311 client meets it: discovery, services, definitions, posting with
//! an api_key, reading requests and tokens, in JSON and XML, with the spec's error lists.

use anju_tests::TestApp;
use anju_tests::complaints::*;
use serde_json::Value;

async fn key(app: &TestApp) -> String {
    app.state()
        .db
        .run(|conn| anju_server::apikeys::create(conn, "311 app", 0))
        .await
        .expect("key")
        .1
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let res = reqwest::Client::new()
        .post(app.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn get_text(app: &TestApp, path: &str) -> (u16, String, String) {
    let res = reqwest::get(app.url(path)).await.unwrap();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (res.status().as_u16(), ct, res.text().await.unwrap())
}

#[tokio::test]
async fn discovery_services_and_definitions_in_json_and_xml() {
    let app = TestApp::spawn().await;
    let d = app.get("/open311/v2/discovery.json", None).await;
    assert_eq!(d.status, 200);
    assert_eq!(
        d.body["endpoints"][0]["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    let (s, ct, x) = get_text(&app, "/open311/v2/discovery.xml").await;
    assert_eq!(s, 200);
    assert!(ct.starts_with("text/xml"));
    assert!(
        x.contains("<discovery>")
            && x.contains("<endpoints><endpoint>")
            && x.contains("<format>text/xml</format>")
    );

    let s = app.get("/open311/v2/services.json", None).await;
    let list = s.body.as_array().unwrap();
    let dust = list.iter().find(|x| x["service_code"] == "dust").unwrap();
    assert_eq!(dust["metadata"], true);
    assert_eq!(dust["type"], "realtime");
    let (_, _, x) = get_text(&app, "/open311/v2/services.xml").await;
    assert!(x.contains("<services><service>") && x.contains("<service_code>dust</service_code>"));

    let def = app.get("/open311/v2/services/dust.json", None).await;
    assert_eq!(def.body["service_code"], "dust");
    assert_eq!(def.body["attributes"][0]["code"], "community");
    assert_eq!(def.body["attributes"][0]["datatype"], "singlevaluelist");
    assert!(
        def.body["attributes"][0]["values"]
            .as_array()
            .unwrap()
            .len()
            >= 20
    );
    let (_, _, x) = get_text(&app, "/open311/v2/services/dust.xml").await;
    assert!(
        x.contains("<service_definition>")
            && x.contains("<attributes><attribute>")
            && x.contains("<values><value><key>")
    );

    let e = app.get("/open311/v2/services/nope.json", None).await;
    assert_eq!(e.status, 404);
    assert_eq!(e.body[0]["code"], 404);
    assert!(e.body[0]["description"].is_string());
    let (s, _, x) = get_text(&app, "/open311/v2/services/nope.xml").await;
    assert_eq!(s, 404);
    assert!(x.contains("<errors><error><code>404</code><description>"));
    assert_eq!(
        app.get("/open311/v2/services.json?jurisdiction_id=qinghe", None)
            .await
            .status,
        200
    );
    assert_eq!(
        app.get("/open311/v2/services.json?jurisdiction_id=elsewhere", None)
            .await
            .status,
        404
    );
    assert_eq!(app.get("/open311/v2/services", None).await.status, 404);
}

#[tokio::test]
async fn posting_and_reading_requests() {
    let app = TestApp::spawn().await;
    let key = key(&app).await;
    let area = area_id(&app, "hexi-jianshe-1").await;
    let form = |k: &'static str| {
        vec![
            ("service_code", "dust"),
            ("description", "工地扬尘很大，没有覆盖"),
            ("first_name", "丽"),
            ("last_name", "张"),
            ("phone", "13812345678"),
            ("api_key", k),
        ]
    };
    let mut f = form("wrong");
    f.push(("attribute[community]", &area));
    let (s, body) = post_form(&app, "/open311/v2/requests.json", &f).await;
    assert_eq!(s, 403, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["code"], 403);
    let f: Vec<(&str, &str)> = form("")
        .into_iter()
        .filter(|p| p.0 != "api_key")
        .chain([("attribute[community]", area.as_str())])
        .collect();
    assert_eq!(
        post_form(&app, "/open311/v2/requests.json", &f).await.0,
        403
    );

    let k: &'static str = Box::leak(key.clone().into_boxed_str());
    let no_location = form(k);
    let (s, body) = post_form(&app, "/open311/v2/requests.json", &no_location).await;
    assert_eq!(s, 400, "{body}");
    let mut outside = form(k);
    outside.extend([("lat", "39.9"), ("long", "116.4")]);
    let (s, body) = post_form(&app, "/open311/v2/requests.json", &outside).await;
    assert_eq!(s, 400);
    assert!(body.contains("outside_jurisdiction"));
    let mut short = form(k);
    short[1] = ("description", "脏");
    short.push(("attribute[community]", &area));
    assert_eq!(
        post_form(&app, "/open311/v2/requests.json", &short).await.0,
        422
    );

    let mut good = form(k);
    good.push(("attribute[community]", &area));
    let (s, body) = post_form(&app, "/open311/v2/requests.json", &good).await;
    assert_eq!(s, 201, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let id = v[0]["service_request_id"].as_str().unwrap().to_string();
    let token = v[0]["token"].as_str().unwrap().to_string();
    let mut point = form(k);
    point.extend([("lat", "43.81"), ("long", "125.20")]);
    let (s, xml) = post_form(&app, "/open311/v2/requests.xml", &point).await;
    assert_eq!(s, 201);
    assert!(xml.contains("<service_requests><request>") && xml.contains("<service_request_id>"));

    let r = app
        .get(&format!("/open311/v2/requests/{id}.json"), None)
        .await;
    assert_eq!(r.status, 200);
    let arr = r.body.as_array().unwrap();
    assert_eq!(arr.len(), 1);
    assert_eq!(arr[0]["service_request_id"], id.as_str());
    assert_eq!(arr[0]["status"], "open");
    assert!(
        arr[0]["agency_responsible"]
            .as_str()
            .unwrap()
            .contains("建设街道")
    );
    assert!(
        arr[0]["expected_datetime"]
            .as_str()
            .unwrap()
            .ends_with("+08:00")
    );
    assert!(
        arr[0]["requested_datetime"]
            .as_str()
            .unwrap()
            .ends_with("+08:00")
    );
    assert!(
        !r.body.to_string().contains("13812345678"),
        "no personal data"
    );
    let (_, _, x) = get_text(&app, &format!("/open311/v2/requests/{id}.xml")).await;
    assert!(x.contains("<agency_responsible>") && x.contains("<status>open</status>"));

    let all = app
        .get(
            "/open311/v2/requests.json?status=open&service_code=dust",
            None,
        )
        .await;
    assert_eq!(all.body.as_array().unwrap().len(), 2);
    let none = app
        .get("/open311/v2/requests.json?status=closed", None)
        .await;
    assert_eq!(none.body.as_array().unwrap().len(), 0);
    let bad = app
        .get("/open311/v2/requests.json?start_date=yesterday", None)
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body[0]["code"], 400);
    let t = app
        .get(&format!("/open311/v2/tokens/{token}.json"), None)
        .await;
    assert_eq!(t.body[0]["service_request_id"], id.as_str());
    assert_eq!(
        app.get("/open311/v2/tokens/nope.json", None).await.status,
        404
    );
    assert_eq!(
        app.get("/open311/v2/requests/1999-000000.json", None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn deep_pages_by_keyset_cursor_give_the_same_list_as_offset_pages() {
    let app = TestApp::spawn().await;
    // Two instants with several requests each: the cursor must order ties by id as the list does.
    set_time(&app, "2026-11-10T02:00:00Z");
    for i in 0..9 {
        if i == 5 {
            set_time(&app, "2026-11-10T02:01:00Z");
        }
        let body = complaint(&app, "dust").await;
        let r = submit(&app, &body, None).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("list")
            .iter()
            .map(|r| r["service_request_id"].as_str().expect("id").to_string())
            .collect()
    };
    let all = ids(&app.get("/open311/v2/requests.json", None).await.body);
    assert_eq!(all.len(), 9);
    // OFFSET pages still answer as before.
    let mut by_page = Vec::new();
    for p in 1..=5 {
        let r = app
            .get(
                &format!("/open311/v2/requests.json?page_size=2&page={p}"),
                None,
            )
            .await;
        assert_eq!(r.status, 200);
        by_page.extend(ids(&r.body));
    }
    assert_eq!(by_page, all);
    // Keyset pages: each starts after the last request of the one before.
    let mut by_cursor: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..6 {
        let path = match &after {
            Some(a) => format!("/open311/v2/requests.json?page_size=2&after={a}"),
            None => "/open311/v2/requests.json?page_size=2".to_string(),
        };
        let r = app.get(&path, None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let page = ids(&r.body);
        if page.is_empty() {
            break;
        }
        after = page.last().cloned();
        by_cursor.extend(page);
    }
    assert_eq!(by_cursor, all);
    // The cursor combines with the other filters.
    let closed = app
        .get(
            &format!("/open311/v2/requests.json?status=closed&after={}", all[0]),
            None,
        )
        .await;
    assert_eq!(closed.status, 200);
    assert_eq!(ids(&closed.body), Vec::<String>::new());
    let (_, _, xml) = get_text(
        &app,
        &format!("/open311/v2/requests.xml?page_size=3&after={}", all[2]),
    )
    .await;
    assert!(xml.contains(&format!(
        "<service_request_id>{}</service_request_id>",
        all[3]
    )));
    assert!(!xml.contains(&format!(
        "<service_request_id>{}</service_request_id>",
        all[2]
    )));
    // Bad input: an unknown cursor, or both ways of paging at once.
    let r = app
        .get("/open311/v2/requests.json?after=1999-000000", None)
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(
        r.body[0]["description"]
            .as_str()
            .unwrap()
            .contains("unknown_cursor")
    );
    let r = app
        .get(
            &format!("/open311/v2/requests.json?page=2&after={}", all[0]),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
}
