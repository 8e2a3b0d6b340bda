//! Writing the city's data into the database: an import is an upsert by code of every item in
//! the file, in one transaction, so importing the same file twice changes nothing. References
//! (parent, unit, area, tier, category) resolve against the file and the database.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::db::DbConnection;
use crate::db::schema::{
    areas, calendar_days, categories, deadline_tiers, routing_rules, unit_areas,
    unit_notify_targets, units, users,
};
use crate::error::{ApiError, ErrorCode};
use crate::org::import_format::{self, DeadlineSpec, ImportFile};

/// Counts of what an import created and updated.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    /// Areas created.
    pub areas_created: usize,
    /// Areas updated.
    pub areas_updated: usize,
    /// Units created.
    pub units_created: usize,
    /// Units updated.
    pub units_updated: usize,
    /// Tiers written.
    pub tiers: usize,
    /// Categories written.
    pub categories: usize,
    /// Routing rules created.
    pub rules_created: usize,
    /// Calendar days written.
    pub calendar_days: usize,
    /// Users created (without passwords: set one with `anju user set-password`).
    pub users_created: usize,
}

/// The wire name of a serde enum value (`district`, `street_office`, …).
pub fn wire<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn unprocessable(errors: Vec<String>) -> ApiError {
    ApiError::new(
        ErrorCode::ImportInvalid,
        "导入的数据有误，未做任何修改",
        "The data is not valid; nothing was changed",
    )
    .with("errors", json!(errors))
}

/// How strictly to check a file before writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// The city's whole data: every check of [`import_format::validate`] applies.
    Whole,
    /// A few items (admin edits): references may name items already in the database.
    Partial,
}

fn code_map(conn: &mut DbConnection, table: &str) -> Result<HashMap<String, String>, ApiError> {
    let rows: Vec<(String, String)> = match table {
        "areas" => areas::table.select((areas::code, areas::id)).load(conn)?,
        _ => units::table.select((units::code, units::id)).load(conn)?,
    };
    Ok(rows.into_iter().collect())
}

/// Imports `file` in one transaction. Any reference that resolves nowhere, or (for a whole file)
/// any validation problem, refuses the import with 422 `import_invalid` listing every problem,
/// and changes nothing.
pub fn import(
    conn: &mut DbConnection,
    file: &ImportFile,
    completeness: Completeness,
    now_ms: i64,
) -> Result<ImportSummary, ApiError> {
    if completeness == Completeness::Whole {
        import_format::validate(file).map_err(unprocessable)?;
    }
    // Polygons must parse, whole file or not.
    file.area_inputs().map_err(|e| unprocessable(vec![e]))?;
    conn.transaction(|conn| write(conn, file, now_ms))
}

fn write(conn: &mut DbConnection, file: &ImportFile, now: i64) -> Result<ImportSummary, ApiError> {
    let mut summary = ImportSummary::default();
    let mut problems = Vec::new();

    // Areas, parents first: repeat passes until every area whose parent is known is written.
    let mut area_ids = code_map(conn, "areas")?;
    let mut pending: Vec<_> = file.areas.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut rest = Vec::new();
        for a in pending {
            let parent_id = match &a.parent {
                None => None,
                Some(p) => match area_ids.get(p) {
                    Some(id) => Some(id.clone()),
                    None if file.areas.iter().any(|x| &x.code == p) => {
                        rest.push(a);
                        continue;
                    }
                    None => {
                        problems.push(format!("area {}: parent {p} does not exist", a.code));
                        continue;
                    }
                },
            };
            let polygon = a.polygon.as_ref().map(|p| p.to_string());
            let kind = wire(&a.kind);
            match area_ids.get(&a.code) {
                Some(id) => {
                    diesel::update(areas::table.find(id))
                        .set((
                            areas::parent_id.eq(&parent_id),
                            areas::kind.eq(&kind),
                            areas::name_zh.eq(&a.name_zh),
                            areas::name_en.eq(&a.name_en),
                            areas::polygon.eq(&polygon),
                            areas::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    summary.areas_updated += 1;
                }
                None => {
                    let id = uuid::Uuid::now_v7().to_string();
                    diesel::insert_into(areas::table)
                        .values((
                            areas::id.eq(&id),
                            areas::code.eq(&a.code),
                            areas::parent_id.eq(&parent_id),
                            areas::kind.eq(&kind),
                            areas::name_zh.eq(&a.name_zh),
                            areas::name_en.eq(&a.name_en),
                            areas::polygon.eq(&polygon),
                            areas::created_at.eq(now),
                            areas::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    area_ids.insert(a.code.clone(), id);
                    summary.areas_created += 1;
                }
            }
        }
        if rest.len() == before {
            problems.extend(
                rest.iter()
                    .map(|a| format!("area {}: parent chain has a cycle", a.code)),
            );
            break;
        }
        pending = rest;
    }

    // Units: rows first, then the links between them.
    let mut unit_ids = code_map(conn, "units")?;
    for u in &file.units {
        let kind = wire(&u.kind);
        match unit_ids.get(&u.code) {
            Some(id) => {
                diesel::update(units::table.find(id))
                    .set((
                        units::kind.eq(&kind),
                        units::name_zh.eq(&u.name_zh),
                        units::name_en.eq(&u.name_en),
                        units::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                summary.units_updated += 1;
            }
            None => {
                let id = uuid::Uuid::now_v7().to_string();
                diesel::insert_into(units::table)
                    .values((
                        units::id.eq(&id),
                        units::code.eq(&u.code),
                        units::kind.eq(&kind),
                        units::name_zh.eq(&u.name_zh),
                        units::name_en.eq(&u.name_en),
                        units::created_at.eq(now),
                        units::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                unit_ids.insert(u.code.clone(), id);
                summary.units_created += 1;
            }
        }
    }
    for u in &file.units {
        let Some(id) = unit_ids.get(&u.code).cloned() else {
            continue;
        };
        let mut resolve = |what: &str, code: &Option<String>| match code {
            None => None,
            Some(c) => match unit_ids.get(c) {
                Some(id) => Some(id.clone()),
                None => {
                    problems.push(format!("unit {}: {what} {c} does not exist", u.code));
                    None
                }
            },
        };
        let parent = resolve("parent", &u.parent);
        let supervising = resolve("supervising_unit", &u.supervising_unit);
        diesel::update(units::table.find(&id))
            .set((
                units::parent_id.eq(parent),
                units::supervising_unit_id.eq(supervising),
            ))
            .execute(conn)?;
        diesel::delete(unit_areas::table.filter(unit_areas::unit_id.eq(&id))).execute(conn)?;
        for area in &u.areas {
            match area_ids.get(area) {
                Some(area_id) => {
                    diesel::insert_into(unit_areas::table)
                        .values((unit_areas::unit_id.eq(&id), unit_areas::area_id.eq(area_id)))
                        .execute(conn)?;
                }
                None => problems.push(format!("unit {}: area {area} does not exist", u.code)),
            }
        }
        diesel::delete(unit_notify_targets::table.filter(unit_notify_targets::unit_id.eq(&id)))
            .execute(conn)?;
        for n in &u.notify {
            diesel::insert_into(unit_notify_targets::table)
                .values((
                    unit_notify_targets::id.eq(uuid::Uuid::now_v7().to_string()),
                    unit_notify_targets::unit_id.eq(&id),
                    unit_notify_targets::kind.eq(wire(&n.kind)),
                    unit_notify_targets::url.eq(&n.url),
                    unit_notify_targets::secret_env.eq(&n.secret_env),
                    unit_notify_targets::created_at.eq(now),
                ))
                .execute(conn)?;
        }
    }

    for t in &file.tiers {
        let split = |d: DeadlineSpec| match d {
            DeadlineSpec::Hours(n) => ("hours", n as i32),
            DeadlineSpec::WorkingDays(n) => ("working_days", n as i32),
        };
        let (rk, rv) = split(t.response);
        let (sk, sv) = split(t.resolution);
        let clock = wire(&t.clock);
        let exists: i64 = deadline_tiers::table
            .filter(deadline_tiers::code.eq(&t.code))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            diesel::update(deadline_tiers::table.find(&t.code))
                .set((
                    deadline_tiers::name_zh.eq(&t.name_zh),
                    deadline_tiers::name_en.eq(&t.name_en),
                    deadline_tiers::response_kind.eq(rk),
                    deadline_tiers::response_value.eq(rv),
                    deadline_tiers::resolution_kind.eq(sk),
                    deadline_tiers::resolution_value.eq(sv),
                    deadline_tiers::clock.eq(&clock),
                ))
                .execute(conn)?;
        } else {
            diesel::insert_into(deadline_tiers::table)
                .values((
                    deadline_tiers::code.eq(&t.code),
                    deadline_tiers::name_zh.eq(&t.name_zh),
                    deadline_tiers::name_en.eq(&t.name_en),
                    deadline_tiers::response_kind.eq(rk),
                    deadline_tiers::response_value.eq(rv),
                    deadline_tiers::resolution_kind.eq(sk),
                    deadline_tiers::resolution_value.eq(sv),
                    deadline_tiers::clock.eq(&clock),
                ))
                .execute(conn)?;
        }
        summary.tiers += 1;
    }

    let known_tiers: Vec<String> = deadline_tiers::table
        .select(deadline_tiers::code)
        .load(conn)?;
    let base_order: i32 = categories::table.count().get_result::<i64>(conn)? as i32;
    for (i, c) in file.categories.iter().enumerate() {
        if !known_tiers.contains(&c.tier) {
            problems.push(format!(
                "category {}: tier {} does not exist",
                c.code, c.tier
            ));
            continue;
        }
        let exists: i64 = categories::table
            .filter(categories::code.eq(&c.code))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            diesel::update(categories::table.find(&c.code))
                .set((
                    categories::name_zh.eq(&c.name_zh),
                    categories::name_en.eq(&c.name_en),
                    categories::tier_code.eq(&c.tier),
                    categories::needs_photo_proof.eq(c.needs_photo_proof),
                    categories::icon.eq(&c.icon),
                    categories::active.eq(true),
                ))
                .execute(conn)?;
        } else {
            diesel::insert_into(categories::table)
                .values((
                    categories::code.eq(&c.code),
                    categories::name_zh.eq(&c.name_zh),
                    categories::name_en.eq(&c.name_en),
                    categories::tier_code.eq(&c.tier),
                    categories::needs_photo_proof.eq(c.needs_photo_proof),
                    categories::icon.eq(&c.icon),
                    categories::active.eq(true),
                    categories::sort_order.eq(base_order + i as i32),
                ))
                .execute(conn)?;
        }
        summary.categories += 1;
    }

    let known_categories: Vec<String> = categories::table.select(categories::code).load(conn)?;
    for r in &file.routing_rules {
        let (Some(area_id), Some(unit_id)) = (area_ids.get(&r.area), unit_ids.get(&r.unit)) else {
            problems.push(format!(
                "routing rule {}: area or unit does not exist",
                r.key()
            ));
            continue;
        };
        if let Some(c) = &r.category
            && !known_categories.contains(c)
        {
            problems.push(format!(
                "routing rule {}: category {c} does not exist",
                r.key()
            ));
            continue;
        }
        let key = r.key();
        let exists: i64 = routing_rules::table
            .filter(routing_rules::rule_key.eq(&key))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            diesel::update(routing_rules::table.filter(routing_rules::rule_key.eq(&key)))
                .set(routing_rules::priority.eq(r.priority))
                .execute(conn)?;
        } else {
            diesel::insert_into(routing_rules::table)
                .values((
                    routing_rules::id.eq(uuid::Uuid::now_v7().to_string()),
                    routing_rules::rule_key.eq(&key),
                    routing_rules::category_code.eq(&r.category),
                    routing_rules::area_id.eq(area_id),
                    routing_rules::unit_id.eq(unit_id),
                    routing_rules::priority.eq(r.priority),
                    routing_rules::created_at.eq(now),
                ))
                .execute(conn)?;
            summary.rules_created += 1;
        }
    }

    if let Some(cal) = &file.calendar {
        let days = cal
            .holidays
            .iter()
            .map(|d| (d, "holiday"))
            .chain(cal.workdays.iter().map(|d| (d, "workday")));
        for (day, kind) in days {
            set_calendar_day(conn, &day.to_string(), kind, None)?;
            summary.calendar_days += 1;
        }
    }

    for u in &file.users {
        let unit_id = match &u.unit {
            None => None,
            Some(code) => match unit_ids.get(code) {
                Some(id) => Some(id.clone()),
                None => {
                    problems.push(format!("user {}: unit {code} does not exist", u.username));
                    continue;
                }
            },
        };
        let exists: i64 = users::table
            .filter(users::username.eq(&u.username))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            diesel::update(users::table.filter(users::username.eq(&u.username)))
                .set((
                    users::display_name.eq(&u.display_name),
                    users::role.eq(u.role.as_str()),
                    users::unit_id.eq(&unit_id),
                    users::updated_at.eq(now),
                ))
                .execute(conn)?;
        } else {
            crate::users::insert(
                conn,
                &u.username,
                &u.display_name,
                u.role,
                unit_id.as_deref(),
                None,
                now,
            )?;
            summary.users_created += 1;
        }
    }

    if problems.is_empty() {
        Ok(summary)
    } else {
        // Returning an error rolls the whole transaction back.
        Err(unprocessable(problems))
    }
}

/// Marks `day` (`YYYY-MM-DD`) as a statutory holiday or a make-up working day (调休).
pub fn set_calendar_day(
    conn: &mut DbConnection,
    day: &str,
    kind: &str,
    note: Option<&str>,
) -> Result<(), ApiError> {
    diesel::delete(calendar_days::table.find(day)).execute(conn)?;
    diesel::insert_into(calendar_days::table)
        .values((
            calendar_days::day.eq(day),
            calendar_days::kind.eq(kind),
            calendar_days::note.eq(note),
        ))
        .execute(conn)?;
    Ok(())
}

/// The working calendar as the database holds it, in `tz`.
pub fn load_calendar(
    conn: &mut DbConnection,
    tz: &jiff::tz::TimeZone,
) -> Result<crate::calendar::WorkingCalendar, ApiError> {
    let rows: Vec<(String, String)> = calendar_days::table
        .select((calendar_days::day, calendar_days::kind))
        .load(conn)?;
    let mut holidays = Vec::new();
    let mut workdays = Vec::new();
    for (day, kind) in rows {
        let Ok(date) = day.parse::<jiff::civil::Date>() else {
            continue;
        };
        if kind == "holiday" {
            holidays.push(date);
        } else {
            workdays.push(date);
        }
    }
    Ok(crate::calendar::WorkingCalendar::new(
        tz.clone(),
        holidays,
        workdays,
    ))
}

/// The sample city, embedded in the binary.
pub const SAMPLE_CITY: &str = include_str!("../../sample/city.json");

/// Loads the sample city into an empty database; does nothing when any area exists.
/// Returns whether it loaded.
pub fn load_sample_if_empty(conn: &mut DbConnection, now_ms: i64) -> Result<bool, ApiError> {
    let count: i64 = areas::table.count().get_result(conn)?;
    if count > 0 {
        return Ok(false);
    }
    let file = ImportFile::from_json(SAMPLE_CITY)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("sample city: {e}")))?;
    import(conn, &file, Completeness::Whole, now_ms)?;
    Ok(true)
}
