//! Retries of one submission (the same `Idempotency-Key`): the key as sent, and the answer
//! stored with it, answered again to a retry of the same body and refused for a different one.

use actix_web::HttpRequest;
use diesel::prelude::*;
use serde_json::Value;

use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};

use crate::complaints::schema::idempotency_keys;

/// The request's `Idempotency-Key`, if sent; 400 `invalid_idempotency_key` unless it is 1-128
/// visible characters.
pub(super) fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
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
pub(super) fn stored_answer(
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
