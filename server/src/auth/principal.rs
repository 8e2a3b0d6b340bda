//! Who is calling. [`Principal`] is the one extractor every staff endpoint takes: it checks the
//! access token, that the account is enabled and its token version current, that the device
//! (if any) is not revoked, and loads the role and unit. [`Authed`] adds the role check, so no
//! handler can forget it; [`Principal::ensure_unit`] is the unit check.

use std::marker::PhantomData;
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;

use crate::auth::Role;
use crate::db::DbConnection;
use crate::db::schema::{devices, units, users};
use crate::error::{ApiError, ErrorCode};
use crate::http::ids::UserId;
use crate::state::AppState;

/// A logged-in staff member, as the database says now (not as the token said).
#[derive(Debug, Clone)]
pub struct Principal {
    /// User id, as stored.
    pub user_id: String,
    /// The same id parsed, once, when the token was verified: `Some` for every principal of a
    /// signed-in account (an account whose id is not a UUID is refused then); `None` only for
    /// a principal built in code that is not an account (the sample data's clerk).
    pub user: Option<UserId>,
    /// Login name.
    pub username: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Current role.
    pub role: Role,
    /// Current unit, if any.
    pub unit_id: Option<String>,
    /// The device the token was issued to, for device sessions.
    pub device_id: Option<String>,
}

impl Principal {
    /// Whether this principal may act on data of `unit_id`: city-wide roles always; others when
    /// it is their own unit or (for a unit's administrator) a unit below it.
    pub fn can_access_unit(
        &self,
        conn: &mut DbConnection,
        unit_id: &str,
    ) -> Result<bool, ApiError> {
        if self.role.is_citywide() {
            return Ok(true);
        }
        let Some(own) = self.unit_id.as_deref() else {
            return Ok(false);
        };
        if own == unit_id {
            return Ok(true);
        }
        if self.role != Role::UnitAdmin {
            return Ok(false);
        }
        // Walk up from unit_id; the unit tree is shallow (a handful of levels).
        let mut current = unit_id.to_string();
        for _ in 0..16 {
            let parent: Option<Option<String>> = units::table
                .find(&current)
                .select(units::parent_id)
                .first(conn)
                .optional()?;
            match parent.flatten() {
                Some(p) if p == own => return Ok(true),
                Some(p) => current = p,
                None => return Ok(false),
            }
        }
        Ok(false)
    }

    /// [`Principal::can_access_unit`] as a 403 `not_your_unit`.
    pub fn ensure_unit(&self, conn: &mut DbConnection, unit_id: &str) -> Result<(), ApiError> {
        if self.can_access_unit(conn, unit_id)? {
            Ok(())
        } else {
            Err(not_your_unit())
        }
    }

    /// 403 `role_not_allowed` unless the role is one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(role_not_allowed())
        }
    }
}

/// 403 `not_your_unit`.
pub fn not_your_unit() -> ApiError {
    ApiError::new(
        ErrorCode::NotYourUnit,
        "这不是您所在单位的事项",
        "This belongs to another unit",
    )
}

/// 403 `role_not_allowed`.
pub fn role_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::RoleNotAllowed,
        "您的角色无权执行此操作",
        "Your role may not do this",
    )
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Loads the principal for verified claims: the account must exist, be enabled and have the
/// token's version; a device session's device must not be revoked.
fn load(
    conn: &mut DbConnection,
    claims: &crate::auth::token::Claims,
) -> Result<Principal, ApiError> {
    type Row = (String, String, String, String, Option<String>, bool, i32);
    let row: Option<Row> = users::table
        .find(&claims.sub)
        .select((
            users::id,
            users::username,
            users::display_name,
            users::role,
            users::unit_id,
            users::disabled,
            users::token_version,
        ))
        .first(conn)
        .optional()?;
    let Some((user_id, username, display_name, role, unit_id, disabled, tv)) = row else {
        return Err(ApiError::unauthorized());
    };
    if disabled || tv != claims.tv {
        return Err(ApiError::unauthorized());
    }
    let role = Role::parse(&role).ok_or_else(ApiError::unauthorized)?;
    if let Some(device) = &claims.did {
        let revoked: Option<Option<i64>> = devices::table
            .find(device)
            .select(devices::revoked_at)
            .first(conn)
            .optional()?;
        match revoked {
            Some(None) => {}
            Some(Some(_)) => return Err(device_revoked()),
            None => return Err(ApiError::unauthorized()),
        }
    }
    let user = UserId::parse(&user_id).ok_or_else(ApiError::unauthorized)?;
    Ok(Principal {
        user_id,
        user: Some(user),
        username,
        display_name,
        role,
        unit_id,
        device_id: claims.did.clone(),
    })
}

/// 403 `device_revoked`.
pub fn device_revoked() -> ApiError {
    ApiError::new(
        ErrorCode::DeviceRevoked,
        "此设备已被停用，请联系管理员",
        "This device has been revoked; contact your administrator",
    )
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Principal, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no AppState")))?;
            let token = token.ok_or_else(ApiError::unauthorized)?;
            let claims = state
                .keys
                .verify(&token, state.clock.now_ms())
                .ok_or_else(ApiError::unauthorized)?;
            state.db.run(move |conn| load(conn, &claims)).await
        })
    }
}

/// A set of roles allowed at an endpoint.
pub trait RolePolicy {
    /// The roles allowed.
    const ROLES: &'static [Role];
}

/// A [`Principal`] whose role is in `P::ROLES`; otherwise the request is refused with 403
/// `role_not_allowed` before the handler runs.
pub struct Authed<P: RolePolicy>(pub Principal, PhantomData<P>);

impl<P: RolePolicy> Deref for Authed<P> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl<P: RolePolicy + 'static> FromRequest for Authed<P> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Authed<P>, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let principal = Principal::from_request(req, payload);
        Box::pin(async move {
            let p = principal.await?;
            p.require(P::ROLES)?;
            Ok(Authed(p, PhantomData))
        })
    }
}

/// Role policies used by the endpoints.
pub mod policy {
    use super::{Role, RolePolicy};

    /// Administrators only.
    pub struct AdminOnly;
    impl RolePolicy for AdminOnly {
        const ROLES: &'static [Role] = &[Role::Admin];
    }

    /// Supervisors (督办) and administrators.
    pub struct Supervision;
    impl RolePolicy for Supervision {
        const ROLES: &'static [Role] = &[Role::Admin, Role::Supervisor];
    }

    /// Dispatchers (派单), supervisors and administrators.
    pub struct Dispatch;
    impl RolePolicy for Dispatch {
        const ROLES: &'static [Role] = &[Role::Admin, Role::Supervisor, Role::Dispatcher];
    }

    /// Anyone who manages a unit's people: administrators and unit administrators.
    pub struct UnitManagement;
    impl RolePolicy for UnitManagement {
        const ROLES: &'static [Role] = &[Role::Admin, Role::UnitAdmin];
    }

    /// Every staff role.
    pub struct Staff;
    impl RolePolicy for Staff {
        const ROLES: &'static [Role] = &Role::ALL;
    }
}
