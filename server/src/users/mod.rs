//! Staff accounts: created by an administrator (or a unit's administrator for their own unit),
//! by `anju user create`, or by an import (without a password). An account without a password
//! cannot log in until one is set.

pub mod handlers;

use diesel::prelude::*;
use serde::Serialize;

use crate::auth::Role;
use crate::auth::session;
use crate::db::DbConnection;
use crate::db::schema::{units, users};
use crate::error::{ApiError, ErrorCode, FieldCode, FieldError};

/// An account as administrators see it (never the hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    /// User id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role.
    pub role: String,
    /// Unit id.
    pub unit_id: Option<String>,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Whether a password is set (accounts imported from a file have none until set).
    pub has_password: bool,
}

type AccountRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    bool,
    Option<String>,
);

fn view(row: AccountRow) -> AccountView {
    let (id, username, display_name, role, unit_id, disabled, hash) = row;
    AccountView {
        id,
        username,
        display_name,
        role,
        unit_id,
        disabled,
        has_password: hash.is_some(),
    }
}

fn columns() -> (
    users::id,
    users::username,
    users::display_name,
    users::role,
    users::unit_id,
    users::disabled,
    users::password_hash,
) {
    (
        users::id,
        users::username,
        users::display_name,
        users::role,
        users::unit_id,
        users::disabled,
        users::password_hash,
    )
}

/// Accounts, optionally of one unit, by username.
pub fn list(conn: &mut DbConnection, unit_id: Option<&str>) -> Result<Vec<AccountView>, ApiError> {
    let mut q = users::table
        .select(columns())
        .order(users::username)
        .into_boxed();
    if let Some(u) = unit_id {
        q = q.filter(users::unit_id.eq(u));
    }
    Ok(q.load::<AccountRow>(conn)?.into_iter().map(view).collect())
}

/// One account by id.
pub fn get(conn: &mut DbConnection, id: &str) -> Result<Option<AccountView>, ApiError> {
    Ok(users::table
        .find(id)
        .select(columns())
        .first::<AccountRow>(conn)
        .optional()?
        .map(view))
}

/// Checks a username: 2-64 characters of letters, digits, `.`, `_`, `-`.
pub fn check_username(username: &str) -> Result<(), (&'static str, &'static str)> {
    let ok = (2..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err((
            "用户名须为 2-64 个字母、数字或 . _ -",
            "A username is 2-64 letters, digits, '.', '_' or '-'",
        ))
    }
}

/// Inserts an account. Unit roles must name a unit. Returns the id; 409 `already_exists` when
/// the username is taken.
pub fn insert(
    conn: &mut DbConnection,
    username: &str,
    display_name: &str,
    role: Role,
    unit_id: Option<&str>,
    password_hash: Option<&str>,
    now_ms: i64,
) -> Result<String, ApiError> {
    if matches!(role, Role::UnitAdmin | Role::UnitStaff | Role::Inspector) && unit_id.is_none() {
        return Err(FieldError::new(
            "unit",
            FieldCode::UnitRequired,
            "单位角色必须指定所属单位",
            "This role needs a unit",
        )
        .into());
    }
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(&id),
            users::username.eq(username),
            users::display_name.eq(display_name),
            users::password_hash.eq(password_hash),
            users::role.eq(role.as_str()),
            users::unit_id.eq(unit_id),
            users::disabled.eq(false),
            users::token_version.eq(0),
            users::created_at.eq(now_ms),
            users::updated_at.eq(now_ms),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The id of the unit with `code`, or 422 `unknown_unit`.
pub fn unit_id_by_code(conn: &mut DbConnection, code: &str) -> Result<String, ApiError> {
    units::table
        .filter(units::code.eq(code).or(units::id.eq(code)))
        .select(units::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| {
            FieldError::new(
                "unit",
                FieldCode::UnknownUnit,
                format!("单位 {code} 不存在"),
                format!("There is no unit {code}"),
            )
            .into()
        })
}

/// Sets a password and ends every session of the account.
pub fn set_password(
    conn: &mut DbConnection,
    user_id: &str,
    hash: &str,
    now_ms: i64,
) -> Result<(), ApiError> {
    conn.transaction(|conn| {
        diesel::update(users::table.find(user_id))
            .set(users::password_hash.eq(Some(hash)))
            .execute(conn)?;
        session::cut_off_user(conn, user_id, now_ms)
    })
}

/// Enables or disables an account; disabling ends every session at once.
pub fn set_disabled(
    conn: &mut DbConnection,
    user_id: &str,
    disabled: bool,
    now_ms: i64,
) -> Result<(), ApiError> {
    conn.transaction(|conn| {
        diesel::update(users::table.find(user_id))
            .set((users::disabled.eq(disabled), users::updated_at.eq(now_ms)))
            .execute(conn)?;
        if disabled {
            session::cut_off_user(conn, user_id, now_ms)?;
        }
        Ok(())
    })
}

/// The id of the account `username`, or 404 `user_not_found`.
pub fn id_by_username(conn: &mut DbConnection, username: &str) -> Result<String, ApiError> {
    users::table
        .filter(users::username.eq(username))
        .select(users::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::new(ErrorCode::UserNotFound, "找不到该用户", "No such user"))
}

/// Whether an enabled administrator who can log in exists (first start creates `admin`
/// otherwise; imported accounts have no password).
pub fn any_admin(conn: &mut DbConnection) -> Result<bool, ApiError> {
    let n: i64 = users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::password_hash.is_not_null())
        .filter(users::disabled.eq(false))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
