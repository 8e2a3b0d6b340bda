//! `POST /api/v1/auth/login`, `/refresh`, `/logout`, `GET /api/v1/me`,
//! `POST /api/v1/me/password`.

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use crate::auth::password::{self, HashSlot};
use crate::auth::principal::{Principal, device_revoked};
use crate::auth::session::{self, Refreshed, TokenPair, UserView};
use crate::auth::throttle;
use crate::db::schema::{devices, units, users};
use crate::error::{ApiError, ErrorCode, FieldCode, FieldError};
use crate::state::AppState;

/// Login body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
    /// Bind the session to this registered device (field devices).
    #[serde(default)]
    pub device_id: Option<String>,
}

/// Refresh or logout body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh.
    pub refresh_token: String,
}

/// Password change body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The current password.
    pub current_password: String,
    /// The new password (at least 10 characters).
    pub new_password: String,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidCredentials,
        "用户名或密码错误",
        "Wrong username or password",
    )
}

/// 503 `server_busy` with `Retry-After`: every hashing thread is busy and the queue is full.
pub fn hashing_busy() -> ApiError {
    ApiError::new(
        ErrorCode::ServerBusy,
        "登录请求过多，请稍后再试",
        "Too many sign-ins at once; please try again shortly",
    )
    .retry_after(2)
}

/// The throttle key of the request's client address.
fn ip_key(req: &HttpRequest) -> String {
    throttle::ip_key(
        &crate::http::client_ip(req).map_or_else(|| "unknown".to_string(), |ip| ip.to_string()),
    )
}

/// Verifies on the bounded hashing threads.
async fn verify_password(
    state: &AppState,
    slot: HashSlot,
    password: String,
    stored: Option<String>,
) -> Result<bool, ApiError> {
    state
        .hasher
        .verify(slot, password, stored)
        .await
        .map_err(ApiError::internal)
}

/// Hashes a new password on the bounded hashing threads; 503 `server_busy` when they are full.
pub async fn hash_password(state: &AppState, password: String) -> Result<String, ApiError> {
    let slot = state.hasher.try_slot().map_err(|_| hashing_busy())?;
    state
        .hasher
        .hash(slot, password)
        .await
        .map_err(ApiError::internal)
}

/// Log in with username and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, description = "invalid_credentials"),
              (status = 429, description = "too_many_requests, with Retry-After"),
              (status = 503, description = "server_busy (the password-hashing queue is full), with Retry-After")))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest {
        username,
        password: pw,
        device_id,
    } = body.into_inner();
    if username.is_empty()
        || username.len() > 64
        || pw.is_empty()
        || pw.len() > password::MAX_PASSWORD_BYTES
    {
        return Err(invalid_credentials());
    }
    // A place in the hashing queue first: refusing costs nothing when it is full.
    let slot = state.hasher.try_slot().map_err(|_| hashing_busy())?;
    let now = state.clock.now_ms();
    let account_key = throttle::account_key(&username);
    let ip_key = ip_key(&req);

    let (ak, ik) = (account_key.clone(), ip_key);
    let name = username.trim().to_string();
    // Through the writer queue (a write: the reservation), so it never waits in SQLite's busy
    // handler behind background work.
    let (user, reservation) = state
        .db
        .write(move |conn| {
            let reservation = throttle::reserve(
                conn,
                &[(&ak, throttle::PER_ACCOUNT), (&ik, throttle::PER_IP)],
                now,
            )?;
            let user: Option<(String, Option<String>, bool)> = users::table
                .filter(users::username.eq(&name))
                .select((users::id, users::password_hash, users::disabled))
                .first(conn)
                .optional()?;
            Ok((user, reservation))
        })
        .await?;

    let stored = user.as_ref().and_then(|(_, h, _)| h.clone());
    let ok = verify_password(&state, slot, pw, stored).await?;
    let now = state.clock.now_ms();
    let Some((user_id, _, disabled)) = user.filter(|_| ok) else {
        // The reserved attempt stays recorded as the failure it was.
        state
            .db
            .write(move |conn| throttle::forget_old(conn, now))
            .await?;
        return Err(invalid_credentials());
    };
    // The right password: the attempt was not a failure, whatever follows. One write turn for
    // that and the session (each turn may wait behind a batch of others' writes).
    let keys = state.keys.clone();
    let pair = state
        .db
        .write(move |conn| {
            throttle::release(conn, &reservation)?;
            // Refusals from here on are answered after the release commits.
            if disabled {
                return Ok(Err(ApiError::new(
                    ErrorCode::AccountDisabled,
                    "该账号已停用",
                    "This account is disabled",
                )));
            }
            if let Some(device) = &device_id {
                let row: Option<(String, Option<i64>)> = devices::table
                    .find(device)
                    .select((devices::user_id, devices::revoked_at))
                    .first(conn)
                    .optional()?;
                match row {
                    Some((owner, None)) if owner == user_id => {}
                    Some((owner, Some(_))) if owner == user_id => return Ok(Err(device_revoked())),
                    _ => {
                        return Ok(Err(ApiError::new(
                            ErrorCode::DeviceNotYours,
                            "该设备不属于此账号",
                            "This device is not registered to this account",
                        )));
                    }
                }
            }
            throttle::clear(conn, &account_key)?;
            session::start(conn, &keys, &user_id, device_id.as_deref(), now).map(Ok)
        })
        .await??;
    Ok(HttpResponse::Ok().json(pair))
}

/// Trade a refresh token for a new pair. The presented token is spent; presenting it again
/// revokes the whole session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, description = "invalid_refresh_token or refresh_token_reused")))]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().refresh_token;
    let keys = state.keys.clone();
    let now = state.clock.now_ms();
    let outcome = state
        .db
        .write(move |conn| session::refresh(conn, &keys, &presented, now))
        .await?;
    match outcome {
        Refreshed::Ok(pair) => Ok(HttpResponse::Ok().json(pair)),
        Refreshed::Invalid => Err(ApiError::new(
            ErrorCode::InvalidRefreshToken,
            "登录已失效，请重新登录",
            "The session has ended; log in again",
        )),
        Refreshed::Reused => Err(ApiError::new(
            ErrorCode::RefreshTokenReused,
            "检测到登录凭证被重复使用，为安全起见已注销该会话，请重新登录",
            "This refresh token was already used; the session was ended for safety. Log in again",
        )),
        Refreshed::DeviceRevoked => Err(device_revoked()),
    }
}

/// End the session a refresh token belongs to.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204)))]
pub async fn logout(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().refresh_token;
    let now = state.clock.now_ms();
    state
        .db
        .write(move |conn| session::logout(conn, &presented, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The logged-in account, with its unit.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = UserView), (status = 401)), security(("bearer" = [])))]
pub async fn me(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, ApiError> {
    let view = state
        .db
        .run(move |conn| {
            let user = session::user_view(conn, &who.user_id)?;
            let unit: Option<(String, String, String, String)> = match &who.unit_id {
                Some(u) => units::table
                    .find(u)
                    .select((units::id, units::code, units::name_zh, units::name_en))
                    .first(conn)
                    .optional()?,
                None => None,
            };
            Ok(json!({
                "id": user.id, "username": user.username, "display_name": user.display_name,
                "role": user.role, "unit_id": user.unit_id, "device_id": who.device_id,
                "unit": unit.map(|(id, code, zh, en)| json!({"id": id, "code": code, "name_zh": zh, "name_en": en})),
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Change one's own password; every session of the account ends.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401, description = "invalid_credentials"), (status = 422),
              (status = 429, description = "too_many_requests (throttled like login), with Retry-After"),
              (status = 503, description = "server_busy, with Retry-After")), security(("bearer" = [])))]
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let ChangePasswordRequest {
        current_password,
        new_password,
    } = body.into_inner();
    if let Err((zh, en)) = password::check_new(&new_password) {
        return Err(FieldError::new("new_password", FieldCode::WeakPassword, zh, en).into());
    }
    if current_password.len() > password::MAX_PASSWORD_BYTES {
        return Err(invalid_credentials());
    }
    // Throttled like a login, under the same account key: a stolen access token must not
    // become a way around the login throttle to guess the password.
    let slot = state.hasher.try_slot().map_err(|_| hashing_busy())?;
    let uid = who.user_id.clone();
    let ik = ip_key(&req);
    let now = state.clock.now_ms();
    let (stored, reservation, account_key) = state
        .db
        .run(move |conn| {
            let (username, stored): (String, Option<String>) = users::table
                .find(&uid)
                .select((users::username, users::password_hash))
                .first(conn)?;
            let ak = throttle::account_key(&username);
            let reservation = throttle::reserve(
                conn,
                &[(&ak, throttle::PER_ACCOUNT), (&ik, throttle::PER_IP)],
                now,
            )?;
            Ok((stored, reservation, ak))
        })
        .await?;
    if !verify_password(&state, slot, current_password, stored).await? {
        return Err(invalid_credentials());
    }
    state
        .db
        .run(move |conn| {
            throttle::release(conn, &reservation)?;
            throttle::clear(conn, &account_key)
        })
        .await?;
    let hash = hash_password(&state, new_password).await?;
    let now = state.clock.now_ms();
    state
        .db
        .write(move |conn| {
            conn.transaction(|conn| {
                diesel::update(users::table.find(&who.user_id))
                    .set(users::password_hash.eq(Some(hash)))
                    .execute(conn)?;
                session::cut_off_user(conn, &who.user_id, now)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
