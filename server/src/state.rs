//! What every handler and worker shares: the database, configuration, clock, signing keys,
//! metrics, and the app's in-memory parts (caches, limiter, writer threads). Everything here
//! belongs to one running app and stops with it; nothing is state that another server process
//! would need: that lives in the database.

use std::sync::Arc;

use crate::auth::token::JwtKeys;
use crate::clock::TimeSource;
use crate::config::Config;
use crate::db::Db;
use crate::http::metrics::Metrics;

/// Shared application state, handed to handlers as `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The clock every stored instant comes from.
    pub clock: TimeSource,
    /// Access-token signing and checking.
    pub keys: Arc<JwtKeys>,
    /// Request metrics.
    pub metrics: Arc<Metrics>,
    /// The password-hashing threads (bounded, so argon2 cannot starve request handling).
    pub hasher: Arc<crate::auth::password::Hasher>,
    /// The per-client limits of the public endpoints (intake, uploads, tracking look-ups).
    pub limiter: Arc<crate::http::ratelimit::IntakeLimiter>,
    /// Sync's per-app state: its hybrid clock, the ticket actions boundary, the known scopes.
    pub sync: Arc<crate::sync::SyncState>,
    /// The cached org catalog (categories, areas, units, router), dropped on an org edit.
    pub catalog: Arc<crate::org::catalog::CatalogCache>,
    /// The intake writer threads (group commit), stopped with the app.
    pub intake_writers: Arc<crate::complaints::intake::group_commit::IntakeWriters>,
    /// Where a ticket change rewrites the ticket's synced copy (sync's `SyncedCopies`).
    pub ticket_copies: Arc<dyn crate::tickets::copies::TicketCopies>,
    /// Where a ticket change adds to the per-day aggregates (stats' `DailyAggregates`).
    pub ticket_aggregates: Arc<dyn crate::tickets::aggregates::TicketAggregates>,
}

impl AppState {
    /// The parts of the app that sync's handlers and worker use (the same database, config,
    /// clock and sync state, shared, not copied).
    pub fn sync_context(&self) -> crate::sync::SyncContext {
        crate::sync::SyncContext {
            db: self.db.clone(),
            config: self.config.clone(),
            clock: self.clock.clone(),
            sync: self.sync.clone(),
        }
    }
}
