//! The figures of a bulletin, computed from the data of its period (see `docs/bulletins.md`):
//!
//! - progress against plan by district as at the end of the period's month, from
//!   [`crate::plans::progress::compute`] (the figures of `/progress`), ranked;
//! - per unit the three complaint rates from the per-day aggregates
//!   ([`crate::stats::aggregate::unit_rates`], the figures of `GET /api/v1/stats/units`) and the
//!   rectification orders due in the period as they stood at its end (read from the record
//!   versions), with the on-time rate, scored and ranked by [`super::rules`];
//! - overdue tickets and overdue orders by unit;
//! - property managers on the facility complaints of the communities handed over to them
//!   (events replayed by [`crate::stats::rates::unit_rates`], the same definition).

use std::collections::{BTreeMap, BTreeSet};

use anju_shared::merge::{FieldState, StoredRecord};
use diesel::prelude::*;
use jiff::civil::{Date, Time};
use serde_json::Value;

pub use super::data::*;
use super::period::Period;
use super::rules::{Thresholds, Verdict, percent, rank, standing};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::org::catalog::Catalog;
use crate::state::AppState;

fn day_number(d: Date) -> i32 {
    i32::from(d.year()) * 10_000 + i32::from(d.month()) * 100 + i32::from(d.day())
}

fn midnight(tz: &jiff::tz::TimeZone, d: Date) -> i64 {
    tz.to_timestamp(d.to_datetime(Time::midnight()))
        .map(|t| t.as_millisecond())
        .unwrap_or(0)
}

/// Computes the bulletin of `period` at `now` (read-only; the caller stores it).
pub fn compute(
    conn: &mut DbConnection,
    st: &AppState,
    period: Period,
    now: i64,
) -> Result<BulletinData, ApiError> {
    let tz = &st.config.timezone;
    let t = Thresholds::of(&st.config);
    let catalog = st.catalog.get(conn, tz)?;
    let today = tz.to_datetime(crate::clock::from_ms(now)).date();
    let through = period.through(today);
    let start_ms = midnight(tz, period.start);
    let end_ms = through
        .tomorrow()
        .map(|d| midnight(tz, d))
        .unwrap_or(now)
        .min(now.max(start_ms));
    let progress = progress(conn, &period, through)?;

    let rates =
        crate::stats::aggregate::unit_rates(conn, day_number(period.start), day_number(through))?;
    let (orders, backlog) = orders(conn, st, &catalog, &period, end_ms)?;
    let mut ids: BTreeSet<String> = rates.iter().map(|r| r.unit_id.clone()).collect();
    ids.extend(orders.keys().cloned());
    ids.extend(backlog.keys().cloned());
    ids.remove("");
    let mut units: Vec<UnitRow> = ids
        .into_iter()
        .map(|id| {
            let r = rates
                .iter()
                .find(|r| r.unit_id == id)
                .cloned()
                .unwrap_or_default();
            let o = orders.get(&id).cloned().unwrap_or_default();
            let u = catalog.units.get(&id);
            let response_rate = percent(r.accepted_in_time, r.dispatched);
            let resolution_rate = percent(r.confirmed_solved, r.closed_answered);
            let satisfaction_rate = percent(r.satisfied, r.ratings);
            let decided = o.on_time + o.late + o.overdue_open;
            let standing = standing(
                r.dispatched + decided,
                &[
                    ("response_rate", response_rate),
                    ("resolution_rate", resolution_rate),
                    ("satisfaction_rate", satisfaction_rate),
                    ("order_on_time_rate", o.on_time_rate),
                ],
                &t,
            );
            UnitRow {
                code: u.map_or(String::new(), |u| u.code.clone()),
                name_zh: u.map_or(id.clone(), |u| u.name_zh.clone()),
                name_en: u.map_or(id.clone(), |u| u.name_en.clone()),
                kind: u.map_or(String::new(), |u| u.kind.clone()),
                dispatched: r.dispatched,
                accepted_in_time: r.accepted_in_time,
                response_rate,
                closed_answered: r.closed_answered,
                confirmed_solved: r.confirmed_solved,
                resolution_rate,
                ratings: r.ratings,
                satisfied: r.satisfied,
                satisfaction_rate,
                overdue_tickets: r.overdue,
                overdue_orders: backlog.get(&id).copied().unwrap_or(0),
                orders: o,
                standing,
                unit_id: id,
            }
        })
        .collect();
    rank(units.iter_mut().map(|u| &mut u.standing).collect(), &t);
    units.sort_by(|a, b| {
        let key = |u: &UnitRow| (u.standing.rank.unwrap_or(usize::MAX), u.code.clone());
        key(a).cmp(&key(b))
    });

    let mut managers = managers(conn, &catalog, tz, through, (start_ms, end_ms), &t)?;
    rank(managers.iter_mut().map(|m| &mut m.standing).collect(), &t);
    managers.sort_by_key(|m| (m.standing.rank.unwrap_or(usize::MAX), m.name_zh.clone()));

    let named = |verdict: Verdict| -> Vec<Named> {
        let from_units = units
            .iter()
            .filter(|u| u.standing.verdict == Some(verdict))
            .map(|u| {
                (
                    u.unit_id.clone(),
                    u.name_zh.clone(),
                    u.name_en.clone(),
                    "units",
                    &u.standing,
                )
            });
        let from_managers = managers
            .iter()
            .filter(|m| m.standing.verdict == Some(verdict))
            .map(|m| {
                (
                    m.unit_id.clone(),
                    m.name_zh.clone(),
                    m.name_en.clone(),
                    "property_managers",
                    &m.standing,
                )
            });
        from_units
            .chain(from_managers)
            .map(|(unit_id, name_zh, name_en, section, s)| Named {
                unit_id,
                name_zh,
                name_en,
                section: section.into(),
                score: s.score,
                rank: s.rank,
                below: s.below.clone(),
            })
            .collect()
    };
    let mut criticised = named(Verdict::Criticised);
    // The slowest first.
    criticised.sort_by(|a, b| {
        a.score
            .partial_cmp(&b.score)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let commended = named(Verdict::Commended);

    let mut overdue: Vec<OverdueRow> = units
        .iter()
        .filter(|u| u.overdue_tickets + u.overdue_orders > 0)
        .map(|u| OverdueRow {
            unit_id: u.unit_id.clone(),
            name_zh: u.name_zh.clone(),
            name_en: u.name_en.clone(),
            overdue_tickets: u.overdue_tickets,
            overdue_orders: u.overdue_orders,
        })
        .collect();
    overdue.sort_by_key(|o| std::cmp::Reverse(o.overdue_tickets + o.overdue_orders));

    let sum = |f: &dyn Fn(&UnitRow) -> u64| units.iter().map(f).sum::<u64>();
    let (on_time, decided) = (
        sum(&|u| u.orders.on_time),
        sum(&|u| u.orders.on_time + u.orders.late + u.orders.overdue_open),
    );
    let totals = Totals {
        dispatched: sum(&|u| u.dispatched),
        response_rate: percent(sum(&|u| u.accepted_in_time), sum(&|u| u.dispatched)),
        resolution_rate: percent(sum(&|u| u.confirmed_solved), sum(&|u| u.closed_answered)),
        satisfaction_rate: percent(sum(&|u| u.satisfied), sum(&|u| u.ratings)),
        overdue_tickets: sum(&|u| u.overdue_tickets),
        orders_due: sum(&|u| u.orders.due),
        order_on_time_rate: percent(on_time, decided),
        overdue_orders: sum(&|u| u.overdue_orders),
        plan_percent: progress.city.percent,
        units_ranked: units.iter().filter(|u| u.standing.rank.is_some()).count(),
        units_small_sample: units.iter().filter(|u| u.standing.small_sample).count(),
    };
    let progress_moved = progress
        .districts
        .iter()
        .any(|d| d.programmes.values().any(|p| p.done_in_period > 0));
    let issuer = crate::clocks::hazards::bureau(&catalog).and_then(|b| catalog.units.get(b));
    Ok(BulletinData {
        kind: period.kind,
        issuer_zh: issuer.map_or("某市住房和城乡建设局".into(), |u| {
            u.name_zh.clone()
        }),
        issuer_en: issuer.map_or("Housing and Urban-Rural Development Bureau".into(), |u| {
            u.name_en.clone()
        }),
        period: PeriodInfo {
            start: period.start.to_string(),
            end: period.end.to_string(),
            through: through.to_string(),
            complete: through == period.end && today > period.end,
            label_zh: period.label_zh(),
            label_en: period.label_en(),
        },
        computed_at: now,
        thresholds: t,
        has_data: !units.is_empty() || managers.iter().any(|m| m.received > 0) || progress_moved,
        progress,
        units,
        overdue,
        criticised,
        commended,
        property_managers: managers,
        totals,
    })
}

/// Progress by district as at the end of `through`'s month, from the figures of `/progress`.
fn progress(
    conn: &mut DbConnection,
    period: &Period,
    through: Date,
) -> Result<ProgressSection, ApiError> {
    use crate::plans::progress::{HEADLINE, compute, percent as plan_percent};
    let year = i32::from(through.year());
    let month = through.month();
    let first_month = if period.start.year() == through.year() {
        period.start.month()
    } else {
        1
    };
    let p = compute(conn, year)?;
    let at = |v: &Value, m: i8| -> Value {
        usize::try_from(m - 1)
            .ok()
            .and_then(|i| v.get(i).cloned())
            .unwrap_or(Value::Null)
    };
    let row = |area_id: Option<String>, code: &str, zh: &str, en: &str, progs: &Value| {
        let mut programmes = BTreeMap::new();
        for (prog, measure) in HEADLINE {
            let key = measure.as_str();
            let x = &progs[prog]["measures"][key];
            let planned = x["planned"].as_i64();
            let done = at(&x["monthly"], month).as_i64().unwrap_or(0);
            let before = if first_month > 1 {
                at(&x["monthly"], first_month - 1).as_i64().unwrap_or(0)
            } else {
                0
            };
            programmes.insert(
                prog.to_owned(),
                ProgrammeRow {
                    measure: key.to_owned(),
                    label_zh: measure.label_zh().to_owned(),
                    label_en: measure.label_en().to_owned(),
                    planned,
                    done,
                    done_in_period: done - before,
                    percent: plan_percent(done, planned),
                    even_pace: at(&x["even_pace"], month).as_f64(),
                    rank: None,
                },
            );
        }
        let known: Vec<f64> = programmes.values().filter_map(|p| p.percent).collect();
        DistrictRow {
            area_id,
            code: code.to_owned(),
            name_zh: zh.to_owned(),
            name_en: en.to_owned(),
            percent: (!known.is_empty())
                .then(|| (known.iter().sum::<f64>() / known.len() as f64 * 10.0).round() / 10.0),
            rank: None,
            programmes,
        }
    };
    let mut districts: Vec<DistrictRow> = p["districts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            row(
                d["area_id"].as_str().map(str::to_owned),
                d["code"].as_str().unwrap_or(""),
                d["name_zh"].as_str().unwrap_or(""),
                d["name_en"].as_str().unwrap_or(""),
                &d["programmes"],
            )
        })
        .collect();
    // Ranked as /progress ranks: by percent, best first.
    let order = |values: Vec<(usize, f64)>| -> Vec<(usize, usize)> {
        let mut v = values;
        v.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
        v.into_iter()
            .enumerate()
            .map(|(r, (i, _))| (i, r + 1))
            .collect()
    };
    for (prog, _) in HEADLINE {
        let values = districts
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                d.programmes
                    .get(prog)
                    .and_then(|p| p.percent)
                    .map(|x| (i, x))
            })
            .collect();
        for (i, r) in order(values) {
            if let Some(p) = districts[i].programmes.get_mut(prog) {
                p.rank = Some(r);
            }
        }
    }
    let values = districts
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.percent.map(|x| (i, x)))
        .collect();
    for (i, r) in order(values) {
        districts[i].rank = Some(r);
    }
    let city = row(None, "city", "全市", "City", &p["city"]["programmes"]);
    let has_data = city
        .programmes
        .values()
        .any(|x| x.planned.is_some() || x.done > 0);
    Ok(ProgressSection {
        year,
        month,
        districts,
        city,
        has_data,
    })
}

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    record_id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    version: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    deleted: bool,
    #[diesel(sql_type = diesel::sql_types::Text)]
    state: String,
}

/// Every hazard as it stood just before `at` (ms): its newest version written before then.
pub fn hazards_as_of(conn: &mut DbConnection, at: i64) -> Result<Vec<StoredRecord>, ApiError> {
    const SQL: &str = "SELECT v.record_id, v.version, v.deleted, v.state \
        FROM register_record_versions v JOIN (SELECT record_id, MAX(version) AS version \
        FROM register_record_versions WHERE record_type = 'hazard' AND changed_at < $1 \
        GROUP BY record_id) last ON v.record_id = last.record_id AND v.version = last.version";
    use diesel::sql_types::BigInt;
    let rows: Vec<VersionRow> = match conn {
        DbConnection::Pg(c) => diesel::sql_query(SQL).bind::<BigInt, _>(at).load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(SQL.replace("$1", "?"))
            .bind::<BigInt, _>(at)
            .load(c)?,
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let fields: BTreeMap<String, FieldState> =
            serde_json::from_str(&r.state).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
        let id = uuid::Uuid::try_parse(&r.record_id).map_err(ApiError::internal)?;
        out.push(StoredRecord {
            record_type: "hazard".into(),
            id,
            version: r.version,
            deleted: r.deleted,
            fields,
        });
    }
    Ok(out)
}

type OrderTables = (BTreeMap<String, OrderFigures>, BTreeMap<String, u64>);

/// Per unit: the orders due in the period (as they stood at `as_of`) and the orders overdue at
/// `as_of` by the one rule of an overdue order ([`crate::clocks::hazards::is_overdue`], the rule
/// of the board and `stats/units`, applied here to the record versions as they stood then).
fn orders(
    conn: &mut DbConnection,
    st: &AppState,
    catalog: &Catalog,
    period: &Period,
    as_of: i64,
) -> Result<OrderTables, ApiError> {
    let text = |r: &StoredRecord, k: &str| {
        r.fields
            .get(k)
            .and_then(|f| f.value.as_str())
            .map(str::to_owned)
    };
    let ms = |s: Option<String>| {
        s.and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_millisecond())
    };
    let mut due: BTreeMap<String, OrderFigures> = BTreeMap::new();
    let mut backlog: BTreeMap<String, u64> = BTreeMap::new();
    for h in hazards_as_of(conn, as_of)? {
        if h.deleted {
            continue;
        }
        let (Some(unit), Some(deadline)) = (
            text(&h, "unit_id"),
            text(&h, "deadline").and_then(|d| d.parse::<Date>().ok()),
        ) else {
            continue;
        };
        let overdue = crate::clocks::hazards::overdue(st, &h, as_of);
        if overdue {
            *backlog.entry(unit.clone()).or_insert(0) += 1;
        }
        if deadline < period.start || deadline > period.end {
            continue;
        }
        let Some(at) = crate::clocks::hazards::instants(st, catalog, deadline) else {
            continue;
        };
        let o = due.entry(unit).or_default();
        o.due += 1;
        let status = text(&h, "status").unwrap_or_else(|| "open".into());
        let done_at = ms(text(&h, "rectified_at")).or_else(|| ms(text(&h, "verified_at")));
        match (status.as_str(), done_at) {
            ("rectified" | "verified", Some(t)) if t >= at.overdue_at => o.late += 1,
            ("rectified" | "verified", _) => o.on_time += 1,
            _ if overdue => o.overdue_open += 1,
            _ => o.pending += 1,
        }
    }
    for o in due.values_mut() {
        o.on_time_rate = percent(o.on_time, o.on_time + o.late + o.overdue_open);
    }
    Ok((due, backlog))
}

/// The property managers with communities taken over by `through`, on the facility complaints
/// (`upkeep::CATEGORIES`) filed in those communities since the hand-over.
fn managers(
    conn: &mut DbConnection,
    catalog: &Catalog,
    tz: &jiff::tz::TimeZone,
    through: Date,
    (start_ms, end_ms): (i64, i64),
    t: &Thresholds,
) -> Result<Vec<ManagerRow>, ApiError> {
    use crate::tickets::schema::tickets;
    use crate::upkeep::schema::upkeep_handovers as h;
    let handovers: Vec<(String, String, String)> = h::table
        .filter(h::took_over_on.le(through.to_string()))
        .order(h::took_over_on)
        .select((h::unit_id, h::area_id, h::took_over_on))
        .load(conn)?;
    // area → (manager, taken over at ms): the latest hand-over of a community wins.
    let mut care: BTreeMap<String, (String, i64)> = BTreeMap::new();
    let mut by_manager: BTreeMap<String, Vec<Community>> = BTreeMap::new();
    for (unit, area, on) in &handovers {
        let Ok(d) = on.parse::<Date>() else { continue };
        care.insert(area.clone(), (unit.clone(), midnight(tz, d)));
    }
    for (area, (unit, _)) in &care {
        let on = handovers
            .iter()
            .rev()
            .find(|(u, a, _)| u == unit && a == area)
            .map_or(String::new(), |x| x.2.clone());
        by_manager.entry(unit.clone()).or_default().push(Community {
            area_id: area.clone(),
            name_zh: catalog
                .areas
                .get(area)
                .map_or(area.clone(), |a| a.name_zh.clone()),
            took_over_on: on,
        });
    }
    let areas: Vec<&String> = care.keys().collect();
    let rows: Vec<(String, i64, Option<String>)> = if areas.is_empty() {
        Vec::new()
    } else {
        tickets::table
            .filter(tickets::category_code.eq_any(crate::upkeep::CATEGORIES))
            .filter(tickets::area_id.eq_any(&areas))
            .filter(tickets::created_at.lt(end_ms))
            .filter(
                tickets::closed_at
                    .is_null()
                    .or(tickets::closed_at.ge(start_ms)),
            )
            .select((tickets::id, tickets::created_at, tickets::area_id))
            .load(conn)?
    };
    let mut per: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    let mut received: BTreeMap<String, u64> = BTreeMap::new();
    for (id, created, area) in rows {
        let Some((unit, since)) = area.as_ref().and_then(|a| care.get(a)) else {
            continue;
        };
        if created < *since {
            continue;
        }
        if created >= start_ms {
            *received.entry(unit.clone()).or_insert(0) += 1;
        }
        per.entry(unit.clone()).or_default().push((id, created));
    }
    let mut out = Vec::new();
    for (unit, communities) in by_manager {
        let tickets = per.remove(&unit).unwrap_or_default();
        let hist: Vec<_> = crate::stats::reference::histories_of(conn, &tickets)?
            .into_iter()
            .map(|(_, h)| h)
            .collect();
        let r = crate::stats::rates::unit_rates(
            &hist,
            crate::clock::from_ms(start_ms),
            crate::clock::from_ms(end_ms),
        )
        .into_iter()
        .find(|r| r.unit_id == unit)
        .unwrap_or_default();
        let response_rate = percent(r.accepted_in_time, r.dispatched);
        let resolution_rate = percent(r.confirmed_solved, r.closed_answered);
        let satisfaction_rate = percent(r.satisfied, r.ratings);
        let u = catalog.units.get(&unit);
        out.push(ManagerRow {
            name_zh: u.map_or(unit.clone(), |u| u.name_zh.clone()),
            name_en: u.map_or(unit.clone(), |u| u.name_en.clone()),
            communities,
            received: received.get(&unit).copied().unwrap_or(0),
            dispatched: r.dispatched,
            response_rate,
            resolution_rate,
            satisfaction_rate,
            overdue: r.overdue,
            standing: standing(
                r.dispatched,
                &[
                    ("response_rate", response_rate),
                    ("resolution_rate", resolution_rate),
                    ("satisfaction_rate", satisfaction_rate),
                ],
                t,
            ),
            unit_id: unit,
        });
    }
    Ok(out)
}
