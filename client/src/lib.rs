//! The field-device side of anju sync (离线采集端): a local SQLite store, an outbox of offline
//! changes, and the sync loop that pushes them and pulls the server's state, over a
//! [`Transport`] that is HTTP in production and in-memory (optionally with injected failures)
//! in tests.
//!
//! Guarantees: a change made on the device is in the outbox (durable, SQLite `synchronous=FULL`)
//! before the call returns; it leaves the outbox only in the same transaction that stores the
//! server's answer to it; sequence numbers are contiguous from 1 and never reused; what the
//! device shows is the pulled server state with its unacknowledged (and acknowledged but not
//! yet pulled) changes re-applied by `anju_shared::merge::rebase`, so it never flickers back.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod device;
pub mod error;
pub mod http;
pub mod memory;
pub mod options;
mod schema;
pub mod store;
pub mod sync;
pub mod transport;

pub use device::{Device, Status};
pub use error::{Error, Result};
pub use http::HttpTransport;
pub use options::{MAX_BATCH, RetryPolicy, SyncOptions};
pub use store::{PulledRecord, RecordView, StoredConflict, StoredRejection};
pub use sync::{Refusal, SyncProgress, SyncReport};
pub use transport::{Endpoint, Fault, FaultyTransport, Transport, TransportError};
