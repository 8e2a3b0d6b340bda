//! Annual plan targets (年度计划) and their change log: every change says who, when, old → new
//! and from where (form or API, import, sample), in the same transaction as the change.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schema::{annual_plan_changes, annual_plans};
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::registers::query::Org;

/// One planned figure of a programme, in its unit of count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// 棚改新开工 (套): shantytown flats started.
    ShantytownStarted,
    /// 棚改基本建成 (套): shantytown flats basically completed.
    ShantytownCompleted,
    /// 危房改造 (户): dangerous-housing households renovated.
    DangerousHouseholds,
    /// 老旧小区开工 (个): old communities started.
    OldCommunityStarted,
    /// 老旧小区受益 (户): households in the old communities started.
    OldCommunityHouseholds,
}

impl Measure {
    /// Every measure, in the order of the tables and the sheet.
    pub const ALL: [Measure; 5] = [
        Measure::ShantytownStarted,
        Measure::ShantytownCompleted,
        Measure::DangerousHouseholds,
        Measure::OldCommunityStarted,
        Measure::OldCommunityHouseholds,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::ShantytownStarted => "shantytown_started",
            Measure::ShantytownCompleted => "shantytown_completed",
            Measure::DangerousHouseholds => "dangerous_households",
            Measure::OldCommunityStarted => "old_community_started",
            Measure::OldCommunityHouseholds => "old_community_households",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The programme it measures.
    pub fn programme(self) -> &'static str {
        match self {
            Measure::ShantytownStarted | Measure::ShantytownCompleted => "shantytown",
            Measure::DangerousHouseholds => "dangerous_housing",
            _ => "old_community",
        }
    }

    /// Chinese label with its unit, as the sheet's header says it.
    pub fn label_zh(self) -> &'static str {
        match self {
            Measure::ShantytownStarted => "棚改新开工(套)",
            Measure::ShantytownCompleted => "棚改基本建成(套)",
            Measure::DangerousHouseholds => "危房改造(户)",
            Measure::OldCommunityStarted => "老旧小区开工(个)",
            Measure::OldCommunityHouseholds => "老旧小区受益(户)",
        }
    }

    /// English label with its unit.
    pub fn label_en(self) -> &'static str {
        match self {
            Measure::ShantytownStarted => "Shantytown flats started",
            Measure::ShantytownCompleted => "Shantytown flats basically completed",
            Measure::DangerousHouseholds => "Dangerous-housing households renovated",
            Measure::OldCommunityStarted => "Old communities started",
            Measure::OldCommunityHouseholds => "Old-community households benefited",
        }
    }
}

/// A validated plan target: a year, a district (area id) and a measure.
#[derive(Debug, Clone)]
pub struct Target {
    /// Plan year.
    pub year: i32,
    /// District area id.
    pub area_id: String,
    /// What is counted.
    pub measure: Measure,
    /// The target, ≥ 0.
    pub target: i64,
}

/// Largest target accepted (a city's yearly programme is far below it).
pub const MAX_TARGET: i64 = 10_000_000;

/// Parses a year (2000..=2100) or says why not.
pub fn parse_year(year: i64) -> Result<i32, ApiError> {
    if (2000..=2100).contains(&year) {
        Ok(i32::try_from(year).unwrap_or(2000))
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidYear,
            format!("年度应在 2000 到 2100 之间：{year}"),
            format!("the year is between 2000 and 2100: {year}"),
        ))
    }
}

/// A (zh, en) reason a plan entry is refused.
pub type Reason = (String, String);

/// Checks one entry against the organisation: the district exists (by id, code or name) and
/// the target is a whole number in 0..=[`MAX_TARGET`].
pub fn check_entry(
    org: &Org,
    year: i32,
    district: &str,
    measure: &str,
    target: i64,
) -> Result<Target, Reason> {
    let d = district.trim();
    let area = org
        .area(d)
        .or_else(|| {
            org.areas
                .values()
                .find(|a| a.name_zh == d || a.name_en.eq_ignore_ascii_case(d))
        })
        .filter(|a| a.kind == "district")
        .ok_or_else(|| {
            (
                format!("没有这个区县：{d}"),
                format!("no such district: {d}"),
            )
        })?;
    let measure = Measure::parse(measure).ok_or_else(|| {
        (
            format!("未知的计划指标：{measure}"),
            format!("unknown plan measure: {measure}"),
        )
    })?;
    if !(0..=MAX_TARGET).contains(&target) {
        return Err((
            format!("计划数应在 0 到 {MAX_TARGET} 之间：{target}"),
            format!("a target is between 0 and {MAX_TARGET}: {target}"),
        ));
    }
    Ok(Target {
        year,
        area_id: area.id.clone(),
        measure,
        target,
    })
}

/// Who changes a plan, and through what.
pub struct Changer<'a> {
    /// User id (or `system`).
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// `api` (form or API), `import` or `sample`.
    pub source: &'a str,
}

/// Sets these targets in one transaction; unchanged ones are left alone and not logged.
/// Returns how many changed.
pub fn set_targets(
    conn: &mut DbConnection,
    targets: &[Target],
    who: &Changer<'_>,
    now_ms: i64,
) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let mut changed = 0;
        for t in targets {
            let key = || annual_plans::table.find((t.year, t.area_id.clone(), t.measure.as_str()));
            let old: Option<i64> = key().select(annual_plans::target).first(conn).optional()?;
            if old == Some(t.target) {
                continue;
            }
            if old.is_some() {
                diesel::update(key())
                    .set((
                        annual_plans::target.eq(t.target),
                        annual_plans::updated_by.eq(who.id),
                        annual_plans::updated_at.eq(now_ms),
                    ))
                    .execute(conn)?;
            } else {
                diesel::insert_into(annual_plans::table)
                    .values((
                        annual_plans::year.eq(t.year),
                        annual_plans::area_id.eq(&t.area_id),
                        annual_plans::measure.eq(t.measure.as_str()),
                        annual_plans::target.eq(t.target),
                        annual_plans::updated_by.eq(who.id),
                        annual_plans::updated_at.eq(now_ms),
                    ))
                    .execute(conn)?;
            }
            diesel::insert_into(annual_plan_changes::table)
                .values((
                    annual_plan_changes::id.eq(Uuid::now_v7().to_string()),
                    annual_plan_changes::year.eq(t.year),
                    annual_plan_changes::area_id.eq(&t.area_id),
                    annual_plan_changes::measure.eq(t.measure.as_str()),
                    annual_plan_changes::old_target.eq(old),
                    annual_plan_changes::new_target.eq(t.target),
                    annual_plan_changes::changed_by.eq(who.id),
                    annual_plan_changes::changed_by_name.eq(who.name),
                    annual_plan_changes::source.eq(who.source),
                    annual_plan_changes::changed_at.eq(now_ms),
                ))
                .execute(conn)?;
            changed += 1;
        }
        Ok(changed)
    })
}

/// The targets of `year`: (district area id, measure) → target.
pub fn targets(
    conn: &mut DbConnection,
    year: i32,
) -> QueryResult<std::collections::HashMap<(String, Measure), i64>> {
    let rows: Vec<(String, String, i64)> = annual_plans::table
        .filter(annual_plans::year.eq(year))
        .select((
            annual_plans::area_id,
            annual_plans::measure,
            annual_plans::target,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(a, m, t)| Measure::parse(&m).map(|m| ((a, m), t)))
        .collect())
}

/// One logged change of a plan target.
#[derive(Debug, Serialize, Queryable, utoipa::ToSchema)]
pub struct PlanChange {
    /// Change id.
    pub id: String,
    /// Plan year.
    pub year: i32,
    /// District area id.
    pub area_id: String,
    /// Measure wire name.
    pub measure: String,
    /// Target before (null: first set).
    pub old_target: Option<i64>,
    /// Target after.
    pub new_target: i64,
    /// Who (user id or `system`).
    pub changed_by: String,
    /// Their display name.
    pub changed_by_name: String,
    /// `api`, `import` or `sample`.
    pub source: String,
    /// When, ms since the epoch.
    pub changed_at: i64,
}

/// The changes of `year`'s plans, newest first.
pub fn changes(conn: &mut DbConnection, year: i32) -> QueryResult<Vec<PlanChange>> {
    annual_plan_changes::table
        .filter(annual_plan_changes::year.eq(year))
        .order((
            annual_plan_changes::changed_at.desc(),
            annual_plan_changes::id.desc(),
        ))
        .select((
            annual_plan_changes::id,
            annual_plan_changes::year,
            annual_plan_changes::area_id,
            annual_plan_changes::measure,
            annual_plan_changes::old_target,
            annual_plan_changes::new_target,
            annual_plan_changes::changed_by,
            annual_plan_changes::changed_by_name,
            annual_plan_changes::source,
            annual_plan_changes::changed_at,
        ))
        .load(conn)
}

/// The sample plans of `year` for every district (sized so the sample programme stands at a
/// believable share of its plan).
pub fn load_sample(
    conn: &mut DbConnection,
    org: &Org,
    year: i32,
    now_ms: i64,
) -> QueryResult<usize> {
    let mut targets = Vec::new();
    for (i, d) in org.districts().into_iter().enumerate() {
        let k = i64::try_from(i).unwrap_or(0);
        for (m, base) in [
            (Measure::ShantytownStarted, 1800),
            (Measure::ShantytownCompleted, 1200),
            (Measure::DangerousHouseholds, 160),
            (Measure::OldCommunityStarted, 6),
            (Measure::OldCommunityHouseholds, 4000),
        ] {
            targets.push(Target {
                year,
                area_id: d.id.clone(),
                measure: m,
                target: base + base * k / 5,
            });
        }
    }
    set_targets(
        conn,
        &targets,
        &Changer {
            id: "system",
            name: "系统 / system",
            source: "sample",
        },
        now_ms,
    )
}
