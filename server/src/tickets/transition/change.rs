//! What a transition is, parsed at the edge: who moves the ticket ([`Mover`]) and the change
//! with what it carries ([`Change`]), each naming its state-machine action.

use crate::auth::Principal;
use crate::tickets::state::Action;

/// Who moves the ticket.
#[derive(Debug, Clone, Copy)]
pub enum Mover<'a> {
    /// A staff member (console or field device), with their role and unit.
    Staff(&'a Principal),
    /// The resident who filed the complaint (by their tracking code).
    Resident,
    /// The server itself (the clocks).
    System,
}

/// A transition and what it carries, parsed at the edge.
#[derive(Debug, Clone)]
pub enum Change {
    /// 签收.
    Accept,
    /// A public reply.
    Reply {
        /// The reply text.
        text: String,
    },
    /// An internal note.
    Note {
        /// The note text.
        text: String,
    },
    /// 办结 with the result and after-photos (upload ids).
    Resolve {
        /// The result text.
        result: String,
        /// Upload ids of the after-photos.
        photos: Vec<String>,
        /// What each proof photo says about itself (one per photo), judged against the
        /// acceptance and the complaint's location.
        proof: Vec<crate::tickets::proof::PhotoFacts>,
        /// The distance limit of a verified proof, metres (`ANJU_PROOF_MAX_DISTANCE_M`).
        max_distance_m: f64,
    },
    /// 退单 to the dispatch center.
    Return {
        /// Why.
        reason: String,
        /// The unit the returning unit suggests, if any.
        suggested_unit_id: Option<String>,
    },
    /// 延期申请.
    RequestExtension {
        /// Why.
        reason: String,
        /// The requested resolution deadline, ms.
        due: i64,
    },
    /// 派单/转派 to a unit, with fresh deadline clocks.
    Dispatch {
        /// The target unit.
        unit_id: String,
    },
    /// A supervisor's decision on a pending extension request.
    DecideExtension {
        /// The extension request.
        extension_id: String,
        /// Approve (true) or refuse.
        approve: bool,
        /// The decision's reason, if given.
        reason: Option<String>,
    },
    /// The resident confirms the resolution.
    Confirm {
        /// 1–5 stars.
        rating: i32,
        /// Optional comment.
        comment: Option<String>,
    },
    /// The resident disputes the resolution: reopened, or escalated the second time.
    Dispute {
        /// 1–5 stars.
        rating: i32,
        /// The comment.
        comment: Option<String>,
    },
    /// The clocks close a resolution the resident left unanswered.
    AutoClose {
        /// The configured number of days.
        days: u32,
    },
}

impl Change {
    /// The state-machine action of this change.
    pub fn action(&self) -> Action {
        match self {
            Change::Accept => Action::Accept,
            Change::Reply { .. } => Action::Reply,
            Change::Note { .. } => Action::Note,
            Change::Resolve { .. } => Action::Resolve,
            Change::Return { .. } => Action::Return,
            Change::RequestExtension { .. } => Action::RequestExtension,
            Change::Dispatch { .. } => Action::Dispatch,
            Change::DecideExtension { approve: true, .. } => Action::ApproveExtension,
            Change::DecideExtension { approve: false, .. } => Action::RefuseExtension,
            Change::Confirm { .. } => Action::Confirm,
            Change::Dispute { .. } => Action::Dispute,
            Change::AutoClose { .. } => Action::AutoClose,
        }
    }
}
