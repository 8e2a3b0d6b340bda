//! The bulletins table: drafts (created and recomputed with their figures), issuing (a number
//! per year of issue from `bulletin_counters`, the figures frozen, the outbox summary, all in
//! one transaction), reading and listing. An issued row is never changed again: the code
//! refuses (409 `bulletin_issued`) and a database trigger refuses whatever path tries.

use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::compute::BulletinData;
use super::period::{Kind, Period};
use super::schema::{bulletin_counters, bulletins};
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};

/// One row of `bulletins`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bulletins)]
pub struct BulletinRow {
    /// Id (UUID v7).
    pub id: String,
    /// `weekly` or `monthly`.
    pub kind: String,
    /// First day of the period.
    pub period_start: String,
    /// Last day.
    pub period_end: String,
    /// Title.
    pub title: String,
    /// Remarks printed under the tables.
    pub remarks: String,
    /// `draft` or `issued`.
    pub status: String,
    /// Year of the number.
    pub number_year: Option<i32>,
    /// Sequence in that year.
    pub number_seq: Option<i32>,
    /// `2026年第12期`.
    pub number: Option<String>,
    /// The figures (JSON of [`BulletinData`]).
    pub data: String,
    /// SHA-256 of `data`.
    pub data_sha256: String,
    /// Small JSON for lists: has_data, named and commended units, totals.
    pub summary: String,
    /// When the figures were computed (ms).
    pub computed_at: i64,
    /// Creator's user id.
    pub created_by: String,
    /// Creator's name.
    pub created_by_name: String,
    /// Created (ms).
    pub created_at: i64,
    /// Issuer's user id.
    pub issued_by: Option<String>,
    /// Issuer's name.
    pub issued_by_name: Option<String>,
    /// Issued (ms).
    pub issued_at: Option<i64>,
}

/// Who acts.
pub struct Actor<'a> {
    /// User id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
}

fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::BulletinNotFound,
        "没有这期通报",
        "no such bulletin",
    )
}

fn issued_conflict() -> ApiError {
    ApiError::new(
        ErrorCode::BulletinIssued,
        "通报已印发，内容不可再更改",
        "the bulletin has been issued; it can no longer change",
    )
}

/// The stored figures: JSON, its SHA-256 and the list summary.
pub fn encode(d: &BulletinData) -> Result<(String, String, String), ApiError> {
    let data = serde_json::to_string(d).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    let sha = hex::encode(Sha256::digest(data.as_bytes()));
    let names = |v: &[super::compute::Named]| -> Vec<Value> {
        v.iter()
            .map(|n| json!({"unit_id": n.unit_id, "name_zh": n.name_zh, "name_en": n.name_en}))
            .collect()
    };
    let summary = json!({
        "has_data": d.has_data,
        "label_zh": d.period.label_zh,
        "label_en": d.period.label_en,
        "criticised": names(&d.criticised),
        "commended": names(&d.commended),
        "totals": d.totals,
    })
    .to_string();
    Ok((data, sha, summary))
}

/// Inserts a draft.
#[allow(clippy::too_many_arguments)]
pub fn insert_draft(
    conn: &mut DbConnection,
    period: &Period,
    title: &str,
    remarks: &str,
    d: &BulletinData,
    who: &Actor<'_>,
    now: i64,
) -> Result<BulletinRow, ApiError> {
    let (data, data_sha256, summary) = encode(d)?;
    let row = BulletinRow {
        id: uuid::Uuid::now_v7().to_string(),
        kind: period.kind.as_str().into(),
        period_start: period.start.to_string(),
        period_end: period.end.to_string(),
        title: title.into(),
        remarks: remarks.into(),
        status: "draft".into(),
        number_year: None,
        number_seq: None,
        number: None,
        data,
        data_sha256,
        summary,
        computed_at: d.computed_at,
        created_by: who.id.into(),
        created_by_name: who.name.into(),
        created_at: now,
        issued_by: None,
        issued_by_name: None,
        issued_at: None,
    };
    diesel::insert_into(bulletins::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// The bulletin `id`; 404 `bulletin_not_found`.
pub fn get(conn: &mut DbConnection, id: &str) -> Result<BulletinRow, ApiError> {
    bulletins::table
        .find(id)
        .select(BulletinRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(not_found)
}

/// The draft `id` (404 when missing, 409 `bulletin_issued` when issued).
pub fn draft(conn: &mut DbConnection, id: &str) -> Result<BulletinRow, ApiError> {
    let row = get(conn, id)?;
    if row.status != "draft" {
        return Err(issued_conflict());
    }
    Ok(row)
}

/// Replaces a draft's figures (409 when it was issued meanwhile).
pub fn replace_figures(
    conn: &mut DbConnection,
    id: &str,
    d: &BulletinData,
) -> Result<(), ApiError> {
    let (data, sha, summary) = encode(d)?;
    let n = diesel::update(
        bulletins::table
            .filter(bulletins::id.eq(id))
            .filter(bulletins::status.eq("draft")),
    )
    .set((
        bulletins::data.eq(data),
        bulletins::data_sha256.eq(sha),
        bulletins::summary.eq(summary),
        bulletins::computed_at.eq(d.computed_at),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(issued_conflict());
    }
    Ok(())
}

/// Deletes a draft (409 for an issued bulletin).
pub fn delete_draft(conn: &mut DbConnection, id: &str) -> Result<(), ApiError> {
    draft(conn, id)?;
    diesel::delete(
        bulletins::table
            .filter(bulletins::id.eq(id))
            .filter(bulletins::status.eq("draft")),
    )
    .execute(conn)?;
    Ok(())
}

/// The next number of `year`, taken under the counter row's lock (held to commit on PostgreSQL;
/// SQLite writes are serial), so two issues never share a number.
fn next_seq(conn: &mut DbConnection, year: i32) -> Result<i32, ApiError> {
    let q = diesel::insert_into(bulletin_counters::table)
        .values((
            bulletin_counters::year.eq(year),
            bulletin_counters::last_seq.eq(0),
        ))
        .on_conflict_do_nothing();
    match conn {
        DbConnection::Pg(c) => q.execute(c)?,
        DbConnection::Sqlite(c) => q.execute(c)?,
    };
    diesel::update(bulletin_counters::table.find(year))
        .set(bulletin_counters::last_seq.eq(bulletin_counters::last_seq + 1))
        .execute(conn)?;
    Ok(bulletin_counters::table
        .find(year)
        .select(bulletin_counters::last_seq)
        .first(conn)?)
}

/// Issues the draft `id` in the caller's transaction: checks it is a draft and that no other
/// bulletin of its kind and period was issued (409 `period_already_issued`), takes the number,
/// and freezes the row. Returns the issued row.
pub fn issue(
    conn: &mut DbConnection,
    id: &str,
    year: i32,
    who: &Actor<'_>,
    now: i64,
) -> Result<BulletinRow, ApiError> {
    let row = draft(conn, id)?;
    let seq = next_seq(conn, year)?;
    // Read after the counter's lock: another issue of this period has committed by now.
    let taken: i64 = bulletins::table
        .filter(bulletins::kind.eq(&row.kind))
        .filter(bulletins::period_start.eq(&row.period_start))
        .filter(bulletins::status.eq("issued"))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(ApiError::new(
            ErrorCode::PeriodAlreadyIssued,
            "该统计周期的同类通报已经印发",
            "a bulletin of this kind for this period has already been issued",
        ));
    }
    let number = format!("{year}年第{seq}期");
    let n = diesel::update(
        bulletins::table
            .filter(bulletins::id.eq(id))
            .filter(bulletins::status.eq("draft")),
    )
    .set((
        bulletins::status.eq("issued"),
        bulletins::number_year.eq(year),
        bulletins::number_seq.eq(seq),
        bulletins::number.eq(&number),
        bulletins::issued_by.eq(who.id),
        bulletins::issued_by_name.eq(who.name),
        bulletins::issued_at.eq(now),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(issued_conflict());
    }
    get(conn, id)
}

/// List filters (`kind`, `status`, `year` of the period).
#[derive(Debug, Default)]
pub struct Filter {
    /// Weekly or monthly.
    pub kind: Option<Kind>,
    /// `draft` or `issued`.
    pub status: Option<String>,
    /// The period's year.
    pub year: Option<i32>,
    /// Only issued ones (the caller may not see drafts).
    pub issued_only: bool,
    /// At most this many.
    pub limit: i64,
}

/// An item of the list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = BulletinListItem)]
pub struct ListItem {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// Period.
    pub period_start: String,
    /// Period end.
    pub period_end: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: String,
    /// Number when issued.
    pub number: Option<String>,
    /// Created (ms).
    pub created_at: i64,
    /// Created by.
    pub created_by_name: String,
    /// Issued (ms).
    pub issued_at: Option<i64>,
    /// Issued by.
    pub issued_by_name: Option<String>,
    /// has_data, label, named, commended, totals.
    #[schema(value_type = Object)]
    pub summary: Value,
}

/// Bulletins newest first.
pub fn list(conn: &mut DbConnection, f: &Filter) -> Result<Vec<ListItem>, ApiError> {
    let mut q = bulletins::table
        .select(BulletinRow::as_select())
        .order((bulletins::created_at.desc(), bulletins::id.desc()))
        .limit(f.limit)
        .into_boxed();
    if let Some(k) = f.kind {
        q = q.filter(bulletins::kind.eq(k.as_str()));
    }
    if f.issued_only {
        q = q.filter(bulletins::status.eq("issued"));
    }
    if let Some(s) = &f.status {
        q = q.filter(bulletins::status.eq(s.clone()));
    }
    if let Some(y) = f.year {
        q = q
            .filter(bulletins::period_start.ge(format!("{y:04}-01-01")))
            .filter(bulletins::period_start.lt(format!("{:04}-01-01", y + 1)));
    }
    let rows: Vec<BulletinRow> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| ListItem {
            summary: serde_json::from_str(&r.summary).unwrap_or(Value::Null),
            id: r.id,
            kind: r.kind,
            period_start: r.period_start,
            period_end: r.period_end,
            title: r.title,
            status: r.status,
            number: r.number,
            created_at: r.created_at,
            created_by_name: r.created_by_name,
            issued_at: r.issued_at,
            issued_by_name: r.issued_by_name,
        })
        .collect())
}

/// A bulletin as the API answers it: every column, the figures as JSON.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulletinView {
    /// Id.
    pub id: String,
    /// `weekly` or `monthly`.
    pub kind: String,
    /// First day of the period, `YYYY-MM-DD`.
    pub period_start: String,
    /// Last day of the period, `YYYY-MM-DD`.
    pub period_end: String,
    /// Title.
    pub title: String,
    /// The supervisor's remarks (may be empty).
    pub remarks: String,
    /// `draft` or `issued`.
    pub status: String,
    /// The issue number (`2026年第12期`), once issued.
    pub number: Option<String>,
    /// The figures (progress, units, overdue, property managers, named and commended).
    #[schema(value_type = Object)]
    pub data: Value,
    /// SHA-256 of the stored figures.
    pub data_sha256: String,
    /// When the figures were computed, ms since the epoch.
    pub computed_at: i64,
    /// The same in the city's time.
    pub computed_at_local: String,
    /// Who made the draft.
    pub created_by_name: String,
    /// When, ms since the epoch.
    pub created_at: i64,
    /// Who issued it, once issued.
    pub issued_by_name: Option<String>,
    /// When, ms since the epoch, once issued.
    pub issued_at: Option<i64>,
    /// The same in the city's time.
    pub issued_at_local: Option<String>,
}

/// The row as the API answers it.
pub fn view(r: &BulletinRow, tz: &jiff::tz::TimeZone) -> BulletinView {
    BulletinView {
        id: r.id.clone(),
        kind: r.kind.clone(),
        period_start: r.period_start.clone(),
        period_end: r.period_end.clone(),
        title: r.title.clone(),
        remarks: r.remarks.clone(),
        status: r.status.clone(),
        number: r.number.clone(),
        data: serde_json::from_str::<Value>(&r.data).unwrap_or(Value::Null),
        data_sha256: r.data_sha256.clone(),
        computed_at: r.computed_at,
        computed_at_local: crate::clock::format_local(r.computed_at, tz),
        created_by_name: r.created_by_name.clone(),
        created_at: r.created_at,
        issued_by_name: r.issued_by_name.clone(),
        issued_at: r.issued_at,
        issued_at_local: r.issued_at.map(|t| crate::clock::format_local(t, tz)),
    }
}

/// `POST /api/v1/bulletins/{id}/issue`: the issued bulletin and what was sent.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedView {
    /// The issued bulletin.
    #[serde(flatten)]
    pub bulletin: BulletinView,
    /// What the issue queued in the outbox.
    pub notified: Notified,
}

/// The notices an issue queued.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Notified {
    /// The ids of the units told.
    pub units: Vec<String>,
    /// Outbox messages queued.
    pub messages: usize,
}

/// `GET /api/v1/bulletins`: bulletins newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulletinList {
    /// The bulletins.
    pub items: Vec<ListItem>,
}
