//! `cargo run --release -p anju-bench --bin bench_registers [-- --postgres URL | --sqlite-only]`:
//! registers figures (issue 13) on SQLite and PostgreSQL, printed as a table. Each backend runs
//! in its own child process (so its peak memory is its own); the server runs in that process on
//! port 0 and is driven over HTTP. 100,000 buildings and 10,000 projects of this year are seeded
//! directly as sync rows (merged by the shared merge, with proper change numbers: the rows a
//! push would write, without 110,000 pushes). Not a test: nothing is asserted.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anju_bench::measure::{
    figures_from_children, percentile, print_figure_table, reset_peak, round2, vmhwm_mb, vmrss_mb,
};
use anju_bench::seed::{login, merged_rows};
use anju_server::auth::Role;
use anju_server::clock::TimeSource;
use anju_server::config::{Config, SampleMode};
use anju_server::startup;
use anju_server::sync::store::{RecordRow, insert_rows, lock_counter, store_counter};
use anju_shared::records::{BUILDING, PROJECT, RecordSchema};
use serde_json::{Value, json};

const PASSWORD: &str = "bench-password-123";
const BUILDINGS: usize = 100_000;
const PROJECTS: usize = 10_000;
const IMPORT_ROWS: usize = 10_000;

fn main() -> anyhow::Result<()> {
    if let Some(done) = anju_bench::measure::run_as_child(|_, url| run(url)) {
        return done;
    }
    let args: Vec<String> = std::env::args().collect();
    let pg = args
        .iter()
        .position(|a| a == "--postgres")
        .and_then(|p| args.get(p + 1).cloned())
        .unwrap_or_else(|| anju_bench::pg::DEFAULT_URL.into());
    let mut backends = vec![("SQLite", None)];
    if !args.iter().any(|a| a == "--sqlite-only") {
        backends.push(("PostgreSQL", Some(pg)));
    }
    let rows = figures_from_children(backends)?;
    let lines = [
        ("seed 100,000 buildings + 10,000 projects (s)", "seed_s"),
        ("baseline GET /healthz p50 (ms)", "healthz_p50"),
        ("baseline GET /healthz p99 (ms)", "healthz_p99"),
        ("buildings list, first page p50 (ms)", "list_p50"),
        ("buildings list, first page p99 (ms)", "list_p99"),
        ("  ratio list p50 / healthz p50", "list_ratio"),
        ("buildings, filtered page p50 (ms)", "filtered_p50"),
        ("buildings, filtered page p99 (ms)", "filtered_p99"),
        ("  rows matching the filter", "filtered_total"),
        (
            "buildings, text search page (q=12345) p50 (ms)",
            "search_p50",
        ),
        ("buildings, text search page p99 (ms)", "search_p99"),
        (
            "buildings, unit-scoped first page (street office) p50 (ms)",
            "scoped_p50",
        ),
        ("buildings, unit-scoped first page p99 (ms)", "scoped_p99"),
        ("  rows the unit sees", "scoped_total"),
        (
            "buildings, all sorted by address, first page p50 (ms)",
            "sorted_p50",
        ),
        ("XLSX export of 100,000 buildings (s)", "xlsx_s"),
        ("  file size (MB)", "xlsx_mb"),
        ("  RSS before the export (MB)", "rss_before_mb"),
        ("  peak RSS during the export (MB)", "rss_peak_export_mb"),
        (
            "  peak RSS of the process before the export (MB)",
            "hwm_before_mb",
        ),
        ("import 10,000 new rows: dry run (s)", "import_dry_s"),
        ("import 10,000 new rows: apply (s)", "import_apply_s"),
        ("  office edits made during the apply", "apply_edits"),
        (
            "  longest office edit during the apply (ms)",
            "apply_edit_max_ms",
        ),
        (
            "  office edits refused during the apply",
            "apply_edits_refused",
        ),
        (
            "re-import the same 10,000 rows, unchanged (s)",
            "reimport_s",
        ),
        (
            "progress of a year with 10,000 projects p50 (ms)",
            "progress_p50",
        ),
        (
            "progress of a year with 10,000 projects p99 (ms)",
            "progress_p99",
        ),
    ];
    print_figure_table(&lines, &rows);
    Ok(())
}

/// The `p`-quantile of ascending `sorted`, to two decimals.
fn pct(sorted: &[f64], p: f64) -> f64 {
    round2(percentile(sorted, p))
}

async fn run(pg_url: Option<String>) -> anyhow::Result<BTreeMap<String, f64>> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_data_dir(dir.path());
    config.sample = SampleMode::City;
    config.admin_password = Some(PASSWORD.into());
    let mut schema = None;
    if let Some(url) = &pg_url {
        let (schema_url, name) = anju_bench::pg::schema_url(url)
            .ok_or_else(|| anyhow::anyhow!("PostgreSQL at {url} refused a bench schema"))?;
        config.database_url = schema_url;
        schema = Some((url.clone(), name));
    }
    let result = measure(config).await;
    if let Some((url, name)) = schema {
        anju_bench::pg::drop_schema(&url, &name);
    }
    result
}

/// The communities (id, name, code) and the Hexi district's id.
struct City {
    communities: Vec<(String, String, String)>,
    district: String,
}

fn rows_for(
    schema: &'static RecordSchema,
    fields: impl Fn(usize) -> Value,
    n: usize,
    now: i64,
) -> anyhow::Result<Vec<RecordRow>> {
    merged_rows(schema, fields, |_| 1, n, now)
}

async fn timed_get(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    n: usize,
) -> anyhow::Result<(Vec<f64>, Value)> {
    let mut lat = Vec::with_capacity(n);
    let mut last = Value::Null;
    for _ in 0..n {
        let started = Instant::now();
        let res = http.get(url).bearer_auth(token).send().await?;
        anyhow::ensure!(res.status().is_success(), "{url}: {}", res.status());
        last = res.json().await.unwrap_or(Value::Null);
        lat.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(f64::total_cmp);
    Ok((lat, last))
}

async fn measure(config: Config) -> anyhow::Result<BTreeMap<String, f64>> {
    let (state, _) = startup::prepare(config, TimeSource::default())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let running = startup::start(state).map_err(|e| anyhow::anyhow!("{e}"))?;
    let base = format!("http://{}", running.addr);
    let db = running.state.db.clone();
    let now = running.state.clock.now_ms();
    let tz = running.state.config.timezone.clone();
    let year = tz.to_datetime(running.state.clock.now()).year();
    let hash = anju_server::auth::password::hash(PASSWORD)?;
    let city = db
        .run(move |conn| {
            use anju_server::db::schema::areas;
            use diesel::prelude::*;
            anju_server::users::insert(
                conn,
                "bench",
                "bench",
                Role::Supervisor,
                None,
                Some(&hash),
                now,
            )?;
            let comm: Vec<(String, String, String)> = areas::table
                .filter(areas::kind.eq("community"))
                .order(areas::code.asc())
                .select((areas::id, areas::name_zh, areas::code))
                .load(conn)?;
            use anju_server::db::schema::units;
            let office: String = units::table
                .filter(units::code.eq("hexi_jianshe_office"))
                .select(units::id)
                .first(conn)?;
            anju_server::users::insert(
                conn,
                "bench-office",
                "bench-office",
                Role::UnitStaff,
                Some(&office),
                Some(&hash),
                now,
            )?;
            let district: String = areas::table
                .filter(areas::code.eq("hexi"))
                .select(areas::id)
                .first(conn)?;
            Ok(City {
                communities: comm,
                district,
            })
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let unit: String = db
        .run(|conn| {
            use anju_server::db::schema::units;
            use diesel::prelude::*;
            Ok(units::table
                .filter(units::code.eq("housing_bureau"))
                .select(units::id)
                .first::<String>(conn)?)
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut figures = BTreeMap::new();

    // Seed: buildings spread over the 24 communities, a few C and D; projects of this year.
    let comms = city.communities.clone();
    let started = Instant::now();
    let building = move |i: usize| {
        let (area, _, _) = &comms[i % comms.len()];
        let grade = match i % 20 {
            0 => "D",
            1 | 2 => "C",
            3..=9 => "B",
            _ => "A",
        };
        json!({"code": format!("FW-{i:06}"), "address": format!("{i} 号楼"), "area_id": area,
               "structure": "brick_concrete", "year_built": 1960 + (i % 40), "floors": 1 + i % 7,
               "households": 10 + i % 60, "safety_grade": grade})
    };
    let comms = city.communities.clone();
    let u2 = unit.clone();
    let project = move |i: usize| {
        let (area, _, _) = &comms[i % comms.len()];
        let programme = ["shantytown", "dangerous_housing", "old_community"][i % 3];
        let month = 1 + i % 12;
        json!({"code": format!("XM-{i:05}"), "name": format!("项目 {i}"), "programme": programme,
               "area_id": area, "unit_id": u2, "planned_units": 100, "completed_units": 50,
               "actual_start": format!("{year}-{month:02}-01"),
               "actual_completion": if i.is_multiple_of(2) { Value::from(format!("{year}-{month:02}-15")) } else { Value::Null },
               "status": if i.is_multiple_of(2) { "completed" } else { "in_progress" }})
    };
    let mut rows = rows_for(&BUILDING, building, BUILDINGS, now)?;
    rows.extend(rows_for(&PROJECT, project, PROJECTS, now)?);
    db.run(move |conn| {
        use diesel::Connection;
        for chunk in rows.chunks_mut(5000) {
            conn.transaction(|conn| {
                let (seq, _) = lock_counter(conn)?;
                for (i, r) in chunk.iter_mut().enumerate() {
                    let s = seq + 1 + i64::try_from(i).unwrap_or(0);
                    r.change_seq = s;
                }
                insert_rows(conn, chunk)?;
                store_counter(conn, seq + i64::try_from(chunk.len()).unwrap_or(0))
            })?;
        }
        Ok(())
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    figures.insert("seed_s".into(), started.elapsed().as_secs_f64());
    // On PostgreSQL, what autovacuum does within a minute of a bulk load: statistics and the
    // visibility map (index-only counts). SQLite has no such step (no ANALYZE is run).
    db.run(|conn| {
        use diesel::RunQueryDsl;
        if let anju_server::db::DbConnection::Pg(c) = conn {
            diesel::sql_query("VACUUM ANALYZE sync_records").execute(c)?;
        }
        Ok(())
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let token = login(&http, &base, "bench", PASSWORD).await?;
    let office_token = login(&http, &base, "bench-office", PASSWORD).await?;

    let (h, _) = timed_get(&http, &format!("{base}/healthz"), &token, 200).await?;
    figures.insert("healthz_p50".into(), pct(&h, 0.5));
    figures.insert("healthz_p99".into(), pct(&h, 0.99));
    let (l, _) = timed_get(
        &http,
        &format!("{base}/api/v1/registers/building?per_page=50"),
        &token,
        40,
    )
    .await?;
    figures.insert("list_p50".into(), pct(&l, 0.5));
    figures.insert("list_p99".into(), pct(&l, 0.99));
    figures.insert(
        "list_ratio".into(),
        (pct(&l, 0.5) / pct(&h, 0.5).max(0.001)).round(),
    );
    let filtered = format!(
        "{base}/api/v1/registers/building?per_page=50&area={}&grade=D&sort=address",
        city.district
    );
    let (f, page) = timed_get(&http, &filtered, &token, 40).await?;
    figures.insert("filtered_p50".into(), pct(&f, 0.5));
    figures.insert("filtered_p99".into(), pct(&f, 0.99));
    figures.insert(
        "filtered_total".into(),
        page["total"].as_f64().unwrap_or(0.0),
    );

    let (q, _) = timed_get(
        &http,
        &format!("{base}/api/v1/registers/building?per_page=50&q=12345"),
        &token,
        40,
    )
    .await?;
    figures.insert("search_p50".into(), pct(&q, 0.5));
    figures.insert("search_p99".into(), pct(&q, 0.99));
    let (u, page) = timed_get(
        &http,
        &format!("{base}/api/v1/registers/building?per_page=50"),
        &office_token,
        40,
    )
    .await?;
    figures.insert("scoped_p50".into(), pct(&u, 0.5));
    figures.insert("scoped_p99".into(), pct(&u, 0.99));
    figures.insert("scoped_total".into(), page["total"].as_f64().unwrap_or(0.0));
    let (o, _) = timed_get(
        &http,
        &format!("{base}/api/v1/registers/building?per_page=50&sort=address"),
        &token,
        5,
    )
    .await?;
    figures.insert("sorted_p50".into(), pct(&o, 0.5));

    figures.insert("hwm_before_mb".into(), vmhwm_mb());
    figures.insert("rss_before_mb".into(), vmrss_mb());
    reset_peak();
    let started = Instant::now();
    let res = http
        .get(format!("{base}/api/v1/registers/building.xlsx"))
        .bearer_auth(&token)
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "xlsx: {}", res.status());
    let bytes = res.bytes().await?;
    figures.insert("xlsx_s".into(), started.elapsed().as_secs_f64());
    figures.insert("xlsx_mb".into(), bytes.len() as f64 / 1_048_576.0);
    figures.insert("rss_peak_export_mb".into(), vmhwm_mb());
    drop(bytes);

    // Import 10,000 new buildings (CSV with the download's headers), dry run then apply.
    let mut csv = String::from("房屋编号,区县,街道,所属区域,地址,层数,安全等级\r\n");
    for i in 0..IMPORT_ROWS {
        let (_, name, _) = &city.communities[i % city.communities.len()];
        csv.push_str(&format!(
            "NEW-{i:05},,,{name},新建 {i} 号楼,{},{}\r\n",
            1 + i % 6,
            ["A", "B", "C", "D"][i % 4]
        ));
    }
    let import = |dry: bool, body: String| {
        let http = http.clone();
        let url = format!("{base}/api/v1/registers/building/import?dry_run={dry}");
        let token = token.clone();
        async move {
            let started = Instant::now();
            let res = http.post(url).bearer_auth(token).body(body).send().await?;
            let status = res.status();
            let text = res.text().await?;
            anyhow::ensure!(
                status.is_success(),
                "import: {status} {}",
                &text[..text.len().min(400)]
            );
            Ok::<f64, anyhow::Error>(started.elapsed().as_secs_f64())
        }
    };
    figures.insert("import_dry_s".into(), import(true, csv.clone()).await?);
    // While the apply runs, an office user keeps creating buildings one at a time: how long
    // does such a write wait for the writer?
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let editor = {
        let http = http.clone();
        let url = format!("{base}/api/v1/registers/building");
        let token = token.clone();
        let area = city.communities[0].0.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut refused = 0.0;
            tokio::time::sleep(Duration::from_millis(300)).await;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let body =
                    json!({"fields": {"address": format!("并发 {}", lat.len()), "area_id": area}});
                let ok = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    lat.push(started.elapsed().as_secs_f64() * 1000.0);
                } else {
                    refused += 1.0;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (lat, refused)
        })
    };
    figures.insert("import_apply_s".into(), import(false, csv.clone()).await?);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (lat, refused) = editor.await?;
    figures.insert("apply_edits".into(), lat.len() as f64);
    figures.insert("apply_edits_refused".into(), refused);
    figures.insert(
        "apply_edit_max_ms".into(),
        (lat.iter().copied().fold(0.0, f64::max) * 100.0).round() / 100.0,
    );
    figures.insert("reimport_s".into(), import(false, csv).await?);

    let (p, _) = timed_get(
        &http,
        &format!("{base}/api/v1/progress?year={year}"),
        &token,
        20,
    )
    .await?;
    figures.insert("progress_p50".into(), pct(&p, 0.5));
    figures.insert("progress_p99".into(), pct(&p, 0.99));
    Ok(figures)
}
