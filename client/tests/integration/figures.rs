//! Figures for the device side, against the in-memory server (so they measure the device:
//! store, rebase and sync loop, not the network or the real server). Ignored by default:
//! `cargo test -p anju-client --release --test integration -- figures --ignored --nocapture`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anju_client::memory::MemoryServer;
use anju_client::{Device, RetryPolicy, SyncOptions};
use serde_json::{Value, json};

fn hazard(i: usize) -> BTreeMap<String, Value> {
    let severity = ["low", "medium", "high", "critical"][i % 4];
    serde_json::from_value(json!({
        "description": format!("外墙瓷砖空鼓脱落，第 {i} 处，需尽快设置警示并整改"),
        "location": format!("{}号楼{}单元", i % 97, i % 6 + 1),
        "area_id": "01890a5d-ac96-774b-bcce-b302099a8059",
        "unit_id": "01890a5d-ac96-774b-bcce-b302099a8057",
        "severity": severity,
        "status": "open",
        "order_no": format!("ZG-2026-{i:06}"),
        "deadline": "2026-12-31"
    }))
    .unwrap()
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
#[ignore = "figures, not a test: run with --release -- --ignored --nocapture"]
fn figures() {
    let n: usize = std::env::var("ANJU_FIGURE_RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let server = Arc::new(MemoryServer::new());
    server.add_user("wang", "pw");
    for i in 0..n {
        server.seed("hazard", hazard(i), "console").unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Device::open(tmp.path().join("dev")).unwrap();
    d.connect(server.clone());
    d.set_options(SyncOptions {
        retry: RetryPolicy::immediate(1),
        ..SyncOptions::default()
    });
    d.login("wang", "pw", "bench").unwrap();
    let rss_before = peak_rss_kb();
    let t = Instant::now();
    let r = d.sync().unwrap();
    let initial = t.elapsed();
    assert_eq!(r.pulled, n as u64);
    let size: u64 = std::fs::read_dir(tmp.path().join("dev"))
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let t = Instant::now();
    let list = d.list("hazard").unwrap();
    let list_time = t.elapsed();
    let ids: Vec<_> = list.iter().take(1000).map(|r| r.id).collect();
    let t = Instant::now();
    for (i, id) in ids.iter().enumerate() {
        let f =
            serde_json::from_value(json!({"severity": "high", "location": format!("edit {i}")}))
                .unwrap();
        d.edit(*id, f).unwrap();
    }
    let queue = t.elapsed();
    let t = Instant::now();
    let r = d.sync().unwrap();
    let push = t.elapsed();
    assert_eq!(r.applied + r.merged, 1000);
    println!("| figure | value |");
    println!("| --- | --- |");
    println!("| initial sync of {n} records (empty device) | {initial:.2?} |");
    println!(
        "| device store size after it | {:.1} MB |",
        size as f64 / 1e6
    );
    println!("| list all {n} records (view with rebase) | {list_time:.2?} |");
    println!("| queue 1,000 offline edits (one transaction each, fsync) | {queue:.2?} |");
    println!("| sync pushing those 1,000 edits (2 batches) and pulling them back | {push:.2?} |");
    println!(
        "| peak RSS of the process (device + in-memory server), before / after | {} / {} MB |",
        rss_before / 1024,
        peak_rss_kb() / 1024
    );
}
