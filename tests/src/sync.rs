//! Helpers for the sync tests, and the rule for which device a test uses.
//!
//! **The rule.** A test of something a field device does (edits pushed and pulled, conflicts,
//! resolutions, ticket and hazard actions from a device, photo uploads, what reaches which
//! device) drives the real device crate, `anju_client::Device`, through
//! [`crate::field::FieldDevice`]: the production device code against the real server. A test
//! that sends what no real device sends (malformed or hostile pushes, versions or sequence
//! numbers the device would never choose, writes to read-only record types, forged cursors,
//! another protocol version, hand-picked pull pages) uses [`RawDevice`] here: raw wire requests
//! in the types of `anju_shared::protocol`, nothing checked on the way out. Where one test needs
//! both, it uses both, and says which step is the hostile one.
//!
//! What is left on [`RawDevice`] and why is listed in `README.md` ("Which device a sync test
//! uses"): a sequence gap (`sync_push`), forged cursors and versions (`sync_pull`), writes to
//! read-only types (`sync_tickets`, `funds`), a forged verdict (`hazard_proof`), and the hostile
//! input of `sync_security` and `sync_misc`, whose conflict set-ups are the next to move.

use std::collections::BTreeMap;

use anju_shared::hlc::{DEFAULT_MAX_DRIFT_MS, HlcClock};
use anju_shared::protocol::{Change, Mutation, Op, PROTOCOL_VERSION, PullResponse};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Answer, TestApp};

/// Raw wire requests as a device id: its user's token, its next sequence number, its cursor and
/// its local copy of the records it pulled. Sends exactly what the test builds, so a test can
/// send what the real device ([`crate::field::FieldDevice`]) never would.
pub struct RawDevice {
    /// Device id from registration.
    pub id: String,
    /// The user's access token.
    pub token: String,
    /// The last sequence number handed out.
    pub seq: u64,
    /// The pull cursor.
    pub cursor: Option<String>,
    /// Records as pulled: id → (type, version, fields); tombstones removed.
    pub records: BTreeMap<Uuid, (String, i64, BTreeMap<String, Value>)>,
    /// Every change pulled, in order.
    pub log: Vec<Change>,
    clock: HlcClock,
}

impl RawDevice {
    /// Registers a device for the user of `token`.
    pub async fn register(app: &TestApp, token: &str) -> RawDevice {
        let a = app
            .post(
                "/api/v1/devices",
                Some(token),
                &json!({"name": "测试设备", "platform": "test"}),
            )
            .await;
        assert_eq!(a.status, 201, "{:?}", a.body);
        let id = a.body["device_id"].as_str().expect("device id").to_string();
        RawDevice {
            clock: HlcClock::new(id.clone(), DEFAULT_MAX_DRIFT_MS),
            id,
            token: token.to_string(),
            seq: 0,
            cursor: None,
            records: BTreeMap::new(),
            log: Vec::new(),
        }
    }

    /// A fresh clock stamp.
    pub fn hlc(&mut self) -> String {
        let now = u64::try_from(jiff::Timestamp::now().as_millisecond()).unwrap_or(0);
        self.clock.tick(now).to_string()
    }

    /// An upsert with the next sequence number.
    pub fn upsert(
        &mut self,
        record_type: &str,
        id: Uuid,
        base: Option<i64>,
        fields: Value,
    ) -> Mutation {
        self.seq += 1;
        let fields = fields
            .as_object()
            .map(|o| o.clone().into_iter().collect())
            .unwrap_or_default();
        Mutation {
            seq: self.seq,
            record_type: record_type.into(),
            record_id: id,
            op: Op::Upsert,
            base_version: base,
            fields,
            hlc: self.hlc(),
        }
    }

    /// A delete with the next sequence number.
    pub fn delete(&mut self, record_type: &str, id: Uuid, base: i64) -> Mutation {
        self.seq += 1;
        Mutation {
            seq: self.seq,
            record_type: record_type.into(),
            record_id: id,
            op: Op::Delete,
            base_version: Some(base),
            fields: BTreeMap::new(),
            hlc: self.hlc(),
        }
    }

    /// Pushes `mutations`; the raw answer.
    pub async fn push(&self, app: &TestApp, mutations: &[Mutation]) -> Answer {
        app.post(
            "/api/v1/sync/push",
            Some(&self.token),
            &json!({"protocol": PROTOCOL_VERSION, "device_id": self.id, "mutations": mutations}),
        )
        .await
    }

    /// Pushes and asserts 200; returns the results array.
    pub async fn push_ok(&self, app: &TestApp, mutations: &[Mutation]) -> Vec<Value> {
        let a = self.push(app, mutations).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        a.body["results"].as_array().cloned().unwrap_or_default()
    }

    /// One pull page with the current cursor; the raw answer.
    pub async fn pull_page(&self, app: &TestApp, limit: u32) -> Answer {
        let mut path = format!("/api/v1/sync/pull?device_id={}&limit={limit}", self.id);
        if let Some(c) = &self.cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        app.get(&path, Some(&self.token)).await
    }

    /// Pulls until up to date, applying every change locally; returns the changes of this sync.
    pub async fn pull_all(&mut self, app: &TestApp) -> Vec<Change> {
        let mut got = Vec::new();
        for _ in 0..10_000 {
            let a = self.pull_page(app, 200).await;
            assert_eq!(a.status, 200, "{:?}", a.body);
            let page: PullResponse = serde_json::from_value(a.body).expect("a pull page");
            for c in &page.changes {
                self.apply(c);
            }
            got.extend(page.changes);
            self.cursor = Some(page.next_cursor);
            if !page.has_more {
                return got;
            }
        }
        panic!("pull never finished");
    }

    fn apply(&mut self, c: &Change) {
        match c {
            Change::Upsert {
                record_type,
                id,
                version,
                fields,
                ..
            } => {
                if let Some((_, v, _)) = self.records.get(id) {
                    assert!(version > v, "a pull went back in time for {id}");
                }
                self.records
                    .insert(*id, (record_type.clone(), *version, fields.clone()));
            }
            Change::Tombstone { id, .. } | Change::Revoke { id, .. } => {
                self.records.remove(id);
            }
        }
        self.log.push(c.clone());
    }

    /// The local version of a record.
    pub fn version(&self, id: Uuid) -> Option<i64> {
        self.records.get(&id).map(|r| r.1)
    }

    /// A local field value.
    pub fn field(&self, id: Uuid, name: &str) -> Value {
        self.records
            .get(&id)
            .and_then(|r| r.2.get(name).cloned())
            .unwrap_or(Value::Null)
    }
}

impl TestApp {
    /// The id of the area with `code`.
    pub async fn area_id(&self, code: &str) -> String {
        use anju_server::db::schema::areas;
        use diesel::prelude::*;
        let code = code.to_string();
        self.state()
            .db
            .run(move |conn| {
                Ok(areas::table
                    .filter(areas::code.eq(code))
                    .select(areas::id)
                    .first::<String>(conn)?)
            })
            .await
            .expect("area exists")
    }
}

/// Fields of a new hazard in `area` for `unit`.
pub fn hazard(unit: &str, area: &str, description: &str) -> Value {
    json!({
        "description": description,
        "area_id": area,
        "unit_id": unit,
        "severity": "medium",
        "status": "open",
    })
}

/// A result's outcome name.
pub fn outcome(r: &Value) -> &str {
    r["outcome"].as_str().unwrap_or("")
}

/// The fields of a JSON object as the device library takes them (`anju_client::Device::create`
/// and `edit`); not an object: no fields.
pub fn fields_of(v: &Value) -> BTreeMap<String, Value> {
    v.as_object()
        .map(|o| o.clone().into_iter().collect())
        .unwrap_or_default()
}
