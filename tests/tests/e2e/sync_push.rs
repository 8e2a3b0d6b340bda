//! Push: exactly-once effects, refused gaps, each merge outcome and each merge policy.
//!
//! The real device (`FieldDevice`) makes every edit; only the gap test sends by hand what no
//! real device sends (a batch with a hole in its sequence numbers).

use anju_client::{RetryPolicy, SyncOptions};
use anju_server::auth::Role;
use anju_tests::TestApp;
use anju_tests::field::FieldDevice;
use anju_tests::sync::{RawDevice, fields_of, hazard, outcome};
use serde_json::{Value, json};
use uuid::Uuid;

struct Setup {
    app: TestApp,
    a: FieldDevice,
    b: FieldDevice,
    /// insp1's token (the user of `a`).
    t1: String,
    /// insp2's token (the user of `b`).
    t2: String,
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
    let a = FieldDevice::login(&app, "insp1").await;
    let b = FieldDevice::login(&app, "insp2").await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    Setup {
        app,
        a,
        b,
        t1,
        t2,
        unit,
        area,
    }
}

/// Queues the creation of a record on the device; its id.
async fn create(d: &mut FieldDevice, record_type: &'static str, fields: Value) -> Uuid {
    d.run(move |d| d.create(record_type, fields_of(&fields)).expect("create"))
        .await
}

/// Queues an edit on the device.
async fn edit(d: &mut FieldDevice, id: Uuid, fields: Value) {
    d.run(move |d| d.edit(id, fields_of(&fields)).expect("edit"))
        .await;
}

/// Pushes the outbox; the results of the push that carried the last queued mutation.
async fn push(d: &mut FieldDevice) -> Vec<Value> {
    d.push().await;
    d.link().last_results()
}

/// Creates a record, pushes and pulls it; its id and the version the server gave it.
async fn created(d: &mut FieldDevice, record_type: &'static str, fields: Value) -> (Uuid, i64) {
    let id = create(d, record_type, fields).await;
    d.sync().await;
    let r = d.link().last_results();
    assert_eq!(outcome(&r[0]), "applied", "{r:?}");
    let v = r[0]["version"].as_i64().expect("a version");
    assert_eq!(d.version(id).await, Some(v), "the device pulled its record");
    (id, v)
}

#[tokio::test]
async fn a_resent_batch_has_no_second_effect() {
    let Setup {
        app: _app,
        mut a,
        mut b,
        unit,
        area,
        ..
    } = setup().await;
    // One try per call, so that a lost answer leaves the mutation in the outbox.
    a.run(|d| {
        d.set_options(SyncOptions {
            retry: RetryPolicy::immediate(1),
            ..SyncOptions::default()
        })
    })
    .await;
    let id = create(&mut a, "hazard", hazard(&unit, &area, "楼梯扶手松动")).await;
    a.link().lose_next_push_answer();
    assert!(a.run(|d| d.push().is_err()).await, "the answer was lost");
    let r = a.link().last_results();
    assert_eq!(outcome(&r[0]), "applied");
    let version = r[0]["version"].as_i64().unwrap();

    // The answer was lost; the device sends the same batch again, then with a new mutation.
    a.link().lose_next_push_answer();
    assert!(a.run(|d| d.push().is_err()).await, "the answer was lost");
    let r = a.link().last_results();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(outcome(&r[0]), "already_applied");
    a.pull().await;
    assert_eq!(a.version(id).await, Some(version));
    edit(&mut a, id, json!({"severity": "high"})).await;
    a.link().lose_next_push_answer();
    assert!(a.run(|d| d.push().is_err()).await, "the answer was lost");
    let r = a.link().last_results();
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(outcome(&r[0]), "already_applied");
    assert_eq!(outcome(&r[1]), "applied");
    let r = push(&mut a).await;
    assert_eq!(outcome(&r[1]), "already_applied", "{r:?}");
    assert!(a.run(|d| d.pending().expect("outbox")).await.is_empty());

    let changes = b.pull().await.pulled;
    assert_eq!(changes, 1, "one record, once: {:?}", b.link().pulled());
    let seen = b.fields(id).await.expect("b has the hazard");
    assert_eq!(seen["severity"], "high");
    assert_eq!(seen["description"], "楼梯扶手松动");
}

#[tokio::test]
async fn a_gap_refuses_the_whole_batch() {
    let Setup {
        app,
        mut b,
        t1,
        unit,
        area,
        ..
    } = setup().await;
    // The hostile step: a real device never leaves a hole in its sequence numbers.
    let mut a = RawDevice::register(&app, &t1).await;
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
    assert_eq!(
        b.pull().await.pulled,
        0,
        "nothing of a refused batch is applied"
    );
    let r = a.push_ok(&app, &[m1, m2, m3]).await;
    assert!(r.iter().all(|r| outcome(r) == "applied"));
    assert_eq!(b.pull().await.pulled, 3);
}

#[tokio::test]
async fn merged_conflict_and_identical_edits() {
    let Setup {
        app,
        mut a,
        mut b,
        t1,
        unit,
        area,
        ..
    } = setup().await;
    let (id, v1) = created(&mut a, "hazard", hazard(&unit, &area, "外墙脱落")).await;
    b.pull().await;
    assert_eq!(b.version(id).await, Some(v1));

    // A changes severity; B, still at v1, changes the location: merged, severity kept.
    edit(&mut a, id, json!({"severity": "high"})).await;
    assert_eq!(outcome(&push(&mut a).await[0]), "applied");
    edit(&mut b, id, json!({"location": "3号楼东侧"})).await;
    let r = push(&mut b).await;
    assert_eq!(outcome(&r[0]), "merged", "{r:?}");
    assert_eq!(r[0]["kept_server_fields"], json!(["severity"]));
    assert_eq!(
        b.link().pushes().last().expect("a push").0.mutations[0].base_version,
        Some(v1)
    );

    // B, still at v1, sets severity too: a conflict; B's stamp is later, so B's value is current.
    edit(&mut b, id, json!({"severity": "critical"})).await;
    let r = push(&mut b).await;
    assert_eq!(outcome(&r[0]), "conflict", "{r:?}");
    let c = &r[0]["conflicts"][0];
    assert_eq!(c["field"], "severity");
    assert_eq!(c["server_value"], "high");
    assert_eq!(c["device_value"], "critical");
    assert_eq!(c["winner"], "device");
    assert_eq!(c["device_author"], format!("device:{}", b.id()));

    // The same value as the server's, changed concurrently: not a conflict.
    edit(&mut a, id, json!({"severity": "critical"})).await;
    let r = push(&mut a).await;
    assert_ne!(outcome(&r[0]), "conflict", "{r:?}");

    let mut c = FieldDevice::login(&app, "insp1").await;
    c.pull().await;
    let seen = c.fields(id).await.expect("a fresh device pulls the hazard");
    assert_eq!(seen["severity"], "critical");
    assert_eq!(seen["location"], "3号楼东侧");

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
        .post(&path, Some(&t1), &json!({"value": "extreme"}))
        .await;
    assert_eq!((bad.status, bad.code()), (422, "not_a_contested_value"));
    let ok = app.post(&path, Some(&t1), &json!({"value": "high"})).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["conflict"]["resolution"], "high");
    let again = app.post(&path, Some(&t1), &json!({"value": "low"})).await;
    assert_eq!(again.code(), "conflict_already_resolved");
    b.pull().await;
    assert_eq!(
        b.fields(id).await.expect("b has the hazard")["severity"],
        "high"
    );
    let open = app.get("/api/v1/sync/conflicts", Some(&sup)).await;
    assert_eq!(open.body.as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn last_writer_wins_keeps_the_later_stamp_and_reports_the_loser() {
    let Setup {
        app: _app,
        mut a,
        mut b,
        unit,
        area,
        ..
    } = setup().await;
    let (id, _) = created(&mut a, "hazard", hazard(&unit, &area, "原始描述")).await;
    b.pull().await;
    // B edits first (earlier stamp) but pushes last: A's later edit stays current.
    edit(&mut b, id, json!({"description": "B 的描述"})).await;
    std::thread::sleep(std::time::Duration::from_millis(5));
    edit(&mut a, id, json!({"description": "A 的描述"})).await;
    a.push().await;
    let r = push(&mut b).await;
    assert_eq!(outcome(&r[0]), "conflict");
    assert_eq!(r[0]["conflicts"][0]["winner"], "server");
    a.pull().await;
    assert_eq!(
        a.fields(id).await.expect("a has the hazard")["description"],
        "A 的描述"
    );
}

#[tokio::test]
async fn server_authoritative_monotonic_and_add_wins_policies() {
    let Setup {
        app,
        mut a,
        mut b,
        unit,
        area,
        ..
    } = setup().await;
    let other_unit = app.unit_id("hexi_heping_office").await;
    let p1 = "1".repeat(64);
    let p2 = "2".repeat(64);
    let mut fields = hazard(&unit, &area, "消防通道堵塞");
    fields["photos"] = json!({"add": [p1]});
    let (id, v1) = created(&mut a, "hazard", fields).await;
    b.pull().await;

    // Server-authoritative: an inspector's device cannot move the responsible unit after
    // creation; the edit is refused with a reason (a supervisor's would be kept as a conflict).
    edit(&mut a, id, json!({"unit_id": other_unit})).await;
    let r = push(&mut a).await;
    assert_eq!(outcome(&r[0]), "rejected");
    assert_eq!(r[0]["code"], "server_authoritative_field");

    // Monotonic: planned → in_progress applies; in_progress → planned never does. (A hazard's
    // status moves only through hazard actions: a direct edit is refused.)
    let project = json!({"name": "河西老旧小区改造", "programme": "old_community",
                         "area_id": area, "unit_id": unit, "status": "planned"});
    let (pid, pv1) = created(&mut a, "project", project).await;
    edit(&mut a, pid, json!({"status": "in_progress"})).await;
    assert_eq!(outcome(&push(&mut a).await[0]), "applied");
    // Not pulled since: the device's base is still pv1.
    edit(&mut a, pid, json!({"status": "planned"})).await;
    let r = push(&mut a).await;
    assert_eq!(
        a.link().pushes().last().expect("a push").0.mutations[0].base_version,
        Some(pv1)
    );
    assert_eq!(outcome(&r[0]), "conflict");
    assert_eq!(r[0]["conflicts"][0]["winner"], "server");
    edit(&mut a, id, json!({"status": "rectified"})).await;
    assert_eq!(push(&mut a).await[0]["code"], "hazard_status_by_action");

    // Add-wins set: A adds p2; B, who never saw p2, removes p1 and p2: p2 stays.
    edit(&mut a, id, json!({"photos": {"add": [p2]}})).await;
    a.push().await;
    edit(&mut b, id, json!({"photos": {"remove": [p1, p2]}})).await;
    b.push().await;
    assert_eq!(
        b.link().pushes().last().expect("a push").0.mutations[0].base_version,
        Some(v1)
    );

    let mut c = FieldDevice::login(&app, "insp1").await;
    c.pull().await;
    let h = c.fields(id).await.expect("the hazard");
    assert_eq!(h["unit_id"], unit.as_str());
    assert_eq!(h["status"], "open");
    assert_eq!(
        c.fields(pid).await.expect("the project")["status"],
        "in_progress"
    );
    assert_eq!(h["photos"], json!([p2]));
}

#[tokio::test]
async fn delete_wins_over_edits_and_an_edit_of_a_deleted_record_is_rejected_and_kept() {
    let Setup {
        app,
        mut a,
        mut b,
        t2,
        unit,
        area,
        ..
    } = setup().await;
    let (id, v1) = created(&mut a, "hazard", hazard(&unit, &area, "待删除")).await;
    b.pull().await;
    edit(&mut b, id, json!({"severity": "low"})).await;
    b.push().await;
    a.run(move |d| d.delete(id).expect("delete")).await;
    let r = push(&mut a).await;
    assert_eq!(
        outcome(&r[0]),
        "conflict",
        "the lost edit is reported: {r:?}"
    );
    assert_eq!(r[0]["conflicts"][0]["winner"], "device");
    assert_eq!(
        a.link().pushes().last().expect("a push").0.mutations[0].base_version,
        Some(v1)
    );

    // B, not pulled since, still shows the hazard and edits it against v1: refused, and the
    // refusal is kept on the server and on the device.
    edit(&mut b, id, json!({"severity": "high"})).await;
    let r = push(&mut b).await;
    assert_eq!(outcome(&r[0]), "rejected");
    assert_eq!(r[0]["code"], "record_deleted");
    let list = app.get("/api/v1/sync/rejections", Some(&t2)).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body[0]["code"], "record_deleted");
    assert_eq!(list.body[0]["mutation"]["fields"]["severity"], "high");
    let kept = b.run(|d| d.rejected().expect("rejections")).await;
    assert_eq!(kept.len(), 1, "{kept:?}");

    let changes = b.pull_changes().await;
    assert!(
        changes.iter().any(
            |c| matches!(c, anju_shared::protocol::Change::Tombstone { id: t, .. } if *t == id)
        ),
        "{changes:?}"
    );
    assert!(b.version(id).await.is_none());
    assert!(b.fields(id).await.is_none(), "deleted on the device too");

    // A fresh device never receives the tombstone.
    let mut fresh = FieldDevice::login(&app, "insp1").await;
    fresh.pull().await;
    let changes = fresh.link().pulled();
    assert!(changes.is_empty(), "{changes:?}");
}

#[tokio::test]
async fn a_ticket_action_on_an_unknown_ticket_is_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    app.create_user("staff", Role::UnitStaff, Some("water"))
        .await;
    let mut d = FieldDevice::login(&app, "staff").await;
    let unit = app.unit_id("water").await;
    create(
        &mut d,
        "ticket_action",
        json!({"ticket_id": Uuid::now_v7(), "unit_id": unit, "action": "accept",
               "acted_at": "2026-11-26T09:30:00+08:00"}),
    )
    .await;
    let report = d.sync().await;
    let r = d.link().last_results();
    assert_eq!(outcome(&r[0]), "rejected");
    assert_eq!(r[0]["code"], "ticket_not_found");
    assert_eq!(report.refusals[0].code, "ticket_not_found", "shown at once");
    assert!(
        d.link().pulled().is_empty(),
        "a refused action leaves no record"
    );
    assert!(d.run(|d| d.view_all().expect("view")).await.is_empty());
}
