//! The JSON answers of the registers endpoints, as typed values: the handlers build them and the
//! OpenAPI document describes them, so the two cannot drift.

use anju_shared::records::RecordSchema;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::history::{OpenConflict, Version};
use super::list::ListItem;

/// `GET /api/v1/registers`: the registers with their fields, and the areas and units to filter by.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Catalogue {
    /// `project`, `building`, `inspection`, `hazard`.
    pub registers: Vec<RegisterEntry>,
    /// Every area, by code.
    pub areas: Vec<AreaEntry>,
    /// Every unit, by code.
    pub units: Vec<UnitEntry>,
}

/// One register of the catalogue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterEntry {
    /// Wire name (`project`, …).
    pub name: &'static str,
    /// Name in Chinese.
    pub label_zh: &'static str,
    /// Name in English.
    pub label_en: &'static str,
    /// The shared record schema (fields, kinds, labels, merge policies).
    #[schema(value_type = Object)]
    pub schema: Option<&'static RecordSchema>,
    /// The date field a `from`/`to` range filters on (empty: none).
    pub date_field: &'static str,
}

/// An area as a filter offers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AreaEntry {
    /// Area id.
    pub id: String,
    /// Stable code.
    pub code: String,
    /// The enclosing area (none for the city).
    pub parent_id: Option<String>,
    /// `city`, `district`, `street` or `community`.
    pub kind: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
}

/// A unit as a filter offers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitEntry {
    /// Unit id.
    pub id: String,
    /// Stable code.
    pub code: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
}

/// `GET /api/v1/registers/{register}`: one page of a register.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListPage {
    /// The register's wire name.
    pub register: &'static str,
    /// The page's rows.
    pub items: Vec<ListItem>,
    /// Rows matching the filter, over every page.
    pub total: i64,
    /// Page number, from 1.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

/// `GET /api/v1/registers/{register}/{id}`: a record page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordPage {
    /// The record as a list shows it.
    pub record: ListItem,
    /// Whether the record is deleted (its page stays readable).
    pub deleted: bool,
    /// The register's Chinese name.
    pub label_zh: &'static str,
    /// Every field of the register's schema, in its order.
    pub fields: Vec<FieldView>,
    /// Parent and child records.
    pub links: Vec<Link>,
    /// Every version, oldest first.
    pub history: Vec<Version>,
    /// The open conflicts.
    pub conflicts: Vec<OpenConflict>,
}

/// One field of a record page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldView {
    /// Wire name.
    pub name: &'static str,
    /// Chinese label.
    pub label_zh: &'static str,
    /// The field's kind: a name (`date`, `bool`, …) or a one-key object with its limits
    /// (`{"text": {"max_chars": 200}}`).
    #[schema(value_type = Value)]
    pub kind: anju_shared::records::FieldKind,
    /// Whether the schema requires it.
    pub required: bool,
    /// The stored value (null when empty).
    pub value: Value,
    /// The value as people read it: ids become names, sets join with `;` (null when empty).
    pub display: Value,
    /// The field's version, if it was ever written.
    pub version: Option<i64>,
    /// Its last author stamp, if it was ever written.
    pub author: Option<String>,
}

/// Whether a linked record is above or below the page's record.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The page's record points at it.
    Parent,
    /// It points at the page's record.
    Child,
}

/// A record linked to the page's record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Link {
    /// Parent or child.
    pub relation: Relation,
    /// The field that links them (`project_id`, …).
    pub via: &'static str,
    /// The linked record in brief.
    pub record: Summary,
}

/// A linked record in brief.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = LinkedRecord)]
pub struct Summary {
    /// Its register.
    pub record_type: String,
    /// Record id.
    pub id: String,
    /// Its name, address, description or inspector (empty when none).
    pub title: String,
    /// Its status, if it has one.
    pub status: Option<String>,
    /// Its safety grade or grade, if any.
    pub grade: Option<String>,
    /// Its severity, if any.
    pub severity: Option<String>,
    /// Its area's names (null when it has none).
    #[schema(value_type = Option<Object>)]
    pub area: Value,
    /// Overdue on the server's today.
    pub overdue: bool,
}

/// The answer of an office create, edit or order action: the record's id and the push outcome
/// (never `rejected`: a refusal is an error).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Pushed {
    /// The record's id (a create's new id, an action's new `hazard_action`).
    pub id: Uuid,
    /// The sync push result: `{seq, record_id, outcome: applied|merged|conflict, version, …}`.
    #[schema(value_type = Object)]
    pub result: anju_shared::protocol::MutationResult,
}

/// `GET /api/v1/registers/hazard/{id}/order`: a hazard's rectification order (整改通知).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderState {
    /// The hazard's record id.
    pub hazard_id: String,
    /// The hazard record's version.
    pub version: i64,
    /// The hazard's status (`open` when unset).
    pub status: String,
    /// Rectification round (0 before the first).
    pub round: i64,
    /// The order's number, if issued.
    pub order_no: Option<String>,
    /// When the order was issued, `YYYY-MM-DD`.
    pub order_issued_on: Option<String>,
    /// The rectification deadline, `YYYY-MM-DD`.
    pub deadline: Option<String>,
    /// The responsible person.
    pub responsible_person: Option<String>,
    /// A pending extension's requested deadline.
    pub extension_requested: Option<String>,
    /// Why the last rectification was returned.
    pub return_reason: Option<String>,
    /// Past its deadline and still open, on the city's today.
    pub overdue: bool,
    /// The check of the current rectification's photos (each photo's distance, never a
    /// position); null when none was checked.
    #[schema(value_type = Option<Object>)]
    pub proof: Option<Value>,
    /// The actions in the order taken: each `hazard_action`'s fields with `id`, `author` and
    /// `version`.
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<Value>,
    /// The clock's reminders and escalations, oldest first.
    pub clock_events: Vec<ClockEvent>,
}

/// A reminder or escalation the clock sent about an order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClockEvent {
    /// What it was (`reminder`, `escalation`, …).
    pub kind: String,
    /// The deadline it was about.
    pub deadline: String,
    /// The city day it was sent on.
    pub day: String,
    /// The order's round then.
    pub round: i64,
    /// The unit ids told (null if the stored list is unreadable).
    #[schema(value_type = Option<Vec<String>>)]
    pub to_units: Value,
    /// When, in the city's time.
    pub at: String,
}
