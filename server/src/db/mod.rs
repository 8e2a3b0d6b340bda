//! The database: one connection type over SQLite and PostgreSQL, a pool, embedded migrations,
//! and [`Db::run`] which keeps every diesel call off the async threads.

use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;

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
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
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
        Ok(Db { pool, postgres })
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

    /// Pool figures for `/metrics`: (connections open, idle, max size).
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections, self.pool.max_size())
    }
}
pub mod schema;

/// A transaction that will write. On SQLite, writers of this process queue on one lock first
/// (SQLite allows one writer at a time; queueing here avoids its busy-wait sleeps), and the
/// first statement takes the database's write lock, so a read is never upgraded to a write
/// (which SQLite would refuse under concurrency). PostgreSQL needs neither.
pub fn write_tx<T, F>(conn: &mut DbConnection, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
{
    static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = match conn {
        DbConnection::Sqlite(_) => Some(SQLITE_WRITER.lock().unwrap_or_else(|p| p.into_inner())),
        DbConnection::Pg(_) => None,
    };
    diesel::Connection::transaction::<_, ApiError, _>(conn, |conn| {
        if let DbConnection::Sqlite(c) = conn {
            // Matches no row; a write statement all the same, so it takes the write lock now.
            diesel::sql_query("UPDATE counters SET value = value WHERE name = ''").execute(c)?;
        }
        f(conn)
    })
}
