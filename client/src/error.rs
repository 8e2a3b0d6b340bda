//! The one error type of the device crate. Every variant reads as a plain sentence a field
//! inspector can act on; the CLI prints it as is.

use std::path::PathBuf;

use uuid::Uuid;

use crate::transport::TransportError;

/// Everything that can go wrong on the device. No variant leaves the outbox half-changed: each
/// local write is one SQLite transaction.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The local store cannot be read (not a database, damaged, or unreadable data in it).
    #[error(
        "the local store {path} is damaged or is not an anju device store ({detail}); keep a copy of the file and ask support before deleting it"
    )]
    CorruptStore {
        /// The store file.
        path: PathBuf,
        /// What SQLite or the decoder said.
        detail: String,
    },
    /// A local database error that is not corruption (e.g. disk full, locked by another process).
    #[error("local store error in {path}: {detail}")]
    Store {
        /// The store file.
        path: PathBuf,
        /// What SQLite said.
        detail: String,
    },
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("cannot read", "cannot copy into").
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The record type is not one devices sync.
    #[error(
        "unknown record type {0:?}; known types: project, building, inspection, hazard, ticket_action"
    )]
    UnknownRecordType(String),
    /// A field value does not fit the record schema; nothing was queued.
    #[error("{record_type}.{field}: {message_en} ({message_zh})")]
    InvalidField {
        /// Record type.
        record_type: String,
        /// Field name.
        field: String,
        /// Stable code (`unknown_field`, `wrong_type`, `field_required`, …).
        code: String,
        /// Reason in English.
        message_en: String,
        /// Reason in Chinese.
        message_zh: String,
    },
    /// The change does not make sense for this record (empty edit, edit of a create-only record,
    /// photo attached to a non-photo field).
    #[error("{0}")]
    InvalidChange(String),
    /// No record with this id is visible on the device.
    #[error("no record {0} on this device (run sync to fetch the latest)")]
    NotFound(Uuid),
    /// A photo waiting for upload is no longer on disk (or no longer has the same content).
    #[error(
        "photo {sha256} is missing or changed at {path}; put the original file back there and sync again (nothing was sent, the pending changes are kept)"
    )]
    PhotoMissing {
        /// Content hash the record refers to.
        sha256: String,
        /// Where the device kept it.
        path: PathBuf,
    },
    /// No server is configured for this device.
    #[error("no server configured for this device; pass --server URL (once is enough)")]
    NoServer,
    /// The device has no session yet.
    #[error("this device is not logged in; run `anju-device login --username NAME` first")]
    NotLoggedIn,
    /// The server refused the username or password.
    #[error("login refused: {0}")]
    LoginRefused(String),
    /// The refresh token was refused: the user must log in again (the outbox is kept).
    #[error("the session has expired; log in again (pending changes are kept)")]
    SessionExpired,
    /// An administrator revoked this device: it can no longer sync.
    #[error(
        "this device has been revoked by an administrator and can no longer sync; pending changes are kept on this device, contact your supervisor"
    )]
    DeviceRevoked,
    /// The server speaks a protocol version this build does not.
    #[error(
        "the server no longer accepts this app's sync protocol (version {requested}; server accepts {supported:?}); update the app, pending changes are kept"
    )]
    ProtocolOutdated {
        /// The version this device speaks.
        requested: u32,
        /// Versions the server accepts.
        supported: Vec<u32>,
    },
    /// The server expects a sequence number this device no longer holds (the server lost data,
    /// e.g. restored from a backup); the outbox is kept.
    #[error(
        "the server expects change #{expected} from this device but the oldest pending one is #{first_pending}; the server may have been restored from a backup, contact support (pending changes are kept)"
    )]
    SequenceGap {
        /// What the server expects next.
        expected: u64,
        /// The oldest entry in the outbox.
        first_pending: u64,
    },
    /// The server could not be reached or answered with an error, after retries.
    #[error("sync failed, pending changes are kept: {0}")]
    Server(#[from] TransportError),
}

/// Result with the device error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
