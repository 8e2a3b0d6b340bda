//! The three-way, per-field merge of a device's mutation into the server's stored record, and
//! the device-side rebase of pending mutations over freshly pulled state.
//!
//! Both the server and the device run this code, so they agree on every outcome. The merge is a
//! pure function of its inputs: same inputs, same result.
//!
//! # Rules
//! A field counts as *changed on the server since the base* when its last write has a version
//! greater than the mutation's `base_version` (`None` = 0) **and** was made by another author: a
//! device's mutations are applied in sequence order, so a device never conflicts with its own
//! earlier writes (e.g. a create and an edit made before the device learned the new version).
//! `author` must therefore identify the device (or the console user), not only the person.
//!
//! * Value equal to the server's: never a conflict. Under last-writer-wins the field's stamp
//!   moves to the device's if that is newer (so arrival order cannot change the result);
//!   otherwise nothing is written.
//! * [`MergePolicy::LastWriterWins`]: not changed on the server → the device value applies.
//!   Changed on both sides → a conflict; the greater hybrid clock stamp is current (a tie keeps
//!   the server's).
//! * [`MergePolicy::ServerAuthoritative`]: a device may set it when it creates the record; after
//!   that a different value from a device is never applied and is always reported as a conflict
//!   won by the server.
//! * [`MergePolicy::Monotonic`]: a move forward in the order applies (a conflict won by the
//!   device if the server had also changed it). A move backwards is never applied, even without
//!   concurrency, and is reported as a conflict won by the server. It is not rejected, so the
//!   other fields of the same mutation are not lost.
//! * [`MergePolicy::AddWinsSet`]: adds always apply. A remove takes away an element only if the
//!   device had seen it (added at a version ≤ base, or by the same author); a remove that meets a
//!   concurrent add is dropped, add wins, and reported as a conflict won by the server.
//! * Create: the device may set every field, server-authoritative ones included (it names the
//!   responsible unit of the hazard it found); required fields must be present; removes in a set
//!   delta are ignored; a status may start at any state of its order.
//! * Create (base `None`) of an id that already exists: a concurrent create; merged per field as
//!   above with every other author's field counted as changed.
//! * Delete vs concurrent edits: the delete wins; each field another author changed since the
//!   base is reported as a conflict won by the device, so the lost edits can be reviewed. The
//!   tombstone keeps the last field values. Deleting a deleted record is a no-op.
//! * Edit of a deleted record: rejected with `record_deleted` (no resurrection; a person can
//!   restore through conflict review, which is an ordinary server change).
//! * Rejections (nothing applied): `unknown_record_type`, `record_type_mismatch`,
//!   `unknown_field`, the field's validation code (`wrong_type`, `field_required`, …),
//!   `invalid_hlc`, `record_not_found`, `invalid_base_version`, `record_deleted`,
//!   `read_only_record_type`, `create_only`, `record_exists`, `delete_with_fields`.
//!
//! The merge trusts the mutation's clock stamp. The server first observes it with
//! [`crate::hlc::HlcClock::observe`] and refuses a stamp too far ahead (`clock_drift`, via
//! `From<StampError> for Rejection`), so a device with a wrong clock cannot win every race.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::hlc::{Hlc, StampError};
use crate::protocol::{Change, FieldConflict, Mutation, MutationOutcome, Op, SetDelta, Winner};
use crate::records::{FieldKind, FieldSpec, MergePolicy, RecordSchema, schema_for};
use crate::rejection::RejectionCode;

/// One add of an element to an add-wins set: when and by whom. An element is present while it
/// has at least one tag; a remove deletes only the tags the remover had seen, so an add it had
/// not seen keeps the element (add wins) whatever order the two arrive in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementTag {
    /// Record version at which the element was added.
    pub version: i64,
    /// Who added it.
    pub author: String,
}

/// The server's state of one field: its value and the stamp of its last change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldState {
    /// Current value (`null` = cleared; a sorted array for sets).
    pub value: Value,
    /// Hybrid clock stamp of the last change (canonical string form).
    pub hlc: String,
    /// Record version at which the field last changed.
    pub version: i64,
    /// Who made the last change.
    pub author: String,
    /// For add-wins sets: each present element's add tags (never empty). Empty for other
    /// fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub elements: BTreeMap<String, Vec<ElementTag>>,
}

/// A record as the server stores it, with per-field change stamps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecord {
    /// Record type wire name.
    pub record_type: String,
    /// Record id.
    pub id: Uuid,
    /// Version of the last change (≥ every field's version).
    pub version: i64,
    /// The record is a tombstone.
    pub deleted: bool,
    /// Field states by name.
    pub fields: BTreeMap<String, FieldState>,
}

impl StoredRecord {
    /// The non-null field values, as a device sees them.
    pub fn values(&self) -> BTreeMap<String, Value> {
        self.fields
            .iter()
            .filter(|(_, s)| !s.value.is_null())
            .map(|(k, s)| (k.clone(), s.value.clone()))
            .collect()
    }

    /// The change a pull carries for this record: a tombstone if deleted, else its full state
    /// with per-field stamps.
    pub fn to_change(&self) -> Change {
        if self.deleted {
            return Change::Tombstone {
                record_type: self.record_type.clone(),
                id: self.id,
                version: self.version,
            };
        }
        Change::Upsert {
            record_type: self.record_type.clone(),
            id: self.id,
            version: self.version,
            fields: self.values(),
            field_hlc: Some(
                self.fields
                    .iter()
                    .map(|(k, s)| (k.clone(), s.hlc.clone()))
                    .collect(),
            ),
        }
    }
}

/// Why a mutation was refused as a whole; nothing of it was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message_en}")]
pub struct Rejection {
    /// Stable snake_case code.
    pub code: String,
    /// Reason in Chinese.
    pub message_zh: String,
    /// Reason in English.
    pub message_en: String,
}

impl Rejection {
    /// A rejection with its code from the one table ([`RejectionCode`]) and both messages.
    pub fn new(code: RejectionCode, zh: impl Into<String>, en: impl Into<String>) -> Rejection {
        Rejection {
            code: code.as_str().into(),
            message_zh: zh.into(),
            message_en: en.into(),
        }
    }
}

impl From<StampError> for Rejection {
    /// The server observes each mutation's stamp with `HlcClock::observe` before merging, so a
    /// device whose clock runs far ahead cannot win every last-writer-wins race; this is the
    /// answer when it refuses one (`clock_drift`, or `invalid_hlc` for a malformed stamp).
    fn from(e: StampError) -> Self {
        match e {
            StampError::TooFarAhead { ahead_ms, .. } => Rejection::new(
                RejectionCode::ClockDrift,
                format!(
                    "设备时钟比服务器快 {} 秒，请校准设备时间后重试",
                    ahead_ms / 1000
                ),
                format!(
                    "device clock is {} s ahead of the server; fix the device time and retry",
                    ahead_ms / 1000
                ),
            ),
            StampError::Malformed(_) | StampError::CounterOverflow => Rejection::new(
                RejectionCode::InvalidHlc,
                "修改的时钟戳格式错误",
                format!("invalid hybrid clock stamp: {e}"),
            ),
        }
    }
}

impl From<Rejection> for MutationOutcome {
    fn from(r: Rejection) -> Self {
        MutationOutcome::Rejected {
            code: r.code,
            message_zh: r.message_zh,
            message_en: r.message_en,
        }
    }
}

/// The result of merging one mutation.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeResult {
    /// The record after the mutation (equal to the input when `changed` is false).
    pub record: StoredRecord,
    /// Applied, Merged or Conflict (with its field conflicts).
    pub outcome: MutationOutcome,
    /// Whether anything was written. When false the server stores nothing and bumps no
    /// version (conflicts may still need recording, e.g. a refused server-authoritative edit).
    pub changed: bool,
}

impl MergeResult {
    /// The field conflicts to store for review (empty unless the outcome is a conflict).
    pub fn conflicts(&self) -> &[FieldConflict] {
        match &self.outcome {
            MutationOutcome::Conflict { conflicts, .. } => conflicts,
            _ => &[],
        }
    }
}

/// [`merge`] with the schema looked up by the mutation's record type.
pub fn merge_mutation(
    current: Option<&StoredRecord>,
    mutation: &Mutation,
    author: &str,
    next_version: i64,
) -> Result<MergeResult, Rejection> {
    let schema =
        schema_for(&mutation.record_type).ok_or_else(|| unknown_type(&mutation.record_type))?;
    merge(schema, current, mutation, author, next_version)
}

fn unknown_type(name: &str) -> Rejection {
    Rejection::new(
        RejectionCode::UnknownRecordType,
        format!("未知的记录类型：{name}"),
        format!("unknown record type: {name}"),
    )
}

/// Merges `mutation` (made by `author`) into `current` (the stored record with this id, if
/// any). If anything changes, the new record version is `next_version`, which must be greater
/// than `current`'s. Deterministic. See the module documentation for the rules.
pub fn merge(
    schema: &RecordSchema,
    current: Option<&StoredRecord>,
    mutation: &Mutation,
    author: &str,
    next_version: i64,
) -> Result<MergeResult, Rejection> {
    merge_as(schema, current, mutation, author, next_version, false)
}

/// Merges a *server-authored* mutation: a decision the server took after checking its own rules
/// (e.g. applying a `hazard_action` to its hazard), made against the current version inside
/// the same transaction. It goes through the same validation, stamps, versions and set tags as
/// any mutation, but every field it names applies as given: server-authoritative fields (the
/// server is their authority) and monotonic statuses too. That is how a hazard sent back after
/// a failed check returns from `rectified` to `open`: the server's mutation also raises the
/// hazard's `round` (整改轮次), and the status only moves forward within a round. Devices never
/// get this: their mutations go through [`merge`].
pub fn merge_server(
    schema: &RecordSchema,
    current: Option<&StoredRecord>,
    mutation: &Mutation,
    author: &str,
    next_version: i64,
) -> Result<MergeResult, Rejection> {
    merge_as(schema, current, mutation, author, next_version, true)
}

fn merge_as(
    schema: &RecordSchema,
    current: Option<&StoredRecord>,
    mutation: &Mutation,
    author: &str,
    next_version: i64,
    server: bool,
) -> Result<MergeResult, Rejection> {
    debug_assert!(current.is_none_or(|c| next_version > c.version));
    if mutation.record_type != schema.name {
        return Err(unknown_type(&mutation.record_type));
    }
    if schema.read_only {
        return Err(Rejection::new(
            RejectionCode::ReadOnlyRecordType,
            format!("{}由服务器维护，设备不能新建、修改或删除", schema.label_zh),
            format!("{} records are written by the server only", schema.name),
        ));
    }
    let hlc = Hlc::parse(&mutation.hlc)?.to_string();
    let specs = validate_fields(schema, mutation)?;
    if mutation.op == Op::Delete && !mutation.fields.is_empty() {
        return Err(Rejection::new(
            RejectionCode::DeleteWithFields,
            "删除操作不能同时修改字段",
            "a delete must not carry fields",
        ));
    }
    if schema.create_only {
        if mutation.op == Op::Delete || mutation.base_version.is_some() {
            return Err(Rejection::new(
                RejectionCode::CreateOnly,
                format!("{}只能新建，不能修改或删除", schema.label_zh),
                format!("{} records can only be created", schema.name),
            ));
        }
        if current.is_some() {
            return Err(Rejection::new(
                RejectionCode::RecordExists,
                "该记录已存在",
                "a record with this id already exists",
            ));
        }
    }
    let ctx = Ctx {
        mutation,
        author,
        hlc,
        next_version,
        server,
    };
    match current {
        None => create(schema, &specs, &ctx),
        Some(cur) => {
            if cur.record_type != schema.name {
                return Err(Rejection::new(
                    RejectionCode::RecordTypeMismatch,
                    "记录编号已被其他类型的记录使用",
                    format!("record id belongs to a {} record", cur.record_type),
                ));
            }
            let base = mutation.base_version.unwrap_or(0);
            if base > cur.version || base < 0 {
                return Err(Rejection::new(
                    RejectionCode::InvalidBaseVersion,
                    "设备所依据的版本在服务器上不存在",
                    format!("base version {base} is not a version of this record"),
                ));
            }
            match (mutation.op, cur.deleted) {
                (Op::Delete, true) => Ok(MergeResult {
                    record: cur.clone(),
                    outcome: MutationOutcome::Applied {
                        version: cur.version,
                    },
                    changed: false,
                }),
                (Op::Upsert, true) => Err(Rejection::new(
                    RejectionCode::RecordDeleted,
                    "该记录已被删除，修改未生效",
                    "the record has been deleted; the edit was not applied",
                )),
                (Op::Delete, false) => Ok(delete(cur, base, &ctx)),
                (Op::Upsert, false) => Ok(update(&specs, cur, base, &ctx)),
            }
        }
    }
}

struct Ctx<'a> {
    mutation: &'a Mutation,
    author: &'a str,
    hlc: String,
    next_version: i64,
    /// A server-authored mutation ([`merge_server`]): every named field applies.
    server: bool,
}

impl Ctx<'_> {
    fn tag(&self) -> ElementTag {
        ElementTag {
            version: self.next_version,
            author: self.author.to_owned(),
        }
    }

    fn state(&self, value: Value, elements: BTreeMap<String, Vec<ElementTag>>) -> FieldState {
        FieldState {
            value,
            hlc: self.hlc.clone(),
            version: self.next_version,
            author: self.author.to_owned(),
            elements,
        }
    }

    fn conflict(
        &self,
        field: &str,
        server: Option<&FieldState>,
        device_value: Value,
        winner: Winner,
    ) -> FieldConflict {
        FieldConflict {
            field: field.to_owned(),
            base_version: self.mutation.base_version,
            server_value: server.map_or(Value::Null, |s| s.value.clone()),
            server_hlc: server.map(|s| s.hlc.clone()),
            server_author: server.map(|s| s.author.clone()),
            device_value,
            device_hlc: self.hlc.clone(),
            device_author: self.author.to_owned(),
            winner,
        }
    }

    /// Changed on the server since the device's base, by someone other than this author.
    fn changed_since_base(&self, version: i64, author: &str, base: i64) -> bool {
        version > base && author != self.author
    }
}

fn validate_fields(
    schema: &RecordSchema,
    mutation: &Mutation,
) -> Result<BTreeMap<String, &'static FieldSpec>, Rejection> {
    let mut specs = BTreeMap::new();
    for (name, value) in &mutation.fields {
        let spec = schema.field(name).ok_or_else(|| {
            Rejection::new(
                RejectionCode::UnknownField,
                format!("{}没有字段 {name}", schema.label_zh),
                format!("{} has no field {name}", schema.name),
            )
        })?;
        spec.validate(value).map_err(|e| Rejection {
            code: e.code.as_str().to_owned(),
            message_zh: format!("{}：{}", spec.label_zh, e.message_zh),
            message_en: format!("{name}: {}", e.message_en),
        })?;
        specs.insert(name.clone(), spec);
    }
    Ok(specs)
}

fn set_delta(value: &Value) -> SetDelta {
    // Validated before: an object with string arrays under add/remove.
    serde_json::from_value(value.clone()).unwrap_or_default()
}

fn set_value(elements: &BTreeMap<String, Vec<ElementTag>>) -> Value {
    Value::Array(elements.keys().cloned().map(Value::String).collect())
}

fn create(
    schema: &RecordSchema,
    specs: &BTreeMap<String, &FieldSpec>,
    ctx: &Ctx,
) -> Result<MergeResult, Rejection> {
    let m = ctx.mutation;
    if m.op == Op::Delete || m.base_version.is_some() {
        return Err(Rejection::new(
            RejectionCode::RecordNotFound,
            "服务器上没有该记录",
            "the record does not exist on the server",
        ));
    }
    if let Some(missing) = schema
        .fields
        .iter()
        .find(|f| f.required && !m.fields.contains_key(f.name))
    {
        return Err(Rejection::new(
            RejectionCode::FieldRequired,
            format!("新建{}必须填写{}", schema.label_zh, missing.label_zh),
            format!("{} is required to create a {}", missing.name, schema.name),
        ));
    }
    let mut fields = BTreeMap::new();
    for (name, value) in &m.fields {
        let state = if matches!(specs[name].kind, FieldKind::StringSet { .. }) {
            let elements: BTreeMap<String, Vec<ElementTag>> = set_delta(value)
                .add
                .into_iter()
                .map(|e| (e, vec![ctx.tag()]))
                .collect();
            ctx.state(set_value(&elements), elements)
        } else {
            ctx.state(value.clone(), BTreeMap::new())
        };
        fields.insert(name.clone(), state);
    }
    Ok(MergeResult {
        record: StoredRecord {
            record_type: schema.name.to_owned(),
            id: m.record_id,
            version: ctx.next_version,
            deleted: false,
            fields,
        },
        outcome: MutationOutcome::Applied {
            version: ctx.next_version,
        },
        changed: true,
    })
}

fn delete(cur: &StoredRecord, base: i64, ctx: &Ctx) -> MergeResult {
    let conflicts: Vec<FieldConflict> = cur
        .fields
        .iter()
        .filter(|(_, s)| ctx.changed_since_base(s.version, &s.author, base))
        .map(|(name, s)| ctx.conflict(name, Some(s), Value::Null, Winner::Device))
        .collect();
    let mut record = cur.clone();
    record.deleted = true;
    record.version = ctx.next_version;
    let version = ctx.next_version;
    let outcome = if conflicts.is_empty() {
        MutationOutcome::Applied { version }
    } else {
        MutationOutcome::Conflict { version, conflicts }
    };
    MergeResult {
        record,
        outcome,
        changed: true,
    }
}

/// Position of a status value in a monotonic order.
fn rank(order: &[&str], value: &Value) -> Option<usize> {
    value
        .as_str()
        .and_then(|s| order.iter().position(|o| *o == s))
}

fn update(
    specs: &BTreeMap<String, &FieldSpec>,
    cur: &StoredRecord,
    base: i64,
    ctx: &Ctx,
) -> MergeResult {
    let mut record = cur.clone();
    let mut conflicts = Vec::new();
    let mut changed = false;
    let hlc_wins = |server_hlc: &str| match Hlc::parse(server_hlc) {
        Ok(s) => Hlc::parse(&ctx.hlc).is_ok_and(|d| d > s),
        // An unreadable stored stamp loses to any valid one.
        Err(_) => true,
    };
    for (name, device_value) in &ctx.mutation.fields {
        let spec = specs[name];
        let server = cur.fields.get(name);
        if spec.policy == MergePolicy::AddWinsSet {
            let delta = set_delta(device_value);
            let mut elements = server.map(|s| s.elements.clone()).unwrap_or_default();
            let mut set_changed = false;
            let mut refused_removes = false;
            for e in &delta.add {
                let tags = elements.entry(e.clone()).or_default();
                // An author's second add of an element it already holds adds nothing it had
                // not seen; skipping it keeps a re-sent mutation free of effects.
                if !tags.iter().any(|t| t.author == ctx.author) {
                    tags.push(ctx.tag());
                    set_changed = true;
                }
            }
            for e in delta.remove.iter().filter(|e| !delta.add.contains(e)) {
                let Some(tags) = elements.get_mut(e) else {
                    continue;
                };
                let before = tags.len();
                tags.retain(|t| ctx.changed_since_base(t.version, &t.author, base));
                set_changed |= tags.len() != before;
                if tags.is_empty() {
                    elements.remove(e);
                } else {
                    refused_removes = true;
                }
            }
            if refused_removes {
                conflicts.push(ctx.conflict(name, server, device_value.clone(), Winner::Server));
            }
            if set_changed {
                record
                    .fields
                    .insert(name.clone(), ctx.state(set_value(&elements), elements));
                changed = true;
            }
            continue;
        }
        let server_value = server.map_or(&Value::Null, |s| &s.value);
        if server_value == device_value {
            // Not a conflict. Under last-writer-wins the write still counts with its stamp when
            // it is the newer one, so that the outcome does not depend on arrival order.
            if spec.policy == MergePolicy::LastWriterWins && server.is_none_or(|s| hlc_wins(&s.hlc))
            {
                record.fields.insert(
                    name.clone(),
                    ctx.state(device_value.clone(), BTreeMap::new()),
                );
                changed = true;
            }
            continue;
        }
        let concurrent = server.is_some_and(|s| ctx.changed_since_base(s.version, &s.author, base));
        let (apply, winner) = match spec.policy {
            _ if ctx.server => (true, None),
            MergePolicy::ServerAuthoritative => (false, Some(Winner::Server)),
            MergePolicy::Monotonic(order) => {
                match (rank(order, server_value), rank(order, device_value)) {
                    (None, _) => (true, concurrent.then_some(Winner::Device)),
                    (Some(s), Some(d)) if d > s => (true, concurrent.then_some(Winner::Device)),
                    _ => (false, Some(Winner::Server)),
                }
            }
            MergePolicy::LastWriterWins | MergePolicy::AddWinsSet => {
                if !concurrent {
                    (true, None)
                } else if server.is_some_and(|s| hlc_wins(&s.hlc)) {
                    (true, Some(Winner::Device))
                } else {
                    (false, Some(Winner::Server))
                }
            }
        };
        if let Some(winner) = winner {
            conflicts.push(ctx.conflict(name, server, device_value.clone(), winner));
        }
        if apply {
            record.fields.insert(
                name.clone(),
                ctx.state(device_value.clone(), BTreeMap::new()),
            );
            changed = true;
        }
    }
    let version = if changed {
        ctx.next_version
    } else {
        cur.version
    };
    record.version = version;
    let touched: BTreeSet<&String> = ctx.mutation.fields.keys().collect();
    let kept_server_fields: Vec<String> = cur
        .fields
        .iter()
        .filter(|(name, s)| {
            !touched.contains(name) && ctx.changed_since_base(s.version, &s.author, base)
        })
        .map(|(name, _)| name.clone())
        .collect();
    let outcome = if !conflicts.is_empty() {
        MutationOutcome::Conflict { version, conflicts }
    } else if !kept_server_fields.is_empty() {
        MutationOutcome::Merged {
            version,
            kept_server_fields,
        }
    } else {
        MutationOutcome::Applied { version }
    };
    MergeResult {
        record,
        outcome,
        changed,
    }
}

/// The server-authoritative fields (e.g. 整改责任单位, 整改期限) whose value `mutation` would
/// change on the existing record `current`. Only a person who may overrule them (a supervisor or
/// an administrator) may ask for that; the server refuses such a mutation from anyone else with
/// [`server_authoritative_rejection`] instead of keeping it as a conflict, and a device can
/// check before it sends. Empty for a delete, and for values equal to the stored ones.
pub fn server_authoritative_changes(
    schema: &RecordSchema,
    current: &StoredRecord,
    mutation: &Mutation,
) -> Vec<&'static FieldSpec> {
    if mutation.op == Op::Delete {
        return Vec::new();
    }
    mutation
        .fields
        .iter()
        .filter_map(|(name, value)| {
            let spec = schema.field(name)?;
            let stored = current.fields.get(name).map_or(&Value::Null, |s| &s.value);
            (spec.policy == MergePolicy::ServerAuthoritative && stored != value).then_some(spec)
        })
        .collect()
}

/// The refusal of a mutation that would change the server-authoritative `fields`
/// (`server_authoritative_field`): nothing of it is applied, nothing is kept as a conflict.
pub fn server_authoritative_rejection(fields: &[&FieldSpec]) -> Rejection {
    let zh: Vec<&str> = fields.iter().map(|f| f.label_zh).collect();
    let en: Vec<&str> = fields.iter().map(|f| f.name).collect();
    Rejection::new(
        RejectionCode::ServerAuthoritativeField,
        format!(
            "{}由服务器管理，只有督办人员或管理员可以修改；本次修改未生效",
            zh.join("、")
        ),
        format!(
            "{} can only be changed by a supervisor or an administrator; this change was not applied",
            en.join(", ")
        ),
    )
}

/// Device side: the record as the device should show it, i.e. the freshly pulled server values
/// (`None` = absent or deleted) with the device's pending mutations for this record applied in
/// order. Uses the same policies as [`merge`] where they can be decided locally: a pending edit
/// of a server-authoritative field on an existing record and a backwards status move are not
/// shown, because the server will not apply them. `None` means the record is not shown.
pub fn rebase(
    schema: &RecordSchema,
    server_fields: Option<&BTreeMap<String, Value>>,
    pending: &[Mutation],
) -> Option<BTreeMap<String, Value>> {
    let mut view = server_fields.cloned();
    let mut deleted_locally = false;
    for m in pending {
        if m.op == Op::Delete {
            view = None;
            deleted_locally = true;
            continue;
        }
        let creating = view.is_none();
        if creating {
            if server_fields.is_some() || m.base_version.is_some() || deleted_locally {
                // Edit of a record that is gone on the server: it will be rejected.
                continue;
            }
            view = Some(BTreeMap::new());
        }
        let Some(fields) = view.as_mut() else {
            continue;
        };
        for (name, value) in &m.fields {
            let Some(spec) = schema.field(name) else {
                continue;
            };
            let current = fields.get(name).cloned().unwrap_or(Value::Null);
            match spec.policy {
                MergePolicy::AddWinsSet => {
                    let delta = set_delta(value);
                    let mut set: BTreeSet<String> = current
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    for r in &delta.remove {
                        set.remove(r);
                    }
                    set.extend(delta.add);
                    fields.insert(
                        name.clone(),
                        Value::Array(set.into_iter().map(Value::String).collect()),
                    );
                    continue;
                }
                MergePolicy::ServerAuthoritative if !creating => continue,
                MergePolicy::Monotonic(order) => {
                    if let (Some(s), d) = (rank(order, &current), rank(order, value))
                        && d.is_none_or(|d| d < s)
                    {
                        continue;
                    }
                }
                _ => {}
            }
            if value.is_null() {
                fields.remove(name);
            } else {
                fields.insert(name.clone(), value.clone());
            }
        }
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::HlcClock;
    use crate::records::{HAZARD, HAZARD_STATUS, PROJECT, TICKET_ACTION};
    use serde_json::json;

    const UNIT: &str = "01890a5d-ac96-774b-bcce-b302099a8057";
    const UNIT2: &str = "01890a5d-ac96-774b-bcce-b302099a8058";
    const AREA: &str = "01890a5d-ac96-774b-bcce-b302099a8059";

    fn rid() -> Uuid {
        Uuid::parse_str("0190f5d1-0000-7000-8000-000000000001").unwrap()
    }

    fn stamp(wall_ms: u64, node: &str) -> String {
        Hlc {
            wall_ms,
            counter: 0,
            node: node.into(),
        }
        .to_string()
    }

    fn photo(c: char) -> String {
        c.to_string().repeat(64)
    }

    fn upsert(base: Option<i64>, hlc: String, fields: Value) -> Mutation {
        Mutation {
            seq: 1,
            record_type: "hazard".into(),
            record_id: rid(),
            op: Op::Upsert,
            base_version: base,
            fields: serde_json::from_value(fields).unwrap(),
            hlc,
        }
    }

    fn delete_m(base: Option<i64>, hlc: String) -> Mutation {
        Mutation {
            op: Op::Delete,
            fields: BTreeMap::new(),
            ..upsert(base, hlc, json!({}))
        }
    }

    /// A hazard created by device A at version 1.
    fn created() -> StoredRecord {
        let m = upsert(
            None,
            stamp(1000, "A"),
            json!({
                "description": "外墙空鼓", "area_id": AREA, "unit_id": UNIT,
                "severity": "medium", "status": "open",
                "photos": {"add": [photo('a')]}
            }),
        );
        let r = merge(&HAZARD, None, &m, "A", 1).unwrap();
        assert_eq!(r.outcome, MutationOutcome::Applied { version: 1 });
        r.record
    }

    fn apply(cur: &StoredRecord, m: &Mutation, author: &str) -> MergeResult {
        merge(&HAZARD, Some(cur), m, author, cur.version + 1).unwrap()
    }

    fn reject(cur: Option<&StoredRecord>, m: &Mutation) -> String {
        merge(&HAZARD, cur, m, "X", cur.map_or(1, |c| c.version + 1))
            .unwrap_err()
            .code
    }

    fn val(r: &StoredRecord, f: &str) -> Value {
        r.fields.get(f).map_or(Value::Null, |s| s.value.clone())
    }

    #[test]
    fn create_stores_fields_with_stamps_and_sorted_sets() {
        let r = created();
        assert_eq!(r.version, 1);
        assert!(!r.deleted);
        let photos = &r.fields["photos"];
        assert_eq!(photos.value, json!([photo('a')]));
        assert_eq!(photos.version, 1);
        assert_eq!(photos.author, "A");
        assert_eq!(r.fields["status"].hlc, stamp(1000, "A"));
        assert!(matches!(r.to_change(), Change::Upsert { version: 1, .. }));
    }

    #[test]
    fn rejections_have_codes_and_apply_nothing() {
        let cur = created();
        let h = || stamp(2000, "B");
        assert_eq!(
            reject(None, &upsert(None, h(), json!({"description": "x"}))),
            "field_required"
        );
        assert_eq!(
            reject(Some(&cur), &upsert(Some(1), h(), json!({"colour": "red"}))),
            "unknown_field"
        );
        assert_eq!(
            reject(Some(&cur), &upsert(Some(1), h(), json!({"severity": 3}))),
            "wrong_type"
        );
        assert_eq!(
            reject(
                Some(&cur),
                &upsert(Some(1), h(), json!({"severity": "huge"}))
            ),
            "not_allowed_value"
        );
        assert_eq!(
            reject(Some(&cur), &upsert(Some(1), h(), json!({"status": null}))),
            "field_required"
        );
        assert_eq!(
            reject(Some(&cur), &upsert(Some(1), "yesterday".into(), json!({}))),
            "invalid_hlc"
        );
        assert_eq!(
            reject(Some(&cur), &upsert(Some(9), h(), json!({}))),
            "invalid_base_version"
        );
        assert_eq!(
            reject(None, &upsert(Some(1), h(), json!({"description": "x"}))),
            "record_not_found"
        );
        assert_eq!(reject(None, &delete_m(Some(1), h())), "record_not_found");
        let mut d = delete_m(Some(1), h());
        d.fields.insert("severity".into(), json!("low"));
        assert_eq!(reject(Some(&cur), &d), "delete_with_fields");
        let mut other = upsert(Some(1), h(), json!({}));
        other.record_type = "spaceship".into();
        assert_eq!(
            merge_mutation(Some(&cur), &other, "B", 2).unwrap_err().code,
            "unknown_record_type"
        );
        assert_eq!(
            merge(&HAZARD, Some(&cur), &other, "B", 2).unwrap_err().code,
            "unknown_record_type"
        );
        let mut project = upsert(Some(1), h(), json!({"status": "planned"}));
        project.record_type = "project".into();
        assert_eq!(
            merge(&PROJECT, Some(&cur), &project, "B", 2)
                .unwrap_err()
                .code,
            "record_type_mismatch"
        );
        let e = merge(&HAZARD, None, &upsert(None, h(), json!({})), "B", 1).unwrap_err();
        assert!(e.message_zh.contains("隐患描述") && e.message_en.contains("description"));
    }

    #[test]
    fn edit_without_concurrency_is_applied() {
        let cur = created();
        let r = apply(
            &cur,
            &upsert(Some(1), stamp(500, "B"), json!({"severity": "high"})),
            "B",
        );
        // An older clock does not matter when the server did not change the field.
        assert_eq!(r.outcome, MutationOutcome::Applied { version: 2 });
        assert!(r.changed);
        assert_eq!(val(&r.record, "severity"), json!("high"));
        assert_eq!(r.record.fields["severity"].version, 2);
        assert_eq!(r.record.fields["description"].version, 1);
    }

    #[test]
    fn other_server_changes_are_kept_and_reported_as_merged() {
        let cur = created();
        let v2 = apply(
            &cur,
            &upsert(Some(1), stamp(2000, "B"), json!({"severity": "high"})),
            "B",
        )
        .record;
        let r = apply(
            &v2,
            &upsert(Some(1), stamp(1500, "C"), json!({"location": "3号楼"})),
            "C",
        );
        assert_eq!(
            r.outcome,
            MutationOutcome::Merged {
                version: 3,
                kept_server_fields: vec!["severity".into()]
            }
        );
        assert_eq!(val(&r.record, "severity"), json!("high"));
        assert_eq!(val(&r.record, "location"), json!("3号楼"));
    }

    #[test]
    fn last_writer_wins_by_clock_and_records_the_loser() {
        let cur = created();
        let v2 = apply(
            &cur,
            &upsert(Some(1), stamp(2000, "B"), json!({"severity": "high"})),
            "B",
        )
        .record;
        // Device C saw version 1 and edits later by clock: C wins, B's value is in the conflict.
        let r = apply(
            &v2,
            &upsert(Some(1), stamp(3000, "C"), json!({"severity": "low"})),
            "C",
        );
        let [c] = r.conflicts() else {
            panic!("{:?}", r.outcome)
        };
        assert_eq!(c.winner, Winner::Device);
        assert_eq!(
            (c.server_value.clone(), c.device_value.clone()),
            (json!("high"), json!("low"))
        );
        assert_eq!(c.server_author.as_deref(), Some("B"));
        assert_eq!(c.server_hlc, Some(stamp(2000, "B")));
        assert_eq!(c.base_version, Some(1));
        assert_eq!(val(&r.record, "severity"), json!("low"));
        assert_eq!(
            r.outcome,
            MutationOutcome::Conflict {
                version: 3,
                conflicts: r.conflicts().to_vec()
            }
        );
        // Device D edits with an older clock: the server's value stays.
        let r = apply(
            &v2,
            &upsert(Some(1), stamp(1500, "D"), json!({"severity": "low"})),
            "D",
        );
        assert_eq!(r.conflicts()[0].winner, Winner::Server);
        assert_eq!(val(&r.record, "severity"), json!("high"));
        assert!(!r.changed);
        assert_eq!(r.record, v2);
    }

    #[test]
    fn identical_concurrent_values_are_not_a_conflict() {
        let cur = created();
        let v2 = apply(
            &cur,
            &upsert(Some(1), stamp(2000, "B"), json!({"severity": "high"})),
            "B",
        )
        .record;
        let r = apply(
            &v2,
            &upsert(Some(1), stamp(1000, "C"), json!({"severity": "high"})),
            "C",
        );
        assert!(r.conflicts().is_empty());
        assert!(!r.changed);
        assert!(matches!(r.outcome, MutationOutcome::Applied { version: 2 }));
    }

    #[test]
    fn a_device_never_conflicts_with_its_own_earlier_writes() {
        // Created and then edited offline: the edit still has no base version.
        let cur = created();
        let r = apply(
            &cur,
            &upsert(None, stamp(1001, "A"), json!({"severity": "critical"})),
            "A",
        );
        assert_eq!(r.outcome, MutationOutcome::Applied { version: 2 });
        let r = apply(&r.record, &delete_m(None, stamp(1002, "A")), "A");
        assert_eq!(r.outcome, MutationOutcome::Applied { version: 3 });
    }

    #[test]
    fn server_authoritative_is_set_on_create_and_never_overwritten_by_a_device() {
        let cur = created();
        assert_eq!(val(&cur, "unit_id"), json!(UNIT));
        for author in ["A", "B"] {
            let r = apply(
                &cur,
                &upsert(
                    Some(1),
                    stamp(9000, author),
                    json!({"unit_id": UNIT2, "location": "西侧"}),
                ),
                author,
            );
            let [c] = r.conflicts() else { panic!() };
            assert_eq!((c.field.as_str(), c.winner), ("unit_id", Winner::Server));
            assert_eq!(val(&r.record, "unit_id"), json!(UNIT));
            // The other field of the same mutation still applies.
            assert_eq!(val(&r.record, "location"), json!("西侧"));
        }
        // Sending the current value is not an attempt to change it.
        let r = apply(
            &cur,
            &upsert(Some(1), stamp(9000, "B"), json!({"unit_id": UNIT})),
            "B",
        );
        assert!(r.conflicts().is_empty());
    }

    #[test]
    fn a_server_authored_mutation_applies_what_it_names() {
        let cur = created();
        let m = upsert(
            Some(1),
            stamp(2000, "S"),
            json!({"status": "rectified", "deadline": "2031-03-31"}),
        );
        let r = merge_server(&HAZARD, Some(&cur), &m, "server:test", 2).unwrap();
        assert_eq!(r.outcome, MutationOutcome::Applied { version: 2 });
        // Back to open in the next round: a backwards status move the device merge never makes.
        let m = upsert(
            Some(2),
            stamp(3000, "S"),
            json!({"status": "open", "round": 1}),
        );
        let back = merge_server(&HAZARD, Some(&r.record), &m, "server:test", 3).unwrap();
        assert!(back.changed && back.conflicts().is_empty());
        assert_eq!(val(&back.record, "status"), json!("open"));
        assert_eq!(val(&back.record, "round"), json!(1));
        assert_eq!(back.record.fields["status"].author, "server:test");
        // The same mutation from a device: neither field applies.
        let dev = merge(
            &HAZARD,
            Some(&back.record),
            &upsert(
                Some(3),
                stamp(4000, "B"),
                json!({"status": "open", "round": 5}),
            ),
            "B",
            4,
        )
        .unwrap();
        assert_eq!(val(&dev.record, "round"), json!(1));
    }

    #[test]
    fn monotonic_status_moves_forward_and_never_back() {
        let cur = created();
        let rectified = apply(
            &cur,
            &upsert(Some(1), stamp(2000, "B"), json!({"status": "rectified"})),
            "B",
        );
        assert_eq!(rectified.outcome, MutationOutcome::Applied { version: 2 });
        let v2 = rectified.record;
        // Without concurrency: the device saw `rectified` and tries to reopen.
        let back = apply(
            &v2,
            &upsert(Some(2), stamp(9000, "B"), json!({"status": "open"})),
            "B",
        );
        assert_eq!(back.conflicts()[0].winner, Winner::Server);
        assert_eq!(val(&back.record, "status"), json!("rectified"));
        assert!(!back.changed);
        // Concurrent, later clock, but backwards: the forward state stays.
        let back = apply(
            &v2,
            &upsert(Some(1), stamp(9000, "C"), json!({"status": "open"})),
            "C",
        );
        assert_eq!(val(&back.record, "status"), json!("rectified"));
        // Concurrent and forward, even with an older clock: the later state wins.
        let fwd = apply(
            &v2,
            &upsert(Some(1), stamp(10, "C"), json!({"status": "verified"})),
            "C",
        );
        let [c] = fwd.conflicts() else { panic!() };
        assert_eq!(c.winner, Winner::Device);
        assert_eq!(val(&fwd.record, "status"), json!("verified"));
        assert_eq!(HAZARD_STATUS.last(), Some(&"verified"));
    }

    #[test]
    fn add_wins_set_merges_concurrent_adds_and_removes() {
        let cur = created(); // photos {a} at v1 by A
        // B (base 1) adds b; C (base 1) adds c and removes a, which it had seen.
        let v2 = apply(
            &cur,
            &upsert(
                Some(1),
                stamp(2000, "B"),
                json!({"photos": {"add": [photo('b')]}}),
            ),
            "B",
        )
        .record;
        let r = apply(
            &v2,
            &upsert(
                Some(1),
                stamp(1500, "C"),
                json!({"photos": {"add": [photo('c')], "remove": [photo('a')]}}),
            ),
            "C",
        );
        assert!(r.conflicts().is_empty(), "{:?}", r.outcome);
        assert_eq!(val(&r.record, "photos"), json!([photo('b'), photo('c')]));
        // D (base 1) removes b, which it never saw: b was added concurrently, add wins.
        let v3 = r.record;
        let r = apply(
            &v3,
            &upsert(
                Some(1),
                stamp(9000, "D"),
                json!({"photos": {"remove": [photo('b'), photo('c')]}}),
            ),
            "D",
        );
        let [c] = r.conflicts() else {
            panic!("{:?}", r.outcome)
        };
        assert_eq!((c.field.as_str(), c.winner), ("photos", Winner::Server));
        assert_eq!(val(&r.record, "photos"), json!([photo('b'), photo('c')]));
        // E saw version 3 and removes b: it goes.
        let r = apply(
            &v3,
            &upsert(
                Some(3),
                stamp(9000, "E"),
                json!({"photos": {"remove": [photo('b')]}}),
            ),
            "E",
        );
        assert!(r.conflicts().is_empty());
        assert_eq!(val(&r.record, "photos"), json!([photo('c')]));
        // Removing everything leaves an empty set, not a missing field.
        let r = apply(
            &r.record,
            &upsert(
                Some(4),
                stamp(9001, "E"),
                json!({"photos": {"remove": [photo('c')]}}),
            ),
            "E",
        );
        assert_eq!(val(&r.record, "photos"), json!([]));
    }

    #[test]
    fn delete_wins_over_concurrent_edits_which_are_reported() {
        let cur = created();
        let v2 = apply(
            &cur,
            &upsert(Some(1), stamp(2000, "B"), json!({"severity": "high"})),
            "B",
        )
        .record;
        let r = apply(&v2, &delete_m(Some(1), stamp(1500, "C")), "C");
        assert!(r.record.deleted);
        assert_eq!(r.record.version, 3);
        let [c] = r.conflicts() else {
            panic!("{:?}", r.outcome)
        };
        assert_eq!(
            (c.field.as_str(), c.winner, c.device_value.clone()),
            ("severity", Winner::Device, Value::Null)
        );
        assert_eq!(c.server_value, json!("high"));
        assert!(matches!(
            r.record.to_change(),
            Change::Tombstone { version: 3, .. }
        ));
        // No concurrent edits: a plain delete.
        let d = apply(&v2, &delete_m(Some(2), stamp(1500, "C")), "C");
        assert_eq!(d.outcome, MutationOutcome::Applied { version: 3 });
        // Deleting again changes nothing; editing a deleted record is refused.
        let again = apply(&d.record, &delete_m(Some(2), stamp(1600, "D")), "D");
        assert!(!again.changed);
        assert_eq!(again.outcome, MutationOutcome::Applied { version: 3 });
        assert_eq!(
            reject(
                Some(&d.record),
                &upsert(Some(2), stamp(1700, "D"), json!({"severity": "low"}))
            ),
            "record_deleted"
        );
    }

    #[test]
    fn create_of_an_existing_id_is_a_concurrent_create() {
        let cur = created();
        let m = upsert(
            None,
            stamp(5000, "B"),
            json!({
                "description": "外墙空鼓", "area_id": AREA, "unit_id": UNIT2,
                "severity": "high", "status": "open", "photos": {"add": [photo('b')]}
            }),
        );
        let r = apply(&cur, &m, "B");
        let fields: Vec<(&str, Winner)> = r
            .conflicts()
            .iter()
            .map(|c| (c.field.as_str(), c.winner))
            .collect();
        // Equal values (description, area, status) are not conflicts; sets union.
        assert_eq!(
            fields,
            vec![("severity", Winner::Device), ("unit_id", Winner::Server)]
        );
        assert_eq!(val(&r.record, "photos"), json!([photo('a'), photo('b')]));
        assert_eq!(val(&r.record, "unit_id"), json!(UNIT));
        assert_eq!(val(&r.record, "severity"), json!("high"));
    }

    #[test]
    fn read_only_records_refuse_every_device_mutation() {
        let create = Mutation {
            record_type: "ticket".into(),
            ..upsert(None, stamp(1, "A"), json!({"status": "closed"}))
        };
        let code = |m: &Mutation| {
            merge(&crate::records::TICKET, None, m, "A", 1)
                .unwrap_err()
                .code
        };
        assert_eq!(code(&create), "read_only_record_type");
        let del = Mutation {
            op: Op::Delete,
            fields: BTreeMap::new(),
            base_version: Some(1),
            ..create
        };
        assert_eq!(code(&del), "read_only_record_type");
    }

    #[test]
    fn create_only_records_cannot_be_edited_deleted_or_recreated() {
        let create = Mutation {
            record_type: "ticket_action".into(),
            ..upsert(
                None,
                stamp(1, "A"),
                json!({"ticket_id": AREA, "unit_id": UNIT, "action": "accept", "acted_at": "2024-05-01T08:30:00+08:00"}),
            )
        };
        let r = merge(&TICKET_ACTION, None, &create, "A", 1).unwrap();
        assert_eq!(r.outcome, MutationOutcome::Applied { version: 1 });
        let code = |m: &Mutation, cur| merge(&TICKET_ACTION, cur, m, "A", 2).unwrap_err().code;
        assert_eq!(code(&create, Some(&r.record)), "record_exists");
        let edit = Mutation {
            base_version: Some(1),
            ..create.clone()
        };
        assert_eq!(code(&edit, Some(&r.record)), "create_only");
        let del = Mutation {
            op: Op::Delete,
            fields: BTreeMap::new(),
            ..edit
        };
        assert_eq!(code(&del, Some(&r.record)), "create_only");
    }

    #[test]
    fn clock_errors_become_rejections() {
        let mut server = HlcClock::new("srv", 60_000);
        let far = Hlc::parse(&stamp(10_000_000, "B")).unwrap();
        let r: Rejection = server.observe(&far, 1_000).unwrap_err().into();
        assert_eq!(r.code, "clock_drift");
        let r: Rejection = Hlc::parse("bad").unwrap_err().into();
        assert_eq!(r.code, "invalid_hlc");
        let outcome: MutationOutcome = r.into();
        assert!(matches!(outcome, MutationOutcome::Rejected { code, .. } if code == "invalid_hlc"));
    }

    #[test]
    fn null_clears_an_optional_field_under_last_writer_wins() {
        let cur = apply(
            &created(),
            &upsert(Some(1), stamp(2000, "B"), json!({"location": "东侧"})),
            "B",
        )
        .record;
        let r = apply(
            &cur,
            &upsert(Some(2), stamp(2500, "C"), json!({"location": null})),
            "C",
        );
        assert_eq!(val(&r.record, "location"), Value::Null);
        assert!(!r.record.values().contains_key("location"));
    }

    #[test]
    fn rebase_shows_pending_changes_over_server_state() {
        let server: BTreeMap<String, Value> = serde_json::from_value(json!({
            "description": "外墙空鼓", "unit_id": UNIT, "status": "rectified", "photos": [photo('a')]
        }))
        .unwrap();
        let pending = vec![
            upsert(
                Some(2),
                stamp(1, "A"),
                json!({"description": "外墙空鼓脱落", "unit_id": UNIT2}),
            ),
            upsert(
                Some(2),
                stamp(2, "A"),
                json!({"status": "open", "photos": {"add": [photo('b')], "remove": [photo('a')]}}),
            ),
        ];
        let view = rebase(&HAZARD, Some(&server), &pending).unwrap();
        assert_eq!(view["description"], json!("外墙空鼓脱落"));
        assert_eq!(
            view["unit_id"],
            json!(UNIT),
            "server-authoritative edit is not shown"
        );
        assert_eq!(
            view["status"],
            json!("rectified"),
            "backwards status move is not shown"
        );
        assert_eq!(view["photos"], json!([photo('b')]));
        // No pending changes: exactly the server state.
        assert_eq!(rebase(&HAZARD, Some(&server), &[]), Some(server.clone()));
        // Local delete hides the record; an edit of a record gone from the server shows nothing.
        assert_eq!(
            rebase(&HAZARD, Some(&server), &[delete_m(Some(2), stamp(3, "A"))]),
            None
        );
        assert_eq!(rebase(&HAZARD, None, &pending), None);
        // A record created on the device, then edited, before it reached the server.
        let created_here = vec![
            upsert(
                None,
                stamp(1, "A"),
                json!({"description": "d", "unit_id": UNIT, "status": "open"}),
            ),
            upsert(
                None,
                stamp(2, "A"),
                json!({"unit_id": UNIT2, "status": "rectified"}),
            ),
        ];
        let view = rebase(&HAZARD, None, &created_here).unwrap();
        assert_eq!(
            (view["unit_id"].clone(), view["status"].clone()),
            (json!(UNIT), json!("rectified"))
        );
    }

    /// splitmix64: a tiny deterministic generator so failures replay from the seed.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len() as u64) as usize]
        }
    }

    fn random_fields(rng: &mut Rng) -> Value {
        let mut f = serde_json::Map::new();
        if rng.below(2) == 0 {
            f.insert(
                "severity".into(),
                json!(rng.pick(&["low", "medium", "high", "critical"])),
            );
        }
        if rng.below(3) == 0 {
            f.insert(
                "description".into(),
                json!(rng.pick(&["裂缝", "渗水", "空鼓"])),
            );
        }
        if rng.below(3) == 0 {
            f.insert(
                "location".into(),
                if rng.below(4) == 0 {
                    Value::Null
                } else {
                    json!(rng.pick(&["东", "西"]))
                },
            );
        }
        if rng.below(3) == 0 {
            f.insert("status".into(), json!(rng.pick(HAZARD_STATUS)));
        }
        if rng.below(6) == 0 {
            f.insert("unit_id".into(), json!(rng.pick(&[UNIT, UNIT2])));
        }
        if rng.below(2) == 0 {
            let set = ['a', 'b', 'c', 'd'];
            let add: Vec<String> = (0..rng.below(3)).map(|_| photo(*rng.pick(&set))).collect();
            let remove: Vec<String> = (0..rng.below(3)).map(|_| photo(*rng.pick(&set))).collect();
            f.insert("photos".into(), json!({"add": add, "remove": remove}));
        }
        Value::Object(f)
    }

    #[test]
    fn concurrent_add_beats_remove_in_either_order() {
        // x is added by B at v2; C saw it (base 2) and removes it; D did not (base 1) and adds it.
        let v2 = apply(
            &created(),
            &upsert(
                Some(1),
                stamp(2000, "B"),
                json!({"photos": {"add": [photo('e')]}}),
            ),
            "B",
        )
        .record;
        let remove = upsert(
            Some(2),
            stamp(3000, "C"),
            json!({"photos": {"remove": [photo('e')]}}),
        );
        let add = upsert(
            Some(1),
            stamp(2500, "D"),
            json!({"photos": {"add": [photo('e')]}}),
        );
        let remove_first = apply(&apply(&v2, &remove, "C").record, &add, "D").record;
        let add_first = apply(&apply(&v2, &add, "D").record, &remove, "C");
        assert_eq!(
            val(&remove_first, "photos"),
            json!([photo('a'), photo('e')])
        );
        assert_eq!(
            val(&add_first.record, "photos"),
            json!([photo('a'), photo('e')])
        );
        assert_eq!(add_first.conflicts()[0].winner, Winner::Server);
    }

    /// Two devices edit the same version concurrently; whichever push arrives first, the record
    /// ends with the same values (the conflict records differ: they name the later arrival).
    #[test]
    fn concurrent_pushes_commute() {
        let mut rng = Rng(42);
        for case in 0..2000 {
            let base = created();
            // Clocks race both ways; equal wall times are broken by node.
            let walls = [2000 + rng.below(20), 2000 + rng.below(20)];
            let mut make = |node: &str, wall: u64| {
                if rng.below(15) == 0 {
                    delete_m(Some(1), stamp(wall, node))
                } else {
                    upsert(Some(1), stamp(wall, node), random_fields(&mut rng))
                }
            };
            let (m1, m2) = (make("B", walls[0]), make("C", walls[1]));
            let run = |first: &Mutation, a1: &str, second: &Mutation, a2: &str| {
                let r1 =
                    merge(&HAZARD, Some(&base), first, a1, 2).map_or(base.clone(), |r| r.record);
                let r2 = merge(&HAZARD, Some(&r1), second, a2, 3).map_or(r1, |r| r.record);
                (r2.deleted, (!r2.deleted).then(|| r2.values()))
            };
            assert_eq!(
                run(&m1, "B", &m2, "C"),
                run(&m2, "C", &m1, "B"),
                "case {case}: {m1:?} {m2:?}"
            );
        }
    }

    /// Three devices on the same base: all six arrival orders end with the same values.
    #[test]
    fn three_concurrent_pushes_converge_in_every_order() {
        let mut rng = Rng(7);
        let base = created();
        for case in 0..500 {
            let ms: Vec<(Mutation, &str)> = ["B", "C", "D"]
                .into_iter()
                .map(|node| {
                    let hlc = stamp(2000 + rng.below(10), node);
                    let m = if rng.below(20) == 0 {
                        delete_m(Some(1), hlc)
                    } else {
                        upsert(Some(1), hlc, random_fields(&mut rng))
                    };
                    (m, node)
                })
                .collect();
            let orders = [
                [0, 1, 2],
                [0, 2, 1],
                [1, 0, 2],
                [1, 2, 0],
                [2, 0, 1],
                [2, 1, 0],
            ];
            let results: Vec<_> = orders
                .iter()
                .map(|order| {
                    let mut rec = base.clone();
                    for &i in order {
                        let (m, author) = &ms[i];
                        if let Ok(r) = merge(&HAZARD, Some(&rec), m, author, rec.version + 1) {
                            rec = r.record;
                        }
                    }
                    (rec.deleted, (!rec.deleted).then(|| rec.values()))
                })
                .collect();
            assert!(
                results.windows(2).all(|w| w[0] == w[1]),
                "case {case}: {ms:?}\n{results:?}"
            );
        }
    }

    /// Random devices edit one record from random stale snapshots; after every merge we check
    /// the invariants the server relies on.
    #[test]
    fn random_interleavings_keep_the_invariants() {
        // How often each outcome occurred, so the test proves it exercised them all.
        let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
        for seed in 0..200u64 {
            let mut rng = Rng(seed);
            let mut server = created();
            let nodes = ["B", "C", "D", "E"];
            let mut clocks: Vec<HlcClock> =
                nodes.iter().map(|n| HlcClock::new(*n, 300_000)).collect();
            // Each device's last pulled (version, values).
            let mut seen: Vec<(i64, BTreeMap<String, Value>)> =
                vec![(1, server.values()); nodes.len()];
            let mut now = 1_000u64;
            for step in 0..60 {
                now += rng.below(50);
                let d = rng.below(nodes.len() as u64) as usize;
                if rng.below(4) == 0 {
                    seen[d] = (server.version, server.values());
                    continue;
                }
                // Device clocks are skewed by up to ±1 s.
                let hlc = clocks[d].tick(now + rng.below(2000)).to_string();
                let base = Some(seen[d].0);
                let m = if rng.below(25) == 0 {
                    delete_m(base, hlc)
                } else {
                    upsert(base, hlc, random_fields(&mut rng))
                };
                let ctx = format!("seed {seed} step {step} {m:?}");
                let before = server.clone();
                let next = before.version + 1;
                let first = merge(&HAZARD, Some(&before), &m, nodes[d], next);
                // Deterministic.
                assert_eq!(
                    first,
                    merge(&HAZARD, Some(&before), &m, nodes[d], next),
                    "{ctx}"
                );
                let kind = match &first {
                    Ok(r) if r.record.deleted && !before.deleted => "delete",
                    Ok(r) => match r.outcome {
                        MutationOutcome::Applied { .. } => "applied",
                        MutationOutcome::Merged { .. } => "merged",
                        _ => "conflict",
                    },
                    Err(_) => "rejected",
                };
                *tally.entry(kind).or_default() += 1;
                let r = match first {
                    Ok(r) => r,
                    Err(e) => {
                        assert_eq!(e.code, "record_deleted", "{ctx}");
                        assert!(before.deleted);
                        continue;
                    }
                };
                // What the device showed before pushing equals the result when nothing was
                // concurrent.
                if seen[d].0 == before.version && !before.deleted {
                    let optimistic = rebase(&HAZARD, Some(&seen[d].1), std::slice::from_ref(&m));
                    let actual = (!r.record.deleted).then(|| r.record.values());
                    assert_eq!(optimistic, actual, "{ctx}");
                }
                // Versions: bumped exactly when changed; fields never ahead of the record.
                if r.changed {
                    assert_eq!(r.record.version, next, "{ctx}");
                } else {
                    assert_eq!(r.record, before, "{ctx}");
                }
                assert!(
                    r.record
                        .fields
                        .values()
                        .all(|f| f.version <= r.record.version),
                    "{ctx}"
                );
                // Monotonic never decreases; server-authoritative never moves.
                let rank_of = |rec: &StoredRecord| rank(HAZARD_STATUS, &val(rec, "status"));
                assert!(rank_of(&r.record) >= rank_of(&before), "{ctx}");
                assert_eq!(val(&r.record, "unit_id"), json!(UNIT), "{ctx}");
                // Adds always land; conflicts name fields the mutation carried (or, for a
                // delete, a field of the record), and the winner's value is current.
                if let Some(Value::Object(delta)) = m.fields.get("photos")
                    && !r.record.deleted
                {
                    let now_set = val(&r.record, "photos");
                    for e in delta["add"].as_array().into_iter().flatten() {
                        assert!(now_set.as_array().is_some_and(|a| a.contains(e)), "{ctx}");
                    }
                }
                for c in r.conflicts() {
                    assert!(
                        m.fields.contains_key(&c.field) || m.op == Op::Delete,
                        "{ctx}"
                    );
                    if m.op == Op::Upsert && c.field != "photos" {
                        let expect = match c.winner {
                            Winner::Device => &c.device_value,
                            Winner::Server => &c.server_value,
                        };
                        assert_eq!(&val(&r.record, &c.field), expect, "{ctx}");
                    }
                }
                // Re-applying the same mutation has no second effect.
                let again = merge(&HAZARD, Some(&r.record), &m, nodes[d], next + 1);
                match again {
                    Ok(again) => {
                        assert!(!again.changed, "{ctx}");
                        assert_eq!(again.record, r.record, "{ctx}");
                    }
                    Err(e) => assert_eq!(e.code, "record_deleted", "{ctx}"),
                }
                server = r.record;
                seen[d] = (server.version, server.values());
            }
        }
        for kind in ["applied", "merged", "conflict", "delete", "rejected"] {
            assert!(
                tally.get(kind).copied().unwrap_or(0) >= 20,
                "{kind} too rare: {tally:?}"
            );
        }
    }
}
