//! The request bodies of the sync endpoints as the OpenAPI document describes them. The wire
//! types live in `anju_shared::protocol`, which stays free of framework dependencies; these
//! mirror them for the document only, and the test suite's conformance check
//! (`anju_tests::conformance`) validates every body the tests send against them, so a drift
//! between the two fails a test.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

/// `POST /api/v1/sync/push`: a batch of mutations with contiguous `seq`s (≤ 1000, ≤ 8 MB).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushBody {
    /// The protocol version the device speaks.
    pub protocol: u32,
    /// The device's id, issued at registration.
    pub device_id: uuid::Uuid,
    /// The changes, in `seq` order.
    pub mutations: Vec<MutationBody>,
}

/// Whether a mutation writes fields or deletes the record.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpBody {
    /// Create the record, or change the listed fields.
    Upsert,
    /// Delete the record (it becomes a tombstone).
    Delete,
}

/// One change a device made offline.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MutationBody {
    /// The device's sequence number: contiguous from 1 over the device's life.
    pub seq: u64,
    /// Record type wire name, e.g. `hazard` (see `GET /api/v1/sync/schemas`).
    pub record_type: String,
    /// Record id (a UUIDv7 made on the device for records it creates).
    pub record_id: uuid::Uuid,
    /// Upsert or delete.
    pub op: OpBody,
    /// The record version the device last saw; null when the device created the record.
    pub base_version: Option<i64>,
    /// Changed fields only; an add-wins set field's value is `{add: [...], remove: [...]}`.
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
    /// The device's hybrid clock stamp for this change.
    pub hlc: String,
}

/// Whose value a resolution keeps.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PickBody {
    /// The value the server held.
    Server,
    /// The value the device sent.
    Device,
}

/// `POST /api/v1/sync/conflicts/{id}/resolve`: `{"pick": "server"|"device"}`, or `{"value": …}`
/// naming one of the two contested values.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ResolveBody {
    /// Keep one side.
    Pick {
        /// The side.
        pick: PickBody,
    },
    /// Keep this value (one of the two contested ones).
    Value {
        /// The value.
        value: Value,
    },
}
