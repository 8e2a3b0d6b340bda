//! The JSON answers of the plans and progress endpoints. The plan table and the import summary
//! are built by the handlers as these types; [`Progress`] describes the value
//! `progress::compute` builds (a schema the conformance check holds it to).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::progress::MeasureProgress;
use super::store::PlanChange;

/// `GET /api/v1/plans`: every district's targets of one year.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanTable {
    /// Plan year.
    pub year: i32,
    /// The measures, in the sheet's order.
    pub measures: Vec<MeasureInfo>,
    /// One row per district.
    pub districts: Vec<DistrictPlan>,
}

/// One measure of the plan table.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeasureInfo {
    /// Wire name, e.g. `shantytown_started`.
    pub measure: &'static str,
    /// `shantytown`, `dangerous_housing` or `old_community`.
    pub programme: &'static str,
    /// Chinese label with its unit.
    pub label_zh: &'static str,
    /// English label with its unit.
    pub label_en: &'static str,
}

/// One district's targets.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DistrictPlan {
    /// District area id.
    pub area_id: String,
    /// District code.
    pub code: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// Target per measure wire name (null: not set).
    pub targets: BTreeMap<&'static str, Option<i64>>,
}

/// `PUT /api/v1/plans`: how many targets changed, and the year's table after.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlansSet {
    /// Targets whose value changed (an unchanged one is not logged).
    pub changed: usize,
    /// The year's plan table after the change.
    pub plans: PlanTable,
}

/// `GET /api/v1/plans/changes`: the year's logged changes, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanChanges {
    /// The changes.
    pub items: Vec<PlanChange>,
}

/// `POST /api/v1/plans/import`: what the sheet holds and what was applied.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanImport {
    /// Whether nothing was applied (the default).
    pub dry_run: bool,
    /// Data rows read (the header not counted).
    pub rows: usize,
    /// Targets the sheet sets.
    pub targets: usize,
    /// Targets changed (0 on a dry run).
    pub changed: usize,
    /// Always empty: a sheet with any bad row is refused with 422 `import_has_errors`.
    pub errors: Vec<Value>,
}

/// `GET /api/v1/progress`: progress against plan per district and programme, and the city's.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Progress {
    /// Plan year.
    pub year: i32,
    /// Labels per measure wire name.
    pub measures: BTreeMap<String, MeasureLabel>,
    /// One per district.
    pub districts: Vec<DistrictProgress>,
    /// The city's sums.
    pub city: CityProgress,
}

/// A measure's labels in the progress answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeasureLabel {
    /// Chinese label with its unit.
    pub label_zh: String,
    /// English label with its unit.
    pub label_en: String,
    /// The programme it measures.
    pub programme: String,
}

/// One district's progress.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DistrictProgress {
    /// District area id.
    pub area_id: String,
    /// District code.
    pub code: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// Per programme (`shantytown`, `dangerous_housing`, `old_community`).
    pub programmes: BTreeMap<String, ProgrammeProgress>,
}

/// The city's progress.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CityProgress {
    /// Per programme.
    pub programmes: BTreeMap<String, ProgrammeProgress>,
}

/// One programme: its headline measure's figures and every measure's.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProgrammeProgress {
    /// The headline measure's wire name.
    pub measure: String,
    /// Its plan (null: none set).
    pub planned: Option<i64>,
    /// Done so far.
    pub done: i64,
    /// Percent of plan (null without a plan).
    pub percent: Option<f64>,
    /// Rank among the districts (null: not ranked, and always for the city).
    pub rank: Option<usize>,
    /// Each measure of the programme.
    pub measures: BTreeMap<String, MeasureProgress>,
}
