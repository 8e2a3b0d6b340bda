//! Upkeep figures (后续管理考核): per property manager and per renovated community, the
//! complaints in the upkeep categories ([`super::CATEGORIES`]), their response, resolution and
//! satisfaction rates and the deadlines missed, and for a community the months before its
//! hand-over against the months after.
//!
//! One definition of the rates: the tickets' event histories are replayed by
//! [`crate::stats::rates::unit_rates`] (the function `GET /api/v1/stats/units` is tested
//! against); a community's figures are the sums of every unit's counters over its tickets, a
//! manager's are its own counters on the tickets of its communities since each hand-over.

use std::collections::BTreeMap;

use diesel::prelude::*;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::schema::upkeep_handovers;
use crate::auth::scope::Scope;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::stats::rates::{MIN_SAMPLE, TicketHistory, UnitRates, rate, unit_rates};
use crate::tickets::schema::tickets;

/// Default number of months compared before and after a hand-over.
pub const DEFAULT_MONTHS: i64 = 6;
/// Largest number of months compared.
pub const MAX_MONTHS: i64 = 24;

/// One stored hand-over.
#[derive(Debug, Clone)]
pub struct Handover {
    /// Hand-over id.
    pub id: String,
    /// The completed project.
    pub project_id: String,
    /// The community handed over.
    pub area_id: String,
    /// The property manager.
    pub unit_id: String,
    /// The day it took over.
    pub took_over_on: Date,
}

/// Every hand-over, oldest day first (unreadable dates are skipped).
pub fn handovers(conn: &mut DbConnection) -> QueryResult<Vec<Handover>> {
    let rows: Vec<(String, String, String, String, String)> = upkeep_handovers::table
        .order((
            upkeep_handovers::took_over_on.asc(),
            upkeep_handovers::created_at.asc(),
        ))
        .select((
            upkeep_handovers::id,
            upkeep_handovers::project_id,
            upkeep_handovers::area_id,
            upkeep_handovers::unit_id,
            upkeep_handovers::took_over_on,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, project_id, area_id, unit_id, d)| {
            Some(Handover {
                id,
                project_id,
                area_id,
                unit_id,
                took_over_on: d.parse().ok()?,
            })
        })
        .collect())
}

/// Whether `scope` sees hand-over `h` (its manager is the caller's unit, or the community is
/// in the caller's areas).
pub fn visible(scope: &Scope, h: &Handover) -> bool {
    let id = |s: &str| uuid::Uuid::try_parse(s).ok();
    scope.sees(id(&h.unit_id), id(&h.area_id))
}

/// An upkeep-category ticket of a handed-over community, with its history.
#[derive(Debug, Clone)]
pub struct UpkeepTicket {
    /// Its community.
    pub area_id: String,
    /// When it was filed, ms.
    pub created_at: i64,
    /// Status now.
    pub status: String,
    /// Holding unit now.
    pub unit_id: Option<String>,
    /// Resolution deadline now, ms.
    pub resolution_due: i64,
    /// Its events, for the rates.
    pub history: TicketHistory,
}

impl UpkeepTicket {
    /// Open (not resolved, not closed) with the resolution deadline passed at `now`.
    pub fn overdue_open(&self, now: i64) -> bool {
        !matches!(self.status.as_str(), "resolved" | "closed") && self.resolution_due < now
    }
}

/// The upkeep-category tickets filed in `areas` before `end` (ms), by community.
pub fn tickets_of(
    conn: &mut DbConnection,
    areas: &[String],
    end: i64,
) -> Result<BTreeMap<String, Vec<UpkeepTicket>>, ApiError> {
    type Row = (String, Option<String>, i64, String, Option<String>, i64);
    let mut rows: Vec<Row> = Vec::new();
    for chunk in areas.chunks(500) {
        rows.extend(
            tickets::table
                .filter(tickets::area_id.eq_any(chunk))
                .filter(tickets::category_code.eq_any(super::CATEGORIES))
                .filter(tickets::created_at.lt(end))
                .select((
                    tickets::id,
                    tickets::area_id,
                    tickets::created_at,
                    tickets::status,
                    tickets::unit_id,
                    tickets::resolution_due,
                ))
                .load::<Row>(conn)?,
        );
    }
    let ids: Vec<(String, i64)> = rows.iter().map(|r| (r.0.clone(), r.2)).collect();
    let mut hist: BTreeMap<String, TicketHistory> =
        crate::stats::reference::histories_of(conn, &ids)?
            .into_iter()
            .collect();
    let mut out: BTreeMap<String, Vec<UpkeepTicket>> = BTreeMap::new();
    for (id, area, created_at, status, unit_id, resolution_due) in rows {
        let (Some(area), Some(history)) = (area, hist.remove(&id)) else {
            continue;
        };
        out.entry(area.clone()).or_default().push(UpkeepTicket {
            area_id: area,
            created_at,
            status,
            unit_id,
            resolution_due,
            history,
        });
    }
    Ok(out)
}

/// Complaint figures over a period: the counters of [`UnitRates`] summed, the rates recomputed
/// from the sums with the same formulas.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Complaints filed in the period.
    pub complaints: u64,
    /// Dispatches (派单/转派/重办) in the period.
    pub dispatched: u64,
    /// Of those, accepted in time.
    pub accepted_in_time: u64,
    /// 响应率: `accepted_in_time ÷ dispatched`.
    pub response_rate: Option<f64>,
    /// Resolutions (办结).
    pub resolved: u64,
    /// Resident answers to resolutions.
    pub closed_answered: u64,
    /// Of those, confirmed solved.
    pub confirmed_solved: u64,
    /// 解决率: `confirmed_solved ÷ closed_answered`.
    pub resolution_rate: Option<f64>,
    /// Ratings given.
    pub ratings: u64,
    /// Ratings of 4 or 5.
    pub satisfied: u64,
    /// 满意率: `satisfied ÷ ratings`.
    pub satisfaction_rate: Option<f64>,
    /// Deadlines missed in the period (resolved late, or still open past the deadline).
    pub overdue: u64,
    /// Fewer than [`MIN_SAMPLE`] dispatches: not ranked.
    pub small_sample: bool,
}

impl Figures {
    /// Adds one unit's counters.
    pub fn add(&mut self, r: &UnitRates) {
        self.dispatched += r.dispatched;
        self.accepted_in_time += r.accepted_in_time;
        self.resolved += r.resolved;
        self.closed_answered += r.closed_answered;
        self.confirmed_solved += r.confirmed_solved;
        self.ratings += r.ratings;
        self.satisfied += r.satisfied;
        self.overdue += r.overdue;
    }

    /// Adds another period's figures.
    pub fn merge(&mut self, o: &Figures) {
        self.complaints += o.complaints;
        self.dispatched += o.dispatched;
        self.accepted_in_time += o.accepted_in_time;
        self.resolved += o.resolved;
        self.closed_answered += o.closed_answered;
        self.confirmed_solved += o.confirmed_solved;
        self.ratings += o.ratings;
        self.satisfied += o.satisfied;
        self.overdue += o.overdue;
    }

    /// The rates from the counters.
    pub fn finish(mut self) -> Figures {
        self.response_rate = rate(self.accepted_in_time, self.dispatched);
        self.resolution_rate = rate(self.confirmed_solved, self.closed_answered);
        self.satisfaction_rate = rate(self.satisfied, self.ratings);
        self.small_sample = self.dispatched < MIN_SAMPLE;
        self
    }

    /// The mean of the rates that exist (the ranking score), `None` without any.
    pub fn score(&self) -> Option<f64> {
        let r: Vec<f64> = [
            self.response_rate,
            self.resolution_rate,
            self.satisfaction_rate,
        ]
        .into_iter()
        .flatten()
        .collect();
        (!r.is_empty()).then(|| {
            let m = r.iter().sum::<f64>() / r.len() as f64;
            (m * 10_000.0).round() / 10_000.0
        })
    }
}

/// Figures of `tickets` over `[from, to)` (ms): every unit's counters when `unit` is `None`
/// (a community's), else that unit's only (a manager's).
pub fn figures(tickets: &[UpkeepTicket], from: i64, to: i64, unit: Option<&str>) -> Figures {
    let mut f = Figures {
        complaints: tickets
            .iter()
            .filter(|t| t.created_at >= from && t.created_at < to)
            .count() as u64,
        ..Figures::default()
    };
    if to <= from {
        return f.finish();
    }
    let hist: Vec<TicketHistory> = tickets.iter().map(|t| t.history.clone()).collect();
    let all = unit_rates(
        &hist,
        crate::clock::from_ms(from),
        crate::clock::from_ms(to),
    );
    for r in all.iter().filter(|r| unit.is_none_or(|u| u == r.unit_id)) {
        f.add(r);
    }
    f.finish()
}

/// City midnight at the start of `d`, ms.
pub fn midnight(tz: &TimeZone, d: Date) -> i64 {
    tz.to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
        .map(|t| t.as_millisecond())
        .unwrap_or(0)
}

/// `d` moved by `months` (clamped to the month's last day).
pub fn add_months(d: Date, months: i64) -> Date {
    d.checked_add(jiff::Span::new().months(months)).unwrap_or(d)
}

/// The first day of `d`'s month.
pub fn month_start(d: Date) -> Date {
    d.first_of_month()
}

/// The period each hand-over of a community is the manager's: from its day to the next
/// hand-over of the same community (or `None`: until now).
pub fn periods(all: &[Handover]) -> Vec<(&Handover, Option<Date>)> {
    all.iter()
        .map(|h| {
            let next = all
                .iter()
                .filter(|o| o.area_id == h.area_id && o.took_over_on > h.took_over_on)
                .map(|o| o.took_over_on)
                .min();
            (h, next)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rates::RateEvent;

    fn ev(ms: i64, kind: &str, unit: Option<&str>) -> RateEvent {
        RateEvent {
            at: crate::clock::from_ms(ms),
            kind: kind.into(),
            unit_id: unit.map(String::from),
            rating: None,
            response_due: None,
            resolution_due: None,
        }
    }

    fn ticket(created: i64, unit: &str, accept_after: i64, stars: i32) -> UpkeepTicket {
        let mut submitted = ev(created, "submitted", Some(unit));
        submitted.response_due = Some(crate::clock::from_ms(created + 10));
        submitted.resolution_due = Some(crate::clock::from_ms(created + 100));
        let mut confirmed = ev(created + 50, "confirmed", None);
        confirmed.rating = Some(stars);
        UpkeepTicket {
            area_id: "a".into(),
            created_at: created,
            status: "closed".into(),
            unit_id: Some(unit.into()),
            resolution_due: created + 100,
            history: TicketHistory {
                created_at: crate::clock::from_ms(created),
                events: vec![
                    submitted,
                    ev(created + accept_after, "accepted", None),
                    ev(created + 40, "resolved", None),
                    confirmed,
                ],
            },
        }
    }

    #[test]
    fn community_sums_units_and_manager_counts_its_own() {
        let ts = vec![
            ticket(1_000, "street", 20, 2),
            ticket(2_000, "pm", 5, 5),
            ticket(3_000, "pm", 5, 4),
        ];
        let all = figures(&ts, 0, 10_000, None);
        assert_eq!(
            (all.complaints, all.dispatched, all.accepted_in_time),
            (3, 3, 2)
        );
        assert_eq!(all.response_rate, Some(0.6667));
        assert_eq!(all.satisfaction_rate, Some(0.6667));
        assert!(all.small_sample);
        let pm = figures(&ts, 0, 10_000, Some("pm"));
        assert_eq!((pm.dispatched, pm.response_rate), (2, Some(1.0)));
        assert_eq!(pm.score(), Some(1.0));
        // Only the tickets filed in the window count as complaints.
        assert_eq!(figures(&ts, 1_500, 10_000, None).complaints, 2);
    }

    #[test]
    fn the_next_hand_over_ends_a_period() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        let h = |id: &str, area: &str, day: &str| Handover {
            id: id.into(),
            project_id: "p".into(),
            area_id: area.into(),
            unit_id: "u".into(),
            took_over_on: d(day),
        };
        let all = vec![
            h("1", "a", "2026-01-01"),
            h("2", "b", "2026-02-01"),
            h("3", "a", "2026-06-01"),
        ];
        let p = periods(&all);
        assert_eq!(p[0].1, Some(d("2026-06-01")));
        assert_eq!(p[1].1, None);
        assert_eq!(p[2].1, None);
        assert_eq!(add_months(d("2026-03-31"), -1), d("2026-02-28"));
    }
}
