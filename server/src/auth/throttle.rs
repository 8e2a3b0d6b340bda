//! Failed-login throttling, per account and per IP, kept in the database so every server
//! process sees the same counts. Checked before the password is hashed, so a flood costs no
//! argon2 time.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::login_failures;
use crate::error::ApiError;

/// The window failures are counted in.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failures per account within the window before it is locked for the rest of the window.
pub const PER_ACCOUNT: i64 = 5;
/// Failures per IP address within the window.
pub const PER_IP: i64 = 20;

/// The throttle key of an account.
pub fn account_key(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

/// The throttle key of an IP address.
pub fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// 429 with `Retry-After` when either key has used its failures; `Ok` otherwise.
pub fn check(conn: &mut DbConnection, keys: &[(&str, i64)], now_ms: i64) -> Result<(), ApiError> {
    for (key, limit) in keys {
        let since = now_ms - WINDOW_MS;
        let recent: Vec<i64> = login_failures::table
            .filter(login_failures::throttle_key.eq(*key))
            .filter(login_failures::at.gt(since))
            .select(login_failures::at)
            .order(login_failures::at.desc())
            .limit(*limit)
            .load(conn)?;
        if recent.len() as i64 >= *limit {
            // Free again when the oldest of the last `limit` failures leaves the window.
            let oldest = recent.last().copied().unwrap_or(now_ms);
            let wait_ms = (oldest + WINDOW_MS - now_ms).max(1000);
            return Err(ApiError::too_many(((wait_ms + 999) / 1000) as u64).with(
                "reason",
                serde_json::json!(if key.starts_with("ip:") {
                    "ip"
                } else {
                    "account"
                }),
            ));
        }
    }
    Ok(())
}

/// Records a failure under each key and drops failures older than a day.
pub fn record_failure(conn: &mut DbConnection, keys: &[&str], now_ms: i64) -> Result<(), ApiError> {
    for key in keys {
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::throttle_key.eq(*key),
                login_failures::at.eq(now_ms),
            ))
            .execute(conn)?;
    }
    diesel::delete(login_failures::table.filter(login_failures::at.lt(now_ms - 24 * 3600 * 1000)))
        .execute(conn)?;
    Ok(())
}

/// Forgets an account's failures after a successful login.
pub fn clear(conn: &mut DbConnection, key: &str) -> Result<(), ApiError> {
    diesel::delete(login_failures::table.filter(login_failures::throttle_key.eq(key)))
        .execute(conn)?;
    Ok(())
}
