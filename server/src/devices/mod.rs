//! Field devices (外业终端): a device registers under its user's login and gets its id; an
//! administrator or the owner can revoke a lost device, after which it can neither push, pull
//! nor refresh its session (the foundation binds refresh tokens to devices and checks
//! revocation in the `Principal` extractor and on refresh; sync checks it on push and pull).

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Principal;
use crate::auth::Role;
use crate::db::schema::devices;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Mounts the device endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/devices", web::post().to(register))
        .route("/api/v1/devices", web::get().to(list))
        .route("/api/v1/devices/{id}/revoke", web::post().to(revoke));
}

/// Body of a registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// A name the user recognises, e.g. "张工的平板" (1-100 characters).
    pub name: String,
    /// e.g. `android`, `ios`, `linux`.
    #[serde(default)]
    pub platform: Option<String>,
}

/// A device as listed.
#[derive(Debug, Serialize, Queryable, utoipa::ToSchema)]
pub struct DeviceView {
    /// Device id.
    pub device_id: String,
    /// Owner.
    pub user_id: String,
    /// Name.
    pub name: String,
    /// Platform.
    #[schema(required = true)]
    pub platform: Option<String>,
    /// Registered (ms since the epoch).
    pub registered_at: i64,
    /// Last push or pull (ms since the epoch).
    #[schema(required = true)]
    pub last_seen_at: Option<i64>,
    /// Revoked (ms since the epoch).
    #[schema(required = true)]
    pub revoked_at: Option<i64>,
}

/// What a registration answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    /// The new device's id, to send with every push and pull.
    pub device_id: String,
    /// Its name, trimmed.
    pub name: String,
    /// Registered (ms since the epoch).
    pub registered_at: i64,
}

/// `POST /api/v1/devices`: registers a device of the logged-in user → 201
/// `{device_id, name, registered_at}`.
#[utoipa::path(post, path = "/api/v1/devices", tag = "devices", request_body(content = Register, description = "{name, platform?}", content_type = "application/json"), responses((status = 201, description = "{device_id, name, registered_at}", body = Registered)), security(("bearer" = [])))]
pub async fn register(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<Register>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let name = body.name.trim().to_owned();
    let chars = name.chars().count();
    if chars == 0 || chars > 100 {
        return Err(ApiError::new(
            ErrorCode::InvalidDeviceName,
            "设备名称应为 1 到 100 个字",
            "device name must be 1 to 100 characters",
        ));
    }
    if body
        .platform
        .as_ref()
        .is_some_and(|p| p.chars().count() > 50)
    {
        return Err(ApiError::new(
            ErrorCode::InvalidPlatform,
            "平台名称最多 50 个字",
            "platform must be at most 50 characters",
        ));
    }
    let now = state.clock.now_ms();
    let id = Uuid::now_v7().to_string();
    let (id2, name2) = (id.clone(), name.clone());
    state
        .db
        .write(move |conn| {
            diesel::insert_into(devices::table)
                .values((
                    devices::id.eq(&id2),
                    devices::user_id.eq(&principal.user_id),
                    devices::name.eq(&name2),
                    devices::platform.eq(body.platform),
                    devices::registered_at.eq(now),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(Registered {
        device_id: id,
        name,
        registered_at: now,
    }))
}

/// `GET /api/v1/devices`: the caller's devices (admin: every device).
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices", responses((status = 200, description = "the caller's devices (admin: all), oldest first", body = Vec<DeviceView>)), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let rows = state
        .db
        .run(move |conn| {
            let mut q = devices::table.into_boxed();
            if principal.role != Role::Admin {
                q = q.filter(devices::user_id.eq(principal.user_id));
            }
            Ok(q.order(devices::registered_at.asc())
                .select((
                    devices::id,
                    devices::user_id,
                    devices::name,
                    devices::platform,
                    devices::registered_at,
                    devices::last_seen_at,
                    devices::revoked_at,
                ))
                .load::<DeviceView>(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// `POST /api/v1/devices/{id}/revoke`: admin or the owner. The device can no longer push,
/// pull or refresh (a refresh bound to it answers 403 `device_revoked`, so the device can tell
/// the user plainly). Revoking twice is harmless.
#[utoipa::path(post, path = "/api/v1/devices/{id}/revoke", tag = "devices", params(("id" = uuid::Uuid, Path)), responses((status = 200, description = "the revoked device", body = DeviceView), (status = 404, description = "device_not_found")), security(("bearer" = [])))]
pub async fn revoke(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let now = state.clock.now_ms();
    let view = state
        .db
        .write(move |conn| {
            conn.transaction(|conn| {
                let owner: Option<String> = devices::table
                    .find(&id)
                    .select(devices::user_id)
                    .first(conn)
                    .optional()?;
                let not_found =
                    || ApiError::new(ErrorCode::DeviceNotFound, "找不到该设备", "No such device");
                let owner = owner.ok_or_else(not_found)?;
                if owner != principal.user_id && principal.role != Role::Admin {
                    return Err(not_found());
                }
                diesel::update(
                    devices::table
                        .find(&id)
                        .filter(devices::revoked_at.is_null()),
                )
                .set(devices::revoked_at.eq(Some(now)))
                .execute(conn)?;
                Ok(devices::table
                    .find(&id)
                    .select((
                        devices::id,
                        devices::user_id,
                        devices::name,
                        devices::platform,
                        devices::registered_at,
                        devices::last_seen_at,
                        devices::revoked_at,
                    ))
                    .first::<DeviceView>(conn)?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(register, list, revoke))]
pub struct ApiDoc;
