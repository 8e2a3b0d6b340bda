//! The end-to-end test harness: each [`TestApp`] is the real anju server, started in this
//! process on port 0 with a fresh database (a temporary SQLite file, or, when
//! `ANJU_TEST_DATABASE_URL` is set, a fresh schema in that PostgreSQL database), the sample
//! city loaded, and an `admin` account with a known password.

pub mod complaints;
pub mod conformance;
pub mod field;
pub mod sync;

use std::time::Duration;

use anju_server::auth::Role;
use anju_server::clock::TimeSource;
use anju_server::config::{Config, SampleMode};
use anju_server::startup::{self, Running};
use anju_server::state::AppState;
use serde_json::{Value, json};

/// The admin password every test app starts with.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
/// The password [`TestApp::create_user`] gives new accounts.
pub const USER_PASSWORD: &str = "user-password-for-tests";

/// Which backend the suite runs on: PostgreSQL when `ANJU_TEST_DATABASE_URL` is set.
pub fn postgres_url() -> Option<String> {
    std::env::var("ANJU_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// A fresh PostgreSQL schema for one test, dropped when the test app is dropped.
struct PgSchema {
    admin_url: String,
    name: String,
}

impl PgSchema {
    fn create(admin_url: &str) -> PgSchema {
        use diesel::{Connection, RunQueryDsl};
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::PgConnection::establish(admin_url).unwrap_or_else(|e| {
            panic!("ANJU_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
        });
        diesel::sql_query(format!("CREATE SCHEMA {name}"))
            .execute(&mut conn)
            .expect("create test schema");
        PgSchema {
            admin_url: admin_url.to_string(),
            name,
        }
    }

    fn url(&self) -> String {
        let sep = if self.admin_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{sep}options=-c%20search_path%3D{}",
            self.admin_url, self.name
        )
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        use diesel::{Connection, RunQueryDsl};
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
                .execute(&mut conn);
        }
    }
}

/// A running server with its own database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// An HTTP client (no cookies, no proxy).
    pub client: reqwest::Client,
    running: Option<Served>,
    config: Config,
    clock: TimeSource,
    conformance: conformance::Conformance,
    _dir: tempfile::TempDir,
    _schema: Option<PgSchema>,
}

/// What a JSON request answered.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The JSON body (Null when empty or not JSON).
    pub body: Value,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// The problem `code`, for error answers.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    /// A server with the sample city.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// A server whose configuration `adjust` may change first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_data_dir(dir.path());
        config.sample = SampleMode::City;
        config.admin_password = Some(ADMIN_PASSWORD.into());
        config.intake_per_minute = 10_000;
        config.track_per_minute = 10_000;
        let schema = postgres_url().map(|url| PgSchema::create(&url));
        if let Some(s) = &schema {
            config.database_url = s.url();
            config.db_pool_size = 4;
        }
        adjust(&mut config);
        let clock = TimeSource::default();
        if let Some(start_at) = start_at() {
            clock.advance_ms(start_at - clock.now_ms());
        }
        let running = start(config.clone(), clock.clone()).await;
        TestApp {
            base: format!("http://{}", running.addr),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            running: Some(running),
            config,
            clock,
            conformance: conformance::Conformance::new(),
            _dir: dir,
            _schema: schema,
        }
    }

    /// The server's shared state (database, clock, configuration).
    pub fn state(&self) -> &AppState {
        &self.running.as_ref().expect("running").state
    }

    /// The server's clock; advancing it moves every deadline check forward.
    pub fn clock(&self) -> &TimeSource {
        &self.clock
    }

    /// Makes the database look like one from before the per-day aggregates: their tables
    /// emptied and the backfill marker set, so the next start recomputes them from the events.
    pub fn forget_the_aggregates(&self) {
        use diesel::RunQueryDsl;
        let mut conn = self.state().db.get().expect("conn");
        for t in [
            "stats_unit_daily",
            "stats_unit_hours",
            "stats_public_daily",
            "stats_public_hours",
            "stats_board_daily",
        ] {
            diesel::sql_query(format!("DELETE FROM {t}"))
                .execute(&mut *conn)
                .expect("clear");
        }
        diesel::sql_query("INSERT INTO stats_backfill (id) VALUES (1)")
            .execute(&mut *conn)
            .expect("marker");
    }

    /// Stops the server and starts it again on the same database and port-0 address.
    pub async fn restart(&mut self) {
        self.stop().await;
        let running = start(self.config.clone(), self.clock.clone()).await;
        self.base = format!("http://{}", running.addr);
        self.running = Some(running);
    }

    /// Stops the server (the database stays until the app is dropped).
    pub async fn stop(&mut self) {
        if let Some(mut r) = self.running.take() {
            tokio::task::spawn_blocking(move || r.shut_down())
                .await
                .expect("server stops");
        }
    }

    /// An absolute URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut req = self.client.request(method.clone(), self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let body_sent = body;
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        self.conformance.assert(
            method.as_str(),
            path,
            body_sent,
            status,
            content_type,
            &body,
        );
        Answer {
            status,
            body,
            headers,
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// Logs in; the whole answer.
    pub async fn login_answer(&self, username: &str, password: &str) -> Answer {
        self.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": password}),
        )
        .await
    }

    /// Logs in and returns the access token; panics when refused.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let a = self.login_answer(username, password).await;
        assert_eq!(a.status, 200, "login of {username} failed: {:?}", a.body);
        a.body["access_token"].as_str().expect("token").to_string()
    }

    /// An administrator's access token.
    pub async fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates an account with [`USER_PASSWORD`] in the unit with `unit_code` and returns its
    /// id. Goes through the library, not HTTP, so tests of other features stay short.
    pub async fn create_user(&self, username: &str, role: Role, unit_code: Option<&str>) -> String {
        let username = username.to_string();
        let unit_code = unit_code.map(str::to_string);
        let now = self.clock.now_ms();
        let hash = anju_server::auth::password::hash(USER_PASSWORD).expect("hash");
        self.state()
            .db
            .run(move |conn| {
                let unit_id = match &unit_code {
                    Some(c) => Some(anju_server::users::unit_id_by_code(conn, c)?),
                    None => None,
                };
                anju_server::users::insert(
                    conn,
                    &username,
                    &username,
                    role,
                    unit_id.as_deref(),
                    Some(&hash),
                    now,
                )
            })
            .await
            .expect("create user")
    }

    /// Creates an account and logs it in; returns its access token.
    pub async fn user_token(&self, username: &str, role: Role, unit_code: Option<&str>) -> String {
        self.create_user(username, role, unit_code).await;
        self.login(username, USER_PASSWORD).await
    }

    /// The id of the unit with `code`.
    pub async fn unit_id(&self, code: &str) -> String {
        let code = code.to_string();
        self.state()
            .db
            .run(move |conn| anju_server::users::unit_id_by_code(conn, &code))
            .await
            .expect("unit exists")
    }
}

/// The instant a spawned server's clock starts at, when `ANJU_TEST_START_AT` (RFC 3339) is set;
/// `.ci/run` sets it to a day in another year, so that no test passes only on today's date.
fn start_at() -> Option<i64> {
    let value = std::env::var("ANJU_TEST_START_AT").ok()?;
    let at: jiff::Timestamp = value
        .parse()
        .unwrap_or_else(|e| panic!("ANJU_TEST_START_AT={value}: {e}"));
    Some(at.as_millisecond())
}

/// A server on a thread and runtime of its own, so that dropping it (a test that ends, or
/// panics) stops it for real: its HTTP workers, background jobs and writer threads end and
/// release their database connections. (Left to the test's runtime, actix's worker threads
/// outlive it, each holding the app's pool: one test binary then runs PostgreSQL out of
/// connections.)
struct Served {
    addr: std::net::SocketAddr,
    state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    /// Stops the server and waits until it has (blocking; the server runs on its own thread).
    fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shut_down();
    }
}

async fn start(config: Config, clock: TimeSource) -> Served {
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            let (state, _) = startup::prepare(config, clock)
                .await
                .expect("server prepares");
            let running: Running = startup::start(state).expect("server starts");
            let _ = ready_tx.send((running.addr, running.state.clone()));
            let _ = stop_rx.await;
            running.abort().await;
        });
    });
    let (addr, state) = ready_rx.await.expect("the server started");
    Served {
        addr,
        state,
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}
