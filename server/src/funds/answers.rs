//! The JSON answers of the funds endpoints, as typed values the handlers build and the OpenAPI
//! document describes.

use serde::Serialize;
use serde_json::Value;

use super::ledger::{Entry, Source};
use super::report::ProjectFunds;

/// A fund source with its labels.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceInfo {
    /// Wire name.
    pub source: &'static str,
    /// Chinese label.
    pub label_zh: &'static str,
    /// English label.
    pub label_en: &'static str,
}

/// Every fund source, in order.
pub fn sources() -> Vec<SourceInfo> {
    Source::ALL
        .into_iter()
        .map(|s| SourceInfo {
            source: s.as_str(),
            label_zh: s.label_zh(),
            label_en: s.label_en(),
        })
        .collect()
}

/// `GET /api/v1/funds`: every project in the caller's scope with its funds and flags.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FundsList {
    /// One per project.
    pub items: Vec<ProjectFunds>,
    /// Projects with any flag.
    pub flagged: usize,
    /// The idle threshold used, in days.
    pub idle_days: i64,
    /// The ahead-of-progress margin used.
    pub ahead_margin: f64,
    /// The fund sources.
    pub sources: Vec<SourceInfo>,
}

/// One entry of a ledger.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LedgerEntry {
    /// The entry as recorded.
    #[serde(flatten)]
    pub entry: Entry,
    /// The amount after its corrections (original entries only; absent on a correction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_amount: Option<i64>,
}

/// `GET /api/v1/funds/projects/{id}`: a project's ledger.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ledger {
    /// Its totals and flags.
    pub funds: ProjectFunds,
    /// Every entry, newest first.
    pub entries: Vec<LedgerEntry>,
    /// The fund sources.
    pub sources: Vec<SourceInfo>,
}

/// `POST /api/v1/funds/projects/{id}/entries`: the new entry and the ledger after it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    /// The entry recorded.
    pub entry: Entry,
    /// The ledger after it.
    #[serde(flatten)]
    pub ledger: Ledger,
}

/// `POST /api/v1/funds/import`: what the sheet holds and what was recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FundsImport {
    /// Whether nothing was recorded (the default).
    pub dry_run: bool,
    /// Data rows read (the header not counted).
    pub rows: usize,
    /// Entries the sheet records.
    pub entries: usize,
    /// Rows already in the ledger, skipped.
    pub skipped: usize,
    /// Entries recorded (0 on a dry run).
    pub recorded: usize,
    /// Always empty: a sheet with any bad row is refused with 422 `import_has_errors`.
    pub errors: Vec<Value>,
}

/// What `GET /api/v1/public/funds` answers (`report::public` builds it): yuan, sums only.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicFunds {
    /// The year.
    pub year: i32,
    /// Always `yuan`.
    pub unit: String,
    /// Every district, with zeros where nothing was recorded.
    pub districts: Vec<PublicFundsDistrict>,
    /// The city's sums.
    pub city: PublicFundsCity,
    /// Per source of funds (`central`, `provincial`, …): its labels, budget and received.
    pub sources: std::collections::BTreeMap<String, PublicSourceSums>,
}

/// One district's fund sums.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicFundsDistrict {
    /// District area id.
    pub area_id: String,
    /// District code.
    pub code: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// Per programme (`shantytown`, `dangerous_housing`, `old_community`).
    pub programmes: std::collections::BTreeMap<String, PublicFundSums>,
    /// All programmes.
    pub total: PublicFundSums,
}

/// The city's fund sums.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicFundsCity {
    /// Per programme.
    pub programmes: std::collections::BTreeMap<String, PublicFundSums>,
    /// All programmes.
    pub total: PublicFundSums,
}

/// Budget, received and paid, yuan, with the shares of the budget.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicFundSums {
    /// Budget.
    pub budget: i64,
    /// Received (到位).
    pub received: i64,
    /// Paid out (支付).
    pub paid: i64,
    /// Received ÷ budget, %, one decimal; null without a budget.
    #[schema(required = true)]
    pub received_percent: Option<f64>,
    /// Paid ÷ budget, %, one decimal; null without a budget.
    #[schema(required = true)]
    pub paid_percent: Option<f64>,
}

/// One source of funds in the public answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicSourceSums {
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// Budget from this source.
    pub budget: i64,
    /// Received from this source.
    pub received: i64,
}
