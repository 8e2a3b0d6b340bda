//! `cargo run --release -p anju-bench --bin bench_bulletins -- [--backend sqlite|postgres|both]
//! [--runs N]`: generating a monthly bulletin (issue 15: target < 1 s) with 100 units and 10,000
//! tickets of last month (each submitted, accepted in time or late, most resolved and rated) and
//! 1,000 rectification orders due that month, seeded straight into the database (the rows the
//! intake, the ticket actions and the sync push would write), the per-day aggregates rebuilt from
//! the events as the upgrade's backfill does. Measures the computation alone and `POST
//! /api/v1/bulletins` over HTTP (median of N runs, default 7), then the issue and the XLSX once.
//! PostgreSQL from `ANJU_BENCH_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`).
//! Prints a table. Not a test: nothing is asserted.

use std::collections::BTreeMap;
use std::time::Instant;

use anju_bench::measure::{median, print_value_tables};
use anju_bench::pg;
use anju_bench::seed::{ids, login};
use anju_server::bulletins::compute::compute;
use anju_server::bulletins::period::{Kind, Period};
use anju_server::clock::TimeSource;
use anju_server::config::{Config, SampleMode};
use anju_server::db::DbConnection;
use anju_server::registers::columns::register_columns;
use anju_server::sync::store::{RecordRow, insert_rows, lock_counter, store_counter};
use anju_shared::merge::{FieldState, StoredRecord};
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "bench-admin-password";
const UNITS: usize = 100;
const TICKETS: usize = 10_000;
const ORDERS: usize = 1_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn midnight(tz: &jiff::tz::TimeZone, d: jiff::civil::Date) -> i64 {
    tz.to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
        .map(|t| t.as_millisecond())
        .unwrap_or(0)
}

/// Units up to [`UNITS`] street offices, then the tickets of `[start, end)` and their events.
fn seed(conn: &mut DbConnection, start: i64, end: i64, now: i64) -> Result<Vec<String>, String> {
    let parent = ids(conn, "SELECT id FROM units WHERE code = 'hexi_gov'");
    let have = ids(conn, "SELECT id FROM units WHERE kind = 'street_office'");
    let mut sql = String::from("BEGIN;");
    for k in have.len()..UNITS {
        sql.push_str(&format!(
            "INSERT INTO units (id, code, parent_id, kind, name_zh, name_en, supervising_unit_id, \
             created_at, updated_at) VALUES ('bench-unit-{k:03}', 'bench_office_{k:03}', '{p}', \
             'street_office', '测试街道办事处{k:03}', 'Bench street office {k:03}', '{p}', {now}, {now});",
            p = parent.first().cloned().unwrap_or_default()
        ));
    }
    sql.push_str("COMMIT;");
    conn.batch_execute(&sql)
        .map_err(|e| format!("units: {e}"))?;
    let units = ids(
        conn,
        "SELECT id FROM units WHERE kind = 'street_office' ORDER BY code",
    );
    let areas = ids(conn, "SELECT id FROM areas WHERE kind = 'community'");
    if let DbConnection::Sqlite(c) = conn {
        let _ = c.batch_execute("PRAGMA synchronous = OFF;");
    }
    let span = end - start - DAY;
    for first in (0..TICKETS).step_by(500) {
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
        for k in first..(first + 500).min(TICKETS) {
            let j = k % units.len();
            let unit = &units[j];
            // Unit j answers in time in about (30 + 70·j/units) % of cases: a spread of units
            // from slow to good, so the bulletin names some and commends others.
            let good = (k / units.len() * 37 % 100) < 30 + 70 * j / units.len();
            let created = start + (k as i64 * span / TICKETS as i64);
            let (rd, sd) = (created + 2 * HOUR, created + 10 * DAY);
            let acc = created + if good { HOUR } else { 5 * HOUR };
            let res = created + if good { DAY } else { 12 * DAY };
            let rating = if good { 5 } else { 1 + k % 4 };
            let solved = good || k % 3 == 0;
            let (kind, status) = if solved {
                ("confirmed", "closed")
            } else {
                ("disputed", "closed")
            };
            if k > first {
                t.push(',');
                e.push(',');
            }
            let id = format!("bench-{k:09}");
            let area = &areas[k % areas.len()];
            t.push_str(&format!(
                "('{id}','B-{k:09}','BC{k:012}','web','dust','扬尘很大','3 号楼','{area}','[]',\
                 '{status}','{unit}','{{}}',{created},{rd},{sd},{acc},{res},{},0,FALSE,0,{rating},\
                 {created},{created},{})",
                res + DAY,
                i64::MAX
            ));
            e.push_str(&format!(
                "('{id}',{created},'submitted','resident','{unit}',TRUE,'[]',NULL,'dispatched',NULL,{rd},{sd}),\
                 ('{id}',{acc},'accepted','staff','{unit}',TRUE,'[]','dispatched','accepted',NULL,NULL,NULL),\
                 ('{id}',{res},'resolved','staff','{unit}',TRUE,'[]','accepted','resolved',NULL,NULL,NULL),\
                 ('{id}',{},'{kind}','resident','{unit}',TRUE,'[]','resolved','closed',{rating},NULL,NULL)",
                res + HOUR
            ));
        }
        conn.batch_execute(&format!("BEGIN; {t}; {e}; COMMIT;"))
            .map_err(|x| format!("tickets: {x}"))?;
    }
    Ok(units)
}

/// [`ORDERS`] hazards with an order due in the period, three in four rectified in time, as sync
/// rows (their versions kept by the trigger, as for a push).
fn seed_orders(
    conn: &mut DbConnection,
    units: &[String],
    areas: &[String],
    period: &Period,
    written_at: i64,
) -> Result<(), String> {
    let (seq, _) = lock_counter(conn).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let days = (period.end - period.start).get_days().max(1) as usize;
    for k in 0..ORDERS {
        let deadline = period
            .start
            .checked_add(jiff::Span::new().days((k % days) as i64))
            .unwrap_or(period.start);
        let mut v: BTreeMap<&str, Value> = BTreeMap::new();
        v.insert("description", json!("外墙空鼓"));
        v.insert("unit_id", json!(units[k % units.len()]));
        v.insert("area_id", json!(areas[k % areas.len()]));
        v.insert("severity", json!("medium"));
        v.insert("order_no", json!(format!("测整改〔{k}〕号")));
        v.insert("order_issued_on", json!(period.start.to_string()));
        v.insert("deadline", json!(deadline.to_string()));
        if k % 4 != 0 {
            v.insert("status", json!("rectified"));
            let at = jiff::Timestamp::from_millisecond(written_at - DAY)
                .map(|t| t.to_string())
                .unwrap_or_default();
            v.insert("rectified_at", json!(at));
        } else {
            v.insert("status", json!("open"));
        }
        let version = seq + 1 + k as i64;
        let fields = v
            .into_iter()
            .map(|(name, value)| {
                (
                    name.to_owned(),
                    FieldState {
                        value,
                        hlc: "0000000000000-0000-seed".into(),
                        version,
                        author: "device:bench".into(),
                        elements: BTreeMap::new(),
                    },
                )
            })
            .collect();
        let r = StoredRecord {
            record_type: "hazard".into(),
            id: uuid::Uuid::now_v7(),
            version,
            deleted: false,
            fields,
        };
        rows.push(RecordRow::from_record(
            &r,
            version,
            written_at,
            register_columns(&r),
        ));
    }
    insert_rows(conn, &rows).map_err(|e| e.to_string())?;
    store_counter(conn, seq + ORDERS as i64).map_err(|e| e.to_string())?;
    Ok(())
}

async fn bench_backend(name: &str, mut config: Config, runs: usize) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    config.sample = SampleMode::City;
    config.sample_programme = true;
    config.admin_password = Some(ADMIN_PASSWORD.into());
    config.background_jobs = false;
    let (state, _) = match anju_server::startup::prepare(config, TimeSource::default()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench_bulletins {name}: {e}");
            return rows;
        }
    };
    let tz = state.config.timezone.clone();
    let now = state.clock.now_ms();
    let today = tz.to_datetime(anju_server::clock::from_ms(now)).date();
    let this_month = today.first_of_month();
    let last_month = this_month
        .yesterday()
        .map(|d| d.first_of_month())
        .unwrap_or(this_month);
    let Ok(period) = Period::parse(Kind::Monthly, &last_month.to_string(), today) else {
        return rows;
    };
    let (start, end) = (midnight(&tz, period.start), midnight(&tz, this_month));
    let t0 = Instant::now();
    let seeded = (|| -> Result<(), String> {
        let mut conn = state.db.get().map_err(|e| format!("{e:?}"))?;
        let units = seed(&mut conn, start, end, now)?;
        let areas = ids(&mut conn, "SELECT id FROM areas WHERE kind = 'community'");
        state
            .db
            .background_tx(&mut conn, |c| {
                seed_orders(c, &units, &areas, &period, end - DAY)
                    .map_err(|e| anju_server::error::ApiError::internal(anyhow::anyhow!(e)))
            })
            .map_err(|e| format!("{e:?}"))?;
        let catalog =
            anju_server::org::catalog::load(&mut conn, &tz).map_err(|e| format!("{e:?}"))?;
        state
            .db
            .background_tx(&mut conn, |c| {
                anju_server::stats::aggregate::rebuild(c, &catalog, &tz)
            })
            .map_err(|e| format!("{e:?}"))?;
        let _ = conn.batch_execute("ANALYZE;");
        Ok(())
    })();
    if let Err(e) = seeded {
        eprintln!("bench_bulletins {name}: seed: {e}");
        return rows;
    }
    state.catalog.invalidate();
    rows.push((
        format!("seed {UNITS} units, {TICKETS} tickets, {ORDERS} orders, aggregates rebuilt"),
        format!("{:.1} s", t0.elapsed().as_secs_f64()),
    ));

    // The computation alone, on one connection.
    let mut times = Vec::new();
    let mut figures = Value::Null;
    for _ in 0..runs {
        let st = state.clone();
        let r = tokio::task::spawn_blocking(move || {
            let mut conn = st.db.get().ok()?;
            let t = Instant::now();
            let d = compute(&mut conn, &st, period, st.clock.now_ms()).ok()?;
            Some((
                t.elapsed().as_secs_f64() * 1000.0,
                serde_json::to_value(d).ok()?,
            ))
        })
        .await;
        if let Ok(Some((ms, d))) = r {
            times.push(ms);
            figures = d;
        }
    }
    rows.push((
        format!("compute the monthly bulletin (median of {runs})"),
        format!("{:.0} ms", median(times)),
    ));
    let count = |k: &str| figures[k].as_array().map_or(0, Vec::len);
    rows.push((
        "  units in it / ranked / named / commended".into(),
        format!(
            "{} / {} / {} / {}",
            count("units"),
            figures["totals"]["units_ranked"],
            count("criticised"),
            count("commended")
        ),
    ));
    rows.push((
        "  dispatches / orders due counted".into(),
        format!(
            "{} / {}",
            figures["totals"]["dispatched"], figures["totals"]["orders_due"]
        ),
    ));

    let Ok(running) = anju_server::startup::start(state.clone()) else {
        return rows;
    };
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let token = login(&client, &base, "admin", ADMIN_PASSWORD)
        .await
        .ok()
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        eprintln!("bench_bulletins {name}: no login");
        running.stop().await;
        return rows;
    };
    let body = json!({"kind": "monthly", "period_start": period.start.to_string()});
    let mut times = Vec::new();
    let mut last = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        let r = client
            .post(format!("{base}/api/v1/bulletins"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let Ok(r) = r else { continue };
        let ok = r.status().as_u16() == 201;
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if ok {
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            last = v["id"].as_str().unwrap_or("").to_owned();
        }
    }
    rows.push((
        format!("POST /api/v1/bulletins, monthly, over HTTP (median of {runs})"),
        format!("{:.0} ms", median(times)),
    ));
    let t = Instant::now();
    let issued = client
        .post(format!("{base}/api/v1/bulletins/{last}/issue"))
        .bearer_auth(&token)
        .send()
        .await
        .map(|r| r.status().as_u16());
    rows.push((
        "issue it (number, freeze, outbox)".into(),
        format!("{:.0} ms ({issued:?})", t.elapsed().as_secs_f64() * 1000.0),
    ));
    let t = Instant::now();
    let size = match client
        .get(format!("{base}/api/v1/bulletins/{last}/xlsx"))
        .bearer_auth(&token)
        .send()
        .await
    {
        Ok(r) => r.bytes().await.map_or(0, |b| b.len()),
        Err(_) => 0,
    };
    rows.push((
        "GET …/xlsx".into(),
        format!(
            "{:.0} ms, {} KB",
            t.elapsed().as_secs_f64() * 1000.0,
            size / 1024
        ),
    ));
    running.stop().await;
    rows
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|p| args.get(p + 1))
            .cloned()
    };
    let backend = arg("--backend").unwrap_or_else(|| "both".into());
    let runs: usize = arg("--runs")
        .and_then(|r| r.parse().ok())
        .unwrap_or(7)
        .max(1);
    let pg = pg::url_from_env();
    let dir =
        std::env::temp_dir().join(format!("anju-bulletins-{}", uuid::Uuid::new_v4().simple()));
    let _ = std::fs::create_dir_all(&dir);
    let mut all = Vec::new();
    if backend != "postgres" {
        let c = Config::for_data_dir(&dir.join("sqlite"));
        let _ = std::fs::create_dir_all(dir.join("sqlite"));
        all.push(("SQLite", bench_backend("sqlite", c, runs).await));
    }
    if backend != "sqlite" {
        match pg::schema_url(&pg) {
            Some((url, schema)) => {
                let mut c = Config::for_data_dir(&dir.join("pg"));
                c.database_url = url;
                all.push(("PostgreSQL", bench_backend("postgres", c, runs).await));
                pg::drop_schema(&pg, &schema);
            }
            None => eprintln!("bench_bulletins: PostgreSQL at {pg} unreachable; skipped"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "\nBulletins: {UNITS} units, {TICKETS} tickets, {ORDERS} orders, {} cores\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    print_value_tables(all);
}
