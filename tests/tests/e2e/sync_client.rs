//! The server driven by the real device library (`anju-client`): offline edits on two devices
//! sync, the concurrent edit of one field is reported to the device whose value lost, and both
//! devices end with the server's view.

use std::collections::BTreeMap;

use anju_client::{Device, HttpTransport};
use anju_server::auth::Role;
use anju_tests::{TestApp, USER_PASSWORD};
use serde_json::{Value, json};

fn fields(v: Value) -> BTreeMap<String, Value> {
    v.as_object()
        .map(|o| o.clone().into_iter().collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_real_devices_sync_merge_and_see_the_conflict() {
    let app = TestApp::spawn().await;
    app.create_user("insp1", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    app.create_user("insp2", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    let base = app.base.clone();
    let dir = tempfile::tempdir().expect("dir");
    let dir_path = dir.path().to_path_buf();

    let (a_view, b_view, b_conflicts) = tokio::task::spawn_blocking(move || {
        let open = |name: &str, user: &str| {
            let mut d = Device::open(dir_path.join(name)).expect("device store");
            d.connect(HttpTransport::new(&base).expect("transport"));
            d.login(user, USER_PASSWORD, name).expect("login");
            d
        };
        let mut a = open("a", "insp1");
        let mut b = open("b", "insp2");
        let id = a
            .create(
                "hazard",
                fields(
                    json!({"description": "屋面渗水", "area_id": area, "unit_id": unit,
                              "severity": "medium", "status": "open"}),
                ),
            )
            .expect("create");
        a.sync().expect("a syncs");
        b.sync().expect("b syncs");
        // Both offline: A changes severity and location, B changes severity and the note.
        a.edit(id, fields(json!({"severity": "high", "location": "5号楼"})))
            .expect("edit a");
        std::thread::sleep(std::time::Duration::from_millis(5));
        b.edit(
            id,
            fields(json!({"severity": "critical", "requirements": "七日内整改"})),
        )
        .expect("edit b");
        a.sync().expect("a syncs");
        b.sync().expect("b syncs");
        a.sync().expect("a syncs again");
        let view = |d: &mut Device| d.show(id).expect("show").map(|r| r.fields);
        (
            view(&mut a),
            view(&mut b),
            b.conflicts().expect("conflicts"),
        )
    })
    .await
    .expect("devices ran");

    let a_view = a_view.expect("a has the record");
    assert_eq!(
        Some(a_view.clone()),
        b_view,
        "both devices show the same record"
    );
    assert_eq!(a_view["severity"], "critical", "the later stamp wins");
    assert_eq!(a_view["location"], "5号楼");
    assert_eq!(a_view["requirements"], "七日内整改");
    assert_eq!(b_conflicts.len(), 1, "{b_conflicts:?}");
    drop(dir);

    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let list = app.get("/api/v1/sync/conflicts", Some(&sup)).await;
    assert_eq!(list.body.as_array().map(Vec::len), Some(1));
    assert_eq!(list.body[0]["server_value"], "high");
    assert_eq!(list.body[0]["device_value"], "critical");
}

/// A unit's device that tries to hand its hazard to another unit is told why, at once, in
/// the sync report `anju-device sync` prints; the record keeps its unit on the device too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_shows_why_a_server_field_edit_was_refused() {
    let app = TestApp::spawn().await;
    app.create_user("x", Role::UnitStaff, Some("hedong_xinhua_office"))
        .await;
    let unit = app.unit_id("hedong_xinhua_office").await;
    let water = app.unit_id("water").await;
    let area = app.area_id("hedong-xinhua-1").await;
    let kept = unit.clone();
    let base = app.base.clone();
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("x");
    let (report, shown, rejected) = tokio::task::spawn_blocking(move || {
        let mut d = Device::open(path).expect("device store");
        d.connect(HttpTransport::new(&base).expect("transport"));
        d.login("x", USER_PASSWORD, "x").expect("login");
        let id = d
            .create(
                "hazard",
                fields(
                    json!({"description": "电线老化", "area_id": area, "unit_id": unit,
                              "severity": "high", "status": "open"}),
                ),
            )
            .expect("create");
        d.sync().expect("sync");
        d.edit(
            id,
            fields(json!({"unit_id": water, "deadline": "2027-06-30"})),
        )
        .expect("edit queued");
        let report = d.sync().expect("sync");
        let shown = d
            .show(id)
            .expect("show")
            .map(|r| r.fields["unit_id"].clone());
        (report, shown, d.rejected().expect("rejected"))
    })
    .await
    .expect("device ran");
    assert_eq!(report.rejected, 1, "{report:?}");
    let r = &report.refusals[0];
    assert_eq!(r.code, "server_authoritative_field");
    assert!(r.message_zh.contains("整改责任单位"), "{}", r.message_zh);
    assert!(r.message_en.contains("supervisor"), "{}", r.message_en);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].code, "server_authoritative_field");
    assert_eq!(shown, Some(json!(kept)));
}
