//! Intake benchmark: `POST /api/v1/complaints` on SQLite and on PostgreSQL, side by side with a
//! bare actix-web endpoint that parses the same JSON and writes nothing (the framework's
//! ceiling). 64 keep-alive connections on loopback, a fixed number of requests (bounded by a
//! time cap), latency per request. Prints a table.
//!
//! `cargo run --release -p anju-bench --bin bench_intake`
//!
//! Environment: `ANJU_BENCH_REQUESTS` (default 20000), `ANJU_BENCH_CONNECTIONS` (64),
//! `ANJU_BENCH_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`; `none` to skip).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use anju_bench::measure::percentile_us_as_ms;
use anju_bench::{load, pg};
use anju_server::clock::Clock;
use anju_server::complaints::intake::SubmitBody;
use anju_server::config::{Config, SampleMode};

struct Outcome {
    name: String,
    done: usize,
    errors: usize,
    secs: f64,
    lat_us: Vec<u32>,
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn one_connection(
    addr: SocketAddr,
    req: Arc<Vec<u8>>,
    next: Arc<AtomicUsize>,
    total: usize,
    deadline: Instant,
) -> (usize, usize, Vec<u32>) {
    let (mut done, mut errors, mut lat) = (0, 0, Vec::new());
    let Some(mut s) = load::connect(addr).await else {
        return (0, 1, lat);
    };
    let mut buf = Vec::new();
    while next.fetch_add(1, Ordering::Relaxed) < total && Instant::now() < deadline {
        let t0 = Instant::now();
        let status = load::round_trip(&mut s, &req, &mut buf).await;
        lat.push(load::elapsed_us(t0));
        match status {
            Some(201) => done += 1,
            Some(_) => errors += 1,
            None => {
                errors += 1;
                break;
            }
        }
    }
    (done, errors, lat)
}

async fn drive(name: &str, addr: SocketAddr, body: &str, total: usize, conns: usize) -> Outcome {
    let req = Arc::new(load::post_json(addr, "/api/v1/complaints", body));
    // Warm-up: connections, caches, the catalog.
    let warm = Arc::new(AtomicUsize::new(0));
    let far = Instant::now() + Duration::from_secs(60);
    let mut w = Vec::new();
    for _ in 0..conns {
        w.push(tokio::spawn(one_connection(
            addr,
            req.clone(),
            warm.clone(),
            1000,
            far,
        )));
    }
    for h in w {
        let _ = h.await;
    }
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(120);
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..conns {
        handles.push(tokio::spawn(one_connection(
            addr,
            req.clone(),
            next.clone(),
            total,
            deadline,
        )));
    }
    let (mut done, mut errors, mut lat_us) = (0, 0, Vec::new());
    for h in handles {
        if let Ok((d, e, l)) = h.await {
            done += d;
            errors += e;
            lat_us.extend(l);
        }
    }
    Outcome {
        name: name.to_string(),
        done,
        errors,
        secs: start.elapsed().as_secs_f64(),
        lat_us,
    }
}

async fn bare(body: web::Json<SubmitBody>) -> HttpResponse {
    let b = body.into_inner();
    HttpResponse::Created()
        .json(serde_json::json!({"category": b.category, "len": b.description.len()}))
}

async fn anju_server(config: Config) -> Option<anju_server::startup::Running> {
    let (state, _) = match anju_server::startup::prepare(config, Clock::default()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench_intake: {e}");
            return None;
        }
    };
    anju_server::startup::start(state).ok()
}

fn bench_config(dir: &std::path::Path) -> Config {
    let mut c = Config::for_data_dir(dir);
    c.sample = SampleMode::City;
    c.admin_password = Some("bench-admin-password".into());
    c.intake_per_minute = 0;
    c.background_jobs = false;
    c
}

async fn body_for(addr: SocketAddr) -> Option<String> {
    let areas: serde_json::Value = reqwest::get(format!("http://{addr}/api/v1/areas"))
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let area = areas
        .as_array()?
        .iter()
        .find(|a| a["code"] == "hexi-jianshe-1")?["id"]
        .as_str()?
        .to_string();
    Some(
        serde_json::json!({
            "category": "dust",
            "description": "工地夜里还在施工，扬尘很大，请尽快处理",
            "area_id": area,
            "address": "纺织厂家属院 3 号楼",
            "phone": "13812345678",
        })
        .to_string(),
    )
}

#[tokio::main]
async fn main() {
    let total = env_num("ANJU_BENCH_REQUESTS", 20_000);
    let conns = env_num("ANJU_BENCH_CONNECTIONS", 64);
    let pg = pg::url_from_env();
    let dir = std::env::temp_dir().join(format!("anju-bench-{}", uuid::Uuid::new_v4().simple()));
    let _ = std::fs::create_dir_all(&dir);
    let mut results = Vec::new();

    // SQLite.
    let Some(sqlite) = anju_server(bench_config(&dir)).await else {
        return;
    };
    let Some(body) = body_for(sqlite.addr).await else {
        eprintln!("bench_intake: the sample city did not load");
        return;
    };
    results.push(drive("anju on SQLite", sqlite.addr, &body, total, conns).await);
    sqlite.stop().await;

    // PostgreSQL: with the old fixed batch of 256 submissions per transaction (one writer took
    // every waiting submission) and with the automatic one (16 per writer), for the comparison.
    let mut schemas = Vec::new();
    if pg != "none" {
        for (batch, label) in [
            (256u32, "anju on PostgreSQL, batch 256 (before)"),
            (0, "anju on PostgreSQL, batch 16 (automatic)"),
        ] {
            match pg::schema_url(&pg) {
                Some((url, name)) => {
                    let mut c = bench_config(&dir.join(format!("pg{batch}")));
                    c.database_url = url;
                    c.db_pool_size = env_num("ANJU_BENCH_PG_POOL", 16) as u32;
                    c.intake_batch = batch;
                    if let Some(s) = anju_server(c).await {
                        if let Some(body) = body_for(s.addr).await {
                            results.push(drive(label, s.addr, &body, total, conns).await);
                        }
                        s.stop().await;
                    }
                    schemas.push(name);
                }
                None => eprintln!("bench_intake: PostgreSQL at {pg} unreachable; skipped"),
            }
        }
    }

    // The bare endpoint: same JSON parsed, nothing written.
    let server = HttpServer::new(|| App::new().route("/api/v1/complaints", web::post().to(bare)))
        .workers(2)
        .disable_signals()
        .bind(("127.0.0.1", 0));
    let server = match server {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench_intake: {e}");
            return;
        }
    };
    let addr = server.addrs()[0];
    let srv = server.run();
    let handle = srv.handle();
    tokio::spawn(srv);
    results.push(drive("bare actix-web (parse only)", addr, &body, total, conns).await);
    handle.stop(true).await;

    for name in schemas {
        pg::drop_schema(&pg, &name);
    }
    let _ = std::fs::remove_dir_all(&dir);

    let bare_rps = results.last().map_or(1.0, |r| r.done as f64 / r.secs);
    println!(
        "\nIntake, {conns} connections, {total} requests each, {} cores\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| target | ok | errors | seconds | requests/s | p50 ms | p99 ms | share of bare |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for mut r in results {
        r.lat_us.sort_unstable();
        let rps = r.done as f64 / r.secs;
        println!(
            "| {} | {} | {} | {:.2} | {:.0} | {:.2} | {:.2} | {:.1} % |",
            r.name,
            r.done,
            r.errors,
            r.secs,
            rps,
            percentile_us_as_ms(&r.lat_us, 0.50),
            percentile_us_as_ms(&r.lat_us, 0.99),
            100.0 * rps / bare_rps
        );
    }
}
