//! Foundation figures, printed as a table: time from process start to `/readyz` = 200 (migrations
//! already applied) on SQLite and PostgreSQL; `/healthz` latency alone and while 20 logins run
//! concurrently (argon2 must not starve the server); idle resident set size.
//!
//! Run: `cargo run --release -p anju-bench --bin bench_foundation` (build the release `anju`
//! first: `cargo build --release -p anju-server`). PostgreSQL is measured when
//! `ANJU_BENCH_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`) answers.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anju_bench::measure::{median, percentile_of, proc_status_mb};

const ADMIN_PASSWORD: &str = "bench-admin-password";

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18999)
}

fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.with_file_name("anju")
}

fn spawn(data: &std::path::Path, db: Option<&str>) -> Server {
    let port = free_port();
    let mut cmd = Command::new(binary());
    cmd.env("ANJU_DATA_DIR", data)
        .env("ANJU_ADDR", format!("127.0.0.1:{port}"))
        .env("ANJU_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ANJU_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = db {
        cmd.env("DATABASE_URL", url);
    }
    let child = cmd
        .spawn()
        .expect("start the release anju binary (cargo build --release -p anju-server)");
    Server { child, port }
}

async fn time_to_ready(
    client: &reqwest::Client,
    data: &std::path::Path,
    db: Option<&str>,
) -> (Duration, Server) {
    let started = Instant::now();
    let server = spawn(data, db);
    let url = format!("http://127.0.0.1:{}/readyz", server.port);
    loop {
        if let Ok(r) = client.get(&url).send().await
            && r.status() == 200
        {
            return (started.elapsed(), server);
        }
        if started.elapsed() > Duration::from_secs(60) {
            panic!("server did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The resident set of process `pid` now, in MB (NaN when unknown).
fn rss_mb(pid: u32) -> f64 {
    proc_status_mb(&pid.to_string(), "VmRSS:").unwrap_or(f64::NAN)
}

async fn probe_healthz(client: &reqwest::Client, port: u16, for_how_long: Duration) -> Vec<f64> {
    let url = format!("http://127.0.0.1:{port}/healthz");
    let until = Instant::now() + for_how_long;
    let mut samples = Vec::new();
    while Instant::now() < until {
        let t = Instant::now();
        if client.get(&url).send().await.is_ok() {
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    samples
}

#[tokio::main]
async fn main() {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let mut rows: Vec<(String, String)> = Vec::new();

    // SQLite: first start migrates and loads the sample city; then measure warm starts.
    let dir = tempfile_dir();
    drop(time_to_ready(&client, &dir, None).await.1);
    let mut starts = Vec::new();
    for _ in 0..5 {
        let (t, s) = time_to_ready(&client, &dir, None).await;
        starts.push(t.as_secs_f64() * 1000.0);
        drop(s);
    }
    rows.push((
        "start → /readyz 200, SQLite (median of 5)".into(),
        format!("{:.0} ms", median(starts)),
    ));

    let pg = std::env::var("ANJU_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("bench_{}", std::process::id());
    let pg_ok = Command::new("psql")
        .args([pg.as_str(), "-qc", &format!("CREATE SCHEMA {schema}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if pg_ok {
        let url = format!("{pg}?options=-c%20search_path%3D{schema}");
        let pgdir = tempfile_dir();
        drop(time_to_ready(&client, &pgdir, Some(&url)).await.1);
        let mut starts = Vec::new();
        for _ in 0..5 {
            let (t, s) = time_to_ready(&client, &pgdir, Some(&url)).await;
            starts.push(t.as_secs_f64() * 1000.0);
            drop(s);
        }
        rows.push((
            "start → /readyz 200, PostgreSQL (median of 5)".into(),
            format!("{:.0} ms", median(starts)),
        ));
        let _ = Command::new("psql")
            .args([pg.as_str(), "-qc", &format!("DROP SCHEMA {schema} CASCADE")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    } else {
        rows.push((
            "start → /readyz 200, PostgreSQL".into(),
            "skipped (unreachable)".into(),
        ));
    }

    // Latency under login load, SQLite.
    let (_, server) = time_to_ready(&client, &dir, None).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    rows.push((
        "idle RSS after start".into(),
        format!("{:.1} MB", rss_mb(server.child.id())),
    ));
    let quiet = probe_healthz(&client, server.port, Duration::from_secs(3)).await;
    rows.push((
        "/healthz alone: p50 / p99".into(),
        format!(
            "{:.2} / {:.2} ms",
            percentile_of(quiet.clone(), 0.5),
            percentile_of(quiet, 0.99)
        ),
    ));
    let login_url = format!("http://127.0.0.1:{}/api/v1/auth/login", server.port);
    let stop_at = Instant::now() + Duration::from_secs(6);
    let mut logins = Vec::new();
    for _ in 0..20 {
        let c = client.clone();
        let url = login_url.clone();
        logins.push(tokio::spawn(async move {
            let mut n = 0u32;
            while Instant::now() < stop_at {
                let r = c
                    .post(&url)
                    .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status() == 200) {
                    n += 1;
                }
            }
            n
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let loaded = probe_healthz(&client, server.port, Duration::from_secs(5)).await;
    let mut total_logins = 0;
    for l in logins {
        total_logins += l.await.unwrap_or(0);
    }
    rows.push((
        "/healthz during 20 concurrent logins: p50 / p99".into(),
        format!(
            "{:.2} / {:.2} ms",
            percentile_of(loaded.clone(), 0.5),
            percentile_of(loaded, 0.99)
        ),
    ));
    rows.push((
        "logins completed in those 6 s".into(),
        format!("{total_logins} ({:.1}/s)", total_logins as f64 / 6.0),
    ));
    rows.push((
        "RSS after the login load".into(),
        format!("{:.1} MB", rss_mb(server.child.id())),
    ));
    drop(server);

    println!("| figure | value |\n| --- | --- |");
    for (k, v) in rows {
        println!("| {k} | {v} |");
    }
}

fn tempfile_dir() -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("anju-bench-{}-{}", std::process::id(), free_port()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}
