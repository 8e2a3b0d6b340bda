//! Conflict-aware offline sync for field devices (离线同步): push of device mutations with
//! per-field three-way merge, pull of changes by scope with a cursor that can never skip a
//! change, conflict review, rejected mutations kept for review, and the public progress of
//! renovation projects (信息公开). See `docs/sync.md` for the protocol, storage and the no-skip
//! mechanism; `docs/api-sync.md` for the HTTP contract.

pub mod answers;
pub mod bodies;
pub mod cursor;
pub mod directory;
pub mod handlers;
pub mod hazard_action;
pub mod hazard_proof;
pub mod hooks;
pub mod photos;
pub mod public;
pub mod pull;
pub mod push;
pub mod replay;
pub mod resolve;
pub mod retention;
pub mod schema;
pub mod store;
pub mod ticket_record;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::web;
use anju_shared::hlc::{DEFAULT_MAX_DRIFT_MS, HlcClock};
use diesel::prelude::*;
use uuid::Uuid;

use crate::clock::TimeSource;
use crate::config::Config;
use crate::db::{Db, DbConnection};
use crate::tickets::device_api::{TicketActions, TicketsUnavailable};
use cursor::CursorKey;

/// What sync keeps per server process: the hybrid clock that stamps server-side changes and
/// observes device stamps, and the ticket state machine that device ticket actions reach.
pub struct SyncState {
    /// This process's hybrid logical clock (node `server-<random>`).
    pub clock: Mutex<HlcClock>,
    /// Where `ticket_action` records go; [`TicketsUnavailable`] until tickets are wired in.
    pub tickets: Arc<dyn TicketActions>,
    /// The pull cursor signing key, read from the database on first use.
    cursor_key: OnceLock<CursorKey>,
    /// Scope fingerprints this process already stored in `sync_scopes`.
    pub known_scopes: Mutex<HashSet<String>>,
    /// The rules of the capabilities above sync on every record a push or a conflict review
    /// writes (register columns, hazard clocks); [`hooks::NoHooks`] until they are wired in.
    pub records: Arc<dyn hooks::RecordHooks>,
    /// What a pull withholds (fund summaries); [`hooks::NoHooks`] until it is wired in.
    pub pull_filter: Arc<dyn hooks::PullFilter>,
}

impl Default for SyncState {
    fn default() -> Self {
        SyncState {
            clock: Mutex::new(HlcClock::new(
                format!("server-{}", Uuid::new_v4().simple()),
                DEFAULT_MAX_DRIFT_MS,
            )),
            tickets: Arc::new(TicketsUnavailable),
            cursor_key: OnceLock::new(),
            known_scopes: Mutex::new(HashSet::new()),
            records: Arc::new(hooks::NoHooks),
            pull_filter: Arc::new(hooks::NoHooks),
        }
    }
}

impl SyncState {
    /// The key that signs pull cursors: the one in the database, loaded (or created) once.
    pub fn cursor_key(&self, conn: &mut DbConnection) -> QueryResult<&CursorKey> {
        if let Some(k) = self.cursor_key.get() {
            return Ok(k);
        }
        let k = CursorKey::load_or_create(conn)?;
        Ok(self.cursor_key.get_or_init(|| k))
    }

    /// Sync state whose ticket actions go to `tickets`, whose record writes apply `records`
    /// and whose pulls withhold what `pull_filter` says (`startup` wires the capabilities).
    pub fn new(
        tickets: Arc<dyn TicketActions>,
        records: Arc<dyn hooks::RecordHooks>,
        pull_filter: Arc<dyn hooks::PullFilter>,
    ) -> SyncState {
        SyncState {
            tickets,
            records,
            pull_filter,
            ..SyncState::default()
        }
    }
}

/// What sync's handlers and its worker use of the running app: the database, the validated
/// configuration, the clock every stored instant comes from, and sync's own per-app state.
/// `startup` registers it as `web::Data<SyncContext>` (built by `AppState::sync_context`), so
/// sync never reads the app's state above it.
#[derive(Clone)]
pub struct SyncContext {
    /// The database.
    pub db: Db,
    /// The validated configuration (time zone, proof distance limit).
    pub config: Arc<Config>,
    /// The clock every stored instant comes from.
    pub clock: TimeSource,
    /// Sync's per-app state (the same `Arc` as `AppState::sync`).
    pub sync: Arc<SyncState>,
}

/// How long tombstones and scope exits are kept (90 days): a device offline longer than that
/// downloads its scope again (one 410 `reset_required`).
pub const RETENTION_MS: i64 = 90 * 86_400_000;

/// Background job: every six hours, prunes tombstones and scope exits older than
/// [`RETENTION_MS`] (`store::prune`, safe to run in several processes at once).
pub async fn retention_worker(state: SyncContext) {
    loop {
        let cutoff = state.clock.now_ms() - RETENTION_MS;
        if let Err(e) = retention::prune_pass(&state.db, cutoff).await {
            tracing::warn!(error = %e, "sync retention failed; retrying later");
        }
        // Closed tickets leave devices after 30 days; tickets without a synced copy get one.
        // Batch after batch (each bounded, at background priority) until nothing is due.
        loop {
            let now = state.clock.now_ms();
            let db = state.db.clone();
            let wrote = state
                .db
                .run(move |conn| {
                    if !ticket_record::catch_up_due(conn, now)? {
                        return Ok(ticket_record::CatchUp::default());
                    }
                    db.background_tx(conn, |conn| ticket_record::catch_up(conn, now, 200))
                })
                .await;
            match wrote {
                Ok(c) if c.more => tokio::task::yield_now().await,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "ticket copies catch-up failed; retrying later");
                    break;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(6 * 3600)).await;
    }
}

/// Mounts the sync endpoints and the public project progress.
pub fn configure(cfg: &mut web::ServiceConfig) {
    handlers::configure(cfg);
    cfg.route("/api/v1/directory", web::get().to(directory::directory));
    cfg.route(
        "/api/v1/public/projects",
        web::get().to(public::list_projects),
    );
}

/// Whether `role` may overrule the server-authoritative fields of records (责任单位, 整改期限)
/// and move a monotonic status: supervisors (督办) and administrators only. Everyone else's
/// device is refused such a change, and only these roles resolve conflicts of such fields.
pub fn may_overrule(role: crate::auth::Role) -> bool {
    use crate::auth::Role;
    matches!(role, Role::Admin | Role::Supervisor)
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    public::list_projects,
    handlers::push_handler,
    handlers::pull_handler,
    handlers::schemas,
    handlers::list_conflicts,
    handlers::get_conflict,
    handlers::resolve_conflict,
    handlers::list_rejections,
    directory::directory
))]
pub struct ApiDoc;
