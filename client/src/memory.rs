//! [`MemoryServer`]: an in-process stand-in for the sync server, running the same
//! `anju_shared::merge` as the real one, so the sync loop can be tested without a network:
//! sequence dedupe, per-field merge, conflicts, pull pages and cursors, reset-required, token
//! refresh and revocation, and content-addressed photos.
//!
//! It keeps no scopes (every device sees every record) and everything lives in memory.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use anju_shared::hlc::{DEFAULT_MAX_DRIFT_MS, Hlc, HlcClock};
use anju_shared::merge::{StoredRecord, merge_mutation};
use anju_shared::protocol::{
    FieldConflict, Mutation, MutationOutcome, MutationResult, Op, PROTOCOL_VERSION, PullAnswer,
    PullResponse, PushRequest, PushResponse, ResetRequired, SeqCheck, check_seq,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::store::now_ms;
use crate::transport::{
    DeviceRegistration, LoginRequest, Session, Transport, TransportError, UserInfo,
};

/// An in-memory sync server shared by many devices of one test (wrap it in an `Arc`).
pub struct MemoryServer {
    state: Mutex<State>,
}

#[derive(Default)]
struct DeviceEntry {
    user: String,
    last_seq: u64,
    revoked: bool,
}

struct State {
    users: HashMap<String, (String, Uuid)>,
    records: HashMap<Uuid, StoredRecord>,
    log: BTreeMap<u64, Uuid>,
    change_of: HashMap<Uuid, u64>,
    next_change: u64,
    horizon: u64,
    devices: HashMap<Uuid, DeviceEntry>,
    access: HashMap<String, (String, Option<Uuid>)>,
    refresh: HashMap<String, (String, Option<Uuid>)>,
    attachments: HashSet<String>,
    conflicts: Vec<(Uuid, FieldConflict)>,
    clock: HlcClock,
    protocols: Vec<u32>,
    push_calls: u64,
}

impl Default for MemoryServer {
    fn default() -> Self {
        MemoryServer::new()
    }
}

impl MemoryServer {
    /// An empty server speaking protocol [`PROTOCOL_VERSION`], with no users.
    pub fn new() -> MemoryServer {
        MemoryServer {
            state: Mutex::new(State {
                users: HashMap::new(),
                records: HashMap::new(),
                log: BTreeMap::new(),
                change_of: HashMap::new(),
                next_change: 1,
                horizon: 0,
                devices: HashMap::new(),
                access: HashMap::new(),
                refresh: HashMap::new(),
                attachments: HashSet::new(),
                conflicts: Vec::new(),
                clock: HlcClock::new("server", DEFAULT_MAX_DRIFT_MS),
                protocols: vec![PROTOCOL_VERSION],
                push_calls: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a user who can log in with `password`.
    pub fn add_user(&self, username: &str, password: &str) {
        self.lock()
            .users
            .insert(username.into(), (password.into(), Uuid::now_v7()));
    }

    /// Every access token stops working (as after their expiry); refresh tokens still work.
    pub fn expire_access_tokens(&self) {
        self.lock().access.clear();
    }

    /// An administrator revokes the device: no more push, pull or refresh.
    pub fn revoke_device(&self, device_id: Uuid) {
        if let Some(d) = self.lock().devices.get_mut(&device_id) {
            d.revoked = true;
        }
    }

    /// Forgets the change history so far: every cursor issued until now gets reset-required.
    pub fn expire_cursors(&self) {
        let mut s = self.lock();
        s.horizon = s.next_change;
    }

    /// The protocol versions the server accepts from now on.
    pub fn set_supported_protocols(&self, versions: Vec<u32>) {
        self.lock().protocols = versions;
    }

    /// The live (not deleted) records with their field values, by id.
    pub fn live_records(&self) -> BTreeMap<Uuid, (String, BTreeMap<String, Value>)> {
        self.lock()
            .records
            .values()
            .filter(|r| !r.deleted)
            .map(|r| (r.id, (r.record_type.clone(), r.values())))
            .collect()
    }

    /// The stored record with this id, tombstones included.
    pub fn record(&self, id: Uuid) -> Option<StoredRecord> {
        self.lock().records.get(&id).cloned()
    }

    /// Every conflict recorded, with its record id.
    pub fn conflicts(&self) -> Vec<(Uuid, FieldConflict)> {
        self.lock().conflicts.clone()
    }

    /// Whether a photo with this hash is stored.
    pub fn has_attachment(&self, sha256: &str) -> bool {
        self.lock().attachments.contains(sha256)
    }

    /// How many push requests reached the server (duplicates included).
    pub fn push_calls(&self) -> u64 {
        self.lock().push_calls
    }

    /// The last sequence number the server applied for this device.
    pub fn last_seq(&self, device_id: Uuid) -> u64 {
        self.lock()
            .devices
            .get(&device_id)
            .map_or(0, |d| d.last_seq)
    }

    /// Stores a new record as if created on the console by `author`; returns its id. For
    /// seeding large scopes in tests and benchmarks. Fails on fields the schema refuses.
    pub fn seed(
        &self,
        record_type: &str,
        fields: BTreeMap<String, Value>,
        author: &str,
    ) -> Result<Uuid, String> {
        let mut s = self.lock();
        let hlc = s.clock.tick(now_ms()).to_string();
        let m = Mutation {
            seq: 0,
            record_type: record_type.to_owned(),
            record_id: Uuid::now_v7(),
            op: Op::Upsert,
            base_version: None,
            fields,
            hlc,
        };
        s.apply(&m, author).map_err(|r| r.message_en)?;
        Ok(m.record_id)
    }

    /// A change made on the server itself (the console, or a conflict resolution) by `author`,
    /// based on the current version: merged like any mutation and pulled by every device.
    pub fn console_edit(
        &self,
        record_id: Uuid,
        op: Op,
        fields: BTreeMap<String, Value>,
        author: &str,
    ) -> Result<MutationOutcome, String> {
        let mut s = self.lock();
        let Some(cur) = s.records.get(&record_id).cloned() else {
            return Err(format!("no record {record_id}"));
        };
        let hlc = s.clock.tick(now_ms()).to_string();
        let m = Mutation {
            seq: 0,
            record_type: cur.record_type.clone(),
            record_id,
            op,
            base_version: Some(cur.version),
            fields,
            hlc,
        };
        s.apply(&m, author).map_err(|r| r.message_en)
    }
}

impl State {
    fn apply(
        &mut self,
        m: &Mutation,
        author: &str,
    ) -> Result<MutationOutcome, anju_shared::merge::Rejection> {
        let cur = self.records.get(&m.record_id);
        let next_version = cur.map_or(1, |c| c.version + 1);
        let result = merge_mutation(cur, m, author, next_version)?;
        for c in result.conflicts() {
            self.conflicts.push((m.record_id, c.clone()));
        }
        if result.changed {
            let id = result.record.id;
            self.records.insert(id, result.record);
            if let Some(old) = self.change_of.remove(&id) {
                self.log.remove(&old);
            }
            let n = self.next_change;
            self.next_change += 1;
            self.log.insert(n, id);
            self.change_of.insert(id, n);
        }
        Ok(result.outcome)
    }

    fn check_token(&self, token: &str) -> Result<(String, Option<Uuid>), TransportError> {
        let (user, device) =
            self.access.get(token).cloned().ok_or_else(|| {
                TransportError::status(401, "unauthorized", "access token expired")
            })?;
        if let Some(d) = device
            && self.devices.get(&d).is_some_and(|d| d.revoked)
        {
            return Err(TransportError::status(
                403,
                "device_revoked",
                "device revoked",
            ));
        }
        Ok((user, device))
    }

    fn check_device(&self, user: &str, device_id: Uuid) -> Result<(), TransportError> {
        match self.devices.get(&device_id) {
            None => Err(TransportError::status(
                404,
                "device_not_found",
                "no such device",
            )),
            Some(d) if d.revoked => Err(TransportError::status(403, "device_revoked", "revoked")),
            Some(d) if d.user != user => {
                Err(TransportError::status(403, "device_not_yours", "not yours"))
            }
            Some(_) => Ok(()),
        }
    }

    fn issue(&mut self, user: &str, device: Option<Uuid>) -> Session {
        let access = format!("a-{}", Uuid::new_v4());
        let refresh = format!("r-{}", Uuid::new_v4());
        self.access
            .insert(access.clone(), (user.to_owned(), device));
        self.refresh
            .insert(refresh.clone(), (user.to_owned(), device));
        let id = self
            .users
            .get(user)
            .map_or(Uuid::nil(), |u| u.1)
            .to_string();
        Session {
            access_token: access,
            refresh_token: refresh,
            expires_in: 900,
            user: UserInfo {
                id,
                username: user.to_owned(),
                display_name: user.to_owned(),
                role: "inspector".into(),
                unit_id: None,
            },
        }
    }
}

impl Transport for MemoryServer {
    fn login(&self, req: &LoginRequest) -> Result<Session, TransportError> {
        let mut s = self.lock();
        match s.users.get(&req.username) {
            Some((pw, _)) if *pw == req.password => {}
            _ => {
                return Err(TransportError::status(
                    401,
                    "invalid_credentials",
                    "wrong username or password",
                ));
            }
        }
        if let Some(d) = req.device_id {
            s.check_device(&req.username, d)?;
        }
        Ok(s.issue(&req.username, req.device_id))
    }

    fn refresh(&self, refresh_token: &str) -> Result<Session, TransportError> {
        let mut s = self.lock();
        let (user, device) = s
            .refresh
            .remove(refresh_token)
            .ok_or_else(|| TransportError::status(401, "invalid_refresh_token", "spent"))?;
        if let Some(d) = device
            && s.devices.get(&d).is_some_and(|d| d.revoked)
        {
            return Err(TransportError::status(403, "device_revoked", "revoked"));
        }
        Ok(s.issue(&user, device))
    }

    fn register_device(
        &self,
        access_token: &str,
        name: &str,
        _platform: &str,
    ) -> Result<DeviceRegistration, TransportError> {
        let mut s = self.lock();
        let (user, _) = s.check_token(access_token)?;
        let id = Uuid::now_v7();
        s.devices.insert(
            id,
            DeviceEntry {
                user,
                ..DeviceEntry::default()
            },
        );
        Ok(DeviceRegistration {
            device_id: id,
            name: name.to_owned(),
            registered_at: json!(jiff::Timestamp::now().as_millisecond()),
        })
    }

    fn push(&self, access_token: &str, req: &PushRequest) -> Result<PushResponse, TransportError> {
        let mut s = self.lock();
        s.push_calls += 1;
        let (user, _) = s.check_token(access_token)?;
        if !s.protocols.contains(&req.protocol) {
            return Err(TransportError::Status {
                status: 400,
                code: Some("protocol_version_unsupported".into()),
                message: "update the app".into(),
                retry_after: None,
                body: Some(json!({"code": "protocol_version_unsupported",
                    "requested": req.protocol, "supported": s.protocols})),
            });
        }
        s.check_device(&user, req.device_id)?;
        let mut last = s.devices.get(&req.device_id).map_or(0, |d| d.last_seq);
        // The whole batch is checked before any effect: a gap refuses it whole.
        let mut probe = last;
        for m in &req.mutations {
            match check_seq(probe, m.seq) {
                SeqCheck::Gap { expected } => {
                    return Err(TransportError::Status {
                        status: 409,
                        code: Some("sequence_gap".into()),
                        message: format!("expected {expected}"),
                        retry_after: None,
                        body: Some(json!({"code": "sequence_gap", "expected": expected})),
                    });
                }
                SeqCheck::Next => probe = m.seq,
                SeqCheck::AlreadyApplied => {}
            }
        }
        let author = req.device_id.to_string();
        let mut results = Vec::with_capacity(req.mutations.len());
        for m in &req.mutations {
            let outcome = match check_seq(last, m.seq) {
                SeqCheck::AlreadyApplied => MutationOutcome::AlreadyApplied,
                _ => {
                    let now = now_ms();
                    let outcome = match Hlc::parse(&m.hlc) {
                        Err(e) => MutationOutcome::from(anju_shared::merge::Rejection::from(e)),
                        Ok(h) => match s.clock.observe(&h, now) {
                            Err(e) => anju_shared::merge::Rejection::from(e).into(),
                            Ok(_) => s.apply(m, &author).unwrap_or_else(Into::into),
                        },
                    };
                    last = m.seq;
                    outcome
                }
            };
            results.push(MutationResult {
                seq: m.seq,
                record_id: m.record_id,
                outcome,
            });
        }
        if let Some(d) = s.devices.get_mut(&req.device_id) {
            d.last_seq = last;
        }
        let server_hlc = s.clock.tick(now_ms()).to_string();
        Ok(PushResponse {
            results,
            server_hlc,
        })
    }

    fn pull(
        &self,
        access_token: &str,
        device_id: Uuid,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullAnswer, TransportError> {
        let s = self.lock();
        let (user, _) = s.check_token(access_token)?;
        s.check_device(&user, device_id)?;
        let after: u64 = match cursor {
            None => 0,
            Some(c) => c
                .parse()
                .map_err(|_| TransportError::status(400, "invalid_cursor", "bad cursor"))?,
        };
        if cursor.is_some() && after < s.horizon {
            return Ok(PullAnswer::ResetRequired(ResetRequired::default()));
        }
        let limit = usize::try_from(limit.clamp(1, 1000)).unwrap_or(1000);
        let mut changes = Vec::new();
        let mut next = after;
        let mut rest = s.log.range(after + 1..);
        for (n, id) in rest.by_ref().take(limit) {
            if let Some(r) = s.records.get(id) {
                changes.push(r.to_change());
            }
            next = *n;
        }
        let has_more = rest.next().is_some();
        Ok(PullAnswer::Page(PullResponse {
            changes,
            next_cursor: next.to_string(),
            has_more,
        }))
    }

    fn missing_attachments(
        &self,
        access_token: &str,
        hashes: &[String],
    ) -> Result<Vec<String>, TransportError> {
        let s = self.lock();
        s.check_token(access_token)?;
        Ok(hashes
            .iter()
            .filter(|h| !s.attachments.contains(*h))
            .cloned()
            .collect())
    }

    fn put_attachment(
        &self,
        access_token: &str,
        sha256: &str,
        bytes: Vec<u8>,
    ) -> Result<(), TransportError> {
        let mut s = self.lock();
        s.check_token(access_token)?;
        if hex::encode(Sha256::digest(&bytes)) != sha256 {
            return Err(TransportError::status(
                422,
                "hash_mismatch",
                "hash mismatch",
            ));
        }
        s.attachments.insert(sha256.to_owned());
        Ok(())
    }
}
