//! Register lists answered by SQL on the register columns (`registers/columns.rs`): on the
//! sample programme, every filter, text search, sort and the unit scope give exactly what the
//! former in-memory list gave — re-implemented here as the reference over the caller's whole
//! register (read page by page in the default order).

use std::cmp::Ordering;

use anju_server::auth::Role;
use anju_tests::TestApp;
use serde_json::Value;

fn today(app: &TestApp) -> String {
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").expect("tz");
    let ts = jiff::Timestamp::from_millisecond(app.clock().now_ms()).expect("ts");
    tz.to_datetime(ts).date().to_string()
}

/// Every item of `register` the caller sees (default order), read 200 at a time.
async fn everything(app: &TestApp, token: &str, register: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let a = app
            .get(
                &format!("/api/v1/registers/{register}?per_page=200&page={page}"),
                Some(token),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        let items = a.body["items"].as_array().cloned().unwrap_or_default();
        let done = items.len() < 200;
        out.extend(items);
        if done {
            break;
        }
    }
    out
}

/// The former in-memory filter of one query parameter over a list item.
fn keeps(register: &str, item: &Value, key: &str, value: &str, today: &str) -> bool {
    let f = &item["fields"];
    let text = |k: &str| f[k].as_str();
    match key {
        "grade" => {
            text(if register == "building" {
                "safety_grade"
            } else {
                "grade"
            }) == Some(value)
        }
        "severity" => text("severity") == Some(value),
        "status" => text("status") == Some(value),
        "programme" => text("programme") == Some(value),
        "area" => {
            ["district", "street", "community"]
                .iter()
                .any(|k| item["area"][k]["code"] == value)
                || item["area"]["code"] == value
        }
        "overdue" => match register {
            "hazard" => {
                text("status") == Some("open") && text("deadline").is_some_and(|d| d < today)
            }
            "project" => {
                text("status") != Some("completed")
                    && text("planned_completion").is_some_and(|d| d < today)
            }
            _ => false,
        },
        "from" | "to" => {
            let field = match register {
                "project" => "actual_start",
                "inspection" => "inspected_at",
                "hazard" => "order_issued_on",
                _ => "",
            };
            text(field)
                .map(|s| s.get(..10).unwrap_or(s))
                .is_some_and(|d| {
                    if key == "from" {
                        d >= value
                    } else {
                        d <= value
                    }
                })
        }
        "q" => {
            let q = value.to_lowercase();
            let in_fields = f.as_object().is_some_and(|o| {
                o.values()
                    .filter_map(Value::as_str)
                    .any(|s| s.to_lowercase().contains(&q))
            });
            let area = &item["area"];
            in_fields
                || area["name_zh"]
                    .as_str()
                    .is_some_and(|n| n.contains(q.as_str()))
                || area["name_en"]
                    .as_str()
                    .is_some_and(|n| n.to_lowercase().contains(&q))
        }
        _ => true,
    }
}

/// The former in-memory order: numbers by value, other values by their JSON text, missing
/// last in both directions, then by id.
fn compare(a: &Value, b: &Value, sort: &str, desc: bool) -> Ordering {
    let o = if sort == "updated_at" {
        a["updated_at"].as_i64().cmp(&b["updated_at"].as_i64())
    } else {
        match (&a["fields"][sort], &b["fields"][sort]) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Null, _) => return Ordering::Greater,
            (_, Value::Null) => return Ordering::Less,
            (x, y) => match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => x.to_string().cmp(&y.to_string()),
            },
        }
    };
    let o = if desc { o.reverse() } else { o };
    o.then_with(|| a["id"].as_str().cmp(&b["id"].as_str()))
}

#[tokio::test]
async fn sql_lists_answer_what_the_in_memory_lists_answered() {
    let app = TestApp::spawn_with(|c| c.sample_programme = true).await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let office = app
        .user_token("office", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let today = today(&app);
    let year = &today[..4];
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("building", vec![("grade", "C".into())]),
        (
            "building",
            vec![
                ("grade", "D".into()),
                ("area", "hexi".into()),
                ("sort", "address".into()),
            ],
        ),
        ("building", vec![("q", "新村".into())]),
        ("building", vec![("q", "%".into())]),
        (
            "building",
            vec![("sort", "address".into()), ("order", "desc".into())],
        ),
        (
            "building",
            vec![("sort", "floors".into()), ("order", "desc".into())],
        ),
        (
            "building",
            vec![
                ("sort", "safety_grade".into()),
                ("area", "hexi-jianshe".into()),
            ],
        ),
        (
            "project",
            vec![
                ("status", "in_progress".into()),
                ("sort", "actual_start".into()),
            ],
        ),
        (
            "project",
            vec![("sort", "actual_start".into()), ("order", "desc".into())],
        ),
        (
            "project",
            vec![
                ("programme", "shantytown".into()),
                ("sort", "planned_units".into()),
            ],
        ),
        ("project", vec![("overdue", "true".into())]),
        (
            "project",
            vec![
                ("from", format!("{year}-03-01")),
                ("to", format!("{year}-09-30")),
            ],
        ),
        (
            "project",
            vec![("q", "棚户区".into()), ("sort", "name".into())],
        ),
        (
            "inspection",
            vec![
                ("grade", "C".into()),
                ("sort", "inspected_at".into()),
                ("order", "desc".into()),
            ],
        ),
        ("inspection", vec![("from", format!("{year}-01-01"))]),
        (
            "hazard",
            vec![("overdue", "true".into()), ("sort", "deadline".into())],
        ),
        ("hazard", vec![("severity", "high".into())]),
        (
            "hazard",
            vec![
                ("status", "open".into()),
                ("sort", "severity".into()),
                ("order", "desc".into()),
            ],
        ),
    ];
    let mut compared = 0;
    for token in [&sup, &office] {
        for (register, params) in &cases {
            let all = everything(&app, token, register).await;
            let mut expected: Vec<Value> = all
                .into_iter()
                .filter(|i| params.iter().all(|(k, v)| keeps(register, i, k, v, &today)))
                .collect();
            let get = |k: &str| {
                params
                    .iter()
                    .find(|(p, _)| *p == k)
                    .map(|(_, v)| v.as_str())
            };
            let sort = get("sort").unwrap_or("updated_at");
            let desc = get("order").map_or(sort == "updated_at", |o| o == "desc");
            expected.sort_by(|a, b| compare(a, b, sort, desc));
            let query: Vec<String> = params
                .iter()
                .map(|(k, v)| format!("{k}={}", urlencoding(v)))
                .collect();
            let a = app
                .get(
                    &format!(
                        "/api/v1/registers/{register}?per_page=200&{}",
                        query.join("&")
                    ),
                    Some(token),
                )
                .await;
            assert_eq!(a.status, 200, "{register} {params:?}: {:?}", a.body);
            let got: Vec<&str> = a.body["items"]
                .as_array()
                .map(|v| v.iter().filter_map(|i| i["id"].as_str()).collect())
                .unwrap_or_default();
            let want: Vec<&str> = expected.iter().filter_map(|i| i["id"].as_str()).collect();
            assert_eq!(
                a.body["total"].as_u64(),
                Some(want.len() as u64),
                "{register} {params:?}"
            );
            assert_eq!(got, want, "{register} {params:?}");
            compared += want.len();
        }
    }
    // The sample data makes most cases non-empty, so the comparison is not vacuous.
    assert!(compared > 500, "only {compared} rows compared");
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
