//! Pull: pages of changes after a cursor, filtered by the device's scope.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use anju_shared::protocol::{Change, PullResponse};
use diesel::prelude::*;
use uuid::Uuid;

use super::cursor::{Cursor, CursorError, CursorKey};
use super::schema::{sync_records, sync_scope_exits, sync_scopes};
use super::store::{RecordRow, read_counter};
use crate::auth::scope::Scope;
use crate::db::DbConnection;

/// A scope exit: seq, record id, record type, old unit id, old area id.
type ExitRow = (i64, String, String, Option<String>, Option<String>);

/// How many records one rescope page re-examines.
const RESCOPE_SCAN: i64 = 2000;

/// What a pull answers.
#[derive(Debug)]
pub enum PullOutcome {
    /// A page.
    Page(PullResponse),
    /// The cursor cannot be continued: the device must start again from no cursor.
    ResetRequired,
}

/// Why a pull failed.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The cursor is not one this server issued.
    #[error("invalid cursor")]
    InvalidCursor,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    /// A stored row could not be read.
    #[error(transparent)]
    Corrupt(#[from] anyhow::Error),
}

/// Stores `scope` under its fingerprint (once), so later cursors can name it. `known` is the
/// fingerprints this process already stored (stored scopes never change or go away).
pub fn remember_scope(
    conn: &mut DbConnection,
    known: &Mutex<HashSet<String>>,
    scope: &Scope,
    now_ms: i64,
) -> QueryResult<String> {
    let fp = scope.fingerprint();
    if *scope == Scope::All {
        return Ok(fp);
    }
    let is_known = |fp: &str| known.lock().unwrap_or_else(|p| p.into_inner()).contains(fp);
    if is_known(&fp) {
        return Ok(fp);
    }
    let stored: i64 = sync_scopes::table
        .filter(sync_scopes::fingerprint.eq(&fp))
        .count()
        .get_result(conn)?;
    if stored == 0 {
        let json = serde_json::to_string(scope).unwrap_or_default();
        let inserted = diesel::insert_into(sync_scopes::table)
            .values((
                sync_scopes::fingerprint.eq(&fp),
                sync_scopes::scope.eq(json),
                sync_scopes::created_at.eq(now_ms),
            ))
            .execute(conn);
        match inserted {
            // Another puller stored the same scope at the same moment.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))
            | Ok(_) => {}
            Err(e) => return Err(e),
        }
    }
    known
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(fp.clone());
    Ok(fp)
}

fn load_scope(conn: &mut DbConnection, fp: &str) -> Result<Option<Scope>, PullError> {
    if fp == "all" {
        return Ok(Some(Scope::All));
    }
    let json: Option<String> = sync_scopes::table
        .filter(sync_scopes::fingerprint.eq(fp))
        .select(sync_scopes::scope)
        .first(conn)
        .optional()?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

/// Who pulls: the device the cursors are signed for, the key that signs them, and the scopes
/// this process already stored.
pub struct Puller<'a> {
    /// The pulling device.
    pub device_id: Uuid,
    /// The cursor signing key.
    pub key: &'a CursorKey,
    /// Fingerprints already in `sync_scopes`.
    pub known_scopes: &'a Mutex<HashSet<String>>,
}

/// Answers one pull: the page after `cursor` (`None` = from the start) under `scope`. A cursor
/// not signed by this server for this device is refused (`InvalidCursor`) before anything is
/// read; an older server's unsigned one gets `ResetRequired`.
pub fn pull(
    conn: &mut DbConnection,
    puller: &Puller<'_>,
    scope: &Scope,
    cursor: Option<&str>,
    limit: i64,
    now_ms: i64,
) -> Result<PullOutcome, PullError> {
    let cursor = match cursor {
        None | Some("") => None,
        Some(c) => match puller.key.verify(puller.device_id, c) {
            Ok(c) => Some(c),
            Err(CursorError::Unsigned) => return Ok(PullOutcome::ResetRequired),
            Err(CursorError::Invalid) => return Err(PullError::InvalidCursor),
        },
    };
    let fp = remember_scope(conn, puller.known_scopes, scope, now_ms)?;
    let cursor = cursor.unwrap_or_else(|| Cursor::Stream {
        seq: 0,
        scope: fp.clone(),
    });
    let sign = |c: &Cursor| puller.key.sign(puller.device_id, c);
    let sign: &dyn Fn(&Cursor) -> String = &sign;
    // Read before the page queries: every change up to `top` is committed (see store.rs).
    let (top, horizon) = read_counter(conn)?;
    match cursor {
        Cursor::Stream { seq, .. } | Cursor::Rescope { seq, .. } if seq > top => {
            Ok(PullOutcome::ResetRequired)
        }
        Cursor::Stream { seq, .. } | Cursor::Rescope { seq, .. } if seq > 0 && seq < horizon => {
            Ok(PullOutcome::ResetRequired)
        }
        Cursor::Stream { seq, scope: old } if old != fp => {
            if seq == 0 {
                return stream_page(conn, sign, scope, &fp, 0, top, limit);
            }
            let Some(old_scope) = load_scope(conn, &old)? else {
                return Ok(PullOutcome::ResetRequired);
            };
            rescope_page(conn, sign, &old_scope, &old, scope, &fp, seq, None, limit)
        }
        // Up to date: nothing can be newer than the counter.
        Cursor::Stream { seq, .. } if seq == top => Ok(PullOutcome::Page(PullResponse {
            changes: Vec::new(),
            next_cursor: sign(&Cursor::Stream { seq, scope: fp }),
            has_more: false,
        })),
        Cursor::Stream { seq, .. } => stream_page(conn, sign, scope, &fp, seq, top, limit),
        Cursor::Rescope {
            seq,
            old,
            new,
            after,
        } => {
            if new != fp {
                // The scope changed again while a change was being caught up.
                return Ok(PullOutcome::ResetRequired);
            }
            let Some(old_scope) = load_scope(conn, &old)? else {
                return Ok(PullOutcome::ResetRequired);
            };
            rescope_page(conn, sign, &old_scope, &old, scope, &fp, seq, after, limit)
        }
    }
}

fn id_strings(ids: &std::collections::BTreeSet<Uuid>) -> Vec<String> {
    ids.iter().map(Uuid::to_string).collect()
}

/// The changes with sequence numbers in `(after, top]` visible under `scope`, oldest first.
#[allow(clippy::too_many_arguments)]
fn stream_page(
    conn: &mut DbConnection,
    sign: &dyn Fn(&Cursor) -> String,
    scope: &Scope,
    fp: &str,
    after: i64,
    top: i64,
    limit: i64,
) -> Result<PullOutcome, PullError> {
    let mut query = sync_records::table
        .filter(sync_records::change_seq.gt(after))
        .filter(sync_records::change_seq.le(top))
        .order(sync_records::change_seq.asc())
        .limit(limit + 1)
        .select(RecordRow::as_select())
        .into_boxed();
    if after == 0 {
        // A device starting from nothing has nothing to delete.
        query = query.filter(sync_records::deleted.eq(false));
    }
    if let Scope::Limited { units, areas } = scope {
        query = query.filter(
            sync_records::unit_id
                .eq_any(id_strings(units))
                .or(sync_records::area_id.eq_any(id_strings(areas))),
        );
    }
    let rows = query.load(conn)?;
    let mut items: Vec<(i64, Option<Change>)> = Vec::with_capacity(rows.len());
    for row in &rows {
        items.push((row.change_seq, Some(row.to_record()?.to_change())));
    }
    if after > 0 {
        let exits: Vec<ExitRow> = sync_scope_exits::table
            .filter(sync_scope_exits::seq.gt(after))
            .filter(sync_scope_exits::seq.le(top))
            .order(sync_scope_exits::seq.asc())
            .limit(limit + 1)
            .select((
                sync_scope_exits::seq,
                sync_scope_exits::record_id,
                sync_scope_exits::record_type,
                sync_scope_exits::unit_id,
                sync_scope_exits::area_id,
            ))
            .load(conn)?;
        let now_visible =
            current_visibility(conn, scope, exits.iter().map(|e| e.1.clone()).collect())?;
        for (seq, id, record_type, unit, area) in exits {
            let was = scope.sees(parse_id(&unit), parse_id(&area));
            let is = now_visible.get(&id).copied().unwrap_or(false);
            let change = (was && !is)
                .then(|| Uuid::try_parse(&id).ok())
                .flatten()
                .map(|id| Change::Revoke { record_type, id });
            items.push((seq, change));
        }
        items.sort_by_key(|(seq, _)| *seq);
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_more = items.len() > limit;
    items.truncate(limit);
    let next = if has_more {
        items.last().map_or(top, |(seq, _)| *seq)
    } else {
        top
    };
    Ok(PullOutcome::Page(PullResponse {
        changes: items.into_iter().filter_map(|(_, c)| c).collect(),
        next_cursor: sign(&Cursor::Stream {
            seq: next,
            scope: fp.to_owned(),
        }),
        has_more,
    }))
}

fn parse_id(s: &Option<String>) -> Option<Uuid> {
    s.as_deref().and_then(|s| Uuid::try_parse(s).ok())
}

/// For each record id, whether its current row is visible under `scope`.
fn current_visibility(
    conn: &mut DbConnection,
    scope: &Scope,
    ids: Vec<String>,
) -> Result<HashMap<String, bool>, PullError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, Option<String>, Option<String>)> = sync_records::table
            .filter(sync_records::id.eq_any(chunk))
            .select((
                sync_records::id,
                sync_records::unit_id,
                sync_records::area_id,
            ))
            .load(conn)?;
        for (id, unit, area) in rows {
            out.insert(id, scope.sees(parse_id(&unit), parse_id(&area)));
        }
    }
    Ok(out)
}

/// One page of catching up a scope change from `old` to `new` at stream position `seq`:
/// records that became visible and were changed at or before `seq` are sent whole; records that
/// left the scope are revoked. When every record was re-examined, the cursor returns to the
/// stream at `seq` under the new scope.
#[allow(clippy::too_many_arguments)]
fn rescope_page(
    conn: &mut DbConnection,
    sign: &dyn Fn(&Cursor) -> String,
    old: &Scope,
    old_fp: &str,
    new: &Scope,
    new_fp: &str,
    seq: i64,
    after: Option<String>,
    limit: i64,
) -> Result<PullOutcome, PullError> {
    let scan = RESCOPE_SCAN.min(limit.max(1));
    let mut query = sync_records::table
        .order(sync_records::id.asc())
        .limit(scan)
        .select(RecordRow::as_select())
        .into_boxed();
    if let Some(after) = &after {
        query = query.filter(sync_records::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    let mut changes = Vec::new();
    for row in &rows {
        let (unit, area) = row.scope_ids();
        let (was, is) = (old.sees(unit, area), new.sees(unit, area));
        if was && !is {
            if let Ok(id) = Uuid::try_parse(&row.id) {
                changes.push(Change::Revoke {
                    record_type: row.record_type.clone(),
                    id,
                });
            }
        } else if is && !was && !row.deleted && row.change_seq <= seq {
            changes.push(row.to_record()?.to_change());
        }
    }
    let done = i64::try_from(rows.len()).unwrap_or(0) < scan;
    let next_cursor = if done {
        // Records that left the old scope after `seq` are no longer found by their current
        // scope above; their exits say where they were.
        let exits: Vec<(String, String, Option<String>, Option<String>)> = sync_scope_exits::table
            .filter(sync_scope_exits::seq.gt(seq))
            .select((
                sync_scope_exits::record_id,
                sync_scope_exits::record_type,
                sync_scope_exits::unit_id,
                sync_scope_exits::area_id,
            ))
            .load(conn)?;
        let visible = current_visibility(conn, new, exits.iter().map(|e| e.0.clone()).collect())?;
        for (id, record_type, unit, area) in exits {
            if old.sees(parse_id(&unit), parse_id(&area))
                && !visible.get(&id).copied().unwrap_or(false)
                && let Ok(id) = Uuid::try_parse(&id)
            {
                changes.push(Change::Revoke { record_type, id });
            }
        }
        Cursor::Stream {
            seq,
            scope: new_fp.to_owned(),
        }
    } else {
        Cursor::Rescope {
            seq,
            old: old_fp.to_owned(),
            new: new_fp.to_owned(),
            after: rows.last().map(|r| r.id.clone()),
        }
    };
    Ok(PullOutcome::Page(PullResponse {
        changes,
        next_cursor: sign(&next_cursor),
        has_more: true,
    }))
}
