//! The ticket's synced copy on the handling unit's field devices, as tickets sees it: every
//! change of a ticket rewrites that copy in the change's own transaction through
//! [`TicketCopies`]. Sync implements it (`sync::ticket_record::SyncedCopies`) and `startup`
//! wires it in (`AppState::ticket_copies`, `DeviceActions::new`), so tickets never imports sync.

use crate::db::DbConnection;
use crate::error::ApiError;

/// What a ticket change asks of the device copies, inside the caller's write transaction.
pub trait TicketCopies: Send + Sync {
    /// Takes the lock every writer of synced changes holds until it commits (sync's change
    /// counter). Taken before a ticket's row lock, in the order a device push takes them, so two
    /// transactions never wait on each other's lock (a deadlock on PostgreSQL).
    fn lock(&self, conn: &mut DbConnection) -> Result<(), ApiError>;

    /// Rewrites ticket `ticket_id`'s synced copy as of `at` if it changed. Reads the ticket row:
    /// write the ticket's new state before calling this.
    fn refresh(&self, conn: &mut DbConnection, ticket_id: &str, at: i64) -> Result<(), ApiError>;

    /// Rewrites the copies of `tickets` (each once, in id order), as [`refresh`](Self::refresh)
    /// of each would, taking the lock of [`lock`](Self::lock) itself (always, even for an empty
    /// list) but reading what it can before it, so a group-commit batch holds the lock only for
    /// its writes.
    fn refresh_all(&self, conn: &mut DbConnection, tickets: &[DueCopy]) -> Result<(), ApiError>;
}

/// A ticket whose copy a batch rewrites at its end ([`TicketCopies::refresh_all`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DueCopy {
    /// The ticket.
    pub ticket_id: String,
    /// The instant of its last change in the batch.
    pub at: i64,
    /// Inserted in the batch's own transaction: no other transaction can see it, so it has no
    /// copy yet and none can be written meanwhile (its copy is inserted without looking).
    pub opened: bool,
}
