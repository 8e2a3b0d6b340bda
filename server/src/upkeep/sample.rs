//! The sample city's upkeep: the first completed projects (by code, one per community) are
//! handed over to the sample property managers on their completion day, and each community gets
//! facility and property-management complaints for the six months before and the months after,
//! so the upkeep pages have something to compare. The complaints go through the one intake and
//! the one ticket state machine (`complaints::intake::file`, `tickets::transition::apply`) at
//! their own past instants: before the hand-over the street office handles them (often late,
//! some disputed), after it the property manager (mostly in time; a few still open and overdue).
//! Deterministic.

use diesel::prelude::*;
use jiff::tz::TimeZone;

use super::figures::{add_months, midnight};
use super::schema::upkeep_handovers;
use super::{NewHandover, hand_over};
use crate::auth::scope::Scope;
use crate::auth::{Principal, Role};
use crate::complaints::intake::{self, NewComplaint, Source};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::org::catalog::{self, Catalog};
use crate::tickets::aggregates::TicketAggregates;
use crate::tickets::copies::TicketCopies;
use crate::tickets::transition::{self, Change, Env, Mover};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

/// What the sample complaints say (category, description).
const TEXTS: [(&str, &str); 6] = [
    ("damaged_facility", "楼道灯坏了一个多月，晚上上下楼看不见"),
    ("damaged_facility", "小区健身器材螺丝松动，老人使用有危险"),
    ("damaged_facility", "单元门门禁损坏，门一直关不上"),
    ("property_management", "物业长期不清理垃圾桶，气味很大"),
    ("property_management", "小区内车辆乱停，消防通道被占"),
    ("property_management", "雨水井堵塞，下雨后路面积水"),
];

/// How well a unit handles its sample tickets: every `late`-th accepted and resolved after the
/// deadline, every `disputed`-th disputed once, every `open`-th left open.
#[derive(Clone, Copy)]
struct Quality {
    late: u64,
    disputed: u64,
    open: u64,
}

/// A tiny deterministic generator.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Loads the hand-overs and their complaints unless a hand-over exists. Returns how many
/// communities were handed over. The complaints' synced copies are written through `copies`, their
/// per-day aggregates through `aggregates`.
pub fn load(
    conn: &mut DbConnection,
    tz: &TimeZone,
    now: i64,
    copies: &dyn TicketCopies,
    aggregates: &dyn TicketAggregates,
) -> Result<usize, ApiError> {
    use crate::registers::query::{Narrow, live_records};
    let any: i64 = upkeep_handovers::table.count().get_result(conn)?;
    if any > 0 {
        return Ok(0);
    }
    let mut done: Vec<_> = live_records(conn, "project", &Scope::All, &Narrow::default())?
        .into_iter()
        .filter(|p| p.text("status") == Some("completed") && p.text("actual_completion").is_some())
        .collect();
    done.sort_by(|a, b| a.text("code").cmp(&b.text("code")));
    let photo = sample_photo(conn, now)?;
    let mut n = 0;
    let mut seen = std::collections::BTreeSet::new();
    let mut rng = Lcg(20_261_203);
    let managers = [
        ("pm_hengan", 9, 7, 11),
        ("pm_jiahe", 5, 5, 8),
        ("pm_city", 3, 3, 6),
    ];
    for (p, (pm, late, disputed, open)) in done.iter().zip(managers) {
        let area = p.text("area_id").unwrap_or("").to_owned();
        if !seen.insert(area.clone()) {
            continue;
        }
        let Some(day) = p
            .text("actual_completion")
            .and_then(|d| d.parse::<jiff::civil::Date>().ok())
        else {
            continue;
        };
        let t = midnight(tz, day);
        if t >= now {
            continue;
        }
        // Before: the street office, often late, disputed now and then; never left open.
        let before = catalog::load(conn, tz)?;
        let from = midnight(tz, add_months(day, -6));
        let street = Quality {
            late: 2,
            disputed: 3,
            open: 0,
        };
        file_many(
            conn,
            &before,
            tz,
            (from, t - DAY),
            20,
            &area,
            street,
            &photo,
            &mut rng,
            now,
            copies,
            aggregates,
        )?;
        let b = NewHandover {
            project_id: p.record.id.to_string(),
            unit_id: pm.into(),
            took_over_on: day.to_string(),
            note: Some("样例移交".into()),
        };
        match hand_over(conn, &b, "system", "系统 / system", now) {
            Ok(_) => n += 1,
            Err(e) => {
                tracing::warn!(code = e.code(), "sample hand-over skipped");
                continue;
            }
        }
        // After: the property manager, through the hand-over's routing rules.
        let after = catalog::load(conn, tz)?;
        let months = ((now - t) / (30 * DAY)).max(1);
        let count = (months * 3).clamp(14, 40);
        let quality = Quality {
            late,
            disputed,
            open,
        };
        file_many(
            conn,
            &after,
            tz,
            (t + HOUR, now - 2 * DAY),
            count,
            &area,
            quality,
            &photo,
            &mut rng,
            now,
            copies,
            aggregates,
        )?;
    }
    Ok(n)
}

/// A stored photo for the sample resolutions (damaged facilities need one).
fn sample_photo(conn: &mut DbConnection, now: i64) -> Result<String, ApiError> {
    let bytes = crate::attachments::image::samples::jpeg_with_exif();
    crate::attachments::uploads::store_public_copy(conn, &bytes, now).map_err(|e| match e {
        crate::attachments::uploads::CopyError::Db(e) => e,
        crate::attachments::uploads::CopyError::Image(e) => {
            ApiError::internal(anyhow::anyhow!("sample photo: {e:?}"))
        }
    })
}

fn staff(unit: &str) -> Principal {
    Principal {
        user_id: "system".into(),
        user: None,
        username: "system".into(),
        display_name: "样例经办人".into(),
        role: Role::UnitStaff,
        unit_id: Some(unit.into()),
        device_id: None,
    }
}

/// Files `count` complaints spread over `[from, to]` (ms) in `area` and runs each through its
/// life as `q` says, every step at its own instant and none after `now`.
#[allow(clippy::too_many_arguments)]
fn file_many(
    conn: &mut DbConnection,
    catalog: &Catalog,
    tz: &TimeZone,
    (from, to): (i64, i64),
    count: i64,
    area: &str,
    q: Quality,
    photo: &str,
    rng: &mut Lcg,
    now: i64,
    copies: &dyn TicketCopies,
    aggregates: &dyn TicketAggregates,
) -> Result<(), ApiError> {
    if to <= from || count <= 0 {
        return Ok(());
    }
    let step = (to - from) / count;
    for i in 0..count {
        let k = u64::try_from(i).unwrap_or(0) + 1;
        let at = from
            + i * step
            + i64::try_from(rng.below(u64::try_from(step / 2).unwrap_or(1))).unwrap_or(0);
        let (category, text) = TEXTS[usize::try_from(rng.below(6)).unwrap_or(0)];
        let c = NewComplaint {
            category: category.into(),
            description: text.into(),
            area_id: Some(area.into()),
            point: None,
            address: None,
            photos: Vec::new(),
            name: None,
            phone: None,
            source: Source::Web,
        };
        let (t, _) = intake::file(
            conn, catalog, &c, at, tz, "", None, None, copies, aggregates,
        )?;
        let Some(unit) = t.unit_id.clone() else {
            continue;
        };
        let who = staff(&unit);
        let late = q.late > 0 && k % q.late == 0;
        let leave_open = q.open > 0 && k % q.open == 0;
        let disputed = q.disputed > 0 && k % q.disputed == 0;
        let mut steps: Vec<(i64, Change, bool)> = Vec::new();
        let accept = if late {
            t.response_due + 3 * HOUR
        } else {
            at + HOUR
        };
        steps.push((accept, Change::Accept, true));
        if !leave_open {
            let resolve = if late {
                t.resolution_due + DAY
            } else {
                (at + 2 * DAY)
                    .min(t.resolution_due - HOUR)
                    .max(accept + HOUR)
            };
            steps.push((resolve, resolved(photo), true));
            if disputed {
                steps.push((
                    resolve + DAY,
                    Change::Dispute {
                        rating: 2,
                        comment: Some("没有修好".into()),
                    },
                    false,
                ));
                steps.push((resolve + DAY + 2 * HOUR, Change::Accept, true));
                steps.push((resolve + 3 * DAY, resolved(photo), true));
            }
            let stars = if late {
                3
            } else {
                4 + i32::from(rng.below(2) == 0)
            };
            let last = steps.last().map_or(resolve, |s| s.0);
            steps.push((
                last + DAY,
                Change::Confirm {
                    rating: stars,
                    comment: None,
                },
                false,
            ));
        }
        for (when, change, by_staff) in steps {
            if when >= now {
                break;
            }
            let env = Env {
                catalog,
                tz,
                public_url: "",
                now: when,
                deferred: None,
                copies,
                aggregates,
            };
            let mover = if by_staff {
                Mover::Staff(&who)
            } else {
                Mover::Resident
            };
            transition::apply(conn, &env, mover, &t.id, change, None)?;
        }
    }
    Ok(())
}

fn resolved(photo: &str) -> Change {
    Change::Resolve {
        result: "已维修完毕".into(),
        photos: vec![photo.to_owned()],
        proof: Vec::new(),
        max_distance_m: 200.0,
    }
}
