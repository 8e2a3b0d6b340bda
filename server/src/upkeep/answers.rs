//! The JSON answers of the hand-over endpoints, as typed values the handlers build and the
//! OpenAPI document describes.

use serde::Serialize;

/// `POST /api/v1/upkeep/handovers`: the hand-over recorded and the routing rules it made.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Handover {
    /// Hand-over id.
    pub id: String,
    /// The completed project.
    pub project_id: String,
    /// The community taken over (the project's area).
    pub area_id: String,
    /// The property manager's unit id.
    pub unit_id: String,
    /// The day it took over, `YYYY-MM-DD`.
    pub took_over_on: String,
    /// Who recorded it.
    pub created_by_name: String,
    /// When, ms since the epoch.
    pub created_at: i64,
    /// The routing rules made, one per upkeep category.
    pub rules: Vec<HandoverRule>,
}

/// A routing rule a hand-over made.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HandoverRule {
    /// Rule id.
    pub id: String,
    /// The category it routes.
    pub category: &'static str,
}

/// One hand-over of the list.
// Read straight from `upkeep_handovers` as a `Selectable` row.
#[derive(Debug, Serialize, utoipa::ToSchema, diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = super::schema::upkeep_handovers)]
pub struct HandoverItem {
    /// Hand-over id.
    pub id: String,
    /// The completed project.
    pub project_id: String,
    /// The community taken over.
    pub area_id: String,
    /// The property manager's unit id.
    pub unit_id: String,
    /// The day it took over, `YYYY-MM-DD`.
    pub took_over_on: String,
    /// The note (may be empty).
    pub note: String,
    /// Who recorded it.
    pub created_by_name: String,
    /// When, ms since the epoch.
    pub created_at: i64,
}

/// `GET /api/v1/upkeep/handovers`: every hand-over, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HandoverList {
    /// The hand-overs.
    pub items: Vec<HandoverItem>,
}

/// `GET /api/v1/upkeep/managers`: every property manager in scope, ranked. A schema of the value
/// `report::list_managers` builds (the conformance check holds the answer to it).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ManagerList {
    /// Ranked first, then the unranked by code.
    pub items: Vec<ManagerRow>,
    /// Dispatches below which a manager is not ranked.
    pub min_sample: u64,
    /// The upkeep categories counted.
    pub categories: Vec<String>,
}

/// A property manager with its figures since it took its communities over.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ManagerRow {
    /// Unit id.
    pub unit_id: String,
    /// Unit code.
    pub code: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// Its communities, one per hand-over period.
    pub communities: Vec<ManagedCommunity>,
    /// Its figures summed over them.
    pub figures: super::figures::Figures,
    /// Its open overdue tickets there.
    pub overdue_open: usize,
    /// The mean of its three rates (null for a small sample).
    pub score: Option<f64>,
    /// Its rank (null: not ranked).
    pub rank: Option<i64>,
}

/// One community of a manager, for one hand-over period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ManagedCommunity {
    /// Community area id.
    pub area_id: String,
    /// Its name in Chinese.
    pub name_zh: Option<String>,
    /// Its name in English.
    pub name_en: Option<String>,
    /// Its district in Chinese.
    pub district_zh: Option<String>,
    /// Its district in English.
    pub district_en: Option<String>,
    /// The hand-over.
    pub handover_id: String,
    /// The renovation project handed over.
    pub project_id: String,
    /// The day it took over.
    pub took_over_on: String,
    /// Whether the manager still has it.
    pub current: bool,
    /// The manager's figures there in the period.
    pub figures: super::figures::Figures,
    /// Open overdue tickets there (current period only, else 0).
    pub overdue_open: usize,
    /// The project `{id, code, name, actual_completion}` (the manager page only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub project: Option<serde_json::Value>,
}

/// `GET /api/v1/upkeep/managers/{unit_id}`: one property manager.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ManagerPage {
    /// The manager, its communities with their projects.
    pub manager: ManagerRow,
    /// How many managers are ranked.
    pub ranked_of: usize,
    /// Dispatches below which a manager is not ranked.
    pub min_sample: u64,
}

/// `GET /api/v1/upkeep/communities/{area_id}`: a renovated community before and after its
/// latest hand-over. A schema of the value `report::get_community` builds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommunityPage {
    /// Community area id.
    pub area_id: String,
    /// Its name in Chinese.
    pub name_zh: Option<String>,
    /// Its name in English.
    pub name_en: Option<String>,
    /// Its district in Chinese.
    pub district_zh: Option<String>,
    /// Its district in English.
    pub district_en: Option<String>,
    /// Months compared on each side.
    pub months: i64,
    /// The latest hand-over: `{id, took_over_on, unit_id, unit_code, unit_name_zh,
    /// unit_name_en, project}`.
    #[schema(value_type = Object)]
    pub handover: serde_json::Value,
    /// Earlier hand-overs: `{id, unit_id, took_over_on}`.
    #[schema(value_type = Vec<Object>)]
    pub earlier_handovers: Vec<serde_json::Value>,
    /// The months before.
    pub before: Span,
    /// The months after (up to today).
    pub after: Span,
    /// After minus before.
    pub change: Change,
    /// The manager's own figures since it took over.
    pub manager_figures: super::figures::Figures,
    /// Its open overdue tickets there.
    pub overdue_open: usize,
    /// Each calendar month: the figures with `month` (`YYYY-MM`), `phase` (`before`,
    /// `handover`, `after`) and `overdue_open`.
    #[schema(value_type = Vec<Object>)]
    pub monthly: Vec<serde_json::Value>,
}

/// A stretch of days and its figures.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Span {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
    /// The figures.
    pub figures: super::figures::Figures,
}

/// The difference after − before.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Change {
    /// Complaints.
    pub complaints: i64,
    /// Response rate (null when either side has none).
    pub response_rate: Option<f64>,
    /// Resolution rate.
    pub resolution_rate: Option<f64>,
    /// Satisfaction rate.
    pub satisfaction_rate: Option<f64>,
    /// Deadlines missed.
    pub overdue: i64,
}
