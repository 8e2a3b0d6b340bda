//! What one ticket adds to the per-day aggregates (its *contribution*), computed from its event
//! history with the same replay as [`super::rates::unit_rates`]. The aggregate tables hold the
//! sum of every ticket's contribution; when an event is recorded the hook adds
//! `contribution(history with the event) − contribution(history without it)`, so the tables stay
//! equal to the sum whatever order events arrive in. Summing a unit's rows over the days of a
//! period gives the same counters as replaying the events of that period (tested on random
//! histories in `tests/tests/e2e/stats_daily.rs`). Pure: no database here.

use std::collections::BTreeMap;

/// The delta vocabulary lives below tickets (a batch of ticket changes gathers it): re-exported
/// here, where it is computed.
pub use crate::tickets::aggregates::{
    BoardCounts, BoardKey, Contribution, PublicCounts, UnitCounts, field,
};

/// One event as the aggregates need it.
#[derive(Debug, Clone)]
pub struct AggEvent {
    /// When, ms.
    pub at: i64,
    /// Event kind.
    pub kind: String,
    /// The event's unit as stored (the receiving unit for dispatches).
    pub unit_id: Option<String>,
    /// Status after the event.
    pub to_status: String,
    /// The resident's rating on `confirmed`/`disputed`.
    pub rating: Option<i32>,
    /// Response deadline set by the event, ms.
    pub response_due: Option<i64>,
    /// Resolution deadline set by the event, ms.
    pub resolution_due: Option<i64>,
}

/// The ticket facts the public figures are keyed by.
#[derive(Debug, Clone)]
pub struct TicketKey {
    /// When it was filed, ms.
    pub created_at: i64,
    /// The district of its area, `""` when not located.
    pub district_id: String,
    /// Its category.
    pub category_code: String,
}

/// The board scope that counts the tickets of every unit.
pub const ALL_UNITS: &str = "*";
/// Board dimension: the ticket's status.
pub const DIM_STATUS: &str = "s";
/// Board dimension: the ticket's category.
pub const DIM_CATEGORY: &str = "c";
/// Board dimension: the ticket's community.
pub const DIM_COMMUNITY: &str = "a";

/// The ticket columns the board counts by.
#[derive(Debug, Clone, Copy)]
pub struct BoardTicket<'a> {
    /// Filed at, ms.
    pub created_at: i64,
    /// The holding unit.
    pub unit_id: Option<&'a str>,
    /// The community.
    pub area_id: Option<&'a str>,
    /// The category.
    pub category_code: &'a str,
    /// The status.
    pub status: &'a str,
}

/// The board rows one ticket counts in: each dimension, for every unit and for its holder.
pub fn board_rows(day: &dyn Fn(i64) -> i32, t: BoardTicket<'_>) -> Contribution {
    let open = i64::from(!matches!(t.status, "resolved" | "closed"));
    let d = day(t.created_at);
    let mut c = Contribution::default();
    for scope in [ALL_UNITS, t.unit_id.unwrap_or_default()] {
        for (dim, value) in [
            (DIM_STATUS, t.status),
            (DIM_CATEGORY, t.category_code),
            (DIM_COMMUNITY, t.area_id.unwrap_or_default()),
        ] {
            c.board
                .insert((scope.into(), d, dim.into(), value.into()), [1, open]);
        }
    }
    c
}

/// Histogram bucket of a duration: `floor(8·log2(1 + minutes))`, so each bucket is at most 9 %
/// wide (a median read from the histogram is within 4.5 % of 1 + the exact minutes).
pub fn bucket(ms: i64) -> i32 {
    let minutes = ms.max(0) as f64 / 60_000.0;
    (8.0 * (1.0 + minutes).log2()).floor() as i32
}

/// The hours a bucket stands for (its geometric middle).
pub fn bucket_hours(b: i32) -> f64 {
    (2f64.powf((f64::from(b) + 0.5) / 8.0) - 1.0) / 60.0
}

/// The median of a histogram (`bucket → count`), in hours, rounded to 0.01; the mean of the two
/// middle values for an even count, as [`super::rates::median`].
pub fn histogram_median(hist: &BTreeMap<i32, i64>) -> Option<f64> {
    let n: i64 = hist.values().filter(|c| **c > 0).sum();
    if n <= 0 {
        return None;
    }
    let nth = |k: i64| -> f64 {
        let mut seen = 0;
        for (b, c) in hist {
            if *c <= 0 {
                continue;
            }
            seen += c;
            if seen > k {
                return bucket_hours(*b);
            }
        }
        0.0
    };
    let m = if n % 2 == 1 {
        nth(n / 2)
    } else {
        (nth(n / 2 - 1) + nth(n / 2)) / 2.0
    };
    Some((m * 100.0).round() / 100.0)
}

/// The contribution of one ticket with `events` (oldest first). `day` maps an instant (ms) to
/// the city date as YYYYMMDD.
pub fn contribution(
    key: &TicketKey,
    events: &[AggEvent],
    day: &dyn Fn(i64) -> i32,
) -> Contribution {
    use field::*;
    let mut c = Contribution::default();
    let unit = |c: &mut Contribution, at: i64, u: &str, f: usize| {
        c.units.entry((day(at), u.to_string())).or_insert([0; 10])[f] += 1;
    };
    let mut holder: Option<String> = None;
    let mut response_due: Option<i64> = None;
    let mut resolution_due: Option<i64> = None;
    let mut awaiting_accept = false;
    let mut resolved_once: Vec<String> = Vec::new();
    let mut last_resolver: Option<String> = None;
    let mut open_overdue_checked = false;
    for e in events {
        if e.response_due.is_some() {
            response_due = e.response_due;
        }
        if e.resolution_due.is_some() {
            resolution_due = e.resolution_due;
        }
        // Time at the dispatch center is not a unit's dispatch.
        let event_unit = if e.to_status == "dispatching" {
            None
        } else {
            e.unit_id.clone()
        };
        match e.kind.as_str() {
            "submitted" | "dispatched" | "reassigned" | "reopened" => {
                let target = if e.kind == "reopened" {
                    holder.clone()
                } else {
                    event_unit
                };
                if e.kind != "reopened" {
                    holder = target.clone();
                }
                awaiting_accept = target.is_some();
                if let Some(u) = target {
                    unit(&mut c, e.at, &u, DISPATCHED);
                }
            }
            "accepted" => {
                if let (Some(u), true) = (&holder, awaiting_accept)
                    && response_due.is_none_or(|d| e.at <= d)
                {
                    unit(&mut c, e.at, u, ACCEPTED_IN_TIME);
                }
                awaiting_accept = false;
            }
            "resolved" => {
                if let Some(u) = holder.clone() {
                    unit(&mut c, e.at, &u, RESOLVED);
                    if resolution_due.is_some_and(|d| e.at > d) {
                        unit(&mut c, e.at, &u, OVERDUE);
                    }
                    if !resolved_once.contains(&u) {
                        resolved_once.push(u.clone());
                        *c.unit_hours
                            .entry((day(e.at), u.clone(), bucket(e.at - key.created_at)))
                            .or_insert(0) += 1;
                    }
                    last_resolver = Some(u);
                }
            }
            "confirmed" | "disputed" => {
                if let Some(u) = &last_resolver {
                    unit(&mut c, e.at, u, CLOSED_ANSWERED);
                    if e.kind == "confirmed" {
                        unit(&mut c, e.at, u, CONFIRMED_SOLVED);
                    }
                    if let Some(stars) = e.rating {
                        unit(&mut c, e.at, u, RATINGS);
                        if stars >= 4 {
                            unit(&mut c, e.at, u, SATISFIED);
                        }
                    }
                }
            }
            "returned" => {
                if let Some(u) = &holder {
                    unit(&mut c, e.at, u, RETURNS);
                }
                holder = None;
                awaiting_accept = false;
            }
            "extension_requested" => {
                if let Some(u) = &holder {
                    unit(&mut c, e.at, u, EXTENSIONS);
                }
            }
            _ => {}
        }
        if matches!(
            e.kind.as_str(),
            "resolved" | "closed" | "closed_unconfirmed" | "confirmed"
        ) {
            open_overdue_checked = true;
        }
        if matches!(e.kind.as_str(), "reopened" | "escalated") {
            open_overdue_checked = false;
        }
    }
    // Still held and unresolved: overdue on the day its deadline passes.
    if !open_overdue_checked && let (Some(u), Some(d)) = (&holder, resolution_due) {
        unit(&mut c, d, u, OVERDUE);
    }
    // Public figures: the ticket's current state, on the day it was filed.
    if let Some(last) = events.last() {
        let d = day(key.created_at);
        let done = matches!(last.to_status.as_str(), "resolved" | "closed");
        let rating = events.iter().rev().find_map(|e| e.rating);
        let resolved_at = events
            .iter()
            .rev()
            .find(|e| e.kind == "resolved")
            .map(|e| e.at);
        let p = c
            .public
            .entry((d, key.district_id.clone(), key.category_code.clone()))
            .or_insert([0; 4]);
        p[0] += 1;
        if done {
            p[1] += 1;
        }
        if let Some(stars) = rating {
            p[2] += 1;
            if stars >= 4 {
                p[3] += 1;
            }
        }
        if done && let Some(r) = resolved_at {
            *c.public_hours
                .entry((d, key.district_id.clone(), bucket(r - key.created_at)))
                .or_insert(0) += 1;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotone_and_close() {
        let mut last = -1;
        for minutes in [0i64, 1, 2, 5, 59, 60, 61, 600, 1440, 14_400, 144_000] {
            let b = bucket(minutes * 60_000);
            assert!(b >= last);
            last = b;
            let h = bucket_hours(b);
            let exact = minutes as f64 / 60.0;
            assert!(
                (h - exact).abs() <= 0.046 * (exact + 1.0 / 60.0),
                "{minutes}: {h}"
            );
        }
    }

    #[test]
    fn histogram_median_matches_rates_median_of_bucket_values() {
        let values_ms = [3_600_000i64, 7_200_000, 36_000_000, 90_000_000];
        let mut hist = BTreeMap::new();
        let mut reps = Vec::new();
        for v in values_ms {
            *hist.entry(bucket(v)).or_insert(0) += 1;
            reps.push(bucket_hours(bucket(v)));
        }
        let want = super::super::rates::median(&mut reps).map(|h| (h * 100.0).round() / 100.0);
        assert_eq!(histogram_median(&hist), want);
        assert_eq!(histogram_median(&BTreeMap::new()), None);
    }

    #[test]
    fn returned_ticket_moves_its_open_overdue_to_the_new_unit() {
        let key = TicketKey {
            created_at: 0,
            district_id: "d".into(),
            category_code: "c".into(),
        };
        let ev = |at, kind: &str, unit: Option<&str>, to: &str, sd: Option<i64>| AggEvent {
            at,
            kind: kind.into(),
            unit_id: unit.map(String::from),
            to_status: to.into(),
            rating: None,
            response_due: sd.map(|d| d / 2),
            resolution_due: sd,
        };
        let day = |ms: i64| (ms / 1000) as i32;
        let first = vec![ev(0, "submitted", Some("a"), "dispatched", Some(10_000))];
        let mut second = first.clone();
        second.push(ev(1000, "returned", Some("a"), "dispatching", None));
        second.push(ev(
            2000,
            "dispatched",
            Some("b"),
            "dispatched",
            Some(20_000),
        ));
        let before = contribution(&key, &first, &day);
        let after = contribution(&key, &second, &day);
        assert_eq!(before.units[&(10, "a".to_string())][field::OVERDUE], 1);
        assert!(!after.units.contains_key(&(10, "a".to_string())));
        assert_eq!(after.units[&(20, "b".to_string())][field::OVERDUE], 1);
        let mut delta = after.clone();
        delta.add(&before, -1);
        let mut sum = before;
        sum.add(&delta, 1);
        assert_eq!(sum, after);
    }
}
