//! Putting the server together: open and migrate the database, prepare secrets and first-start
//! data, mount every capability, and run the HTTP server and background workers.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::middleware::{Compress, DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::Role;
use crate::auth::token::JwtKeys;
use crate::clock::TimeSource;
use crate::config::{Config, SampleMode};
use crate::db::Db;
use crate::error::ApiError;
use crate::http::{self, metrics::Metrics};
use crate::state::AppState;

/// What the first start did, for the operator to see once.
#[derive(Debug, Default)]
pub struct Bootstrap {
    /// Migrations applied now.
    pub migrations_applied: usize,
    /// Whether the sample city was loaded now.
    pub sample_loaded: bool,
    /// The generated password of the new `admin` account (printed once, never logged).
    pub generated_admin_password: Option<String>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    /// First-start work failed.
    #[error("start-up: {0}")]
    Setup(String),
    /// The address could not be bound.
    #[error("ANJU_ADDR: cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
}

impl From<ApiError> for StartError {
    fn from(e: ApiError) -> StartError {
        StartError::Setup(e.to_string())
    }
}

/// The sample programme on an empty programme: the registers' projects and buildings first,
/// then what is built on them (the annual plans, the funds ledger, the hand-overs). Here, above
/// the capabilities, so that registers need not know what builds on them.
fn load_sample_programme(
    conn: &mut crate::db::DbConnection,
    tz: &jiff::tz::TimeZone,
    now_ms: i64,
) -> Result<(), ApiError> {
    if !crate::registers::sample::load_if_empty(conn, tz, now_ms)? {
        return Ok(());
    }
    let today = tz.to_datetime(crate::clock::from_ms(now_ms)).date();
    let org = crate::registers::query::Org::load(conn)?;
    crate::plans::store::load_sample(conn, &org, i32::from(today.year()), now_ms)?;
    crate::funds::sample::load_if_empty(conn, today, now_ms)?;
    crate::upkeep::sample::load(
        conn,
        tz,
        now_ms,
        &crate::sync::ticket_record::SyncedCopies,
        &crate::stats::aggregate::DailyAggregates,
    )?;
    Ok(())
}

/// Opens and migrates the database, loads or creates the signing secret, the sample city (on an
/// empty database, unless `ANJU_SAMPLE=none`) and the first `admin` account.
pub async fn prepare(
    config: Config,
    clock: TimeSource,
) -> Result<(AppState, Bootstrap), StartError> {
    let config = Arc::new(config);
    let (db, bootstrap, secret) = tokio::task::spawn_blocking({
        let config = config.clone();
        let clock = clock.clone();
        move || -> Result<_, StartError> {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                StartError::Setup(format!(
                    "ANJU_DATA_DIR: cannot create {}: {e}",
                    config.data_dir.display()
                ))
            })?;
            let db = Db::connect(&config.database_url, config.db_pool_size)?;
            let mut bootstrap = Bootstrap {
                migrations_applied: db.migrate()?,
                ..Bootstrap::default()
            };
            let mut conn = db.get()?;
            let secret = crate::auth::signing_secret(&mut conn, config.jwt_secret.as_deref())?;
            if config.sample == SampleMode::City {
                bootstrap.sample_loaded =
                    crate::org::store::load_sample_if_empty(&mut conn, clock.now_ms())?;
                if config.sample_programme {
                    load_sample_programme(&mut conn, &config.timezone, clock.now_ms())?;
                }
            }
            // After the upgrade that adds the per-day aggregates: computed once from the events.
            crate::stats::aggregate::backfill_if_pending(&db, &mut conn, &config.timezone)?;
            if !crate::users::any_admin(&mut conn)? {
                let (password, generated) = match &config.admin_password {
                    Some(p) => (p.clone(), false),
                    None => (crate::auth::password::generate(), true),
                };
                let hash = crate::auth::password::hash(&password)
                    .map_err(|e| StartError::Setup(e.to_string()))?;
                let made = crate::users::insert(
                    &mut conn,
                    "admin",
                    "Administrator",
                    Role::Admin,
                    None,
                    Some(&hash),
                    clock.now_ms(),
                );
                // Another process may have created it at the same moment; theirs stands.
                if made.is_ok() && generated {
                    bootstrap.generated_admin_password = Some(password);
                }
            }
            Ok((db, bootstrap, secret))
        }
    })
    .await
    .map_err(|e| StartError::Setup(format!("start-up task: {e}")))??;

    let hashing_threads =
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1));
    // Device ticket actions reach the same state machine as the console.
    let catalog = Arc::new(crate::org::catalog::CatalogCache::default());
    // A ticket change rewrites the ticket's copy on the devices through sync.
    let ticket_copies: Arc<dyn crate::tickets::copies::TicketCopies> =
        Arc::new(crate::sync::ticket_record::SyncedCopies);
    // And adds to the per-day aggregates through stats.
    let ticket_aggregates: Arc<dyn crate::tickets::aggregates::TicketAggregates> =
        Arc::new(crate::stats::aggregate::DailyAggregates);
    let tickets = crate::tickets::device::DeviceActions::new(
        config.clone(),
        clock.clone(),
        catalog.clone(),
        ticket_copies.clone(),
        ticket_aggregates.clone(),
    );
    let hash_queue = config.hash_queue as usize;
    let state = AppState {
        db,
        config,
        clock,
        keys: Arc::new(JwtKeys::new(secret.as_bytes())),
        metrics: Arc::new(Metrics::default()),
        hasher: Arc::new(crate::auth::password::Hasher::new(
            hashing_threads,
            hash_queue,
        )),
        limiter: Arc::default(),
        // Sync's writes and pulls apply the rules of the capabilities built on it.
        sync: Arc::new(crate::sync::SyncState::new(
            Arc::new(tickets),
            Arc::new(crate::sync::hooks::AllOf(vec![
                Arc::new(crate::registers::columns::RegisterRecords),
                Arc::new(crate::funds::record::ProjectChanges),
            ])),
            Arc::new(crate::funds::record::FundSummaries),
        )),
        catalog,
        intake_writers: Arc::default(),
        ticket_copies,
        ticket_aggregates,
    };
    Ok((state, bootstrap))
}

/// Mounts every capability's routes. The one place a new capability is added.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(http::healthz))
        .route("/readyz", web::get().to(http::readyz))
        .route("/metrics", web::get().to(http::metrics));
    crate::auth::configure(cfg);
    crate::users::handlers::configure(cfg);
    crate::org::configure(cfg);
    crate::complaints::configure(cfg);
    crate::tickets::configure(cfg);
    crate::stats::configure(cfg);
    crate::notify::configure(cfg);
    crate::clocks::configure(cfg);
    crate::open311::configure(cfg);
    crate::org::routing_rules::configure(cfg);
    crate::devices::configure(cfg);
    crate::sync::configure(cfg);
    crate::registers::configure(cfg);
    crate::plans::configure(cfg);
    crate::funds::configure(cfg);
    crate::upkeep::configure(cfg);
    crate::bulletins::configure(cfg);
    crate::map::configure(cfg);
    crate::checklists::configure(cfg);
    crate::attachments::configure(cfg);
    crate::web::configure(cfg);
}

/// Starts the background workers of every capability (when enabled in this process).
fn spawn_background(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    if !state.config.background_jobs {
        return Vec::new();
    }
    vec![
        tokio::spawn(crate::sync::retention_worker(state.sync_context())),
        tokio::spawn(crate::funds::record::worker(
            state.clone(),
            std::time::Duration::from_secs(60),
        )),
        tokio::spawn(crate::clocks::worker(
            state.clone(),
            std::time::Duration::from_secs(30),
        )),
        tokio::spawn(crate::attachments::uploads::cleanup_worker(
            state.clone(),
            std::time::Duration::from_secs(60),
        )),
        tokio::spawn(crate::notify::outbox::worker(
            state.db.clone(),
            state.clock.clone(),
            state.config.webhook_allow.clone(),
            std::time::Duration::from_secs(2),
        )),
    ]
}

/// A running server.
pub struct Running {
    /// The bound address (useful with port 0).
    pub addr: SocketAddr,
    /// The shared state (tests use its clock and database).
    pub state: AppState,
    handle: ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    jobs: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, finishes requests in flight, stops the workers and the intake writer
    /// threads.
    pub async fn stop(self) {
        self.halt(true).await;
    }

    /// Stops at once: connections and requests in flight are dropped; then as [`Running::stop`].
    /// For tests and tools that end an app they own.
    pub async fn abort(self) {
        self.halt(false).await;
    }

    async fn halt(self, graceful: bool) {
        for job in &self.jobs {
            job.abort();
        }
        self.handle.stop(graceful).await;
        let _ = self.server.await;
        stop_writers(&self.state).await;
    }

    /// Waits until the server stops (on Ctrl-C / SIGTERM).
    pub async fn wait(self) -> std::io::Result<()> {
        let result = match self.server.await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        };
        for job in &self.jobs {
            job.abort();
        }
        stop_writers(&self.state).await;
        result
    }
}

/// Stops the app's writer threads off the async threads (they finish what is queued first).
async fn stop_writers(state: &AppState) {
    let writers = state.intake_writers.clone();
    let _ = tokio::task::spawn_blocking(move || writers.stop()).await;
}

/// Binds the listen address and starts serving `state`.
pub fn start(state: AppState) -> Result<Running, StartError> {
    let addr = state.config.addr;
    let listener = TcpListener::bind(addr).map_err(|e| StartError::Bind(addr, e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| StartError::Bind(addr, e))?;
    let data = web::Data::new(state.clone());
    let codes: Arc<dyn crate::web::TrackingCodes> =
        Arc::new(crate::complaints::track::KnownCodes(state.db.clone()));
    let codes = web::Data::new(codes);
    // Who may see a stored photo: sync's rule, which attachments serves by.
    let photo_access: Arc<dyn crate::attachments::access::PhotoAccess> =
        Arc::new(crate::sync::photos::RecordPhotos);
    let photo_access = web::Data::new(photo_access);
    // Which rules a hand-over made: upkeep's knowledge, which org's dry run names.
    let rule_origins: Arc<dyn crate::org::routing_rules::RuleOrigins> =
        Arc::new(crate::upkeep::HandoverRules);
    let rule_origins = web::Data::new(rule_origins);
    let sync = web::Data::from(state.sync.clone());
    let sync_context = web::Data::new(state.sync_context());
    let docs = crate::openapi::document();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(codes.clone())
            .app_data(sync.clone())
            .app_data(photo_access.clone())
            .app_data(rule_origins.clone())
            .app_data(sync_context.clone())
            .app_data(http::json_config(http::JSON_LIMIT))
            .app_data(http::query_config())
            .app_data(http::path_config())
            .app_data(http::payload_config(http::JSON_LIMIT))
            .wrap(Compress::default())
            .wrap(DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff")))
            .wrap(from_fn(http::observe))
            .configure(routes)
            .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", docs.clone()))
            .default_service(web::to(http::fallback))
    })
    .workers(state.config.workers)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)
    .map_err(|e| StartError::Bind(addr, e))?
    .run();
    let handle = server.handle();
    let jobs = spawn_background(&state);
    let server = tokio::spawn(server);
    Ok(Running {
        addr: bound,
        state,
        handle,
        server,
        jobs,
    })
}
