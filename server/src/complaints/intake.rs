//! Intake (受理): `POST /api/v1/complaints`. Parse at the edge into a [`NewComplaint`], route,
//! compute deadlines, and write ticket + first event + outbox messages + the idempotency record
//! in one transaction.

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clock::format_local;
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode, FieldCode, FieldError};
use crate::state::AppState;
use crate::tickets::state::TicketStatus;
use crate::tickets::store::{self, TicketRow};
use crate::tickets::transition::{self, Deferred, Env};

use super::code::TrackingCode;
use super::phone::MobilePhone;
use super::schema::{counters, idempotency_keys, uploads};
use crate::org::catalog::Catalog;
use crate::tickets::copies::TicketCopies;

/// Most photos one complaint may carry.
pub const MAX_PHOTOS: usize = 6;

/// The body residents send.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SubmitBody {
    /// Category code.
    pub category: String,
    /// What happened (5-2000 characters).
    pub description: String,
    /// A community (or other area) id from `GET /api/v1/areas`.
    #[serde(default)]
    pub area_id: Option<String>,
    /// Latitude (WGS 84).
    #[serde(default)]
    pub lat: Option<f64>,
    /// Longitude (WGS 84).
    #[serde(default)]
    pub lon: Option<f64>,
    /// Free address text.
    #[serde(default)]
    pub address: Option<String>,
    /// Upload ids (≤ 6).
    #[serde(default)]
    pub photos: Option<Vec<String>>,
    /// Name for callbacks.
    #[serde(default)]
    pub name: Option<String>,
    /// Mainland mobile number for callbacks.
    #[serde(default)]
    pub phone: Option<String>,
}

/// Where a complaint was sent from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The JSON API / web page.
    Web,
    /// Open311 GeoReport v2.
    Open311,
}

/// A complaint after parsing: every field valid, the area resolved.
#[derive(Debug, Clone)]
pub struct NewComplaint {
    /// Known, active category code.
    pub category: String,
    /// 5-2000 characters, trimmed.
    pub description: String,
    /// Resolved area, if any (`None` only for Open311 requests with an address only).
    pub area_id: Option<String>,
    /// Point, if given.
    pub point: Option<(f64, f64)>,
    /// Address text (≤ 200 characters).
    pub address: Option<String>,
    /// Existing upload ids.
    pub photos: Vec<String>,
    /// Name (≤ 50 characters).
    pub name: Option<String>,
    /// Valid mobile number.
    pub phone: Option<MobilePhone>,
    /// Source channel.
    pub source: Source,
}

/// 400 `unknown_category` listing the valid codes.
pub fn unknown_category(catalog: &Catalog) -> ApiError {
    ApiError::new(
        ErrorCode::UnknownCategory,
        "没有这个诉求类别",
        "There is no such category",
    )
    .with("valid_codes", json!(catalog.valid_codes()))
}

/// 400 `outside_jurisdiction`.
pub fn outside_jurisdiction() -> ApiError {
    ApiError::new(
        ErrorCode::OutsideJurisdiction,
        "该位置不在本市管辖范围内",
        "This location is outside the city's jurisdiction",
    )
}

/// Parse and check a submission against the catalog. `allow_no_area` lets an Open311 request
/// with only an address through (it goes to the dispatch center).
pub fn parse(
    body: SubmitBody,
    catalog: &Catalog,
    source: Source,
    allow_no_area: bool,
) -> Result<NewComplaint, ApiError> {
    let category = body.category.trim().to_string();
    match catalog.categories.get(&category) {
        Some(c) if c.active => {}
        _ => return Err(unknown_category(catalog)),
    }
    let mut errors = Vec::new();
    let description = body.description.trim().to_string();
    let n = description.chars().count();
    if n < 5 {
        errors.push(FieldError::new(
            "description",
            FieldCode::TooShort,
            "请至少写 5 个字",
            "Write at least 5 characters",
        ));
    } else if n > 2000 {
        errors.push(FieldError::new(
            "description",
            FieldCode::TooLong,
            "最多 2000 个字",
            "At most 2000 characters",
        ));
    }
    let address = body
        .address
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    if address.as_ref().is_some_and(|a| a.chars().count() > 200) {
        errors.push(FieldError::new(
            "address",
            FieldCode::TooLong,
            "地址最多 200 个字",
            "At most 200 characters",
        ));
    }
    let name = body
        .name
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    if name.as_ref().is_some_and(|a| a.chars().count() > 50) {
        errors.push(FieldError::new(
            "name",
            FieldCode::TooLong,
            "姓名最多 50 个字",
            "At most 50 characters",
        ));
    }
    let phone = match body
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => match MobilePhone::parse(p) {
            Some(m) => Some(m),
            None => {
                errors.push(FieldError::new(
                    "phone",
                    FieldCode::InvalidPhone,
                    "请填写有效的手机号码",
                    "Enter a valid mainland mobile number",
                ));
                None
            }
        },
    };
    let photos = body.photos.unwrap_or_default();
    if photos.len() > MAX_PHOTOS {
        errors.push(FieldError::new(
            "photos",
            FieldCode::TooMany,
            "最多 6 张照片",
            "At most 6 photos",
        ));
    }
    let point = match (body.lat, body.lon) {
        (None, None) => None,
        (Some(lat), Some(lon))
            if lat.is_finite()
                && lon.is_finite()
                && (-90.0..=90.0).contains(&lat)
                && (-180.0..=180.0).contains(&lon) =>
        {
            Some((lat, lon))
        }
        _ => {
            errors.push(FieldError::new(
                "location",
                FieldCode::InvalidPoint,
                "经纬度无效",
                "lat and lon must both be valid degrees",
            ));
            None
        }
    };
    let area_id = body
        .area_id
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    if let Some(a) = &area_id
        && !catalog.areas.contains_key(a)
    {
        errors.push(FieldError::new(
            "area_id",
            FieldCode::UnknownArea,
            "没有这个社区",
            "There is no such area",
        ));
    }
    if area_id.is_none()
        && point.is_none()
        && !errors.iter().any(|e| e.field == "location")
        && !(allow_no_area && address.is_some())
    {
        errors.push(FieldError::new(
            "location",
            FieldCode::LocationRequired,
            "请选择社区或使用当前位置",
            "Choose a community or give lat/lon",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::with_fields(errors));
    }
    let area_id = match (area_id, point) {
        (Some(a), _) => Some(a),
        (None, Some((lat, lon))) => match catalog.area_index.locate_deepest(lat, lon) {
            Some(a) => Some(a.to_string()),
            None => return Err(outside_jurisdiction()),
        },
        (None, None) => None,
    };
    Ok(NewComplaint {
        category,
        description,
        area_id,
        point,
        address,
        photos,
        name,
        phone,
        source,
    })
}

/// What filing a complaint answers (kept with the idempotency key and answered again to a retry).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Filed {
    /// The resident's tracking code (查询码).
    pub tracking_code: String,
    /// Public ticket number.
    pub ticket_no: String,
    /// Status.
    #[schema(value_type = crate::tickets::state::TicketStatus)]
    pub status: String,
    /// The unit it was routed to, null when it waits for a dispatcher.
    #[schema(required = true)]
    pub unit: Option<store::UnitRef>,
    /// Response deadline.
    pub response_due: String,
    /// Resolution deadline.
    pub resolution_due: String,
    /// The tracking page.
    pub track_url: String,
}

/// The intake answer, as JSON (it is stored for retries).
pub fn answer_json(
    catalog: &Catalog,
    t: &TicketRow,
    code: &TrackingCode,
    tz: &jiff::tz::TimeZone,
) -> Value {
    json!(Filed {
        tracking_code: code.display(),
        ticket_no: t.ticket_no.clone(),
        status: t.status.clone(),
        unit: store::unit_ref(catalog, t.unit_id.as_deref(), true),
        response_due: format_local(t.response_due, tz),
        resolution_due: format_local(t.resolution_due, tz),
        track_url: format!("/t/{}", code.display()),
    })
}

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
fn ticket_seqs(conn: &mut DbConnection, n: usize) -> Result<Vec<i64>, ApiError> {
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
/// synced copy is written through `copies`.
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
) -> Result<(TicketRow, TrackingCode), ApiError> {
    // Referenced from now on: the clean-up of unreferenced uploads leaves them alone.
    super::uploads::claim(conn, &c.photos)?;
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
    };
    transition::open(conn, &env, &ticket, &note)?;
    Ok((ticket, code))
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(v) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let bad = || {
        ApiError::new(
            ErrorCode::InvalidIdempotencyKey,
            "Idempotency-Key 应为 1-128 个可见字符",
            "Idempotency-Key must be 1-128 visible characters",
        )
    };
    let s = v.to_str().map_err(|_| bad())?.trim();
    if s.is_empty() || s.len() > 128 {
        return Err(bad());
    }
    Ok(Some(s.to_string()))
}

fn key_reused() -> ApiError {
    ApiError::new(
        ErrorCode::IdempotencyKeyReused,
        "该 Idempotency-Key 已用于另一份不同的诉求",
        "This Idempotency-Key was already used for a different complaint",
    )
}

/// An idempotency record of intake: the hash of the body first filed and its answer.
#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct StoredKey {
    request_hash: String,
    response: String,
}

/// Look up a stored answer for `key`; `Err(key_reused)` when the body differs.
fn stored_answer(
    conn: &mut DbConnection,
    key: &str,
    hash: &str,
) -> Result<Option<Value>, ApiError> {
    let row: Option<StoredKey> = idempotency_keys::table
        .find(("intake", key))
        .select(StoredKey::as_select())
        .first(conn)
        .optional()?;
    match row {
        None => Ok(None),
        Some(r) if r.request_hash != hash => Err(key_reused()),
        Some(r) => Ok(serde_json::from_str(&r.response).ok()),
    }
}

/// `POST /api/v1/complaints`.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints", request_body(content = SubmitBody, content_type = "application/json"), responses((status = 201, description = "Filed: {tracking_code, ticket_no, status, unit, response_due, resolution_due, track_url}; 4xx problem+json for bad input, 429 when flooding", body = Filed)))]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    let parsed: SubmitBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            ErrorCode::MalformedJson,
            format!("请求内容格式错误：{e}"),
            format!("The request body is not valid: {e}"),
        )
    })?;
    let hash = hex::encode(Sha256::digest(&body));
    let state = state.into_inner();
    // A retry with a known key answers from the record and does not count against the limit.
    if let Some(key) = key.clone() {
        let h = hash.clone();
        if let Some(answer) = state
            .db
            .run(move |conn| stored_answer(conn, &key, &h))
            .await?
        {
            return Ok(HttpResponse::Created().json(answer));
        }
    }
    super::ratelimit::check_client(&state, &req, "intake", state.config.intake_per_minute)?;
    let st = state.clone();
    let (catalog, complaint) = state
        .db
        .run(move |conn| {
            let catalog = st.catalog.get(conn, &st.config.timezone)?;
            let complaint = parse(parsed, &catalog, Source::Web, false)?;
            if !complaint.photos.is_empty() {
                check_photos(conn, &complaint.photos)?;
            }
            Ok((catalog, complaint))
        })
        .await?;
    let job = Job {
        complaint,
        key,
        hash,
        catalog,
    };
    let answer = group_commit::submit(&state, job).await?;
    Ok(HttpResponse::Created().json(answer))
}

/// One submission on its way to the database.
pub struct Job {
    complaint: NewComplaint,
    key: Option<String>,
    hash: String,
    catalog: std::sync::Arc<Catalog>,
}

fn check_photos(conn: &mut DbConnection, photos: &[String]) -> Result<(), ApiError> {
    let mut distinct = photos.to_vec();
    distinct.sort();
    distinct.dedup();
    let found: i64 = uploads::table
        .filter(uploads::id.eq_any(&distinct))
        .count()
        .get_result(conn)?;
    if found != distinct.len() as i64 {
        return Err(FieldError::new(
            "photos",
            FieldCode::UnknownUpload,
            "照片未上传或已失效",
            "A photo id names no upload",
        )
        .into());
    }
    Ok(())
}

/// File `job` inside the caller's transaction: ticket, event, outbox, idempotency record.
fn file_in_tx(
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
fn settle(
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
fn file_now(conn: &mut DbConnection, st: &AppState, job: Job) -> Result<Value, ApiError> {
    let now = st.clock.now_ms();
    let result = st
        .db
        .write_tx(conn, |conn| file_in_tx(conn, st, &job, now, None, None));
    settle(conn, &job, result)
}

/// Group commit: writer threads per app (one for SQLite, which has one writer at a time
/// anyway; four for PostgreSQL) take the submissions waiting in the queue, file them in one
/// transaction, commit once, and only then answer each. On SQLite each submission has its own
/// savepoint, so a failed one rolls back alone. On PostgreSQL a failure rolls the batch back
/// and each of its submissions is then filed in a transaction of its own. A failed commit
/// answers every submission of the batch with the error: nothing is acknowledged that is not
/// committed.
pub mod group_commit {
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};

    use diesel::Connection;

    use serde_json::Value;

    use super::{Job, file_in_tx, file_now, settle, ticket_seqs};
    use crate::error::ApiError;
    use crate::state::AppState;
    use crate::tickets::transition::Deferred;

    /// A submission waiting in the queue and where its answer goes.
    struct Queued {
        job: Job,
        reply: tokio::sync::oneshot::Sender<Result<Value, ApiError>>,
    }

    /// The receiving end of the queue, shared by the writers.
    type Queue = Arc<Mutex<mpsc::Receiver<Queued>>>;

    /// Most submissions in one transaction on SQLite (one writer: the bigger the batch, the
    /// fewer commits).
    const MAX_BATCH_SQLITE: usize = 256;

    /// Most submissions in one transaction on PostgreSQL. Four writers share the queue: a
    /// writer that took every waiting submission (64 under 64 connections) kept the other three
    /// idle and made the last of its batch wait for 63 filings, round trip by round trip; that
    /// was the p99 over 50 ms (BENCHMARKS.md, issue 12).
    const MAX_BATCH_POSTGRES: usize = 16;

    /// The running writers: the queue's sending end and the threads.
    struct Running {
        tx: mpsc::Sender<Queued>,
        threads: Vec<std::thread::JoinHandle<()>>,
    }

    /// The intake writer threads of one app, started at its first submission and stopped
    /// with the app ([`IntakeWriters::stop`]), so no thread outlives the server that started it.
    #[derive(Default)]
    pub struct IntakeWriters {
        running: Mutex<Option<Running>>,
    }

    impl IntakeWriters {
        fn sender(&self, st: &AppState) -> Result<mpsc::Sender<Queued>, ApiError> {
            let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(r) = running.as_ref() {
                return Ok(r.tx.clone());
            }
            let (tx, rx) = mpsc::channel::<Queued>();
            let rx = Arc::new(Mutex::new(rx));
            let writers = if st.db.is_postgres() { 4 } else { 1 };
            let mut threads = Vec::with_capacity(writers);
            for _ in 0..writers {
                let state = st.clone();
                let rx = rx.clone();
                let thread = std::thread::Builder::new()
                    .name("anju-intake-writer".into())
                    .spawn(move || run(state, rx))
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("intake writer: {e}")))?;
                threads.push(thread);
            }
            *running = Some(Running {
                tx: tx.clone(),
                threads,
            });
            Ok(tx)
        }

        /// Closes the queue and waits until the writers have answered what was queued and
        /// exited. Blocking; a submission after this starts the writers anew.
        pub fn stop(&self) {
            let taken = self
                .running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(Running { tx, threads }) = taken {
                drop(tx);
                for t in threads {
                    let _ = t.join();
                }
            }
        }
    }

    fn next_batch(rx: &Mutex<mpsc::Receiver<Queued>>, max: usize) -> Option<Vec<Queued>> {
        let rx = rx.lock().unwrap_or_else(|p| p.into_inner());
        let first = rx.recv().ok()?;
        let mut batch = vec![first];
        while batch.len() < max {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        Some(batch)
    }

    fn run(st: AppState, rx: Queue) {
        let max = match st.config.intake_batch {
            0 if st.db.is_postgres() => MAX_BATCH_POSTGRES,
            0 => MAX_BATCH_SQLITE,
            n => n as usize,
        };
        while let Some(batch) = next_batch(&rx, max) {
            let mut conn = match st.db.get() {
                Ok(c) => c,
                Err(e) => {
                    let code = e.code().to_string();
                    for q in batch {
                        let _ = q
                            .reply
                            .send(Err(ApiError::unavailable(format!("intake writer: {code}"))));
                    }
                    continue;
                }
            };
            let now = st.clock.now_ms();
            if st.db.is_postgres() {
                let filed = st.db.write_tx(&mut conn, |conn| {
                    let seqs = ticket_seqs(conn, batch.len())?;
                    // The batch's aggregate changes and synced copies, written once at the
                    // end: the hot aggregate rows and the sync counter are locked only for the
                    // end of the transaction, not from the first submission on.
                    let deferred = Deferred::default();
                    let answers = batch
                        .iter()
                        .enumerate()
                        .map(|(i, q)| {
                            file_in_tx(
                                conn,
                                &st,
                                &q.job,
                                now,
                                seqs.get(i).copied(),
                                Some(&deferred),
                            )
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    deferred.finish(conn, &*st.ticket_copies)?;
                    Ok(answers)
                });
                match filed {
                    Ok(answers) => {
                        for (q, answer) in batch.into_iter().zip(answers) {
                            let _ = q.reply.send(Ok(answer));
                        }
                    }
                    Err(_) => {
                        // Something in the batch failed (e.g. a retry racing its first
                        // submission): file each on its own.
                        for q in batch {
                            let _ = q.reply.send(file_now(&mut conn, &st, q.job));
                        }
                    }
                }
                continue;
            }
            let mut results: Vec<Result<Value, ApiError>> = Vec::with_capacity(batch.len());
            let committed = st.db.write_tx(&mut conn, |conn| {
                for q in &batch {
                    // A savepoint per submission: one bad one does not spoil the batch.
                    results.push(conn.transaction::<_, ApiError, _>(|c| {
                        file_in_tx(c, &st, &q.job, now, None, None)
                    }));
                }
                Ok(())
            });
            match committed {
                Ok(()) => {
                    for (q, result) in batch.into_iter().zip(results) {
                        let settled = settle(&mut conn, &q.job, result);
                        let _ = q.reply.send(settled);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "intake batch not committed");
                    // The writer queue's bound passed (busy), or the database failed.
                    let busy = e.code() == "server_busy";
                    for q in batch {
                        let _ = q.reply.send(Err(if busy {
                            ApiError::busy("intake batch: database busy")
                        } else {
                            ApiError::unavailable("intake batch not committed")
                        }));
                    }
                }
            }
        }
    }

    /// Queue `job` and wait for its committed answer.
    pub async fn submit(st: &AppState, job: Job) -> Result<Value, ApiError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let writer = st.intake_writers.sender(st)?;
        if writer.send(Queued { job, reply: tx }).is_err() {
            return Err(ApiError::unavailable("intake writer stopped"));
        }
        rx.await
            .map_err(|_| ApiError::unavailable("intake writer stopped"))?
    }
}

fn is_unique_violation(e: &ApiError) -> bool {
    e.code() == "already_exists"
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(submit))]
pub struct ApiDoc;
