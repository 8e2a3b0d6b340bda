//! `GET /open311/v2/requests`: the list of service requests, one page in one query. Deep pages
//! go by keyset (`after`, the last request of the previous page), not by OFFSET.
//!
//! Without an API key the answer carries the GeoReport v2 fields that describe a request without
//! its resident: number, category, status, coarse location (the community's name and a point
//! rounded to about 100 m), dates and agency. With a valid `api_key` (a partner's 311 app) it
//! also carries the description and the latest public reply, both passed through
//! [`crate::redact`]. A resident's photo is never in it.

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::clock::format_local;
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::org::catalog::Catalog;
use crate::tickets::schema::{ticket_events, tickets};

/// The most requests one page may hold (`page_size`), and the default.
pub const MAX_PAGE_SIZE: i64 = 1000;

/// Who reads the list: the public, or a caller that presented a valid API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// No key: the public fields only.
    Public,
    /// A valid key: plus the redacted description and status notes.
    Partner,
}

/// Which requests, parsed from the query string.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// `service_request_id`: these ticket numbers (then the dates do not apply).
    pub ids: Option<Vec<String>>,
    /// `start_date`, ms.
    pub start: i64,
    /// `end_date`, ms.
    pub end: i64,
    /// `service_code`.
    pub codes: Option<Vec<String>>,
    /// `status`: `Some(true)` open only, `Some(false)` closed only.
    pub open: Option<bool>,
    /// 1-based page (`page`, read with OFFSET: for the first pages).
    pub page: i64,
    /// `after`: the `service_request_id` of the last request of the previous page; the page
    /// then starts right after it in the list's order (a keyset: as cheap on the thousandth page
    /// as on the first).
    pub after: Option<String>,
    /// Requests per page (1 to [`MAX_PAGE_SIZE`]).
    pub page_size: i64,
}

/// The columns a request shows; nothing personal is even read.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = tickets)]
struct PublicTicket {
    ticket_no: String,
    category_code: String,
    description: String,
    area_id: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    status: String,
    unit_id: Option<String>,
    resolution_due: i64,
    created_at: i64,
    updated_at: i64,
}

const CLOSED: [&str; 2] = ["resolved", "closed"];

/// One page of requests, newest first, read with a single query whatever the page size (the
/// page's ids from a subquery, the latest public reply from a correlated subquery, not a query
/// per request).
pub fn page(
    conn: &mut DbConnection,
    catalog: &Catalog,
    filter: &RequestFilter,
    reader: Reader,
    tz: &jiff::tz::TimeZone,
) -> Result<Vec<Value>, ApiError> {
    let least = if conn.is_postgres() { "LEAST" } else { "MIN" };
    // The filtered, ordered tickets of the page for one backend (boxed queries are per backend).
    macro_rules! filtered {
        ($db:ty) => {{
            let mut q = tickets::table.into_boxed::<$db>();
            if let Some(ids) = &filter.ids {
                q = q.filter(tickets::ticket_no.eq_any(ids));
            } else if let Some(after) = &filter.after {
                // Newest first: the requests filed before the cursor's, or at the same instant
                // with a smaller id. The upper bound is one expression with the end date, so the
                // planner reads the `created_at` index from the cursor down and stops after the
                // page.
                let sub = "SELECT c.created_at FROM tickets c WHERE c.ticket_no = ";
                use diesel::sql_types::{BigInt, Bool, Text};
                q = q.filter(tickets::created_at.ge(filter.start)).filter(
                    diesel::dsl::sql::<Bool>(&format!("tickets.created_at <= {least}("))
                        .bind::<BigInt, _>(filter.end)
                        .sql(&format!(", ({sub}"))
                        .bind::<Text, _>(after.clone())
                        .sql(&format!(")) AND (tickets.created_at < ({sub}"))
                        .bind::<Text, _>(after.clone())
                        .sql(") OR tickets.id < (SELECT c.id FROM tickets c WHERE c.ticket_no = ")
                        .bind::<Text, _>(after.clone())
                        .sql("))"),
                );
            } else {
                q = q
                    .filter(tickets::created_at.ge(filter.start))
                    .filter(tickets::created_at.le(filter.end));
            }
            if let Some(codes) = &filter.codes {
                q = q.filter(tickets::category_code.eq_any(codes));
            }
            match filter.open {
                Some(true) => q = q.filter(tickets::status.ne_all(CLOSED)),
                Some(false) => q = q.filter(tickets::status.eq_any(CLOSED)),
                None => {}
            }
            q.order((tickets::created_at.desc(), tickets::id.desc()))
        }};
    }
    let latest_note = ticket_events::table
        .filter(ticket_events::ticket_id.eq(tickets::id))
        .filter(ticket_events::kind.eq_any(["replied", "resolved"]))
        .filter(ticket_events::public.eq(true))
        .order(ticket_events::id.desc())
        .select(ticket_events::body)
        .limit(1)
        .single_value();
    let offset = (filter.page - 1).saturating_mul(filter.page_size);
    // The page's ids in a subquery (the OFFSET walks the index and the filtered columns only),
    // then their rows and notes: with the notes in the paged query itself, their subquery ran
    // for every skipped row too (100,000 of them for page 100 of 1,000).
    macro_rules! load {
        ($db:ty, $conn:expr) => {
            tickets::table
                .into_boxed::<$db>()
                .filter(
                    tickets::id.eq_any(
                        filtered!($db)
                            .limit(filter.page_size)
                            .offset(offset)
                            .select(tickets::id),
                    ),
                )
                .order((tickets::created_at.desc(), tickets::id.desc()))
                .select((PublicTicket::as_select(), latest_note))
                .load::<(PublicTicket, Option<String>)>($conn)?
        };
    }
    let rows = match conn {
        DbConnection::Pg(c) => load!(diesel::pg::Pg, c),
        DbConnection::Sqlite(c) => load!(diesel::sqlite::Sqlite, c),
    };
    if rows.is_empty()
        && filter.ids.is_none()
        && let Some(after) = &filter.after
    {
        let known: i64 = tickets::table
            .filter(tickets::ticket_no.eq(after))
            .count()
            .get_result(conn)?;
        if known == 0 {
            return Err(ApiError::new(
                ErrorCode::UnknownCursor,
                "after 不是已有的诉求编号",
                "after names no service request",
            ));
        }
    }
    Ok(rows
        .iter()
        .map(|(t, note)| request_json(catalog, t, note.as_deref(), reader, tz))
        .collect())
}

fn request_json(
    catalog: &Catalog,
    t: &PublicTicket,
    note: Option<&str>,
    reader: Reader,
    tz: &jiff::tz::TimeZone,
) -> Value {
    let round = |x: Option<f64>| x.map(|v| (v * 1000.0).round() / 1000.0);
    let mut v = json!({
        "service_request_id": t.ticket_no,
        "status": if CLOSED.contains(&t.status.as_str()) { "closed" } else { "open" },
        "service_name": catalog.categories.get(&t.category_code).map(|c| c.name_zh.clone()),
        "service_code": t.category_code,
        "agency_responsible": t.unit_id.as_deref().and_then(|u| catalog.units.get(u)).map(|u| u.name_zh.clone()),
        "service_notice": Value::Null,
        "requested_datetime": format_local(t.created_at, tz),
        "updated_datetime": format_local(t.updated_at, tz),
        "expected_datetime": format_local(t.resolution_due, tz),
        "address": t.area_id.as_deref().and_then(|a| catalog.areas.get(a)).map(|a| a.name_zh.clone()),
        "address_id": t.area_id,
        "zipcode": Value::Null,
        "lat": round(t.lat),
        "long": round(t.lon),
    });
    if reader == Reader::Partner
        && let Some(obj) = v.as_object_mut()
    {
        obj.insert(
            "description".into(),
            json!(crate::redact::summary(&t.description)),
        );
        obj.insert(
            "status_notes".into(),
            json!(note.map(crate::redact::redact)),
        );
    }
    v
}
