//! The figures computed straight from the event history and the tickets, as `stats/units` and
//! `public/stats` did before the per-day aggregates: kept as the documented reference the
//! aggregates are tested against (`tests/tests/e2e/stats_daily.rs`; the board's counts too,
//! [`board_from_tickets`]), and for checking a
//! database by hand. Reads every ticket of the period: not for request paths.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::org::catalog::Catalog;
use crate::tickets::schema::{ticket_events, tickets};

use super::rates::{RateEvent, TicketHistory, UnitRates, median, rate, unit_rates};

/// What a ticket's event contributes to its history: the columns [`histories_of`] reads.
#[derive(Queryable, Selectable)]
#[diesel(table_name = ticket_events)]
struct EventFacts {
    ticket_id: String,
    at: i64,
    kind: String,
    unit_id: Option<String>,
    to_status: String,
    rating: Option<i32>,
    response_due: Option<i64>,
    resolution_due: Option<i64>,
}

/// A ticket as `public/stats` counts it: the columns [`public_from_tickets`] reads.
#[derive(Queryable, Selectable)]
#[diesel(table_name = tickets)]
struct PublicFacts {
    area_id: Option<String>,
    category_code: String,
    status: String,
    created_at: i64,
    resolved_at: Option<i64>,
    rating: Option<i32>,
}

/// A ticket as the board counts it: the columns [`board_from_tickets`] reads.
#[derive(Queryable, Selectable)]
#[diesel(table_name = tickets)]
struct BoardFacts {
    category_code: String,
    area_id: Option<String>,
    status: String,
    created_at: i64,
    resolution_due: i64,
}

/// Histories of tickets filed before `end` that were still open at or after `start`.
fn histories(
    conn: &mut crate::db::DbConnection,
    start: i64,
    end: i64,
) -> Result<Vec<(String, TicketHistory)>, ApiError> {
    let rows: Vec<(String, i64)> = tickets::table
        .filter(tickets::created_at.lt(end))
        .filter(
            tickets::closed_at
                .is_null()
                .or(tickets::closed_at.ge(start)),
        )
        .select((tickets::id, tickets::created_at))
        .load(conn)?;
    histories_of(conn, &rows)
}

/// The histories of the tickets `rows` (`(id, created_at)`), in the order given: the events as
/// [`unit_rates`] replays them (time at the dispatch center is no unit's dispatch). Also used
/// by the upkeep figures (`upkeep::figures`), so both count with one definition.
pub fn histories_of(
    conn: &mut crate::db::DbConnection,
    rows: &[(String, i64)],
) -> Result<Vec<(String, TicketHistory)>, ApiError> {
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(500) {
        let ids: Vec<&str> = chunk.iter().map(|r| r.0.as_str()).collect();
        let evs: Vec<EventFacts> = ticket_events::table
            .filter(ticket_events::ticket_id.eq_any(&ids))
            .order((ticket_events::ticket_id, ticket_events::id))
            .select(EventFacts::as_select())
            .load(conn)?;
        let mut by: BTreeMap<String, Vec<RateEvent>> = BTreeMap::new();
        for e in evs {
            // Time at the dispatch center is not a unit's dispatch.
            let unit_id = if e.to_status == "dispatching" {
                None
            } else {
                e.unit_id
            };
            by.entry(e.ticket_id).or_default().push(RateEvent {
                at: crate::clock::from_ms(e.at),
                kind: e.kind,
                unit_id,
                rating: e.rating,
                response_due: e.response_due.map(crate::clock::from_ms),
                resolution_due: e.resolution_due.map(crate::clock::from_ms),
            });
        }
        for (id, created) in chunk {
            let events = by.remove(id).unwrap_or_default();
            out.push((
                id.clone(),
                TicketHistory {
                    created_at: crate::clock::from_ms(*created),
                    events,
                },
            ));
        }
    }
    Ok(out)
}

/// Per-unit rates for `[start, end)` (ms) by replaying the events ([`unit_rates`]).
pub fn unit_rates_from_events(
    conn: &mut DbConnection,
    start: i64,
    end: i64,
) -> Result<Vec<UnitRates>, ApiError> {
    let hist: Vec<TicketHistory> = histories(conn, start, end)?
        .into_iter()
        .map(|(_, h)| h)
        .collect();
    Ok(unit_rates(
        &hist,
        crate::clock::from_ms(start),
        crate::clock::from_ms(end),
    ))
}

/// `public/stats` for tickets filed in `[start, end)` (ms), from the tickets table.
pub fn public_from_tickets(
    conn: &mut DbConnection,
    catalog: &Catalog,
    start: i64,
    end: i64,
) -> Result<Value, ApiError> {
    let rows: Vec<PublicFacts> = tickets::table
        .filter(tickets::created_at.ge(start))
        .filter(tickets::created_at.lt(end))
        .select(PublicFacts::as_select())
        .load(conn)?;
    #[derive(Default)]
    struct Acc {
        received: u64,
        resolved: u64,
        hours: Vec<f64>,
        ratings: u64,
        satisfied: u64,
        by_cat: BTreeMap<String, (u64, u64)>,
    }
    let mut by: BTreeMap<String, Acc> = BTreeMap::new();
    for PublicFacts {
        area_id: area,
        category_code: cat,
        status,
        created_at: created,
        resolved_at,
        rating,
    } in rows
    {
        let district = area
            .as_deref()
            .and_then(|a| catalog.district_of(a))
            .map_or_else(|| "unknown".to_string(), |d| d.id.clone());
        let acc = by.entry(district).or_default();
        acc.received += 1;
        let done = matches!(status.as_str(), "resolved" | "closed");
        let c = acc.by_cat.entry(cat).or_default();
        c.0 += 1;
        if done {
            acc.resolved += 1;
            c.1 += 1;
            if let Some(r) = resolved_at {
                acc.hours.push((r - created) as f64 / 3_600_000.0);
            }
        }
        if let Some(stars) = rating {
            acc.ratings += 1;
            if stars >= 4 {
                acc.satisfied += 1;
            }
        }
    }
    let districts: Vec<Value> = by
        .into_iter()
        .map(|(id, mut a)| {
            let area = catalog.areas.get(&id);
            json!({
                "area_id": if area.is_some() { json!(id) } else { Value::Null },
                "name_zh": area.map_or("未定位", |x| x.name_zh.as_str()),
                "name_en": area.map_or("Not located", |x| x.name_en.as_str()),
                "received": a.received,
                "resolved": a.resolved,
                "median_hours_to_resolve": median(&mut a.hours).map(|h| (h * 100.0).round() / 100.0),
                "satisfaction_rate": rate(a.satisfied, a.ratings),
                "by_category": a.by_cat.into_iter().map(|(code, (r, s))| json!({"code": code, "received": r, "resolved": s})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(json!({"districts": districts}))
}

/// The board's counts (`stats/summary`) for tickets filed in `[start, end)` held now by `unit`
/// (or any), counted over the tickets table as the endpoint did before its aggregate.
pub fn board_from_tickets(
    conn: &mut DbConnection,
    tz: &jiff::tz::TimeZone,
    start: i64,
    end: i64,
    unit: Option<&str>,
    now: i64,
) -> Result<super::summary::BoardCounts, ApiError> {
    use super::summary::{BoardCounts, OPEN_AT_UNIT};
    let mut q = tickets::table
        .filter(tickets::created_at.ge(start))
        .filter(tickets::created_at.lt(end))
        .select(BoardFacts::as_select())
        .into_boxed();
    if let Some(u) = unit {
        q = q.filter(tickets::unit_id.eq(u.to_string()));
    }
    let rows: Vec<BoardFacts> = q.load(conn)?;
    let first = tz.to_datetime(crate::clock::from_ms(start)).date();
    let mut c = BoardCounts::default();
    let mut days: BTreeMap<i64, i64> = BTreeMap::new();
    let mut late: BTreeMap<(String, Option<String>), i64> = BTreeMap::new();
    for BoardFacts {
        category_code: cat,
        area_id: area,
        status,
        created_at: created,
        resolution_due: due,
    } in rows
    {
        let open = i64::from(!matches!(status.as_str(), "resolved" | "closed"));
        if OPEN_AT_UNIT.contains(&status.as_str()) && due < now {
            *late.entry((cat.clone(), area.clone())).or_default() += 1;
        }
        *c.by_status.entry(status).or_default() += 1;
        for t in [
            c.by_category.entry(cat).or_default(),
            c.by_community.entry(area.unwrap_or_default()).or_default(),
        ] {
            t.received += 1;
            t.open += open;
        }
        *days.entry((created - start) / 86_400_000).or_default() += 1;
    }
    let late: Vec<super::summary::OverdueRow> = late
        .into_iter()
        .map(|((category_code, area_id), n)| super::summary::OverdueRow {
            category_code,
            area_id,
            n,
        })
        .collect();
    c.add_overdue(&late);
    c.per_day = days
        .into_iter()
        .map(|(d, n)| {
            let day = first
                .checked_add(jiff::Span::new().days(d))
                .map_or_else(|_| d.to_string(), |x| x.to_string());
            (day, n)
        })
        .collect();
    Ok(c)
}
