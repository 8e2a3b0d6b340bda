//! The `anju-device` binary, offline: every editing command works without a server, and
//! errors are plain sentences with a failing exit code.

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

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn offline_create_edit_list_show_delete_status() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let area = format!("area_id={AREA}");
    let unit = format!("unit_id={UNIT}");
    let out = run(
        &dir,
        &[
            "--json",
            "create",
            "hazard",
            "--set",
            "description=楼梯扶手松动",
            "--set",
            &area,
            "--set",
            &unit,
            "--set",
            "severity=high",
            "--set",
            "status=open",
        ],
    );
    let id = json_of(&out)["id"].as_str().unwrap().to_owned();
    let out = run(&dir, &["edit", &id, "--set", "order_no=2026-001"]);
    assert!(out.status.success());
    let list = json_of(&run(&dir, &["--json", "list", "hazard"]));
    assert_eq!(list[0]["fields"]["order_no"], "2026-001");
    assert_eq!(list[0]["pending"], 2);
    let table = run(&dir, &["list", "hazard"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains(&id) && text.contains("楼梯扶手松动"),
        "{text}"
    );
    let shown = run(&dir, &["show", &id]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("2026-001"));
    assert!(run(&dir, &["delete", &id]).status.success());
    assert_eq!(
        json_of(&run(&dir, &["--json", "list", "hazard"])),
        Value::Array(vec![])
    );
    let status = json_of(&run(&dir, &["--json", "status"]));
    assert_eq!(status["pending"], 3);
    assert_eq!(status["device_id"], Value::Null);
}

#[test]
fn errors_are_plain_and_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let out = run(&dir, &["create", "hazard", "--set", "severity=apocalyptic"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hazard.severity"), "{err}");
    let out = run(&dir, &["sync"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--server"));
    std::fs::write(
        dir.join("device.sqlite3"),
        b"not a database at all, really not",
    )
    .unwrap();
    let out = run(&dir, &["status"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("device.sqlite3") && err.contains("damaged"),
        "{err}"
    );
}
