//! The sync wire protocol (version 1), as JSON through serde. Device and server exchange exactly
//! these types; the server refuses any other protocol version with [`ProtocolMismatch`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// The protocol version this crate speaks. Bumped on any incompatible change.
pub const PROTOCOL_VERSION: u32 = 1;

/// Protocol versions a server built from this crate accepts.
pub const SUPPORTED_PROTOCOLS: &[u32] = &[PROTOCOL_VERSION];

/// `POST /api/v1/sync/push`: a batch of one device's mutations, in sequence order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The protocol version the device speaks.
    pub protocol: u32,
    /// The device's id, issued at registration.
    pub device_id: Uuid,
    /// Mutations with contiguous `seq`s.
    pub mutations: Vec<Mutation>,
}

/// Whether a mutation writes fields or deletes the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Create the record, or change the listed fields.
    Upsert,
    /// Delete the record (it becomes a tombstone).
    Delete,
}

/// One change a device made offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mutation {
    /// The device's sequence number: contiguous from 1 over the device's life.
    pub seq: u64,
    /// Record type wire name, e.g. `hazard`.
    pub record_type: String,
    /// Record id (a UUIDv7 made on the device for records it creates).
    pub record_id: Uuid,
    /// Upsert or delete.
    pub op: Op,
    /// The record version the device last saw; `None` means the device created the record.
    pub base_version: Option<i64>,
    /// Changed fields only. For add-wins set fields the value is a [`SetDelta`].
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
    /// The device's hybrid clock stamp for this change (string form of `Hlc`).
    pub hlc: String,
}

/// The wire value of an add-wins set field in a mutation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SetDelta {
    /// Elements to add.
    pub add: Vec<String>,
    /// Elements to remove (only those the device had seen are removed).
    pub remove: Vec<String>,
}

/// The answer to a push: one result per mutation, in request order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One per mutation of the request.
    pub results: Vec<MutationResult>,
    /// The server's clock after the batch, for the device to observe.
    pub server_hlc: String,
}

/// What happened to one mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutationResult {
    /// The mutation's sequence number.
    pub seq: u64,
    /// The mutation's record.
    pub record_id: Uuid,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: MutationOutcome,
}

/// The outcome of one mutation. Every outcome acknowledges the mutation: the device removes it
/// from its outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MutationOutcome {
    /// Applied as sent; the record is now at `version`.
    Applied {
        /// The record's version after the mutation.
        version: i64,
    },
    /// Applied; other fields had changed on the server meanwhile and were kept.
    Merged {
        /// The record's version after the mutation.
        version: i64,
        /// Fields changed on the server since the device's base, kept as they are.
        kept_server_fields: Vec<String>,
    },
    /// Some fields were changed on both sides; the policy's winner is current and both values
    /// are in the conflict records.
    Conflict {
        /// The record's version after the mutation.
        version: i64,
        /// One per contested field.
        conflicts: Vec<FieldConflict>,
    },
    /// Refused (validation, permission, state); nothing of the mutation was applied.
    Rejected {
        /// Stable snake_case code.
        code: String,
        /// Reason in Chinese.
        message_zh: String,
        /// Reason in English.
        message_en: String,
    },
    /// This sequence number was applied before; no second effect.
    AlreadyApplied,
}

/// Which side's value is current after a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Winner {
    /// The server's value stayed.
    Server,
    /// The device's value (or, for a delete, the deletion) won.
    Device,
}

/// One field changed on both sides: both values, who and when, and which one is current.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldConflict {
    /// The field's name.
    pub field: String,
    /// The record version the device had seen (`None`: the device created the record).
    pub base_version: Option<i64>,
    /// The server's value before the mutation (`null` if the field was unset).
    pub server_value: Value,
    /// The server value's clock stamp, if the field was set.
    pub server_hlc: Option<String>,
    /// Who wrote the server value, if the field was set.
    pub server_author: Option<String>,
    /// The value the device sent (`null` for a delete; a [`SetDelta`] for a set).
    pub device_value: Value,
    /// The device's clock stamp.
    pub device_hlc: String,
    /// Who made the device's change.
    pub device_author: String,
    /// Which value is current.
    pub winner: Winner,
}

/// `GET /api/v1/sync/pull`: a page of changes after the cursor, from one consistent snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Changes in commit order.
    pub changes: Vec<Change>,
    /// Opaque cursor to pass on the next pull.
    pub next_cursor: String,
    /// More changes are waiting: pull again at once.
    pub has_more: bool,
}

/// One change a device applies to its local store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// The record's full current state.
    Upsert {
        /// Record type wire name.
        record_type: String,
        /// Record id.
        id: Uuid,
        /// Record version.
        version: i64,
        /// All fields (sets as sorted arrays).
        fields: BTreeMap<String, Value>,
        /// Per-field clock stamps, when the server sends them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field_hlc: Option<BTreeMap<String, String>>,
    },
    /// The record was deleted.
    Tombstone {
        /// Record type wire name.
        record_type: String,
        /// Record id.
        id: Uuid,
        /// Version of the deletion.
        version: i64,
    },
    /// The record left the device's scope: purge it locally.
    Revoke {
        /// Record type wire name.
        record_type: String,
        /// Record id.
        id: Uuid,
    },
}

/// The answer to a pull whose cursor is older than the retention horizon: the device must
/// re-download its scope from an empty cursor (keeping its unsent mutations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRequired {
    /// Always `reset_required`.
    pub code: String,
    /// Explanation in Chinese.
    pub message_zh: String,
    /// Explanation in English.
    pub message_en: String,
}

impl Default for ResetRequired {
    fn default() -> Self {
        ResetRequired {
            code: "reset_required".into(),
            message_zh: "同步位置已过期，请重新下载本设备范围内的数据（未上传的修改会保留）".into(),
            message_en: "sync cursor has expired; download this device's scope again (unsent changes are kept)".into(),
        }
    }
}

/// A pull answers either a page or "reset required"; untagged, told apart by `code`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PullAnswer {
    /// The cursor is too old.
    ResetRequired(ResetRequired),
    /// A page of changes.
    Page(PullResponse),
}

/// The error body for a request in a protocol version the server does not speak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolMismatch {
    /// Always `protocol_version_unsupported`.
    pub code: String,
    /// The version the client sent.
    pub requested: u32,
    /// Versions the server accepts.
    pub supported: Vec<u32>,
    /// Explanation in Chinese.
    pub message_zh: String,
    /// Explanation in English.
    pub message_en: String,
}

/// `Ok` if `requested` is a supported protocol version, else the body to answer with.
pub fn check_protocol(requested: u32) -> Result<(), ProtocolMismatch> {
    if SUPPORTED_PROTOCOLS.contains(&requested) {
        return Ok(());
    }
    Err(ProtocolMismatch {
        code: "protocol_version_unsupported".into(),
        requested,
        supported: SUPPORTED_PROTOCOLS.to_vec(),
        message_zh: format!("客户端同步协议版本 {requested} 不受支持，请升级应用"),
        message_en: format!(
            "sync protocol version {requested} is not supported; please update the app"
        ),
    })
}

/// Where a pushed mutation's sequence number stands against the device's last applied one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqCheck {
    /// At or below the last applied: answer [`MutationOutcome::AlreadyApplied`], no effect.
    AlreadyApplied,
    /// Exactly the next one: process it.
    Next,
    /// Beyond the next one: mutations are missing; refuse it and everything after it.
    Gap {
        /// The sequence number the server expects.
        expected: u64,
    },
}

/// Classifies `seq` for a device whose last applied sequence number is `last_applied` (0 when
/// none); sequence numbers start at 1 and are contiguous.
pub fn check_seq(last_applied: u64, seq: u64) -> SeqCheck {
    let expected = last_applied.saturating_add(1);
    match seq.cmp(&expected) {
        std::cmp::Ordering::Less => SeqCheck::AlreadyApplied,
        std::cmp::Ordering::Equal => SeqCheck::Next,
        std::cmp::Ordering::Greater => SeqCheck::Gap { expected },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id() -> Uuid {
        Uuid::parse_str("01890a5d-ac96-774b-bcce-b302099a8057").unwrap()
    }

    #[test]
    fn push_request_round_trips_with_snake_case_op() {
        let req = PushRequest {
            protocol: PROTOCOL_VERSION,
            device_id: id(),
            mutations: vec![Mutation {
                seq: 1,
                record_type: "hazard".into(),
                record_id: id(),
                op: Op::Upsert,
                base_version: None,
                fields: BTreeMap::from([("photos".into(), json!({"add": ["ab"]}))]),
                hlc: "0000018c1a2b3c4d-00000000-d".into(),
            }],
        };
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(v["mutations"][0]["op"], "upsert");
        assert_eq!(v["mutations"][0]["base_version"], Value::Null);
        assert_eq!(serde_json::from_value::<PushRequest>(v).unwrap(), req);
    }

    #[test]
    fn unknown_request_fields_are_refused() {
        let v = json!({"protocol": 1, "device_id": id(), "mutations": [], "extra": 1});
        assert!(serde_json::from_value::<PushRequest>(v).is_err());
    }

    #[test]
    fn outcomes_are_tagged_and_flattened() {
        let r = MutationResult {
            seq: 3,
            record_id: id(),
            outcome: MutationOutcome::Merged {
                version: 7,
                kept_server_fields: vec!["severity".into()],
            },
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["outcome"], "merged");
        assert_eq!(v["version"], 7);
        assert_eq!(serde_json::from_value::<MutationResult>(v).unwrap(), r);
        let a = serde_json::to_value(MutationOutcome::AlreadyApplied).unwrap();
        assert_eq!(a, json!({"outcome": "already_applied"}));
    }

    #[test]
    fn pull_answer_tells_reset_from_page() {
        let reset = serde_json::to_string(&ResetRequired::default()).unwrap();
        assert!(matches!(
            serde_json::from_str::<PullAnswer>(&reset).unwrap(),
            PullAnswer::ResetRequired(_)
        ));
        let page = PullResponse {
            changes: vec![
                Change::Tombstone {
                    record_type: "building".into(),
                    id: id(),
                    version: 4,
                },
                Change::Revoke {
                    record_type: "hazard".into(),
                    id: id(),
                },
            ],
            next_cursor: "c1".into(),
            has_more: false,
        };
        let s = serde_json::to_string(&page).unwrap();
        assert!(s.contains(r#""kind":"tombstone""#));
        assert_eq!(
            serde_json::from_str::<PullAnswer>(&s).unwrap(),
            PullAnswer::Page(page)
        );
    }

    #[test]
    fn sequence_numbers_are_contiguous_from_one() {
        assert_eq!(check_seq(0, 1), SeqCheck::Next);
        assert_eq!(check_seq(0, 0), SeqCheck::AlreadyApplied);
        assert_eq!(check_seq(5, 3), SeqCheck::AlreadyApplied);
        assert_eq!(check_seq(5, 5), SeqCheck::AlreadyApplied);
        assert_eq!(check_seq(5, 6), SeqCheck::Next);
        assert_eq!(check_seq(5, 8), SeqCheck::Gap { expected: 6 });
    }

    #[test]
    fn protocol_check_names_supported_versions() {
        assert!(check_protocol(PROTOCOL_VERSION).is_ok());
        let e = check_protocol(0).unwrap_err();
        assert_eq!(e.code, "protocol_version_unsupported");
        assert_eq!(e.supported, vec![1]);
        assert_eq!(e.requested, 0);
    }
}
