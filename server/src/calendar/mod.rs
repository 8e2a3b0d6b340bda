//! The working calendar (工作日历) and complaint deadlines (完成时限).
//!
//! # What "N working days" means
//!
//! The clock of a working-day deadline runs through the whole of every working day (00:00 to
//! 24:00 local time) and stops on non-working days. Office hours play no part: 12345-style
//! hotlines count natural working days, not 8-hour shifts.
//!
//! - A complaint filed on a working day at local time `T` with `N` working days is due at local
//!   time `T` on the `N`th working day after the filing day (filed Monday 15:00, 1 working day →
//!   due Tuesday 15:00; filed Friday 23:30 → due Monday 23:30).
//! - A complaint filed on a non-working day (weekend or statutory holiday) starts its clock at
//!   00:00 of the next working day `D`; `N` working days are then the whole of `D` and the
//!   `N - 1` working days after it, so it is due at 24:00 of the `N`th working day counted from
//!   `D` (shown as 00:00 of the following calendar day). Filed Saturday 10:00, 1 working day →
//!   due Monday 24:00 (= Tuesday 00:00).
//! - Both cases are the same rule: the deadline is the first instant at which `N × 24` hours of
//!   working time have passed since filing, where working time is time inside working days.
//!   [`WorkingCalendar::working_time_between`] measures exactly that clock, so a reminder at 80 %
//!   of a working-day deadline fires at 80 % of the working time.
//! - Hour deadlines ([`DeadlineRule::Hours`]) run on all hours, weekends and holidays included.
//!   [`DeadlineRule::WorkingHours`] counts hours on the working-day clock above.
//!
//! A working day is Monday to Friday unless it is a statutory holiday (法定节假日); a Saturday or
//! Sunday that is a make-up working day (调休上班) is a working day. Dates are civil dates in the
//! calendar's time zone (the city's, `Asia/Shanghai` by default).

use std::collections::BTreeSet;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

pub mod china;
#[cfg(test)]
mod tests;

/// A deadline could not be computed because it falls outside the range of representable times.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("deadline is out of the supported date range")]
pub struct CalendarError;

impl From<jiff::Error> for CalendarError {
    fn from(_: jiff::Error) -> Self {
        CalendarError
    }
}

/// The city's working calendar: time zone, statutory holidays and make-up working days (调休).
///
/// Guarantees: a date that is in both lists is treated as a working day (the make-up list wins),
/// so a mis-edited calendar never removes a working day silently.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    tz: TimeZone,
    holidays: BTreeSet<Date>,
    makeup_workdays: BTreeSet<Date>,
}

/// How many days a deadline search walks before giving up: far beyond any real tier, and it
/// bounds the loop for absurd inputs.
const MAX_DAYS_WALKED: u32 = 3_000_000;

impl WorkingCalendar {
    /// A calendar in `tz` with the given statutory holidays (法定节假日) and make-up working
    /// days (调休上班日).
    pub fn new(
        tz: TimeZone,
        holidays: impl IntoIterator<Item = Date>,
        makeup_workdays: impl IntoIterator<Item = Date>,
    ) -> Self {
        WorkingCalendar {
            tz,
            holidays: holidays.into_iter().collect(),
            makeup_workdays: makeup_workdays.into_iter().collect(),
        }
    }

    /// The calendar's time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Whether `date` is a working day: a make-up working day, or Monday-Friday that is not a
    /// statutory holiday.
    pub fn is_working_day(&self, date: Date) -> bool {
        if self.makeup_workdays.contains(&date) {
            return true;
        }
        if self.holidays.contains(&date) {
            return false;
        }
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: Date) -> Result<Date, CalendarError> {
        let mut d = date;
        for _ in 0..MAX_DAYS_WALKED {
            d = d.tomorrow()?;
            if self.is_working_day(d) {
                return Ok(d);
            }
        }
        Err(CalendarError)
    }

    /// `from` plus `n` hours of elapsed time (the clock runs on all hours).
    pub fn add_hours(&self, from: Timestamp, n: u32) -> Result<Timestamp, CalendarError> {
        Ok(from.checked_add(SignedDuration::from_hours(i64::from(n)))?)
    }

    /// The deadline `n` working days after `from`, with the semantics in the module docs: same
    /// local time on the `n`th working day after a working filing day; 24:00 of the `n`th working
    /// day (counting the first one) when filed on a non-working day. `n = 0` returns `from`.
    pub fn add_working_days(&self, from: Timestamp, n: u32) -> Result<Timestamp, CalendarError> {
        if n == 0 {
            return Ok(from);
        }
        let local = self.tz.to_datetime(from);
        let filed_on = local.date();
        if self.is_working_day(filed_on) {
            let mut d = filed_on;
            for _ in 0..n {
                d = self.next_working_day(d)?;
            }
            return Ok(self.tz.to_timestamp(d.to_datetime(local.time()))?);
        }
        // Clock starts at 00:00 of the next working day; the last counted day is the nth
        // working day from there, and the deadline is the end of that day.
        let mut d = self.next_working_day(filed_on)?;
        for _ in 1..n {
            d = self.next_working_day(d)?;
        }
        self.start_of_day(d.tomorrow()?)
    }

    /// The first instant at which `n` hours of working time have passed since `from` (hours
    /// counted only inside working days, see module docs).
    pub fn add_working_hours(&self, from: Timestamp, n: u32) -> Result<Timestamp, CalendarError> {
        let mut remaining = SignedDuration::from_hours(i64::from(n));
        let mut cursor = from;
        for _ in 0..MAX_DAYS_WALKED {
            if remaining.is_zero() {
                return Ok(cursor);
            }
            let date = self.tz.to_datetime(cursor).date();
            let day_end = self.start_of_day(date.tomorrow()?)?;
            if self.is_working_day(date) {
                let left_today = day_end.duration_since(cursor);
                if left_today >= remaining {
                    return Ok(cursor.checked_add(remaining)?);
                }
                remaining -= left_today;
            }
            cursor = day_end;
        }
        Err(CalendarError)
    }

    /// Working time (time inside working days) between `a` and `b`; zero when `b <= a`.
    pub fn working_time_between(&self, a: Timestamp, b: Timestamp) -> SignedDuration {
        let mut total = SignedDuration::ZERO;
        if b <= a {
            return total;
        }
        let mut cursor = a;
        while cursor < b {
            let date = self.tz.to_datetime(cursor).date();
            let Ok(day_end) = date
                .tomorrow()
                .map_err(CalendarError::from)
                .and_then(|d| self.start_of_day(d))
            else {
                break;
            };
            let end = if day_end < b { day_end } else { b };
            if self.is_working_day(date) {
                total += end.duration_since(cursor);
            }
            cursor = end;
        }
        total
    }

    /// Share of working time from `start` to `due` that has passed at `now`, in `0.0..=1.0`
    /// (1.0 when `due <= start` or `now >= due`). Used by reminders (催办) at 80 %.
    pub fn working_fraction_elapsed(
        &self,
        start: Timestamp,
        due: Timestamp,
        now: Timestamp,
    ) -> f64 {
        let whole = self.working_time_between(start, due);
        fraction(self.working_time_between(start, now), whole, now >= due)
    }

    fn start_of_day(&self, date: Date) -> Result<Timestamp, CalendarError> {
        Ok(self.tz.to_timestamp(date.to_datetime(Time::midnight()))?)
    }
}

fn fraction(part: SignedDuration, whole: SignedDuration, past_due: bool) -> f64 {
    if past_due || whole <= SignedDuration::ZERO {
        return 1.0;
    }
    (part.as_secs_f64() / whole.as_secs_f64()).clamp(0.0, 1.0)
}

/// One deadline of a tier: hours on the all-hours clock, hours on the working clock, or working
/// days (see module docs for the exact semantics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineRule {
    /// `N` elapsed hours, weekends and holidays included.
    Hours(u32),
    /// `N` hours counted only inside working days.
    WorkingHours(u32),
    /// `N` working days (工作日).
    WorkingDays(u32),
}

impl DeadlineRule {
    /// The absolute deadline for something that started at `from`.
    pub fn due(
        &self,
        from: Timestamp,
        calendar: &WorkingCalendar,
    ) -> Result<Timestamp, CalendarError> {
        match *self {
            DeadlineRule::Hours(n) => calendar.add_hours(from, n),
            DeadlineRule::WorkingHours(n) => calendar.add_working_hours(from, n),
            DeadlineRule::WorkingDays(n) => calendar.add_working_days(from, n),
        }
    }

    /// Share of this rule's clock from `start` to `due` elapsed at `now`, in `0.0..=1.0`: wall
    /// time for [`DeadlineRule::Hours`], working time otherwise.
    pub fn fraction_elapsed(
        &self,
        start: Timestamp,
        due: Timestamp,
        now: Timestamp,
        calendar: &WorkingCalendar,
    ) -> f64 {
        match self {
            DeadlineRule::Hours(_) => {
                let whole = due.duration_since(start);
                let part = now.duration_since(start);
                fraction(part, whole, now >= due)
            }
            DeadlineRule::WorkingHours(_) | DeadlineRule::WorkingDays(_) => {
                calendar.working_fraction_elapsed(start, due, now)
            }
        }
    }
}

/// A deadline tier (时限等级): how fast a category must be responded to (响应) and resolved (办结).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineTier {
    /// Stable code, e.g. `general`.
    pub code: String,
    /// Chinese name, e.g. `一般`.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Deadline to accept/respond (签收/响应).
    pub response: DeadlineRule,
    /// Deadline to resolve (办结).
    pub resolution: DeadlineRule,
}

impl DeadlineTier {
    /// The (response, resolution) deadlines for a complaint filed at `filed`.
    pub fn deadlines(
        &self,
        filed: Timestamp,
        calendar: &WorkingCalendar,
    ) -> Result<(Timestamp, Timestamp), CalendarError> {
        Ok((
            self.response.due(filed, calendar)?,
            self.resolution.due(filed, calendar)?,
        ))
    }
}
