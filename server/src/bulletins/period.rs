//! A bulletin's period (统计周期): a week from Monday to Sunday, or a calendar month, parsed once
//! at the edge from `{kind, period_start}`; a start that is not a Monday (weekly) or the 1st
//! (monthly), or a period that has not begun, is refused with a stable code.

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};

/// Weekly (周通报) or monthly (月通报).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = BulletinKind)]
pub enum Kind {
    /// Monday to Sunday.
    Weekly,
    /// A calendar month.
    Monthly,
}

impl Kind {
    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Weekly => "weekly",
            Kind::Monthly => "monthly",
        }
    }

    /// Parses a wire name; 422 `invalid_kind` otherwise.
    pub fn parse(s: &str) -> Result<Kind, ApiError> {
        match s.trim() {
            "weekly" => Ok(Kind::Weekly),
            "monthly" => Ok(Kind::Monthly),
            other => Err(unprocessable(
                ErrorCode::InvalidKind,
                format!("通报类型应为 weekly（周通报）或 monthly（月通报），不是 {other:?}"),
                format!("kind must be weekly or monthly, not {other:?}"),
            )),
        }
    }

    /// The default title (zh).
    pub fn default_title(self) -> &'static str {
        match self {
            Kind::Weekly => "“三改”工作周通报",
            Kind::Monthly => "“三改”工作月通报",
        }
    }
}

/// A validated period: both ends inclusive city dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Weekly or monthly.
    pub kind: Kind,
    /// First day (a Monday, or the 1st).
    pub start: Date,
    /// Last day (the Sunday, or the month's last day).
    pub end: Date,
}

fn unprocessable(code: ErrorCode, zh: String, en: String) -> ApiError {
    ApiError::new(code, zh, en)
}

impl Period {
    /// The period of `kind` starting on `start` (YYYY-MM-DD), which must not begin after
    /// `today`. Codes: `invalid_date`, `period_not_monday`, `period_not_first_of_month`,
    /// `period_in_future` (all 422).
    pub fn parse(kind: Kind, start: &str, today: Date) -> Result<Period, ApiError> {
        let date: Date = start.trim().parse().map_err(|_| {
            unprocessable(
                ErrorCode::InvalidDate,
                format!("统计周期起始日应为 YYYY-MM-DD 日期，不是 {start:?}"),
                format!("period_start must be a YYYY-MM-DD date, not {start:?}"),
            )
        })?;
        let bad_end = || {
            unprocessable(
                ErrorCode::InvalidDate,
                format!("日期超出范围：{date}"),
                format!("date out of range: {date}"),
            )
        };
        let end = match kind {
            Kind::Weekly => {
                if date.weekday() != Weekday::Monday {
                    return Err(unprocessable(
                        ErrorCode::PeriodNotMonday,
                        format!("周通报的统计周期应从星期一开始，{date} 不是星期一"),
                        format!("a weekly bulletin's period starts on a Monday; {date} is not one"),
                    ));
                }
                date.checked_add(jiff::Span::new().days(6))
                    .map_err(|_| bad_end())?
            }
            Kind::Monthly => {
                if date.day() != 1 {
                    return Err(unprocessable(
                        ErrorCode::PeriodNotFirstOfMonth,
                        format!("月通报的统计周期应从每月 1 日开始，{date} 不是 1 日"),
                        format!("a monthly bulletin's period starts on the 1st; {date} is not"),
                    ));
                }
                date.last_of_month()
            }
        };
        if date > today {
            return Err(unprocessable(
                ErrorCode::PeriodInFuture,
                format!("统计周期 {date} 尚未开始，不能生成通报"),
                format!("the period starting {date} has not begun; no bulletin can be made"),
            ));
        }
        Ok(Period {
            kind,
            start: date,
            end,
        })
    }

    /// The last day whose data counts: the period's end, or `today` while it runs.
    pub fn through(&self, today: Date) -> Date {
        self.end.min(today)
    }

    /// How people name it, in Chinese: `2026年11月`, `2026年11月23日至11月29日`.
    pub fn label_zh(&self) -> String {
        match self.kind {
            Kind::Monthly => format!("{}年{}月", self.start.year(), self.start.month()),
            Kind::Weekly => {
                let end = if self.end.year() == self.start.year() {
                    format!("{}月{}日", self.end.month(), self.end.day())
                } else {
                    format!(
                        "{}年{}月{}日",
                        self.end.year(),
                        self.end.month(),
                        self.end.day()
                    )
                };
                format!(
                    "{}年{}月{}日至{end}",
                    self.start.year(),
                    self.start.month(),
                    self.start.day()
                )
            }
        }
    }

    /// The same in English: `November 2026`, `23 Nov – 29 Nov 2026`.
    pub fn label_en(&self) -> String {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let m = |d: Date| MONTHS[(d.month() as usize).saturating_sub(1) % 12];
        match self.kind {
            Kind::Monthly => format!("{} {}", m(self.start), self.start.year()),
            Kind::Weekly => format!(
                "{} {} – {} {} {}",
                self.start.day(),
                &m(self.start)[..3],
                self.end.day(),
                &m(self.end)[..3],
                self.end.year()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let today = date(2026, 12, 3);
        let w = Period::parse(Kind::Weekly, "2026-11-23", today).unwrap();
        assert_eq!(w.end, date(2026, 11, 29));
        assert_eq!(w.label_zh(), "2026年11月23日至11月29日");
        let m = Period::parse(Kind::Monthly, "2026-02-01", today).unwrap();
        assert_eq!(m.end, date(2026, 2, 28));
        assert_eq!(m.label_zh(), "2026年2月");
        assert_eq!(m.label_en(), "February 2026");
        let code = |k, s| Period::parse(k, s, today).unwrap_err().code().to_owned();
        assert_eq!(code(Kind::Weekly, "2026-11-24"), "period_not_monday");
        assert_eq!(
            code(Kind::Monthly, "2026-11-02"),
            "period_not_first_of_month"
        );
        assert_eq!(code(Kind::Monthly, "2027-01-01"), "period_in_future");
        assert_eq!(code(Kind::Weekly, "next week"), "invalid_date");
        assert_eq!(Kind::parse("daily").unwrap_err().code(), "invalid_kind");
        // The running month counts up to today.
        let now = Period::parse(Kind::Monthly, "2026-12-01", today).unwrap();
        assert_eq!(now.through(today), today);
        let across = Period::parse(Kind::Weekly, "2026-12-28", date(2027, 1, 5)).unwrap();
        assert_eq!(across.label_zh(), "2026年12月28日至2027年1月3日");
    }
}
