//! Photo uploads: `POST /api/v1/uploads` (raw bytes, ≤ 10 MB, JPEG/PNG/WebP by content, metadata
//! stripped before storing) and `GET /api/v1/uploads/{id}`. Stored in the database so every
//! server process behind a balancer serves every photo.

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

use super::image::{ImageError, sanitize};
use super::ratelimit::IntakeLimiter;
use super::schema::uploads;

/// Largest accepted upload.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// `POST /api/v1/uploads`.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "complaints", request_body(content = Vec<u8>, content_type = "image/jpeg"), responses((status = 201, description = "Stored without metadata: {id, url, content_type, bytes}; 415 unsupported_image, 422 damaged_image, 413")))]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "empty_upload",
            "没有收到图片",
            "The upload is empty",
        ));
    }
    if body.len() > MAX_UPLOAD_BYTES {
        return Err(crate::http::payload_too_large());
    }
    if let Some(ip) = req.peer_addr().map(|a| a.ip()) {
        // Six photos per complaint, so six times the intake limit.
        let scope = format!("uploads {}", state.config.database_url);
        IntakeLimiter::global().check(
            &scope,
            ip,
            state.config.intake_per_minute.saturating_mul(6),
            state.clock.now_ms(),
        )?;
    }
    let (format, clean) = sanitize(&body).map_err(|e| match e {
        ImageError::UnsupportedFormat => ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_image",
            "只能上传 JPEG、PNG 或 WebP 图片",
            "Only JPEG, PNG or WebP images are accepted",
        ),
        ImageError::Malformed => ApiError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "damaged_image",
            "图片文件已损坏",
            "The image file is damaged",
        ),
    })?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = state.clock.now_ms();
    let size = clean.len() as i64;
    let ct = format.content_type();
    let id2 = id.clone();
    state
        .db
        .write(move |conn| {
            diesel::insert_into(uploads::table)
                .values((
                    uploads::id.eq(&id2),
                    uploads::content_type.eq(ct),
                    uploads::size_bytes.eq(size),
                    uploads::data.eq(&clean),
                    uploads::created_at.eq(now),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(json!({
        "id": id,
        "url": crate::tickets::store::photo_url(&id),
        "content_type": ct,
        "bytes": size,
    })))
}

/// `GET /api/v1/uploads/{id}`.
#[utoipa::path(get, path = "/api/v1/uploads/{id}", tag = "complaints", params(("id" = String, Path)), responses((status = 200, description = "The image bytes")))]
pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(upload_not_found());
    }
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
    ApiError::not_found("upload_not_found", "找不到该图片", "No such upload")
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, get))]
pub struct ApiDoc;
