//! The ticket state machine (工单状态机): which actor may take which action from which state,
//! and the state it leads to. Pure: the caller loads the ticket, asks [`check`], and on `Ok`
//! writes the event and the new state in one transaction; on `Err` it changes nothing and
//! answers with the refusal's stable code.

use serde::{Deserialize, Serialize};

use crate::auth::Role;

/// Where a ticket is in its life. Stored as the snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Waiting for a dispatcher (派单中心待派): no rule routed it, or a unit returned it.
    Dispatching,
    /// At a unit, not yet accepted (已派单).
    Dispatched,
    /// Accepted by the unit (已签收).
    Accepted,
    /// Resolved by the unit, waiting for the resident (已办结待评价).
    Resolved,
    /// Closed: confirmed by the resident, or unanswered for N days.
    Closed,
    /// Reopened (重办) after a first dispute: back at the same unit with fresh deadlines.
    Reopened,
    /// Escalated (督办) to a supervisor after a second dispute.
    Escalated,
}

impl TicketStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [TicketStatus; 7] = [
        TicketStatus::Dispatching,
        TicketStatus::Dispatched,
        TicketStatus::Accepted,
        TicketStatus::Resolved,
        TicketStatus::Closed,
        TicketStatus::Reopened,
        TicketStatus::Escalated,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Dispatching => "dispatching",
            TicketStatus::Dispatched => "dispatched",
            TicketStatus::Accepted => "accepted",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
            TicketStatus::Reopened => "reopened",
            TicketStatus::Escalated => "escalated",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Option<TicketStatus> {
        TicketStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the ticket still needs work from a unit or a dispatcher (not resolved, not closed).
    pub fn is_open(self) -> bool {
        !matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }

    /// Whether a unit holds the ticket (so its clocks run against that unit).
    pub fn at_unit(self) -> bool {
        matches!(
            self,
            TicketStatus::Dispatched
                | TicketStatus::Accepted
                | TicketStatus::Reopened
                | TicketStatus::Escalated
        )
    }
}

fn sees_all(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::Dispatcher)
}

fn is_unit_worker(role: Role) -> bool {
    matches!(role, Role::UnitAdmin | Role::UnitStaff)
}

fn dispatches(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::Dispatcher)
}

fn supervises(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor)
}

/// Who asks for a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A logged-in staff member.
    Staff {
        /// Role.
        role: Role,
        /// Whether the ticket's unit is the user's own (or, for a unit administrator, below it).
        same_unit: bool,
    },
    /// The resident holding the ticket's tracking code.
    Resident,
    /// The server itself (auto-close).
    System,
}

/// The actions of the lifecycle. Wire names are the snake_case ones the staff API lists in
/// `actions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Send to a unit from the dispatch queue (派单), or move to another unit (转派).
    Dispatch,
    /// Accept (签收/受理).
    Accept,
    /// Public reply the resident sees.
    Reply,
    /// Internal note, never public.
    Note,
    /// Resolve (办结) with a result and, where the category says so, after-photos.
    Resolve,
    /// Return (退单) to the dispatch center as misrouted.
    Return,
    /// Ask for more time (延期) before the resolution deadline.
    RequestExtension,
    /// Approve a pending extension.
    ApproveExtension,
    /// Refuse a pending extension.
    RefuseExtension,
    /// Resident confirms the resolution (with a rating).
    Confirm,
    /// Resident disputes the resolution: reopen (重办), or escalate the second time.
    Dispute,
    /// Close a resolution the resident did not answer within N days.
    AutoClose,
}

impl Action {
    /// Staff actions in the order the console shows them.
    pub const STAFF: [Action; 10] = [
        Action::Accept,
        Action::Reply,
        Action::Note,
        Action::Resolve,
        Action::Return,
        Action::RequestExtension,
        Action::Dispatch,
        Action::ApproveExtension,
        Action::RefuseExtension,
        Action::AutoClose,
    ];

    /// The wire name (`request_extension`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Dispatch => "dispatch",
            Action::Accept => "accept",
            Action::Reply => "reply",
            Action::Note => "note",
            Action::Resolve => "resolve",
            Action::Return => "return",
            Action::RequestExtension => "request_extension",
            Action::ApproveExtension => "approve_extension",
            Action::RefuseExtension => "refuse_extension",
            Action::Confirm => "confirm",
            Action::Dispute => "dispute",
            Action::AutoClose => "auto_close",
        }
    }
}

/// What the machine needs to know about the ticket, beyond its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketFacts<'a> {
    /// Current status.
    pub status: TicketStatus,
    /// The unit holding it, if any.
    pub unit_id: Option<&'a str>,
    /// How many times the resident has already disputed a resolution.
    pub disputes: u32,
    /// Whether an extension request waits for a supervisor.
    pub extension_pending: bool,
}

/// Why a transition is refused. Each has a stable code and an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The action is not possible from the ticket's current status.
    #[error("the ticket's status does not allow this action")]
    NotInState,
    /// The actor works for another unit.
    #[error("the ticket belongs to another unit")]
    NotYourUnit,
    /// The actor's role may not take this action.
    #[error("your role may not take this action")]
    RoleNotAllowed,
    /// An extension request already waits for a decision.
    #[error("an extension request is already pending")]
    ExtensionPending,
    /// There is no pending extension to approve or refuse.
    #[error("there is no pending extension request")]
    NoPendingExtension,
}

impl Refusal {
    /// The stable snake_case code clients branch on.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NotInState => "ticket_not_in_state",
            Refusal::NotYourUnit => "not_your_unit",
            Refusal::RoleNotAllowed => "role_not_allowed",
            Refusal::ExtensionPending => "extension_pending",
            Refusal::NoPendingExtension => "no_pending_extension",
        }
    }

    /// The HTTP status of the refusal.
    pub fn http_status(self) -> u16 {
        match self {
            Refusal::NotYourUnit | Refusal::RoleNotAllowed => 403,
            Refusal::NotInState | Refusal::ExtensionPending | Refusal::NoPendingExtension => 409,
        }
    }
}

/// An allowed transition: the status after it and the event kind to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// Status after the action (equal to the current one for replies, notes, extensions).
    pub to: TicketStatus,
    /// The event kind to append (`accepted`, `reassigned`, `reopened`, …).
    pub event: &'static str,
}

/// Decide whether `actor` may take `action` on a ticket described by `facts`.
///
/// Guarantees: a unit worker can act only on tickets held by their own unit; residents only
/// confirm or dispute; the result depends on nothing but the arguments.
pub fn check(
    action: Action,
    actor: &Actor,
    facts: &TicketFacts<'_>,
) -> Result<Transition, Refusal> {
    use TicketStatus as S;
    let st = facts.status;
    let role_ok = |pred: fn(Role) -> bool| -> Result<Role, Refusal> {
        match actor {
            Actor::Staff { role, .. } if pred(*role) => Ok(*role),
            _ => Err(Refusal::RoleNotAllowed),
        }
    };
    // A unit worker of the ticket's unit; supervisors and admins may act for any unit where
    // the lifecycle lets a supervisor step in.
    let own_unit = |allow_supervisor: bool| -> Result<(), Refusal> {
        match actor {
            Actor::Staff { role, same_unit } if is_unit_worker(*role) => {
                if *same_unit {
                    Ok(())
                } else {
                    Err(Refusal::NotYourUnit)
                }
            }
            Actor::Staff { role, .. } if allow_supervisor && supervises(*role) => Ok(()),
            _ => Err(Refusal::RoleNotAllowed),
        }
    };
    let state = |ok: bool| if ok { Ok(()) } else { Err(Refusal::NotInState) };
    match action {
        Action::Dispatch => {
            role_ok(dispatches)?;
            state(st != S::Resolved && st != S::Closed)?;
            let event = if st == S::Dispatching {
                "dispatched"
            } else {
                "reassigned"
            };
            Ok(Transition {
                to: S::Dispatched,
                event,
            })
        }
        Action::Accept => {
            own_unit(false)?;
            state(matches!(st, S::Dispatched | S::Reopened))?;
            Ok(Transition {
                to: S::Accepted,
                event: "accepted",
            })
        }
        Action::Reply => {
            own_unit(true)?;
            state(matches!(
                st,
                S::Accepted | S::Reopened | S::Escalated | S::Dispatched
            ))?;
            Ok(Transition {
                to: st,
                event: "replied",
            })
        }
        Action::Note => {
            match actor {
                Actor::Staff { role, same_unit } => {
                    if sees_all(*role) {
                    } else if is_unit_worker(*role) {
                        if !*same_unit {
                            return Err(Refusal::NotYourUnit);
                        }
                    } else {
                        return Err(Refusal::RoleNotAllowed);
                    }
                }
                _ => return Err(Refusal::RoleNotAllowed),
            }
            Ok(Transition {
                to: st,
                event: "note",
            })
        }
        Action::Resolve => {
            own_unit(true)?;
            state(matches!(st, S::Accepted | S::Escalated))?;
            Ok(Transition {
                to: S::Resolved,
                event: "resolved",
            })
        }
        Action::Return => {
            own_unit(false)?;
            state(matches!(st, S::Dispatched | S::Accepted | S::Reopened))?;
            Ok(Transition {
                to: S::Dispatching,
                event: "returned",
            })
        }
        Action::RequestExtension => {
            own_unit(false)?;
            state(matches!(
                st,
                S::Dispatched | S::Accepted | S::Reopened | S::Escalated
            ))?;
            if facts.extension_pending {
                return Err(Refusal::ExtensionPending);
            }
            Ok(Transition {
                to: st,
                event: "extension_requested",
            })
        }
        Action::ApproveExtension | Action::RefuseExtension => {
            role_ok(supervises)?;
            state(st.is_open())?;
            if !facts.extension_pending {
                return Err(Refusal::NoPendingExtension);
            }
            let event = if action == Action::ApproveExtension {
                "extension_granted"
            } else {
                "extension_refused"
            };
            Ok(Transition { to: st, event })
        }
        Action::Confirm => {
            if *actor != Actor::Resident {
                return Err(Refusal::RoleNotAllowed);
            }
            state(st == S::Resolved)?;
            Ok(Transition {
                to: S::Closed,
                event: "confirmed",
            })
        }
        Action::Dispute => {
            if *actor != Actor::Resident {
                return Err(Refusal::RoleNotAllowed);
            }
            state(st == S::Resolved)?;
            if facts.disputes == 0 {
                Ok(Transition {
                    to: S::Reopened,
                    event: "reopened",
                })
            } else {
                Ok(Transition {
                    to: S::Escalated,
                    event: "escalated",
                })
            }
        }
        Action::AutoClose => {
            if *actor != Actor::System {
                return Err(Refusal::RoleNotAllowed);
            }
            state(st == S::Resolved)?;
            Ok(Transition {
                to: S::Closed,
                event: "closed_unconfirmed",
            })
        }
    }
}

/// The staff actions `actor` may take now, in console order (what the ticket view lists as
/// `actions`). Extension decisions and auto-close are not listed: they have their own screens.
pub fn allowed_actions(actor: &Actor, facts: &TicketFacts<'_>) -> Vec<&'static str> {
    let mut out = Vec::new();
    for a in Action::STAFF {
        if matches!(
            a,
            Action::ApproveExtension | Action::RefuseExtension | Action::AutoClose
        ) {
            continue;
        }
        if check(a, actor, facts).is_ok() {
            out.push(a.as_str());
        }
    }
    if out.contains(&"dispatch") && facts.status != TicketStatus::Dispatching {
        // The console shows moving a held ticket as 转派.
        out.push("reassign");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(status: TicketStatus) -> TicketFacts<'static> {
        TicketFacts {
            status,
            unit_id: Some("u1"),
            disputes: 0,
            extension_pending: false,
        }
    }

    const STAFF_U1: Actor = Actor::Staff {
        role: Role::UnitStaff,
        same_unit: true,
    };
    const STAFF_U2: Actor = Actor::Staff {
        role: Role::UnitStaff,
        same_unit: false,
    };
    const DISPATCHER: Actor = Actor::Staff {
        role: Role::Dispatcher,
        same_unit: false,
    };
    const SUPERVISOR: Actor = Actor::Staff {
        role: Role::Supervisor,
        same_unit: false,
    };

    #[test]
    fn happy_path() {
        use TicketStatus as S;
        let mut f = facts(S::Dispatching);
        f.unit_id = None;
        let t = check(Action::Dispatch, &DISPATCHER, &f).unwrap();
        assert_eq!((t.to, t.event), (S::Dispatched, "dispatched"));
        let f = facts(S::Dispatched);
        assert_eq!(
            check(Action::Accept, &STAFF_U1, &f).unwrap().to,
            S::Accepted
        );
        let f = facts(S::Accepted);
        assert_eq!(
            check(Action::Resolve, &STAFF_U1, &f).unwrap().to,
            S::Resolved
        );
        let f = facts(S::Resolved);
        assert_eq!(
            check(Action::Confirm, &Actor::Resident, &f).unwrap().to,
            S::Closed
        );
    }

    #[test]
    fn other_unit_is_refused() {
        let f = facts(TicketStatus::Dispatched);
        assert_eq!(
            check(Action::Accept, &STAFF_U2, &f),
            Err(Refusal::NotYourUnit)
        );
        assert_eq!(
            check(Action::Note, &STAFF_U2, &f),
            Err(Refusal::NotYourUnit)
        );
        assert_eq!(
            check(Action::Return, &STAFF_U2, &f),
            Err(Refusal::NotYourUnit)
        );
    }

    #[test]
    fn wrong_state_is_refused() {
        let f = facts(TicketStatus::Dispatched);
        assert_eq!(
            check(Action::Resolve, &STAFF_U1, &f),
            Err(Refusal::NotInState)
        );
        assert_eq!(
            check(Action::Confirm, &Actor::Resident, &f),
            Err(Refusal::NotInState)
        );
        let f = facts(TicketStatus::Closed);
        assert_eq!(
            check(Action::Accept, &STAFF_U1, &f),
            Err(Refusal::NotInState)
        );
        assert_eq!(
            check(Action::Dispatch, &DISPATCHER, &f),
            Err(Refusal::NotInState)
        );
    }

    #[test]
    fn second_dispute_escalates() {
        let mut f = facts(TicketStatus::Resolved);
        assert_eq!(
            check(Action::Dispute, &Actor::Resident, &f).unwrap().to,
            TicketStatus::Reopened
        );
        f.disputes = 1;
        assert_eq!(
            check(Action::Dispute, &Actor::Resident, &f).unwrap().to,
            TicketStatus::Escalated
        );
    }

    #[test]
    fn return_goes_to_dispatch_and_reassign_is_named() {
        let f = facts(TicketStatus::Accepted);
        assert_eq!(
            check(Action::Return, &STAFF_U1, &f).unwrap().to,
            TicketStatus::Dispatching
        );
        assert_eq!(
            check(Action::Dispatch, &DISPATCHER, &f).unwrap().event,
            "reassigned"
        );
        assert_eq!(
            check(Action::Dispatch, &STAFF_U1, &f),
            Err(Refusal::RoleNotAllowed)
        );
    }

    #[test]
    fn extensions() {
        let mut f = facts(TicketStatus::Accepted);
        assert_eq!(
            check(Action::ApproveExtension, &SUPERVISOR, &f),
            Err(Refusal::NoPendingExtension)
        );
        assert!(check(Action::RequestExtension, &STAFF_U1, &f).is_ok());
        f.extension_pending = true;
        assert_eq!(
            check(Action::RequestExtension, &STAFF_U1, &f),
            Err(Refusal::ExtensionPending)
        );
        assert_eq!(
            check(Action::ApproveExtension, &STAFF_U1, &f),
            Err(Refusal::RoleNotAllowed)
        );
        assert_eq!(
            check(Action::ApproveExtension, &SUPERVISOR, &f)
                .unwrap()
                .event,
            "extension_granted"
        );
    }

    #[test]
    fn residents_and_system_are_limited() {
        let f = facts(TicketStatus::Resolved);
        assert_eq!(
            check(Action::Accept, &Actor::Resident, &f),
            Err(Refusal::RoleNotAllowed)
        );
        assert_eq!(
            check(Action::AutoClose, &Actor::Resident, &f),
            Err(Refusal::RoleNotAllowed)
        );
        assert_eq!(
            check(Action::AutoClose, &Actor::System, &f).unwrap().event,
            "closed_unconfirmed"
        );
        let inspector = Actor::Staff {
            role: Role::Inspector,
            same_unit: true,
        };
        assert_eq!(
            check(Action::Note, &inspector, &f),
            Err(Refusal::RoleNotAllowed)
        );
    }

    #[test]
    fn actions_list() {
        let f = facts(TicketStatus::Dispatched);
        assert_eq!(
            allowed_actions(&STAFF_U1, &f),
            vec!["accept", "reply", "note", "return", "request_extension"]
        );
        assert_eq!(
            allowed_actions(&DISPATCHER, &f),
            vec!["note", "dispatch", "reassign"]
        );
        assert!(allowed_actions(&STAFF_U2, &f).is_empty());
    }

    #[test]
    fn status_names_round_trip() {
        for s in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(s.as_str()), Some(s));
        }
    }
}
