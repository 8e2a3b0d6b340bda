//! The boundary between sync and the complaint ticket state machine, owned by tickets so that
//! sync (a floor above) calls down into it and tickets never imports sync.
//!
//! A device's `ticket_action` record is an action of unit staff on a ticket (受理/答复/办结). Sync
//! hands it to [`TicketActions::apply`] inside the push transaction; the tickets side applies it
//! to its state machine (event + new state + change-log + outbox) on the same connection, or
//! refuses it with a reason that the device shows. `startup` wires in
//! [`super::device::DeviceActions`]; [`TicketsUnavailable`] (every action refused with
//! `tickets_unavailable`, never silently dropped) is the default of a bare `sync::SyncState`.

use anju_shared::merge::Rejection;
use anju_shared::rejection::RejectionCode;
use uuid::Uuid;

use crate::db::DbConnection;
use crate::http::ids::UserId;

/// Who acted: the device's user, as sync authenticated them.
#[derive(Debug, Clone)]
pub struct TicketActor {
    /// The user's account: `Some` for a device's signed-in user; `None` for an office edit made
    /// by no account (the system's sample programme), whose ticket actions are refused.
    pub user: Option<UserId>,
    /// The user's role (`unit_staff`, `unit_admin`, …).
    pub role: String,
    /// The user's unit, if any.
    pub unit_id: Option<Uuid>,
    /// The device the action came from.
    pub device_id: Uuid,
}

/// One action a unit took on a ticket from a device (a validated `ticket_action` record).
#[derive(Debug, Clone)]
pub struct TicketAction {
    /// The `ticket_action` record's id; the same action is never handed over twice, but the
    /// tickets side may use it as an idempotency key.
    pub action_id: Uuid,
    /// The ticket acted on.
    pub ticket_id: Uuid,
    /// The unit acting.
    pub unit_id: Uuid,
    /// `accept` (受理), `reply` (答复) or `resolve` (办结).
    pub action: String,
    /// Reply or resolution text.
    pub message: Option<String>,
    /// When the person acted on the device (RFC 3339).
    pub acted_at: String,
    /// SHA-256 references of proof photos (attachments).
    pub photos: Vec<String>,
}

/// What the tickets side implements. `apply` runs inside the push transaction (within a
/// savepoint: if it returns `Err` or fails, its writes are rolled back and the rest of the batch
/// goes on). It must check that the actor's unit may act on the ticket and that the state
/// machine allows the action from the ticket's current state; on success it writes the ticket
/// event, the new state, its change-log entry and outbox message on `conn`.
pub trait TicketActions: Send + Sync {
    /// Applies `action`, or refuses it with a stable code and reasons in Chinese and English
    /// (e.g. `ticket_not_in_state` when the ticket moved on meanwhile).
    fn apply(
        &self,
        conn: &mut DbConnection,
        actor: &TicketActor,
        action: &TicketAction,
    ) -> Result<(), Rejection>;
}

/// The default of a bare `sync::SyncState` (the server wires the tickets side in): refuses every action.
#[derive(Debug, Default, Clone, Copy)]
pub struct TicketsUnavailable;

impl TicketActions for TicketsUnavailable {
    fn apply(
        &self,
        _conn: &mut DbConnection,
        _actor: &TicketActor,
        _action: &TicketAction,
    ) -> Result<(), Rejection> {
        Err(Rejection {
            code: RejectionCode::TicketsUnavailable.as_str().into(),
            message_zh: "服务器尚未启用工单处理，该操作未生效".into(),
            message_en:
                "ticket handling is not available on this server; the action was not applied".into(),
        })
    }
}
