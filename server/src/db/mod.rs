//! The database: one connection type over SQLite and PostgreSQL, a pool, embedded migrations,
//! and [`Db::run`] which keeps every diesel call off the async threads.

use std::sync::Arc;
use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;

pub mod writer;

pub use writer::{Priority, WriterQueue, WriterTurn};

/// How long a request waits for the SQLite write turn before it answers 503.
pub const REQUEST_WRITE_WAIT: Duration = Duration::from_secs(3);

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// A connection to either backend. Portable queries use the diesel DSL on this type; where the
/// SQL must differ, match on the variant in one place.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL, for production and scale-out.
    Pg(PgConnection),
    /// Embedded SQLite, the default.
    Sqlite(SqliteConnection),
}

impl DbConnection {
    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, DbConnection::Pg(_))
    }
}

/// The pool type.
pub type DbPool = Pool<ConnectionManager<DbConnection>>;
/// A connection checked out of the pool.
pub type PooledConn = PooledConnection<ConnectionManager<DbConnection>>;

/// The database handle shared by handlers and workers; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    postgres: bool,
    writer: Arc<WriterQueue>,
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA busy_timeout = 2000; PRAGMA journal_mode = WAL; \
                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The pool could not make its first connection.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(String),
}

impl Db {
    /// Opens a pool on `url` (`sqlite://PATH`, a plain path, or `postgres://…`). For SQLite the
    /// parent directory is created. Does not migrate; call [`Db::migrate`].
    pub fn connect(url: &str, pool_size: u32) -> Result<Db, DbError> {
        let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let conn_url = if postgres {
            url.to_string()
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            if let Some(parent) = std::path::Path::new(path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)
                    .map_err(|e| DbError::Connect(format!("{}: {e}", parent.display())))?;
            }
            // diesel's MultiConnection picks the backend by trying each; give SQLite a URL that
            // PostgreSQL cannot take for its own.
            format!("file:{path}")
        };
        let manager = ConnectionManager::<DbConnection>::new(conn_url);
        let pool = Pool::builder()
            .max_size(pool_size)
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(manager)
            .map_err(|e| DbError::Connect(e.to_string()))?;
        Ok(Db {
            pool,
            postgres,
            writer: WriterQueue::new(REQUEST_WRITE_WAIT),
        })
    }

    /// Applies the embedded migrations that are not applied yet.
    pub fn migrate(&self) -> Result<usize, DbError> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| DbError::Connect(e.to_string()))?;
        let applied = match &mut *conn {
            DbConnection::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        }
        .map_err(|e| DbError::Migrate(e.to_string()))?;
        Ok(applied.len())
    }

    /// Whether the backend is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    /// A connection for synchronous code (CLI commands, workers already on a blocking thread).
    pub fn get(&self) -> Result<PooledConn, ApiError> {
        self.pool
            .get()
            .map_err(|e| ApiError::unavailable(format!("database pool: {e}")))
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, so no diesel call ever
    /// blocks an async worker.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| ApiError::unavailable(format!("database pool: {e}")))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("database task failed: {e}")))?
    }

    /// The writer queue of this database (SQLite only takes turns; PostgreSQL has row locks).
    pub fn writer(&self) -> &Arc<WriterQueue> {
        &self.writer
    }

    /// Replaces the writer queue's request wait (tests and benchmarks; call before serving).
    pub fn with_request_wait(mut self, wait: Duration) -> Db {
        self.writer = WriterQueue::new(wait);
        self
    }

    /// A write transaction for a request: on SQLite it first takes the write turn (503 with
    /// `Retry-After` when the turn does not come in time), then takes SQLite's write lock with its
    /// first statement, so a read is never upgraded to a write. PostgreSQL needs neither.
    pub fn write_tx<T, F>(&self, conn: &mut DbConnection, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
    {
        self.tx_with(Priority::Request, conn, f)
    }

    /// A write transaction for one batch of background work: on SQLite it waits until no request
    /// waits for the write turn, so background work never delays a request by more than a batch.
    pub fn background_tx<T, F>(&self, conn: &mut DbConnection, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
    {
        self.tx_with(Priority::Background, conn, f)
    }

    fn tx_with<T, F>(
        &self,
        priority: Priority,
        conn: &mut DbConnection,
        f: F,
    ) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
    {
        let _turn = match conn {
            DbConnection::Sqlite(_) => Some(self.writer.turn(priority)?),
            DbConnection::Pg(_) => None,
        };
        conn.transaction::<_, ApiError, _>(|conn| {
            if let DbConnection::Sqlite(c) = conn {
                // Matches no row; a write statement all the same, so it takes the lock now.
                diesel::sql_query("UPDATE counters SET value = value WHERE name = ''")
                    .execute(c)?;
            }
            f(conn)
        })
    }

    /// [`Db::run`] with the whole closure in one request write transaction ([`Db::write_tx`]).
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let db = self.clone();
        self.run(move |conn| db.write_tx(conn, f)).await
    }

    /// Pool figures for `/metrics`: (connections open, idle, max size).
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections, self.pool.max_size())
    }
}
pub mod schema;
