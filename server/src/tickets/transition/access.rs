//! Who may move a ticket: the state-machine actor of a staff member, whether they see the
//! ticket at all, and the API errors of a refusal.

use crate::auth::Principal;
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::tickets::state::{Actor, Refusal};
use crate::tickets::store::TicketRow;

/// 404 `ticket_not_found`.
pub fn ticket_not_found() -> ApiError {
    ApiError::new(ErrorCode::TicketNotFound, "没有这个工单", "No such ticket")
}

/// Map a state-machine refusal to its API error.
pub fn refusal_error(r: Refusal) -> ApiError {
    match r {
        Refusal::NotInState => ApiError::new(
            ErrorCode::TicketNotInState,
            "工单当前状态不允许此操作",
            "The ticket's current status does not allow this action",
        ),
        Refusal::NotYourUnit => crate::auth::principal::not_your_unit(),
        Refusal::RoleNotAllowed => crate::auth::principal::role_not_allowed(),
        Refusal::ExtensionPending => ApiError::new(
            ErrorCode::ExtensionPending,
            "已有延期申请在审批中",
            "An extension request is already waiting for a decision",
        ),
        Refusal::NoPendingExtension => ApiError::new(
            ErrorCode::NoPendingExtension,
            "没有待审批的延期申请",
            "There is no pending extension request",
        ),
    }
}

/// The state-machine actor for a principal and a ticket.
pub fn actor_for(conn: &mut DbConnection, p: &Principal, t: &TicketRow) -> Result<Actor, ApiError> {
    let same_unit = match t.unit_id.as_deref() {
        Some(u) => p.can_access_unit(conn, u)?,
        None => false,
    };
    Ok(Actor::Staff {
        role: p.role,
        same_unit,
    })
}

/// Whether `p` may see `t` at all (city-wide roles: every ticket; others: their unit's).
pub fn can_see(conn: &mut DbConnection, p: &Principal, t: &TicketRow) -> Result<bool, ApiError> {
    if p.role.is_citywide() {
        return Ok(true);
    }
    match t.unit_id.as_deref() {
        Some(u) => p.can_access_unit(conn, u),
        None => Ok(false),
    }
}
