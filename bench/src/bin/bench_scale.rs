//! Scale benchmark (issue 12): seeds N tickets (default 1,000,000, a tenth of them open) straight
//! into the database with batched multi-row inserts (the same rows and events the intake would
//! write, without HTTP), then in one run measures on SQLite and PostgreSQL: a clock pass with
//! nothing due and with 1,000 due; login and intake latency while clock passes run without pause;
//! `stats/units` for a year, `public/stats` and the board's `stats/summary`; sustained intake at 64
//! connections; the database size per 100,000 tickets. A bare actix-web endpoint measured in the
//! same run is the baseline. Prints a table.
//!
//! `cargo run --release -p anju-bench --bin bench_scale -- [--tickets N] [--sustain-secs S]
//!  [--backend sqlite|postgres|both]`; PostgreSQL from `ANJU_BENCH_POSTGRES`
//! (default `postgres://postgres@127.0.0.1:5432/test`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use anju_bench::measure::{ms, percentile_us_as_ms, print_value_tables};
use anju_bench::seed::{self, ids};
use anju_bench::{load, pg};
use anju_server::clock::TimeSource;
use anju_server::config::{Config, SampleMode};
use anju_server::db::DbConnection;
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;

const ADMIN_PASSWORD: &str = "bench-admin-password";
const DAY: i64 = 86_400_000;

struct Args {
    tickets: usize,
    sustain_secs: u64,
    backend: String,
}

fn args() -> Args {
    let mut a = Args {
        tickets: 1_000_000,
        sustain_secs: 300,
        backend: "both".into(),
    };
    let v: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i + 1 < v.len() {
        match v[i].as_str() {
            "--tickets" => a.tickets = v[i + 1].parse().unwrap_or(a.tickets),
            "--sustain-secs" => a.sustain_secs = v[i + 1].parse().unwrap_or(a.sustain_secs),
            "--backend" => a.backend = v[i + 1].clone(),
            _ => {}
        }
        i += 2;
    }
    a
}

fn p50_p99(lat: &mut [u32]) -> String {
    lat.sort_unstable();
    // Two decimals: a bare endpoint answers in well under a millisecond.
    format!(
        "{:.2} / {:.2} ms",
        percentile_us_as_ms(lat, 0.5),
        percentile_us_as_ms(lat, 0.99)
    )
}

/// Raw keep-alive HTTP/1.1 load: each connection sends `req` until `stop` or the count runs out.
/// Returns (2xx, 5xx, other, latencies µs, completion instants).
async fn one_connection(
    addr: SocketAddr,
    req: Arc<Vec<u8>>,
    stop: Arc<AtomicBool>,
    left: Arc<AtomicUsize>,
) -> (usize, usize, usize, usize, Vec<u32>, Vec<Instant>) {
    let (mut ok, mut e5, mut busy, mut other, mut lat, mut at) =
        (0, 0, 0, 0, Vec::new(), Vec::new());
    let Some(mut s) = load::connect(addr).await else {
        return (0, 0, 0, 1, lat, at);
    };
    let mut buf = Vec::new();
    while !stop.load(Ordering::Relaxed)
        && left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    {
        let t0 = Instant::now();
        let status = load::round_trip(&mut s, &req, &mut buf).await;
        lat.push(load::elapsed_us(t0));
        at.push(Instant::now());
        match status {
            Some(200..=299) => ok += 1,
            // 503 `server_busy` (with Retry-After) is counted apart from other 5xx: it is the
            // answer the issue allows when the database is not had in time; a 500 is a bug.
            Some(503) => busy += 1,
            Some(500..=599) => e5 += 1,
            Some(_) => other += 1,
            None => {
                other += 1;
                break;
            }
        }
    }
    (ok, e5, busy, other, lat, at)
}

struct Load {
    ok: usize,
    /// 5xx other than 503.
    e5: usize,
    /// 503 `server_busy`.
    busy: usize,
    other: usize,
    secs: f64,
    lat: Vec<u32>,
    at: Vec<Instant>,
    start: Instant,
}

async fn drive(addr: SocketAddr, req: Vec<u8>, conns: usize, secs: u64, max: usize) -> Load {
    let req = Arc::new(req);
    let stop = Arc::new(AtomicBool::new(false));
    let left = Arc::new(AtomicUsize::new(max));
    let start = Instant::now();
    let hs: Vec<_> = (0..conns)
        .map(|_| {
            tokio::spawn(one_connection(
                addr,
                req.clone(),
                stop.clone(),
                left.clone(),
            ))
        })
        .collect();
    let s2 = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        s2.store(true, Ordering::Relaxed);
    });
    let mut l = Load {
        ok: 0,
        e5: 0,
        busy: 0,
        other: 0,
        secs: 0.0,
        lat: Vec::new(),
        at: Vec::new(),
        start,
    };
    for h in hs {
        if let Ok((o, e, b, x, lat, at)) = h.await {
            l.ok += o;
            l.e5 += e;
            l.busy += b;
            l.other += x;
            l.lat.extend(lat);
            l.at.extend(at);
        }
    }
    l.secs = start.elapsed().as_secs_f64();
    l
}

/// Seeds `n` tickets over the 365 days before `now` (a tenth open) with their events: the
/// submission, and for closed ones the acceptance, resolution and confirmation with a rating.
fn seed(conn: &mut DbConnection, n: usize, now: i64) -> Result<f64, String> {
    let t0 = Instant::now();
    let cats = ids(
        conn,
        "SELECT code AS id FROM categories WHERE active = TRUE",
    );
    let areas = ids(conn, "SELECT id FROM areas WHERE kind = 'community'");
    let units = ids(conn, "SELECT id FROM units WHERE kind = 'street_office'");
    if cats.is_empty() || areas.is_empty() || units.is_empty() {
        return Err("sample city missing".into());
    }
    if let DbConnection::Sqlite(c) = conn {
        let _ = c.batch_execute("PRAGMA synchronous = OFF;");
    }
    let chunk = 500;
    let mut i = 0;
    while i < n {
        let mut t = String::from(
            "INSERT INTO tickets (id, ticket_no, tracking_code, source, category_code, description, \
             address, area_id, photos, status, unit_id, route_note, clock_start, response_due, \
             resolution_due, accepted_at, resolved_at, closed_at, disputes, extension_pending, \
             supporters, rating, created_at, updated_at, next_clock_at) VALUES ",
        );
        let mut e = String::from(
            "INSERT INTO ticket_events (ticket_id, at, kind, actor_kind, unit_id, public, photos, \
             from_status, to_status, rating, response_due, resolution_due) VALUES ",
        );
        let end = (i + chunk).min(n);
        for k in i..end {
            let open = k % 10 == 0;
            let created = now - 365 * DAY + (k as i64 * 365 * DAY / n as i64);
            // Open tickets are the most recent ones, their clocks in the future.
            let created = if open {
                now - (k as i64 % 7) * DAY - 3_600_000
            } else {
                created
            };
            let cat = &cats[k % cats.len()];
            let area = &areas[(k / 3) % areas.len()];
            let unit = &units[k % units.len()];
            let rd = created + 2 * 3_600_000;
            let sd = created + 10 * DAY;
            let acc = created + 3_600_000;
            let res = created + 3 * DAY;
            let rating = 1 + (k % 5);
            let (status, accepted, resolved, closed, rate, next) = if open {
                (
                    "accepted",
                    acc.to_string(),
                    "NULL".into(),
                    "NULL".into(),
                    "NULL".into(),
                    sd,
                )
            } else {
                (
                    "closed",
                    acc.to_string(),
                    res.to_string(),
                    (res + DAY).to_string(),
                    rating.to_string(),
                    i64::MAX,
                )
            };
            if k > i {
                t.push(',');
                e.push(',');
            }
            let id = format!("bench-{k:09}");
            t.push_str(&format!(
                "('{id}','B-{k:09}','BC{k:012}','web','{cat}','扬尘很大，请尽快处理','3 号楼','{area}','[]',\
                 '{status}','{unit}','{{}}',{created},{rd},{sd},{accepted},{resolved},{closed},0,FALSE,0,\
                 {rate},{created},{created},{next})"
            ));
            e.push_str(&format!(
                "('{id}',{created},'submitted','resident','{unit}',TRUE,'[]',NULL,'dispatched',NULL,{rd},{sd}),\
                 ('{id}',{acc},'accepted','staff','{unit}',TRUE,'[]','dispatched','accepted',NULL,NULL,NULL)"
            ));
            if !open {
                e.push_str(&format!(
                    ",('{id}',{res},'resolved','staff','{unit}',TRUE,'[]','accepted','resolved',NULL,NULL,NULL),\
                     ('{id}',{},'confirmed','resident','{unit}',TRUE,'[]','resolved','closed',{rating},NULL,NULL)",
                    res + DAY
                ));
            }
        }
        let sql = format!("BEGIN; {t}; {e}; COMMIT;");
        conn.batch_execute(&sql).map_err(|x| format!("seed: {x}"))?;
        i = end;
    }
    if let DbConnection::Sqlite(c) = conn {
        let _ = c.batch_execute("PRAGMA synchronous = NORMAL; ANALYZE;");
    } else {
        let _ = conn.batch_execute("ANALYZE;");
    }
    Ok(t0.elapsed().as_secs_f64())
}

async fn login(addr: SocketAddr) -> Option<String> {
    let token = seed::login(
        &reqwest::Client::new(),
        &format!("http://{addr}"),
        "admin",
        ADMIN_PASSWORD,
    )
    .await
    .ok()?;
    Some(token).filter(|t| !t.is_empty())
}

fn db_size(conn: &mut DbConnection, dir: &std::path::Path) -> f64 {
    #[derive(diesel::QueryableByName)]
    struct Size {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    match conn {
        DbConnection::Pg(c) => diesel::sql_query(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT AS n FROM pg_class c \
             JOIN pg_namespace s ON s.oid = c.relnamespace \
             WHERE s.nspname = current_schema() AND c.relkind = 'r'",
        )
        .get_result::<Size>(c)
        .map_or(0.0, |s| s.n as f64),
        DbConnection::Sqlite(_) => std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|f| f.metadata().ok())
                    .map(|m| m.len() as f64)
                    .sum()
            })
            .unwrap_or(0.0),
    }
}

/// Zeroes the clock instants of `chosen` by primary key, 50 per background write turn (what time
/// passing does without a write); how long it took, or `None` if the database refused.
fn make_due_now(st: &anju_server::state::AppState, chosen: &[String]) -> Option<Duration> {
    let mut conn = st.db.get().ok()?;
    let t = Instant::now();
    for part in chosen.chunks(50) {
        let list = part
            .iter()
            .map(|id| format!("'{id}'"))
            .collect::<Vec<_>>()
            .join(",");
        st.db
            .background_tx(&mut conn, |c| {
                diesel::sql_query(format!(
                    "UPDATE tickets SET next_clock_at = 0 WHERE id IN ({list})"
                ))
                .execute(c)
                .map_err(anju_server::error::ApiError::from)
            })
            .ok()?;
    }
    Some(t.elapsed())
}

/// The bare endpoint's figures measured at the start of the run.
struct Bare {
    post_rate: f64,
    get_p50: f64,
}

async fn bench_backend(
    name: &str,
    mut config: Config,
    a: &Args,
    dir: &std::path::Path,
    bare: &Bare,
) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = Vec::new();
    config.sample = SampleMode::City;
    config.admin_password = Some(ADMIN_PASSWORD.into());
    config.intake_per_minute = 0;
    config.background_jobs = false;
    let (state, _) = match anju_server::startup::prepare(config, TimeSource::default()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench_scale {name}: {e}");
            return rows;
        }
    };
    let now = state.clock.now_ms();
    let seeded = {
        let Ok(mut conn) = state.db.get() else {
            return rows;
        };
        seed(&mut conn, a.tickets, now)
    };
    match seeded {
        Ok(s) => rows.push((
            format!("seed {} tickets (direct batched SQL)", a.tickets),
            format!("{s:.1} s"),
        )),
        Err(e) => {
            eprintln!("bench_scale {name}: {e}");
            return rows;
        }
    }
    // The per-day aggregates of the seeded events: the same computation as the upgrade's
    // backfill (and the same rows the events' hook writes one event at a time).
    let rebuilt = {
        let Ok(mut conn) = state.db.get() else {
            return rows;
        };
        let t = Instant::now();
        let tz = state.config.timezone.clone();
        anju_server::org::catalog::load(&mut conn, &tz)
            .and_then(|cat| {
                state.db.background_tx(&mut conn, |c| {
                    anju_server::stats::aggregate::rebuild(c, &cat, &tz)
                })
            })
            .map(|n| (n, t.elapsed().as_secs_f64()))
    };
    match rebuilt {
        Ok((n, secs)) => rows.push((
            format!("per-day aggregates from the events of {n} tickets (backfill)"),
            format!("{secs:.1} s"),
        )),
        Err(e) => {
            eprintln!("bench_scale {name}: aggregates: {e:?}");
            return rows;
        }
    }
    let Ok(running) = anju_server::startup::start(state.clone()) else {
        return rows;
    };
    let addr = running.addr;
    let Some(token) = login(addr).await else {
        eprintln!("bench_scale {name}: no login");
        return rows;
    };
    // The first pass after seeding (every instant set already): nothing due.
    let pass = |st: anju_server::state::AppState| {
        tokio::task::spawn_blocking(move || {
            let mut conn = st.db.get().ok()?;
            let t = Instant::now();
            let r = anju_server::clocks::run_pass(&mut conn, &st).ok()?;
            Some((t.elapsed(), r.examined))
        })
    };
    let mut idle = Vec::new();
    for _ in 0..5 {
        if let Ok(Some((d, _))) = pass(state.clone()).await {
            idle.push(ms(d));
        }
    }
    idle.sort_by(f64::total_cmp);
    rows.push((
        "clock pass, nothing due (median of 5)".into(),
        format!("{:.2} ms", idle.get(2).copied().unwrap_or(0.0)),
    ));
    // The 1,000 tickets a pass finds due, chosen once. Time passing makes tickets due without
    // any write; the bench stands in for it by zeroing their instants by primary key, 50 per
    // write turn like the server's own background batches (a scan for them on every round held
    // the writer for the whole scan and was the bench's cost, not the server's).
    let chosen = Arc::new(ids(
        &mut state.db.get().expect("conn"),
        "SELECT id FROM tickets WHERE status = 'accepted' ORDER BY id LIMIT 1000",
    ));
    let _ = tokio::task::spawn_blocking({
        let (st, chosen) = (state.clone(), chosen.clone());
        move || make_due_now(&st, &chosen)
    })
    .await;
    if let Ok(Some((d, n))) = pass(state.clone()).await {
        rows.push((
            "clock pass, 1,000 due".into(),
            format!("{:.1} ms ({n} examined)", ms(d)),
        ));
    }

    // Login and intake while clock passes run back to back (each with 1,000 due).
    let body = serde_json::json!({
        "category": "dust", "description": "工地夜里还在施工，扬尘很大，请尽快处理",
        "area_id": ids(&mut state.db.get().expect("conn"), "SELECT id FROM areas WHERE kind = 'community' ORDER BY id LIMIT 1").first().cloned().unwrap_or_default(),
        "address": "纺织厂家属院 3 号楼", "phone": "13812345678"
    })
    .to_string();
    let busy = Arc::new(AtomicBool::new(true));
    let passes = Arc::new(AtomicUsize::new(0));
    let clocks = {
        let (st, busy, passes) = (state.clone(), busy.clone(), passes.clone());
        // The thread answers how long each making-due took.
        std::thread::spawn(move || {
            let mut made = Vec::new();
            while busy.load(Ordering::Relaxed) {
                if let Some(d) = make_due_now(&st, &chosen) {
                    made.push(ms(d));
                }
                if let Ok(mut conn) = st.db.get() {
                    let _ = anju_server::clocks::run_pass(&mut conn, &st);
                    passes.fetch_add(1, Ordering::Relaxed);
                }
            }
            made
        })
    };
    let login_body =
        serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}).to_string();
    let (intake, logins) = tokio::join!(
        drive(
            addr,
            load::post_json(addr, "/api/v1/complaints", &body),
            64,
            20,
            usize::MAX
        ),
        drive(
            addr,
            load::post_json(addr, "/api/v1/auth/login", &login_body),
            4,
            20,
            usize::MAX
        )
    );
    busy.store(false, Ordering::Relaxed);
    let mut made = clocks.join().unwrap_or_default();
    let (mut il, mut ll) = (intake.lat, logins.lat);
    rows.push((
        format!(
            "intake p50 / p99 during clock passes ({} passes, 64 conns, 20 s)",
            passes.load(Ordering::Relaxed)
        ),
        format!(
            "{} ({} ok, {} 503, {} other 5xx)",
            p50_p99(&mut il),
            intake.ok,
            intake.busy,
            intake.e5
        ),
    ));
    rows.push((
        "login p50 / p99 during clock passes (4 conns)".into(),
        format!(
            "{} ({} ok, {} 503, {} other 5xx)",
            p50_p99(&mut ll),
            logins.ok,
            logins.busy,
            logins.e5
        ),
    ));

    made.sort_by(f64::total_cmp);
    rows.push((
        "the bench making 1,000 due between passes (20 turns of 50), median".into(),
        format!("{:.1} ms", made.get(made.len() / 2).copied().unwrap_or(0.0)),
    ));

    // Reads a supervisor and the public make.
    let today = Some(
        state
            .config
            .timezone
            .to_datetime(anju_server::clock::from_ms(now))
            .date(),
    );
    let (from, to) = match today {
        Some(d) => (
            d.checked_sub(jiff::Span::new().days(364))
                .map(|x| x.to_string())
                .unwrap_or_default(),
            d.to_string(),
        ),
        None => (String::new(), String::new()),
    };
    // The cursor of page 100 of 1,000 (the last request of page 99), for the keyset read.
    let cursor = ids(
        &mut state.db.get().expect("conn"),
        &format!(
            "SELECT ticket_no AS id FROM tickets WHERE created_at >= {} \
             ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET 98999",
            state.clock.now_ms() - 90 * DAY
        ),
    )
    .into_iter()
    .next()
    .unwrap_or_default();
    // The read baseline of this server: GET /healthz (same HTTP stack, no database work).
    let mut h = drive(
        addr,
        load::get_with_token(addr, "/healthz", &token),
        1,
        30,
        200,
    )
    .await;
    h.lat.sort_unstable();
    let read_base = percentile_us_as_ms(&h.lat, 0.5).max(0.001);
    rows.push((
        "baseline: GET /healthz of this server, 1 conn (200 requests)".into(),
        p50_p99(&mut h.lat),
    ));
    for (label, path, n) in [
        (
            "stats/units, one year",
            format!("/api/v1/stats/units?from={from}&to={to}"),
            5,
        ),
        (
            "public/stats, one year",
            format!("/api/v1/public/stats?from={from}&to={to}"),
            5,
        ),
        (
            "public/stats, default 30 days",
            "/api/v1/public/stats".to_string(),
            10,
        ),
        (
            "stats/summary (board), one year",
            format!("/api/v1/stats/summary?from={from}&to={to}"),
            10,
        ),
        (
            "stats/summary (board), default 30 days",
            "/api/v1/stats/summary".to_string(),
            10,
        ),
        (
            "Open311 requests, first page of 50",
            "/open311/v2/requests.json?page_size=50".to_string(),
            20,
        ),
        (
            "Open311 requests, page 100 of 1,000",
            "/open311/v2/requests.json?page_size=1000&page=100".to_string(),
            10,
        ),
        (
            "Open311 requests, page 100 of 1,000 by keyset (after=)",
            format!("/open311/v2/requests.json?page_size=1000&after={cursor}"),
            10,
        ),
    ] {
        let mut l = drive(addr, load::get_with_token(addr, &path, &token), 1, 120, n).await;
        l.lat.sort_unstable();
        let ratio = percentile_us_as_ms(&l.lat, 0.5) / read_base;
        let _ = bare.get_p50;
        rows.push((
            format!("{label} p50 / p99 ({n} requests)"),
            format!(
                "{} ({} ok; p50 {ratio:.0}× GET /healthz)",
                p50_p99(&mut l.lat),
                l.ok
            ),
        ));
    }

    // Sustained intake.
    let s = drive(
        addr,
        load::post_json(addr, "/api/v1/complaints", &body),
        64,
        a.sustain_secs,
        usize::MAX,
    )
    .await;
    let bucket = if a.sustain_secs >= 120 { 60 } else { 10 };
    let mut per: Vec<usize> = vec![0; (a.sustain_secs / bucket + 1) as usize];
    for t in &s.at {
        let b = (t.duration_since(s.start).as_secs() / bucket) as usize;
        if let Some(x) = per.get_mut(b) {
            *x += 1;
        }
    }
    per.truncate((a.sustain_secs / bucket) as usize);
    let mut sl = s.lat;
    rows.push((
        format!(
            "sustained intake, 64 conns, {} s: per {bucket} s",
            a.sustain_secs
        ),
        per.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    ));
    rows.push((
        "sustained intake rate, p50 / p99".into(),
        format!(
            "{:.0}/s = {:.0}/min, {} ({} 503, {} other 5xx; {:.1} % of bare POST rate)",
            s.ok as f64 / s.secs,
            s.ok as f64 / s.secs * 60.0,
            p50_p99(&mut sl),
            s.busy,
            s.e5,
            100.0 * s.ok as f64 / s.secs / bare.post_rate.max(0.001)
        ),
    ));
    let total = a.tickets + s.ok + intake.ok;
    if let Ok(mut conn) = state.db.get() {
        let size = db_size(&mut conn, dir);
        rows.push((
            "database size per 100,000 tickets".into(),
            format!("{:.1} MB", size / 1e6 / (total as f64 / 100_000.0)),
        ));
    }
    running.stop().await;
    rows
}

async fn bare_get() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"ok": true}))
}

async fn bare(body: web::Bytes) -> HttpResponse {
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    HttpResponse::Created().json(serde_json::json!({"ok": v.is_object()}))
}

#[tokio::main]
async fn main() {
    let a = args();
    let pg = pg::url_from_env();
    let dir = std::env::temp_dir().join(format!("anju-scale-{}", uuid::Uuid::new_v4().simple()));
    let _ = std::fs::create_dir_all(&dir);

    // Baseline: the bare endpoint, 64 connections, 10 s.
    let server = HttpServer::new(|| {
        App::new()
            .route("/api/v1/complaints", web::post().to(bare))
            .route("/bare", web::get().to(bare_get))
    })
    .workers(2)
    .disable_signals()
    .bind(("127.0.0.1", 0));
    let Ok(server) = server else {
        eprintln!("bench_scale: cannot bind");
        return;
    };
    let addr = server.addrs()[0];
    let srv = server.run();
    let handle = srv.handle();
    tokio::spawn(srv);
    let b = drive(
        addr,
        load::post_json(addr, "/api/v1/complaints", "{\"category\":\"dust\"}"),
        64,
        10,
        usize::MAX,
    )
    .await;
    let mut g = drive(addr, load::get_with_token(addr, "/bare", "x"), 1, 10, 200).await;
    handle.stop(true).await;
    g.lat.sort_unstable();
    let mut bl = b.lat;
    let bare_rate = b.ok as f64 / b.secs;
    let bare = Bare {
        post_rate: bare_rate,
        get_p50: percentile_us_as_ms(&g.lat, 0.5),
    };
    println!(
        "\nScale, {} tickets seeded, {} cores",
        a.tickets,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "\nbaseline: bare actix-web endpoint, 64 conns, 10 s: {bare_rate:.0}/s, p50 / p99 {}; \
         bare GET, 1 conn: p50 / p99 {}\n",
        p50_p99(&mut bl),
        p50_p99(&mut g.lat)
    );

    let mut all: Vec<(String, Vec<(String, String)>)> = Vec::new();
    if a.backend != "postgres" {
        let sdir = dir.join("sqlite");
        let c = Config::for_data_dir(&sdir);
        all.push((
            "SQLite".into(),
            bench_backend("sqlite", c, &a, &sdir, &bare).await,
        ));
    }
    let mut schema = None;
    if a.backend != "sqlite" {
        if let Some((url, name)) = pg::schema_url(&pg) {
            let mut c = Config::for_data_dir(&dir.join("pg"));
            c.database_url = url;
            all.push((
                "PostgreSQL".into(),
                bench_backend("postgres", c, &a, &dir, &bare).await,
            ));
            schema = Some(name);
        } else {
            eprintln!("bench_scale: PostgreSQL at {pg} unreachable; skipped");
        }
    }
    if let Some(n) = schema {
        pg::drop_schema(&pg, &n);
    }
    let _ = std::fs::remove_dir_all(&dir);
    print_value_tables(all);
    println!("(sustained intake share of bare: compare the rate above with {bare_rate:.0}/s)");
}
