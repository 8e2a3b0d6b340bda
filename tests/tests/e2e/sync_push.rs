//! Push: exactly-once effects, refused gaps, each merge outcome and each merge policy.

use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::sync::{RawDevice, hazard, outcome};
use serde_json::json;
use uuid::Uuid;

struct Setup {
    app: TestApp,
    a: RawDevice,
    b: RawDevice,
    unit: String,
    area: String,
}

/// Two devices of two inspectors of the same street office.
async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let t1 = app
        .user_token("insp1", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let t2 = app
        .user_token("insp2", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let a = RawDevice::register(&app, &t1).await;
    let b = RawDevice::register(&app, &t2).await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    Setup {
        app,
        a,
        b,
        unit,
        area,
    }
}

#[tokio::test]
async fn a_resent_batch_has_no_second_effect() {
    let Setup {
        app,
        mut a,
        mut b,
        unit,
        area,
    } = setup().await;
    let id = Uuid::now_v7();
    let m1 = a.upsert("hazard", id, None, hazard(&unit, &area, "楼梯扶手松动"));
    let r = a.push_ok(&app, std::slice::from_ref(&m1)).await;
    assert_eq!(outcome(&r[0]), "applied");
    let version = r[0]["version"].as_i64().unwrap();

    // The answer was lost; the device sends the same batch again, then with a new mutation.
    let r = a.push_ok(&app, std::slice::from_ref(&m1)).await;
    assert_eq!(outcome(&r[0]), "already_applied");
    let m2 = a.upsert("hazard", id, Some(version), json!({"severity": "high"}));
    let r = a.push_ok(&app, &[m1, m2.clone()]).await;
    assert_eq!(outcome(&r[0]), "already_applied");
    assert_eq!(outcome(&r[1]), "applied");
    let r = a.push_ok(&app, &[m2]).await;
    assert_eq!(outcome(&r[0]), "already_applied");

    let changes = b.pull_all(&app).await;
    assert_eq!(changes.len(), 1, "one record, once: {changes:?}");
    assert_eq!(b.field(id, "severity"), "high");
    assert_eq!(b.field(id, "description"), "楼梯扶手松动");
}

#[tokio::test]
async fn a_gap_refuses_the_whole_batch() {
    let Setup {
        app,
        mut a,
        mut b,
        unit,
        area,
    } = setup().await;
    let m1 = a.upsert("hazard", Uuid::now_v7(), None, hazard(&unit, &area, "一"));
    let m2 = a.upsert("hazard", Uuid::now_v7(), None, hazard(&unit, &area, "二"));
    let m3 = a.upsert("hazard", Uuid::now_v7(), None, hazard(&unit, &area, "三"));
    let ans = a.push(&app, &[m2.clone(), m3.clone()]).await;
    assert_eq!(ans.status, 409);
    assert_eq!(ans.code(), "sequence_gap");
    assert_eq!(ans.body["expected"], 1);
    let ans = a.push(&app, &[m1.clone(), m3.clone()]).await;
    assert_eq!(ans.status, 409);
    assert_eq!(ans.body["expected"], 2);
    assert!(
        b.pull_all(&app).await.is_empty(),
        "nothing of a refused batch is applied"
    );
    let r = a.push_ok(&app, &[m1, m2, m3]).await;
    assert!(r.iter().all(|r| outcome(r) == "applied"));
    assert_eq!(b.pull_all(&app).await.len(), 3);
}

#[tokio::test]
async fn merged_conflict_and_identical_edits() {
    let Setup {
        app,
        mut a,
        mut b,
        unit,
        area,
    } = setup().await;
    let id = Uuid::now_v7();
    let m = a.upsert("hazard", id, None, hazard(&unit, &area, "外墙脱落"));
    let v1 = a.push_ok(&app, &[m]).await[0]["version"].as_i64().unwrap();
    b.pull_all(&app).await;

    // A changes severity; B, still at v1, changes the location: merged, severity kept.
    let m = a.upsert("hazard", id, Some(v1), json!({"severity": "high"}));
    assert_eq!(outcome(&a.push_ok(&app, &[m]).await[0]), "applied");
    let m = b.upsert("hazard", id, Some(v1), json!({"location": "3号楼东侧"}));
    let r = b.push_ok(&app, &[m]).await;
    assert_eq!(outcome(&r[0]), "merged", "{r:?}");
    assert_eq!(r[0]["kept_server_fields"], json!(["severity"]));

    // B, still at v1, sets severity too: a conflict; B's stamp is later, so B's value is current.
    let m = b.upsert("hazard", id, Some(v1), json!({"severity": "critical"}));
    let r = b.push_ok(&app, &[m]).await;
    assert_eq!(outcome(&r[0]), "conflict", "{r:?}");
    let c = &r[0]["conflicts"][0];
    assert_eq!(c["field"], "severity");
    assert_eq!(c["server_value"], "high");
    assert_eq!(c["device_value"], "critical");
    assert_eq!(c["winner"], "device");
    assert_eq!(c["device_author"], format!("device:{}", b.id));

    // The same value as the server's, changed concurrently: not a conflict.
    let m = a.upsert("hazard", id, Some(v1), json!({"severity": "critical"}));
    let r = a.push_ok(&app, &[m]).await;
    assert_ne!(outcome(&r[0]), "conflict", "{r:?}");

    let mut c = RawDevice::register(&app, &a.token).await;
    c.pull_all(&app).await;
    assert_eq!(c.field(id, "severity"), "critical");
    assert_eq!(c.field(id, "location"), "3号楼东侧");

    // The conflict is kept for review.
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let list = app.get("/api/v1/sync/conflicts", Some(&sup)).await;
    assert_eq!(list.status, 200);
    let list = list.body.as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["record_id"], id.to_string());
    assert_eq!(list[0]["server_value"], "high");
    assert_eq!(list[0]["base_version"], v1);

    // A contractor serving the street sees the conflict but may not overrule the responsible
    // unit; an inspector of that unit may, and every device pulls the decision.
    let contractor = app
        .user_token("cb", Role::UnitStaff, Some("contractor_chengjian"))
        .await;
    let cid = list[0]["id"].as_str().unwrap();
    let seen = app
        .get(&format!("/api/v1/sync/conflicts/{cid}"), Some(&contractor))
        .await;
    assert_eq!(seen.status, 200);
    let path = format!("/api/v1/sync/conflicts/{cid}/resolve");
    let refused = app
        .post(&path, Some(&contractor), &json!({"value": "low"}))
        .await;
    assert_eq!((refused.status, refused.code()), (403, "not_your_unit"));
    let bad = app
        .post(&path, Some(&a.token), &json!({"value": "extreme"}))
        .await;
    assert_eq!((bad.status, bad.code()), (422, "not_a_contested_value"));
    let ok = app
        .post(&path, Some(&a.token), &json!({"value": "high"}))
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["conflict"]["resolution"], "high");
    let again = app
        .post(&path, Some(&a.token), &json!({"value": "low"}))
        .await;
    assert_eq!(again.code(), "conflict_already_resolved");
    b.pull_all(&app).await;
    assert_eq!(b.field(id, "severity"), "high");
    let open = app.get("/api/v1/sync/conflicts", Some(&sup)).await;
    assert_eq!(open.body.as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn last_writer_wins_keeps_the_later_stamp_and_reports_the_loser() {
    let Setup {
        app,
        mut a,
        mut b,
        unit,
        area,
    } = setup().await;
    let id = Uuid::now_v7();
    let m = a.upsert("hazard", id, None, hazard(&unit, &area, "原始描述"));
    let v1 = a.push_ok(&app, &[m]).await[0]["version"].as_i64().unwrap();
    b.pull_all(&app).await;
    // B edits first (earlier stamp) but pushes last: A's later edit stays current.
    let mb = b.upsert("hazard", id, Some(v1), json!({"description": "B 的描述"}));
    std::thread::sleep(std::time::Duration::from_millis(5));
    let ma = a.upsert("hazard", id, Some(v1), json!({"description": "A 的描述"}));
    a.push_ok(&app, &[ma]).await;
    let r = b.push_ok(&app, &[mb]).await;
    assert_eq!(outcome(&r[0]), "conflict");
    assert_eq!(r[0]["conflicts"][0]["winner"], "server");
    a.pull_all(&app).await;
    assert_eq!(a.field(id, "description"), "A 的描述");
}

#[tokio::test]
async fn server_authoritative_monotonic_and_add_wins_policies() {
    let Setup {
        app,
        mut a,
        mut b,
        unit,
        area,
    } = setup().await;
    let other_unit = app.unit_id("hexi_heping_office").await;
    let p1 = "1".repeat(64);
    let p2 = "2".repeat(64);
    let id = Uuid::now_v7();
    let mut fields = hazard(&unit, &area, "消防通道堵塞");
    fields["photos"] = json!({"add": [p1]});
    let m = a.upsert("hazard", id, None, fields);
    let v1 = a.push_ok(&app, &[m]).await[0]["version"].as_i64().unwrap();
    b.pull_all(&app).await;

    // Server-authoritative: an inspector's device cannot move the responsible unit after
    // creation; the edit is refused with a reason (a supervisor's would be kept as a conflict).
    let m = a.upsert("hazard", id, Some(v1), json!({"unit_id": other_unit}));
    let r = a.push_ok(&app, &[m]).await;
    assert_eq!(outcome(&r[0]), "rejected");
    assert_eq!(r[0]["code"], "server_authoritative_field");

    // Monotonic: planned → in_progress applies; in_progress → planned never does. (A hazard's
    // status moves only through hazard actions: a direct edit is refused.)
    let pid = Uuid::now_v7();
    let project = json!({"name": "河西老旧小区改造", "programme": "old_community",
                         "area_id": area, "unit_id": unit, "status": "planned"});
    let m = a.upsert("project", pid, None, project);
    let pv1 = a.push_ok(&app, &[m]).await[0]["version"].as_i64().unwrap();
    let m = a.upsert("project", pid, Some(pv1), json!({"status": "in_progress"}));
    assert_eq!(outcome(&a.push_ok(&app, &[m]).await[0]), "applied");
    let m = a.upsert("project", pid, Some(pv1), json!({"status": "planned"}));
    let r = a.push_ok(&app, &[m]).await;
    assert_eq!(outcome(&r[0]), "conflict");
    assert_eq!(r[0]["conflicts"][0]["winner"], "server");
    let m = a.upsert("hazard", id, Some(v1), json!({"status": "rectified"}));
    assert_eq!(
        a.push_ok(&app, &[m]).await[0]["code"],
        "hazard_status_by_action"
    );

    // Add-wins set: A adds p2; B, who never saw p2, removes p1 and p2: p2 stays.
    let m = a.upsert("hazard", id, Some(v1), json!({"photos": {"add": [p2]}}));
    a.push_ok(&app, &[m]).await;
    let m = b.upsert(
        "hazard",
        id,
        Some(v1),
        json!({"photos": {"remove": [p1, p2]}}),
    );
    b.push_ok(&app, &[m]).await;

    let mut c = RawDevice::register(&app, &a.token).await;
    c.pull_all(&app).await;
    assert_eq!(c.field(id, "unit_id"), unit.as_str());
    assert_eq!(c.field(id, "status"), "open");
    assert_eq!(c.field(pid, "status"), "in_progress");
    assert_eq!(c.field(id, "photos"), json!([p2]));
}

#[tokio::test]
async fn delete_wins_over_edits_and_an_edit_of_a_deleted_record_is_rejected_and_kept() {
    let Setup {
        app,
        mut a,
        mut b,
        unit,
        area,
    } = setup().await;
    let id = Uuid::now_v7();
    let m = a.upsert("hazard", id, None, hazard(&unit, &area, "待删除"));
    let v1 = a.push_ok(&app, &[m]).await[0]["version"].as_i64().unwrap();
    b.pull_all(&app).await;
    let m = b.upsert("hazard", id, Some(v1), json!({"severity": "low"}));
    b.push_ok(&app, &[m]).await;
    let m = a.delete("hazard", id, v1);
    let r = a.push_ok(&app, &[m]).await;
    assert_eq!(
        outcome(&r[0]),
        "conflict",
        "the lost edit is reported: {r:?}"
    );
    assert_eq!(r[0]["conflicts"][0]["winner"], "device");

    let changes = b.pull_all(&app).await;
    assert!(
        changes.iter().any(
            |c| matches!(c, anju_shared::protocol::Change::Tombstone { id: t, .. } if *t == id)
        ),
        "{changes:?}"
    );
    assert!(b.version(id).is_none());

    let m = b.upsert("hazard", id, Some(v1), json!({"severity": "high"}));
    let r = b.push_ok(&app, &[m]).await;
    assert_eq!(outcome(&r[0]), "rejected");
    assert_eq!(r[0]["code"], "record_deleted");
    let list = app.get("/api/v1/sync/rejections", Some(&b.token)).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body[0]["code"], "record_deleted");
    assert_eq!(list.body[0]["mutation"]["fields"]["severity"], "high");

    // A fresh device never receives the tombstone.
    let mut fresh = RawDevice::register(&app, &a.token).await;
    let changes = fresh.pull_all(&app).await;
    assert!(changes.is_empty(), "{changes:?}");
}

#[tokio::test]
async fn a_ticket_action_on_an_unknown_ticket_is_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    let t = app
        .user_token("staff", Role::UnitStaff, Some("water"))
        .await;
    let mut d = RawDevice::register(&app, &t).await;
    let unit = app.unit_id("water").await;
    let m = d.upsert(
        "ticket_action",
        Uuid::now_v7(),
        None,
        json!({"ticket_id": Uuid::now_v7(), "unit_id": unit, "action": "accept",
               "acted_at": "2026-11-26T09:30:00+08:00"}),
    );
    let r = d.push_ok(&app, &[m]).await;
    assert_eq!(outcome(&r[0]), "rejected");
    assert_eq!(r[0]["code"], "ticket_not_found");
    assert!(
        d.pull_all(&app).await.is_empty(),
        "a refused action leaves no record"
    );
}
