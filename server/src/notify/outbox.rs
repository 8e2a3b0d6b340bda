//! The transactional outbox (发件箱): messages are written in the same transaction as the event
//! that causes them, and a worker delivers them with exponential backoff. After
//! [`MAX_ATTEMPTS`] failures a message is `dead` (死信); an admin lists and retries those.
//!
//! Delivery is at least once: a worker leases a batch (`locked_until`), sends, and records the
//! result. Two workers never hold the same lease (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite
//! writes are serial). A worker that dies mid-send leaves the lease to expire and the message
//! is sent again; receivers deduplicate on `X-Anju-Delivery` / the message id.

use std::time::Duration;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::{Db, DbConnection};
use crate::error::ApiError;
use crate::notify::schema::outbox;

use crate::config::WebhookAllowList;

use super::delivery::Deliverer;
use super::format::{Message, backoff_ms};

/// Failures before a message becomes dead.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a worker's lease on a message lasts.
pub const LEASE_MS: i64 = 60_000;
/// Messages leased per round.
pub const BATCH: i64 = 20;

/// Queue `message` for each of `targets` (`(kind, url, secret_env)`) of `unit_id`.
pub fn enqueue_to(
    conn: &mut DbConnection,
    unit_id: &str,
    targets: &[(String, String, Option<String>)],
    ticket_id: Option<&str>,
    message: &Message,
    now: i64,
) -> Result<usize, ApiError> {
    if targets.is_empty() {
        return Ok(0);
    }
    let payload = serde_json::to_string(message)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("outbox payload: {e}")))?;
    for (kind, url, secret_env) in targets {
        diesel::insert_into(outbox::table)
            .values((
                outbox::id.eq(uuid::Uuid::now_v7().to_string()),
                outbox::created_at.eq(now),
                outbox::ticket_id.eq(ticket_id),
                outbox::unit_id.eq(unit_id),
                outbox::event_kind.eq(&message.event),
                outbox::target_kind.eq(kind),
                outbox::url.eq(url),
                outbox::secret_env.eq(secret_env),
                outbox::payload.eq(&payload),
                outbox::status.eq("pending"),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now),
                outbox::locked_until.eq(0i64),
            ))
            .execute(conn)?;
    }
    Ok(targets.len())
}

/// A message as the admin list shows it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    /// Id (also the delivery id the receiver sees).
    pub id: String,
    /// Queued at (ms).
    pub created_at: i64,
    /// Ticket concerned.
    pub ticket_id: Option<String>,
    /// Unit whose target it is.
    pub unit_id: Option<String>,
    /// Event kind.
    pub event_kind: String,
    /// `webhook`, `wecom` or `dingtalk`.
    pub target_kind: String,
    /// Target URL.
    #[serde(skip)]
    pub url: String,
    /// Env var with the secret.
    #[serde(skip)]
    pub secret_env: Option<String>,
    /// The message JSON.
    #[serde(skip)]
    pub payload: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// Next attempt (ms).
    pub next_attempt_at: i64,
    /// Lease end (ms).
    #[serde(skip)]
    pub locked_until: i64,
    /// Last failure.
    pub last_error: Option<String>,
    /// Delivered at (ms).
    pub delivered_at: Option<i64>,
}

/// Whether a message is due at `now`: one read of the `outbox_due` index, no write.
pub fn any_due(conn: &mut DbConnection, now: i64) -> Result<bool, ApiError> {
    let first: Option<String> = outbox::table
        .filter(outbox::status.eq("pending"))
        .filter(outbox::next_attempt_at.le(now))
        .filter(outbox::locked_until.le(now))
        .order(outbox::next_attempt_at)
        .select(outbox::id)
        .first(conn)
        .optional()?;
    Ok(first.is_some())
}

/// Lease up to [`BATCH`] due messages for this worker: one read of the `outbox_due` index
/// (status, next_attempt_at) bounded by [`BATCH`], in one short background write transaction
/// that yields the SQLite write turn to waiting requests. With nothing due, that one read
/// ([`any_due`]) and no write transaction.
pub fn claim(db: &Db, conn: &mut DbConnection, now: i64) -> Result<Vec<OutboxRow>, ApiError> {
    if !any_due(conn, now)? {
        return Ok(Vec::new());
    }
    db.background_tx(conn, |conn| {
        macro_rules! due {
            () => {
                outbox::table
                    .filter(outbox::status.eq("pending"))
                    .filter(outbox::next_attempt_at.le(now))
                    .filter(outbox::locked_until.le(now))
                    .order(outbox::next_attempt_at)
                    .limit(BATCH)
                    .select(OutboxRow::as_select())
            };
        }
        let rows: Vec<OutboxRow> = match conn {
            DbConnection::Pg(pg) => due!().for_update().skip_locked().load(pg)?,
            DbConnection::Sqlite(c) => due!().load(c)?,
        };
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        if !ids.is_empty() {
            diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
                .set(outbox::locked_until.eq(now + LEASE_MS))
                .execute(conn)?;
        }
        Ok(rows)
    })
}

/// Record a successful delivery.
pub fn mark_delivered(conn: &mut DbConnection, id: &str, now: i64) -> Result<(), ApiError> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("delivered"),
            outbox::delivered_at.eq(now),
            outbox::locked_until.eq(0i64),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Record a failed attempt: retry later with backoff, or dead after [`MAX_ATTEMPTS`].
pub fn mark_failed(
    conn: &mut DbConnection,
    row: &OutboxRow,
    error: &str,
    now: i64,
) -> Result<(), ApiError> {
    let attempts = row.attempts + 1;
    let status = if attempts >= MAX_ATTEMPTS {
        "dead"
    } else {
        "pending"
    };
    let error: String = error.chars().take(500).collect();
    diesel::update(outbox::table.find(&row.id))
        .set((
            outbox::status.eq(status),
            outbox::attempts.eq(attempts),
            outbox::next_attempt_at.eq(now + backoff_ms(row.attempts)),
            outbox::locked_until.eq(0i64),
            outbox::last_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}

/// One worker round: lease, send, record. Returns how many were attempted.
pub async fn run_once(
    db: &Db,
    deliverer: &Deliverer,
    clock: &crate::clock::TimeSource,
) -> Result<usize, ApiError> {
    let now = clock.now_ms();
    let owner = db.clone();
    let rows = db.run(move |conn| claim(&owner, conn, now)).await?;
    let n = rows.len();
    for row in rows {
        let result = deliverer.send(&row, clock.now_ms()).await;
        let done = clock.now_ms();
        let owner = db.clone();
        db.run(move |conn| {
            owner.background_tx(conn, |conn| match result {
                Ok(()) => mark_delivered(conn, &row.id, done),
                Err(e) => {
                    tracing::warn!(outbox_id = %row.id, error = %e, "notification not delivered");
                    mark_failed(conn, &row, &e, done)
                }
            })
        })
        .await?;
    }
    Ok(n)
}

/// The delivery loop: a round every `interval` until the process ends. Targets that are not
/// public are refused unless `allow` names them.
pub async fn worker(
    db: Db,
    clock: crate::clock::TimeSource,
    allow: WebhookAllowList,
    interval: Duration,
) {
    let deliverer = match Deliverer::new(allow) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "outbox worker cannot build its HTTP client");
            return;
        }
    };
    loop {
        match run_once(&db, &deliverer, &clock).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox round failed"),
        }
        tokio::time::sleep(interval).await;
    }
}
