//! The `anju` binary as an operator meets it: bad configuration stops start-up with one line
//! naming the variable; passwords come from standard input; the admin password is shown once.

use std::io::Write;
use std::process::{Command, Stdio};

fn anju(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_anju"));
    c.env_clear()
        .env("ANJU_DATA_DIR", data)
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

#[test]
fn each_bad_setting_stops_start_up_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("ANJU_ADDR", "nowhere"),
        ("ANJU_TIMEZONE", "Asia/Atlantis"),
        ("DATABASE_URL", "mysql://db/anju"),
        ("ANJU_SAMPLE", "village"),
        ("ANJU_JWT_SECRET", "tooshort"),
        ("ANJU_DB_POOL", "-3"),
    ] {
        let out = anju(dir.path())
            .env(var, value)
            .arg("serve")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{var}: {stderr}");
        assert!(lines[0].contains(var), "{var}: {stderr}");
    }
    let out = anju(dir.path())
        .env("ANJU_CONFIG", dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ANJU_CONFIG"));
}

#[test]
fn user_create_reads_the_password_from_stdin_and_refuses_weak_ones() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut child = anju(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let weak = run(
        &[
            "user",
            "create",
            "--username",
            "li.hua",
            "--role",
            "unit_staff",
            "--unit",
            "hexi_jianshe_office",
        ],
        "short\n",
    );
    assert!(!weak.status.success());
    let ok = run(
        &[
            "user",
            "create",
            "--username",
            "li.hua",
            "--role",
            "unit_staff",
            "--unit",
            "hexi_jianshe_office",
        ],
        "a-long-enough-password\n",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let dup = run(
        &[
            "user",
            "create",
            "--username",
            "li.hua",
            "--role",
            "unit_staff",
            "--unit",
            "hexi_jianshe_office",
        ],
        "a-long-enough-password\n",
    );
    assert!(!dup.status.success());
    let bad_role = run(
        &["user", "create", "--username", "x", "--role", "mayor"],
        "a-long-enough-password\n",
    );
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("mayor"));
    let key = run(&["apikey", "create", "--name", "bridge"], "");
    assert!(key.status.success());
    assert!(String::from_utf8_lossy(&key.stdout).contains("anju_"));
}

#[test]
fn import_refuses_a_broken_file_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("city.json");
    std::fs::write(
        &file,
        r#"{"areas": [{"code": "BAD CODE", "kind": "city", "name_zh": "x", "name_en": "x"}]}"#,
    )
    .unwrap();
    let out = anju(dir.path())
        .env("ANJU_SAMPLE", "none")
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("BAD CODE"));
}
