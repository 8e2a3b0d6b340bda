//! The answers of the sync endpoints as the OpenAPI document describes them. The wire types
//! live in `anju_shared` (`protocol::PushResponse`, `protocol::PullResponse`,
//! `records::RecordSchema`), which stays free of framework dependencies; these mirror them for
//! the document only, and the test suite's conformance check validates every answer the tests
//! receive against them, so a drift between the two fails a test.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// `POST /api/v1/sync/push`: one result per mutation, in request order.
#[derive(Serialize, ToSchema)]
pub struct PushAnswer {
    /// One per mutation of the request.
    pub results: Vec<MutationResultBody>,
    /// The server's clock after the batch, for the device to observe.
    pub server_hlc: String,
}

/// What happened to one mutation (every outcome acknowledges it: the device drops it from its
/// outbox).
#[derive(Serialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MutationResultBody {
    /// Applied as sent.
    Applied {
        /// The mutation's sequence number.
        seq: u64,
        /// The mutation's record.
        record_id: uuid::Uuid,
        /// The record's version after the mutation.
        version: i64,
    },
    /// Applied; other fields had changed on the server meanwhile and were kept.
    Merged {
        /// The mutation's sequence number.
        seq: u64,
        /// The mutation's record.
        record_id: uuid::Uuid,
        /// The record's version after the mutation.
        version: i64,
        /// Fields changed on the server since the device's base, kept as they are.
        kept_server_fields: Vec<String>,
    },
    /// Some fields were changed on both sides; the policy's winner is current.
    Conflict {
        /// The mutation's sequence number.
        seq: u64,
        /// The mutation's record.
        record_id: uuid::Uuid,
        /// The record's version after the mutation.
        version: i64,
        /// One per contested field.
        conflicts: Vec<FieldConflictBody>,
    },
    /// Refused; nothing of the mutation was applied.
    Rejected {
        /// The mutation's sequence number.
        seq: u64,
        /// The mutation's record.
        record_id: uuid::Uuid,
        /// Stable snake_case code.
        code: String,
        /// Reason in Chinese.
        message_zh: String,
        /// Reason in English.
        message_en: String,
    },
    /// This sequence number was applied before; no second effect.
    AlreadyApplied {
        /// The mutation's sequence number.
        seq: u64,
        /// The mutation's record.
        record_id: uuid::Uuid,
    },
}

/// Which side's value is current after a conflict.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WinnerBody {
    /// The server's value stayed.
    Server,
    /// The device's value (or, for a delete, the deletion) won.
    Device,
}

/// One field changed on both sides.
#[derive(Serialize, ToSchema)]
pub struct FieldConflictBody {
    /// The field's name.
    pub field: String,
    /// The record version the device had seen (null: the device created the record).
    #[schema(required = true)]
    pub base_version: Option<i64>,
    /// The server's value before the mutation (null if the field was unset).
    pub server_value: Value,
    /// The server value's clock stamp, if the field was set.
    #[schema(required = true)]
    pub server_hlc: Option<String>,
    /// Who wrote the server value, if the field was set.
    #[schema(required = true)]
    pub server_author: Option<String>,
    /// The value the device sent (null for a delete; a set delta for a set).
    pub device_value: Value,
    /// The device's clock stamp.
    pub device_hlc: String,
    /// Who made the device's change.
    pub device_author: String,
    /// Which value is current.
    pub winner: WinnerBody,
}

/// `GET /api/v1/sync/pull`: a page of changes after the cursor, from one consistent snapshot.
#[derive(Serialize, ToSchema)]
pub struct PullAnswer {
    /// Changes in commit order.
    pub changes: Vec<ChangeBody>,
    /// Opaque cursor to pass on the next pull.
    pub next_cursor: String,
    /// More changes are waiting: pull again at once.
    pub has_more: bool,
}

/// One change a device applies to its local store.
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeBody {
    /// The record's full current state.
    Upsert {
        /// Record type wire name.
        record_type: String,
        /// Record id.
        id: uuid::Uuid,
        /// Record version.
        version: i64,
        /// All fields (sets as sorted arrays).
        fields: BTreeMap<String, Value>,
        /// Per-field clock stamps, when the server sends them.
        field_hlc: Option<BTreeMap<String, String>>,
    },
    /// The record was deleted.
    Tombstone {
        /// Record type wire name.
        record_type: String,
        /// Record id.
        id: uuid::Uuid,
        /// Version of the deletion.
        version: i64,
    },
    /// The record left the device's scope: purge it locally.
    Revoke {
        /// Record type wire name.
        record_type: String,
        /// Record id.
        id: uuid::Uuid,
    },
}

/// `GET /api/v1/sync/schemas`: one record type devices sync.
#[derive(Serialize, ToSchema)]
pub struct RecordSchemaBody {
    /// Wire name, e.g. `hazard`.
    pub name: String,
    /// Chinese name.
    pub label_zh: String,
    /// Fields, in display order.
    pub fields: Vec<FieldSpecBody>,
    /// Fields holding the unit and/or area ids that decide which devices see the record.
    pub scope_fields: Vec<String>,
    /// Records can only be created, never edited or deleted.
    pub create_only: bool,
    /// Only the server writes records of this type.
    pub read_only: bool,
}

/// One field of a record type.
#[derive(Serialize, ToSchema)]
pub struct FieldSpecBody {
    /// Wire and storage name.
    pub name: String,
    /// Chinese label.
    pub label_zh: String,
    /// What values it accepts: a name (`bool`, `date`, `timestamp`, `uuid`) or an object
    /// naming the kind with its bounds (`{"text": {"max_chars": 200}}`, `{"enum": [...]}`, …).
    pub kind: Value,
    /// Must be present and non-null on create.
    pub required: bool,
    /// How concurrent edits are merged: `last_writer_wins`, `server_authoritative`,
    /// `add_wins_set`, or `{"monotonic": [...]}`.
    pub policy: Value,
}
