//! Conflict review: a person picks the value of a contested field; the choice is written as an
//! ordinary server change, so every device in scope pulls it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use anju_shared::hlc::HlcClock;
use anju_shared::merge::{ElementTag, FieldState};
use anju_shared::records::{FieldKind, schema_for, validate_value};
use diesel::prelude::*;
use serde_json::Value;

use super::schema::{sync_conflicts, sync_records, sync_scope_exits};
use super::scope::Scope;
use super::store::{RecordRow, lock_counter, scope_columns, store_counter};
use crate::db::DbConnection;

/// Why a resolution was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No such conflict (or not visible to the caller).
    #[error("conflict not found")]
    NotFound,
    /// The caller sees the record but is not its responsible unit.
    #[error("not the record's unit")]
    NotYourUnit,
    /// Already resolved.
    #[error("conflict already resolved")]
    AlreadyResolved,
    /// The value does not fit the field.
    #[error("{code}: {message_en}")]
    InvalidValue {
        /// Stable code from the field validation.
        code: String,
        /// Chinese message.
        message_zh: String,
        /// English message.
        message_en: String,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    /// A stored row could not be read.
    #[error(transparent)]
    Corrupt(#[from] anyhow::Error),
}

/// Resolves conflict `id` with `value`, chosen by `author` (e.g. `user:<id>`) whose scope is
/// `scope` (it must be the record's unit, see [`Scope::may_decide`]). The field is set to `value` at a new version (a deleted record is restored, since a
/// person chose to keep an edit of it), the conflict is marked resolved, and both commit
/// together. Returns the record's new version.
pub fn resolve(
    conn: &mut DbConnection,
    clock: &Mutex<HlcClock>,
    scope: &Scope,
    author: &str,
    id: &str,
    value: &Value,
    now_ms: i64,
) -> Result<i64, ResolveError> {
    conn.transaction(|conn| {
        let (mut seq, _) = lock_counter(conn)?;
        let (record_id, field, status): (String, String, String) = sync_conflicts::table
            .find(id)
            .select((
                sync_conflicts::record_id,
                sync_conflicts::field,
                sync_conflicts::status,
            ))
            .first(conn)
            .optional()?
            .ok_or(ResolveError::NotFound)?;
        let row: RecordRow = sync_records::table
            .find(&record_id)
            .select(RecordRow::as_select())
            .first(conn)
            .optional()?
            .ok_or(ResolveError::NotFound)?;
        let (unit, area) = row.scope_ids();
        if !scope.sees(unit, area) {
            return Err(ResolveError::NotFound);
        }
        if !scope.may_decide(unit, area) {
            return Err(ResolveError::NotYourUnit);
        }
        if status != "open" {
            return Err(ResolveError::AlreadyResolved);
        }
        let mut record = row.to_record()?;
        let spec = schema_for(&record.record_type)
            .and_then(|s| s.field(&field))
            .ok_or(ResolveError::NotFound)?;
        let invalid = |e: anju_shared::records::FieldError| ResolveError::InvalidValue {
            code: e.code.to_owned(),
            message_zh: e.message_zh,
            message_en: e.message_en,
        };
        let is_set = matches!(spec.kind, FieldKind::StringSet { .. });
        let stored_value = if is_set {
            let Value::Array(items) = value else {
                return Err(ResolveError::InvalidValue {
                    code: "wrong_type".into(),
                    message_zh: "集合字段应为字符串数组".into(),
                    message_en: "a set field takes an array of strings".into(),
                });
            };
            validate_value(&spec.kind, &serde_json::json!({ "add": items })).map_err(invalid)?;
            let mut sorted: Vec<String> = items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            sorted.sort();
            sorted.dedup();
            Value::Array(sorted.into_iter().map(Value::String).collect())
        } else {
            spec.validate(value).map_err(invalid)?;
            value.clone()
        };
        let hlc = {
            let mut clock = clock.lock().unwrap_or_else(|p| p.into_inner());
            clock.tick(u64::try_from(now_ms).unwrap_or(0)).to_string()
        };
        let before = scope_columns(&record);
        seq += 1;
        let exit_seq = seq;
        seq += 1;
        let elements: BTreeMap<String, Vec<ElementTag>> = if is_set {
            stored_value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str())
                .map(|e| {
                    (
                        e.to_owned(),
                        vec![ElementTag {
                            version: seq,
                            author: author.to_owned(),
                        }],
                    )
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        record.fields.insert(
            field.clone(),
            FieldState {
                value: stored_value,
                hlc,
                version: seq,
                author: author.to_owned(),
                elements,
            },
        );
        record.version = seq;
        record.deleted = false;
        let after = scope_columns(&record);
        if after != before {
            diesel::insert_into(sync_scope_exits::table)
                .values((
                    sync_scope_exits::seq.eq(exit_seq),
                    sync_scope_exits::record_id.eq(&record_id),
                    sync_scope_exits::record_type.eq(&record.record_type),
                    sync_scope_exits::unit_id.eq(before.0.map(|u| u.to_string())),
                    sync_scope_exits::area_id.eq(before.1.map(|a| a.to_string())),
                    sync_scope_exits::created_at.eq(now_ms),
                ))
                .execute(conn)?;
        }
        let new_row = RecordRow::from_record(&record, seq, now_ms);
        diesel::update(sync_records::table.find(&record_id))
            .set(&new_row)
            .execute(conn)?;
        diesel::update(sync_conflicts::table.find(id))
            .set((
                sync_conflicts::status.eq("resolved"),
                sync_conflicts::resolution.eq(Some(value.to_string())),
                sync_conflicts::resolved_by.eq(Some(author.to_owned())),
                sync_conflicts::resolved_at.eq(Some(now_ms)),
                sync_conflicts::unit_id.eq(after.0.map(|u| u.to_string())),
                sync_conflicts::area_id.eq(after.1.map(|a| a.to_string())),
            ))
            .execute(conn)?;
        store_counter(conn, seq)?;
        Ok(seq)
    })
}
