//! The unit rates (考核指标) computed from the append-only event history. Pure: the caller loads
//! the tickets with events in a period and gets one [`UnitRates`] per unit. The formulas are
//! documented in `docs/complaints.md` and on each field.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

/// Fewer tickets than this in the period: the unit is shown but flagged `small_sample` and should
/// not be ranked.
pub const MIN_SAMPLE: u64 = 10;

/// One event as the rates need it.
#[derive(Debug, Clone)]
pub struct RateEvent {
    /// When it happened.
    pub at: Timestamp,
    /// Event kind (`dispatched`, `accepted`, …).
    pub kind: String,
    /// The unit concerned: the receiving unit for `dispatched`/`reassigned`/`submitted`, the
    /// holding unit for everything else.
    pub unit_id: Option<String>,
    /// The resident's rating on `confirmed`/`disputed`.
    pub rating: Option<i32>,
    /// Response deadline set by this event, if it sets one.
    pub response_due: Option<Timestamp>,
    /// Resolution deadline set by this event, if it sets one.
    pub resolution_due: Option<Timestamp>,
}

/// A ticket's history in event order.
#[derive(Debug, Clone)]
pub struct TicketHistory {
    /// When the complaint was filed.
    pub created_at: Timestamp,
    /// Events, oldest first.
    pub events: Vec<RateEvent>,
}

/// Figures for one unit over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UnitRates {
    /// Unit id.
    pub unit_id: String,
    /// Times a ticket was dispatched (派单/转派/重办) to the unit in the period.
    pub dispatched: u64,
    /// Of those, accepted (签收) at or before the response deadline.
    pub accepted_in_time: u64,
    /// `accepted_in_time ÷ dispatched` (响应率); `null` when nothing was dispatched.
    #[schema(required = true)]
    pub response_rate: Option<f64>,
    /// Resolutions (办结) recorded by the unit.
    pub resolved: u64,
    /// Resident answers (confirm or dispute) to the unit's resolutions.
    pub closed_answered: u64,
    /// Of those, confirmations (the resident says it is solved).
    pub confirmed_solved: u64,
    /// `confirmed_solved ÷ closed_answered` (解决率).
    #[schema(required = true)]
    pub resolution_rate: Option<f64>,
    /// Ratings given on the unit's resolutions.
    pub ratings: u64,
    /// Ratings of 4 or 5.
    pub satisfied: u64,
    /// `satisfied ÷ ratings` (满意率).
    #[schema(required = true)]
    pub satisfaction_rate: Option<f64>,
    /// Deadlines missed: resolved after the resolution deadline, or still unresolved at the end
    /// of the period with the deadline passed.
    pub overdue: u64,
    /// Returns (退单) by the unit.
    pub returns: u64,
    /// Extension requests (延期申请) by the unit.
    pub extensions: u64,
    /// Median hours from filing to the unit's first resolution.
    #[schema(required = true)]
    pub median_hours_to_resolve: Option<f64>,
    /// Fewer than [`MIN_SAMPLE`] dispatches: do not rank.
    pub small_sample: bool,
}

/// A ratio, `None` when the denominator is zero; rounded to 4 decimals.
pub fn rate(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| ((num as f64 / den as f64) * 10_000.0).round() / 10_000.0)
}

/// The median of `values` (mean of the middle two for an even count), `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// Compute per-unit figures for events in `[from, to)`. Events outside the window still drive
/// the replay (deadlines, who holds the ticket) but are not counted.
pub fn unit_rates(tickets: &[TicketHistory], from: Timestamp, to: Timestamp) -> Vec<UnitRates> {
    let mut acc: BTreeMap<String, UnitRates> = BTreeMap::new();
    let mut hours: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let in_window = |t: Timestamp| t >= from && t < to;
    for t in tickets {
        let mut holder: Option<String> = None;
        let mut response_due: Option<Timestamp> = None;
        let mut resolution_due: Option<Timestamp> = None;
        // Whether the current dispatch is still waiting for its first acceptance.
        let mut awaiting_accept = false;
        let mut resolved_once: BTreeMap<String, ()> = BTreeMap::new();
        // The unit whose resolution the resident is answering.
        let mut last_resolver: Option<String> = None;
        let mut open_overdue_checked = false;
        for e in &t.events {
            if e.response_due.is_some() {
                response_due = e.response_due;
            }
            if e.resolution_due.is_some() {
                resolution_due = e.resolution_due;
            }
            let counts = in_window(e.at);
            match e.kind.as_str() {
                "submitted" | "dispatched" | "reassigned" | "reopened" => {
                    let unit = if e.kind == "reopened" {
                        holder.clone()
                    } else {
                        e.unit_id.clone()
                    };
                    if e.kind != "reopened" {
                        holder = e.unit_id.clone();
                    }
                    if let Some(u) = unit {
                        awaiting_accept = true;
                        if counts {
                            entry(&mut acc, &u).dispatched += 1;
                        }
                    } else {
                        awaiting_accept = false;
                    }
                }
                "accepted" => {
                    if let (Some(u), true) = (&holder, awaiting_accept) {
                        let in_time = response_due.is_none_or(|d| e.at <= d);
                        if counts && in_time {
                            entry(&mut acc, u).accepted_in_time += 1;
                        }
                    }
                    awaiting_accept = false;
                }
                "resolved" => {
                    if let Some(u) = &holder {
                        if counts {
                            let r = entry(&mut acc, u);
                            r.resolved += 1;
                            if resolution_due.is_some_and(|d| e.at > d) {
                                r.overdue += 1;
                            }
                            if resolved_once.insert(u.clone(), ()).is_none() {
                                let h = e.at.duration_since(t.created_at).as_secs_f64() / 3600.0;
                                hours.entry(u.clone()).or_default().push(h);
                            }
                        }
                        last_resolver = Some(u.clone());
                    }
                }
                "confirmed" | "disputed" => {
                    if let (Some(u), true) = (&last_resolver, counts) {
                        let r = entry(&mut acc, u);
                        r.closed_answered += 1;
                        if e.kind == "confirmed" {
                            r.confirmed_solved += 1;
                        }
                        if let Some(stars) = e.rating {
                            r.ratings += 1;
                            if stars >= 4 {
                                r.satisfied += 1;
                            }
                        }
                    }
                }
                "returned" => {
                    if let (Some(u), true) = (&holder, counts) {
                        entry(&mut acc, u).returns += 1;
                    }
                    holder = None;
                    awaiting_accept = false;
                }
                "extension_requested" => {
                    if let (Some(u), true) = (&holder, counts) {
                        entry(&mut acc, u).extensions += 1;
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
        // Still held and unresolved with the deadline passed before the window's end.
        if !open_overdue_checked
            && let (Some(u), Some(d)) = (&holder, resolution_due)
            && d < to
            && d >= from
        {
            entry(&mut acc, u).overdue += 1;
        }
    }
    acc.into_values()
        .map(|mut r| {
            r.response_rate = rate(r.accepted_in_time, r.dispatched);
            r.resolution_rate = rate(r.confirmed_solved, r.closed_answered);
            r.satisfaction_rate = rate(r.satisfied, r.ratings);
            r.median_hours_to_resolve = hours
                .get_mut(&r.unit_id)
                .and_then(|v| median(v))
                .map(|h| (h * 100.0).round() / 100.0);
            r.small_sample = r.dispatched < MIN_SAMPLE;
            r
        })
        .collect()
}

fn entry<'a>(acc: &'a mut BTreeMap<String, UnitRates>, unit: &str) -> &'a mut UnitRates {
    acc.entry(unit.to_string()).or_insert_with(|| UnitRates {
        unit_id: unit.to_string(),
        ..UnitRates::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(h: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + h * 3600).unwrap()
    }

    fn ev(h: i64, kind: &str, unit: Option<&str>) -> RateEvent {
        RateEvent {
            at: ts(h),
            kind: kind.into(),
            unit_id: unit.map(String::from),
            rating: None,
            response_due: None,
            resolution_due: None,
        }
    }

    fn dispatch(h: i64, unit: &str, resp: i64, res: i64) -> RateEvent {
        RateEvent {
            response_due: Some(ts(resp)),
            resolution_due: Some(ts(res)),
            ..ev(h, "submitted", Some(unit))
        }
    }

    fn rated(h: i64, kind: &str, stars: i32) -> RateEvent {
        RateEvent {
            rating: Some(stars),
            ..ev(h, kind, None)
        }
    }

    #[test]
    fn small_known_set() {
        let tickets = vec![
            // A: accepted in time, resolved in time, confirmed 5 stars.
            TicketHistory {
                created_at: ts(0),
                events: vec![
                    dispatch(0, "a", 2, 24),
                    ev(1, "accepted", None),
                    ev(10, "resolved", None),
                    rated(11, "confirmed", 5),
                    ev(11, "closed", None),
                ],
            },
            // A: accepted late, resolved late, disputed (2), reopened, resolved, confirmed 4.
            TicketHistory {
                created_at: ts(0),
                events: vec![
                    dispatch(0, "a", 2, 24),
                    ev(3, "accepted", None),
                    ev(30, "resolved", None),
                    rated(31, "disputed", 2),
                    RateEvent {
                        response_due: Some(ts(33)),
                        resolution_due: Some(ts(55)),
                        ..ev(31, "reopened", None)
                    },
                    ev(32, "accepted", None),
                    ev(40, "resolved", None),
                    rated(41, "confirmed", 4),
                ],
            },
            // B returns it; dispatched to A, never accepted, overdue at the end.
            TicketHistory {
                created_at: ts(0),
                events: vec![
                    dispatch(0, "b", 2, 24),
                    ev(1, "returned", None),
                    RateEvent {
                        response_due: Some(ts(4)),
                        resolution_due: Some(ts(26)),
                        ..ev(2, "dispatched", Some("a"))
                    },
                    ev(3, "extension_requested", None),
                ],
            },
        ];
        let r = unit_rates(&tickets, ts(0), ts(100));
        let a = r.iter().find(|u| u.unit_id == "a").unwrap();
        let b = r.iter().find(|u| u.unit_id == "b").unwrap();
        assert_eq!(a.dispatched, 4); // two submits, one reopen, one dispatch
        assert_eq!(a.accepted_in_time, 2); // ticket 1 and the reopen
        assert_eq!(a.response_rate, Some(0.5));
        assert_eq!(a.resolved, 3);
        assert_eq!((a.closed_answered, a.confirmed_solved), (3, 2));
        assert_eq!(a.resolution_rate, Some(0.6667));
        assert_eq!((a.ratings, a.satisfied), (3, 2));
        assert_eq!(a.overdue, 2); // ticket 2's first resolution, ticket 3 still open
        assert_eq!(a.extensions, 1);
        assert_eq!(a.median_hours_to_resolve, Some(20.0)); // 10 h and 30 h
        assert!(a.small_sample);
        assert_eq!((b.dispatched, b.returns, b.accepted_in_time), (1, 1, 0));
        assert_eq!(b.response_rate, Some(0.0));
        assert_eq!(b.satisfaction_rate, None);
    }

    #[test]
    fn window_excludes_outside_events() {
        let t = TicketHistory {
            created_at: ts(0),
            events: vec![dispatch(0, "a", 2, 24), ev(1, "accepted", None)],
        };
        assert!(unit_rates(&[t], ts(50), ts(100)).is_empty());
    }

    #[test]
    fn median_and_rate() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(rate(1, 3), Some(0.3333));
        assert_eq!(rate(1, 0), None);
    }
}
