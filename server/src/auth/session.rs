//! Sessions: a login creates a refresh-token family; each refresh spends one token and issues
//! the next in the same family; presenting a spent token revokes the whole family (someone
//! copied it). Password changes and disabling an account bump the token version and revoke
//! every family. A family ends [`SESSION_MAX_MS`] after its login however often it is
//! refreshed (an absolute lifetime on top of the sliding one).

use diesel::prelude::*;
use serde::Serialize;

use crate::auth::token::{self, JwtKeys, REFRESH_TTL_MS, SESSION_MAX_MS};
use crate::db::DbConnection;
use crate::db::schema::{refresh_tokens, users};
use crate::error::ApiError;

/// What a login or refresh answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    /// Bearer token for API calls, valid `expires_in` seconds.
    pub access_token: String,
    /// Opaque token for `POST /api/v1/auth/refresh`; single use.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token is valid.
    pub expires_in: i64,
    /// The account.
    pub user: UserView,
}

/// The account as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// User id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role.
    pub role: String,
    /// Unit id, if any.
    pub unit_id: Option<String>,
}

/// Loads the view of a user.
pub fn user_view(conn: &mut DbConnection, user_id: &str) -> Result<UserView, ApiError> {
    let (id, username, display_name, role, unit_id) = users::table
        .find(user_id)
        .select((
            users::id,
            users::username,
            users::display_name,
            users::role,
            users::unit_id,
        ))
        .first::<(String, String, String, String, Option<String>)>(conn)?;
    Ok(UserView {
        id,
        username,
        display_name,
        role,
        unit_id,
    })
}

fn insert_refresh(
    conn: &mut DbConnection,
    family_id: &str,
    user_id: &str,
    device_id: Option<&str>,
    session_started_at: i64,
    now_ms: i64,
) -> Result<String, ApiError> {
    let token = token::new_refresh_token();
    let expires_at = (now_ms + REFRESH_TTL_MS).min(session_started_at + SESSION_MAX_MS);
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(uuid::Uuid::now_v7().to_string()),
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::device_id.eq(device_id),
            refresh_tokens::token_hash.eq(token::hash_token(&token)),
            refresh_tokens::created_at.eq(now_ms),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(token)
}

fn pair(
    conn: &mut DbConnection,
    keys: &JwtKeys,
    user_id: &str,
    device_id: Option<&str>,
    refresh_token: String,
    now_ms: i64,
) -> Result<TokenPair, ApiError> {
    let tv: i32 = users::table
        .find(user_id)
        .select(users::token_version)
        .first(conn)?;
    let access_token = keys
        .issue(user_id, tv, device_id, now_ms)
        .map_err(ApiError::internal)?;
    Ok(TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: token::ACCESS_TTL_SECONDS,
        user: user_view(conn, user_id)?,
    })
}

/// Starts a new session (a new refresh family) for a user who has proved their password.
pub fn start(
    conn: &mut DbConnection,
    keys: &JwtKeys,
    user_id: &str,
    device_id: Option<&str>,
    now_ms: i64,
) -> Result<TokenPair, ApiError> {
    conn.transaction(|conn| {
        let family = uuid::Uuid::now_v7().to_string();
        let refresh = insert_refresh(conn, &family, user_id, device_id, now_ms, now_ms)?;
        pair(conn, keys, user_id, device_id, refresh, now_ms)
    })
}

/// The result of presenting a refresh token.
pub enum Refreshed {
    /// A new pair; the presented token is spent.
    Ok(Box<TokenPair>),
    /// Unknown, expired (also past the session's absolute lifetime), or belonging to a
    /// disabled account.
    Invalid,
    /// Already spent: the whole family has been revoked.
    Reused,
    /// Bound to a revoked device.
    DeviceRevoked,
}

/// Spends `presented` and issues the next token of its family. Commits the family's
/// revocation when a spent token is presented.
pub fn refresh(
    conn: &mut DbConnection,
    keys: &JwtKeys,
    presented: &str,
    now_ms: i64,
) -> Result<Refreshed, ApiError> {
    use crate::db::schema::devices;
    conn.transaction(|conn| {
        type Row = (
            String,
            String,
            String,
            Option<String>,
            i64,
            Option<i64>,
            Option<i64>,
        );
        let row: Option<Row> = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token::hash_token(presented)))
            .select((
                refresh_tokens::id,
                refresh_tokens::family_id,
                refresh_tokens::user_id,
                refresh_tokens::device_id,
                refresh_tokens::expires_at,
                refresh_tokens::used_at,
                refresh_tokens::revoked_at,
            ))
            .first(conn)
            .optional()?;
        let Some((id, family, user_id, device_id, expires_at, used_at, revoked_at)) = row else {
            return Ok(Refreshed::Invalid);
        };
        if revoked_at.is_some() {
            return Ok(Refreshed::Invalid);
        }
        if used_at.is_some() {
            revoke_family(conn, &family, now_ms)?;
            return Ok(Refreshed::Reused);
        }
        if expires_at <= now_ms {
            return Ok(Refreshed::Invalid);
        }
        // The family's first token was issued at its login (tokens are never deleted).
        let started: Option<i64> = refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(&family))
            .select(diesel::dsl::min(refresh_tokens::created_at))
            .first(conn)?;
        let started = started.unwrap_or(now_ms);
        if started + SESSION_MAX_MS <= now_ms {
            revoke_family(conn, &family, now_ms)?;
            return Ok(Refreshed::Invalid);
        }
        let disabled: bool = users::table
            .find(&user_id)
            .select(users::disabled)
            .first(conn)?;
        if disabled {
            return Ok(Refreshed::Invalid);
        }
        if let Some(device) = &device_id {
            let revoked: Option<i64> = devices::table
                .find(device)
                .select(devices::revoked_at)
                .first(conn)?;
            if revoked.is_some() {
                return Ok(Refreshed::DeviceRevoked);
            }
        }
        // Spend it; a concurrent refresh with the same token loses this race and is re-use.
        let spent = diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::id.eq(&id))
                .filter(refresh_tokens::used_at.is_null()),
        )
        .set(refresh_tokens::used_at.eq(now_ms))
        .execute(conn)?;
        if spent != 1 {
            revoke_family(conn, &family, now_ms)?;
            return Ok(Refreshed::Reused);
        }
        let next = insert_refresh(
            conn,
            &family,
            &user_id,
            device_id.as_deref(),
            started,
            now_ms,
        )?;
        Ok(Refreshed::Ok(Box::new(pair(
            conn,
            keys,
            &user_id,
            device_id.as_deref(),
            next,
            now_ms,
        )?)))
    })
}

/// Revokes every token of a family.
pub fn revoke_family(conn: &mut DbConnection, family: &str, now_ms: i64) -> Result<(), ApiError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now_ms))
    .execute(conn)?;
    Ok(())
}

/// Logs out the session `presented` belongs to. Unknown tokens are ignored (logout is
/// idempotent).
pub fn logout(conn: &mut DbConnection, presented: &str, now_ms: i64) -> Result<(), ApiError> {
    let family: Option<String> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token::hash_token(presented)))
        .select(refresh_tokens::family_id)
        .first(conn)
        .optional()?;
    if let Some(family) = family {
        revoke_family(conn, &family, now_ms)?;
    }
    Ok(())
}

/// Cuts every session of a user off: bumps the token version (access tokens stop working at
/// once) and revokes all refresh tokens.
pub fn cut_off_user(conn: &mut DbConnection, user_id: &str, now_ms: i64) -> Result<(), ApiError> {
    diesel::update(users::table.find(user_id))
        .set((
            users::token_version.eq(users::token_version + 1),
            users::updated_at.eq(now_ms),
        ))
        .execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now_ms))
    .execute(conn)?;
    Ok(())
}
