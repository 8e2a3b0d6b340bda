//! The figures a bulletin stores (JSON): the period, progress by district, each unit's rates
//! and orders with its standing, overdue by unit, property managers, the units named and
//! commended, and city totals. Computed by [`super::compute`], frozen on issue.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::period::Kind;
use super::rules::{Standing, Thresholds};

/// The period as stored with the figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeriodInfo {
    /// First day.
    pub start: String,
    /// Last day.
    pub end: String,
    /// The last day whose data counts (the end, or the day of computing while it runs).
    pub through: String,
    /// Whether the period had ended when the figures were computed.
    pub complete: bool,
    /// `2026年11月`.
    pub label_zh: String,
    /// `November 2026`.
    pub label_en: String,
}

/// One programme's headline measure in one district, as at the end of the period's month.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProgrammeRow {
    /// Measure key (`shantytown_started`, …).
    pub measure: String,
    /// Its label.
    pub label_zh: String,
    /// Its English label.
    pub label_en: String,
    /// Planned for the year (null: no plan).
    pub planned: Option<i64>,
    /// Done by the end of the period's month.
    pub done: i64,
    /// Done in the months of the period.
    pub done_in_period: i64,
    /// Done ÷ planned, percent.
    pub percent: Option<f64>,
    /// The plan's even pace at the end of that month.
    pub even_pace: Option<f64>,
    /// Rank among the districts (1 = best).
    pub rank: Option<usize>,
}

/// One district's progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DistrictRow {
    /// Area id (null for the city total).
    pub area_id: Option<String>,
    /// Area code.
    pub code: String,
    /// Name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Per programme (`shantytown`, `dangerous_housing`, `old_community`).
    pub programmes: BTreeMap<String, ProgrammeRow>,
    /// Mean of the programmes' percents (综合完成率).
    pub percent: Option<f64>,
    /// Rank by that mean.
    pub rank: Option<usize>,
}

/// Progress against plan (计划完成情况).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProgressSection {
    /// Plan year.
    pub year: i32,
    /// As at the end of this month.
    pub month: i8,
    /// Districts, in the org's order.
    pub districts: Vec<DistrictRow>,
    /// The city total.
    pub city: DistrictRow,
    /// Whether anything was planned or done this year.
    pub has_data: bool,
}

/// Rectification orders (整改通知) of a unit due in the period.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrderFigures {
    /// Orders whose deadline falls in the period.
    pub due: u64,
    /// Rectified by the end of the deadline's day.
    pub on_time: u64,
    /// Rectified after it.
    pub late: u64,
    /// Not rectified at the end of the period with the deadline passed.
    pub overdue_open: u64,
    /// Deadline not yet passed and not rectified (not counted in the rate).
    pub pending: u64,
    /// on_time ÷ (on_time + late + overdue_open), percent.
    pub on_time_rate: Option<f64>,
}

/// One unit's figures and standing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnitRow {
    /// Unit id.
    pub unit_id: String,
    /// Unit code.
    pub code: String,
    /// Name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Unit kind.
    pub kind: String,
    /// Dispatches to the unit in the period.
    pub dispatched: u64,
    /// Of those, accepted in time.
    pub accepted_in_time: u64,
    /// 响应率, percent.
    pub response_rate: Option<f64>,
    /// Resident answers to the unit's resolutions.
    pub closed_answered: u64,
    /// Confirmations among them.
    pub confirmed_solved: u64,
    /// 解决率, percent.
    pub resolution_rate: Option<f64>,
    /// Ratings.
    pub ratings: u64,
    /// Ratings of 4 or 5.
    pub satisfied: u64,
    /// 满意率, percent.
    pub satisfaction_rate: Option<f64>,
    /// Ticket deadlines missed in the period.
    pub overdue_tickets: u64,
    /// Orders due in the period.
    pub orders: OrderFigures,
    /// Orders overdue at the end of the period (any deadline, neither rectified nor verified:
    /// [`crate::clocks::hazards::is_overdue`]).
    pub overdue_orders: u64,
    /// Ranking.
    pub standing: Standing,
}

/// A community handed over to a property manager.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Community {
    /// Area id.
    pub area_id: String,
    /// Name.
    pub name_zh: String,
    /// Taken over on.
    pub took_over_on: String,
}

/// A property manager (物业) on the facility complaints of its upkeep communities.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagerRow {
    /// Unit id.
    pub unit_id: String,
    /// Name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// The communities in its care (taken over by the period's end).
    pub communities: Vec<Community>,
    /// Facility complaints filed there in the period.
    pub received: u64,
    /// Dispatches to the manager.
    pub dispatched: u64,
    /// 响应率, percent.
    pub response_rate: Option<f64>,
    /// 解决率, percent.
    pub resolution_rate: Option<f64>,
    /// 满意率, percent.
    pub satisfaction_rate: Option<f64>,
    /// Deadlines missed.
    pub overdue: u64,
    /// Ranking among the property managers.
    pub standing: Standing,
}

/// A unit named or commended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Named {
    /// Unit id.
    pub unit_id: String,
    /// Name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// `units` or `property_managers`.
    pub section: String,
    /// Score, percent.
    pub score: Option<f64>,
    /// Rank in its section.
    pub rank: Option<usize>,
    /// Rates below the criticism threshold.
    pub below: Vec<String>,
}

/// Overdue tickets and orders of a unit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OverdueRow {
    /// Unit id.
    pub unit_id: String,
    /// Name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Ticket deadlines missed in the period.
    pub overdue_tickets: u64,
    /// Orders overdue at the period's end.
    pub overdue_orders: u64,
}

/// City totals for the summary.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Dispatches.
    pub dispatched: u64,
    /// 响应率, percent.
    pub response_rate: Option<f64>,
    /// 解决率, percent.
    pub resolution_rate: Option<f64>,
    /// 满意率, percent.
    pub satisfaction_rate: Option<f64>,
    /// Ticket deadlines missed.
    pub overdue_tickets: u64,
    /// Orders due.
    pub orders_due: u64,
    /// Order on-time rate, percent.
    pub order_on_time_rate: Option<f64>,
    /// Orders overdue at the end.
    pub overdue_orders: u64,
    /// The city's 综合完成率.
    pub plan_percent: Option<f64>,
    /// Units ranked.
    pub units_ranked: usize,
    /// Units with too small a sample.
    pub units_small_sample: usize,
}

/// Everything a bulletin says, as stored (JSON) in the draft and frozen on issue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BulletinData {
    /// `weekly` or `monthly`.
    pub kind: Kind,
    /// The issuing bureau (住建局, the unit of kind `housing_bureau`).
    pub issuer_zh: String,
    /// Its English name.
    pub issuer_en: String,
    /// The period.
    pub period: PeriodInfo,
    /// When computed (ms).
    pub computed_at: i64,
    /// The thresholds applied.
    pub thresholds: Thresholds,
    /// False when the period had no complaint, order or project activity (本期无数据).
    pub has_data: bool,
    /// Progress against plan.
    pub progress: ProgressSection,
    /// Units, ranked first (by rank), then the others.
    pub units: Vec<UnitRow>,
    /// Overdue by unit, most first.
    pub overdue: Vec<OverdueRow>,
    /// 通报批评.
    pub criticised: Vec<Named>,
    /// 通报表扬.
    pub commended: Vec<Named>,
    /// Property managers.
    pub property_managers: Vec<ManagerRow>,
    /// City totals.
    pub totals: Totals,
}
