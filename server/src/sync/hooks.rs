//! What the capabilities built on sync add to its writes and its pulls, without sync importing
//! them: sync owns these traits, the capability above implements them, and `startup` wires
//! them into [`super::SyncState`] (the pattern of `tickets::copies::TicketCopies`).
//!
//! - [`RecordHooks`]: the register columns of a `sync_records` row and what else is written
//!   with a record in the same push or conflict-review transaction (a hazard's order clock).
//!   Implemented by `registers::columns::RegisterRecords`.
//!   [`AllOf`] applies several (the registers' columns and hazard clock, then funds' mark of a
//!   changed project).
//! - [`PullFilter`]: records a pull page withholds from a caller (fund summaries from the
//!   roles that may not see funds). Implemented by `funds::record::FundSummaries`.

use anju_shared::merge::StoredRecord;
use anju_shared::protocol::Change;
use diesel::QueryResult;

use super::store::RegisterColumns;
use crate::auth::Principal;
use crate::db::DbConnection;

/// The rules of the capabilities above sync that every record write of a push or a conflict
/// review applies, inside that write's transaction.
pub trait RecordHooks: Send + Sync {
    /// The register columns of the row that stores `record` (all `None` for a record type that
    /// is not a register, and for a tombstone).
    fn columns(&self, record: &StoredRecord) -> RegisterColumns;

    /// Called once for every record just written (its row, version and photo references are
    /// stored), in the same transaction; an error rolls the whole write back.
    fn written(
        &self,
        conn: &mut DbConnection,
        record: &StoredRecord,
        now_ms: i64,
    ) -> QueryResult<()>;
}

/// Several capabilities' rules on record writes, applied in order: the register columns come
/// from the first (the registers' rule), and every one's [`RecordHooks::written`] runs, the
/// first error rolling the write back.
pub struct AllOf(pub Vec<std::sync::Arc<dyn RecordHooks>>);

impl RecordHooks for AllOf {
    fn columns(&self, record: &StoredRecord) -> RegisterColumns {
        self.0
            .first()
            .map(|h| h.columns(record))
            .unwrap_or_default()
    }

    fn written(
        &self,
        conn: &mut DbConnection,
        record: &StoredRecord,
        now_ms: i64,
    ) -> QueryResult<()> {
        for h in &self.0 {
            h.written(conn, record, now_ms)?;
        }
        Ok(())
    }
}

/// What a pull page may not hand to a caller.
pub trait PullFilter: Send + Sync {
    /// Takes out of `changes` those `principal` may not receive.
    fn withhold(&self, principal: &Principal, changes: &mut Vec<Change>);
}

/// Nothing wired: no register columns, nothing written besides the record, nothing withheld.
/// Only for a `SyncState` built without the capabilities (`startup` wires the real ones).
pub struct NoHooks;

impl RecordHooks for NoHooks {
    fn columns(&self, _record: &StoredRecord) -> RegisterColumns {
        RegisterColumns::default()
    }

    fn written(
        &self,
        _conn: &mut DbConnection,
        _record: &StoredRecord,
        _now_ms: i64,
    ) -> QueryResult<()> {
        Ok(())
    }
}

impl PullFilter for NoHooks {
    fn withhold(&self, _principal: &Principal, _changes: &mut Vec<Change>) {}
}
