//! Photos as content-addressed attachments: stored by their SHA-256, verified on upload,
//! idempotent. The bytes are kept as uploaded, so inspection photos keep their EXIF location
//! (it is evidence); they are served only to staff who uploaded them or who see a record that
//! references them ([`access::PhotoAccess`], sync's rule), never on a public page. To anyone else a stored photo
//! looks exactly like a missing one.

pub mod access;
pub mod image;
pub mod schema;
pub mod thumbnail;
pub mod uploads;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::attachments::access::PhotoAccess;
use crate::attachments::schema::{attachment_uploaders, attachments};
use crate::auth::Principal;
use crate::auth::scope::scope_of;
use crate::error::{ApiError, ErrorCode};
use crate::http::read_body;
use crate::state::AppState;

/// The largest photo (10 MB).
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// The most hashes one `missing` query may ask about.
pub const MAX_MISSING_QUERY: usize = 1000;

/// Mounts the attachment endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/attachments/missing", web::post().to(missing))
        .route("/api/v1/attachments/{sha256}", web::put().to(put))
        .route("/api/v1/attachments/{sha256}", web::get().to(get))
        .route(
            "/api/v1/attachments/{sha256}/thumbnail",
            web::get().to(thumbnail::get),
        );
}

/// Whether `s` is a lowercase hex SHA-256 digest.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::AttachmentNotFound,
        "服务器上没有该照片",
        "No attachment with this hash",
    )
}

fn invalid_hash() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidSha256,
        "照片编号应为 64 位小写十六进制 SHA-256",
        "the path must be a lowercase hex SHA-256 (64 characters)",
    )
}

/// The image type of `bytes` by their magic numbers: JPEG, PNG or WebP.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// `PUT /api/v1/attachments/{sha256}`: stores the bytes if they hash to the path → 201, or
/// 200 when already stored; 422 `hash_mismatch`, 415 `unsupported_media_type`, 413 beyond
/// 10 MB.
#[utoipa::path(put, path = "/api/v1/attachments/{sha256}", tag = "attachments", params(("sha256" = String, Path)), request_body(content = Vec<u8>, description = "JPEG, PNG or WebP, ≤ 10 MB", content_type = "application/octet-stream"), responses((status = 201, description = "stored", body = Stored), (status = 200, description = "already stored", body = Stored), (status = 422, description = "hash_mismatch"), (status = 415, description = "unsupported_media_type"), (status = 413, description = "payload_too_large")), security(("bearer" = [])))]
pub async fn put(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let hash = path.into_inner();
    if !is_sha256(&hash) {
        return Err(invalid_hash());
    }
    let bytes = read_body(payload, MAX_BYTES).await?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != hash {
        return Err(ApiError::new(
            ErrorCode::HashMismatch,
            "照片内容与其 SHA-256 编号不符",
            "the bytes do not hash to the SHA-256 in the path",
        )
        .with("actual", serde_json::json!(actual)));
    }
    let content_type = sniff(&bytes).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "只接受 JPEG、PNG 或 WebP 图片",
            "only JPEG, PNG or WebP images are accepted",
        )
    })?;
    let now = state.clock.now_ms();
    let created = state
        .db
        .write(move |conn| {
            // Whoever sends the bytes has the photo: they may see it from now on. In a savepoint:
            // a repeated upload's unique violation must not abort the write transaction
            // (PostgreSQL refuses every later statement of an aborted one).
            let uploader = conn.transaction(|conn| {
                diesel::insert_into(attachment_uploaders::table)
                    .values((
                        attachment_uploaders::sha256.eq(&hash),
                        attachment_uploaders::user_id.eq(&principal.user_id),
                        attachment_uploaders::created_at.eq(now),
                    ))
                    .execute(conn)
            });
            match uploader {
                Ok(_)
                | Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => {}
                Err(e) => return Err(e.into()),
            }
            let exists: i64 = attachments::table
                .filter(attachments::sha256.eq(&hash))
                .count()
                .get_result(conn)?;
            if exists > 0 {
                return Ok(false);
            }
            let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
            let inserted = conn.transaction(|conn| {
                diesel::insert_into(attachments::table)
                    .values((
                        attachments::sha256.eq(&hash),
                        attachments::size.eq(size),
                        attachments::content_type.eq(content_type),
                        attachments::bytes.eq(&bytes),
                        attachments::uploaded_by.eq(&principal.user_id),
                        attachments::created_at.eq(now),
                    ))
                    .execute(conn)
            });
            match inserted {
                Ok(_) => Ok(true),
                // The same photo uploaded twice at once: one of them stored it.
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(Stored {
        sha256: actual,
        stored: true,
    }))
}

/// `GET /api/v1/attachments/{sha256}`: the bytes, to the staff who uploaded them or who see
/// a live record that references them; 404 `attachment_not_found` to everyone else, the same
/// answer as for a photo that is not stored.
#[utoipa::path(get, path = "/api/v1/attachments/{sha256}", tag = "attachments", params(("sha256" = String, Path)), responses((status = 200, description = "the bytes as uploaded", content((PhotoBytes = "image/jpeg"), (PhotoBytes = "image/png"), (PhotoBytes = "image/webp"))), (status = 404, description = "attachment_not_found: not stored, or not yours to see")), security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    access: web::Data<Arc<dyn PhotoAccess>>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let hash = path.into_inner();
    if !is_sha256(&hash) {
        return Err(invalid_hash());
    }
    let row: Option<(String, Vec<u8>)> = state
        .db
        .run(move |conn| {
            let scope = scope_of(conn, &principal)?;
            if !access.may_see(conn, &principal.user_id, &scope, &hash)? {
                return Ok(None);
            }
            Ok(attachments::table
                .find(&hash)
                .select((attachments::content_type, attachments::bytes))
                .first(conn)
                .optional()?)
        })
        .await?;
    let (content_type, bytes) = row.ok_or_else(not_found)?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "private, max-age=31536000, immutable"))
        .body(bytes))
}

/// Body of a `missing` query.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MissingQuery {
    /// Hashes the device holds or references.
    pub hashes: Vec<String>,
}

/// `POST /api/v1/attachments/missing {hashes}` → `{missing}`: which of these the caller should
/// upload, i.e. every one the caller cannot fetch (not stored, or stored but neither uploaded
/// by the caller nor referenced by a record in the caller's scope). It tells nothing about
/// other people's photos.
#[utoipa::path(post, path = "/api/v1/attachments/missing", tag = "attachments", request_body(content = MissingQuery, description = "{hashes: [sha256]}", content_type = "application/json"), responses((status = 200, description = "the hashes the caller cannot fetch", body = Missing)), security(("bearer" = [])))]
pub async fn missing(
    state: web::Data<AppState>,
    access: web::Data<Arc<dyn PhotoAccess>>,
    principal: Principal,
    body: web::Json<MissingQuery>,
) -> Result<HttpResponse, ApiError> {
    let hashes = body.into_inner().hashes;
    if hashes.len() > MAX_MISSING_QUERY {
        return Err(ApiError::new(
            ErrorCode::TooManyHashes,
            format!("每次最多查询 {MAX_MISSING_QUERY} 个"),
            format!("at most {MAX_MISSING_QUERY} hashes per query"),
        ));
    }
    if hashes.iter().any(|h| !is_sha256(h)) {
        return Err(invalid_hash());
    }
    let missing = state
        .db
        .run(move |conn| {
            let scope = scope_of(conn, &principal)?;
            let have = access.visible(conn, &principal.user_id, &scope, &hashes)?;
            let mut missing: Vec<String> =
                hashes.into_iter().filter(|h| !have.contains(h)).collect();
            missing.sort();
            missing.dedup();
            Ok(missing)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Missing { missing }))
}

/// The answer of an upload: the photo is stored under its hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AttachmentStored)]
pub struct Stored {
    /// The SHA-256 the bytes hash to (the path's).
    pub sha256: String,
    /// Always true.
    pub stored: bool,
}

/// `POST /api/v1/attachments/missing`: the hashes the caller cannot fetch, sorted, once each.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Missing {
    /// Lowercase SHA-256 hex digests.
    pub missing: Vec<String>,
}

/// The OpenAPI schema of a photo or thumbnail download: the image's bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PhotoBytes(pub Vec<u8>);

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(put, get, missing, thumbnail::get))]
pub struct ApiDoc;
