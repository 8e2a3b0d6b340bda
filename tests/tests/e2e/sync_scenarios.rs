//! The sync scenarios of `tests/scenarios/field_sync.json`, driven by the Rust device library
//! (`anju_client`). `web-tests/tests/field_scenarios.test.mjs` runs the same file with the field
//! app in Chromium, so the reference client and the phone are held to the same outcomes (records,
//! conflicts and refusals on the server; what each device holds) on the same server scenarios.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anju_client::Device;
use anju_server::auth::Role;
use anju_tests::field::Link;
use anju_tests::{TestApp, USER_PASSWORD};
use serde_json::Value;
use uuid::Uuid;

const SCENARIOS: &str = include_str!("../../scenarios/field_sync.json");

/// What one device holds after a scenario.
#[derive(Debug)]
struct Held {
    pending: u64,
    conflicts: u64,
    rejected: Vec<String>,
    fields: HashMap<String, Option<BTreeMap<String, Value>>>,
}

/// Every `"$area:CODE"` / `"$unit:CODE"` string in `v`.
fn placeholders(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.starts_with("$area:") || s.starts_with("$unit:") => {
            out.push(s.clone())
        }
        Value::Array(a) => a.iter().for_each(|x| placeholders(x, out)),
        Value::Object(o) => o.values().for_each(|x| placeholders(x, out)),
        _ => {}
    }
}

fn fields_of(v: &Value, ids: &HashMap<String, String>) -> BTreeMap<String, Value> {
    v.as_object()
        .expect("fields")
        .iter()
        .map(|(k, x)| {
            let x = match x.as_str().and_then(|s| ids.get(s)) {
                Some(id) => Value::String(id.clone()),
                None => x.clone(),
            };
            (k.clone(), x)
        })
        .collect()
}

/// The office's change of record `id` (a supervisor's PATCH at the record's current version).
fn office_edit(
    rt: &tokio::runtime::Handle,
    base: &str,
    token: &str,
    id: Uuid,
    fields: BTreeMap<String, Value>,
) {
    rt.block_on(async {
        let http = reqwest::Client::new();
        let url = format!("{base}/api/v1/registers/hazard/{id}");
        let page: Value = http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("record page")
            .json()
            .await
            .expect("record page JSON");
        let version = page["record"]["version"].as_i64().expect("version");
        let res = http
            .patch(&url)
            .bearer_auth(token)
            .json(&serde_json::json!({"base_version": version, "fields": fields}))
            .send()
            .await
            .expect("office edit");
        assert!(res.status().is_success(), "office edit: {}", res.status());
    });
}

/// Runs the steps of `sc` with one `anju_client` device per name; blocking (the library is),
/// the office's steps through `rt`.
fn run_devices(
    rt: &tokio::runtime::Handle,
    (base, sup): (&str, &str),
    dir: &std::path::Path,
    sc: &Value,
    ids: &HashMap<String, String>,
) -> (HashMap<String, Uuid>, HashMap<String, Held>) {
    let mut devices: HashMap<String, (Device, Arc<Link>)> = HashMap::new();
    for name in sc["devices"].as_array().expect("devices") {
        let name = name.as_str().expect("device name").to_string();
        let link = Arc::new(Link::new(base));
        let mut d = Device::open(dir.join(&name)).expect("device store");
        d.connect(link.clone());
        d.login("unit.tester", USER_PASSWORD, &name).expect("login");
        d.sync().expect("first sync");
        devices.insert(name, (d, link));
    }
    let mut records: HashMap<String, Uuid> = HashMap::new();
    for step in sc["steps"].as_array().expect("steps") {
        if let Some(r) = step["office"].as_str() {
            office_edit(rt, base, sup, records[r], fields_of(&step["fields"], ids));
            continue;
        }
        let (d, link) = devices
            .get_mut(step["on"].as_str().expect("on"))
            .expect("a device of the scenario");
        if step.get("offline").is_some() {
            link.set_offline(true);
        } else if step.get("online").is_some() {
            link.set_offline(false);
        } else if let Some(ty) = step["create"].as_str() {
            let id = d
                .create(ty, fields_of(&step["fields"], ids))
                .expect("create");
            records.insert(step["as"].as_str().expect("as").to_string(), id);
        } else if let Some(r) = step["edit"].as_str() {
            d.edit(records[r], fields_of(&step["fields"], ids))
                .expect("edit");
        } else if step.get("sync").is_some() {
            d.sync().expect("sync");
        } else if let Some(ty) = step["create_during_reset"].as_str() {
            link.reset_next_pull();
            let id = d
                .create(ty, fields_of(&step["fields"], ids))
                .expect("create");
            records.insert(step["as"].as_str().expect("as").to_string(), id);
            let pulled = d.pull().expect("pull");
            assert!(pulled.reset, "the server's reset was taken");
            assert_eq!(
                d.status().expect("status").pending,
                1,
                "the unsent record survives the reset"
            );
            d.sync().expect("sync after the reset");
        } else if let Some(r) = step["edit_during_reset"].as_str() {
            link.reset_next_pull();
            d.edit(records[r], fields_of(&step["fields"], ids))
                .expect("edit");
            let pulled = d.pull().expect("pull");
            assert!(pulled.reset, "the server's reset was taken");
            assert_eq!(
                d.status().expect("status").pending,
                1,
                "the unsent edit survives the reset"
            );
            d.sync().expect("sync after the reset");
        } else {
            panic!("unknown step {step}");
        }
    }
    let mut held = HashMap::new();
    for (name, (d, _)) in &mut devices {
        let st = d.status().expect("status");
        let rejected = d
            .rejected()
            .expect("rejected")
            .into_iter()
            .map(|r| r.code)
            .collect();
        let fields = records
            .iter()
            .map(|(k, id)| (k.clone(), d.show(*id).expect("show").map(|r| r.fields)))
            .collect();
        held.insert(
            name.clone(),
            Held {
                pending: st.pending,
                conflicts: st.conflicts,
                rejected,
                fields,
            },
        );
    }
    (records, held)
}

/// Each expected field of `want` (placeholders resolved through `ids`) equals the one in `got`;
/// other fields are not compared.
fn assert_fields(
    what: &str,
    want: &Value,
    got: &BTreeMap<String, Value>,
    ids: &HashMap<String, String>,
) {
    for (k, v) in fields_of(want, ids) {
        assert_eq!(got.get(&k), Some(&v), "{what}: field {k} in {got:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_library_meets_every_shared_scenario() {
    let file: Value = serde_json::from_str(SCENARIOS).expect("scenarios are JSON");
    for sc in file["scenarios"].as_array().expect("scenarios") {
        let name = sc["name"].as_str().expect("name").to_string();
        let app = TestApp::spawn().await;
        app.create_user("unit.tester", Role::UnitStaff, Some("hexi_jianshe_office"))
            .await;
        let sup = app.user_token("sup", Role::Supervisor, None).await;
        let mut wanted = Vec::new();
        placeholders(sc, &mut wanted);
        let mut ids = HashMap::new();
        for p in wanted {
            let id = match p.split_once(':') {
                Some(("$area", code)) => app.area_id(code).await,
                Some((_, code)) => app.unit_id(code).await,
                None => unreachable!(),
            };
            ids.insert(p, id);
        }
        let (base, sc2, ids2, sup2) = (app.base.clone(), sc.clone(), ids.clone(), sup.clone());
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().to_path_buf();
        let rt = tokio::runtime::Handle::current();
        let (records, held) = tokio::task::spawn_blocking(move || {
            run_devices(&rt, (&base, &sup2), &path, &sc2, &ids2)
        })
        .await
        .expect("devices ran");

        let expect = &sc["expect"];
        for (r, want) in expect["server"].as_object().into_iter().flatten() {
            let got = app
                .get(
                    &format!("/api/v1/registers/hazard/{}", records[r]),
                    Some(&sup),
                )
                .await;
            if want.is_null() {
                assert_eq!(got.status, 404, "{name}: {r} is not on the server");
                continue;
            }
            assert_eq!(got.status, 200, "{name}: {r} on the server: {:?}", got.body);
            let fields: BTreeMap<String, Value> =
                serde_json::from_value(got.body["record"]["fields"].clone()).expect("fields");
            assert_fields(&format!("{name}: server {r}"), want, &fields, &ids);
        }
        for (r, want) in expect["conflicts"].as_object().into_iter().flatten() {
            let got = app
                .get(
                    &format!("/api/v1/sync/conflicts?status=all&record_id={}", records[r]),
                    Some(&sup),
                )
                .await;
            let got = got.body.as_array().cloned().unwrap_or_default();
            let want = want.as_array().expect("conflicts");
            assert_eq!(got.len(), want.len(), "{name}: conflicts on {r}: {got:?}");
            for (w, g) in want.iter().zip(&got) {
                for k in ["field", "server_value", "device_value"] {
                    assert_eq!(g[k], w[k], "{name}: conflict {k} on {r}");
                }
            }
        }
        for (dev, want) in expect["devices"].as_object().expect("devices") {
            let h = &held[dev];
            assert_eq!(
                Some(h.pending),
                want["pending"].as_u64(),
                "{name}: {dev} pending"
            );
            assert_eq!(
                Some(h.conflicts),
                want["conflicts"].as_u64(),
                "{name}: {dev} conflicts"
            );
            let codes: Vec<String> =
                serde_json::from_value(want["rejected"].clone()).expect("codes");
            assert_eq!(h.rejected, codes, "{name}: {dev} refusals");
            for (r, f) in want["fields"].as_object().into_iter().flatten() {
                if f.is_null() {
                    assert_eq!(h.fields[r], None, "{name}: {dev} no longer holds {r}");
                    continue;
                }
                let got = h.fields[r].as_ref().expect("the device shows the record");
                assert_fields(&format!("{name}: {dev} shows {r}"), f, got, &ids);
            }
        }
        drop(dir);
    }
}
