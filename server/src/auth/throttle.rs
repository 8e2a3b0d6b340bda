//! Failed-login throttling, per account and per IP, kept in the database so every server
//! process sees the same counts. An attempt is reserved before the password is hashed: the
//! reservation is recorded as a failure and counted in one transaction that no other
//! reservation for the same key can interleave with, so N parallel guesses get at most the
//! limit's password checks, and a flood costs no argon2 time. A successful check releases it.

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

/// An attempt reserved by [`reserve`]: the failure rows it wrote, one per key.
#[derive(Debug, Clone)]
pub struct Reservation {
    ids: Vec<i64>,
}

/// Reserves one attempt under every key (with its limit): records it as a failure and, in
/// the same transaction, counts the earlier failures in the window. 429 with `Retry-After`
/// (and nothing recorded) when a key has used its failures. On PostgreSQL the keys are locked
/// (advisory transaction locks, in a fixed order); on SQLite the first statement is the insert,
/// which takes the database's write lock, so reservations are serial on both.
pub fn reserve(
    conn: &mut DbConnection,
    keys: &[(&str, i64)],
    now_ms: i64,
) -> Result<Reservation, ApiError> {
    conn.transaction(|conn| {
        if let DbConnection::Pg(pg) = conn {
            let mut names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
            names.sort_unstable();
            names.dedup();
            for name in names {
                diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind::<diesel::sql_types::Text, _>(name)
                    .execute(pg)?;
            }
        }
        let mut ids = Vec::with_capacity(keys.len());
        for (key, _) in keys {
            let id: i64 = diesel::insert_into(login_failures::table)
                .values((
                    login_failures::throttle_key.eq(*key),
                    login_failures::at.eq(now_ms),
                ))
                .returning(login_failures::id)
                .get_result(conn)?;
            ids.push(id);
        }
        check_excluding(conn, keys, &ids, now_ms)?;
        Ok(Reservation { ids })
    })
}

/// Releases a reservation after a correct password (the attempt was not a failure).
pub fn release(conn: &mut DbConnection, reservation: &Reservation) -> Result<(), ApiError> {
    diesel::delete(login_failures::table.filter(login_failures::id.eq_any(&reservation.ids)))
        .execute(conn)?;
    Ok(())
}

/// 429 with `Retry-After` when either key has used its failures; `Ok` otherwise.
pub fn check(conn: &mut DbConnection, keys: &[(&str, i64)], now_ms: i64) -> Result<(), ApiError> {
    check_excluding(conn, keys, &[], now_ms)
}

fn check_excluding(
    conn: &mut DbConnection,
    keys: &[(&str, i64)],
    own: &[i64],
    now_ms: i64,
) -> Result<(), ApiError> {
    for (key, limit) in keys {
        let since = now_ms - WINDOW_MS;
        let recent: Vec<i64> = login_failures::table
            .filter(login_failures::throttle_key.eq(*key))
            .filter(login_failures::at.gt(since))
            .filter(login_failures::id.ne_all(own))
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

/// Drops failures older than a day (the reserved failure stays recorded).
pub fn forget_old(conn: &mut DbConnection, now_ms: i64) -> Result<(), ApiError> {
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
