//! Convergence of field devices (issue 5, item 7): many real devices (`anju_client::Device` over
//! HTTP, with injected failures) under different users, roles and units edit overlapping records
//! offline, sync in random order through cut connections, duplicated requests and a server
//! restart in the middle of their pushes; after everyone syncs twice with no faults, every
//! device shows exactly the server's state for its scope, every accepted change is reflected,
//! every conflict the server recorded comes from a real concurrent edit, and nothing is
//! duplicated. Seeded: the seed is printed, and `ANJU_SEED=<n>` replays the same edits, sync
//! order and faults (exactly up to the restart round; the syncs racing the restart are timed by
//! the OS, so later rounds may see slightly different states).
//!
//! Runs on SQLite, and on PostgreSQL with `ANJU_TEST_DATABASE_URL`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anju_client::{
    Device, Endpoint, Error as DeviceError, Fault, FaultyTransport, RetryPolicy, SyncOptions,
    TransportError,
};
use anju_server::attachments::schema::attachments;
use anju_server::auth::Role;
use anju_server::db::schema::{areas, unit_areas, units};
use anju_server::sync::schema::{sync_conflicts, sync_records, sync_rejections};
use anju_server::sync::store::RecordRow;
use anju_shared::hlc::Hlc;
use anju_shared::merge::StoredRecord;
use anju_shared::protocol::{Mutation, MutationOutcome, Op, SetDelta};
use anju_shared::records::{FieldKind, MergePolicy, schema_for};
use anju_tests::field::Link;
use anju_tests::{TestApp, USER_PASSWORD};
use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// A seeded random source (SplitMix64), so a failing run can be replayed with ANJU_SEED.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
}

fn seed() -> u64 {
    let seed = std::env::var("ANJU_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            u64::try_from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() % u128::from(u64::MAX)),
            )
            .unwrap_or(0)
        });
    eprintln!("sync_convergence: seed {seed} (replay with ANJU_SEED={seed})");
    seed
}

// ---------------------------------------------------------------------------------------------
// A transport that notes the server's real answer to every mutation, below the fault injector:
// an answer that `FaultyTransport` then throws away (cut after send) is still known to the test.

/// (device id, seq) → the first answer that was not `already_applied`.
#[derive(Default)]
struct Answers {
    first: HashMap<(Uuid, u64), MutationOutcome>,
    /// Mutations waiting in an outbox when the server restarted and not answered by the end of
    /// that round: the old server may have committed one and lost its answer. Its first answer
    /// seen is then the re-send's, and a re-sent conflict is answered with the record's version
    /// at that time, at or after the version the conflict produced (`sync/replay.rs`): an upper
    /// bound, not the version of the change.
    maybe_lost: BTreeSet<(Uuid, u64)>,
    /// Mutations answered as acted on more than once (a second effect).
    doubles: Vec<(Uuid, u64)>,
    /// Re-sent mutations whose rejection or conflict was told again.
    replayed: usize,
}

/// A second answer that repeats the first rejection or conflict (the record may have moved on
/// since, so a conflict's version is not compared).
fn same_news(first: &MutationOutcome, again: &MutationOutcome) -> bool {
    match (first, again) {
        (MutationOutcome::Rejected { code: a, .. }, MutationOutcome::Rejected { code: b, .. }) => {
            a == b
        }
        (
            MutationOutcome::Conflict { conflicts: a, .. },
            MutationOutcome::Conflict { conflicts: b, .. },
        ) => a == b,
        _ => false,
    }
}

/// A link to `base` that notes every answered push in `answers`.
fn recorder(base: &str, answers: &Arc<Mutex<Answers>>) -> Link {
    let answers = answers.clone();
    Link::new(base).observing(move |req, resp| {
        let mut answers = answers.lock().unwrap_or_else(|p| p.into_inner());
        for r in &resp.results {
            if r.outcome == MutationOutcome::AlreadyApplied {
                continue;
            }
            let key = (req.device_id, r.seq);
            match answers.first.get(&key) {
                None => {
                    answers.first.insert(key, r.outcome.clone());
                }
                // A re-sent rejection or conflict is told again, with no second effect.
                Some(first) if same_news(first, &r.outcome) => answers.replayed += 1,
                Some(_) => answers.doubles.push(key),
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The simulated people and their devices.

/// The sample city's places the records are about (communities of four streets).
const COMMUNITIES: &[&str] = &[
    "hexi-jianshe-1",
    "hexi-jianshe-2",
    "hexi-jianshe-3",
    "hexi-heping-1",
    "hexi-heping-2",
    "hedong-xinhua-1",
    "hedong-xinhua-3",
    "hexi-hongqi-3",
];

/// The units whose people carry devices. `pm_hengan` serves communities in three streets, so
/// its scope overlaps the street offices' scopes.
const UNITS: &[&str] = &[
    "hexi_jianshe_office",
    "hexi_heping_office",
    "hedong_xinhua_office",
    "pm_hengan",
];

/// Ids of units and areas by code, and what each unit's people see.
struct City {
    unit: BTreeMap<String, String>,
    area: BTreeMap<String, String>,
    /// Unit id → (units seen, areas seen), computed here from the org tables, independently of
    /// the server's scope code.
    scope: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
}

fn subtree(root: &str, parent: &[(String, Option<String>)]) -> BTreeSet<String> {
    let mut out = BTreeSet::from([root.to_owned()]);
    loop {
        let before = out.len();
        for (id, p) in parent {
            if p.as_ref().is_some_and(|p| out.contains(p)) {
                out.insert(id.clone());
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

async fn load_city(app: &TestApp) -> City {
    app.state()
        .db
        .run(|conn| {
            let u: Vec<(String, String, Option<String>)> = units::table
                .select((units::id, units::code, units::parent_id))
                .load(conn)?;
            let a: Vec<(String, String, Option<String>)> = areas::table
                .select((areas::id, areas::code, areas::parent_id))
                .load(conn)?;
            let served: Vec<(String, String)> = unit_areas::table
                .select((unit_areas::unit_id, unit_areas::area_id))
                .load(conn)?;
            let uparent: Vec<(String, Option<String>)> =
                u.iter().map(|(id, _, p)| (id.clone(), p.clone())).collect();
            let aparent: Vec<(String, Option<String>)> =
                a.iter().map(|(id, _, p)| (id.clone(), p.clone())).collect();
            let mut scope = BTreeMap::new();
            for (id, _, _) in &u {
                let us = subtree(id, &uparent);
                let mut as_ = BTreeSet::new();
                for (unit, area) in &served {
                    if us.contains(unit) {
                        as_.extend(subtree(area, &aparent));
                    }
                }
                scope.insert(id.clone(), (us, as_));
            }
            Ok(City {
                unit: u.iter().map(|(id, c, _)| (c.clone(), id.clone())).collect(),
                area: a.iter().map(|(id, c, _)| (c.clone(), id.clone())).collect(),
                scope,
            })
        })
        .await
        .expect("org tables")
}

struct Sim {
    username: String,
    /// `None`: a supervisor, who sees everything.
    unit_id: Option<String>,
    device: Device,
    device_id: Uuid,
    author: String,
    faults: Arc<FaultyTransport<Link>>,
    _dir: tempfile::TempDir,
}

impl Sim {
    fn sees(&self, city: &City, unit: Option<&str>, area: Option<&str>) -> bool {
        let Some(me) = &self.unit_id else {
            return true;
        };
        let (us, as_) = &city.scope[me];
        unit.is_some_and(|u| us.contains(u)) || area.is_some_and(|a| as_.contains(a))
    }

    /// Whether the user may create a record with these scope ids: a unit role names its own
    /// unit (or one below it) as responsible; a building, which has none, an area it serves.
    fn may_create(&self, city: &City, unit: Option<&str>, area: Option<&str>) -> bool {
        let Some(me) = &self.unit_id else {
            return true;
        };
        let (us, as_) = &city.scope[me];
        match unit {
            Some(u) => us.contains(u),
            None => area.is_some_and(|a| as_.contains(a)),
        }
    }

    /// Gives the device a fresh transport to `base` (no faults queued).
    fn connect(&mut self, base: &str, answers: &Arc<Mutex<Answers>>) {
        let t = Arc::new(FaultyTransport::new(recorder(base, answers)));
        self.faults = t.clone();
        self.device.connect(t);
    }
}

fn new_sim(
    base: &str,
    answers: &Arc<Mutex<Answers>>,
    username: &str,
    unit_id: Option<String>,
) -> Sim {
    let dir = tempfile::tempdir().expect("device dir");
    let mut device = Device::open(dir.path()).expect("open device");
    let t = Arc::new(FaultyTransport::new(recorder(base, answers)));
    device.connect(t.clone());
    device
        .login(username, USER_PASSWORD, &format!("{username} 的设备"))
        .expect("login");
    let device_id = device.device_id().expect("store").expect("registered");
    Sim {
        username: username.to_owned(),
        unit_id,
        device,
        device_id,
        author: format!("device:{device_id}"),
        faults: t,
        _dir: dir,
    }
}

/// One change a device queued, as it went into its outbox.
#[derive(Clone)]
struct Logged {
    device_id: Uuid,
    author: String,
    m: Mutation,
}

// ---------------------------------------------------------------------------------------------
// Offline edits.

const FINDINGS: &[&str] = &[
    "漏水",
    "裂缝",
    "电线老化",
    "墙皮脱落",
    "排水不畅",
    "门窗损坏",
];

/// Values of the last-writer-wins fields devices edit; few per field, so that two devices
/// sometimes write the same value (never a conflict) and often different ones (a conflict).
fn lww_value(rng: &mut Rng, record_type: &str, field: &str) -> Value {
    match (record_type, field) {
        ("project", "name") => {
            json!(rng.pick(&["老旧小区改造一期", "老旧小区改造二期", "棚改安置"]))
        }
        ("project", "contractor") => json!(rng.pick(&["城建集团", "北方建设", "宏达施工"])),
        ("project", "progress_percent") => json!(rng.below(11) * 10),
        ("project", "completed_units") => json!(rng.below(5) * 20),
        ("building", "safety_grade") => json!(rng.pick(&["A", "B", "C", "D"])),
        ("building", "households") => json!(rng.below(4) * 12),
        ("building", "structure") => json!(rng.pick(&["brick_concrete", "brick_wood", "masonry"])),
        ("inspection", "findings") => json!(rng.pick(&["墙体开裂", "屋面渗水", "基本完好"])),
        ("inspection", "grade") => json!(rng.pick(&["A", "B", "C", "D"])),
        ("hazard", "severity") => json!(rng.pick(&["low", "medium", "high", "critical"])),
        ("hazard", "location") => json!(rng.pick(&["1号楼", "2号楼3单元", "小区东门"])),
        ("hazard", "rectification_note") => json!(rng.pick(&["已加固", "已更换管道", "已清理"])),
        ("hazard", "requirements") => json!(rng.pick(&["限期加固", "立即停用", "设置警示"])),
        _ => unreachable!("no values for {record_type}.{field}"),
    }
}

fn lww_fields(record_type: &str) -> &'static [&'static str] {
    match record_type {
        "project" => &["name", "contractor", "progress_percent", "completed_units"],
        "building" => &["safety_grade", "households", "structure"],
        "inspection" => &["findings", "grade"],
        "hazard" => &["severity", "location", "rectification_note", "requirements"],
        _ => &[],
    }
}

fn fields(v: Value) -> BTreeMap<String, Value> {
    v.as_object()
        .map(|o| o.clone().into_iter().collect())
        .unwrap_or_default()
}

fn create_fields(rng: &mut Rng, sim: &Sim, city: &City, record_type: &str) -> Value {
    // A (unit, area) pair the device's user may create: its own unit's record, often in
    // another unit's area (which that unit's devices then see too).
    let pairs: Vec<(&String, &String)> = UNITS
        .iter()
        .flat_map(|u| COMMUNITIES.iter().map(move |a| (*u, *a)))
        .map(|(u, a)| (&city.unit[u], &city.area[a]))
        .filter(|(u, a)| {
            if record_type == "building" {
                sim.may_create(city, None, Some(a))
            } else {
                sim.may_create(city, Some(u), Some(a))
            }
        })
        .collect();
    let (unit, area) = *rng.pick(&pairs);
    let n = rng.next() % 1000;
    match record_type {
        "project" => json!({
            "name": format!("改造项目{n}"), "programme": rng.pick(&["shantytown", "dangerous_housing", "old_community"]),
            "area_id": area, "unit_id": unit, "status": rng.pick(&["planned", "in_progress"]),
            "planned_units": 100,
        }),
        "building" => json!({
            "address": format!("清河路{n}号"), "area_id": area, "floors": 1 + rng.below(20),
            "safety_grade": rng.pick(&["A", "B", "C", "D"]),
        }),
        "inspection" => json!({
            "area_id": area, "unit_id": unit, "inspector": sim.username,
            "inspected_at": "2026-11-26T09:30:00+08:00",
            "checklist_findings": [rng.pick(FINDINGS)],
        }),
        _ => json!({
            "description": format!("隐患{n}"), "area_id": area, "unit_id": unit,
            "severity": rng.pick(&["low", "medium", "high"]), "status": "open",
        }),
    }
}

/// Makes 1 to 4 random offline changes on `sim`'s device and logs each queued mutation.
///
/// `born` numbers records in the order they were created, so that the choice of a record does
/// not depend on the random bits of UUIDv7 ids and a seed replays the same choices.
fn offline_edits(
    rng: &mut Rng,
    sim: &mut Sim,
    city: &City,
    log: &mut Vec<Logged>,
    born: &mut HashMap<Uuid, usize>,
) {
    let n = 1 + rng.below(4);
    for _ in 0..n {
        let view = sim.device.view_all().expect("view");
        let mut editable: Vec<_> = view
            .iter()
            .filter(|r| r.record_type != "ticket_action")
            .collect();
        editable.sort_by_key(|r| born.get(&r.id).copied().unwrap_or(usize::MAX));
        // Half the time one of the oldest records: several devices then edit the same ones.
        let target = if editable.is_empty() {
            None
        } else if rng.chance(50) {
            Some(editable[rng.below(editable.len().min(6))])
        } else {
            Some(*rng.pick(&editable))
        };
        let roll = rng.below(100);
        let queued = match (roll, target) {
            (0..=19, _) | (_, None) => {
                let t = *rng.pick(&["project", "building", "inspection", "hazard"]);
                let f = create_fields(rng, sim, city, t);
                sim.device.create(t, fields(f)).map(|_| ())
            }
            (20..=59, Some(r)) => {
                let names = lww_fields(&r.record_type);
                let mut change = BTreeMap::new();
                for _ in 0..1 + rng.below(2) {
                    let f = *rng.pick(names);
                    change.insert(f.to_owned(), lww_value(rng, &r.record_type, f));
                }
                sim.device.edit(r.id, change).map(|_| ())
            }
            (60..=71, Some(r)) => {
                let order: &[&str] = match r.record_type.as_str() {
                    // A hazard's status moves only through hazard actions (hazard_orders).
                    "project" => &["planned", "in_progress", "completed"],
                    _ => &[],
                };
                let now = r.fields.get("status").and_then(Value::as_str);
                let at = order.iter().position(|s| Some(*s) == now);
                match at {
                    // Only forward from what the device shows: a backwards move would be
                    // refused as a conflict even without a concurrent edit.
                    Some(i) if i + 1 < order.len() => {
                        let to = order[i + 1 + rng.below(order.len() - i - 1)];
                        sim.device
                            .edit(r.id, fields(json!({ "status": to })))
                            .map(|_| ())
                    }
                    _ => continue,
                }
            }
            (72..=83, Some(_)) => {
                let Some(r) = editable
                    .iter()
                    .filter(|r| r.record_type == "inspection")
                    .nth(rng.below(4))
                else {
                    continue;
                };
                let mut set: BTreeSet<String> = r
                    .fields
                    .get("checklist_findings")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let e = (*rng.pick(FINDINGS)).to_owned();
                if !set.remove(&e) {
                    set.insert(e);
                }
                sim.device
                    .edit(r.id, fields(json!({ "checklist_findings": set })))
                    .map(|_| ())
            }
            (84..=89, Some(r)) => sim.device.delete(r.id).map(|_| ()),
            (90..=94, Some(_)) => {
                // A photo of a hazard or an inspection; a few photos exist, so two devices
                // sometimes attach the same one (same hash).
                let Some(r) = editable
                    .iter()
                    .filter(|r| r.record_type == "hazard" || r.record_type == "inspection")
                    .nth(rng.below(4))
                else {
                    continue;
                };
                let k = rng.below(6);
                let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
                bytes.extend(format!("anju test photo {k}").as_bytes());
                bytes.extend([0xFF, 0xD9]);
                let path = sim._dir.path().join(format!("camera-{k}.jpg"));
                std::fs::write(&path, &bytes).expect("photo file");
                sim.device.attach(r.id, "photos", &path).map(|_| ())
            }
            _ => {
                // A ticket action (受理) on a ticket that does not exist (a random id).
                let unit = sim
                    .unit_id
                    .clone()
                    .unwrap_or_else(|| city.unit[UNITS[0]].clone());
                let f = json!({
                    "ticket_id": Uuid::now_v7(), "unit_id": unit, "action": "accept",
                    "acted_at": "2026-11-26T10:00:00+08:00", "message": "已受理",
                });
                sim.device.create("ticket_action", fields(f)).map(|_| ())
            }
        };
        match queued {
            Ok(()) => {}
            Err(e) => panic!("{}: an offline change was refused: {e}", sim.username),
        }
        let m = sim
            .device
            .pending()
            .expect("outbox")
            .pop()
            .expect("the change is queued");
        let next = born.len();
        born.entry(m.record_id).or_insert(next);
        log.push(Logged {
            device_id: sim.device_id,
            author: sim.author.clone(),
            m,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Syncs with injected failures.

fn random_fault(rng: &mut Rng) -> Fault {
    match rng.below(4) {
        0 => Fault::CutBeforeSend,
        1 => Fault::CutAfterSend,
        2 => Fault::Duplicate,
        _ => Fault::Status(503),
    }
}

/// Failures a sync may end with when faults were injected or the server was down: the next
/// sync carries on. Anything else is a bug.
fn tolerable(e: &DeviceError) -> bool {
    match e {
        DeviceError::Server(TransportError::Network(_)) => true,
        DeviceError::Server(TransportError::Status { status, .. }) => *status >= 500,
        _ => false,
    }
}

/// One sync of `sim` with 0 to 3 injected faults on push and pull; returns how it ended.
fn faulty_sync(rng: &mut Rng, sim: &mut Sim) -> Result<(), DeviceError> {
    for _ in 0..rng.below(4) {
        let endpoint = match rng.below(10) {
            0..=4 => Endpoint::Push,
            5..=7 => Endpoint::Pull,
            8 => Endpoint::Missing,
            _ => Endpoint::PutAttachment,
        };
        sim.faults.inject(endpoint, random_fault(rng));
    }
    sim.device.set_options(SyncOptions {
        batch_size: 1 + rng.below(4),
        pull_limit: u32::try_from(2 + rng.below(30)).unwrap_or(10),
        retry: RetryPolicy::immediate(2),
    });
    if rng.chance(25) {
        sim.device.push()?;
        sim.device.pull()?;
    } else {
        sim.device.sync()?;
    }
    Ok(())
}

/// While changes wait in the outbox (a sync failed, or has not run), the device shows them on
/// top of what it pulled: its latest pending value of each last-writer-wins field, and every
/// record it created and has not sent yet.
fn check_pending_shown(sim: &mut Sim) {
    let pending = sim.device.pending().expect("outbox");
    let mut latest: BTreeMap<(Uuid, String), Value> = BTreeMap::new();
    let mut deleted = BTreeSet::new();
    for m in &pending {
        if m.op == Op::Delete {
            deleted.insert(m.record_id);
            continue;
        }
        for (f, v) in &m.fields {
            if policy(&m.record_type, f) == Some(MergePolicy::LastWriterWins) {
                latest.insert((m.record_id, f.clone()), v.clone());
            }
        }
    }
    for m in pending.iter().filter(|m| m.base_version.is_none()) {
        if !deleted.contains(&m.record_id) {
            assert!(
                sim.device.show(m.record_id).expect("view").is_some(),
                "{}: its unsent new record {} is not shown",
                sim.username,
                m.record_id
            );
        }
    }
    for ((id, f), v) in latest {
        if deleted.contains(&id) {
            continue;
        }
        // A record deleted on the server meanwhile is not shown; the edit will be refused.
        if let Some(r) = sim.device.show(id).expect("view") {
            assert_eq!(
                r.fields.get(&f),
                Some(&v),
                "{}: its unsent change of {id}.{f} is not shown",
                sim.username
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server's state, read from its tables.

#[derive(Queryable, Debug, Clone)]
struct ConflictRow {
    record_id: String,
    field: String,
    base_version: Option<i64>,
    device_value: String,
    winner: String,
    server_author: Option<String>,
    device_author: String,
    server_hlc: Option<String>,
    device_hlc: String,
}

struct ServerState {
    records: BTreeMap<Uuid, StoredRecord>,
    /// Unit and area scope columns per record.
    scope: BTreeMap<Uuid, (Option<String>, Option<String>)>,
    conflicts: Vec<ConflictRow>,
    /// (device id, seq, code).
    rejections: Vec<(String, i64, String)>,
    /// SHA-256 of every stored photo.
    photos: BTreeSet<String>,
}

async fn server_state(app: &TestApp) -> ServerState {
    app.state()
        .db
        .run(|conn| {
            let rows: Vec<RecordRow> = sync_records::table
                .select(RecordRow::as_select())
                .load(conn)?;
            let conflicts: Vec<ConflictRow> = sync_conflicts::table
                .select((
                    sync_conflicts::record_id,
                    sync_conflicts::field,
                    sync_conflicts::base_version,
                    sync_conflicts::device_value,
                    sync_conflicts::winner,
                    sync_conflicts::server_author,
                    sync_conflicts::device_author,
                    sync_conflicts::server_hlc,
                    sync_conflicts::device_hlc,
                ))
                .load(conn)?;
            let rejections: Vec<(String, i64, String)> = sync_rejections::table
                .select((
                    sync_rejections::device_id,
                    sync_rejections::seq,
                    sync_rejections::code,
                ))
                .load(conn)?;
            let photos: Vec<String> = attachments::table.select(attachments::sha256).load(conn)?;
            let mut records = BTreeMap::new();
            let mut scope = BTreeMap::new();
            for row in rows {
                let r = row.to_record().expect("stored record reads");
                scope.insert(r.id, (row.unit_id.clone(), row.area_id.clone()));
                records.insert(r.id, r);
            }
            Ok(ServerState {
                records,
                scope,
                conflicts,
                rejections,
                photos: photos.into_iter().collect(),
            })
        })
        .await
        .expect("server state")
}

// ---------------------------------------------------------------------------------------------
// The checks.

fn version_of(outcome: &MutationOutcome) -> Option<i64> {
    match outcome {
        MutationOutcome::Applied { version }
        | MutationOutcome::Merged { version, .. }
        | MutationOutcome::Conflict { version, .. } => Some(*version),
        _ => None,
    }
}

fn is_set(record_type: &str, field: &str) -> bool {
    schema_for(record_type)
        .and_then(|s| s.field(field))
        .is_some_and(|f| matches!(f.kind, FieldKind::StringSet { .. }))
}

fn policy(record_type: &str, field: &str) -> Option<MergePolicy> {
    schema_for(record_type)
        .and_then(|s| s.field(field))
        .map(|f| f.policy)
}

fn wall(hlc: &str) -> u64 {
    Hlc::parse(hlc).map_or(0, |h| h.wall_ms)
}

/// Every device shows the server's state for its scope, has nothing pending, and shows no
/// record twice.
fn check_devices(sims: &mut [Sim], city: &City, server: &ServerState) {
    for sim in sims.iter_mut() {
        let pending = sim.device.pending().expect("outbox");
        assert!(
            pending.is_empty(),
            "{} still has {} pending mutations",
            sim.username,
            pending.len()
        );
        let mut expected = BTreeMap::new();
        for (id, r) in &server.records {
            let (unit, area) = &server.scope[id];
            if !r.deleted && sim.sees(city, unit.as_deref(), area.as_deref()) {
                expected.insert(*id, (r.record_type.clone(), Some(r.version), r.values()));
            }
        }
        let view = sim.device.view_all().expect("view");
        let shown: BTreeMap<Uuid, _> = view
            .iter()
            .map(|r| {
                (
                    r.id,
                    (r.record_type.clone(), r.server_version, r.fields.clone()),
                )
            })
            .collect();
        assert_eq!(
            view.len(),
            shown.len(),
            "{} shows a record twice",
            sim.username
        );
        for (id, want) in &expected {
            assert_eq!(
                shown.get(id),
                Some(want),
                "{}: record {id} differs from the server",
                sim.username
            );
        }
        for id in shown.keys() {
            assert!(
                expected.contains_key(id),
                "{}: shows record {id}, which the server does not have in its scope ({:?})",
                sim.username,
                server.records.get(id).map(|r| r.deleted)
            );
        }
        let pulled: BTreeMap<Uuid, _> = sim
            .device
            .pulled()
            .expect("pulled")
            .into_iter()
            .filter(|r| !r.deleted)
            .map(|r| (r.id, (r.record_type, Some(r.version), r.fields)))
            .collect();
        assert_eq!(pulled, expected, "{}: pulled state", sim.username);
    }
}

struct Verdict {
    conflicts: usize,
    rejections: BTreeMap<String, usize>,
    answers_lost: usize,
    /// Re-sent rejections and conflicts told again.
    replayed: usize,
    /// Conflicts whose server value came from a change that may have been answered only by its
    /// re-send after the restart, with a version above the one the device's change produced:
    /// the re-send was answered with the record's later version.
    bounded: usize,
}

#[allow(clippy::too_many_lines)]
fn check_log(log: &[Logged], server: &ServerState, answers: &Answers, sims: &mut [Sim]) -> Verdict {
    assert!(
        answers.doubles.is_empty(),
        "{} mutations acted on twice (device id, seq), e.g. {:?}",
        answers.doubles.len(),
        &answers.doubles[..answers.doubles.len().min(5)]
    );
    let mut rejected: BTreeMap<(String, i64), String> = BTreeMap::new();
    for (d, s, code) in &server.rejections {
        let dup = rejected.insert((d.clone(), *s), code.clone());
        assert!(dup.is_none(), "rejection of {d} #{s} stored twice");
    }
    let accepted = |l: &Logged| {
        !rejected.contains_key(&(l.device_id.to_string(), i64::try_from(l.m.seq).unwrap_or(0)))
    };
    let answer = |l: &Logged| answers.first.get(&(l.device_id, l.m.seq));
    let by_stamp: HashMap<(&str, &str), &Logged> = log
        .iter()
        .map(|l| ((l.author.as_str(), l.m.hlc.as_str()), l))
        .collect();
    let mut rejection_codes: BTreeMap<String, usize> = BTreeMap::new();

    // Every rejection is one of ours, and an expected one.
    for ((d, s), code) in &rejected {
        let l = log
            .iter()
            .find(|l| l.device_id.to_string() == *d && i64::try_from(l.m.seq).ok() == Some(*s))
            .unwrap_or_else(|| panic!("server rejected {d} #{s}, which no device sent"));
        let expected = match (l.m.record_type.as_str(), code.as_str()) {
            // Ticket actions here name tickets that do not exist (random ids): the ticket state
            // machine refuses them with its reason.
            ("ticket_action", "ticket_not_found") => true,
            // Edited or … after another device deleted it.
            (_, "record_deleted") => true,
            // A photo another user took, seen on a record that has since been deleted or left
            // the device's scope: nobody in scope references it any more, so re-using its hash
            // is refused (photos by scope, issue 10.7); only mutations that add photos.
            (_, "photo_not_accessible") => l.m.fields.get("photos").is_some_and(|p| {
                p.get("add")
                    .and_then(|a| a.as_array())
                    .is_some_and(|a| !a.is_empty())
            }),
            _ => false,
        };
        assert!(expected, "unexpected rejection {code} of {:?}", l.m);
        *rejection_codes.entry(code.clone()).or_default() += 1;
    }
    // The answer the device got agrees with the server's tables.
    for l in log {
        match answer(l) {
            Some(MutationOutcome::Rejected { code, .. }) => assert_eq!(
                rejected.get(&(l.device_id.to_string(), i64::try_from(l.m.seq).unwrap_or(0))),
                Some(code),
                "answered rejected but not stored as such: {:?}",
                l.m
            ),
            Some(_) => assert!(
                accepted(l),
                "answered accepted but stored rejected: {:?}",
                l.m
            ),
            None => {}
        }
    }

    // Every accepted mutation is reflected in the server's state.
    let deleted_by_log: BTreeSet<Uuid> = log
        .iter()
        .filter(|l| l.m.op == Op::Delete && accepted(l))
        .map(|l| l.m.record_id)
        .collect();
    let created: BTreeSet<Uuid> = log
        .iter()
        .filter(|l| l.m.base_version.is_none() && accepted(l))
        .map(|l| l.m.record_id)
        .collect();
    for l in log.iter().filter(|l| accepted(l)) {
        let m = &l.m;
        let Some(rec) = server.records.get(&m.record_id) else {
            panic!(
                "accepted mutation lost: record {} not on the server: {m:?}",
                m.record_id
            );
        };
        assert_eq!(rec.record_type, m.record_type);
        if m.op == Op::Delete {
            assert!(rec.deleted, "accepted delete not reflected: {m:?}");
            continue;
        }
        if rec.deleted {
            assert!(
                deleted_by_log.contains(&m.record_id),
                "record {} deleted by no one",
                m.record_id
            );
            continue;
        }
        for (field, value) in &m.fields {
            let state = rec.fields.get(field);
            if is_set(&m.record_type, field) {
                let delta: SetDelta = if m.base_version.is_none() {
                    SetDelta {
                        add: value
                            .as_object()
                            .and_then(|o| o.get("add"))
                            .or(Some(value))
                            .and_then(Value::as_array)
                            .map(|a| {
                                a.iter()
                                    .filter_map(|v| v.as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        remove: vec![],
                    }
                } else {
                    serde_json::from_value(value.clone()).expect("set delta")
                };
                for e in &delta.add {
                    let present = state.is_some_and(|s| s.elements.contains_key(e));
                    let removed_later = log.iter().any(|o| {
                        accepted(o)
                            && o.m.record_id == m.record_id
                            && o.m.fields.get(field).is_some_and(|v| {
                                v.get("remove")
                                    .and_then(Value::as_array)
                                    .is_some_and(|r| r.iter().any(|x| x.as_str() == Some(e)))
                            })
                    });
                    assert!(
                        present || removed_later,
                        "add of {e:?} to {}.{field} lost: {m:?}",
                        m.record_id
                    );
                }
                continue;
            }
            let state = state.unwrap_or_else(|| panic!("field {field} lost: {m:?}"));
            if state.author == l.author && state.hlc == m.hlc {
                continue;
            }
            if &state.value == value {
                continue;
            }
            if let Some(MergePolicy::Monotonic(order)) = policy(&m.record_type, field) {
                let rank = |v: &Value| order.iter().position(|o| Some(*o) == v.as_str());
                assert!(
                    rank(&state.value) >= rank(value),
                    "status moved backwards: {m:?} vs {:?}",
                    state.value
                );
                continue;
            }
            // Someone else's value is current: either this one lost a conflict (kept as a
            // conflict record) or a later write replaced it.
            let kept_as_conflict = server.conflicts.iter().any(|c| {
                c.record_id == m.record_id.to_string()
                    && &c.field == field
                    && (c.device_hlc == m.hlc || c.server_hlc.as_deref() == Some(&m.hlc))
            });
            let writer = by_stamp
                .get(&(state.author.as_str(), state.hlc.as_str()))
                .unwrap_or_else(|| panic!("{}.{field} written by no logged change", m.record_id));
            let later = wall(&writer.m.hlc) >= wall(&m.hlc);
            assert!(
                kept_as_conflict || later,
                "accepted write of {}.{field} lost without a conflict: {m:?}; current {state:?}",
                m.record_id
            );
        }
    }

    // Every photo a record refers to reached the server.
    for (id, rec) in &server.records {
        for f in ["photos", "rectification_photos"] {
            for e in rec
                .fields
                .get(f)
                .map(|s| s.elements.keys())
                .into_iter()
                .flatten()
            {
                assert!(
                    server.photos.contains(e),
                    "{id}.{f} refers to photo {e}, never uploaded"
                );
            }
        }
    }
    // Nothing on the server that no device wrote; no record twice.
    for (id, rec) in &server.records {
        assert!(created.contains(id), "record {id} was created by no device");
        for (field, state) in &rec.fields {
            let writer = by_stamp
                .get(&(state.author.as_str(), state.hlc.as_str()))
                .unwrap_or_else(|| panic!("{id}.{field} = {state:?} written by no logged change"));
            assert!(
                accepted(writer),
                "{id}.{field} written by a rejected change"
            );
            assert_eq!(writer.m.record_id, *id);
            assert!(
                writer.m.fields.contains_key(field),
                "{id}.{field} stamped by a change that did not touch it"
            );
            for (e, tags) in &state.elements {
                for tag in tags {
                    let added = log.iter().any(|o| {
                        o.author == tag.author
                            && o.m.record_id == *id
                            && o.m.fields.get(field).is_some_and(|v| {
                                v.get("add")
                                    .or(Some(v))
                                    .and_then(Value::as_array)
                                    .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(e)))
                            })
                    });
                    assert!(
                        added,
                        "{id}.{field} element {e:?} added by no logged change"
                    );
                }
            }
        }
    }

    // Every conflict on the server comes from a real concurrent edit: the device's change and
    // another device's change of the same field, which the device had not seen (its version is
    // above the device's base), and each is recorded once.
    let mut seen = BTreeSet::new();
    let mut bounded = 0;
    for c in &server.conflicts {
        assert!(
            seen.insert((c.record_id.clone(), c.field.clone(), c.device_hlc.clone())),
            "conflict stored twice: {c:?}"
        );
        let m = by_stamp
            .get(&(c.device_author.as_str(), c.device_hlc.as_str()))
            .unwrap_or_else(|| panic!("conflict from no logged change: {c:?}"));
        assert_eq!(m.m.record_id.to_string(), c.record_id);
        assert!(
            accepted(m),
            "conflict recorded for a rejected change: {c:?}"
        );
        assert_eq!(m.m.base_version, c.base_version, "conflict base: {c:?}");
        assert!(
            m.m.op == Op::Delete || m.m.fields.contains_key(&c.field),
            "conflict on a field the change did not touch: {c:?}"
        );
        let base = m.m.base_version.unwrap_or(0);
        // `o`'s version is above the device's base and at most the version `m` produced. An
        // answer that may be a re-send's (see `Answers::maybe_lost`) gives only an upper bound
        // of its change's version: it still has to be above the base, the other bound is not
        // known.
        let unseen = |o: &Logged| {
            let upper_bound = answers.maybe_lost.contains(&(o.device_id, o.m.seq));
            o.author != m.author
                && answer(o).and_then(version_of).is_none_or(|v| {
                    v > base
                        && (upper_bound || answer(m).and_then(version_of).is_none_or(|mv| v <= mv))
                })
        };
        if is_set(&m.m.record_type, &c.field) && m.m.op == Op::Upsert {
            // A remove that met a concurrent add of the same element.
            let delta: SetDelta = serde_json::from_str(&c.device_value).expect("set delta");
            let concurrent_add = log.iter().any(|o| {
                o.m.record_id == m.m.record_id
                    && accepted(o)
                    && unseen(o)
                    && o.m.fields.get(&c.field).is_some_and(|v| {
                        v.get("add")
                            .or(Some(v))
                            .and_then(Value::as_array)
                            .is_some_and(|a| {
                                a.iter()
                                    .any(|x| delta.remove.iter().any(|r| x.as_str() == Some(r)))
                            })
                    })
            });
            assert!(
                concurrent_add,
                "set conflict without a concurrent add: {c:?}"
            );
            continue;
        }
        let other = by_stamp
            .get(&(
                c.server_author.as_deref().unwrap_or(""),
                c.server_hlc.as_deref().unwrap_or(""),
            ))
            .unwrap_or_else(|| panic!("conflict with a server value no device wrote: {c:?}"));
        assert!(
            other.m.record_id == m.m.record_id && other.m.fields.contains_key(&c.field),
            "conflict's server value is from another record or field: {c:?}"
        );
        assert!(
            unseen(other),
            "conflict between edits that were not concurrent: {c:?}; device {:?} (answer {:?}), server {:?} (answer {:?})",
            m.m,
            answer(m),
            other.m,
            answer(other)
        );
        let version = |o: &Logged| answer(o).and_then(version_of);
        if answers.maybe_lost.contains(&(other.device_id, other.m.seq))
            && version(other).zip(version(m)).is_some_and(|(v, mv)| v > mv)
        {
            bounded += 1;
        }
    }
    // Every conflict a device was told about is on the server, and vice versa for answers.
    for l in log {
        if let Some(MutationOutcome::Conflict { conflicts, .. }) = answer(l) {
            for fc in conflicts {
                assert!(
                    server.conflicts.iter().any(|c| c.device_hlc == l.m.hlc
                        && c.field == fc.field
                        && c.record_id == l.m.record_id.to_string()),
                    "answered conflict not stored: {fc:?}"
                );
            }
        }
    }
    let mut told_conflicts = 0;
    let mut told_rejections = 0;
    for sim in sims.iter_mut() {
        let kept = sim.device.conflicts().expect("conflicts");
        told_conflicts += kept.len();
        let distinct: BTreeSet<(&str, &str, &str)> = kept
            .iter()
            .map(|c| {
                (
                    c.record_id.as_str(),
                    c.field.as_str(),
                    c.device_hlc.as_str(),
                )
            })
            .collect();
        assert_eq!(
            distinct.len(),
            kept.len(),
            "{} keeps a conflict twice",
            sim.username
        );
        for c in kept {
            assert!(
                server.conflicts.iter().any(|s| s.device_hlc == c.device_hlc
                    && s.field == c.field
                    && s.record_id == c.record_id
                    && s.winner == c.winner),
                "{} keeps a conflict the server does not have: {c:?}",
                sim.username
            );
        }
        let shown = sim.device.rejected().expect("rejected");
        told_rejections += shown.len();
        for r in shown {
            assert!(
                rejected.contains_key(&(sim.device_id.to_string(), r.seq)),
                "{} shows a rejection the server does not have: {r:?}",
                sim.username
            );
        }
    }
    // A device learns every rejection and conflict of its changes, even when the answer that
    // carried it was lost and the change was sent again.
    assert_eq!(
        told_conflicts,
        server.conflicts.len(),
        "conflicts stored on the server that their device was never told of"
    );
    assert_eq!(
        told_rejections,
        rejected.len(),
        "rejections stored on the server that their device was never told of"
    );
    Verdict {
        conflicts: server.conflicts.len(),
        rejections: rejection_codes,
        answers_lost: log.iter().filter(|l| answer(l).is_none()).count(),
        replayed: answers.replayed,
        bounded,
    }
}

// ---------------------------------------------------------------------------------------------
// The tests.

/// Gives every device a fresh transport (no faults queued) to `base`, on a blocking thread:
/// the old blocking HTTP clients must not be dropped on the async threads. Checks on the way
/// that each still shows its unsent changes.
async fn reconnect(sims: Vec<Sim>, base: &str, answers: &Arc<Mutex<Answers>>) -> Vec<Sim> {
    let base = base.to_owned();
    let answers = answers.clone();
    blocking(sims, move |sims| {
        for sim in sims.iter_mut() {
            sim.connect(&base, &answers);
            check_pending_shown(sim);
        }
    })
    .await
    .0
}

/// Moves the sims to a blocking thread, runs `f` there, and gives them back.
async fn blocking<R: Send + 'static>(
    sims: Vec<Sim>,
    f: impl FnOnce(&mut Vec<Sim>) -> R + Send + 'static,
) -> (Vec<Sim>, R) {
    tokio::task::spawn_blocking(move || {
        let mut sims = sims;
        let r = f(&mut sims);
        (sims, r)
    })
    .await
    .expect("device thread")
}

const ROUNDS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)]
async fn devices_converge_through_faults_and_a_restart() {
    let started = Instant::now();
    let seed = seed();
    let mut rng = Rng(seed);
    let mut app = TestApp::spawn().await;
    let city = Arc::new(load_city(&app).await);
    let answers = Arc::new(Mutex::new(Answers::default()));

    // 22 devices: an inspector and unit staff of four units (five devices per unit), and two
    // supervisors. Street offices see their street; pm_hengan sees communities of three streets.
    let mut people: Vec<(String, Role, Option<String>)> = Vec::new();
    for (u, code) in UNITS.iter().enumerate() {
        for i in 0..5 {
            let role = if i < 2 {
                Role::Inspector
            } else {
                Role::UnitStaff
            };
            people.push((format!("u{u}_{i}"), role, Some((*code).to_owned())));
        }
    }
    people.push(("sup_0".into(), Role::Supervisor, None));
    people.push(("sup_1".into(), Role::Supervisor, None));
    for (name, role, unit) in &people {
        app.create_user(name, *role, unit.as_deref()).await;
    }
    let base = app.base.clone();
    let (mut sims, ()) = {
        let city = city.clone();
        let answers = answers.clone();
        blocking(Vec::new(), move |sims| {
            for (name, _, unit) in people {
                let unit_id = unit.map(|c| city.unit[&c].clone());
                sims.push(new_sim(&base, &answers, &name, unit_id));
            }
        })
        .await
    };
    eprintln!(
        "sync_convergence: {} devices logged in after {:?}",
        sims.len(),
        started.elapsed()
    );

    let restart_round = 2 + rng.below(ROUNDS - 3);
    let mut log: Vec<Logged> = Vec::new();
    let mut born: HashMap<Uuid, usize> = HashMap::new();
    let mut failed_syncs = 0usize;
    for round in 0..ROUNDS {
        // Offline edits, and a sync of some devices in random order with injected faults.
        let round_seed = rng.next();
        let city2 = city.clone();
        let mut born_now = std::mem::take(&mut born);
        let (s, (new_log, failed)) = blocking(sims, move |sims| {
            let mut rng = Rng(round_seed);
            let mut log = Vec::new();
            let mut order: Vec<usize> = (0..sims.len()).collect();
            rng.shuffle(&mut order);
            for &i in &order {
                if rng.chance(70) {
                    offline_edits(&mut rng, &mut sims[i], &city2, &mut log, &mut born_now);
                }
            }
            rng.shuffle(&mut order);
            let mut failed = 0;
            for &i in &order {
                if !rng.chance(60) {
                    continue;
                }
                if let Err(e) = faulty_sync(&mut rng, &mut sims[i]) {
                    assert!(tolerable(&e), "{}: sync failed: {e}", sims[i].username);
                    failed += 1;
                }
                check_pending_shown(&mut sims[i]);
            }
            ((log, born_now), failed)
        })
        .await;
        let (new_log, born_now) = new_log;
        born = born_now;
        sims = s;
        log.extend(new_log);
        failed_syncs += failed;

        if round == restart_round {
            // Every device syncs at once, in small batches, while the server restarts under
            // them: some pushes are committed with their answer lost, some never arrive.
            let delay = Duration::from_millis(5 + u64::try_from(rng.below(60)).unwrap_or(0));
            let mut in_flight = BTreeSet::new();
            let mut handles = Vec::new();
            for mut sim in sims.drain(..) {
                for m in sim.device.pending().expect("outbox") {
                    in_flight.insert((sim.device_id, m.seq));
                }
                sim.device.set_options(SyncOptions {
                    batch_size: 1,
                    pull_limit: 5,
                    retry: RetryPolicy::immediate(2),
                });
                handles.push(tokio::task::spawn_blocking(move || {
                    let r = sim.device.sync();
                    (sim, r)
                }));
            }
            tokio::time::sleep(delay).await;
            app.restart().await;
            let mut cut = 0;
            for h in handles {
                let (sim, r) = h.await.expect("device thread");
                if let Err(e) = &r {
                    assert!(tolerable(e), "{}: sync failed: {e}", sim.username);
                    cut += 1;
                }
                sims.push(sim);
            }
            {
                let mut answers = answers.lock().unwrap_or_else(|p| p.into_inner());
                let unanswered: Vec<(Uuid, u64)> = in_flight
                    .into_iter()
                    .filter(|k| !answers.first.contains_key(k))
                    .collect();
                answers.maybe_lost.extend(unanswered);
            }
            failed_syncs += cut;
            // The server listens on a new port now.
            sims = reconnect(sims, &app.base, &answers).await;
            eprintln!(
                "sync_convergence: server restarted during round {round} after {delay:?}; {cut} of {} syncs cut by it",
                sims.len()
            );
        }
    }

    // Everyone syncs twice, without faults.
    let mut sims = reconnect(sims, &app.base, &answers).await;
    for sim in &mut sims {
        sim.device.set_options(SyncOptions {
            retry: RetryPolicy::immediate(3),
            ..SyncOptions::default()
        });
    }
    let final_seed = rng.next();
    let (sims, ()) = blocking(sims, move |sims| {
        let mut rng = Rng(final_seed);
        for _ in 0..2 {
            let mut order: Vec<usize> = (0..sims.len()).collect();
            rng.shuffle(&mut order);
            for i in order {
                let name = sims[i].username.clone();
                sims[i]
                    .device
                    .sync()
                    .unwrap_or_else(|e| panic!("{name}: final sync failed: {e}"));
            }
        }
    })
    .await;

    let server = server_state(&app).await;
    let answers = std::mem::take(&mut *answers.lock().unwrap_or_else(|p| p.into_inner()));
    let city2 = city.clone();
    let (_, verdict) = {
        let log = log.clone();
        blocking(sims, move |sims| {
            check_devices(sims, &city2, &server);
            let verdict = check_log(&log, &server, &answers, sims);
            // Devices hold blocking HTTP clients: dropped here, off the async threads.
            sims.clear();
            verdict
        })
        .await
    };
    let creates = log.iter().filter(|l| l.m.base_version.is_none()).count();
    let deletes = log.iter().filter(|l| l.m.op == Op::Delete).count();
    let photos = log
        .iter()
        .filter(|l| l.m.base_version.is_some() && l.m.fields.contains_key("photos"))
        .count();
    eprintln!(
        "sync_convergence: seed {seed}, {} devices, {ROUNDS} rounds, {} mutations ({creates} creates, {deletes} deletes, {photos} photos attached), {} conflicts, rejections {:?}, {} answers lost to the restart, {} rejections or conflicts told again after a lost answer, {} conflicts against a change answered only when re-sent (with a later version), {failed_syncs} syncs failed and were carried on, {:?}",
        people_count(),
        log.len(),
        verdict.conflicts,
        verdict.rejections,
        verdict.answers_lost,
        verdict.replayed,
        verdict.bounded,
        started.elapsed()
    );
    assert!(
        verdict.conflicts > 0,
        "the run made no conflict: nothing was tested"
    );
    // Every ticket action names a ticket that does not exist: each one reached the ticket state
    // machine and was refused `ticket_not_found`, none was dropped or applied.
    let ticket_actions = log
        .iter()
        .filter(|l| l.m.record_type == "ticket_action")
        .count();
    assert_eq!(
        verdict
            .rejections
            .get("ticket_not_found")
            .copied()
            .unwrap_or(0),
        ticket_actions,
        "ticket actions and their ticket_not_found rejections"
    );
}

fn people_count() -> usize {
    UNITS.len() * 5 + 2
}

/// A device an administrator revoked is told so plainly, and keeps what it has not sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_told_and_keeps_its_outbox() {
    let app = TestApp::spawn().await;
    app.create_user("lost_phone", Role::Inspector, Some("hexi_jianshe_office"))
        .await;
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = load_city(&app).await.area["hexi-jianshe-1"].clone();
    let answers = Arc::new(Mutex::new(Answers::default()));
    let base = app.base.clone();
    let (mut sims, ()) = blocking(Vec::new(), move |sims| {
        let mut sim = new_sim(&base, &answers, "lost_phone", Some(unit.clone()));
        sim.device.sync().expect("first sync");
        sim.device
            .create(
                "hazard",
                fields(
                    json!({"description": "外墙空鼓", "area_id": area, "unit_id": unit,
                    "severity": "high", "status": "open"}),
                ),
            )
            .expect("queued");
        sims.push(sim);
    })
    .await;
    let admin = app.admin_token().await;
    let a = app
        .post(
            &format!("/api/v1/devices/{}/revoke", sims[0].device_id),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let (_, ()) = blocking(std::mem::take(&mut sims), |sims| {
        let d = &mut sims[0].device;
        let err = d.sync().expect_err("a revoked device cannot sync");
        assert!(matches!(err, DeviceError::DeviceRevoked), "{err:?}");
        assert!(err.to_string().contains("revoked"), "{err}");
        assert_eq!(d.pending().expect("outbox").len(), 1, "the outbox is kept");
        assert_eq!(d.list("hazard").expect("view").len(), 1, "still shown");
        // Still plain on the next attempt, and still kept.
        assert!(matches!(d.pull(), Err(DeviceError::DeviceRevoked)));
        assert_eq!(d.pending().expect("outbox").len(), 1);
        sims.clear();
    })
    .await;
}

/// When the server answers "reset required" (its change log was pruned past the device's
/// cursor), the device downloads its scope again and keeps its unsent changes on top.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_required_downloads_again_and_keeps_unsent_changes() {
    let app = TestApp::spawn().await;
    for name in ["field_a", "field_b"] {
        app.create_user(name, Role::Inspector, Some("hexi_jianshe_office"))
            .await;
    }
    let unit = app.unit_id("hexi_jianshe_office").await;
    let area = load_city(&app).await.area["hexi-jianshe-2"].clone();
    let answers = Arc::new(Mutex::new(Answers::default()));
    let base = app.base.clone();
    let hazard = move |d: &str| {
        fields(json!({"description": d, "area_id": area, "unit_id": unit,
            "severity": "medium", "status": "open"}))
    };
    let (sims, (shared, b_new, doomed)) = blocking(Vec::new(), move |sims| {
        let mut a = new_sim(&base, &answers, "field_a", None);
        let mut b = new_sim(&base, &answers, "field_b", None);
        let shared = a
            .device
            .create("hazard", hazard("楼道堆物"))
            .expect("queued");
        let doomed = a
            .device
            .create("hazard", hazard("临时堆放"))
            .expect("queued");
        a.device.sync().expect("a syncs");
        b.device.sync().expect("b syncs");
        // b records more; a edits offline and has not sent it yet.
        let b_new = b
            .device
            .create("hazard", hazard("屋面渗水"))
            .expect("queued");
        b.device
            .edit(shared, fields(json!({"severity": "high"})))
            .expect("queued");
        b.device.delete(doomed).expect("queued");
        b.device.sync().expect("b syncs");
        a.device
            .edit(shared, fields(json!({"location": "3号楼"})))
            .expect("queued");
        sims.push(a);
        sims.push(b);
        (shared, b_new, doomed)
    })
    .await;
    // A month later the server forgets old tombstones: a's cursor, from before b's delete, is
    // now behind the retention horizon.
    app.clock().advance_ms(31 * 86_400_000);
    let cutoff = app.clock().now_ms() - 30 * 86_400_000;
    let horizon = app
        .state()
        .db
        .run(move |conn| Ok(anju_server::sync::store::prune(conn, cutoff)?))
        .await
        .expect("prune");
    assert!(horizon > 0, "the tombstone was pruned");
    let (_, ()) = blocking(sims, move |sims| {
        let a = &mut sims[0].device;
        let report = a.pull().expect("pull after a reset");
        assert!(report.reset, "the server asked for a reset: {report:?}");
        assert_eq!(a.pending().expect("outbox").len(), 1, "unsent change kept");
        let shown = a.show(shared).expect("view").expect("shared hazard shown");
        assert_eq!(shown.fields["location"], "3号楼", "own change on top");
        assert_eq!(shown.fields["severity"], "high", "b's change downloaded");
        assert!(
            a.show(b_new).expect("view").is_some(),
            "b's record downloaded"
        );
        assert!(
            a.show(doomed).expect("view").is_none(),
            "the deleted one is gone"
        );
        // The kept change goes out on the next sync, and nobody asks for a reset again.
        let report = a.sync().expect("sync");
        assert!(!report.reset, "{report:?}");
        assert_eq!(report.applied + report.merged, 1, "{report:?}");
        assert!(a.pending().expect("outbox").is_empty());
        let shown = a.show(shared).expect("view").expect("shown");
        assert_eq!(shown.fields["location"], "3号楼");
        assert_eq!(shown.fields["severity"], "high");
        sims.clear();
    })
    .await;
}
