//! Group commit: writer threads per app (one for SQLite, which has one writer at a time
//! anyway; four for PostgreSQL) take the submissions waiting in the queue, file them in one
//! transaction, commit once, and only then answer each. On SQLite each submission has its own
//! savepoint, so a failed one rolls back alone. On PostgreSQL a failure rolls the batch back
//! and each of its submissions is then filed in a transaction of its own. A failed commit
//! answers every submission of the batch with the error: nothing is acknowledged that is not
//! committed.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use diesel::Connection;

use serde_json::Value;

use super::Job;
use super::filing::{file_in_tx, file_now, settle, ticket_seqs};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tickets::transition::Deferred;

/// A submission waiting in the queue and where its answer goes.
struct Queued {
    job: Job,
    reply: tokio::sync::oneshot::Sender<Result<Value, ApiError>>,
}

/// The receiving end of the queue, shared by the writers.
type Queue = Arc<Mutex<mpsc::Receiver<Queued>>>;

/// Most submissions in one transaction on SQLite (one writer: the bigger the batch, the
/// fewer commits).
const MAX_BATCH_SQLITE: usize = 256;

/// Most submissions in one transaction on PostgreSQL. Four writers share the queue: a
/// writer that took every waiting submission (64 under 64 connections) kept the other three
/// idle and made the last of its batch wait for 63 filings, round trip by round trip; that
/// was the p99 over 50 ms (BENCHMARKS.md, issue 12).
const MAX_BATCH_POSTGRES: usize = 16;

/// The running writers: the queue's sending end and the threads.
struct Running {
    tx: mpsc::Sender<Queued>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// The intake writer threads of one app, started at its first submission and stopped
/// with the app ([`IntakeWriters::stop`]), so no thread outlives the server that started it.
#[derive(Default)]
pub struct IntakeWriters {
    running: Mutex<Option<Running>>,
}

impl IntakeWriters {
    fn sender(&self, st: &AppState) -> Result<mpsc::Sender<Queued>, ApiError> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = running.as_ref() {
            return Ok(r.tx.clone());
        }
        let (tx, rx) = mpsc::channel::<Queued>();
        let rx = Arc::new(Mutex::new(rx));
        let writers = if st.db.is_postgres() { 4 } else { 1 };
        let mut threads = Vec::with_capacity(writers);
        for _ in 0..writers {
            let state = st.clone();
            let rx = rx.clone();
            let thread = std::thread::Builder::new()
                .name("anju-intake-writer".into())
                .spawn(move || run(state, rx))
                .map_err(|e| ApiError::internal(anyhow::anyhow!("intake writer: {e}")))?;
            threads.push(thread);
        }
        *running = Some(Running {
            tx: tx.clone(),
            threads,
        });
        Ok(tx)
    }

    /// Closes the queue and waits until the writers have answered what was queued and
    /// exited. Blocking; a submission after this starts the writers anew.
    pub fn stop(&self) {
        let taken = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(Running { tx, threads }) = taken {
            drop(tx);
            for t in threads {
                let _ = t.join();
            }
        }
    }
}

fn next_batch(rx: &Mutex<mpsc::Receiver<Queued>>, max: usize) -> Option<Vec<Queued>> {
    let rx = rx.lock().unwrap_or_else(|p| p.into_inner());
    let first = rx.recv().ok()?;
    let mut batch = vec![first];
    while batch.len() < max {
        match rx.try_recv() {
            Ok(j) => batch.push(j),
            Err(_) => break,
        }
    }
    Some(batch)
}

fn run(st: AppState, rx: Queue) {
    let max = match st.config.intake_batch {
        0 if st.db.is_postgres() => MAX_BATCH_POSTGRES,
        0 => MAX_BATCH_SQLITE,
        n => n as usize,
    };
    while let Some(batch) = next_batch(&rx, max) {
        let mut conn = match st.db.get() {
            Ok(c) => c,
            Err(e) => {
                let code = e.code().to_string();
                for q in batch {
                    let _ = q
                        .reply
                        .send(Err(ApiError::unavailable(format!("intake writer: {code}"))));
                }
                continue;
            }
        };
        let now = st.clock.now_ms();
        if st.db.is_postgres() {
            let filed = st.db.write_tx(&mut conn, |conn| {
                let seqs = ticket_seqs(conn, batch.len())?;
                // The batch's aggregate changes and synced copies, written once at the
                // end: the hot aggregate rows and the sync counter are locked only for the
                // end of the transaction, not from the first submission on.
                let deferred = Deferred::default();
                let answers = batch
                    .iter()
                    .enumerate()
                    .map(|(i, q)| {
                        file_in_tx(
                            conn,
                            &st,
                            &q.job,
                            now,
                            seqs.get(i).copied(),
                            Some(&deferred),
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                deferred.finish(conn, &*st.ticket_copies, &*st.ticket_aggregates)?;
                Ok(answers)
            });
            match filed {
                Ok(answers) => {
                    for (q, answer) in batch.into_iter().zip(answers) {
                        let _ = q.reply.send(Ok(answer));
                    }
                }
                Err(_) => {
                    // Something in the batch failed (e.g. a retry racing its first
                    // submission): file each on its own.
                    for q in batch {
                        let _ = q.reply.send(file_now(&mut conn, &st, q.job));
                    }
                }
            }
            continue;
        }
        let mut results: Vec<Result<Value, ApiError>> = Vec::with_capacity(batch.len());
        let committed = st.db.write_tx(&mut conn, |conn| {
            for q in &batch {
                // A savepoint per submission: one bad one does not spoil the batch.
                results.push(conn.transaction::<_, ApiError, _>(|c| {
                    file_in_tx(c, &st, &q.job, now, None, None)
                }));
            }
            Ok(())
        });
        match committed {
            Ok(()) => {
                for (q, result) in batch.into_iter().zip(results) {
                    let settled = settle(&mut conn, &q.job, result);
                    let _ = q.reply.send(settled);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "intake batch not committed");
                // The writer queue's bound passed (busy), or the database failed.
                let busy = e.code() == "server_busy";
                for q in batch {
                    let _ = q.reply.send(Err(if busy {
                        ApiError::busy("intake batch: database busy")
                    } else {
                        ApiError::unavailable("intake batch not committed")
                    }));
                }
            }
        }
    }
}

/// Queue `job` and wait for its committed answer.
pub async fn submit(st: &AppState, job: Job) -> Result<Value, ApiError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let writer = st.intake_writers.sender(st)?;
    if writer.send(Queued { job, reply: tx }).is_err() {
        return Err(ApiError::unavailable("intake writer stopped"));
    }
    rx.await
        .map_err(|_| ApiError::unavailable("intake writer stopped"))?
}
