//! China's statutory holidays (法定节假日) and make-up working days (调休上班) as published by the
//! State Council General Office (国务院办公厅) for 2025 and 2026. Data for tests and the sample
//! city; the live calendar is data an admin edits.

use jiff::civil::{Date, date};

/// Expand inclusive date ranges into single dates.
fn expand(ranges: &[(Date, Date)]) -> Vec<Date> {
    let mut out = Vec::new();
    for &(start, end) in ranges {
        let mut d = start;
        while d <= end {
            out.push(d);
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => break,
            }
        }
    }
    out
}

/// Every day off of the 2025 and 2026 statutory holiday periods, weekends inside them included.
pub fn holidays_2025_2026() -> Vec<Date> {
    expand(&[
        // 2025
        (date(2025, 1, 1), date(2025, 1, 1)),   // 元旦
        (date(2025, 1, 28), date(2025, 2, 4)),  // 春节
        (date(2025, 4, 4), date(2025, 4, 6)),   // 清明
        (date(2025, 5, 1), date(2025, 5, 5)),   // 劳动节
        (date(2025, 5, 31), date(2025, 6, 2)),  // 端午
        (date(2025, 10, 1), date(2025, 10, 8)), // 国庆 + 中秋
        // 2026
        (date(2026, 1, 1), date(2026, 1, 3)),   // 元旦
        (date(2026, 2, 15), date(2026, 2, 23)), // 春节
        (date(2026, 4, 4), date(2026, 4, 6)),   // 清明
        (date(2026, 5, 1), date(2026, 5, 5)),   // 劳动节
        (date(2026, 6, 19), date(2026, 6, 21)), // 端午
        (date(2026, 9, 25), date(2026, 9, 27)), // 中秋
        (date(2026, 10, 1), date(2026, 10, 7)), // 国庆
    ])
}

/// The make-up working days (调休上班日) of 2025 and 2026: all Saturdays or Sundays.
pub fn makeup_workdays_2025_2026() -> Vec<Date> {
    vec![
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
}
