//! Attacks on sync, each performed and shown refused (issue 10, items 1, 7, 8): conflict review
//! used to move records between units or extend deadlines, creating work for another unit,
//! fetching or probing other units' photos by hash, and forged pull cursors.

use anju_server::auth::Role;
use anju_shared::protocol::Change;
use anju_tests::TestApp;
use anju_tests::sync::{RawDevice, hazard, outcome};
use diesel::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A conflict row as a server before this fix recorded it for a device's attempt to change a
/// server-authoritative field; such rows are still open in existing databases.
#[allow(clippy::too_many_arguments)]
async fn legacy_conflict(
    app: &TestApp,
    record: Uuid,
    field: &str,
    server: Value,
    device: Value,
    device_id: &str,
    unit: &str,
    area: &str,
) -> String {
    use anju_server::sync::schema::sync_conflicts as c;
    let id = Uuid::now_v7().to_string();
    let (id2, field, unit, area) = (
        id.clone(),
        field.to_owned(),
        unit.to_owned(),
        area.to_owned(),
    );
    let device_author = format!("device:{device_id}");
    app.state()
        .db
        .run(move |conn| {
            diesel::insert_into(c::table)
                .values((
                    c::id.eq(&id2),
                    c::record_type.eq("hazard"),
                    c::record_id.eq(record.to_string()),
                    c::field.eq(field),
                    c::base_version.eq(Some(1i64)),
                    c::server_value.eq(server.to_string()),
                    c::device_value.eq(device.to_string()),
                    c::winner.eq("server"),
                    c::server_author.eq(Some(device_author.clone())),
                    c::device_author.eq(device_author),
                    c::server_hlc.eq(None::<String>),
                    c::device_hlc.eq("0000019000000000-00000000-x"),
                    c::unit_id.eq(Some(unit)),
                    c::area_id.eq(Some(area)),
                    c::created_at.eq(0i64),
                    c::status.eq("open"),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("conflict row");
    id
}

async fn record_unit(app: &TestApp, id: Uuid) -> (String, i64) {
    use anju_server::sync::schema::sync_records as r;
    app.state()
        .db
        .run(move |conn| {
            Ok(r::table
                .find(id.to_string())
                .select((r::unit_id.assume_not_null(), r::version))
                .first::<(String, i64)>(conn)?)
        })
        .await
        .expect("record row")
}

fn open_conflicts(list: &Value) -> usize {
    list.as_array().map_or(0, Vec::len)
}

/// The attack that worked live: a unit_staff of 新华街道办事处 pushes a hazard, then an edit
/// moving it to the water company with a later deadline, then resolves the conflict to the
/// water company. Now the edit is refused with a reason (no conflict is made), and resolving
/// such a conflict (as an older server recorded it) is refused; nothing changes.
#[tokio::test]
async fn unit_staff_cannot_move_a_hazard_to_another_unit_or_extend_its_deadline() {
    let app = TestApp::spawn().await;
    let xinhua = app.unit_id("hedong_xinhua_office").await;
    let water = app.unit_id("water").await;
    let gas = app.unit_id("gas").await;
    let area = app.area_id("hedong-xinhua-1").await;
    let staff = app
        .user_token(
            "xinhua_staff",
            Role::UnitStaff,
            Some("hedong_xinhua_office"),
        )
        .await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let mut d = RawDevice::register(&app, &staff).await;

    let id = Uuid::now_v7();
    let mut fields = hazard(&xinhua, &area, "楼道电线私拉乱接");
    fields["deadline"] = json!("2026-12-10");
    let m = d.upsert("hazard", id, None, fields);
    let r = d.push_ok(&app, &[m]).await;
    assert_eq!(outcome(&r[0]), "applied", "{r:?}");
    let v1 = r[0]["version"].as_i64().unwrap();

    let m = d.upsert(
        "hazard",
        id,
        Some(v1),
        json!({"unit_id": water, "deadline": "2027-06-30"}),
    );
    let r = d.push_ok(&app, &[m]).await;
    assert_eq!(outcome(&r[0]), "rejected", "{r:?}");
    assert_eq!(r[0]["code"], "server_authoritative_field");
    assert!(
        r[0]["message_zh"]
            .as_str()
            .unwrap()
            .contains("整改责任单位")
    );
    assert!(r[0]["message_en"].as_str().unwrap().contains("unit_id"));
    // The same through a "concurrent create" of the same id.
    let m = d.upsert(
        "hazard",
        id,
        None,
        hazard(&water, &area, "楼道电线私拉乱接"),
    );
    let r = d.push_ok(&app, &[m]).await;
    assert_eq!(r[0]["code"], "server_authoritative_field", "{r:?}");
    let list = app.get("/api/v1/sync/conflicts", Some(&sup)).await;
    assert_eq!(
        open_conflicts(&list.body),
        0,
        "no conflict: {:?}",
        list.body
    );
    // The device user sees why.
    let rej = app.get("/api/v1/sync/rejections", Some(&staff)).await;
    assert_eq!(rej.body[0]["code"], "server_authoritative_field");

    // Conflicts an older server recorded for this very attempt cannot be resolved by staff.
    let unit_c = legacy_conflict(
        &app,
        id,
        "unit_id",
        json!(xinhua),
        json!(water),
        &d.id,
        &xinhua,
        &area,
    )
    .await;
    let deadline_c = legacy_conflict(
        &app,
        id,
        "deadline",
        json!("2026-12-10"),
        json!("2027-06-30"),
        &d.id,
        &xinhua,
        &area,
    )
    .await;
    let resolve = |cid: &str| format!("/api/v1/sync/conflicts/{cid}/resolve");
    let a = app
        .post(&resolve(&unit_c), Some(&staff), &json!({"value": water}))
        .await;
    assert_eq!((a.status, a.code()), (403, "resolution_needs_supervisor"));
    assert!(!a.body["message_zh"].as_str().unwrap_or("").is_empty());
    let a = app
        .post(
            &resolve(&deadline_c),
            Some(&staff),
            &json!({"pick": "device"}),
        )
        .await;
    assert_eq!((a.status, a.code()), (403, "resolution_needs_supervisor"));
    let (unit_now, version) = record_unit(&app, id).await;
    assert_eq!((unit_now.as_str(), version), (xinhua.as_str(), v1));
    let list = app.get("/api/v1/sync/conflicts", Some(&sup)).await;
    assert_eq!(open_conflicts(&list.body), 2, "both still open");

    // Even a supervisor may only pick one of the two values, never a third unit.
    let a = app
        .post(&resolve(&unit_c), Some(&sup), &json!({"value": gas}))
        .await;
    assert_eq!((a.status, a.code()), (422, "not_a_contested_value"));
    assert_eq!(a.body["server_value"], json!(xinhua));
    assert_eq!(a.body["device_value"], json!(water));
    let a = app
        .post(&resolve(&unit_c), Some(&sup), &json!({"pick": "server"}))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(record_unit(&app, id).await.0, xinhua);
    let a = app
        .post(
            &resolve(&deadline_c),
            Some(&sup),
            &json!({"pick": "server"}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let mut s = RawDevice::register(&app, &sup).await;
    s.pull_all(&app).await;
    assert_eq!(s.field(id, "deadline"), "2026-12-10");
    assert_eq!(s.field(id, "unit_id"), xinhua.as_str());
}

/// A supervisor's device may propose a new responsible unit (a conflict for review); the
/// resolution is the supervisor's, with one of the two values, and the old unit loses it.
#[tokio::test]
async fn a_supervisor_moves_a_hazard_by_picking_the_proposed_unit() {
    let app = TestApp::spawn().await;
    let xinhua = app.unit_id("hedong_xinhua_office").await;
    let pm_city = app.unit_id("pm_city").await;
    let area = app.area_id("hedong-xinhua-1").await;
    let staff = app
        .user_token("x", Role::UnitStaff, Some("hedong_xinhua_office"))
        .await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let mut d = RawDevice::register(&app, &staff).await;
    let mut s = RawDevice::register(&app, &sup).await;
    let id = Uuid::now_v7();
    let m = d.upsert("hazard", id, None, hazard(&xinhua, &area, "屋面漏水"));
    d.push_ok(&app, &[m]).await;
    s.pull_all(&app).await;
    let m = s.upsert("hazard", id, s.version(id), json!({"unit_id": pm_city}));
    let r = s.push_ok(&app, &[m]).await;
    assert_eq!(outcome(&r[0]), "conflict", "{r:?}");
    let list = app.get("/api/v1/sync/conflicts", Some(&sup)).await;
    let cid = list.body[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/sync/conflicts/{cid}/resolve");
    let a = app
        .post(&path, Some(&staff), &json!({"pick": "server"}))
        .await;
    assert_eq!((a.status, a.code()), (403, "resolution_needs_supervisor"));
    for bad in [
        json!({}),
        json!({"pick": "both"}),
        json!({"pick": "server", "value": 1}),
    ] {
        let a = app.post(&path, Some(&sup), &bad).await;
        assert_eq!((a.status, a.code()), (400, "invalid_resolution"), "{bad}");
    }
    let a = app
        .post(&path, Some(&sup), &json!({"pick": "device"}))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(record_unit(&app, id).await.0, pm_city);
}

/// Last-writer-wins fields: the record's unit resolves, with one of the two values only.
#[tokio::test]
async fn a_field_conflict_is_resolved_with_one_of_its_two_values() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    let t1 = app
        .user_token("i1", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let t2 = app
        .user_token("i2", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let mut a = RawDevice::register(&app, &t1).await;
    let mut b = RawDevice::register(&app, &t2).await;
    let id = Uuid::now_v7();
    let m = a.upsert("hazard", id, None, hazard(&unit, &area, "外墙脱落"));
    let v1 = a.push_ok(&app, &[m]).await[0]["version"].as_i64().unwrap();
    b.pull_all(&app).await;
    let m = a.upsert("hazard", id, Some(v1), json!({"severity": "high"}));
    a.push_ok(&app, &[m]).await;
    let m = b.upsert("hazard", id, Some(v1), json!({"severity": "critical"}));
    let r = b.push_ok(&app, &[m]).await;
    assert_eq!(outcome(&r[0]), "conflict");
    let list = app.get("/api/v1/sync/conflicts", Some(&t1)).await;
    let cid = list.body[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/sync/conflicts/{cid}/resolve");
    let third = app.post(&path, Some(&t1), &json!({"value": "low"})).await;
    assert_eq!((third.status, third.code()), (422, "not_a_contested_value"));
    let (_, before) = record_unit(&app, id).await;
    let ok = app.post(&path, Some(&t1), &json!({"pick": "server"})).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["conflict"]["resolution"], "high");
    assert!(ok.body["version"].as_i64().unwrap() > before);
    a.pull_all(&app).await;
    assert_eq!(a.field(id, "severity"), "high");
}

/// A monotonic status moved backwards by a device is kept as a conflict; only a supervisor
/// may choose the backwards value.
#[tokio::test]
async fn a_status_is_set_backwards_only_by_a_supervisor() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = app.area_id("hexi-jianshe-1").await;
    let t = app
        .user_token("i", Role::UnitAdmin, Some("hexi_jianshe_office"))
        .await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let mut d = RawDevice::register(&app, &t).await;
    let id = Uuid::now_v7();
    let project = json!({"name": "排水改造", "programme": "old_community",
                         "area_id": area, "unit_id": unit, "status": "planned"});
    let m = d.upsert("project", id, None, project);
    let v1 = d.push_ok(&app, &[m]).await[0]["version"].as_i64().unwrap();
    let m = d.upsert("project", id, Some(v1), json!({"status": "completed"}));
    let v2 = d.push_ok(&app, &[m]).await[0]["version"].as_i64().unwrap();
    let m = d.upsert("project", id, Some(v2), json!({"status": "planned"}));
    let r = d.push_ok(&app, &[m]).await;
    assert_eq!(outcome(&r[0]), "conflict", "{r:?}");
    let list = app.get("/api/v1/sync/conflicts", Some(&t)).await;
    let cid = list.body[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/sync/conflicts/{cid}/resolve");
    let a = app
        .post(&path, Some(&t), &json!({"value": "planned"}))
        .await;
    assert_eq!((a.status, a.code()), (403, "resolution_needs_supervisor"));
    let a = app
        .post(&path, Some(&sup), &json!({"value": "planned"}))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    d.pull_all(&app).await;
    assert_eq!(d.field(id, "status"), "planned");
}

/// A unit role creates records only for its own unit or a unit below it, even in its areas.
#[tokio::test]
async fn a_unit_creates_records_only_for_itself_or_a_unit_below() {
    let app = TestApp::spawn().await;
    let xinhua = app.unit_id("hedong_xinhua_office").await;
    let water = app.unit_id("water").await;
    let area = app.area_id("hedong-xinhua-1").await;
    let staff = app
        .user_token("x", Role::UnitStaff, Some("hedong_xinhua_office"))
        .await;
    let district = app
        .user_token("d", Role::UnitAdmin, Some("hedong_gov"))
        .await;
    let mut x = RawDevice::register(&app, &staff).await;
    let mut g = RawDevice::register(&app, &district).await;
    let refused = Uuid::now_v7();
    let m = x.upsert("hazard", refused, None, hazard(&water, &area, "水管漏水"));
    let r = x.push_ok(&app, &[m]).await;
    assert_eq!(r[0]["code"], "responsible_unit_not_yours", "{r:?}");
    let m = g.upsert(
        "hazard",
        Uuid::now_v7(),
        None,
        hazard(&xinhua, &area, "下级"),
    );
    assert_eq!(outcome(&g.push_ok(&app, &[m]).await[0]), "applied");
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let mut s = RawDevice::register(&app, &sup).await;
    s.pull_all(&app).await;
    assert!(s.version(refused).is_none(), "nothing of it was stored");
    assert_eq!(s.records.len(), 1);
}

fn photo(tag: &str) -> (Vec<u8>, String) {
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
    jpeg.extend_from_slice(format!("Exif\0\0GPS 39.91 116.40 {tag}").as_bytes());
    let hash = hex::encode(Sha256::digest(&jpeg));
    (jpeg, hash)
}

async fn put_photo(app: &TestApp, token: &str, bytes: &[u8], hash: &str) -> u16 {
    app.client
        .put(app.url(&format!("/api/v1/attachments/{hash}")))
        .bearer_auth(token)
        .body(bytes.to_vec())
        .send()
        .await
        .expect("put")
        .status()
        .as_u16()
}

async fn get(app: &TestApp, token: &str, hash: &str) -> (u16, String) {
    let res = app
        .client
        .get(app.url(&format!("/api/v1/attachments/{hash}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or("").to_owned())
}

async fn missing(app: &TestApp, token: &str, hash: &str, never: &str) -> Value {
    let body = json!({"hashes": [hash, never]});
    app.post("/api/v1/attachments/missing", Some(token), &body)
        .await
        .body["missing"]
        .clone()
}

/// Photos go only to those who uploaded them or see a record that references them: staff of
/// another unit fetching by hash get the same 404 as for a photo that does not exist, and
/// `missing` tells them nothing; referencing the hash from their own record is refused.
#[tokio::test]
async fn photos_are_served_only_within_scope_and_missing_reveals_nothing() {
    let app = TestApp::spawn().await;
    let west = app.unit_id("hexi_jianshe_office").await;
    let west_area = app.area_id("hexi-jianshe-1").await;
    let east = app.unit_id("hedong_xinhua_office").await;
    let east_area = app.area_id("hedong-xinhua-1").await;
    let owner = app
        .user_token("w1", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let colleague = app
        .user_token("w2", Role::UnitStaff, Some("hexi_jianshe_office"))
        .await;
    let other = app
        .user_token("e1", Role::UnitStaff, Some("hedong_xinhua_office"))
        .await;
    let sup = app.user_token("sup", Role::Supervisor, None).await;
    let mut w = RawDevice::register(&app, &owner).await;
    let mut e = RawDevice::register(&app, &other).await;
    let (bytes, hash) = photo("west");
    let (_, never) = photo("never uploaded");
    assert_eq!(put_photo(&app, &owner, &bytes, &hash).await, 201);
    // Uploaded but not referenced yet: only the uploader has it.
    assert_eq!(get(&app, &owner, &hash).await.0, 200);
    assert_eq!(get(&app, &colleague, &hash).await.0, 404);
    assert_eq!(missing(&app, &owner, &hash, &never).await, json!([never]));

    let id = Uuid::now_v7();
    let mut fields = hazard(&west, &west_area, "墙体裂缝");
    fields["photos"] = json!({"add": [hash]});
    let m = w.upsert("hazard", id, None, fields);
    assert_eq!(outcome(&w.push_ok(&app, &[m]).await[0]), "applied");

    // The other unit: the same answer as for a photo that does not exist.
    let stolen = get(&app, &other, &hash).await;
    let absent = get(&app, &other, &never).await;
    assert_eq!(stolen, (404, "attachment_not_found".to_owned()));
    assert_eq!(stolen, absent);
    let mut both = vec![hash.clone(), never.clone()];
    both.sort();
    assert_eq!(
        missing(&app, &other, &hash, &never).await,
        json!(both),
        "probing tells nothing"
    );
    // Naming the hash in one's own record does not open it.
    let mut fields = hazard(&east, &east_area, "借用照片");
    fields["photos"] = json!({"add": [hash]});
    let m = e.upsert("hazard", Uuid::now_v7(), None, fields);
    let r = e.push_ok(&app, &[m]).await;
    assert_eq!(r[0]["code"], "photo_not_accessible", "{r:?}");
    assert_eq!(get(&app, &other, &hash).await.0, 404);

    // Those who see the record get the photo.
    assert_eq!(get(&app, &colleague, &hash).await.0, 200);
    assert_eq!(get(&app, &sup, &hash).await.0, 200);
    assert_eq!(
        missing(&app, &colleague, &hash, &never).await,
        json!([never])
    );

    // Once the record is deleted only the uploader keeps it.
    w.pull_all(&app).await;
    let m = w.delete("hazard", id, w.version(id).unwrap());
    w.push_ok(&app, &[m]).await;
    assert_eq!(get(&app, &colleague, &hash).await.0, 404);
    assert_eq!(get(&app, &owner, &hash).await.0, 200);

    // Whoever sends the bytes has the photo anyway.
    assert_eq!(put_photo(&app, &other, &bytes, &hash).await, 200);
    assert_eq!(get(&app, &other, &hash).await.0, 200);
}

fn ids(changes: &[Change]) -> Vec<Uuid> {
    changes
        .iter()
        .map(|c| match c {
            Change::Upsert { id, .. }
            | Change::Tombstone { id, .. }
            | Change::Revoke { id, .. } => *id,
        })
        .collect()
}

/// A forged or altered cursor is refused with 400 `invalid_cursor` and lists nothing; an older
/// server's unsigned cursor (which could be forged just as well) gets a reset instead.
#[tokio::test]
async fn forged_cursors_are_refused_and_list_nothing() {
    let app = TestApp::spawn().await;
    let west = app.unit_id("hexi_jianshe_office").await;
    let west_area = app.area_id("hexi-jianshe-1").await;
    let east = app.unit_id("hedong_xinhua_office").await;
    let east_area = app.area_id("hedong-xinhua-1").await;
    let tw = app
        .user_token("w", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let te = app
        .user_token("e", Role::Inspector, Some("hedong_xinhua_office"))
        .await;
    let mut w = RawDevice::register(&app, &tw).await;
    let mut e = RawDevice::register(&app, &te).await;
    let secret = Uuid::now_v7();
    let m = e.upsert(
        "hazard",
        secret,
        None,
        hazard(&east, &east_area, "河东的隐患"),
    );
    e.push_ok(&app, &[m]).await;
    let m = w.upsert(
        "hazard",
        Uuid::now_v7(),
        None,
        hazard(&west, &west_area, "河西的隐患"),
    );
    w.push_ok(&app, &[m]).await;
    let mine = w.pull_all(&app).await;
    assert!(!ids(&mine).contains(&secret));
    e.pull_all(&app).await;
    let real = w.cursor.clone().unwrap();
    // The unsigned form older servers issued: a scope-change catch-up from "all" would have
    // revoked (so named) every record outside the device's scope. Now a reset, and nothing.
    w.cursor = Some("1.1.all".into());
    let a = w.pull_page(&app, 100).await;
    assert!(
        !a.body.to_string().contains(&secret.to_string()),
        "an out-of-scope record leaked: {:?}",
        a.body
    );
    assert_eq!((a.status, a.code()), (410, "reset_required"));
    w.cursor = Some(real.clone());
    assert!(real.starts_with("2."), "{real}");

    let (body, mac) = real.rsplit_once('.').unwrap();
    let parts: Vec<&str> = body.split('.').collect();
    let forged_all = format!("2.1.all.{}", mac);
    let forged_seq = format!("2.0.{}.{}", parts[2], mac);
    let foreign = e.cursor.clone().unwrap();
    for forged in [
        forged_all,
        forged_seq,
        format!("2.1.all.{}", "A".repeat(22)),
        foreign,
        "2.1.all".to_owned(),
    ] {
        w.cursor = Some(forged.clone());
        let a = w.pull_page(&app, 100).await;
        assert_eq!((a.status, a.code()), (400, "invalid_cursor"), "{forged}");
        assert!(a.body.get("changes").is_none());
        assert!(!a.body.to_string().contains(&secret.to_string()));
        assert!(!a.body["message_zh"].as_str().unwrap_or("").is_empty());
    }
    // The device downloads its scope again and goes on.
    w.cursor = None;
    w.records.clear();
    let again = w.pull_all(&app).await;
    assert_eq!(again.len(), 1);
    assert!(!ids(&again).contains(&secret));
    w.cursor = Some(real);
    assert_eq!(w.pull_page(&app, 100).await.status, 200);
}
