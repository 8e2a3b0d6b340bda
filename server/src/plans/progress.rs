//! Progress against the annual plan (年度计划完成情况), computed from the project records of the
//! sync store with the formulas of `docs/registers.md`:
//!
//! - 棚改新开工 (套): a shantytown project's `planned_units` count in the year and month of its
//!   `actual_start`;
//! - 棚改基本建成 (套): its `completed_units` (else `planned_units`) in the month of its
//!   `actual_completion`;
//! - 危房改造 (户): a dangerous-housing project's `completed_units` (else `planned_units`) in the
//!   month of its `actual_completion`;
//! - 老旧小区开工 (个 and 户): an old-community project counts once, with its `planned_units`
//!   households, in the month of its `actual_start`.
//!
//! A project counts for the district its area lies in. No personal data is involved: the
//! figures are sums of project counts, so the same computation serves `/public`.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::store::{Measure, targets};
use diesel::{QueryResult, RunQueryDsl};

use crate::auth::scope::Scope;
use crate::db::DbConnection;
use crate::registers::query::{Live, Narrow, Org, live_records};

/// One measure of one district.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeasureProgress {
    /// Planned for the year (null: no plan set).
    pub planned: Option<i64>,
    /// Done so far in the year.
    pub done: i64,
    /// Done ÷ planned in percent, one decimal (null without a plan or with a plan of 0).
    pub percent: Option<f64>,
    /// Rank among the districts by percent (1 = best; null when not ranked).
    pub rank: Option<usize>,
    /// Cumulative done at the end of each month, January to December.
    pub monthly: Vec<i64>,
    /// The plan's even pace at the end of each month (planned × m ÷ 12).
    pub even_pace: Vec<Option<f64>>,
}

fn year_month(date: Option<&str>, year: i32) -> Option<usize> {
    let d = date?;
    let y: i32 = d.get(..4)?.parse().ok()?;
    let m: usize = d.get(5..7)?.parse().ok()?;
    (y == year && (1..=12).contains(&m)).then_some(m)
}

/// The (measure, month, amount) contributions of one project in `year`.
pub fn contributions(p: &Live, year: i32) -> Vec<(Measure, usize, i64)> {
    let planned = p.int("planned_units").unwrap_or(0);
    let completed = p
        .int("completed_units")
        .filter(|c| *c > 0)
        .unwrap_or(planned);
    let started = year_month(p.text("actual_start"), year);
    let finished = year_month(p.text("actual_completion"), year);
    let mut out = Vec::new();
    match p.text("programme") {
        Some("shantytown") => {
            if let Some(m) = started {
                out.push((Measure::ShantytownStarted, m, planned));
            }
            if let Some(m) = finished {
                out.push((Measure::ShantytownCompleted, m, completed));
            }
        }
        Some("dangerous_housing") => {
            if let Some(m) = finished {
                out.push((Measure::DangerousHouseholds, m, completed));
            }
        }
        Some("old_community") => {
            if let Some(m) = started {
                out.push((Measure::OldCommunityStarted, m, 1));
                out.push((Measure::OldCommunityHouseholds, m, planned));
            }
        }
        _ => {}
    }
    out
}

/// The headline measure of each programme (what `planned`, `done`, `percent` of a programme
/// object are).
pub const HEADLINE: [(&str, Measure); 3] = [
    ("shantytown", Measure::ShantytownStarted),
    ("dangerous_housing", Measure::DangerousHouseholds),
    ("old_community", Measure::OldCommunityStarted),
];

/// Done ÷ planned in percent with one decimal; `None` without a plan or with a plan of 0.
pub fn percent(done: i64, planned: Option<i64>) -> Option<f64> {
    match planned {
        Some(p) if p > 0 => Some((done as f64 * 1000.0 / p as f64).round() / 10.0),
        _ => None,
    }
}

/// The amounts of each measure per district and month (January = 0) of a year.
pub type Monthly = HashMap<(String, Measure), [i64; 12]>;

#[derive(diesel::QueryableByName)]
struct DayRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    area_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    programme: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    day: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    amount: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// [`Monthly`] by SQL: the projects' register columns (`date_on` = `actual_start`,
/// `finished_on`, `programme`, `planned_units`, `completed_units`, `area_id`) summed per area,
/// programme and day by the database over the indexed date columns of the year, then folded
/// into districts and months with the formulas of [`contributions`]. No record is parsed.
pub fn monthly_by_sql(conn: &mut DbConnection, org: &Org, year: i32) -> QueryResult<Monthly> {
    let (lo, hi) = (format!("{year:04}"), format!("{year:04}~"));
    let query = |column: &str, amount: &str| {
        format!(
            "SELECT area_id, programme, {column} AS day, \
             CAST(COALESCE(SUM({amount}), 0) AS BIGINT) AS amount, COUNT(*) AS n \
             FROM sync_records WHERE record_type = 'project' AND deleted = FALSE \
             AND {column} >= '{lo}' AND {column} < '{hi}' GROUP BY area_id, programme, {column}"
        )
    };
    let planned = "COALESCE(planned_units, 0)";
    let completed = "CASE WHEN completed_units > 0 THEN completed_units \
                     ELSE COALESCE(planned_units, 0) END";
    let load = |conn: &mut DbConnection, sql: String| -> QueryResult<Vec<DayRow>> {
        match conn {
            DbConnection::Pg(c) => diesel::sql_query(sql).load(c),
            DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c),
        }
    };
    let started = load(conn, query("date_on", planned))?;
    let finished = load(conn, query("finished_on", completed))?;
    let mut monthly = Monthly::new();
    let mut add = |r: &DayRow, measure: Measure, amount: i64| {
        let Some(d) = r
            .area_id
            .as_deref()
            .and_then(|a| org.ancestor(a, "district"))
        else {
            return;
        };
        if let Some(m) = year_month(r.day.as_deref(), year) {
            monthly.entry((d.id.clone(), measure)).or_insert([0; 12])[m - 1] += amount;
        }
    };
    for r in &started {
        match r.programme.as_deref() {
            Some("shantytown") => add(r, Measure::ShantytownStarted, r.amount),
            Some("old_community") => {
                add(r, Measure::OldCommunityStarted, r.n);
                add(r, Measure::OldCommunityHouseholds, r.amount);
            }
            _ => {}
        }
    }
    for r in &finished {
        match r.programme.as_deref() {
            Some("shantytown") => add(r, Measure::ShantytownCompleted, r.amount),
            Some("dangerous_housing") => add(r, Measure::DangerousHouseholds, r.amount),
            _ => {}
        }
    }
    Ok(monthly)
}

/// [`Monthly`] the way it was computed before the register columns: every project read and
/// parsed, [`contributions`] summed in memory. Kept as the reference the SQL computation is
/// tested against (`plans_progress::progress_by_sql_equals_the_parsed_computation`).
pub fn monthly_by_parsing(conn: &mut DbConnection, org: &Org, year: i32) -> QueryResult<Monthly> {
    let projects = live_records(conn, "project", &Scope::All, &Narrow::default())?;
    let mut monthly = Monthly::new();
    for p in &projects {
        let Some(d) = p.text("area_id").and_then(|a| org.ancestor(a, "district")) else {
            continue;
        };
        for (m, month, amount) in contributions(p, year) {
            monthly.entry((d.id.clone(), m)).or_insert([0; 12])[month - 1] += amount;
        }
    }
    Ok(monthly)
}

/// Progress of `year` per district (and `rank` among districts), as the public API answers it:
/// `{"year", "districts": [{"area_id", "name_zh", "name_en", "programmes": {…}}], "city": {…}}`.
/// The done figures come from [`monthly_by_sql`].
pub fn compute(conn: &mut DbConnection, year: i32) -> QueryResult<Value> {
    let org = Org::load(conn)?;
    let monthly = monthly_by_sql(conn, &org, year)?;
    compute_from(conn, &org, year, &monthly)
}

/// The progress answer of `year` from these monthly amounts.
pub fn compute_from(
    conn: &mut DbConnection,
    org: &Org,
    year: i32,
    monthly: &Monthly,
) -> QueryResult<Value> {
    let plans = targets(conn, year)?;
    let districts = org.districts();
    let mut table: HashMap<(String, Measure), MeasureProgress> = HashMap::new();
    for d in &districts {
        for m in Measure::ALL {
            let months = monthly.get(&(d.id.clone(), m)).copied().unwrap_or([0; 12]);
            let mut acc = 0;
            let cumulative: Vec<i64> = months
                .iter()
                .map(|x| {
                    acc += x;
                    acc
                })
                .collect();
            let planned = plans.get(&(d.id.clone(), m)).copied();
            table.insert(
                (d.id.clone(), m),
                MeasureProgress {
                    planned,
                    done: acc,
                    percent: percent(acc, planned),
                    rank: None,
                    monthly: cumulative,
                    even_pace: (1..=12)
                        .map(|k| {
                            planned.map(|p| (p as f64 * k as f64 / 12.0 * 10.0).round() / 10.0)
                        })
                        .collect(),
                },
            );
        }
    }
    for m in Measure::ALL {
        let mut ranked: Vec<(String, f64)> = districts
            .iter()
            .filter_map(|d| {
                table
                    .get(&(d.id.clone(), m))
                    .and_then(|p| p.percent)
                    .map(|p| (d.id.clone(), p))
            })
            .collect();
        ranked.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
        for (i, (d, _)) in ranked.iter().enumerate() {
            if let Some(p) = table.get_mut(&(d.clone(), m)) {
                p.rank = Some(i + 1);
            }
        }
    }
    let programme_object = |get: &dyn Fn(Measure) -> MeasureProgress, programme: &str| {
        let headline = HEADLINE
            .iter()
            .find(|(p, _)| *p == programme)
            .map(|(_, m)| *m)
            .unwrap_or(Measure::ShantytownStarted);
        let h = get(headline);
        let mut measures = Map::new();
        for m in Measure::ALL
            .into_iter()
            .filter(|m| m.programme() == programme)
        {
            measures.insert(
                m.as_str().into(),
                serde_json::to_value(get(m)).unwrap_or(Value::Null),
            );
        }
        json!({
            "measure": headline.as_str(),
            "planned": h.planned, "done": h.done, "percent": h.percent, "rank": h.rank,
            "measures": measures,
        })
    };
    let mut out = Vec::new();
    for d in &districts {
        let get = |m: Measure| {
            table
                .get(&(d.id.clone(), m))
                .cloned()
                .unwrap_or_else(|| empty(None))
        };
        let mut programmes = Map::new();
        for (p, _) in HEADLINE {
            programmes.insert(p.into(), programme_object(&get, p));
        }
        out.push(json!({
            "area_id": d.id, "code": d.code, "name_zh": d.name_zh, "name_en": d.name_en,
            "programmes": programmes,
        }));
    }
    let city = |m: Measure| {
        let mut sum = empty(None);
        let mut planned: Option<i64> = None;
        for d in &districts {
            if let Some(p) = table.get(&(d.id.clone(), m)) {
                sum.done += p.done;
                for (a, b) in sum.monthly.iter_mut().zip(&p.monthly) {
                    *a += b;
                }
                if let Some(x) = p.planned {
                    planned = Some(planned.unwrap_or(0) + x);
                }
            }
        }
        sum.planned = planned;
        sum.percent = percent(sum.done, planned);
        sum.even_pace = (1..=12)
            .map(|k| planned.map(|p| (p as f64 * k as f64 / 12.0 * 10.0).round() / 10.0))
            .collect();
        sum
    };
    let mut city_programmes = Map::new();
    for (p, _) in HEADLINE {
        city_programmes.insert(p.into(), programme_object(&city, p));
    }
    let units: Map<String, Value> = Measure::ALL
        .into_iter()
        .map(|m| {
            (
                m.as_str().to_owned(),
                json!({"label_zh": m.label_zh(), "label_en": m.label_en(), "programme": m.programme()}),
            )
        })
        .collect();
    Ok(json!({
        "year": year,
        "measures": units,
        "districts": out,
        "city": {"programmes": city_programmes},
    }))
}

fn empty(planned: Option<i64>) -> MeasureProgress {
    MeasureProgress {
        planned,
        done: 0,
        percent: None,
        rank: None,
        monthly: vec![0; 12],
        even_pace: vec![None; 12],
    }
}
