//! The register columns of a `sync_records` row: queryable copies of what the register lists
//! filter, sort and search on and what progress against plan sums, written by
//! [`crate::sync::store::RecordRow::from_record`] in the same statement as the record itself
//! (so every writer — push, conflict review, the ticket copy — keeps them), backfilled by the
//! migration `2026-12-03-000410_register_columns`. See `docs/registers.md` ("Indexes").

use super::list::{REGISTERS, date_field};
use anju_shared::merge::StoredRecord;

/// Separator between the field texts of [`RegisterColumns::search`] (a control character no
/// search text contains, so a match never spans two fields).
pub const SEARCH_SEPARATOR: char = '\u{1f}';

/// The register columns of one record (all `None` for record types that are not registers).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegisterColumns {
    /// A building's `safety_grade`, another register's `grade` (inspections).
    pub grade: Option<String>,
    /// `severity` (hazards).
    pub severity: Option<String>,
    /// The register's date field (`list::date_field`), its first 10 characters (the day).
    pub date_on: Option<String>,
    /// What "overdue" compares with today: a project's `planned_completion`, a hazard's
    /// `deadline` (whole value).
    pub due_on: Option<String>,
    /// A project's `actual_completion` (progress: the month it counts as completed).
    pub finished_on: Option<String>,
    /// A project's `planned_units` (integers only, as progress reads them).
    pub planned_units: Option<i64>,
    /// A project's `completed_units`.
    pub completed_units: Option<i64>,
    /// Every text value of the record, each lowercased, joined by [`SEARCH_SEPARATOR`]: what
    /// `q` searches (`LIKE '%q%'`), exactly the fields the in-memory search looked at.
    pub search: Option<String>,
}

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
