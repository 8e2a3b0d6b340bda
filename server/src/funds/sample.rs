//! The sample city's fund ledgers: every sample project gets a budget split over its sources,
//! receipts and payments in line with its status and progress, and a few are made to raise the
//! supervision flags (idle money, payments ahead of progress). Deterministic (by project code),
//! dated within the server clock's current year and never after today; every entry passes the
//! same checks as an office entry and is recorded by the system.

use jiff::ToSpan;
use jiff::civil::Date;

use super::ledger::{self, Kind, NewEntry, Recorder, Source};
use crate::auth::scope::Scope;
use crate::db::DbConnection;
use crate::registers::query::{Narrow, live_records};

/// The share (per mille) of each source in a programme's budget.
fn split(programme: &str) -> &'static [(Source, i64)] {
    match programme {
        "shantytown" => &[
            (Source::Central, 400),
            (Source::Provincial, 150),
            (Source::City, 150),
            (Source::District, 100),
            (Source::BankLoan, 200),
        ],
        "dangerous_housing" => &[
            (Source::Central, 500),
            (Source::Provincial, 200),
            (Source::City, 150),
            (Source::District, 150),
        ],
        _ => &[
            (Source::Central, 350),
            (Source::Provincial, 150),
            (Source::City, 150),
            (Source::District, 150),
            (Source::SocialCapital, 150),
            (Source::Residents, 50),
        ],
    }
}

/// Yuan per planned unit (flat or household).
fn unit_cost(programme: &str) -> i64 {
    match programme {
        "shantytown" => 150_000,
        "dangerous_housing" => 40_000,
        _ => 8_000,
    }
}

/// Loads the sample ledgers unless any fund entry exists. Returns how many entries it recorded.
pub fn load_if_empty(
    conn: &mut DbConnection,
    today: Date,
    now_ms: i64,
) -> Result<usize, crate::error::ApiError> {
    use super::schema::fund_entries;
    use diesel::prelude::*;
    let any: i64 = fund_entries::table.count().get_result(conn)?;
    if any > 0 {
        return Ok(0);
    }
    let mut projects = live_records(conn, "project", &Scope::All, &Narrow::default())?;
    projects.sort_by(|a, b| a.text("code").cmp(&b.text("code")));
    let jan1 = Date::new(today.year(), 1, 1).unwrap_or(today);
    let back = |days: i64| today.checked_sub(days.days()).unwrap_or(today).max(jan1);
    let who = Recorder {
        id: "system",
        name: "系统 / system",
        origin: "sample",
    };
    let mut n = 0;
    for (i, p) in projects.iter().enumerate() {
        let programme = p.text("programme").unwrap_or("old_community");
        let status = p.text("status").unwrap_or("planned");
        let progress = p.int("progress_percent").unwrap_or(0);
        let budget = p.int("planned_units").unwrap_or(100).max(1) * unit_cost(programme);
        let pid = p.record.id.to_string();
        // Received share (per mille) and paid share of the budget.
        let (received, paid) = match status {
            "planned" => (if i % 2 == 0 { 300 } else { 0 }, 0),
            "completed" => (1000, 950),
            _ if i % 5 == 1 => (
                (progress * 10 + 300).min(1000),
                (progress * 10 + 250).min(1000),
            ),
            _ => ((progress * 10 + 200).min(1000), progress * 9),
        };
        // Every fourth project leaves its money unspent for months (idle).
        let idle = i % 4 == 0 && status != "completed";
        let paid = if idle { paid / 4 } else { paid };
        let mut entries = Vec::new();
        for (s, share) in split(programme) {
            let amount = budget * share / 1000;
            entries.push((
                Kind::Budget,
                Some(*s),
                amount,
                back(200),
                "年度资金计划下达",
            ));
            let r = amount * received / 1000;
            if r > 0 {
                entries.push((
                    Kind::Received,
                    Some(*s),
                    r,
                    back(if idle { 160 } else { 40 }),
                    "资金拨付到位",
                ));
            }
        }
        let paid_amount = budget * paid / 1000;
        if paid_amount > 0 {
            entries.push((
                Kind::Paid,
                None,
                paid_amount * 2 / 3,
                back(25),
                "工程进度款",
            ));
            entries.push((
                Kind::Paid,
                None,
                paid_amount - paid_amount * 2 / 3,
                back(8),
                "工程进度款",
            ));
        }
        for (kind, source, amount, date, note) in entries {
            if amount <= 0 {
                continue;
            }
            let l = ledger::load(conn, &pid)?;
            let e = NewEntry {
                kind: Some(kind.as_str().into()),
                source: source.map(|s| s.as_str().into()),
                amount,
                date: date.to_string(),
                note: Some(note.into()),
                corrects: None,
            };
            match l.check(&e, today) {
                Ok(c) => {
                    ledger::insert(conn, &pid, &c, &who, now_ms, today)?;
                    n += 1;
                }
                Err(r) => {
                    tracing::warn!(project = %pid, code = r.code.as_str(), "sample fund entry skipped")
                }
            }
        }
    }
    Ok(n)
}
