//! The answer to a re-sent mutation. A device re-sends a batch when it lost the answer (a cut
//! connection, a proxy that repeated the request); the mutations have no second effect, but the
//! device must still learn what happened to them: a rejection is answered again with its stored
//! reason, a conflict with its stored conflict records. Everything else is `already_applied`.

use std::collections::HashMap;

use anju_shared::protocol::{FieldConflict, Mutation, MutationOutcome, Winner};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::schema::{sync_conflicts, sync_records, sync_rejections};
use super::store::device_author;
use crate::db::DbConnection;

type ConflictRow = (
    String,
    String,
    Option<i64>,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
);

/// The stored outcome of each of `mutations` (already applied by `device_id`) that was a
/// rejection or a conflict, by sequence number. Reads only; nothing is written.
pub fn earlier_outcomes(
    conn: &mut DbConnection,
    device_id: Uuid,
    mutations: &[&Mutation],
) -> QueryResult<HashMap<u64, MutationOutcome>> {
    let mut out = HashMap::new();
    if mutations.is_empty() {
        return Ok(out);
    }
    let device = device_id.to_string();
    let author = device_author(device_id);
    for chunk in mutations.chunks(500) {
        let seqs: Vec<i64> = chunk
            .iter()
            .filter_map(|m| i64::try_from(m.seq).ok())
            .collect();
        let rejections: Vec<(i64, String, String, String, String)> = sync_rejections::table
            .filter(sync_rejections::device_id.eq(&device))
            .filter(sync_rejections::seq.eq_any(&seqs))
            .select((
                sync_rejections::seq,
                sync_rejections::record_id,
                sync_rejections::code,
                sync_rejections::message_zh,
                sync_rejections::message_en,
            ))
            .load(conn)?;
        for (seq, record_id, code, message_zh, message_en) in rejections {
            let Some(m) = chunk
                .iter()
                .find(|m| i64::try_from(m.seq).ok() == Some(seq))
            else {
                continue;
            };
            if m.record_id.to_string() == record_id {
                out.insert(
                    m.seq,
                    MutationOutcome::Rejected {
                        code,
                        message_zh,
                        message_en,
                    },
                );
            }
        }
        let hlcs: Vec<&str> = chunk.iter().map(|m| m.hlc.as_str()).collect();
        let rows: Vec<ConflictRow> = sync_conflicts::table
            .filter(sync_conflicts::device_author.eq(&author))
            .filter(sync_conflicts::device_hlc.eq_any(&hlcs))
            .order(sync_conflicts::id.asc())
            .select((
                sync_conflicts::record_id,
                sync_conflicts::field,
                sync_conflicts::base_version,
                sync_conflicts::server_value,
                sync_conflicts::device_value,
                sync_conflicts::winner,
                sync_conflicts::server_author,
                sync_conflicts::device_author,
                sync_conflicts::server_hlc,
                sync_conflicts::device_hlc,
            ))
            .load(conn)?;
        let mut conflicts: HashMap<u64, (Uuid, Vec<FieldConflict>)> = HashMap::new();
        for row in rows {
            let (record_id, field, base_version, server_value, device_value, winner) =
                (row.0, row.1, row.2, row.3, row.4, row.5);
            let Some(m) = chunk
                .iter()
                .find(|m| m.hlc == row.9 && m.record_id.to_string() == record_id)
            else {
                continue;
            };
            let json = |s: &str| serde_json::from_str(s).unwrap_or(Value::Null);
            conflicts
                .entry(m.seq)
                .or_insert_with(|| (m.record_id, Vec::new()))
                .1
                .push(FieldConflict {
                    field,
                    base_version,
                    server_value: json(&server_value),
                    server_hlc: row.8,
                    server_author: row.6,
                    device_value: json(&device_value),
                    device_hlc: row.9,
                    device_author: row.7,
                    winner: if winner == "device" {
                        Winner::Device
                    } else {
                        Winner::Server
                    },
                });
        }
        if conflicts.is_empty() {
            continue;
        }
        // The record's current version: at or after the version the conflict produced.
        let ids: Vec<String> = conflicts.values().map(|(id, _)| id.to_string()).collect();
        let versions: HashMap<String, i64> = sync_records::table
            .filter(sync_records::id.eq_any(&ids))
            .select((sync_records::id, sync_records::version))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect();
        for (seq, (id, cs)) in conflicts {
            let version = versions.get(&id.to_string()).copied().unwrap_or(0);
            out.entry(seq).or_insert(MutationOutcome::Conflict {
                version,
                conflicts: cs,
            });
        }
    }
    Ok(out)
}
