//! The group commit's end of a batch of ticket changes: [`Deferred`] gathers what each change
//! leaves (aggregate deltas, synced copies to rewrite) and writes it once before the commit, in
//! the one lock order (sync counter, ticket, aggregate rows).

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::tickets::aggregates::{Contribution, TicketAggregates};
use crate::tickets::copies::{DueCopy, TicketCopies};

/// Work a batch of changes (PostgreSQL group commit) leaves to the end of its transaction: the
/// aggregate changes of its events and the synced copies of its tickets. Written by
/// [`Deferred::finish`] just before the commit, the hot aggregate rows (today × unit, today ×
/// district × category) are each updated once, in key order, and the sync counter (one row
/// lock every writer of changes takes until commit) is held only for the end of the
/// transaction instead of from the batch's first submission on, so concurrent batches file in
/// parallel and only their last steps take turns.
#[derive(Debug, Default)]
pub struct Deferred {
    stats: std::cell::RefCell<Contribution>,
    /// Each event's ticket whose synced copy is left to the end.
    pub(super) synced: std::cell::RefCell<Vec<DueCopy>>,
}

impl Deferred {
    /// Adds an aggregate change to write at the end.
    pub fn gather(&self, delta: &Contribution) {
        self.stats.borrow_mut().add(delta, 1);
    }

    /// Writes each ticket's synced copy as of the end of the transaction (once per ticket, at
    /// the instant of its last event, through `copies`), then the gathered aggregate changes
    /// (through `aggregates`), in the caller's transaction. Must run before the commit: nothing
    /// deferred is written otherwise.
    pub fn finish(
        self,
        conn: &mut DbConnection,
        copies: &dyn TicketCopies,
        aggregates: &dyn TicketAggregates,
    ) -> Result<(), ApiError> {
        let mut synced = self.synced.into_inner();
        // The last instant of each ticket, tickets in id order (the order every writer takes);
        // opened in this batch if its first event was.
        synced.sort();
        synced.dedup_by(|later, kept| {
            let same = later.ticket_id == kept.ticket_id;
            if same {
                kept.at = later.at;
                kept.opened |= later.opened;
            }
            same
        });
        // The copies take the counter before the aggregate rows are written, in the order every
        // writer of a ticket takes them (counter, ticket, aggregates): a staff action holding
        // the counter while it adds to today's row of a unit, and this batch holding that row
        // while it waits for the counter, would deadlock on PostgreSQL. The new tickets' copies
        // are computed before the counter and written after it in one statement, and the aggregates
        // in one statement per table, so batches take turns for a few statements only.
        copies.refresh_all(conn, &synced)?;
        aggregates.write(conn, &self.stats.into_inner())?;
        Ok(())
    }
}
