//! The sample renovation programme (样例改造计划) of the sample city: about 30 projects of the
//! three programmes in every status, about 200 buildings with safety grades (a few C and D),
//! inspections with checklists and hazards (some overdue), and the annual plans of both
//! districts. Deterministic, with dates relative to the server clock's current year, so the
//! sample is alive in any year. Written as mutations through sync's push by the system author,
//! like any other change; devices pull it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use anju_shared::hlc::{DEFAULT_MAX_DRIFT_MS, HlcClock};
use jiff::ToSpan;
use jiff::civil::Date;
use serde_json::{Value, json};
use uuid::Uuid;

use super::query::Org;
use super::write::{Edit, OfficeAuthor, OfficeSync, push_office};
use crate::auth::scope::Scope;
use crate::db::DbConnection;
use crate::error::ApiError;

/// A tiny deterministic generator (the sample is the same on every start).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::try_from(self.below(u64::try_from(hi - lo + 1).unwrap_or(1))).unwrap_or(0)
    }
}

/// Deterministic record ids (UUIDv4 layout from the generator).
fn id(rng: &mut Lcg) -> Uuid {
    let hi = (rng.next() << 32) | rng.next();
    let lo = (rng.next() << 32) | rng.next();
    uuid::Builder::from_random_bytes(((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes())
        .into_uuid()
}

const CONTRACTORS: &[&str] = &["青河城建集团", "北方建设工程有限公司", "河西市政工程公司"];
const INSPECTORS: &[&str] = &["王建国", "李秀英", "张伟", "刘洋", "陈静"];
const STRUCTURES: &[&str] = &[
    "brick_concrete",
    "brick_wood",
    "reinforced_concrete",
    "masonry",
];

/// Loads the registers' part of the sample programme (projects, buildings, inspections, hazards)
/// for the year of `now_ms` (in `tz`) unless the store already holds projects. Returns whether
/// it did; the caller then loads what builds on the registers (`startup`'s
/// `load_sample_programme`: plans, funds, hand-overs).
pub fn load_if_empty(
    conn: &mut DbConnection,
    tz: &jiff::tz::TimeZone,
    now_ms: i64,
) -> Result<bool, ApiError> {
    use crate::sync::schema::sync_records;
    use diesel::prelude::*;
    let projects: i64 = sync_records::table
        .filter(sync_records::record_type.eq("project"))
        .count()
        .get_result(conn)?;
    if projects > 0 {
        return Ok(false);
    }
    let today = tz.to_datetime(crate::clock::from_ms(now_ms)).date();
    let org = Org::load(conn)?;
    let edits = build(&org, today);
    if edits.is_empty() {
        return Ok(false);
    }
    let clock = Mutex::new(HlcClock::new("server-sample", DEFAULT_MAX_DRIFT_MS));
    let author = OfficeAuthor::system();
    for chunk in edits.chunks(200) {
        // The registers' rules only: the sample's fund ledger is written after its projects,
        // and each ledger entry writes its project's summary itself.
        let sync = OfficeSync {
            clock: &clock,
            records: &super::columns::RegisterRecords,
        };
        push_office(conn, sync, &Scope::All, &author, chunk.to_vec(), now_ms)?;
    }
    Ok(true)
}

fn fields(pairs: Vec<(&str, Value)>) -> BTreeMap<String, Value> {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn day(d: Date) -> Value {
    Value::String(d.to_string())
}

/// A date `k` days before `today` but not before 1 January (this year's events).
fn this_year(today: Date, rng: &mut Lcg) -> Date {
    let elapsed = i64::from(today.day_of_year()) - 1;
    let back = if elapsed <= 0 {
        0
    } else {
        rng.range(0, elapsed)
    };
    today.checked_sub(back.days()).unwrap_or(today)
}

fn last_year(today: Date, rng: &mut Lcg) -> Date {
    let start = Date::new(today.year() - 1, 1, 1).unwrap_or(today);
    start.checked_add(rng.range(0, 360).days()).unwrap_or(start)
}

/// The unit of a street office serving `street_code` (`hexi-jianshe` → `hexi_jianshe_office`).
fn street_office<'a>(org: &'a Org, street_code: &str) -> Option<&'a super::query::Unit> {
    org.unit(&format!("{}_office", street_code.replace('-', "_")))
}

/// Every mutation of the sample, in dependency order (projects, buildings, inspections, hazards).
fn build(org: &Org, today: Date) -> Vec<Edit> {
    let mut rng = Lcg(0x616e_6a75_2026);
    let mut communities: Vec<&super::query::Area> = org
        .areas
        .values()
        .filter(|a| a.kind == "community")
        .collect();
    communities.sort_by(|a, b| a.code.cmp(&b.code));
    let mut out = Vec::new();
    // (project id, programme, community id)
    let mut projects: Vec<(Uuid, &str, String)> = Vec::new();
    let programmes = ["shantytown", "dangerous_housing", "old_community"];
    if communities.is_empty() {
        return Vec::new();
    }
    for i in 0..30 {
        let c = communities[i % communities.len()];
        let phase2 = if i >= communities.len() {
            "（二期）"
        } else {
            ""
        };
        let programme = programmes[i % 3];
        let Some(street) = c.parent_id.as_deref().and_then(|p| org.areas.get(p)) else {
            continue;
        };
        let Some(unit) = street_office(org, &street.code) else {
            continue;
        };
        // Every status: a third planned, a third in progress, a third completed this year.
        let phase = (i / 3) % 4;
        let status = match phase {
            0 => "planned",
            1 | 2 => "in_progress",
            _ => "completed",
        };
        let (measure, units) = match programme {
            "shantytown" => ("flat", rng.range(120, 600)),
            "dangerous_housing" => ("household", rng.range(12, 80)),
            _ => ("household", rng.range(300, 1200)),
        };
        let name = match programme {
            "shantytown" => format!("{}棚户区改造项目{phase2}", c.name_zh),
            "dangerous_housing" => format!("{}危房改造项目{phase2}", c.name_zh),
            _ => format!("{}老旧小区改造项目{phase2}", c.name_zh),
        };
        let planned_start =
            Date::new(today.year(), i8::try_from(1 + i % 9).unwrap_or(1), 10).unwrap_or(today);
        let (actual_start, actual_completion, progress, completed) = match status {
            "planned" => (None, None, 0, 0),
            "completed" => {
                let s = last_year(today, &mut rng);
                (Some(s), Some(this_year(today, &mut rng)), 100, units)
            }
            _ => {
                let s = if phase == 1 {
                    this_year(today, &mut rng)
                } else {
                    last_year(today, &mut rng)
                };
                let p = rng.range(10, 90);
                (Some(s), None, p, units * p / 100)
            }
        };
        let planned_completion = planned_start
            .checked_add(rng.range(200, 500).days())
            .unwrap_or(planned_start);
        // A couple of in-progress projects already late: planned completion before today.
        let planned_completion = if status == "in_progress" && i % 7 == 0 {
            today.checked_sub(20.days()).unwrap_or(today)
        } else {
            planned_completion
        };
        let pid = id(&mut rng);
        projects.push((pid, programme, c.id.clone()));
        out.push(Edit {
            record_type: "project".into(),
            record_id: pid,
            base_version: None,
            fields: fields(vec![
                ("code", json!(format!("XM-{:03}", i + 1))),
                ("name", json!(name)),
                ("programme", json!(programme)),
                ("area_id", json!(c.id)),
                ("unit_id", json!(unit.id)),
                ("contractor", json!(CONTRACTORS[i % CONTRACTORS.len()])),
                ("measure", json!(measure)),
                ("planned_units", json!(units)),
                ("completed_units", json!(completed)),
                ("planned_start", day(planned_start)),
                ("actual_start", actual_start.map(day).unwrap_or(Value::Null)),
                ("planned_completion", day(planned_completion)),
                (
                    "actual_completion",
                    actual_completion.map(day).unwrap_or(Value::Null),
                ),
                ("progress_percent", json!(progress)),
                ("status", json!(status)),
            ]),
        });
    }
    let mut inspections = Vec::new();
    let mut hazards = Vec::new();
    let mut order = 0;
    for (ci, c) in communities.iter().enumerate() {
        let Some(street) = c.parent_id.as_deref().and_then(|p| org.areas.get(p)) else {
            continue;
        };
        let Some(unit) = street_office(org, &street.code) else {
            continue;
        };
        let project = projects
            .iter()
            .find(|(_, p, a)| a == &c.id && *p != "old_community")
            .map(|(id, _, _)| *id);
        for b in 0..8 {
            let bid = id(&mut rng);
            let roll = rng.below(100);
            let grade = match roll {
                0..=39 => "A",
                40..=79 => "B",
                80..=93 => "C",
                _ => "D",
            };
            let disposition = match grade {
                "C" => json!("repair_reinforce"),
                "D" => json!(if project.is_some() {
                    "shantytown_plan"
                } else {
                    "gradual_renovation"
                }),
                _ => Value::Null,
            };
            out.push(Edit {
                record_type: "building".into(),
                record_id: bid,
                base_version: None,
                fields: fields(vec![
                    ("code", json!(format!("FW-{}-{:02}", c.code, b + 1))),
                    ("address", json!(format!("{} {}号楼", c.name_zh, b + 1))),
                    ("area_id", json!(c.id)),
                    ("structure", json!(STRUCTURES[(ci + b) % STRUCTURES.len()])),
                    ("year_built", json!(rng.range(1958, 1999))),
                    ("floors", json!(rng.range(2, 7))),
                    ("households", json!(rng.range(8, 60))),
                    ("safety_grade", json!(grade)),
                    ("disposition", disposition),
                    (
                        "project_id",
                        if b < 3 {
                            project.map(|p| json!(p.to_string())).unwrap_or(Value::Null)
                        } else {
                            Value::Null
                        },
                    ),
                ]),
            });
            // Every C and D building and every fourth other one was inspected this year.
            if grade == "A" && b % 4 != 0 {
                continue;
            }
            let iid = id(&mut rng);
            let on = this_year(today, &mut rng);
            let cracks = grade == "C" || grade == "D";
            inspections.push(Edit {
                record_type: "inspection".into(),
                record_id: iid,
                base_version: None,
                fields: fields(vec![
                    ("area_id", json!(c.id)),
                    ("unit_id", json!(unit.id)),
                    ("building_id", json!(bid.to_string())),
                    ("project_id", project.map(|p| json!(p.to_string())).unwrap_or(Value::Null)),
                    ("inspector", json!(INSPECTORS[(ci + b) % INSPECTORS.len()])),
                    ("inspected_at", json!(format!("{on}T09:30:00+08:00"))),
                    (
                        "checklist",
                        json!({"foundation_settlement": grade == "D", "wall_cracks": cracks,
                               "roof_leaks": b % 3 == 0, "gas_pipes_ok": true, "fire_exits_clear": b % 5 != 0}),
                    ),
                    ("findings", json!(if cracks { "承重墙体裂缝，建议加固或搬离" } else { "未发现明显安全隐患" })),
                    ("grade", json!(grade)),
                ]),
            });
            if grade == "A" || (grade == "B" && b % 2 == 0) {
                continue;
            }
            order += 1;
            let issued = on;
            let deadline = issued.checked_add(30.days()).unwrap_or(issued);
            let status = if deadline >= today || order % 3 == 0 {
                "open"
            } else if order % 3 == 1 {
                "rectified"
            } else {
                "verified"
            };
            let severity = match grade {
                "D" => "critical",
                "C" => "high",
                _ => "medium",
            };
            hazards.push(Edit {
                record_type: "hazard".into(),
                record_id: id(&mut rng),
                base_version: None,
                fields: fields(vec![
                    (
                        "description",
                        json!(if cracks {
                            "承重墙体开裂"
                        } else {
                            "楼道堆放杂物，消防通道不畅"
                        }),
                    ),
                    ("location", json!(format!("{} {}号楼", c.name_zh, b + 1))),
                    ("area_id", json!(c.id)),
                    ("unit_id", json!(unit.id)),
                    ("building_id", json!(bid.to_string())),
                    (
                        "project_id",
                        project.map(|p| json!(p.to_string())).unwrap_or(Value::Null),
                    ),
                    ("inspection_id", json!(iid.to_string())),
                    ("severity", json!(severity)),
                    (
                        "order_no",
                        json!(format!("青住整〔{}〕{:03}号", today.year(), order)),
                    ),
                    ("order_issued_on", day(issued)),
                    ("requirements", json!("限期整改并报送整改照片")),
                    ("deadline", day(deadline)),
                    ("status", json!(status)),
                    (
                        "rectification_note",
                        if status == "open" {
                            Value::Null
                        } else {
                            json!("已按要求完成整改")
                        },
                    ),
                ]),
            });
        }
    }
    out.extend(inspections);
    out.extend(hazards);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let mut a = Lcg(7);
        let mut b = Lcg(7);
        assert_eq!(id(&mut a), id(&mut b));
        assert!(a.range(3, 5) >= 3);
    }
}
