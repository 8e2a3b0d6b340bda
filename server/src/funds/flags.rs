//! Supervision flags (资金监管预警) of a project's ledger:
//!
//! - **idle** (资金闲置): money that arrived and was not paid out for more than `idle_days` days.
//!   Payments spend the oldest receipts first; what remains of receipts dated more than
//!   `idle_days` before today is idle, and the oldest such receipt's date is when it started.
//! - **ahead of progress** (支付超进度): the paid share of the budget is more than the project's
//!   physical progress (`progress_percent`) plus `ahead_margin` percentage points.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::ledger::{Kind, Ledger};

/// The thresholds (query `?idle_days=&ahead_margin=`).
#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
pub struct Thresholds {
    /// Days after which unspent money counts as idle (1..=3650, default 90).
    pub idle_days: Option<i64>,
    /// Percentage points the paid share may lead progress by (0..=100, default 0).
    pub ahead_margin: Option<f64>,
}

/// Default of `idle_days`.
pub const DEFAULT_IDLE_DAYS: i64 = 90;

impl Thresholds {
    /// Idle days, clamped to 1..=3650.
    pub fn idle_days(&self) -> i64 {
        self.idle_days.unwrap_or(DEFAULT_IDLE_DAYS).clamp(1, 3650)
    }
    /// Margin, clamped to 0..=100.
    pub fn ahead_margin(&self) -> f64 {
        let m = self.ahead_margin.unwrap_or(0.0);
        if m.is_finite() {
            m.clamp(0.0, 100.0)
        } else {
            0.0
        }
    }
}

/// Idle money of a project.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Idle {
    /// Yuan received more than `idle_days` ago and not paid out.
    pub amount: i64,
    /// The date of the oldest receipt still (partly) unspent.
    pub since: String,
    /// Days from `since` to today.
    pub days: i64,
}

/// Payments ahead of physical progress.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ahead {
    /// Paid ÷ budget, percent, one decimal.
    pub paid_percent: f64,
    /// The project's progress percent.
    pub progress_percent: i64,
}

/// The flags of one project (absent: not raised).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Flags {
    /// 资金闲置.
    pub idle: Option<Idle>,
    /// 支付超进度.
    pub ahead_of_progress: Option<Ahead>,
}

impl Flags {
    /// Whether any flag is raised.
    pub fn any(&self) -> bool {
        self.idle.is_some() || self.ahead_of_progress.is_some()
    }
}

/// Paid ÷ budget in percent, one decimal (None without a budget).
pub fn paid_percent(paid: i64, budget: i64) -> Option<f64> {
    (budget > 0).then(|| (paid as f64 * 1000.0 / budget as f64).round() / 10.0)
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    i64::from((to - from).get_days())
}

/// The flags of `ledger` for a project at `progress_percent`, on `today`.
pub fn compute(ledger: &Ledger, progress_percent: i64, today: Date, t: &Thresholds) -> Flags {
    let totals = ledger.totals();
    let mut idle_amount = 0;
    let mut since: Option<Date> = None;
    for (d, left) in unspent(ledger) {
        if days_between(d, today) > t.idle_days() {
            idle_amount += left;
            since = Some(since.map_or(d, |s: Date| s.min(d)));
        }
    }
    let idle = since.map(|s| Idle {
        amount: idle_amount,
        since: s.to_string(),
        days: days_between(s, today),
    });
    let ahead = paid_percent(totals.paid, totals.budget)
        .filter(|p| *p > progress_percent as f64 + t.ahead_margin())
        .map(|p| Ahead {
            paid_percent: p,
            progress_percent,
        });
    Flags {
        idle,
        ahead_of_progress: ahead,
    }
}

/// The first day after `today` on which [`compute`] can answer differently for `ledger` with no
/// new entry and no change of progress: tomorrow while money is idle (its day count moves on),
/// else the day the oldest unspent receipt turns idle; `None` when no receipt is unspent.
pub fn next_change(ledger: &Ledger, today: Date, t: &Thresholds) -> Option<Date> {
    let mut next: Option<Date> = None;
    for (d, _) in unspent(ledger) {
        let day = if days_between(d, today) > t.idle_days() {
            today.tomorrow().ok()?
        } else {
            d.checked_add(jiff::Span::new().days(t.idle_days() + 1))
                .ok()?
        };
        next = Some(next.map_or(day, |n: Date| n.min(day)));
    }
    next
}

/// What is left of each receipt (with its corrections) once the payments have spent the oldest
/// receipts first: `(date received, yuan left)`, oldest first, only receipts with money left.
fn unspent(ledger: &Ledger) -> Vec<(Date, i64)> {
    let mut receipts: Vec<(Date, i64)> = ledger
        .entries
        .iter()
        .filter(|e| e.corrects.is_none() && Kind::parse(&e.kind) == Some(Kind::Received))
        .filter_map(|e| Some((e.entry_date.parse().ok()?, ledger.effective(&e.id))))
        .filter(|(_, a)| *a > 0)
        .collect();
    receipts.sort();
    let mut to_spend = ledger.totals().paid;
    receipts
        .into_iter()
        .filter_map(|(d, amount)| {
            let spent = to_spend.min(amount);
            to_spend -= spent;
            (amount > spent).then_some((d, amount - spent))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::ledger::Entry;
    use super::*;

    fn e(id: &str, kind: &str, amount: i64, date: &str) -> Entry {
        Entry {
            id: id.into(),
            project_id: "p".into(),
            kind: kind.into(),
            source: Some("city".into()),
            amount,
            entry_date: date.into(),
            note: String::new(),
            corrects: None,
            recorded_by: "u".into(),
            recorded_by_name: "U".into(),
            origin: "api".into(),
            recorded_at: 0,
        }
    }

    #[test]
    fn flags_next_change_on_the_day_a_receipt_turns_idle_then_daily() {
        let t = Thresholds {
            idle_days: Some(90),
            ahead_margin: None,
        };
        let l = Ledger {
            entries: vec![
                e("b", "budget", 1000, "2031-01-01"),
                e("r1", "received", 300, "2031-01-10"),
                e("r2", "received", 300, "2031-03-01"),
                e("p", "paid", 300, "2031-02-01"),
            ],
        };
        let day = |s: &str| s.parse::<Date>().unwrap();
        // r1 is spent; r2 turns idle 91 days after it arrived, and not a day earlier.
        let next = next_change(&l, day("2031-04-01"), &t).unwrap();
        assert_eq!(next, day("2031-05-31"));
        assert!(compute(&l, 100, day("2031-05-30"), &t).idle.is_none());
        assert!(compute(&l, 100, next, &t).idle.is_some());
        // While idle, the day count moves on every day.
        assert_eq!(
            next_change(&l, day("2031-06-10"), &t),
            Some(day("2031-06-11"))
        );
        // Everything paid out: nothing changes with the days.
        let mut paid = l.clone();
        paid.entries.push(e("p2", "paid", 300, "2031-03-02"));
        assert_eq!(next_change(&paid, day("2031-04-01"), &t), None);
    }

    #[test]
    fn payments_spend_the_oldest_receipts_first() {
        let today: Date = "2031-06-30".parse().unwrap();
        let l = Ledger {
            entries: vec![
                e("b", "budget", 1000, "2031-01-01"),
                e("r1", "received", 300, "2031-01-10"),
                e("r2", "received", 300, "2031-06-20"),
                e("p", "paid", 200, "2031-02-01"),
            ],
        };
        let t = Thresholds {
            idle_days: Some(90),
            ahead_margin: None,
        };
        let f = compute(&l, 50, today, &t);
        let idle = f.idle.unwrap();
        assert_eq!((idle.amount, idle.since.as_str()), (100, "2031-01-10"));
        assert!(f.ahead_of_progress.is_none());
        // 20 % paid against 10 % progress.
        assert_eq!(
            compute(&l, 10, today, &t)
                .ahead_of_progress
                .unwrap()
                .paid_percent,
            20.0
        );
    }
}
