//! API keys for machine clients (Open311 `api_key`): made by `anju apikey create`, shown once,
//! stored only as SHA-256.

use diesel::prelude::*;

use crate::auth::token::hash_token;
use crate::db::DbConnection;
use crate::db::schema::api_keys;
use crate::error::ApiError;

/// Creates a key named `name`; returns (id, the key). The key is not stored and cannot be shown
/// again.
pub fn create(
    conn: &mut DbConnection,
    name: &str,
    now_ms: i64,
) -> Result<(String, String), ApiError> {
    let key = format!("anju_{}", crate::auth::token::new_refresh_token());
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::id.eq(&id),
            api_keys::name.eq(name),
            api_keys::key_hash.eq(hash_token(&key)),
            api_keys::created_at.eq(now_ms),
        ))
        .execute(conn)?;
    Ok((id, key))
}

/// The id and name of the live key `presented`, if any.
pub fn verify(
    conn: &mut DbConnection,
    presented: &str,
) -> Result<Option<(String, String)>, ApiError> {
    Ok(api_keys::table
        .filter(api_keys::key_hash.eq(hash_token(presented)))
        .filter(api_keys::revoked_at.is_null())
        .select((api_keys::id, api_keys::name))
        .first(conn)
        .optional()?)
}

/// Revokes a key by id; returns whether one was live.
pub fn revoke(conn: &mut DbConnection, id: &str, now_ms: i64) -> Result<bool, ApiError> {
    let n = diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(now_ms))
    .execute(conn)?;
    Ok(n == 1)
}
