//! Filing a parsed complaint: route it, compute its deadlines, number it and write the ticket,
//! its first event, its outbox messages and the idempotency record in one transaction
//! ([`file`]); one submission at a time ([`file_now`]) or inside a group commit's batch
//! ([`file_in_tx`]).

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::org::catalog::Catalog;
use crate::state::AppState;
use crate::tickets::aggregates::TicketAggregates;
use crate::tickets::copies::TicketCopies;
use crate::tickets::state::TicketStatus;
use crate::tickets::store::TicketRow;
use crate::tickets::transition::{self, Deferred, Env};

use super::idempotency::stored_answer;
use super::parse::{NewComplaint, Source};
use super::{Job, answer_json};
use crate::complaints::code::TrackingCode;
use crate::complaints::schema::{counters, idempotency_keys};
use crate::org::catalog::unknown_category;

fn next_ticket_no(
    conn: &mut DbConnection,
    now: i64,
    tz: &jiff::tz::TimeZone,
) -> Result<String, ApiError> {
    let seq: i64 = match conn {
        DbConnection::Pg(pg) => {
            #[derive(QueryableByName)]
            struct Next {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                v: i64,
            }
            diesel::sql_query("SELECT nextval('ticket_no_seq') AS v")
                .get_result::<Next>(pg)?
                .v
        }
        DbConnection::Sqlite(_) => diesel::update(counters::table.find("ticket_no"))
            .set(counters::value.eq(counters::value + 1))
            .returning(counters::value)
            .get_result(conn)?,
    };
    Ok(format_ticket_no(seq, now, tz))
}

fn format_ticket_no(seq: i64, now: i64, tz: &jiff::tz::TimeZone) -> String {
    let year = tz.to_datetime(crate::clock::from_ms(now)).year();
    format!("{year}-{seq:06}")
}

/// `n` ticket numbers from PostgreSQL's sequence in one round trip.
pub(super) fn ticket_seqs(conn: &mut DbConnection, n: usize) -> Result<Vec<i64>, ApiError> {
    #[derive(QueryableByName)]
    struct Next {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        v: i64,
    }
    match conn {
        DbConnection::Pg(pg) => Ok(diesel::sql_query(
            "SELECT nextval('ticket_no_seq') AS v FROM generate_series(1, $1)",
        )
        .bind::<diesel::sql_types::Integer, _>(n as i32)
        .load::<Next>(pg)?
        .into_iter()
        .map(|r| r.v)
        .collect()),
        DbConnection::Sqlite(_) => Ok(Vec::new()),
    }
}

/// Where routing sent a new ticket.
struct Routed {
    /// `dispatched` (a rule matched) or `dispatching` (to the dispatch center).
    status: TicketStatus,
    /// The receiving unit (the dispatch center when no rule matched).
    unit_id: Option<String>,
    /// The matching rule.
    rule_id: Option<String>,
    /// The routing note recorded with the first event.
    note: Value,
}

/// File a parsed complaint in the caller's transaction; returns the ticket and its code. With
/// `deferred`, the aggregate changes and the ticket's synced copy are left there for the caller
/// to write before committing ([`crate::tickets::transition::Deferred::finish`]); otherwise the
/// synced copy is written through `copies` and the aggregate changes through `aggregates`.
#[allow(clippy::too_many_arguments)]
pub fn file(
    conn: &mut DbConnection,
    catalog: &Catalog,
    c: &NewComplaint,
    now: i64,
    tz: &jiff::tz::TimeZone,
    public_url: &str,
    seq: Option<i64>,
    deferred: Option<&Deferred>,
    copies: &dyn TicketCopies,
    aggregates: &dyn TicketAggregates,
) -> Result<(TicketRow, TrackingCode), ApiError> {
    // Referenced from now on: the clean-up of unreferenced uploads leaves them alone.
    crate::attachments::uploads::claim(conn, &c.photos)?;
    let category = catalog
        .categories
        .get(&c.category)
        .ok_or_else(|| unknown_category(catalog))?;
    let decision = c
        .area_id
        .as_deref()
        .and_then(|a| catalog.router.route(&c.category, a));
    let Routed {
        status,
        unit_id,
        rule_id,
        note,
    } = match &decision {
        Some(d) => Routed {
            status: TicketStatus::Dispatched,
            unit_id: Some(d.unit_id.to_string()),
            rule_id: Some(d.rule_id.to_string()),
            note: json!({"rule_id": d.rule_id, "matched_area_id": d.matched_area_id, "unit_id": d.unit_id}),
        },
        None => Routed {
            status: TicketStatus::Dispatching,
            unit_id: catalog.dispatch_center.clone(),
            rule_id: None,
            note: json!({"rule_id": null, "reason": if c.area_id.is_some() { "no_rule" } else { "no_area" }}),
        },
    };
    let filed = crate::clock::from_ms(now);
    let (response_due, resolution_due) = category
        .tier
        .deadlines(filed, &catalog.calendar)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("deadline: {e}")))?;
    let code = TrackingCode::generate();
    let ticket_no = match seq {
        Some(n) => format_ticket_no(n, now, tz),
        None => next_ticket_no(conn, now, tz)?,
    };
    let id = uuid::Uuid::now_v7().to_string();
    let photos_json = serde_json::to_string(&c.photos).unwrap_or_else(|_| "[]".into());
    let ticket = TicketRow {
        id: id.clone(),
        ticket_no,
        tracking_code: code.as_str().to_string(),
        source: match c.source {
            Source::Web => "web",
            Source::Open311 => "open311",
        }
        .to_string(),
        category_code: c.category.clone(),
        description: c.description.clone(),
        address: c.address.clone(),
        area_id: c.area_id.clone(),
        lat: c.point.map(|p| p.0),
        lon: c.point.map(|p| p.1),
        reporter_name: c.name.clone(),
        reporter_phone: c.phone.as_ref().map(|p| p.as_str().to_string()),
        photos: photos_json,
        status: status.as_str().to_string(),
        unit_id: unit_id.clone(),
        route_rule_id: rule_id,
        route_note: note.to_string(),
        clock_start: now,
        response_due: response_due.as_millisecond(),
        resolution_due: resolution_due.as_millisecond(),
        accepted_at: None,
        resolved_at: None,
        closed_at: None,
        disputes: 0,
        extension_pending: false,
        supporters: 0,
        rating: None,
        rating_comment: None,
        rated_at: None,
        created_at: now,
        updated_at: now,
    };
    let env = Env {
        catalog,
        tz,
        public_url,
        now,
        deferred,
        copies,
        aggregates,
    };
    transition::open(conn, &env, &ticket, &note)?;
    Ok((ticket, code))
}

/// File `job` inside the caller's transaction: ticket, event, outbox, idempotency record.
pub(super) fn file_in_tx(
    conn: &mut DbConnection,
    st: &AppState,
    job: &Job,
    now: i64,
    seq: Option<i64>,
    deferred: Option<&Deferred>,
) -> Result<Value, ApiError> {
    let tz = &st.config.timezone;
    let (ticket, code) = file(
        conn,
        &job.catalog,
        &job.complaint,
        now,
        tz,
        &st.config.public_url,
        seq,
        deferred,
        &*st.ticket_copies,
        &*st.ticket_aggregates,
    )?;
    let answer = answer_json(&job.catalog, &ticket, &code, tz);
    if let Some(key) = &job.key {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::scope.eq("intake"),
                idempotency_keys::key.eq(key),
                idempotency_keys::request_hash.eq(&job.hash),
                idempotency_keys::response.eq(answer.to_string()),
                idempotency_keys::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(answer)
}

/// After a failed filing: a concurrent retry with the same key may have won; answer its record.
pub(super) fn settle(
    conn: &mut DbConnection,
    job: &Job,
    result: Result<Value, ApiError>,
) -> Result<Value, ApiError> {
    match (result, &job.key) {
        (Err(e), Some(key)) if is_unique_violation(&e) => {
            stored_answer(conn, key, &job.hash)?.ok_or(e)
        }
        (r, _) => r,
    }
}

/// One transaction for one submission.
pub(super) fn file_now(
    conn: &mut DbConnection,
    st: &AppState,
    job: Job,
) -> Result<Value, ApiError> {
    let now = st.clock.now_ms();
    let result = st
        .db
        .write_tx(conn, |conn| file_in_tx(conn, st, &job, now, None, None));
    settle(conn, &job, result)
}

fn is_unique_violation(e: &ApiError) -> bool {
    e.code() == "already_exists"
}
