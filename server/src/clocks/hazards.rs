//! The clock of rectification orders (整改通知): a hazard with a deadline that is not verified
//! reminds its responsible unit [`crate::config::Config::order_reminder_days`] working days
//! before the deadline, and once the deadline's day has ended escalates, every city day while it
//! stays overdue, to the responsible unit, its supervising unit and the housing bureau (住建局),
//! through the outbox.
//!
//! The due index is `hazard_clocks`: [`reindex`] runs in the transaction of every hazard write
//! (sync push, conflict resolution; sync calls it through its `RecordHooks`, implemented by
//! `registers::columns::RegisterRecords`), so an extension, a verification or a new order is seen by
//! the next pass. A pass reads only rows whose `next_at` has passed; on PostgreSQL it claims them
//! with `FOR UPDATE SKIP LOCKED`, so two processes share the work. Each effect inserts its row
//! into `hazard_clock_events` keyed by `(hazard, kind, deadline, day)` in the transaction of its
//! outbox messages and skips when the row exists: once per deadline (reminder) and per deadline
//! and day (escalation), across passes, processes and restarts.

use std::collections::BTreeMap;

use anju_shared::merge::StoredRecord;
use anju_shared::records::HAZARD;
use diesel::prelude::*;
use jiff::civil::{Date, Time};
use serde_json::{Value, json};

use super::PassReport;
use super::next::NEVER;
use super::schema::{hazard_clock_events, hazard_clocks};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::notify::format::Message;
use crate::org::catalog::Catalog;
use crate::state::AppState;
use crate::sync::schema::sync_records;
use crate::sync::store::RecordRow;

/// Hazards examined per transaction.
const BATCH: i64 = 200;

fn text<'a>(r: &'a StoredRecord, name: &str) -> Option<&'a str> {
    r.fields.get(name).and_then(|f| f.value.as_str())
}

/// Whether a clock runs for the hazard: live, with a deadline, not verified.
pub fn under_way(r: &StoredRecord) -> bool {
    r.record_type == HAZARD.name
        && !r.deleted
        && text(r, "deadline").is_some()
        && text(r, "status") != Some("verified")
}

/// Keeps the due index in step with a hazard just written (inside the caller's transaction): a
/// hazard with an order under way is looked at on the next pass; any other leaves the index.
pub fn reindex(conn: &mut DbConnection, r: &StoredRecord, now: i64) -> QueryResult<()> {
    let id = r.id.to_string();
    diesel::delete(hazard_clocks::table.find(&id)).execute(conn)?;
    if under_way(r) {
        diesel::insert_into(hazard_clocks::table)
            .values((
                hazard_clocks::hazard_id.eq(&id),
                hazard_clocks::next_at.eq(0i64),
                hazard_clocks::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether any order is due at `now` (one indexed read).
pub fn any_due(conn: &mut DbConnection, now: i64) -> QueryResult<bool> {
    let n: i64 = hazard_clocks::table
        .filter(hazard_clocks::next_at.le(now))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

fn due(conn: &mut DbConnection, now: i64) -> QueryResult<Vec<String>> {
    macro_rules! query {
        () => {
            hazard_clocks::table
                .filter(hazard_clocks::next_at.le(now))
                .order(hazard_clocks::next_at)
                .limit(BATCH)
                .select(hazard_clocks::hazard_id)
        };
    }
    match conn {
        DbConnection::Pg(pg) => query!().for_update().skip_locked().load(pg),
        DbConnection::Sqlite(c) => query!().load(c),
    }
}

/// The instants of an order's clock, from its deadline date, in the city's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderInstants {
    /// Start of the reminder day (N working days before the deadline).
    pub remind_at: i64,
    /// Start of the day after the deadline: from then on it is overdue.
    pub overdue_at: i64,
}

/// The reminder and overdue instants of an order due on `deadline`.
pub fn instants(st: &AppState, catalog: &Catalog, deadline: Date) -> Option<OrderInstants> {
    let tz = &st.config.timezone;
    let start = |d: Date| {
        tz.to_timestamp(d.to_datetime(Time::midnight()))
            .ok()
            .map(|t| t.as_millisecond())
    };
    let mut remind = deadline;
    let mut left = st.config.order_reminder_days;
    while left > 0 {
        remind = remind.yesterday().ok()?;
        if catalog.calendar.is_working_day(remind) {
            left -= 1;
        }
    }
    Some(OrderInstants {
        remind_at: start(remind)?,
        overdue_at: start(deadline.tomorrow().ok()?)?,
    })
}

/// The one rule of an overdue rectification order (超期未整改), for the board, the unit figures,
/// the bulletins and the order page: its deadline (a `YYYY-MM-DD` city date) is before `today`
/// (the deadline's day has ended) and it is neither rectified nor verified (`status` open or
/// unset). A rectified order waiting for its check is the checker's, not overdue for the unit.
pub fn is_overdue(status: Option<&str>, deadline: Option<&str>, today: Date) -> bool {
    !matches!(status, Some("rectified" | "verified"))
        && deadline
            .and_then(|d| d.parse::<Date>().ok())
            .is_some_and(|d| d < today)
}

/// The city date of `now`.
pub fn city_today(st: &AppState, now: i64) -> Date {
    st.config
        .timezone
        .to_datetime(crate::clock::from_ms(now))
        .date()
}

/// Whether the order of the live hazard `r` is overdue at `now` ([`is_overdue`]).
pub fn overdue(st: &AppState, r: &StoredRecord, now: i64) -> bool {
    r.record_type == HAZARD.name
        && !r.deleted
        && is_overdue(text(r, "status"), text(r, "deadline"), city_today(st, now))
}

/// The overdue orders of one responsible unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OverdueOrders {
    /// Orders overdue ([`is_overdue`]).
    pub count: u64,
    /// Days the oldest of them is past its deadline (1 = the deadline was yesterday).
    pub oldest_days: i64,
}

#[derive(Queryable)]
struct Candidate {
    unit_id: Option<String>,
    status: Option<String>,
    due_on: Option<String>,
}

/// Per responsible unit (id), its orders overdue on the city date `today` ([`is_overdue`]).
/// Read from the due index (`hazard_clocks`: the live hazards with an order not verified) and
/// the records' queryable columns (`status`, `due_on` = the deadline), with a deadline before `today`: the orders under
/// way, never the register. Hazards without a responsible unit are left out.
pub fn overdue_by_unit(
    conn: &mut DbConnection,
    today: Date,
) -> QueryResult<BTreeMap<String, OverdueOrders>> {
    let rows: Vec<Candidate> = sync_records::table
        .filter(sync_records::id.eq_any(hazard_clocks::table.select(hazard_clocks::hazard_id)))
        .filter(sync_records::deleted.eq(false))
        .filter(sync_records::record_type.eq(HAZARD.name))
        .filter(sync_records::due_on.lt(today.to_string()))
        .select((
            sync_records::unit_id,
            sync_records::status,
            sync_records::due_on,
        ))
        .load(conn)?;
    let mut out: BTreeMap<String, OverdueOrders> = BTreeMap::new();
    for r in rows {
        let (Some(unit), true) = (
            r.unit_id,
            is_overdue(r.status.as_deref(), r.due_on.as_deref(), today),
        ) else {
            continue;
        };
        let days = r
            .due_on
            .as_deref()
            .and_then(|d| d.parse::<Date>().ok())
            .map_or(0, |d| i64::from((today - d).get_days()));
        let o = out.entry(unit).or_default();
        o.count += 1;
        o.oldest_days = o.oldest_days.max(days);
    }
    Ok(out)
}

fn insert_event(
    conn: &mut DbConnection,
    row: (&str, &str, &str, &str, i64, Option<&str>, String, i64),
) -> Result<bool, ApiError> {
    let (hazard, kind, deadline, day, round, unit, to_units, now) = row;
    let values = (
        hazard_clock_events::hazard_id.eq(hazard),
        hazard_clock_events::kind.eq(kind),
        hazard_clock_events::deadline.eq(deadline),
        hazard_clock_events::day.eq(day),
        hazard_clock_events::round.eq(round),
        hazard_clock_events::unit_id.eq(unit),
        hazard_clock_events::to_units.eq(to_units),
        hazard_clock_events::created_at.eq(now),
    );
    let n = match conn {
        DbConnection::Pg(c) => diesel::insert_into(hazard_clock_events::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(hazard_clock_events::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(n == 1)
}

/// The housing bureau (住建局): the first unit of kind `housing_bureau`.
pub fn bureau(catalog: &Catalog) -> Option<&str> {
    let mut ids: Vec<&str> = catalog
        .units
        .values()
        .filter(|u| u.kind == "housing_bureau")
        .map(|u| u.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.first().copied()
}

struct Notice<'a> {
    event: &'a str,
    title: &'a str,
    text: &'a str,
}

#[allow(clippy::too_many_arguments)]
fn notify(
    conn: &mut DbConnection,
    st: &AppState,
    catalog: &Catalog,
    r: &StoredRecord,
    units: &[&str],
    deadline_end: i64,
    notice: &Notice<'_>,
    now: i64,
) -> Result<(), ApiError> {
    let order_no = text(r, "order_no").unwrap_or("整改通知");
    let community = text(r, "area_id")
        .and_then(|a| catalog.areas.get(a))
        .map_or(String::new(), |a| a.name_zh.clone());
    let person = text(r, "responsible_person")
        .map(|p| format!("，责任人：{p}"))
        .unwrap_or_default();
    for u in units {
        let message = Message {
            event: notice.event.to_string(),
            ticket_no: order_no.to_string(),
            category: "隐患整改".into(),
            community: community.clone(),
            unit: catalog
                .units
                .get(*u)
                .map_or(String::new(), |x| x.name_zh.clone()),
            title: notice.title.to_string(),
            text: format!("{}{person}", notice.text),
            resolution_due: crate::clock::format_local(deadline_end, &st.config.timezone),
            url: format!(
                "{}/registers/hazard/{}",
                st.config.public_url.trim_end_matches('/'),
                r.id
            ),
        };
        let targets = catalog.targets.get(*u).map(Vec::as_slice).unwrap_or(&[]);
        crate::notify::outbox::enqueue_to(conn, u, targets, None, &message, now)?;
    }
    Ok(())
}

/// Runs the due effects of one hazard at `now` and returns its next instant.
fn process(
    conn: &mut DbConnection,
    st: &AppState,
    catalog: &Catalog,
    r: &StoredRecord,
    now: i64,
    report: &mut PassReport,
) -> Result<i64, ApiError> {
    let deadline_text = text(r, "deadline").unwrap_or_default().to_owned();
    let Some(at) = deadline_text
        .parse::<Date>()
        .ok()
        .and_then(|d| instants(st, catalog, d))
    else {
        return Ok(NEVER);
    };
    let unit = text(r, "unit_id");
    let round = r
        .fields
        .get("round")
        .and_then(|f| f.value.as_i64())
        .unwrap_or(0);
    let tz = &st.config.timezone;
    if now >= at.overdue_at {
        let day = tz
            .to_datetime(crate::clock::from_ms(now))
            .date()
            .to_string();
        let supervising = unit
            .and_then(|u| catalog.units.get(u))
            .and_then(|u| u.supervising_unit_id.as_deref());
        let mut to: Vec<&str> = Vec::new();
        for u in [unit, supervising, bureau(catalog)].into_iter().flatten() {
            if !to.contains(&u) {
                to.push(u);
            }
        }
        let to_json = Value::from(to.clone()).to_string();
        if insert_event(
            conn,
            (
                &r.id.to_string(),
                "escalation",
                &deadline_text,
                &day,
                round,
                unit,
                to_json,
                now,
            ),
        )? {
            let notice = Notice {
                event: "order_escalation",
                title: "督办：隐患整改已超过期限",
                text: "整改责任单位未在期限内完成整改",
            };
            notify(conn, st, catalog, r, &to, at.overdue_at, &notice, now)?;
            report.order_escalations += 1;
        }
        return Ok(super::next::next_midnight(st, now));
    }
    if now >= at.remind_at {
        let to: Vec<&str> = unit.into_iter().collect();
        if insert_event(
            conn,
            (
                &r.id.to_string(),
                "reminder",
                &deadline_text,
                "-",
                round,
                unit,
                json!(to).to_string(),
                now,
            ),
        )? {
            let notice = Notice {
                event: "order_reminder",
                title: "催办：隐患整改期限将至",
                text: "请在整改期限内完成整改并上传整改照片",
            };
            notify(conn, st, catalog, r, &to, at.overdue_at, &notice, now)?;
            report.order_reminders += 1;
        }
        return Ok(at.overdue_at);
    }
    Ok(at.remind_at)
}

/// One pass over the due orders at `now`, in batches of [`BATCH`], each a short background
/// write transaction.
pub fn run_pass(
    conn: &mut DbConnection,
    st: &AppState,
    catalog: &Catalog,
    now: i64,
    report: &mut PassReport,
) -> Result<(), ApiError> {
    loop {
        let n = st.db.background_tx(conn, |conn| {
            let ids = due(conn, now)?;
            let rows: Vec<RecordRow> = sync_records::table
                .filter(sync_records::id.eq_any(&ids))
                .select(RecordRow::as_select())
                .load(conn)?;
            for id in &ids {
                let record = rows
                    .iter()
                    .find(|r| &r.id == id)
                    .map(RecordRow::to_record)
                    .transpose()
                    .map_err(ApiError::internal)?;
                let next = match &record {
                    Some(r) if under_way(r) => process(conn, st, catalog, r, now, report)?,
                    _ => NEVER,
                };
                if next == NEVER {
                    diesel::delete(hazard_clocks::table.find(id)).execute(conn)?;
                } else {
                    diesel::update(hazard_clocks::table.find(id))
                        .set(hazard_clocks::next_at.eq(next.max(now + 1)))
                        .execute(conn)?;
                }
            }
            Ok(ids.len())
        })?;
        report.orders_examined += n as u32;
        if (n as i64) < BATCH {
            return Ok(());
        }
    }
}
