//! The fund ledger of a project (资金台账): budget by source, funds received (到位) by source and
//! funds paid out (支付), as append-only entries. A correction is one more entry naming the entry
//! it corrects, with the signed difference as its amount; nothing is updated or deleted, so the
//! entries are the history. The rules every new entry is checked against are here, so the form,
//! the API and the sheet import refuse the same things with the same codes.

use crate::error::ErrorCode;
use std::collections::BTreeMap;

use diesel::prelude::*;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::schema::fund_entries;
use crate::db::DbConnection;

/// Where money comes from (资金来源).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// 中央补助资金.
    Central,
    /// 省级资金.
    Provincial,
    /// 市级资金.
    City,
    /// 区县资金.
    District,
    /// 社会资本 (PPP).
    SocialCapital,
    /// 银行贷款.
    BankLoan,
    /// 居民出资.
    Residents,
}

impl Source {
    /// Every source, in the order of tables and sheets.
    pub const ALL: [Source; 7] = [
        Source::Central,
        Source::Provincial,
        Source::City,
        Source::District,
        Source::SocialCapital,
        Source::BankLoan,
        Source::Residents,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Central => "central",
            Source::Provincial => "provincial",
            Source::City => "city",
            Source::District => "district",
            Source::SocialCapital => "social_capital",
            Source::BankLoan => "bank_loan",
            Source::Residents => "residents",
        }
    }

    /// Chinese label, as the sheet says it.
    pub fn label_zh(self) -> &'static str {
        match self {
            Source::Central => "中央补助",
            Source::Provincial => "省级资金",
            Source::City => "市级资金",
            Source::District => "区县资金",
            Source::SocialCapital => "社会资本(PPP)",
            Source::BankLoan => "银行贷款",
            Source::Residents => "居民出资",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Source::Central => "Central subsidy",
            Source::Provincial => "Provincial funds",
            Source::City => "City funds",
            Source::District => "District funds",
            Source::SocialCapital => "Social capital (PPP)",
            Source::BankLoan => "Bank loans",
            Source::Residents => "Residents' contribution",
        }
    }

    /// Parses a wire name or either label (case-insensitive for English).
    pub fn parse(s: &str) -> Option<Source> {
        let s = s.trim();
        Source::ALL.into_iter().find(|x| {
            x.as_str() == s
                || x.label_zh() == s
                || x.label_en().eq_ignore_ascii_case(s)
                || (s == "社会资本" && *x == Source::SocialCapital)
                || (s.eq_ignore_ascii_case("ppp") && *x == Source::SocialCapital)
        })
    }
}

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = FundEntryKind)]
pub enum Kind {
    /// 预算: money allocated to the project from a source.
    Budget,
    /// 到位: money that arrived from a source.
    Received,
    /// 支付: money paid out of what arrived.
    Paid,
}

impl Kind {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Budget => "budget",
            Kind::Received => "received",
            Kind::Paid => "paid",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Kind::Budget => "预算",
            Kind::Received => "到位",
            Kind::Paid => "支付",
        }
    }

    /// Parses a wire name or the Chinese label.
    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.trim();
        [Kind::Budget, Kind::Received, Kind::Paid]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s) || k.label_zh() == s)
    }
}

/// One stored entry.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, utoipa::ToSchema)]
#[diesel(table_name = fund_entries)]
pub struct Entry {
    /// Entry id.
    pub id: String,
    /// The project's sync record id.
    pub project_id: String,
    /// `budget`, `received` or `paid`.
    pub kind: String,
    /// Source wire name (budget and received; null for a payment).
    pub source: Option<String>,
    /// Whole yuan (元); a correction's signed difference.
    pub amount: i64,
    /// The day the money was allocated, arrived or was paid (YYYY-MM-DD).
    pub entry_date: String,
    /// Free note (invoice, contract, voucher number…).
    pub note: String,
    /// The entry this one corrects, if it is a correction.
    pub corrects: Option<String>,
    /// Who recorded it (user id or `system`).
    pub recorded_by: String,
    /// Their display name.
    pub recorded_by_name: String,
    /// `api` (form or API), `import` or `sample`.
    pub origin: String,
    /// When it was recorded, ms since the epoch.
    pub recorded_at: i64,
}

/// Largest single amount accepted: 10¹² 元.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// A new entry as asked for (before the checks).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    /// `budget`, `received` or `paid` (预算/到位/支付). Ignored for a correction (the corrected
    /// entry's kind is used).
    #[serde(default)]
    pub kind: Option<String>,
    /// Source wire name or label, for budget and received.
    #[serde(default)]
    pub source: Option<String>,
    /// Whole yuan; > 0, or a signed non-zero difference for a correction.
    pub amount: i64,
    /// YYYY-MM-DD, not after today.
    pub date: String,
    /// Free note.
    #[serde(default)]
    pub note: Option<String>,
    /// The entry this one corrects.
    #[serde(default)]
    pub corrects: Option<String>,
}

/// A refusal: stable code, zh and en message.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// Stable code, e.g. `payment_exceeds_received`.
    pub code: ErrorCode,
    /// Chinese message.
    pub zh: String,
    /// English message.
    pub en: String,
}

fn refuse(code: ErrorCode, zh: String, en: String) -> Refusal {
    Refusal { code, zh, en }
}

/// The checked form of a [`NewEntry`], ready to store.
#[derive(Debug, Clone)]
pub struct Checked {
    /// What it records.
    pub kind: Kind,
    /// Its source (budget, received).
    pub source: Option<Source>,
    /// Signed amount.
    pub amount: i64,
    /// Its day.
    pub date: Date,
    /// Note, trimmed.
    pub note: String,
    /// The corrected entry.
    pub corrects: Option<String>,
}

/// Totals of a ledger.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// Budget by source wire name.
    pub budget_by_source: BTreeMap<String, i64>,
    /// Received by source wire name.
    pub received_by_source: BTreeMap<String, i64>,
    /// Total budget.
    pub budget: i64,
    /// Total received.
    pub received: i64,
    /// Total paid.
    pub paid: i64,
}

/// A project's entries (oldest recorded first) and what follows from them.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// The entries, in recording order.
    pub entries: Vec<Entry>,
}

impl Ledger {
    /// The totals (corrections included).
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for e in &self.entries {
            let src = e.source.clone().unwrap_or_default();
            match Kind::parse(&e.kind) {
                Some(Kind::Budget) => {
                    t.budget += e.amount;
                    *t.budget_by_source.entry(src).or_default() += e.amount;
                }
                Some(Kind::Received) => {
                    t.received += e.amount;
                    *t.received_by_source.entry(src).or_default() += e.amount;
                }
                Some(Kind::Paid) => t.paid += e.amount,
                None => {}
            }
        }
        t
    }

    /// An entry's amount after its corrections.
    pub fn effective(&self, id: &str) -> i64 {
        self.entries
            .iter()
            .filter(|e| e.id == id || e.corrects.as_deref() == Some(id))
            .map(|e| e.amount)
            .sum()
    }

    /// Checks `e` against this ledger and `today`; nothing is stored.
    pub fn check(&self, e: &NewEntry, today: Date) -> Result<Checked, Refusal> {
        let date: Date = e.date.trim().parse().map_err(|_| {
            refuse(
                ErrorCode::InvalidFundDate,
                format!("日期无效（应为 YYYY-MM-DD）：{}", e.date),
                format!("not a date (YYYY-MM-DD): {}", e.date),
            )
        })?;
        if date > today {
            return Err(refuse(
                ErrorCode::InvalidFundDate,
                format!("日期不能晚于今天：{date}"),
                format!("the date is after today: {date}"),
            ));
        }
        let note = e.note.as_deref().unwrap_or("").trim().to_owned();
        if note.chars().count() > 500 {
            return Err(refuse(
                ErrorCode::InvalidFundNote,
                "备注最多 500 字".into(),
                "a note is at most 500 characters".into(),
            ));
        }
        if e.amount.abs() > MAX_AMOUNT {
            return Err(refuse(
                ErrorCode::InvalidFundAmount,
                format!("金额超出范围：{}", e.amount),
                format!("the amount is out of range: {}", e.amount),
            ));
        }
        let (kind, source, corrects) = if let Some(c) = e.corrects.as_deref() {
            let target = self
                .entries
                .iter()
                .find(|x| x.id == c && x.corrects.is_none())
                .ok_or_else(|| {
                    refuse(
                        ErrorCode::FundEntryNotFound,
                        format!("本项目没有要更正的这条记录：{c}"),
                        format!("this project has no entry {c} to correct"),
                    )
                })?;
            if e.amount == 0 {
                return Err(refuse(
                    ErrorCode::InvalidFundAmount,
                    "更正金额不能为 0".into(),
                    "a correction's amount is not 0".into(),
                ));
            }
            if self.effective(c) + e.amount < 0 {
                return Err(refuse(
                    ErrorCode::CorrectionBelowZero,
                    "更正后金额将小于 0".into(),
                    "the corrected amount would be below 0".into(),
                ));
            }
            let kind = Kind::parse(&target.kind).unwrap_or(Kind::Paid);
            (
                kind,
                target.source.as_deref().and_then(Source::parse),
                Some(c.to_owned()),
            )
        } else {
            let kind = e.kind.as_deref().and_then(Kind::parse).ok_or_else(|| {
                let k = e.kind.clone().unwrap_or_default();
                refuse(
                    ErrorCode::InvalidFundKind,
                    format!("类型应为 预算、到位 或 支付：{k}"),
                    format!("the kind is budget, received or paid: {k}"),
                )
            })?;
            if e.amount <= 0 {
                return Err(refuse(
                    ErrorCode::InvalidFundAmount,
                    format!("金额应为正整数（元）：{}", e.amount),
                    format!(
                        "the amount is a positive whole number of yuan: {}",
                        e.amount
                    ),
                ));
            }
            let source = match kind {
                Kind::Paid => None,
                _ => {
                    let s = e.source.clone().unwrap_or_default();
                    Some(Source::parse(&s).ok_or_else(|| {
                        refuse(
                            ErrorCode::InvalidFundSource,
                            format!("未知的资金来源：{s}"),
                            format!("unknown fund source: {s}"),
                        )
                    })?)
                }
            };
            (kind, source, None)
        };
        let t = self.totals();
        let (received, paid) = match kind {
            Kind::Received => (t.received + e.amount, t.paid),
            Kind::Paid => (t.received, t.paid + e.amount),
            Kind::Budget => (t.received, t.paid),
        };
        if paid > received {
            return Err(refuse(
                ErrorCode::PaymentExceedsReceived,
                format!("支付合计 {paid} 元将超过到位资金 {received} 元，未作任何记录"),
                format!(
                    "payments would total {paid} yuan, more than the {received} yuan received; nothing was recorded"
                ),
            ));
        }
        Ok(Checked {
            kind,
            source,
            amount: e.amount,
            date,
            note,
            corrects,
        })
    }
}

/// Who records, and through what.
pub struct Recorder<'a> {
    /// User id (or `system`).
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// `api`, `import` or `sample`.
    pub origin: &'a str,
}

/// Stores a checked entry for `project_id` and returns it, and writes the project's synced fund
/// summary (`funds::record::refresh`, flags as of `today`), in the caller's transaction:
/// the one write path of the ledger.
pub fn insert(
    conn: &mut DbConnection,
    project_id: &str,
    c: &Checked,
    who: &Recorder<'_>,
    now_ms: i64,
    today: Date,
) -> Result<Entry, crate::error::ApiError> {
    let e = Entry {
        id: uuid::Uuid::now_v7().to_string(),
        project_id: project_id.to_owned(),
        kind: c.kind.as_str().to_owned(),
        source: c.source.map(|s| s.as_str().to_owned()),
        amount: c.amount,
        entry_date: c.date.to_string(),
        note: c.note.clone(),
        corrects: c.corrects.clone(),
        recorded_by: who.id.to_owned(),
        recorded_by_name: who.name.to_owned(),
        origin: who.origin.to_owned(),
        recorded_at: now_ms,
    };
    diesel::insert_into(fund_entries::table)
        .values((
            fund_entries::id.eq(&e.id),
            fund_entries::project_id.eq(&e.project_id),
            fund_entries::kind.eq(&e.kind),
            fund_entries::source.eq(&e.source),
            fund_entries::amount.eq(e.amount),
            fund_entries::entry_date.eq(&e.entry_date),
            fund_entries::note.eq(&e.note),
            fund_entries::corrects.eq(&e.corrects),
            fund_entries::recorded_by.eq(&e.recorded_by),
            fund_entries::recorded_by_name.eq(&e.recorded_by_name),
            fund_entries::origin.eq(&e.origin),
            fund_entries::recorded_at.eq(e.recorded_at),
        ))
        .execute(conn)?;
    super::record::refresh(conn, project_id, now_ms, today)?;
    Ok(e)
}

/// The ledger of one project.
pub fn load(conn: &mut DbConnection, project_id: &str) -> QueryResult<Ledger> {
    let entries = fund_entries::table
        .filter(fund_entries::project_id.eq(project_id))
        .order((fund_entries::recorded_at.asc(), fund_entries::id.asc()))
        .select(Entry::as_select())
        .load(conn)?;
    Ok(Ledger { entries })
}

/// Every project's ledger, by project id.
pub fn load_all(conn: &mut DbConnection) -> QueryResult<BTreeMap<String, Ledger>> {
    let rows: Vec<Entry> = fund_entries::table
        .order((fund_entries::recorded_at.asc(), fund_entries::id.asc()))
        .select(Entry::as_select())
        .load(conn)?;
    let mut out: BTreeMap<String, Ledger> = BTreeMap::new();
    for e in rows {
        out.entry(e.project_id.clone()).or_default().entries.push(e);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, kind: Kind, amount: i64) -> Entry {
        Entry {
            id: id.into(),
            project_id: "p".into(),
            kind: kind.as_str().into(),
            source: (kind != Kind::Paid).then(|| "city".into()),
            amount,
            entry_date: "2031-01-05".into(),
            note: String::new(),
            corrects: None,
            recorded_by: "u".into(),
            recorded_by_name: "U".into(),
            origin: "api".into(),
            recorded_at: 1,
        }
    }

    fn new(kind: &str, amount: i64) -> NewEntry {
        NewEntry {
            kind: Some(kind.into()),
            source: Some("central".into()),
            amount,
            date: "2031-02-01".into(),
            note: None,
            corrects: None,
        }
    }

    #[test]
    fn a_payment_beyond_what_arrived_is_refused_and_within_it_accepted() {
        let today: Date = "2031-06-01".parse().unwrap();
        let l = Ledger {
            entries: vec![entry("a", Kind::Received, 100), entry("b", Kind::Paid, 60)],
        };
        assert_eq!(
            l.check(&new("paid", 41), today).unwrap_err().code.as_str(),
            "payment_exceeds_received"
        );
        assert!(l.check(&new("支付", 40), today).is_ok());
        // Lowering a receipt below what was paid is refused too.
        let c = NewEntry {
            corrects: Some("a".into()),
            ..new("paid", -50)
        };
        assert_eq!(
            l.check(&c, today).unwrap_err().code.as_str(),
            "payment_exceeds_received"
        );
        let c = NewEntry {
            corrects: Some("a".into()),
            ..new("paid", -40)
        };
        assert_eq!(l.check(&c, today).unwrap().kind, Kind::Received);
    }

    #[test]
    fn bad_fields_have_their_codes() {
        let today: Date = "2031-06-01".parse().unwrap();
        let l = Ledger::default();
        assert_eq!(
            l.check(&new("x", 1), today).unwrap_err().code.as_str(),
            "invalid_fund_kind"
        );
        assert_eq!(
            l.check(&new("budget", 0), today).unwrap_err().code.as_str(),
            "invalid_fund_amount"
        );
        let future = NewEntry {
            date: "2031-06-02".into(),
            ..new("budget", 1)
        };
        assert_eq!(
            l.check(&future, today).unwrap_err().code.as_str(),
            "invalid_fund_date"
        );
        let nosrc = NewEntry {
            source: Some("lottery".into()),
            ..new("budget", 1)
        };
        assert_eq!(
            l.check(&nosrc, today).unwrap_err().code.as_str(),
            "invalid_fund_source"
        );
        assert_eq!(Source::parse("PPP"), Some(Source::SocialCapital));
    }
}
