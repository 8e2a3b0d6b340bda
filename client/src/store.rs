//! The device's local store: one SQLite file (WAL, synchronous=FULL) holding the pulled server
//! state, the outbox, the acknowledged-but-not-yet-pulled mutations, conflicts, rejections,
//! photos, tokens, the clock and the cursor. Every change to it is one transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anju_shared::hlc::{DEFAULT_MAX_DRIFT_MS, Hlc, HlcClock};
use anju_shared::merge::rebase;
use anju_shared::protocol::{
    Change, FieldConflict, Mutation, MutationOutcome, MutationResult, Op, PullResponse, Winner,
};
use anju_shared::records::schema_for;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use serde_json::Value;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::schema::{acked, conflicts, device_state, outbox, photos, records, rejected};
use crate::transport::Session;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The store file's name inside a device directory.
pub const STORE_FILE: &str = "device.sqlite3";

/// A device's hybrid clock refuses nothing from the server: the server's clock is the reference,
/// so a device whose clock is behind catches up instead of failing.
const DEVICE_MAX_DRIFT_MS: u64 = u64::MAX;

pub(crate) struct Store {
    conn: SqliteConnection,
    path: PathBuf,
}

/// The single row of `device_state`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = device_state)]
pub(crate) struct StateRow {
    #[allow(dead_code)]
    pub id: i32,
    pub node: String,
    pub device_id: Option<String>,
    pub server_url: Option<String>,
    pub username: Option<String>,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub pull_cursor: Option<String>,
    pub last_hlc: Option<String>,
    pub next_seq: i64,
    pub last_sync_at: Option<String>,
}

#[derive(Queryable)]
struct MutationRow {
    seq: i64,
    record_type: String,
    record_id: String,
    op: String,
    base_version: Option<i64>,
    fields: String,
    hlc: String,
}

#[derive(Queryable)]
struct RecordRow {
    id: String,
    record_type: String,
    version: i64,
    deleted: bool,
    fields: String,
}

/// A conflict the server reported for one of this device's mutations: both values, and which
/// one is current.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredConflict {
    /// Local row id.
    pub id: i32,
    /// The device's mutation that met the conflict.
    pub seq: i64,
    /// Record type.
    pub record_type: String,
    /// Record id.
    pub record_id: String,
    /// Contested field.
    pub field: String,
    /// The version the device had seen.
    pub base_version: Option<i64>,
    /// The server's value at the time.
    pub server_value: Value,
    /// Who wrote the server's value.
    pub server_author: Option<String>,
    /// The server value's stamp.
    pub server_hlc: Option<String>,
    /// What this device sent (`null` for a delete).
    pub device_value: Value,
    /// Who the server recorded as the device's author.
    pub device_author: String,
    /// The device value's stamp.
    pub device_hlc: String,
    /// `server` or `device`: whose value is current.
    pub winner: String,
    /// When the device learned of it.
    pub reported_at: String,
}

/// A mutation the server refused, with its reason; it has left the outbox.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredRejection {
    /// The mutation's sequence number.
    pub seq: i64,
    /// Record type.
    pub record_type: String,
    /// Record id.
    pub record_id: String,
    /// `upsert` or `delete`.
    pub op: String,
    /// The fields it carried.
    pub fields: Value,
    /// Stable reason code.
    pub code: String,
    /// Reason in Chinese.
    pub message_zh: String,
    /// Reason in English.
    pub message_en: String,
    /// When the device learned of it.
    pub rejected_at: String,
}

/// One photo waiting for the server.
#[derive(Debug, Clone)]
pub(crate) struct PendingPhoto {
    pub sha256: String,
    pub path: PathBuf,
}

pub(crate) fn now_text() -> String {
    jiff::Timestamp::now().to_string()
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn op_text(op: Op) -> &'static str {
    match op {
        Op::Upsert => "upsert",
        Op::Delete => "delete",
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path`, checks it is a healthy SQLite database,
    /// and migrates it. Anything wrong with the file is [`Error::CorruptStore`] naming it.
    pub fn open(path: &Path) -> Result<Store> {
        let corrupt = |detail: String| Error::CorruptStore {
            path: path.to_path_buf(),
            detail,
        };
        let url = path.to_string_lossy().into_owned();
        let mut conn = SqliteConnection::establish(&url).map_err(|e| corrupt(e.to_string()))?;
        conn.batch_execute(
            "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )
        .map_err(|e| corrupt(e.to_string()))?;
        #[derive(QueryableByName)]
        struct Check {
            #[diesel(sql_type = diesel::sql_types::Text)]
            quick_check: String,
        }
        let check: Vec<Check> = diesel::sql_query("PRAGMA quick_check")
            .load(&mut conn)
            .map_err(|e| corrupt(e.to_string()))?;
        if let Some(c) = check.iter().find(|c| c.quick_check != "ok") {
            return Err(corrupt(c.quick_check.clone()));
        }
        conn.run_pending_migrations(MIGRATIONS)
            .map_err(|e| corrupt(format!("cannot migrate: {e}")))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        let exists: i64 = device_state::table
            .count()
            .get_result(&mut store.conn)
            .map_err(|e| store.db(e))?;
        if exists == 0 {
            diesel::insert_into(device_state::table)
                .values((
                    device_state::id.eq(1),
                    device_state::node.eq(Uuid::now_v7().simple().to_string()),
                    device_state::next_seq.eq(1_i64),
                ))
                .execute(&mut store.conn)
                .map_err(|e| store.db(e))?;
        }
        Ok(store)
    }

    fn db(&self, e: diesel::result::Error) -> Error {
        db_error(&self.path, e)
    }

    fn corrupt(&self, detail: impl Into<String>) -> Error {
        Error::CorruptStore {
            path: self.path.clone(),
            detail: detail.into(),
        }
    }

    /// Runs `f` in one immediate transaction; nothing of it stays if it fails.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&mut SqliteConnection) -> Result<T, TxError>,
    ) -> Result<T> {
        let path = self.path.clone();
        self.conn.immediate_transaction(f).map_err(|e| match e {
            TxError::App(e) => e,
            TxError::Db(e) => db_error(&path, e),
        })
    }

    pub fn state(&mut self) -> Result<StateRow> {
        device_state::table
            .select(StateRow::as_select())
            .first(&mut self.conn)
            .map_err(|e| self.db(e))
    }

    pub fn device_id(&mut self) -> Result<Option<Uuid>> {
        match self.state()?.device_id {
            None => Ok(None),
            Some(s) => Uuid::try_parse(&s)
                .map(Some)
                .map_err(|e| self.corrupt(format!("device id {s:?}: {e}"))),
        }
    }

    pub fn set_server_url(&mut self, url: &str) -> Result<()> {
        self.write(|c| {
            diesel::update(device_state::table)
                .set(device_state::server_url.eq(url))
                .execute(c)?;
            Ok(())
        })
    }

    /// Records the id the server issued at registration.
    pub fn set_device_id(&mut self, id: Uuid) -> Result<()> {
        self.write(|c| {
            diesel::update(device_state::table)
                .set(device_state::device_id.eq(id.to_string()))
                .execute(c)?;
            Ok(())
        })
    }

    /// Stores a new token pair (and, when given, the device id and user name) in one
    /// transaction, so a spent refresh token is never the only one kept.
    pub fn save_session(
        &mut self,
        session: &Session,
        device_id: Option<Uuid>,
        username: Option<&str>,
    ) -> Result<()> {
        self.write(|c| {
            diesel::update(device_state::table)
                .set((
                    device_state::access_token.eq(&session.access_token),
                    device_state::refresh_token.eq(&session.refresh_token),
                ))
                .execute(c)?;
            if let Some(id) = device_id {
                diesel::update(device_state::table)
                    .set(device_state::device_id.eq(id.to_string()))
                    .execute(c)?;
            }
            if let Some(u) = username {
                diesel::update(device_state::table)
                    .set(device_state::username.eq(u))
                    .execute(c)?;
            }
            Ok(())
        })
    }

    fn clock(&self, state: &StateRow) -> Result<HlcClock> {
        let fresh = || HlcClock::new(state.node.clone(), DEVICE_MAX_DRIFT_MS);
        let Some(s) = &state.last_hlc else {
            return Ok(fresh());
        };
        let last = Hlc::parse(s).map_err(|e| self.corrupt(format!("stored clock: {e}")))?;
        if last.wall_ms > now_ms().saturating_add(DEFAULT_MAX_DRIFT_MS) {
            // Stamped while the device's wall clock ran far ahead: the server refuses such
            // stamps (clock_drift), so resuming from it would get every later change refused
            // too, even after the time was fixed. Start again from the corrected wall clock.
            return Ok(fresh());
        }
        Ok(HlcClock::resume(&last, DEVICE_MAX_DRIFT_MS))
    }

    /// Appends one mutation to the outbox with the next sequence number and a fresh clock stamp;
    /// the sequence counter and the clock advance in the same transaction.
    pub fn enqueue(
        &mut self,
        record_type: &str,
        record_id: Uuid,
        op: Op,
        base_version: Option<i64>,
        fields: &BTreeMap<String, Value>,
    ) -> Result<u64> {
        let state = self.state()?;
        let mut clock = self.clock(&state)?;
        let hlc = clock.tick(now_ms()).to_string();
        let fields_json = serde_json::to_string(fields)
            .map_err(|e| Error::InvalidChange(format!("cannot encode fields: {e}")))?;
        let seq = state.next_seq;
        self.write(|c| {
            // Re-read inside the transaction: another process may have queued meanwhile.
            let next: i64 = device_state::table
                .select(device_state::next_seq)
                .first(c)?;
            if next != seq {
                return Err(TxError::App(Error::InvalidChange(
                    "another process changed this device meanwhile; try again".into(),
                )));
            }
            diesel::insert_into(outbox::table)
                .values((
                    outbox::seq.eq(seq),
                    outbox::record_type.eq(record_type),
                    outbox::record_id.eq(record_id.to_string()),
                    outbox::op.eq(op_text(op)),
                    outbox::base_version.eq(base_version),
                    outbox::fields.eq(&fields_json),
                    outbox::hlc.eq(&hlc),
                    outbox::created_at.eq(now_text()),
                ))
                .execute(c)?;
            diesel::update(device_state::table)
                .set((
                    device_state::next_seq.eq(seq + 1),
                    device_state::last_hlc.eq(&hlc),
                ))
                .execute(c)?;
            Ok(())
        })?;
        u64::try_from(seq).map_err(|_| self.corrupt(format!("negative sequence number {seq}")))
    }

    fn to_mutation(&self, r: MutationRow) -> Result<Mutation> {
        let op = match r.op.as_str() {
            "upsert" => Op::Upsert,
            "delete" => Op::Delete,
            other => return Err(self.corrupt(format!("outbox op {other:?}"))),
        };
        Ok(Mutation {
            seq: u64::try_from(r.seq).map_err(|_| self.corrupt("negative sequence number"))?,
            record_type: r.record_type,
            record_id: Uuid::try_parse(&r.record_id)
                .map_err(|e| self.corrupt(format!("outbox record id: {e}")))?,
            op,
            base_version: r.base_version,
            fields: serde_json::from_str(&r.fields)
                .map_err(|e| self.corrupt(format!("outbox fields: {e}")))?,
            hlc: r.hlc,
        })
    }

    /// The oldest `limit` outbox entries, in sequence order.
    pub fn outbox_head(&mut self, limit: usize) -> Result<Vec<Mutation>> {
        let rows: Vec<MutationRow> = outbox::table
            .select((
                outbox::seq,
                outbox::record_type,
                outbox::record_id,
                outbox::op,
                outbox::base_version,
                outbox::fields,
                outbox::hlc,
            ))
            .order(outbox::seq)
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .load(&mut self.conn)
            .map_err(|e| self.db(e))?;
        rows.into_iter().map(|r| self.to_mutation(r)).collect()
    }

    pub fn outbox_len(&mut self) -> Result<u64> {
        let n: i64 = outbox::table
            .count()
            .get_result(&mut self.conn)
            .map_err(|e| self.db(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Stores the server's answers to `batch` and removes those entries from the outbox, all in
    /// one transaction: a crash before it commits leaves the outbox as it was (the re-push gets
    /// `AlreadyApplied`), a crash after leaves nothing to re-send.
    pub fn record_push_results(
        &mut self,
        batch: &[Mutation],
        results: &[MutationResult],
        server_hlc: &str,
    ) -> Result<()> {
        let state = self.state()?;
        let mut clock = self.clock(&state)?;
        let observed = Hlc::parse(server_hlc)
            .ok()
            .and_then(|h| clock.observe(&h, now_ms()).ok())
            .map(|h| h.to_string());
        let now = now_text();
        self.write(|c| {
            // Inserts ignore rows already there: a second process syncing the same directory
            // at the same moment gets `AlreadyApplied` for them and must not fail.
            for (m, r) in batch.iter().zip(results) {
                let seq = i64::try_from(m.seq).unwrap_or(i64::MAX);
                diesel::delete(outbox::table.find(seq)).execute(c)?;
                let kept = match &r.outcome {
                    MutationOutcome::Applied { version }
                    | MutationOutcome::Merged { version, .. } => Some((m.clone(), Some(*version))),
                    MutationOutcome::AlreadyApplied => Some((m.clone(), None)),
                    MutationOutcome::Conflict {
                        conflicts: cs,
                        version,
                    } => {
                        for fc in cs {
                            insert_conflict(c, seq, m, fc, &now)?;
                        }
                        Some((without_lost_fields(m, cs), Some(*version)))
                    }
                    MutationOutcome::Rejected {
                        code,
                        message_zh,
                        message_en,
                    } => {
                        diesel::insert_or_ignore_into(rejected::table)
                            .values((
                                rejected::seq.eq(seq),
                                rejected::record_type.eq(&m.record_type),
                                rejected::record_id.eq(m.record_id.to_string()),
                                rejected::op.eq(op_text(m.op)),
                                rejected::fields.eq(json_text(&m.fields)),
                                rejected::code.eq(code),
                                rejected::message_zh.eq(message_zh),
                                rejected::message_en.eq(message_en),
                                rejected::rejected_at.eq(&now),
                            ))
                            .execute(c)?;
                        None
                    }
                };
                if let Some((k, version)) = kept {
                    diesel::insert_or_ignore_into(acked::table)
                        .values((
                            acked::seq.eq(seq),
                            acked::version.eq(version),
                            acked::record_type.eq(&k.record_type),
                            acked::record_id.eq(k.record_id.to_string()),
                            acked::op.eq(op_text(k.op)),
                            acked::base_version.eq(k.base_version),
                            acked::fields.eq(json_text(&k.fields)),
                            acked::hlc.eq(&k.hlc),
                        ))
                        .execute(c)?;
                }
            }
            if let Some(h) = &observed {
                diesel::update(device_state::table)
                    .set(device_state::last_hlc.eq(h))
                    .execute(c)?;
            }
            Ok(())
        })
    }

    /// The highest acknowledged sequence number still overlaid on the view (0 if none).
    pub fn max_acked_seq(&mut self) -> Result<i64> {
        let m: Option<i64> = acked::table
            .select(diesel::dsl::max(acked::seq))
            .first(&mut self.conn)
            .map_err(|e| self.db(e))?;
        Ok(m.unwrap_or(0))
    }

    pub fn pull_cursor(&mut self) -> Result<Option<String>> {
        Ok(self.state()?.pull_cursor)
    }

    /// Applies one pull page and advances the cursor in the same transaction.
    pub fn apply_page(&mut self, page: &PullResponse) -> Result<()> {
        self.write(|c| {
            for change in &page.changes {
                match change {
                    Change::Upsert {
                        record_type,
                        id,
                        version,
                        fields,
                        ..
                    } => {
                        store_record(c, record_type, *id, *version, false, &json_text(fields))?;
                    }
                    Change::Tombstone {
                        record_type,
                        id,
                        version,
                    } => store_record(c, record_type, *id, *version, true, "{}")?,
                    Change::Revoke { id, .. } => {
                        diesel::delete(records::table.find(id.to_string())).execute(c)?;
                    }
                }
            }
            diesel::update(device_state::table)
                .set(device_state::pull_cursor.eq(&page.next_cursor))
                .execute(c)?;
            Ok(())
        })
    }

    /// Forgets all pulled state and the cursor (the server asked for a reset); the outbox,
    /// acknowledged overlay, conflicts and rejections stay.
    pub fn reset_pulled_state(&mut self) -> Result<()> {
        self.write(|c| {
            diesel::delete(records::table).execute(c)?;
            diesel::update(device_state::table)
                .set(device_state::pull_cursor.eq(None::<String>))
                .execute(c)?;
            Ok(())
        })
    }

    /// A complete pull has brought the server's effect of every mutation acknowledged before it
    /// began (`acked_upto`): drop them from the overlay, and note the sync time.
    pub fn finish_pull(&mut self, acked_upto: i64) -> Result<()> {
        self.write(|c| {
            diesel::delete(acked::table.filter(acked::seq.le(acked_upto))).execute(c)?;
            diesel::update(device_state::table)
                .set(device_state::last_sync_at.eq(now_text()))
                .execute(c)?;
            Ok(())
        })
    }

    fn overlay_rows(
        &mut self,
        record_type: Option<&str>,
        record_id: Option<&str>,
    ) -> Result<Vec<Mutation>> {
        let mut a = acked::table
            .select((
                acked::seq,
                acked::record_type,
                acked::record_id,
                acked::op,
                acked::base_version,
                acked::fields,
                acked::hlc,
            ))
            .order(acked::seq)
            .into_boxed();
        let mut o = outbox::table
            .select((
                outbox::seq,
                outbox::record_type,
                outbox::record_id,
                outbox::op,
                outbox::base_version,
                outbox::fields,
                outbox::hlc,
            ))
            .order(outbox::seq)
            .into_boxed();
        if let Some(t) = record_type {
            a = a.filter(acked::record_type.eq(t));
            o = o.filter(outbox::record_type.eq(t));
        }
        if let Some(id) = record_id {
            a = a.filter(acked::record_id.eq(id));
            o = o.filter(outbox::record_id.eq(id));
        }
        let mut rows: Vec<MutationRow> = a.load(&mut self.conn).map_err(|e| self.db(e))?;
        let pending: Vec<MutationRow> = o.load(&mut self.conn).map_err(|e| self.db(e))?;
        rows.extend(pending);
        rows.into_iter().map(|r| self.to_mutation(r)).collect()
    }

    /// The records as the device shows them: pulled server state with acknowledged-not-yet-pulled
    /// and pending mutations applied on top by `merge::rebase`, filtered by type and/or id, in
    /// id order (UUIDv7: creation order).
    pub fn view(
        &mut self,
        record_type: Option<&str>,
        record_id: Option<Uuid>,
    ) -> Result<Vec<RecordView>> {
        let id_text = record_id.map(|i| i.to_string());
        let mut q = records::table
            .select((
                records::id,
                records::record_type,
                records::version,
                records::deleted,
                records::fields,
            ))
            .order(records::id)
            .into_boxed();
        if let Some(t) = record_type {
            q = q.filter(records::record_type.eq(t));
        }
        if let Some(id) = &id_text {
            q = q.filter(records::id.eq(id));
        }
        let rows: Vec<RecordRow> = q.load(&mut self.conn).map_err(|e| self.db(e))?;
        let overlay = self.overlay_rows(record_type, id_text.as_deref())?;
        let pending_seqs: BTreeSet<u64> = {
            let first_pending: i64 = outbox::table
                .select(diesel::dsl::min(outbox::seq))
                .first::<Option<i64>>(&mut self.conn)
                .map_err(|e| self.db(e))?
                .unwrap_or(i64::MAX);
            overlay
                .iter()
                .filter(|m| i64::try_from(m.seq).unwrap_or(i64::MAX) >= first_pending)
                .map(|m| m.seq)
                .collect()
        };
        let mut by_id: BTreeMap<Uuid, (Option<RecordRow>, Vec<Mutation>)> = BTreeMap::new();
        for r in rows {
            let id = Uuid::try_parse(&r.id)
                .map_err(|e| self.corrupt(format!("record id {:?}: {e}", r.id)))?;
            by_id.entry(id).or_default().0 = Some(r);
        }
        for m in overlay {
            by_id.entry(m.record_id).or_default().1.push(m);
        }
        let mut out = Vec::new();
        for (id, (row, mut muts)) in by_id {
            muts.sort_by_key(|m| m.seq);
            let rtype = row
                .as_ref()
                .map(|r| r.record_type.clone())
                .or_else(|| muts.first().map(|m| m.record_type.clone()))
                .unwrap_or_default();
            let Some(schema) = schema_for(&rtype) else {
                continue;
            };
            let server: Option<BTreeMap<String, Value>> = match &row {
                Some(r) if !r.deleted => Some(
                    serde_json::from_str(&r.fields)
                        .map_err(|e| self.corrupt(format!("record {id} fields: {e}")))?,
                ),
                _ => None,
            };
            let pending = muts
                .iter()
                .filter(|m| pending_seqs.contains(&m.seq))
                .count();
            if let Some(fields) = rebase(schema, server.as_ref(), &muts) {
                out.push(RecordView {
                    record_type: rtype,
                    id,
                    server_version: row.as_ref().filter(|r| !r.deleted).map(|r| r.version),
                    pending,
                    fields,
                });
            }
        }
        Ok(out)
    }

    /// The pulled server version of a live record (`None`: not pulled, or deleted).
    pub fn server_version(&mut self, id: Uuid) -> Result<Option<i64>> {
        let v: Option<(i64, bool)> = records::table
            .find(id.to_string())
            .select((records::version, records::deleted))
            .first(&mut self.conn)
            .optional()
            .map_err(|e| self.db(e))?;
        Ok(v.filter(|(_, d)| !d).map(|(v, _)| v))
    }

    /// Every pulled record (live and tombstoned), for comparing a device with the server.
    pub fn pulled_records(&mut self) -> Result<Vec<PulledRecord>> {
        let rows: Vec<RecordRow> = records::table
            .select((
                records::id,
                records::record_type,
                records::version,
                records::deleted,
                records::fields,
            ))
            .order(records::id)
            .load(&mut self.conn)
            .map_err(|e| self.db(e))?;
        rows.into_iter()
            .map(|r| {
                Ok(PulledRecord {
                    id: Uuid::try_parse(&r.id).map_err(|e| self.corrupt(e.to_string()))?,
                    fields: serde_json::from_str(&r.fields)
                        .map_err(|e| self.corrupt(e.to_string()))?,
                    record_type: r.record_type,
                    version: r.version,
                    deleted: r.deleted,
                })
            })
            .collect()
    }

    pub fn add_photo(&mut self, sha256: &str, path: &Path, size: u64) -> Result<()> {
        let path_text = path.to_string_lossy().into_owned();
        self.write(|c| {
            diesel::insert_into(photos::table)
                .values((
                    photos::sha256.eq(sha256),
                    photos::path.eq(&path_text),
                    photos::size.eq(i64::try_from(size).unwrap_or(i64::MAX)),
                    photos::uploaded.eq(false),
                    photos::added_at.eq(now_text()),
                ))
                .on_conflict(photos::sha256)
                .do_nothing()
                .execute(c)?;
            Ok(())
        })
    }

    pub fn photos_to_upload(&mut self) -> Result<Vec<PendingPhoto>> {
        let rows: Vec<(String, String)> = photos::table
            .filter(photos::uploaded.eq(false))
            .select((photos::sha256, photos::path))
            .order(photos::added_at)
            .load(&mut self.conn)
            .map_err(|e| self.db(e))?;
        Ok(rows
            .into_iter()
            .map(|(sha256, path)| PendingPhoto {
                sha256,
                path: PathBuf::from(path),
            })
            .collect())
    }

    pub fn mark_uploaded(&mut self, hashes: &[String]) -> Result<()> {
        self.write(|c| {
            diesel::update(photos::table.filter(photos::sha256.eq_any(hashes)))
                .set(photos::uploaded.eq(true))
                .execute(c)?;
            Ok(())
        })
    }

    pub fn conflicts(&mut self) -> Result<Vec<StoredConflict>> {
        type Row = (
            i32,
            i64,
            String,
            String,
            String,
            Option<i64>,
            String,
            Option<String>,
            Option<String>,
            String,
            String,
            String,
            String,
            String,
        );
        let rows: Vec<Row> = conflicts::table
            .select((
                conflicts::id,
                conflicts::seq,
                conflicts::record_type,
                conflicts::record_id,
                conflicts::field,
                conflicts::base_version,
                conflicts::server_value,
                conflicts::server_hlc,
                conflicts::server_author,
                conflicts::device_value,
                conflicts::device_hlc,
                conflicts::device_author,
                conflicts::winner,
                conflicts::reported_at,
            ))
            .order(conflicts::id)
            .load(&mut self.conn)
            .map_err(|e| self.db(e))?;
        Ok(rows
            .into_iter()
            .map(|r| StoredConflict {
                id: r.0,
                seq: r.1,
                record_type: r.2,
                record_id: r.3,
                field: r.4,
                base_version: r.5,
                server_value: serde_json::from_str(&r.6).unwrap_or(Value::String(r.6)),
                server_hlc: r.7,
                server_author: r.8,
                device_value: serde_json::from_str(&r.9).unwrap_or(Value::String(r.9)),
                device_hlc: r.10,
                device_author: r.11,
                winner: r.12,
                reported_at: r.13,
            })
            .collect())
    }

    pub fn rejections(&mut self) -> Result<Vec<StoredRejection>> {
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
        );
        let rows: Vec<Row> = rejected::table
            .select((
                rejected::seq,
                rejected::record_type,
                rejected::record_id,
                rejected::op,
                rejected::fields,
                rejected::code,
                rejected::message_zh,
                rejected::message_en,
                rejected::rejected_at,
            ))
            .order(rejected::seq)
            .load(&mut self.conn)
            .map_err(|e| self.db(e))?;
        Ok(rows
            .into_iter()
            .map(|r| StoredRejection {
                seq: r.0,
                record_type: r.1,
                record_id: r.2,
                op: r.3,
                fields: serde_json::from_str(&r.4).unwrap_or(Value::String(r.4)),
                code: r.5,
                message_zh: r.6,
                message_en: r.7,
                rejected_at: r.8,
            })
            .collect())
    }

    pub fn counts(&mut self) -> Result<(u64, u64, u64)> {
        let c: i64 = conflicts::table
            .count()
            .get_result(&mut self.conn)
            .map_err(|e| self.db(e))?;
        let r: i64 = rejected::table
            .count()
            .get_result(&mut self.conn)
            .map_err(|e| self.db(e))?;
        let p: i64 = records::table
            .filter(records::deleted.eq(false))
            .count()
            .get_result(&mut self.conn)
            .map_err(|e| self.db(e))?;
        Ok((
            u64::try_from(c).unwrap_or(0),
            u64::try_from(r).unwrap_or(0),
            u64::try_from(p).unwrap_or(0),
        ))
    }
}

/// A record exactly as last pulled from the server, without local changes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PulledRecord {
    /// Record id.
    pub id: Uuid,
    /// Record type wire name.
    pub record_type: String,
    /// Server version.
    pub version: i64,
    /// A tombstone.
    pub deleted: bool,
    /// Field values (empty for a tombstone).
    pub fields: BTreeMap<String, Value>,
}

/// A record as the device shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecordView {
    /// Record type wire name.
    pub record_type: String,
    /// Record id.
    pub id: Uuid,
    /// The server version last pulled (`None`: created on this device and not pulled yet).
    pub server_version: Option<i64>,
    /// How many of this device's changes to it are still waiting to be sent.
    pub pending: usize,
    /// Field values (sets as sorted arrays).
    pub fields: BTreeMap<String, Value>,
}

/// The mutation as it stays in the view after a conflict: fields whose conflict the server won
/// are left out (the server's value will arrive with the next pull).
fn without_lost_fields(m: &Mutation, cs: &[FieldConflict]) -> Mutation {
    let lost: BTreeSet<&str> = cs
        .iter()
        .filter(|c| c.winner == Winner::Server)
        .map(|c| c.field.as_str())
        .collect();
    let mut kept = m.clone();
    kept.fields.retain(|k, _| !lost.contains(k.as_str()));
    kept
}

fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn insert_conflict(
    c: &mut SqliteConnection,
    seq: i64,
    m: &Mutation,
    fc: &FieldConflict,
    now: &str,
) -> Result<(), TxError> {
    diesel::insert_into(conflicts::table)
        .values((
            conflicts::seq.eq(seq),
            conflicts::record_type.eq(&m.record_type),
            conflicts::record_id.eq(m.record_id.to_string()),
            conflicts::field.eq(&fc.field),
            conflicts::base_version.eq(fc.base_version),
            conflicts::server_value.eq(json_text(&fc.server_value)),
            conflicts::server_hlc.eq(&fc.server_hlc),
            conflicts::server_author.eq(&fc.server_author),
            conflicts::device_value.eq(json_text(&fc.device_value)),
            conflicts::device_hlc.eq(&fc.device_hlc),
            conflicts::device_author.eq(&fc.device_author),
            conflicts::winner.eq(match fc.winner {
                Winner::Server => "server",
                Winner::Device => "device",
            }),
            conflicts::reported_at.eq(now),
        ))
        .execute(c)?;
    Ok(())
}

fn store_record(
    c: &mut SqliteConnection,
    record_type: &str,
    id: Uuid,
    version: i64,
    deleted: bool,
    fields: &str,
) -> Result<(), TxError> {
    let id = id.to_string();
    let existing: Option<i64> = records::table
        .find(&id)
        .select(records::version)
        .first(c)
        .optional()?;
    if existing.is_some_and(|v| v > version) {
        // Pages arrive in commit order; an older version than the one kept is stale.
        return Ok(());
    }
    // The pulled state now holds the effect of our acknowledged mutations up to this version.
    diesel::delete(
        acked::table
            .filter(acked::record_id.eq(&id))
            .filter(acked::version.le(version)),
    )
    .execute(c)?;
    diesel::replace_into(records::table)
        .values((
            records::id.eq(&id),
            records::record_type.eq(record_type),
            records::version.eq(version),
            records::deleted.eq(deleted),
            records::fields.eq(fields),
        ))
        .execute(c)?;
    Ok(())
}

/// A failure inside a store transaction: the whole transaction is rolled back.
enum TxError {
    App(Error),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(e)
    }
}

fn db_error(path: &Path, e: diesel::result::Error) -> Error {
    let detail = e.to_string();
    let lower = detail.to_lowercase();
    if lower.contains("malformed") || lower.contains("not a database") || lower.contains("corrupt")
    {
        Error::CorruptStore {
            path: path.to_path_buf(),
            detail,
        }
    } else {
        Error::Store {
            path: path.to_path_buf(),
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (tempfile::TempDir, Store) {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join(STORE_FILE)).unwrap();
        (tmp, store)
    }

    #[test]
    fn migrations_create_one_state_row_and_reopen_idempotently() {
        let (tmp, mut store) = open();
        let node = store.state().unwrap().node;
        assert_eq!(store.state().unwrap().next_seq, 1);
        drop(store);
        let mut again = Store::open(&tmp.path().join(STORE_FILE)).unwrap();
        assert_eq!(again.state().unwrap().node, node, "the node name is kept");
        let mode: Vec<Mode> = diesel::sql_query("PRAGMA journal_mode")
            .load(&mut again.conn)
            .unwrap();
        assert_eq!(mode[0].journal_mode, "wal");
    }

    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }

    #[test]
    fn stamps_increase_and_a_clock_that_ran_far_ahead_is_not_resumed() {
        let (_tmp, mut store) = open();
        let f = BTreeMap::new();
        let id = Uuid::now_v7();
        store.enqueue("hazard", id, Op::Upsert, None, &f).unwrap();
        store.enqueue("hazard", id, Op::Upsert, None, &f).unwrap();
        let ms = store.outbox_head(10).unwrap();
        assert!(Hlc::parse(&ms[0].hlc).unwrap() < Hlc::parse(&ms[1].hlc).unwrap());
        let future = Hlc {
            wall_ms: now_ms() + 365 * 24 * 3600 * 1000,
            counter: 0,
            node: store.state().unwrap().node,
        };
        diesel::update(device_state::table)
            .set(device_state::last_hlc.eq(future.to_string()))
            .execute(&mut store.conn)
            .unwrap();
        store.enqueue("hazard", id, Op::Upsert, None, &f).unwrap();
        let third = Hlc::parse(&store.outbox_head(10).unwrap()[2].hlc).unwrap();
        assert!(
            third.wall_ms <= now_ms(),
            "stamped from the corrected wall clock"
        );
        assert_eq!(third.node, future.node);
    }
}
