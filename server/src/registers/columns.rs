//! The register columns of a `sync_records` row: queryable copies of what the register lists
//! filter, sort and search on and what progress against plan sums. Sync stores them with the
//! record in the same statement ([`crate::sync::store::RecordRow::from_record`]); the rule that
//! computes them is registers', handed to sync as [`RegisterRecords`] (a
//! [`crate::sync::hooks::RecordHooks`], wired by `startup`; the office's own writes pass it
//! directly), so every register write — push, conflict review, office edit — keeps them. A
//! ticket copy or a fund summary is no register: its row has none. Backfilled by the migration
//! `2026-12-03-000410_register_columns`. See `docs/registers.md` ("Indexes").

use super::list::{REGISTERS, date_field};
use anju_shared::merge::StoredRecord;
use anju_shared::records::HAZARD;
use diesel::QueryResult;

use crate::db::DbConnection;
use crate::sync::hooks::RecordHooks;
use crate::sync::store::RegisterColumns;

/// Separator between the field texts of [`RegisterColumns::search`] (a control character no
/// search text contains, so a match never spans two fields).
pub const SEARCH_SEPARATOR: char = '\u{1f}';

/// The register columns of `record`; a tombstone keeps none (lists and progress skip it).
pub fn register_columns(record: &StoredRecord) -> RegisterColumns {
    let t = record.record_type.as_str();
    if record.deleted || !REGISTERS.iter().any(|(n, _, _)| *n == t) {
        return RegisterColumns::default();
    }
    let text = |name: &str| {
        record
            .fields
            .get(name)
            .and_then(|f| f.value.as_str())
            .map(str::to_owned)
    };
    let int = |name: &str| record.fields.get(name).and_then(|f| f.value.as_i64());
    let is_project = t == "project";
    let texts: Vec<String> = record
        .fields
        .values()
        .filter_map(|f| f.value.as_str())
        .map(str::to_lowercase)
        .collect();
    RegisterColumns {
        grade: text(if t == "building" {
            "safety_grade"
        } else {
            "grade"
        }),
        severity: text("severity"),
        date_on: text(date_field(t)).map(|s| s.get(..10).map(str::to_owned).unwrap_or(s)),
        due_on: match t {
            "project" => text("planned_completion"),
            "hazard" => text("deadline"),
            _ => None,
        },
        finished_on: is_project.then(|| text("actual_completion")).flatten(),
        planned_units: is_project.then(|| int("planned_units")).flatten(),
        completed_units: is_project.then(|| int("completed_units")).flatten(),
        search: Some(texts.join(&SEARCH_SEPARATOR.to_string())),
    }
}

/// Registers' rules on every record sync writes: the row's register columns
/// ([`register_columns`]), and a hazard's order clock reindexed with the hazard
/// (`clocks::hazards::reindex`, in the same transaction).
pub struct RegisterRecords;

impl RecordHooks for RegisterRecords {
    fn columns(&self, record: &StoredRecord) -> RegisterColumns {
        register_columns(record)
    }

    fn written(
        &self,
        conn: &mut DbConnection,
        record: &StoredRecord,
        now_ms: i64,
    ) -> QueryResult<()> {
        if record.record_type == HAZARD.name {
            crate::clocks::hazards::reindex(conn, record, now_ms)?;
        }
        Ok(())
    }
}
