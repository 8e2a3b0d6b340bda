//! The instant of a ticket's next clock event: the earliest of its response reminder, its
//! resolution reminder, its resolution deadline (the first escalation), the next city midnight
//! while overdue (the daily escalation) and its auto-close. Never later than the event it stands
//! for, so a pass that runs at or after it does what the full walk of every open ticket did.

use crate::calendar::DeadlineRule;
use crate::clock::from_ms;
use crate::org::catalog::Catalog;
use crate::state::AppState;
use crate::tickets::state::{Action, Actor, TicketStatus, check};
use crate::tickets::store::TicketRow;

/// No clock runs for the ticket (closed, at the dispatch center, unknown category); an event on
/// the ticket ([`crate::tickets::store::reconsider_clocks`]) brings it back.
pub const NEVER: i64 = i64::MAX;

/// Precision of a reminder instant (the search stops when the bracket is this narrow).
const PRECISION_MS: i64 = 1_000;

/// The next instant after `now` at which `t` has clock work, as seen after this pass's effects.
pub fn instant(st: &AppState, catalog: &Catalog, t: &TicketRow, now: i64) -> i64 {
    let Some(category) = catalog.categories.get(&t.category_code) else {
        return NEVER;
    };
    let status = t.status();
    if status == TicketStatus::Resolved {
        if check(Action::AutoClose, &Actor::System, &t.facts()).is_err() {
            return NEVER;
        }
        let resolved = t.resolved_at.unwrap_or(t.updated_at);
        let at = resolved.saturating_add(i64::from(st.config.auto_close_days) * 86_400_000);
        return at.max(now + 1);
    }
    if !status.at_unit() {
        return NEVER;
    }
    let share = st.config.reminder_share();
    let tier = &category.tier;
    let mut next = NEVER;
    if t.accepted_at.is_none()
        && matches!(status, TicketStatus::Dispatched | TicketStatus::Reopened)
        && now < t.response_due
        && let Some(at) = reminder_at(
            &tier.response,
            t.clock_start,
            t.response_due,
            now,
            share,
            catalog,
        )
    {
        next = next.min(at);
    }
    if now < t.resolution_due {
        if let Some(at) = reminder_at(
            &tier.resolution,
            t.clock_start,
            t.resolution_due,
            now,
            share,
            catalog,
        ) {
            next = next.min(at);
        }
        next = next.min(t.resolution_due);
    } else {
        next = next.min(next_midnight(st, now));
    }
    next.max(now + 1)
}

/// The first instant in `(now, due]` at which `share` of the clock from `start` to `due` has
/// run, or `None` when it has run already (the reminder belongs to this pass or an earlier one).
fn reminder_at(
    rule: &DeadlineRule,
    start: i64,
    due: i64,
    now: i64,
    share: f64,
    catalog: &Catalog,
) -> Option<i64> {
    let elapsed = |at: i64| {
        rule.fraction_elapsed(from_ms(start), from_ms(due), from_ms(at), &catalog.calendar)
    };
    if elapsed(now) >= share {
        return None;
    }
    // The fraction only grows with time: bisect (now, due] for the first instant that reaches it.
    let (mut lo, mut hi) = (now, due);
    while hi - lo > PRECISION_MS {
        let mid = lo + (hi - lo) / 2;
        if elapsed(mid) >= share {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// The start of the next city day after `now` (when the next daily escalation is due).
pub fn next_midnight(st: &AppState, now: i64) -> i64 {
    let tz = &st.config.timezone;
    let today = tz.to_datetime(from_ms(now)).date();
    today
        .tomorrow()
        .ok()
        .and_then(|d| {
            tz.to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
                .ok()
        })
        .map_or(now + 3_600_000, |ts| ts.as_millisecond())
}
