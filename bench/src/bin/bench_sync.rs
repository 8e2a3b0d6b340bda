//! `cargo run --release -p anju-bench --bin bench_sync [-- --postgres URL]`: sync figures on
//! SQLite and PostgreSQL, printed as a table. Each backend runs in its own child process (so
//! its peak memory is its own); the server runs in that process on port 0 and is driven over
//! HTTP with the wire types of `anju_shared::protocol`. Not a test: nothing is asserted.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anju_bench::measure::{figures_from_children, print_figure_table, vmhwm_mb};
use anju_bench::seed::{login, merged_rows};
use anju_server::auth::Role;
use anju_server::clock::TimeSource;
use anju_server::config::{Config, SampleMode};
use anju_server::startup;
use anju_server::sync::store::{RecordRow, insert_rows, lock_counter, store_counter};
use anju_shared::hlc::{DEFAULT_MAX_DRIFT_MS, HlcClock};
use anju_shared::protocol::{Mutation, Op, PROTOCOL_VERSION, PullResponse, PushResponse};
use anju_shared::records::HAZARD;
use serde_json::{Value, json};
use uuid::Uuid;

const PASSWORD: &str = "bench-password-123";

fn main() -> anyhow::Result<()> {
    if let Some(done) =
        anju_bench::measure::run_as_child(|backend, url| async move { run(&backend, url).await })
    {
        return done;
    }
    let args: Vec<String> = std::env::args().collect();
    let pg = args
        .iter()
        .position(|a| a == "--postgres")
        .and_then(|p| args.get(p + 1).cloned())
        .unwrap_or_else(|| anju_bench::pg::DEFAULT_URL.into());
    let backends = vec![("SQLite", None), ("PostgreSQL", Some(pg))];
    let rows = figures_from_children(backends)?;
    let lines = [
        (
            "raw batched diesel insert, 10,000 rows (rows/s)",
            "raw_rows_per_s",
        ),
        (
            "push 10,000 new records, batches of 500 (mutations/s)",
            "push_per_s",
        ),
        ("  ratio push / raw insert", "push_ratio"),
        (
            "push 1,000 edits, 10 % conflicts (mutations/s)",
            "edits_per_s",
        ),
        ("  conflicts recorded", "conflicts"),
        (
            "initial pull of 100,000 records, pages of 1000 (s)",
            "initial_pull_s",
        ),
        ("  records received", "initial_pull_records"),
        (
            "incremental pull, nothing new: p50 (ms)",
            "empty_pull_p50_ms",
        ),
        (
            "incremental pull, nothing new: p99 (ms)",
            "empty_pull_p99_ms",
        ),
        ("peak memory of the process, VmHWM (MB)", "vmhwm_mb"),
    ];
    print_figure_table(&lines, &rows);
    Ok(())
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    device: String,
    seq: u64,
    clock: HlcClock,
}

impl Client {
    fn mutation(&mut self, id: Uuid, base: Option<i64>, fields: Value) -> Mutation {
        self.seq += 1;
        let now = u64::try_from(jiff::Timestamp::now().as_millisecond()).unwrap_or(0);
        Mutation {
            seq: self.seq,
            record_type: "hazard".into(),
            record_id: id,
            op: Op::Upsert,
            base_version: base,
            fields: fields
                .as_object()
                .map(|o| o.clone().into_iter().collect())
                .unwrap_or_default(),
            hlc: self.clock.tick(now).to_string(),
        }
    }

    async fn push(&self, mutations: &[Mutation]) -> anyhow::Result<PushResponse> {
        let res = self
            .http
            .post(format!("{}/api/v1/sync/push", self.base))
            .bearer_auth(&self.token)
            .json(&json!({"protocol": PROTOCOL_VERSION, "device_id": self.device, "mutations": mutations}))
            .send()
            .await?;
        anyhow::ensure!(res.status().is_success(), "push: {}", res.text().await?);
        Ok(res.json().await?)
    }

    async fn pull(&self, cursor: Option<&str>, limit: u32) -> anyhow::Result<PullResponse> {
        let mut url = format!(
            "{}/api/v1/sync/pull?device_id={}&limit={limit}",
            self.base, self.device
        );
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let res = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .header("X-Anju-Protocol", "1")
            .send()
            .await?;
        anyhow::ensure!(res.status().is_success(), "pull: {}", res.text().await?);
        Ok(res.json().await?)
    }

    async fn pull_all(&self) -> anyhow::Result<(usize, String)> {
        let mut cursor: Option<String> = None;
        let mut n = 0;
        loop {
            let page = self.pull(cursor.as_deref(), 1000).await?;
            n += page.changes.len();
            cursor = Some(page.next_cursor);
            if !page.has_more {
                return Ok((n, cursor.unwrap_or_default()));
            }
        }
    }
}

fn hazard_fields(unit: &str, area: &str, i: usize) -> Value {
    json!({
        "description": format!("楼道墙体裂缝，编号 {i}"),
        "location": format!("{} 号楼 {} 单元", i % 40 + 1, i % 6 + 1),
        "area_id": area, "unit_id": unit, "severity": "medium", "status": "open",
    })
}

async fn run(backend: &str, pg_url: Option<String>) -> anyhow::Result<BTreeMap<String, f64>> {
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
    eprintln!("{backend} done");
    result
}

async fn measure(config: Config) -> anyhow::Result<BTreeMap<String, f64>> {
    let (state, _) = startup::prepare(config, TimeSource::default())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let running = startup::start(state).map_err(|e| anyhow::anyhow!("{e}"))?;
    let base = format!("http://{}", running.addr);
    let db = running.state.db.clone();
    let now = running.state.clock.now_ms();
    let hash = anju_server::auth::password::hash(PASSWORD)?;
    let (unit, area) = db
        .run(move |conn| {
            use anju_server::db::schema::{areas, units};
            use diesel::prelude::*;
            for name in ["bench_a", "bench_b"] {
                anju_server::users::insert(
                    conn,
                    name,
                    name,
                    Role::Supervisor,
                    None,
                    Some(&hash),
                    now,
                )?;
            }
            let unit: String = units::table
                .filter(units::code.eq("hexi_jianshe_office"))
                .select(units::id)
                .first(conn)?;
            let area: String = areas::table
                .filter(areas::code.eq("hexi-jianshe-1"))
                .select(areas::id)
                .first(conn)?;
            Ok((unit, area))
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()?;
    let mut clients = Vec::new();
    for name in ["bench_a", "bench_b"] {
        let token = login(&http, &base, name, PASSWORD).await?;
        let dev: Value = http
            .post(format!("{base}/api/v1/devices"))
            .bearer_auth(&token)
            .json(&json!({"name": format!("{name} device")}))
            .send()
            .await?
            .json()
            .await?;
        let device = dev["device_id"].as_str().unwrap_or_default().to_string();
        clients.push(Client {
            http: http.clone(),
            base: base.clone(),
            token,
            clock: HlcClock::new(device.clone(), DEFAULT_MAX_DRIFT_MS),
            device,
            seq: 0,
        });
    }
    let mut b = clients.pop().ok_or_else(|| anyhow::anyhow!("no client"))?;
    let mut a = clients.pop().ok_or_else(|| anyhow::anyhow!("no client"))?;
    let mut figures = BTreeMap::new();

    // Raw batched diesel insert of the same kind of rows, 500 per transaction.
    let rows = rows_for(&unit, &area, 10_000, 0, now)?;
    let started = Instant::now();
    db.run(move |conn| {
        use diesel::Connection;
        for chunk in rows.chunks(500) {
            conn.transaction(|conn| insert_rows(conn, chunk))?;
        }
        Ok(())
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let raw = 10_000.0 / started.elapsed().as_secs_f64();
    figures.insert("raw_rows_per_s".into(), raw.round());
    db.run(|conn| {
        use diesel::prelude::*;
        diesel::delete(anju_server::sync::schema::sync_records::table).execute(conn)?;
        Ok(())
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;

    // Push 10,000 new records in batches of 500.
    let mut ids = Vec::new();
    let mut batches = Vec::new();
    for chunk in 0..20 {
        let mut batch = Vec::new();
        for k in 0..500 {
            let id = Uuid::now_v7();
            ids.push(id);
            batch.push(a.mutation(id, None, hazard_fields(&unit, &area, chunk * 500 + k)));
        }
        batches.push(batch);
    }
    let started = Instant::now();
    for batch in &batches {
        a.push(batch).await?;
    }
    let push = 10_000.0 / started.elapsed().as_secs_f64();
    figures.insert("push_per_s".into(), push.round());
    figures.insert("push_ratio".into(), push / raw);

    // 1,000 edits from B against what it pulled; A changed the severity of 100 of them first.
    let (_, _) = b.pull_all().await?;
    let versions: BTreeMap<Uuid, i64> = {
        let mut v = BTreeMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = b.pull(cursor.as_deref(), 1000).await?;
            for c in &page.changes {
                if let anju_shared::protocol::Change::Upsert { id, version, .. } = c {
                    v.insert(*id, *version);
                }
            }
            cursor = Some(page.next_cursor);
            if !page.has_more {
                break;
            }
        }
        v
    };
    let targets: Vec<Uuid> = ids.iter().take(1000).copied().collect();
    let a_edits: Vec<Mutation> = targets
        .iter()
        .take(100)
        .map(|id| a.mutation(*id, versions.get(id).copied(), json!({"severity": "high"})))
        .collect();
    a.push(&a_edits).await?;
    let b_edits: Vec<Mutation> = targets
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let fields = if i < 100 {
                json!({"severity": "critical"})
            } else {
                json!({"location": format!("复核位置 {i}")})
            };
            b.mutation(*id, versions.get(id).copied(), fields)
        })
        .collect();
    let started = Instant::now();
    let mut conflicts = 0;
    for batch in b_edits.chunks(500) {
        let r = b.push(batch).await?;
        conflicts += r
            .results
            .iter()
            .filter(|r| {
                matches!(
                    r.outcome,
                    anju_shared::protocol::MutationOutcome::Conflict { .. }
                )
            })
            .count();
    }
    figures.insert(
        "edits_per_s".into(),
        (1000.0 / started.elapsed().as_secs_f64()).round(),
    );
    figures.insert("conflicts".into(), conflicts as f64);

    // Fill up to 100,000 records (seeded directly, with proper change numbers), then an empty
    // device pulls everything.
    let (u2, a2) = (unit.clone(), area.clone());
    db.run(move |conn| {
        use diesel::Connection;
        for part in 0..18 {
            let mut chunk = rows_for(&u2, &a2, 5000, 10_000 + part * 5000, now)
                .map_err(anju_server::error::ApiError::internal)?;
            conn.transaction(|conn| {
                let (seq, _) = lock_counter(conn)?;
                for (i, r) in chunk.iter_mut().enumerate() {
                    let s = seq + 1 + i64::try_from(i).unwrap_or(0);
                    r.change_seq = s;
                    r.version = s;
                }
                insert_rows(conn, &chunk)?;
                store_counter(conn, seq + i64::try_from(chunk.len()).unwrap_or(0))
            })?;
        }
        Ok(())
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let fresh = Client {
        http: http.clone(),
        base: base.clone(),
        token: a.token.clone(),
        device: a.device.clone(),
        seq: 0,
        clock: HlcClock::new("x", DEFAULT_MAX_DRIFT_MS),
    };
    let started = Instant::now();
    let (n, cursor) = fresh.pull_all().await?;
    figures.insert("initial_pull_s".into(), started.elapsed().as_secs_f64());
    figures.insert("initial_pull_records".into(), n as f64);

    // Incremental pulls with nothing new.
    let mut times = Vec::new();
    for _ in 0..300 {
        let started = Instant::now();
        let page = fresh.pull(Some(&cursor), 500).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(page.changes.is_empty(), "expected nothing new");
    }
    times.sort_by(f64::total_cmp);
    figures.insert("empty_pull_p50_ms".into(), times[times.len() / 2]);
    figures.insert("empty_pull_p99_ms".into(), times[times.len() * 99 / 100]);
    figures.insert("vmhwm_mb".into(), vmhwm_mb());
    running.stop().await;
    Ok(figures)
}

/// `n` hazard rows made by the real merge, ids fresh, numbered from `from + 1`.
fn rows_for(
    unit: &str,
    area: &str,
    n: usize,
    from: usize,
    now: i64,
) -> anyhow::Result<Vec<RecordRow>> {
    merged_rows(
        &HAZARD,
        |i| hazard_fields(unit, area, from + i),
        |i| i64::try_from(from + i + 1).unwrap_or(i64::MAX),
        n,
        now,
    )
}
