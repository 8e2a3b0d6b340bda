//! The figures a map colours areas by, counted in SQL (`GROUP BY area_id`, one row per area
//! that has any) and summed up the area tree to the level drawn. Definitions (also in
//! `docs/map.md`):
//!
//! - `open_tickets`: complaints not `resolved` or `closed`;
//! - `overdue_tickets`: of those, the ones past their resolution deadline (the same rule as
//!   `GET /api/v1/tickets?overdue=true`);
//! - `open_hazards`: live hazard records with status `open`;
//! - `cd_buildings`: live building records graded C or D;
//! - `plan_percent`: per district, done ÷ planned in percent of a programme's headline measure
//!   for a year, exactly as `/api/v1/progress` computes it.
//!
//! A ticket or record counts for the area it is filed in and every area above it.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::auth::scope::Scope;
use crate::db::DbConnection;

/// What a map colours areas by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// Complaints not resolved or closed.
    OpenTickets,
    /// Open complaints past their resolution deadline.
    OverdueTickets,
    /// Hazards with status `open`.
    OpenHazards,
    /// Buildings graded C or D.
    CdBuildings,
    /// Progress against plan (% of plan), district level only.
    PlanPercent,
}

impl Figure {
    /// Every figure, in the order the chooser lists them.
    pub const ALL: [Figure; 5] = [
        Figure::OpenTickets,
        Figure::OverdueTickets,
        Figure::OpenHazards,
        Figure::CdBuildings,
        Figure::PlanPercent,
    ];

    /// The figures `/api/v1/public/map` answers: sums over tickets and the plan, nothing about
    /// the buildings or hazards of a place.
    pub const PUBLIC: [Figure; 3] = [
        Figure::OpenTickets,
        Figure::OverdueTickets,
        Figure::PlanPercent,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Figure::OpenTickets => "open_tickets",
            Figure::OverdueTickets => "overdue_tickets",
            Figure::OpenHazards => "open_hazards",
            Figure::CdBuildings => "cd_buildings",
            Figure::PlanPercent => "plan_percent",
        }
    }

    /// The figure of a wire name.
    pub fn parse(s: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Chinese and English labels, and the unit of the value.
    pub fn labels(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Figure::OpenTickets => ("未办结投诉", "Open complaints", "件", "tickets"),
            Figure::OverdueTickets => ("超期工单", "Overdue tickets", "件", "tickets"),
            Figure::OpenHazards => ("未整改隐患", "Open hazards", "处", "hazards"),
            Figure::CdBuildings => ("C/D 级房屋", "C/D buildings", "栋", "buildings"),
            Figure::PlanPercent => ("年度计划完成率", "Progress against plan", "%", "%"),
        }
    }

    /// Whether the figure exists only per district.
    pub fn district_only(self) -> bool {
        self == Figure::PlanPercent
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Nullable<Text>)]
    area_id: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// `AND (unit_id IN (…) OR area_id IN (…))` for a limited scope, nothing for everyone. The ids
/// are UUIDs (hex and dashes), so they go into the SQL text as literals.
fn scope_sql(scope: &Scope) -> String {
    match scope {
        Scope::All => String::new(),
        Scope::Limited { units, areas } => {
            let list = |ids: Vec<String>| {
                if ids.is_empty() {
                    "(NULL)".to_owned()
                } else {
                    format!("({})", ids.join(","))
                }
            };
            let units = list(units.iter().map(|u| format!("'{u}'")).collect());
            let areas = list(areas.iter().map(|a| format!("'{a}'")).collect());
            format!(" AND (unit_id IN {units} OR area_id IN {areas})")
        }
    }
}

/// The count of `figure` per area id (only areas with at least one), in `scope`, at `now_ms`.
/// Not for [`Figure::PlanPercent`] (an empty map).
pub fn counts(
    conn: &mut DbConnection,
    figure: Figure,
    scope: &Scope,
    now_ms: i64,
) -> QueryResult<HashMap<String, i64>> {
    let scope = scope_sql(scope);
    let grade = match conn {
        DbConnection::Pg(_) => "(state::jsonb #>> '{safety_grade,value}')",
        DbConnection::Sqlite(_) => "json_extract(state, '$.safety_grade.value')",
    };
    let filter = match figure {
        Figure::OpenTickets => "FROM tickets WHERE status NOT IN ('resolved', 'closed')".to_owned(),
        Figure::OverdueTickets => format!(
            "FROM tickets WHERE status NOT IN ('resolved', 'closed') AND resolution_due < {now_ms}"
        ),
        Figure::OpenHazards => "FROM sync_records WHERE record_type = 'hazard' \
             AND deleted = FALSE AND status = 'open'"
            .to_owned(),
        Figure::CdBuildings => format!(
            "FROM sync_records WHERE record_type = 'building' AND deleted = FALSE \
             AND {grade} IN ('C', 'D')"
        ),
        Figure::PlanPercent => return Ok(HashMap::new()),
    };
    let sql = format!(
        "SELECT area_id, COUNT(*) AS n {filter} AND area_id IS NOT NULL{scope} GROUP BY area_id"
    );
    let rows: Vec<Row> = match conn {
        DbConnection::Pg(c) => diesel::sql_query(sql).load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c)?,
    };
    Ok(rows
        .into_iter()
        .filter_map(|r| r.area_id.map(|a| (a, r.n)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use uuid::Uuid;

    #[test]
    fn names_round_trip_and_public_set() {
        for f in Figure::ALL {
            assert_eq!(Figure::parse(f.as_str()), Some(f));
        }
        assert_eq!(Figure::parse("open_ticket"), None);
        assert!(!Figure::PUBLIC.contains(&Figure::OpenHazards));
        assert!(!Figure::PUBLIC.contains(&Figure::CdBuildings));
    }

    #[test]
    fn scope_is_literal_uuids_only() {
        assert_eq!(scope_sql(&Scope::All), "");
        let u = Uuid::nil();
        let s = scope_sql(&Scope::Limited {
            units: BTreeSet::from([u]),
            areas: BTreeSet::new(),
        });
        assert_eq!(s, format!(" AND (unit_id IN ('{u}') OR area_id IN (NULL))"));
    }
}
