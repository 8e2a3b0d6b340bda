//! The device against the in-memory server: store, outbox, view, and the sync loop under
//! failures. No network, no real server.

use std::collections::BTreeMap;
use std::sync::Arc;

use anju_client::memory::MemoryServer;
use anju_client::{Device, Endpoint, Error, Fault, FaultyTransport, RetryPolicy, SyncOptions};
use anju_shared::protocol::Op;
use serde_json::{Value, json};
use uuid::Uuid;

const AREA: &str = "01890a5d-ac96-774b-bcce-b302099a8059";
const UNIT: &str = "01890a5d-ac96-774b-bcce-b302099a8057";

type Net = Arc<FaultyTransport<Arc<MemoryServer>>>;

struct World {
    server: Arc<MemoryServer>,
    net: Net,
    _tmp: tempfile::TempDir,
    root: std::path::PathBuf,
}

impl World {
    fn new() -> World {
        let server = Arc::new(MemoryServer::new());
        server.add_user("wang", "pw-wang");
        server.add_user("li", "pw-li");
        let net = Arc::new(FaultyTransport::new(server.clone()));
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        World {
            server,
            net,
            _tmp: tmp,
            root,
        }
    }

    fn offline(&self, name: &str) -> Device {
        Device::open(self.root.join(name)).unwrap()
    }

    fn device(&self, name: &str, user: &str) -> Device {
        let mut d = self.offline(name);
        self.connect(&mut d, 3);
        d.login(user, &format!("pw-{user}"), name).unwrap();
        d
    }

    fn connect(&self, d: &mut Device, attempts: u32) {
        d.connect(self.net.clone());
        d.set_options(SyncOptions {
            retry: RetryPolicy::immediate(attempts),
            ..SyncOptions::default()
        });
    }
}

fn fields(v: Value) -> BTreeMap<String, Value> {
    serde_json::from_value(v).unwrap()
}

fn hazard(desc: &str) -> BTreeMap<String, Value> {
    fields(json!({
        "description": desc, "area_id": AREA, "unit_id": UNIT,
        "severity": "medium", "status": "open"
    }))
}

fn field(d: &mut Device, id: Uuid, name: &str) -> Value {
    d.show(id).unwrap().unwrap().fields[name].clone()
}

#[test]
fn store_is_created_migrated_and_reopened_with_its_outbox() {
    let w = World::new();
    let id = {
        let mut d = w.offline("a");
        d.create("hazard", hazard("外墙空鼓")).unwrap()
    };
    let mut d = w.offline("a");
    let st = d.status().unwrap();
    assert_eq!(st.pending, 1);
    assert_eq!(st.device_id, None);
    let list = d.list("hazard").unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, id);
    assert_eq!(list[0].server_version, None);
    assert_eq!(list[0].pending, 1);
    assert_eq!(list[0].fields["description"], "外墙空鼓");
    assert_eq!(id.get_version_num(), 7);
}

#[test]
fn outbox_sequence_numbers_are_contiguous_persisted_and_never_reused() {
    let w = World::new();
    {
        let mut d = w.offline("a");
        d.create("hazard", hazard("一")).unwrap();
        d.create("hazard", hazard("二")).unwrap();
    }
    let mut d = w.offline("a");
    let id = d.create("hazard", hazard("三")).unwrap();
    let seqs: Vec<u64> = d.pending().unwrap().iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    w.connect(&mut d, 3);
    d.login("wang", "pw-wang", "a").unwrap();
    let r = d.sync().unwrap();
    assert_eq!(r.applied, 3);
    assert!(d.pending().unwrap().is_empty());
    drop(d);
    let mut d = w.offline("a");
    let seq = d.edit(id, fields(json!({"severity": "high"}))).unwrap();
    assert_eq!(
        seq, 4,
        "a sequence number is never reused after the outbox empties"
    );
    let dev = d.device_id().unwrap().unwrap();
    assert_eq!(w.server.last_seq(dev), 3);
}

#[test]
fn invalid_changes_are_refused_before_queuing() {
    let w = World::new();
    let mut d = w.offline("a");
    assert!(matches!(
        d.create("hazzard", hazard("x")),
        Err(Error::UnknownRecordType(_))
    ));
    let mut f = hazard("x");
    f.insert("colour".into(), json!("red"));
    assert!(
        matches!(d.create("hazard", f), Err(Error::InvalidField { code, .. }) if code == "unknown_field")
    );
    let mut f = hazard("x");
    f.insert("severity".into(), json!("apocalyptic"));
    assert!(
        matches!(d.create("hazard", f), Err(Error::InvalidField { field, .. }) if field == "severity")
    );
    let mut f = hazard("x");
    f.remove("unit_id");
    assert!(
        matches!(d.create("hazard", f), Err(Error::InvalidField { code, .. }) if code == "field_required")
    );
    assert!(matches!(
        d.edit(Uuid::now_v7(), hazard("x")),
        Err(Error::NotFound(_))
    ));
    let id = d.create("hazard", hazard("ok")).unwrap();
    assert!(matches!(
        d.edit(id, fields(json!({"description": null}))),
        Err(Error::InvalidField { code, .. }) if code == "field_required"
    ));
    assert_eq!(d.pending().unwrap().len(), 1);
}

#[test]
fn view_is_server_state_with_pending_changes_rebased_on_each_pull() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    let mut b = w.device("b", "li");
    let id = a.create("hazard", hazard("原描述")).unwrap();
    a.sync().unwrap();
    b.sync().unwrap();
    assert_eq!(field(&mut b, id, "description"), "原描述");

    b.edit(id, fields(json!({"description": "乙的描述"})))
        .unwrap();
    a.edit(id, fields(json!({"severity": "critical"}))).unwrap();
    a.sync().unwrap();
    // b has not pulled: its own edit on top of the old server state.
    assert_eq!(field(&mut b, id, "severity"), "medium");
    assert_eq!(field(&mut b, id, "description"), "乙的描述");
    b.pull().unwrap();
    // Rebased: the new server state with b's pending edit still on top.
    assert_eq!(field(&mut b, id, "severity"), "critical");
    assert_eq!(field(&mut b, id, "description"), "乙的描述");
    assert_eq!(b.show(id).unwrap().unwrap().pending, 1);
    let r = b.sync().unwrap();
    assert_eq!(r.merged, 1);
    a.sync().unwrap();
    let server = w.server.live_records();
    for d in [&mut a, &mut b] {
        let v = d.show(id).unwrap().unwrap();
        assert_eq!(v.fields, server[&id].1);
        assert_eq!(v.pending, 0);
    }
}

#[test]
fn accepted_edit_does_not_flicker_back_when_the_pull_fails() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    let id = a.create("hazard", hazard("旧")).unwrap();
    a.sync().unwrap();
    a.edit(id, fields(json!({"description": "新"}))).unwrap();
    w.connect(&mut a, 1);
    w.net.inject(Endpoint::Pull, Fault::CutBeforeSend);
    assert!(matches!(a.sync(), Err(Error::Server(_))));
    assert_eq!(a.status().unwrap().pending, 0, "the push was answered");
    assert_eq!(field(&mut a, id, "description"), "新");
    a.sync().unwrap();
    assert_eq!(field(&mut a, id, "description"), "新");
    assert_eq!(a.pulled().unwrap()[0].version, 2);
}

#[test]
fn answer_lost_after_push_is_re_pushed_as_already_applied() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    for i in 0..7 {
        a.create("hazard", hazard(&format!("隐患{i}"))).unwrap();
    }
    w.connect(&mut a, 1);
    w.net.inject(Endpoint::Push, Fault::CutAfterSend);
    assert!(a.sync().is_err());
    assert_eq!(
        a.status().unwrap().pending,
        7,
        "nothing leaves without its answer"
    );
    assert_eq!(
        w.server.live_records().len(),
        7,
        "the server did apply them"
    );
    let r = a.sync().unwrap();
    assert_eq!(r.already_applied, 7);
    assert_eq!(r.applied, 0);
    assert_eq!(w.server.live_records().len(), 7, "no duplicates");
    assert_eq!(a.list("hazard").unwrap().len(), 7);
    assert_eq!(a.status().unwrap().pending, 0);
}

#[test]
fn retries_cover_cut_connections_duplicates_and_server_errors_within_one_sync() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    for i in 0..3 {
        a.create("hazard", hazard(&format!("隐患{i}"))).unwrap();
    }
    w.net.inject(Endpoint::Push, Fault::CutAfterSend);
    w.net.inject(Endpoint::Push, Fault::Duplicate);
    w.net.inject(Endpoint::Pull, Fault::Status(503));
    w.net.inject(Endpoint::Pull, Fault::Status(429));
    let r = a.sync().unwrap();
    assert_eq!(r.already_applied, 3);
    assert_eq!(w.server.push_calls(), 3);
    assert_eq!(w.server.live_records().len(), 3);
    assert_eq!(a.list("hazard").unwrap().len(), 3);
}

#[test]
fn outbox_is_pushed_in_batches_of_at_most_500() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    for i in 0..1201 {
        a.create("hazard", hazard(&format!("隐患{i}"))).unwrap();
    }
    let r = a.sync().unwrap();
    assert_eq!(r.applied, 1201);
    assert_eq!(w.server.push_calls(), 3);
    assert_eq!(r.pulled, 1201);
    assert_eq!(a.list("hazard").unwrap().len(), 1201);
}

#[test]
fn conflicts_are_kept_with_both_values() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    let mut b = w.device("b", "li");
    let id = a.create("hazard", hazard("原")).unwrap();
    a.sync().unwrap();
    b.sync().unwrap();
    a.edit(id, fields(json!({"description": "甲改"}))).unwrap();
    b.edit(id, fields(json!({"description": "乙改"}))).unwrap();
    a.sync().unwrap();
    let r = b.sync().unwrap();
    assert_eq!(r.conflicted, 1);
    let cs = b.conflicts().unwrap();
    assert_eq!(cs.len(), 1);
    assert_eq!(cs[0].field, "description");
    assert_eq!(cs[0].server_value, "甲改");
    assert_eq!(cs[0].device_value, "乙改");
    assert_eq!(cs[0].winner, "device", "b's stamp is later");
    a.sync().unwrap();
    assert_eq!(field(&mut a, id, "description"), "乙改");
    assert_eq!(field(&mut b, id, "description"), "乙改");
    assert_eq!(w.server.conflicts().len(), 1);
}

#[test]
fn rejected_changes_leave_the_outbox_with_their_reason() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    let mut b = w.device("b", "li");
    let id = a.create("hazard", hazard("原")).unwrap();
    a.sync().unwrap();
    b.sync().unwrap();
    a.delete(id).unwrap();
    assert!(
        a.show(id).unwrap().is_none(),
        "a deleted record disappears at once"
    );
    b.edit(id, fields(json!({"severity": "high"}))).unwrap();
    a.sync().unwrap();
    let r = b.sync().unwrap();
    assert_eq!(r.rejected, 1);
    assert_eq!(b.status().unwrap().pending, 0);
    let rej = b.rejected().unwrap();
    assert_eq!(rej[0].code, "record_deleted");
    assert_eq!(rej[0].fields, json!({"severity": "high"}));
    assert!(b.show(id).unwrap().is_none());
}

#[test]
fn reset_required_re_downloads_and_keeps_unsent_changes() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    let ids: Vec<Uuid> = (0..5)
        .map(|i| a.create("hazard", hazard(&format!("隐患{i}"))).unwrap())
        .collect();
    a.sync().unwrap();
    a.edit(ids[0], fields(json!({"description": "未上传"})))
        .unwrap();
    let extra = a.create("hazard", hazard("新建未上传")).unwrap();
    w.server
        .console_edit(ids[1], Op::Delete, BTreeMap::new(), "console")
        .unwrap();
    w.server.expire_cursors();
    let r = a.pull().unwrap();
    assert!(r.reset);
    assert_eq!(a.status().unwrap().pending, 2);
    assert_eq!(field(&mut a, ids[0], "description"), "未上传");
    assert!(a.show(ids[1]).unwrap().is_none());
    assert!(a.show(extra).unwrap().is_some());
    assert_eq!(a.list("hazard").unwrap().len(), 5);
    a.sync().unwrap();
    let server = w.server.live_records();
    assert_eq!(server.len(), 5);
    assert_eq!(server[&ids[0]].1["description"], "未上传");
}

#[test]
fn expired_access_token_is_refreshed_quietly_and_the_new_pair_kept() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    a.create("hazard", hazard("一")).unwrap();
    w.server.expire_access_tokens();
    a.sync().unwrap();
    // The first refresh token is spent; only the stored new one can work now.
    drop(a);
    let mut a = w.offline("a");
    w.connect(&mut a, 3);
    w.server.expire_access_tokens();
    a.create("hazard", hazard("二")).unwrap();
    a.sync().unwrap();
    assert_eq!(w.server.live_records().len(), 2);
}

#[test]
fn revoked_device_is_told_plainly_and_keeps_its_outbox() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    a.create("hazard", hazard("一")).unwrap();
    let dev = a.device_id().unwrap().unwrap();
    w.server.revoke_device(dev);
    let e = a.sync().unwrap_err();
    assert!(matches!(e, Error::DeviceRevoked), "{e}");
    assert!(e.to_string().contains("revoked"));
    assert_eq!(a.status().unwrap().pending, 1);
    w.server.expire_access_tokens();
    assert!(matches!(a.sync(), Err(Error::DeviceRevoked)));
}

#[test]
fn outdated_protocol_is_a_plain_message_and_the_outbox_stays() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    a.create("hazard", hazard("一")).unwrap();
    w.server.set_supported_protocols(vec![2]);
    let e = a.sync().unwrap_err();
    assert!(
        matches!(&e, Error::ProtocolOutdated { requested: 1, supported } if supported == &vec![2]),
        "{e}"
    );
    assert!(e.to_string().contains("update the app"));
    assert_eq!(a.status().unwrap().pending, 1);
}

#[test]
fn corrupt_store_is_a_clear_error_naming_the_file() {
    let w = World::new();
    let dir = w.root.join("broken");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("device.sqlite3");
    std::fs::write(&file, vec![0x42_u8; 8192]).unwrap();
    let e = match Device::open(&dir) {
        Err(e) => e,
        Ok(_) => panic!("a garbage file opened as a store"),
    };
    assert!(matches!(e, Error::CorruptStore { .. }), "{e}");
    assert!(e.to_string().contains(&file.display().to_string()), "{e}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        vec![0x42_u8; 8192],
        "left untouched"
    );
}

#[test]
fn photos_upload_by_hash_and_a_vanished_one_stops_the_sync_with_the_outbox_intact() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    let id = a.create("hazard", hazard("有照片")).unwrap();
    let src = w.root.join("IMG_0001.JPG");
    std::fs::write(&src, b"\xFF\xD8\xFF fake jpeg bytes").unwrap();
    let sha = a.attach(id, "photos", &src).unwrap();
    assert_eq!(field(&mut a, id, "photos"), json!([sha.clone()]));
    assert!(matches!(
        a.attach(id, "description", &src),
        Err(Error::InvalidChange(_))
    ));
    let text = w.root.join("notes.txt");
    std::fs::write(&text, b"not a photo").unwrap();
    let e = a.attach(id, "photos", &text).unwrap_err();
    assert!(e.to_string().contains("not a JPEG, PNG or WebP"), "{e}");
    let copy = a.dir().join("photos").join(format!("{sha}.jpg"));
    let bytes = std::fs::read(&copy).unwrap();
    std::fs::remove_file(&copy).unwrap();
    let e = a.sync().unwrap_err();
    assert!(
        matches!(&e, Error::PhotoMissing { path, .. } if path == &copy),
        "{e}"
    );
    assert!(e.to_string().contains(&copy.display().to_string()));
    assert_eq!(a.status().unwrap().pending, 2);
    assert_eq!(w.server.push_calls(), 0);
    std::fs::write(&copy, bytes).unwrap();
    let r = a.sync().unwrap();
    assert_eq!(r.photos_uploaded, 1);
    assert!(w.server.has_attachment(&sha));
    assert!(copy.exists(), "the original stays on the device");
    assert_eq!(w.server.live_records()[&id].1["photos"], json!([sha]));
    let r = a.sync().unwrap();
    assert_eq!(r.photos_uploaded, 0);
}

#[test]
fn set_fields_given_as_arrays_become_deltas() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    let mut f = hazard("集合");
    let (p1, p2) = ("a".repeat(64), "b".repeat(64));
    f.insert("photos".into(), json!([p1.clone(), p2.clone()]));
    let id = a.create("hazard", f).unwrap();
    a.edit(id, fields(json!({"photos": [p2.clone()]}))).unwrap();
    let pending = a.pending().unwrap();
    assert_eq!(
        pending[0].fields["photos"],
        json!({"add": [p1.clone(), p2.clone()], "remove": []})
    );
    assert_eq!(
        pending[1].fields["photos"],
        json!({"add": [], "remove": [p1]})
    );
    assert_eq!(field(&mut a, id, "photos"), json!([p2.clone()]));
    a.sync().unwrap();
    assert_eq!(w.server.live_records()[&id].1["photos"], json!([p2]));
}

#[test]
fn devices_converge_under_random_edits_and_failures() {
    use rand::{Rng, SeedableRng, rngs::StdRng};
    let seed: u64 = std::env::var("ANJU_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261126);
    let mut rng = StdRng::seed_from_u64(seed);
    let w = World::new();
    let mut devices: Vec<Device> = (0..6)
        .map(|i| w.device(&format!("d{i}"), if i % 2 == 0 { "wang" } else { "li" }))
        .collect();
    for round in 0..6 {
        for d in devices.iter_mut() {
            for _ in 0..rng.random_range(0..5) {
                let visible = d.list("hazard").unwrap();
                let pick =
                    (!visible.is_empty()).then(|| visible[rng.random_range(0..visible.len())].id);
                match (rng.random_range(0..10), pick) {
                    (0..=3, _) | (_, None) => {
                        d.create("hazard", hazard(&format!("r{round}"))).unwrap();
                    }
                    (4..=7, Some(id)) => {
                        let sev = ["low", "medium", "high", "critical"][rng.random_range(0..4)];
                        let st = ["open", "rectified", "verified"][rng.random_range(0..3)];
                        d.edit(id, fields(json!({"severity": sev, "status": st, "location": format!("{round}")})))
                            .unwrap();
                    }
                    (_, Some(id)) => {
                        d.delete(id).unwrap();
                    }
                }
            }
        }
        for d in devices.iter_mut() {
            if rng.random_bool(0.3) {
                let fault = [
                    (Endpoint::Push, Fault::CutAfterSend),
                    (Endpoint::Push, Fault::Duplicate),
                    (Endpoint::Pull, Fault::CutBeforeSend),
                    (Endpoint::Pull, Fault::Duplicate),
                    (Endpoint::Push, Fault::Status(503)),
                ][rng.random_range(0..5)]
                .clone();
                w.net.inject(fault.0, fault.1);
            }
            if rng.random_bool(0.7) {
                d.sync().unwrap();
            }
        }
    }
    for _ in 0..2 {
        for d in devices.iter_mut() {
            d.sync().unwrap();
        }
    }
    let server = w.server.live_records();
    for d in devices.iter_mut() {
        let view: BTreeMap<Uuid, (String, BTreeMap<String, Value>)> = d
            .view_all()
            .unwrap()
            .into_iter()
            .map(|r| (r.id, (r.record_type, r.fields)))
            .collect();
        assert_eq!(view, server, "seed {seed}");
        assert_eq!(d.status().unwrap().pending, 0);
    }
}

#[test]
fn registration_interrupted_at_login_is_completed_by_the_next_sync() {
    let w = World::new();
    let mut a = w.offline("a");
    w.connect(&mut a, 1);
    w.net.inject(Endpoint::Register, Fault::CutBeforeSend);
    assert!(a.login("wang", "pw-wang", "a").is_err());
    assert_eq!(a.device_id().unwrap(), None);
    a.create("hazard", hazard("一")).unwrap();
    a.sync().unwrap();
    assert!(a.device_id().unwrap().is_some());
    assert_eq!(w.server.live_records().len(), 1);
}

#[test]
fn wrong_password_is_refused_plainly() {
    let w = World::new();
    let mut a = w.offline("a");
    w.connect(&mut a, 3);
    let e = a.login("wang", "nope", "a").unwrap_err();
    assert!(matches!(e, Error::LoginRefused(_)), "{e}");
    assert!(matches!(a.sync(), Err(Error::NotLoggedIn)));
}

type PushHook = Box<dyn Fn(&mut anju_shared::protocol::PushResponse) + Send + Sync>;

/// The in-memory server with hooks around push: `before` runs before the server sees the
/// request, `after` may spoil the answer.
struct Hooked {
    server: Arc<MemoryServer>,
    before: Box<dyn Fn() + Send + Sync>,
    after: PushHook,
}

impl anju_client::Transport for Hooked {
    fn login(
        &self,
        r: &anju_client::transport::LoginRequest,
    ) -> Result<anju_client::transport::Session, anju_client::TransportError> {
        self.server.login(r)
    }
    fn refresh(
        &self,
        t: &str,
    ) -> Result<anju_client::transport::Session, anju_client::TransportError> {
        self.server.refresh(t)
    }
    fn register_device(
        &self,
        a: &str,
        n: &str,
        p: &str,
    ) -> Result<anju_client::transport::DeviceRegistration, anju_client::TransportError> {
        self.server.register_device(a, n, p)
    }
    fn push(
        &self,
        a: &str,
        r: &anju_shared::protocol::PushRequest,
    ) -> Result<anju_shared::protocol::PushResponse, anju_client::TransportError> {
        (self.before)();
        let mut resp = self.server.push(a, r)?;
        (self.after)(&mut resp);
        Ok(resp)
    }
    fn pull(
        &self,
        a: &str,
        d: Uuid,
        c: Option<&str>,
        l: u32,
    ) -> Result<anju_shared::protocol::PullAnswer, anju_client::TransportError> {
        self.server.pull(a, d, c, l)
    }
    fn missing_attachments(
        &self,
        a: &str,
        h: &[String],
    ) -> Result<Vec<String>, anju_client::TransportError> {
        self.server.missing_attachments(a, h)
    }
    fn put_attachment(
        &self,
        a: &str,
        s: &str,
        b: Vec<u8>,
    ) -> Result<(), anju_client::TransportError> {
        self.server.put_attachment(a, s, b)
    }
}

#[test]
fn a_push_answer_that_does_not_match_is_not_trusted_and_the_outbox_stays() {
    let w = World::new();
    let mut a = w.offline("a");
    // Answers that lose their last result: garbage the device must not trust.
    a.connect(Hooked {
        server: w.server.clone(),
        before: Box::new(|| {}),
        after: Box::new(|resp| {
            resp.results.pop();
        }),
    });
    a.set_options(SyncOptions {
        retry: RetryPolicy::immediate(1),
        ..SyncOptions::default()
    });
    a.login("wang", "pw-wang", "a").unwrap();
    a.create("hazard", hazard("一")).unwrap();
    a.create("hazard", hazard("二")).unwrap();
    let e = a.sync().unwrap_err();
    assert!(e.to_string().contains("does not match"), "{e}");
    assert_eq!(a.status().unwrap().pending, 2);
    // The server did apply them; a sane answer later acknowledges both without duplicates.
    w.connect(&mut a, 1);
    let r = a.sync().unwrap();
    assert_eq!(r.already_applied, 2);
    assert_eq!(w.server.live_records().len(), 2);
}

#[test]
fn a_device_can_move_to_another_thread() {
    fn send<T: Send>(_: &T) {}
    let w = World::new();
    let d = w.offline("a");
    send(&d);
    std::thread::spawn(move || drop(d)).join().unwrap();
}

#[test]
fn two_processes_syncing_one_directory_at_once_neither_fail_nor_duplicate() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    for i in 0..30 {
        a.create("hazard", hazard(&format!("隐患{i}"))).unwrap();
    }
    let mut b = w.offline("a");
    // Both processes read the same batch before either gets its answer.
    let barrier = Arc::new(std::sync::Barrier::new(2));
    for d in [&mut a, &mut b] {
        let barrier = barrier.clone();
        d.connect(Hooked {
            server: w.server.clone(),
            before: Box::new(move || {
                barrier.wait();
            }),
            after: Box::new(|_| {}),
        });
    }
    let ta = std::thread::spawn(move || a.push().map_err(|e| e.to_string()));
    let tb = std::thread::spawn(move || b.push().map_err(|e| e.to_string()));
    let ra = ta.join().unwrap().unwrap();
    let rb = tb.join().unwrap().unwrap();
    assert_eq!(ra.applied + rb.applied, 30);
    assert_eq!(ra.already_applied + rb.already_applied, 30);
    let mut a = w.offline("a");
    w.connect(&mut a, 1);
    a.sync().unwrap();
    assert_eq!(a.status().unwrap().pending, 0);
    assert_eq!(a.list("hazard").unwrap().len(), 30);
    assert_eq!(w.server.live_records().len(), 30);
}

#[test]
fn photos_of_a_create_only_ticket_action_are_uploaded_with_it() {
    let w = World::new();
    let mut a = w.device("a", "wang");
    let src = w.root.join("done.png");
    std::fs::write(&src, b"\x89PNG\r\n\x1a\n rest of a png").unwrap();
    let sha = a.add_photo(&src).unwrap();
    let f = fields(json!({
        "ticket_id": "0190f5d1-0000-7000-8000-000000000009", "unit_id": UNIT,
        "action": "resolve", "message": "已修复", "acted_at": "2026-11-26T09:30:00+08:00",
        "photos": [sha.clone()]
    }));
    let id = a.create("ticket_action", f).unwrap();
    assert!(matches!(
        a.edit(id, fields(json!({"message": "x"}))),
        Err(Error::InvalidChange(_))
    ));
    assert!(matches!(a.delete(id), Err(Error::InvalidChange(_))));
    let r = a.sync().unwrap();
    assert_eq!((r.photos_uploaded, r.applied), (1, 1));
    assert!(w.server.has_attachment(&sha));
}
