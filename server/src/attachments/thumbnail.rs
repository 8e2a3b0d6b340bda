//! `GET /api/v1/attachments/{sha256}/thumbnail`: a small JPEG of a stored photo for the
//! register record page, under the same rule as the photo itself (the uploaders and the staff
//! who see a live record referencing it; 404 to everyone else). Made on the first request by
//! decoding and re-encoding (so no EXIF, no GPS position survives), then kept in
//! `attachment_thumbnails` next to the photo's bytes.

use std::io::Cursor;
use std::sync::Arc;

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use image::ImageReader;

use super::access::PhotoAccess;
use super::schema::{attachment_thumbnails, attachments};
use super::{invalid_hash, is_sha256, not_found};
use crate::auth::Principal;
use crate::auth::scope::scope_of;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The longer side of a thumbnail, in pixels.
pub const THUMB_EDGE: u32 = 320;
/// The largest photo side the decoder accepts (a bigger one is refused, not decoded).
const MAX_EDGE: u32 = 12_000;
/// The most memory one decode may take.
const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// A JPEG at most [`THUMB_EDGE`] on its longer side, or `None` when the bytes do not decode.
pub fn make(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_EDGE);
    limits.max_image_height = Some(MAX_EDGE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let img = reader.decode().ok()?;
    let small = img.thumbnail(THUMB_EDGE, THUMB_EDGE).into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&small)
        .ok()?;
    Some(out)
}

enum Found {
    Thumb(Vec<u8>),
    Photo(Vec<u8>),
}

fn ok(bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header(("Cache-Control", "private, max-age=31536000, immutable"))
        .insert_header(("Vary", "Authorization"))
        .body(bytes)
}

/// `GET /api/v1/attachments/{sha256}/thumbnail`.
#[utoipa::path(get, path = "/api/v1/attachments/{sha256}/thumbnail", tag = "attachments", params(("sha256" = String, Path)), responses((status = 200, description = "a JPEG at most 320 px on its longer side, Cache-Control private", body = super::PhotoBytes, content_type = "image/jpeg"), (status = 401, description = "not logged in"), (status = 404, description = "attachment_not_found: not stored, or not yours to see"), (status = 422, description = "not_an_image: the stored bytes do not decode")), security(("bearer" = [])))]
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
    let key = hash.clone();
    let found: Option<Found> = state
        .db
        .run(move |conn| {
            let scope = scope_of(conn, &principal)?;
            if !access.may_see(conn, &principal.user_id, &scope, &key)? {
                return Ok(None);
            }
            let thumb: Option<Vec<u8>> = attachment_thumbnails::table
                .find(&key)
                .select(attachment_thumbnails::bytes)
                .first(conn)
                .optional()?;
            if let Some(t) = thumb {
                return Ok(Some(Found::Thumb(t)));
            }
            Ok(attachments::table
                .find(&key)
                .select(attachments::bytes)
                .first(conn)
                .optional()?
                .map(Found::Photo))
        })
        .await?;
    let photo = match found.ok_or_else(not_found)? {
        Found::Thumb(t) => return Ok(ok(t)),
        Found::Photo(p) => p,
    };
    let thumb = web::block(move || make(&photo))
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("thumbnail worker: {e}")))?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotAnImage,
                "该照片无法解码，不能生成缩略图",
                "the stored photo does not decode; no thumbnail can be made",
            )
        })?;
    let now = state.clock.now_ms();
    let stored = thumb.clone();
    state
        .db
        .write(move |conn| {
            // Two first requests at once: one of them stores it, the other's insert is a no-op.
            let r = conn.transaction(|conn| {
                diesel::insert_into(attachment_thumbnails::table)
                    .values((
                        attachment_thumbnails::sha256.eq(&hash),
                        attachment_thumbnails::content_type.eq("image/jpeg"),
                        attachment_thumbnails::bytes.eq(&stored),
                        attachment_thumbnails::created_at.eq(now),
                    ))
                    .execute(conn)
            });
            match r {
                Ok(_)
                | Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => Ok(()),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    Ok(ok(thumb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thumbnail_is_a_small_jpeg_without_the_metadata() {
        let img = image::RgbImage::from_fn(1200, 600, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut png = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let t = make(&png).expect("thumbnail");
        assert!(t.starts_with(&[0xFF, 0xD8, 0xFF]));
        let back = image::load_from_memory(&t).unwrap();
        assert_eq!((back.width(), back.height()), (320, 160));
        assert!(!t.windows(4).any(|w| w == b"Exif"));
        assert!(make(b"not an image at all").is_none());
    }
}
