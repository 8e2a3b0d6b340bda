//! `anju-device` names things instead of typing ids: record links by name among the device's
//! records (offline), areas and units by code or name on the server (plainly refused without
//! one), and `tickets` lists the unit's pulled tickets; a ticket cannot be written.

use std::process::{Command, Output};

use serde_json::Value;

const AREA: &str = "01890a5d-ac96-774b-bcce-b302099a8059";
const UNIT: &str = "01890a5d-ac96-774b-bcce-b302099a8057";

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anju-device"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env_remove("ANJU_SERVER")
        .env_remove("ANJU_DEVICE_DIR")
        .output()
        .unwrap()
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn building(dir: &std::path::Path, address: &str) -> String {
    let area = format!("area_id={AREA}");
    let addr = format!("address={address}");
    let out = run(
        dir,
        &[
            "--json", "create", "building", "--set", &addr, "--set", &area,
        ],
    );
    ok_json(&out)["id"].as_str().unwrap().to_owned()
}

fn hazard_on(dir: &std::path::Path, building: &str) -> Output {
    let area = format!("area_id={AREA}");
    let unit = format!("unit_id={UNIT}");
    let link = format!("building_id={building}");
    run(
        dir,
        &[
            "--json",
            "create",
            "hazard",
            "--set",
            "description=外墙空鼓",
            "--set",
            &area,
            "--set",
            &unit,
            "--set",
            "severity=high",
            "--set",
            "status=open",
            "--set",
            &link,
        ],
    )
}

#[test]
fn a_record_link_by_name_resolves_offline_and_a_wrong_name_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let b = building(&dir, "纺织厂家属院3号楼");
    let id = ok_json(&hazard_on(&dir, "纺织厂家属院3号楼"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown = ok_json(&run(&dir, &["--json", "show", &id]));
    assert_eq!(shown["fields"]["building_id"], Value::String(b.clone()));

    let out = hazard_on(&dir, "没有这栋楼");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("building_id") && err.contains("nothing"),
        "{err}"
    );

    // Two buildings at one address: the name is ambiguous, both ids are offered.
    let b2 = building(&dir, "纺织厂家属院3号楼");
    let out = hazard_on(&dir, "纺织厂家属院3号楼");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&b) && err.contains(&b2), "{err}");
}

#[test]
fn an_area_by_code_needs_the_server_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let out = run(
        &dir,
        &[
            "create",
            "building",
            "--set",
            "address=纺织厂家属院3号楼",
            "--set",
            "area_id=hexi-jianshe-1",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("area_id") && err.contains("hexi-jianshe-1") && err.contains("give the id"),
        "{err}"
    );
    // Nothing was queued.
    assert_eq!(ok_json(&run(&dir, &["--json", "status"]))["pending"], 0);
}

#[test]
fn tickets_are_listed_and_cannot_be_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let out = run(&dir, &["tickets"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("no tickets"));
    assert_eq!(
        ok_json(&run(&dir, &["--json", "tickets"])),
        Value::Array(vec![])
    );
    let out = run(
        &dir,
        &["create", "ticket", "--set", "ticket_no=2026-000001"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("read_only_record_type"), "{err}");
}
