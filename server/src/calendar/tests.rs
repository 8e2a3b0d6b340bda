use jiff::civil::{Date, Weekday, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::china::{holidays_2025_2026, makeup_workdays_2025_2026};
use super::{DeadlineRule, DeadlineTier, WorkingCalendar};

fn cal() -> WorkingCalendar {
    WorkingCalendar::new(
        TimeZone::get("Asia/Shanghai").unwrap(),
        holidays_2025_2026(),
        makeup_workdays_2025_2026(),
    )
}

/// Local Beijing time → timestamp.
fn bj(y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
    let tz = TimeZone::get("Asia/Shanghai").unwrap();
    tz.to_timestamp(date(y, m, d).at(h, min, 0, 0)).unwrap()
}

#[test]
fn makeup_days_are_weekends_and_holidays_cover_the_published_periods() {
    for d in makeup_workdays_2025_2026() {
        assert!(
            matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday),
            "{d}"
        );
    }
    // 8 + 1 + 3 + 5 + 3 + 8 (2025) and 3 + 9 + 3 + 5 + 3 + 3 + 7 (2026)
    assert_eq!(holidays_2025_2026().len(), 28 + 33);
}

#[test]
fn working_day_classification_2025() {
    let c = cal();
    let off: &[Date] = &[
        date(2025, 1, 1),
        date(2025, 1, 28),
        date(2025, 2, 4),
        date(2025, 4, 4),
        date(2025, 5, 5),
        date(2025, 6, 2),
        date(2025, 10, 8),
        date(2025, 1, 25), // ordinary Saturday
    ];
    for &d in off {
        assert!(!c.is_working_day(d), "{d} should be off");
    }
    let on: &[Date] = &[
        date(2025, 1, 26), // Sunday make-up
        date(2025, 2, 8),  // Saturday make-up
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
        date(2025, 10, 9),
        date(2025, 2, 5),
    ];
    for &d in on {
        assert!(c.is_working_day(d), "{d} should be a working day");
    }
}

#[test]
fn working_day_classification_2026() {
    let c = cal();
    for d in [
        date(2026, 1, 2),
        date(2026, 2, 16),
        date(2026, 2, 23),
        date(2026, 9, 25),
        date(2026, 10, 7),
    ] {
        assert!(!c.is_working_day(d), "{d} should be off");
    }
    for d in [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ] {
        assert!(c.is_working_day(d), "{d} should be a working day");
    }
}

#[test]
fn working_day_filing_keeps_local_time() {
    let c = cal();
    // Mon 2026-11-23 15:00 + 1 → Tue 15:00.
    assert_eq!(
        c.add_working_days(bj(2026, 11, 23, 15, 0), 1).unwrap(),
        bj(2026, 11, 24, 15, 0)
    );
    // Fri 23:30 + 1 → Mon 23:30 (late evening filing is not moved).
    assert_eq!(
        c.add_working_days(bj(2026, 11, 27, 23, 30), 1).unwrap(),
        bj(2026, 11, 30, 23, 30)
    );
    // Mon + 7 → next Wed, skipping the weekend.
    assert_eq!(
        c.add_working_days(bj(2026, 11, 23, 9, 0), 7).unwrap(),
        bj(2026, 12, 2, 9, 0)
    );
    // 0 days is the filing instant.
    assert_eq!(
        c.add_working_days(bj(2026, 11, 23, 9, 0), 0).unwrap(),
        bj(2026, 11, 23, 9, 0)
    );
}

#[test]
fn weekend_filing_starts_next_working_day_and_ends_at_midnight() {
    let c = cal();
    // Sat 2026-11-28 10:00 + 1 → the whole of Mon 11-30, due Tue 00:00.
    assert_eq!(
        c.add_working_days(bj(2026, 11, 28, 10, 0), 1).unwrap(),
        bj(2026, 12, 1, 0, 0)
    );
    // Sun 23:59 + 7 → Mon..Tue next week, due Wed 00:00.
    assert_eq!(
        c.add_working_days(bj(2026, 11, 29, 23, 59), 7).unwrap(),
        bj(2026, 12, 9, 0, 0)
    );
}

#[test]
fn spring_festival_2025_with_makeup_days() {
    let c = cal();
    // Fri 2025-01-24 10:00 + 1 → Sun 01-26 (make-up day) 10:00.
    assert_eq!(
        c.add_working_days(bj(2025, 1, 24, 10, 0), 1).unwrap(),
        bj(2025, 1, 26, 10, 0)
    );
    // Mon 01-27 10:00 + 1 → Wed 02-05 10:00 (holiday 01-28..02-04).
    assert_eq!(
        c.add_working_days(bj(2025, 1, 27, 10, 0), 1).unwrap(),
        bj(2025, 2, 5, 10, 0)
    );
    // Filed on the holiday 01-30 + 1 → whole of 02-05, due 02-06 00:00.
    assert_eq!(
        c.add_working_days(bj(2025, 1, 30, 12, 0), 1).unwrap(),
        bj(2025, 2, 6, 0, 0)
    );
    // Wed 02-05 + 3 → Thu 06, Fri 07, Sat 08 (make-up) → 02-08 same time.
    assert_eq!(
        c.add_working_days(bj(2025, 2, 5, 14, 0), 3).unwrap(),
        bj(2025, 2, 8, 14, 0)
    );
}

#[test]
fn national_day_2025_and_2026() {
    let c = cal();
    // Sat 2025-09-27 is off, Sun 09-28 is a make-up day: filed Sat → clock starts Sun.
    assert_eq!(
        c.add_working_days(bj(2025, 9, 27, 9, 0), 1).unwrap(),
        bj(2025, 9, 29, 0, 0)
    );
    // Tue 2025-09-30 16:00 + 1 → Thu 10-09 16:00.
    assert_eq!(
        c.add_working_days(bj(2025, 9, 30, 16, 0), 1).unwrap(),
        bj(2025, 10, 9, 16, 0)
    );
    // + 2 → Fri 10-10; + 3 → Sat 10-11 (make-up).
    assert_eq!(
        c.add_working_days(bj(2025, 9, 30, 16, 0), 3).unwrap(),
        bj(2025, 10, 11, 16, 0)
    );
    // 2026: Thu 09-24 + 1 → Mon 09-28 (中秋 09-25..27).
    assert_eq!(
        c.add_working_days(bj(2026, 9, 24, 8, 0), 1).unwrap(),
        bj(2026, 9, 28, 8, 0)
    );
    // Wed 09-30 + 1 → Thu 10-08; + 3 → Sat 10-10 (make-up).
    assert_eq!(
        c.add_working_days(bj(2026, 9, 30, 8, 0), 1).unwrap(),
        bj(2026, 10, 8, 8, 0)
    );
    assert_eq!(
        c.add_working_days(bj(2026, 9, 30, 8, 0), 3).unwrap(),
        bj(2026, 10, 10, 8, 0)
    );
}

#[test]
fn new_year_2026_and_may_day_2026() {
    let c = cal();
    // Wed 2025-12-31 17:00 + 1 → Sun 2026-01-04 (make-up) 17:00.
    assert_eq!(
        c.add_working_days(bj(2025, 12, 31, 17, 0), 1).unwrap(),
        bj(2026, 1, 4, 17, 0)
    );
    // Thu 2026-04-30 + 1 → Wed 05-06; + 4 → Sat 05-09 (make-up).
    assert_eq!(
        c.add_working_days(bj(2026, 4, 30, 10, 0), 1).unwrap(),
        bj(2026, 5, 6, 10, 0)
    );
    assert_eq!(
        c.add_working_days(bj(2026, 4, 30, 10, 0), 4).unwrap(),
        bj(2026, 5, 9, 10, 0)
    );
}

#[test]
fn fifteen_working_days_across_spring_festival_2026() {
    let c = cal();
    // Tue 2026-02-10 9:00. Working days after: 11,12,13,14(Sat make-up),24,25,26,27,28(Sat make-up),
    // 3/2,3,4,5,6,9 → the 15th is Mon 03-09.
    assert_eq!(
        c.add_working_days(bj(2026, 2, 10, 9, 0), 15).unwrap(),
        bj(2026, 3, 9, 9, 0)
    );
}

#[test]
fn hours_run_on_all_hours_and_working_hours_skip_days_off() {
    let c = cal();
    let sat = bj(2026, 11, 28, 22, 0);
    assert_eq!(c.add_hours(sat, 24).unwrap(), bj(2026, 11, 29, 22, 0));
    assert_eq!(
        DeadlineRule::Hours(2).due(sat, &c).unwrap(),
        bj(2026, 11, 29, 0, 0)
    );
    // Working hours from Saturday: clock starts Monday 00:00.
    assert_eq!(
        DeadlineRule::WorkingHours(2).due(sat, &c).unwrap(),
        bj(2026, 11, 30, 2, 0)
    );
    // Friday 23:00 + 2 working hours → Monday 01:00.
    assert_eq!(
        c.add_working_hours(bj(2026, 11, 27, 23, 0), 2).unwrap(),
        bj(2026, 11, 30, 1, 0)
    );
}

#[test]
fn working_days_match_the_working_time_clock() {
    let c = cal();
    for start in [
        bj(2026, 11, 23, 15, 0),
        bj(2026, 11, 28, 10, 0),
        bj(2025, 1, 27, 10, 0),
        bj(2026, 2, 13, 23, 0),
    ] {
        for n in [1u32, 7, 15] {
            let due = c.add_working_days(start, n).unwrap();
            assert_eq!(
                c.working_time_between(start, due),
                SignedDuration::from_hours(24 * i64::from(n))
            );
        }
    }
}

#[test]
fn fraction_elapsed_for_reminders() {
    let c = cal();
    let tier = DeadlineTier {
        code: "general".into(),
        name_zh: "一般".into(),
        name_en: "General".into(),
        response: DeadlineRule::WorkingDays(1),
        resolution: DeadlineRule::WorkingDays(7),
    };
    // Friday 12:00, 1 working day → Monday 12:00; Saturday and Sunday do not count.
    let start = bj(2026, 11, 27, 12, 0);
    let (resp, _res) = tier.deadlines(start, &c).unwrap();
    assert_eq!(resp, bj(2026, 11, 30, 12, 0));
    let f_sun = tier
        .response
        .fraction_elapsed(start, resp, bj(2026, 11, 29, 23, 0), &c);
    assert!((f_sun - 0.5).abs() < 1e-9, "{f_sun}");
    let f_mon = tier
        .response
        .fraction_elapsed(start, resp, bj(2026, 11, 30, 7, 12), &c);
    assert!((f_mon - 0.8).abs() < 1e-9, "{f_mon}");
    assert_eq!(
        tier.response
            .fraction_elapsed(start, resp, bj(2026, 12, 1, 0, 0), &c),
        1.0
    );
    assert_eq!(tier.response.fraction_elapsed(start, resp, start, &c), 0.0);
    // Hours: wall time.
    let h = DeadlineRule::Hours(10);
    let due = h.due(start, &c).unwrap();
    let f = h.fraction_elapsed(start, due, bj(2026, 11, 27, 20, 0), &c);
    assert!((f - 0.8).abs() < 1e-9);
}
