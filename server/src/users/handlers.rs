//! Account administration: `GET/POST /api/v1/admin/users`, `PATCH /api/v1/admin/users/{id}`,
//! `POST /api/v1/admin/users/{id}/password`. Administrators manage everyone; a unit's
//! administrator manages staff and inspectors of their own unit only.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::auth::Role;
use crate::auth::handlers::hash_password;
use crate::auth::principal::{not_your_unit, role_not_allowed};
use crate::auth::{Authed, Principal, password, policy};
use crate::error::{ApiError, ErrorCode, FieldCode, FieldError};
use crate::http::ids::UserId;
use crate::state::AppState;
use crate::users::{self, AccountView};

/// Query of the account list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this unit's accounts (a unit administrator may only ask for their own).
    pub unit_id: Option<String>,
}

/// Body of account creation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// Login name.
    pub username: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role: admin, supervisor, dispatcher, unit_admin, unit_staff, inspector.
    pub role: String,
    /// Unit id or code (required for unit roles).
    #[serde(default)]
    pub unit: Option<String>,
    /// Initial password (at least 10 characters).
    pub password: String,
}

/// Body of account changes; absent fields stay.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// New display name.
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<String>,
    /// New unit id or code.
    pub unit: Option<String>,
    /// Disable (true) or enable (false); disabling ends every session at once.
    pub disabled: Option<bool>,
}

/// Body of a password reset.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    /// The new password (at least 10 characters).
    pub password: String,
}

fn display_name_error() -> ApiError {
    FieldError::new(
        "display_name",
        FieldCode::InvalidDisplayName,
        "姓名须为 1-64 个字符",
        "A display name is 1-64 characters",
    )
    .into()
}

fn parse_role(s: &str) -> Result<Role, ApiError> {
    Role::parse(s).ok_or_else(|| {
        ApiError::from(
            FieldError::new("role", FieldCode::UnknownRole, "角色无效", "Unknown role").with(
                "valid",
                json!(Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>()),
            ),
        )
    })
}

/// A unit administrator may manage only unit staff and inspectors of their own unit.
fn may_manage(who: &Principal, role: Role, unit_id: Option<&str>) -> Result<(), ApiError> {
    if who.role == Role::Admin {
        return Ok(());
    }
    if !matches!(role, Role::UnitStaff | Role::Inspector) {
        return Err(role_not_allowed());
    }
    if unit_id.is_none() || unit_id != who.unit_id.as_deref() {
        return Err(not_your_unit());
    }
    Ok(())
}

/// List accounts.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", params(ListQuery),
    responses((status = 200, body = [AccountView]), (status = 403)), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    who: Authed<policy::UnitManagement>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let who = who.0;
    let unit = query.into_inner().unit_id;
    let list = state
        .db
        .run(move |conn| {
            let unit = match (who.role, unit) {
                (Role::Admin, u) => u,
                (_, Some(u)) => {
                    who.ensure_unit(conn, &u)?;
                    Some(u)
                }
                (_, None) => who.unit_id.clone(),
            };
            users::list(conn, unit.as_deref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Create an account.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = CreateAccount,
    responses((status = 201, body = AccountView), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    who: Authed<policy::UnitManagement>,
    body: web::Json<CreateAccount>,
) -> Result<HttpResponse, ApiError> {
    let who = who.0;
    let body = body.into_inner();
    let role = parse_role(&body.role)?;
    if let Err((zh, en)) = users::check_username(&body.username) {
        return Err(FieldError::new("username", FieldCode::InvalidUsername, zh, en).into());
    }
    let display_name = body.display_name.trim().to_string();
    if display_name.is_empty() || display_name.chars().count() > 64 {
        return Err(display_name_error());
    }
    if let Err((zh, en)) = password::check_new(&body.password) {
        return Err(FieldError::new("password", FieldCode::WeakPassword, zh, en).into());
    }
    let unit_ref = body.unit.clone();
    let who2 = who.clone();
    let unit_id = state
        .db
        .run(move |conn| {
            let unit_id = match &unit_ref {
                Some(u) => Some(users::unit_id_by_code(conn, u)?),
                None => None,
            };
            may_manage(&who2, role, unit_id.as_deref())?;
            Ok(unit_id)
        })
        .await?;
    let hash = hash_password(&state, body.password).await?;
    let now = state.clock.now_ms();
    let username = body.username;
    let account = state
        .db
        .write(move |conn| {
            let id = users::insert(
                conn,
                &username,
                &display_name,
                role,
                unit_id.as_deref(),
                Some(&hash),
                now,
            )?;
            users::get(conn, &id)
        })
        .await?;
    Ok(HttpResponse::Created().json(account))
}

/// Change an account's name, role, unit or disabled flag.
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", request_body = UpdateAccount, params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = AccountView), (status = 404)), security(("bearer" = [])))]
pub async fn update(
    state: web::Data<AppState>,
    who: Authed<policy::UnitManagement>,
    path: web::Path<UserId>,
    body: web::Json<UpdateAccount>,
) -> Result<HttpResponse, ApiError> {
    use crate::db::schema::users as u;
    use diesel::prelude::*;
    let who = who.0;
    let id = path.into_inner().to_string();
    let body = body.into_inner();
    let new_role = body.role.as_deref().map(parse_role).transpose()?;
    let now = state.clock.now_ms();
    let account = state
        .db
        .write(move |conn| {
            let current = users::get(conn, &id)?.ok_or_else(|| {
                ApiError::new(ErrorCode::UserNotFound, "找不到该用户", "No such user")
            })?;
            let current_role = Role::parse(&current.role).unwrap_or(Role::UnitStaff);
            may_manage(&who, current_role, current.unit_id.as_deref())?;
            let unit_id = match &body.unit {
                Some(code) => Some(users::unit_id_by_code(conn, code)?),
                None => current.unit_id.clone(),
            };
            let role = new_role.unwrap_or(current_role);
            may_manage(&who, role, unit_id.as_deref())?;
            conn.transaction(|conn| {
                if let Some(name) = body.display_name.as_deref().map(str::trim) {
                    if name.is_empty() || name.chars().count() > 64 {
                        return Err(display_name_error());
                    }
                    diesel::update(u::table.find(&id))
                        .set(u::display_name.eq(name))
                        .execute(conn)?;
                }
                let changed_access = role.as_str() != current.role || unit_id != current.unit_id;
                diesel::update(u::table.find(&id))
                    .set((
                        u::role.eq(role.as_str()),
                        u::unit_id.eq(&unit_id),
                        u::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                if changed_access {
                    // Tokens carry no role, but a device's scope changes: start clean.
                    crate::auth::session::cut_off_user(conn, &id, now)?;
                }
                if let Some(d) = body.disabled {
                    users::set_disabled(conn, &id, d, now)?;
                }
                Ok(())
            })?;
            users::get(conn, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(account))
}

/// Set an account's password; its sessions end.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/password", tag = "admin", request_body = SetPassword, params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn set_password(
    state: web::Data<AppState>,
    who: Authed<policy::UnitManagement>,
    path: web::Path<UserId>,
    body: web::Json<SetPassword>,
) -> Result<HttpResponse, ApiError> {
    let who = who.0;
    let id = path.into_inner().to_string();
    let pw = body.into_inner().password;
    if let Err((zh, en)) = password::check_new(&pw) {
        return Err(FieldError::new("password", FieldCode::WeakPassword, zh, en).into());
    }
    let id2 = id.clone();
    state
        .db
        .write(move |conn| {
            let current = users::get(conn, &id2)?.ok_or_else(|| {
                ApiError::new(ErrorCode::UserNotFound, "找不到该用户", "No such user")
            })?;
            let role = Role::parse(&current.role).unwrap_or(Role::UnitStaff);
            may_manage(&who, role, current.unit_id.as_deref())
        })
        .await?;
    let hash = hash_password(&state, pw).await?;
    let now = state.clock.now_ms();
    state
        .db
        .write(move |conn| users::set_password(conn, &id, &hash, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mounts the account endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/admin/users", web::get().to(list))
        .route("/api/v1/admin/users", web::post().to(create))
        .route("/api/v1/admin/users/{id}", web::patch().to(update))
        .route(
            "/api/v1/admin/users/{id}/password",
            web::post().to(set_password),
        );
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, create, update, set_password))]
pub struct ApiDoc;
