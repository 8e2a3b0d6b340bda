//! Accounts' login: argon2id passwords, short-lived access JWTs, rotating refresh tokens with
//! re-use detection, throttled failures, and the [`Principal`] extractor with its role and unit
//! checks.

pub mod handlers;
pub mod password;
pub mod principal;
pub mod role;
pub mod scope;
pub mod session;
pub mod throttle;
pub mod token;

use actix_web::web;
use diesel::prelude::*;

pub use principal::{Authed, Principal, RolePolicy, policy};
pub use role::Role;

use crate::db::DbConnection;
use crate::db::schema::app_settings;
use crate::error::ApiError;

/// Mounts the auth endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/auth/login", web::post().to(handlers::login))
        .route("/api/v1/auth/refresh", web::post().to(handlers::refresh))
        .route("/api/v1/auth/logout", web::post().to(handlers::logout))
        .route("/api/v1/me", web::get().to(handlers::me))
        .route(
            "/api/v1/me/password",
            web::post().to(handlers::change_password),
        );
}

/// The JWT signing secret: `configured` when given; otherwise the one stored in the database,
/// created on first start. Two processes starting together agree on one secret.
pub fn signing_secret(
    conn: &mut DbConnection,
    configured: Option<&str>,
) -> Result<String, ApiError> {
    if let Some(s) = configured {
        return Ok(s.to_string());
    }
    const KEY: &str = "jwt_secret";
    let existing: Option<String> = app_settings::table
        .find(KEY)
        .select(app_settings::value)
        .first(conn)
        .optional()?;
    if let Some(s) = existing {
        return Ok(s);
    }
    let fresh = token::new_secret();
    let inserted = diesel::insert_into(app_settings::table)
        .values((app_settings::key.eq(KEY), app_settings::value.eq(&fresh)))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(fresh),
        // Another process stored one first: use theirs.
        Err(_) => Ok(app_settings::table
            .find(KEY)
            .select(app_settings::value)
            .first(conn)?),
    }
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::login,
    handlers::refresh,
    handlers::logout,
    handlers::me,
    handlers::change_password
))]
pub struct ApiDoc;
