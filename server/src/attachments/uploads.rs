//! Photo uploads: `POST /api/v1/uploads` (raw bytes, ≤ 10 MB, JPEG/PNG/WebP by content, parsed
//! to the end with nothing after the image, stored as the allow-listed public copy) and
//! `GET /api/v1/uploads/{id}`. Stored in the database so every server process behind a balancer
//! serves every photo.
//!
//! Disk: an upload that no complaint or resolution references carries `expires_at` (now +
//! `ANJU_UPLOAD_TTL_HOURS`); referencing it ([`claim`]) clears it, and [`cleanup_worker`]
//! deletes what is due, reading only the index of due uploads, in bounded batches with one short
//! write transaction each. Anonymous uploads also spend a per-address daily byte budget
//! (`ANJU_UPLOAD_BYTES_PER_IP_DAY`), counted in the database so every process shares it.

use std::net::IpAddr;

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;

use crate::auth::Principal;
use crate::error::{ApiError, ErrorCode, FieldCode, FieldError};
use crate::http::ids::UploadId;
use crate::http::ratelimit::check_client;
use crate::state::AppState;

use super::image::{ImageError, ImageFormat, Trailing, public_copy};
use super::schema::{upload_budgets, uploads};

/// Largest accepted upload.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// Most uploads one clean-up transaction deletes.
pub const CLEANUP_BATCH: i64 = 200;
const DAY_MS: i64 = 86_400_000;

/// `POST /api/v1/uploads`.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "complaints", request_body(content = Vec<u8>, content_type = "image/jpeg"), responses((status = 201, description = "Stored as its public copy (image data, colour profile, orientation only): {id, url, content_type, bytes}. Refusals: 400 empty_upload, 413 payload_too_large, 415 unsupported_image, 422 damaged_image, 422 trailing_data (bytes after the end of the image), 429 too_many_requests, 429 upload_budget_exhausted (this address's daily bytes, with Retry-After)", body = Stored)))]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Option<Principal>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    if body.is_empty() {
        return Err(ApiError::new(
            ErrorCode::EmptyUpload,
            "没有收到图片",
            "The upload is empty",
        ));
    }
    if body.len() > MAX_UPLOAD_BYTES {
        return Err(crate::http::payload_too_large());
    }
    let ip = crate::http::client_ip(&req);
    // Six photos per complaint, so six times the intake limit.
    check_client(
        &state,
        &req,
        "uploads",
        state.config.intake_per_minute.saturating_mul(6),
    )?;
    let (format, clean) = public_copy(&body, Trailing::Refuse).map_err(image_error)?;
    let now = state.clock.now_ms();
    let expires_at = now + i64::from(state.config.upload_ttl_hours) * 3_600_000;
    // Staff uploads (resolution photos) are not anonymous; everyone else spends the budget.
    let budget = match (staff, ip) {
        (None, Some(ip)) if state.config.upload_bytes_per_ip_day > 0 => {
            Some((ip, state.config.upload_bytes_per_ip_day))
        }
        _ => None,
    };
    let size = clean.len() as i64;
    let ct = format.content_type();
    let id = uuid::Uuid::new_v4().to_string();
    let id2 = id.clone();
    state
        .db
        .write(move |conn| {
            if let Some((ip, limit)) = budget {
                spend_budget(conn, ip, size, limit, now)?;
            }
            insert(conn, &id2, format, &clean, now, Some(expires_at))
        })
        .await?;
    Ok(HttpResponse::Created().json(Stored {
        url: photo_url(&id),
        id,
        content_type: ct,
        bytes: size,
    }))
}

/// Photo URL for an upload id.
pub fn photo_url(id: &str) -> String {
    format!("/api/v1/uploads/{id}")
}

/// What `POST /api/v1/uploads` answers: the stored public copy.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = UploadStored)]
pub struct Stored {
    /// Upload id, to name in a complaint's or a resolution's `photos`.
    pub id: String,
    /// Where the copy is served.
    pub url: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: &'static str,
    /// Size of the stored copy.
    pub bytes: i64,
}

/// Image bytes as served (the schema of a binary answer).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ImageBytes(pub Vec<u8>);

fn image_error(e: ImageError) -> ApiError {
    match e {
        ImageError::UnsupportedFormat => ApiError::new(
            ErrorCode::UnsupportedImage,
            "只能上传 JPEG、PNG 或 WebP 图片",
            "Only JPEG, PNG or WebP images are accepted",
        ),
        ImageError::Malformed => ApiError::new(
            ErrorCode::DamagedImage,
            "图片文件已损坏",
            "The image file is damaged",
        ),
        ImageError::TrailingData => ApiError::new(
            ErrorCode::TrailingData,
            "图片结尾之后还有其他数据（如动态照片），请另存为普通照片后再上传",
            "The file has data after the end of the image (a motion photo, say); save it as a plain photo and upload again",
        ),
    }
}

/// Adds `size` to the bytes `ip` uploaded today; 429 `upload_budget_exhausted` (with
/// `Retry-After` until the next UTC day) when that passes `limit`. Runs in the upload's write
/// transaction, so a refused upload leaves the count as it was.
fn spend_budget(
    conn: &mut crate::db::DbConnection,
    ip: IpAddr,
    size: i64,
    limit: u64,
    now: i64,
) -> Result<(), ApiError> {
    let day = now.div_euclid(DAY_MS);
    let ip = ip.to_string();
    let insert = diesel::insert_into(upload_budgets::table)
        .values((
            upload_budgets::ip.eq(&ip),
            upload_budgets::day.eq(day),
            upload_budgets::bytes.eq(size),
        ))
        .on_conflict((upload_budgets::ip, upload_budgets::day))
        .do_update()
        .set(upload_budgets::bytes.eq(upload_budgets::bytes + size));
    // Upserts are not portable through the multi-backend connection: one match, same SQL.
    match conn {
        crate::db::DbConnection::Pg(c) => insert.execute(c)?,
        crate::db::DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    let spent: i64 = upload_budgets::table
        .find((&ip, day))
        .select(upload_budgets::bytes)
        .first(conn)?;
    if u64::try_from(spent).unwrap_or(u64::MAX) > limit {
        let wait = ((day + 1) * DAY_MS - now + 999).div_euclid(1000).max(1) as u64;
        return Err(ApiError::new(
            ErrorCode::UploadBudgetExhausted,
            "今天从这个网络上传的照片已达上限，请明天再试，或不带照片提交",
            "Today's photo upload allowance for this network is used up; try tomorrow or submit without photos",
        )
        .retry_after(wait));
    }
    Ok(())
}

/// Stores a public copy; `expires_at` `None` for a copy already referenced (a device's proof
/// photo copied inside the resolution's transaction).
fn insert(
    conn: &mut crate::db::DbConnection,
    id: &str,
    format: ImageFormat,
    clean: &[u8],
    now: i64,
    expires_at: Option<i64>,
) -> Result<(), ApiError> {
    diesel::insert_into(uploads::table)
        .values((
            uploads::id.eq(id),
            uploads::content_type.eq(format.content_type()),
            uploads::size_bytes.eq(clean.len() as i64),
            uploads::data.eq(clean),
            uploads::created_at.eq(now),
            uploads::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Why a photo could not become a public copy.
#[derive(Debug)]
pub enum CopyError {
    /// The bytes are not an image we read.
    Image(ImageError),
    /// The database refused.
    Db(ApiError),
}

/// Stores the public copy of a staff photo kept elsewhere as evidence (a device attachment):
/// the allow-listed parts only, cut at the end of the image; returns the new upload's id. Call
/// it inside the transaction that references the copy: it never expires.
pub fn store_public_copy(
    conn: &mut crate::db::DbConnection,
    original: &[u8],
    now: i64,
) -> Result<String, CopyError> {
    let (format, clean) = public_copy(original, Trailing::Cut).map_err(CopyError::Image)?;
    let id = uuid::Uuid::new_v4().to_string();
    insert(conn, &id, format, &clean, now, None).map_err(CopyError::Db)?;
    Ok(id)
}

/// Marks uploads as referenced (by a complaint or a resolution, in the caller's transaction) so
/// they are never cleaned up; 422 `unknown_upload` when an id names no upload (never uploaded,
/// or already deleted as unreferenced). On PostgreSQL the update locks the rows, so a
/// concurrent clean-up either finds them referenced or deleted them first and this refuses.
pub fn claim(conn: &mut crate::db::DbConnection, ids: &[String]) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut distinct = ids.to_vec();
    distinct.sort();
    distinct.dedup();
    let n = diesel::update(uploads::table.filter(uploads::id.eq_any(&distinct)))
        .set(uploads::expires_at.eq(None::<i64>))
        .execute(conn)?;
    if n != distinct.len() {
        return Err(unknown_upload());
    }
    Ok(())
}

/// 422 `unknown_upload` on `photos`: an id names no upload (never uploaded, or deleted as
/// unreferenced).
fn unknown_upload() -> ApiError {
    FieldError::new(
        "photos",
        FieldCode::UnknownUpload,
        "照片未上传或已失效",
        "A photo id names no upload",
    )
    .into()
}

/// Checks, without claiming them, that every id of `ids` names an upload: 422
/// `unknown_upload` otherwise (as [`claim`] answers). Read-only.
pub fn check(conn: &mut crate::db::DbConnection, ids: &[String]) -> Result<(), ApiError> {
    let mut distinct = ids.to_vec();
    distinct.sort();
    distinct.dedup();
    let found: i64 = uploads::table
        .filter(uploads::id.eq_any(&distinct))
        .count()
        .get_result(conn)?;
    if found != distinct.len() as i64 {
        return Err(unknown_upload());
    }
    Ok(())
}

/// What one clean-up batch deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cleaned {
    /// Unreferenced uploads.
    pub uploads: usize,
    /// Budget counts of days before yesterday.
    pub budgets: usize,
}

/// One clean-up batch: deletes up to [`CLEANUP_BATCH`] unreferenced uploads whose time has
/// come and as many old budget counts, in one short write transaction. Reads only the index of
/// due uploads (and the budgets' day index).
pub fn cleanup_batch(
    db: &crate::db::Db,
    conn: &mut crate::db::DbConnection,
    now: i64,
) -> Result<Cleaned, ApiError> {
    let due: Vec<String> = uploads::table
        .filter(uploads::expires_at.le(now))
        .order(uploads::expires_at.asc())
        .limit(CLEANUP_BATCH)
        .select(uploads::id)
        .load(conn)?;
    let old_day = now.div_euclid(DAY_MS) - 1;
    let old_ips: Vec<String> = upload_budgets::table
        .filter(upload_budgets::day.lt(old_day))
        .limit(CLEANUP_BATCH)
        .select(upload_budgets::ip)
        .load(conn)?;
    if due.is_empty() && old_ips.is_empty() {
        return Ok(Cleaned::default());
    }
    db.background_tx(conn, |conn| {
        // Checked again in the delete: a complaint may have claimed one since the read.
        let uploads = diesel::delete(
            uploads::table
                .filter(uploads::id.eq_any(&due))
                .filter(uploads::expires_at.le(now)),
        )
        .execute(conn)?;
        let budgets = diesel::delete(
            upload_budgets::table
                .filter(upload_budgets::day.lt(old_day))
                .filter(upload_budgets::ip.eq_any(&old_ips)),
        )
        .execute(conn)?;
        Ok(Cleaned { uploads, budgets })
    })
}

/// Deletes every due upload (and old budget count) now, batch after batch; returns how many
/// uploads went. For the worker and for tests.
pub async fn cleanup_due(state: &AppState) -> Result<usize, ApiError> {
    let mut total = 0;
    loop {
        let now = state.clock.now_ms();
        let db = state.db.clone();
        let done = state
            .db
            .run(move |conn| cleanup_batch(&db, conn, now))
            .await?;
        if done == Cleaned::default() {
            return Ok(total);
        }
        total += done.uploads;
        // Between batches the write lock is free for requests.
        tokio::task::yield_now().await;
    }
}

/// The background job: every `interval`, delete what is due.
pub async fn cleanup_worker(state: AppState, interval: std::time::Duration) {
    loop {
        match cleanup_due(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "unreferenced uploads deleted"),
            Err(e) => tracing::warn!(error = %e, "upload clean-up failed; retrying later"),
        }
        tokio::time::sleep(interval).await;
    }
}

/// `GET /api/v1/uploads/{id}`.
#[utoipa::path(get, path = "/api/v1/uploads/{id}", tag = "complaints", params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "The image bytes", content((ImageBytes = "image/jpeg"), (ImageBytes = "image/png"), (ImageBytes = "image/webp")))))]
pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<UploadId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().to_string();
    let row: Option<(String, Vec<u8>)> = state
        .db
        .run(move |conn| {
            Ok(uploads::table
                .find(&id)
                .select((uploads::content_type, uploads::data))
                .first(conn)
                .optional()?)
        })
        .await?;
    let (ct, data) = row.ok_or_else(upload_not_found)?;
    Ok(HttpResponse::Ok()
        .content_type(ct)
        .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(data))
}

fn upload_not_found() -> ApiError {
    ApiError::new(ErrorCode::UploadNotFound, "找不到该图片", "No such upload")
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, get))]
pub struct ApiDoc;
