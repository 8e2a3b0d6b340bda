//! The field records that devices create and edit offline (台账), declared once as static data:
//! each record type's fields, their value kinds, whether they are required on create, their merge
//! policy, and the scope fields the server uses to decide which devices see a record.

use serde::Serialize;
use serde_json::Value;

use crate::rejection::RejectionCode;

/// What values a field accepts. [`validate_value`] checks a JSON value against it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A string of at most `max_chars` characters (Unicode scalar values).
    Text {
        /// Maximum length in characters.
        max_chars: usize,
    },
    /// A JSON integer within `min..=max`.
    Integer {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A JSON number (integer or fraction) within `min..=max`.
    Decimal {
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// `true` or `false`.
    Bool,
    /// A calendar date `YYYY-MM-DD` that exists.
    Date,
    /// An RFC 3339 timestamp with an explicit offset, e.g. `2024-05-01T08:30:00+08:00`.
    Timestamp,
    /// One of the listed strings.
    Enum(&'static [&'static str]),
    /// A UUID in its hyphenated text form, referring to another record or entity.
    Uuid,
    /// An add-wins set of strings. On the wire a mutation carries a delta
    /// `{"add": [...], "remove": [...]}`; the stored value is a sorted array.
    StringSet {
        /// Maximum length of one element, in characters.
        max_item_chars: usize,
        /// Elements must be lowercase SHA-256 hex digests (64 chars), e.g. photo references.
        sha256: bool,
    },
    /// A JSON object (e.g. checklist answers), at most `max_keys` keys.
    JsonObject {
        /// Maximum number of top-level keys.
        max_keys: usize,
    },
    /// A JSON array (e.g. a ticket's public replies), at most `max_items` elements. Only the
    /// server writes such fields (read-only record types).
    JsonArray {
        /// Maximum number of elements.
        max_items: usize,
    },
}

/// How concurrent edits of one field are settled. See `merge` for the exact rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergePolicy {
    /// The edit with the greater hybrid clock stamp wins; the other is kept as a conflict.
    LastWriterWins,
    /// Set by the device only on create; afterwards only the server changes it (e.g. the
    /// responsible unit, 责任单位). A device's later attempt is reported, never applied.
    ServerAuthoritative,
    /// A status that only moves forward in the listed order (e.g. open → rectified → verified).
    Monotonic(&'static [&'static str]),
    /// An add-wins set: a remove takes away only elements the device had seen; a concurrent
    /// add of the same element wins.
    AddWinsSet,
}

/// One field of a record type. Serializes to JSON so the server can publish the schemas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FieldSpec {
    /// Wire and storage name (snake_case).
    pub name: &'static str,
    /// Chinese label for people.
    pub label_zh: &'static str,
    /// What values it accepts.
    pub kind: FieldKind,
    /// Must be present and non-null when the record is created; can never be set to null.
    pub required: bool,
    /// How concurrent edits are merged.
    pub policy: MergePolicy,
}

/// A record type that devices sync. Serializes to JSON so the server can publish it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RecordSchema {
    /// Wire name, e.g. `hazard`.
    pub name: &'static str,
    /// Chinese name, e.g. 隐患/整改通知.
    pub label_zh: &'static str,
    /// Fields, in display order.
    pub fields: &'static [FieldSpec],
    /// Fields holding the unit and/or area ids that decide which devices see the record.
    pub scope_fields: &'static [&'static str],
    /// The record can only be created, never edited or deleted (e.g. a ticket action).
    pub create_only: bool,
    /// Only the server writes records of this type (e.g. a ticket's synced copy); every device
    /// mutation of it is refused with `read_only_record_type`.
    pub read_only: bool,
}

impl RecordSchema {
    /// The field named `name`, if the record type has one.
    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The scope ids (e.g. `unit_id`, `area_id`) of a record with these field values, which the
    /// server matches against a device's scope. A scope field that is absent or not a UUID is
    /// left out (validation makes that impossible for stored records).
    pub fn scope_ids(
        &self,
        values: &std::collections::BTreeMap<String, Value>,
    ) -> std::collections::BTreeMap<&'static str, uuid::Uuid> {
        self.scope_fields
            .iter()
            .filter_map(|f| {
                let id = values.get(*f)?.as_str()?;
                Some((*f, uuid::Uuid::try_parse(id).ok()?))
            })
            .collect()
    }
}

/// Project status order: 计划 → 在建 → 完工.
pub const PROJECT_STATUS: &[&str] = &["planned", "in_progress", "completed"];
/// Hazard status order: 待整改 → 已整改 → 已复核.
pub const HAZARD_STATUS: &[&str] = &["open", "rectified", "verified"];
/// Safety grades of the national dangerous-building standard (D = whole building dangerous).
pub const SAFETY_GRADES: &[&str] = &["A", "B", "C", "D"];

const fn f(
    name: &'static str,
    label_zh: &'static str,
    kind: FieldKind,
    required: bool,
    policy: MergePolicy,
) -> FieldSpec {
    FieldSpec {
        name,
        label_zh,
        kind,
        required,
        policy,
    }
}

use FieldKind as K;
use MergePolicy::{AddWinsSet as Set, LastWriterWins as Lww, ServerAuthoritative as Sa};

const NAME: FieldKind = K::Text { max_chars: 200 };
/// An external code of the city's own 台账 (项目编号, 房屋编号): the key a sheet import matches.
const CODE: FieldKind = K::Text { max_chars: 64 };
const NOTE: FieldKind = K::Text { max_chars: 4000 };
const COUNT: FieldKind = K::Integer {
    min: 0,
    max: 10_000_000,
};
const PHOTOS: FieldKind = K::StringSet {
    max_item_chars: 64,
    sha256: true,
};

/// 改造项目: a renovation project of one of the three programmes.
pub const PROJECT: RecordSchema = RecordSchema {
    name: "project",
    label_zh: "改造项目",
    scope_fields: &["unit_id", "area_id"],
    create_only: false,
    read_only: false,
    fields: &[
        f("code", "项目编号", CODE, false, Lww),
        f("name", "项目名称", NAME, true, Lww),
        f(
            "programme",
            "改造类型",
            K::Enum(&["shantytown", "dangerous_housing", "old_community"]),
            true,
            Lww,
        ),
        f("area_id", "所属区域", K::Uuid, true, Sa),
        f("unit_id", "责任单位", K::Uuid, true, Sa),
        f("contractor", "施工单位", NAME, false, Lww),
        f(
            "measure",
            "计量单位",
            K::Enum(&["flat", "household"]),
            false,
            Lww,
        ),
        f("planned_units", "计划套(户)数", COUNT, false, Lww),
        f("completed_units", "完成套(户)数", COUNT, false, Lww),
        f("planned_start", "计划开工日期", K::Date, false, Lww),
        f("actual_start", "实际开工日期", K::Date, false, Lww),
        f("planned_completion", "计划完工日期", K::Date, false, Lww),
        f("actual_completion", "实际完工日期", K::Date, false, Lww),
        f(
            "progress_percent",
            "形象进度(%)",
            K::Integer { min: 0, max: 100 },
            false,
            Lww,
        ),
        f(
            "status",
            "项目状态",
            K::Enum(PROJECT_STATUS),
            true,
            MergePolicy::Monotonic(PROJECT_STATUS),
        ),
    ],
};

/// 房屋: an entry of the dangerous-housing register.
pub const BUILDING: RecordSchema = RecordSchema {
    name: "building",
    label_zh: "房屋(危旧房台账)",
    scope_fields: &["area_id"],
    create_only: false,
    read_only: false,
    fields: &[
        f("code", "房屋编号", CODE, false, Lww),
        f("address", "地址", K::Text { max_chars: 300 }, true, Lww),
        f("area_id", "所属区域", K::Uuid, true, Sa),
        f(
            "structure",
            "结构类型",
            K::Enum(&[
                "brick_concrete",
                "brick_wood",
                "reinforced_concrete",
                "masonry",
                "wood",
                "steel",
                "other",
            ]),
            false,
            Lww,
        ),
        f(
            "year_built",
            "建成年份",
            K::Integer {
                min: 1800,
                max: 2100,
            },
            false,
            Lww,
        ),
        f(
            "floors",
            "层数",
            K::Integer { min: 1, max: 200 },
            false,
            Lww,
        ),
        f("households", "户数", COUNT, false, Lww),
        f(
            "safety_grade",
            "安全等级",
            K::Enum(SAFETY_GRADES),
            false,
            Lww,
        ),
        f(
            "disposition",
            "处置方式",
            K::Enum(&["repair_reinforce", "shantytown_plan", "gradual_renovation"]),
            false,
            Lww,
        ),
        f("project_id", "关联项目", K::Uuid, false, Lww),
    ],
};

/// 排查/检查: one inspection of a building or a project.
pub const INSPECTION: RecordSchema = RecordSchema {
    name: "inspection",
    label_zh: "排查/检查",
    scope_fields: &["unit_id", "area_id"],
    create_only: false,
    read_only: false,
    fields: &[
        f("area_id", "所属区域", K::Uuid, true, Sa),
        f("unit_id", "检查单位", K::Uuid, true, Sa),
        f("building_id", "检查房屋", K::Uuid, false, Lww),
        f("project_id", "检查项目", K::Uuid, false, Lww),
        f("inspector", "检查人", K::Text { max_chars: 100 }, true, Lww),
        f("inspected_at", "检查时间", K::Timestamp, true, Lww),
        f(
            "gps_lat",
            "纬度",
            K::Decimal {
                min: -90.0,
                max: 90.0,
            },
            false,
            Lww,
        ),
        f(
            "gps_lng",
            "经度",
            K::Decimal {
                min: -180.0,
                max: 180.0,
            },
            false,
            Lww,
        ),
        f(
            "checklist",
            "检查表",
            K::JsonObject { max_keys: 500 },
            false,
            Lww,
        ),
        f(
            "checklist_findings",
            "发现问题项",
            K::StringSet {
                max_item_chars: 100,
                sha256: false,
            },
            false,
            Set,
        ),
        f("findings", "检查意见", NOTE, false, Lww),
        f("grade", "评定等级", K::Enum(SAFETY_GRADES), false, Lww),
        f("photos", "照片", PHOTOS, false, Set),
    ],
};

/// 隐患/整改通知: a hazard and its rectification order.
pub const HAZARD: RecordSchema = RecordSchema {
    name: "hazard",
    label_zh: "隐患/整改通知",
    scope_fields: &["unit_id", "area_id"],
    create_only: false,
    read_only: false,
    fields: &[
        f("description", "隐患描述", NOTE, true, Lww),
        f(
            "location",
            "隐患位置",
            K::Text { max_chars: 300 },
            false,
            Lww,
        ),
        f("area_id", "所属区域", K::Uuid, true, Sa),
        f("unit_id", "整改责任单位", K::Uuid, true, Sa),
        f("building_id", "关联房屋", K::Uuid, false, Lww),
        f("project_id", "关联项目", K::Uuid, false, Lww),
        f("inspection_id", "来源检查", K::Uuid, false, Lww),
        f(
            "severity",
            "严重程度",
            K::Enum(&["low", "medium", "high", "critical"]),
            true,
            Lww,
        ),
        f(
            "order_no",
            "整改通知书编号",
            K::Text { max_chars: 64 },
            false,
            Lww,
        ),
        f("order_issued_on", "下发日期", K::Date, false, Lww),
        f("requirements", "整改要求", NOTE, false, Lww),
        f("deadline", "整改期限", K::Date, false, Sa),
        f(
            "status",
            "整改状态",
            K::Enum(HAZARD_STATUS),
            true,
            MergePolicy::Monotonic(HAZARD_STATUS),
        ),
        f("rectification_note", "整改情况", NOTE, false, Lww),
        f("photos", "隐患照片", PHOTOS, false, Set),
        f("rectification_photos", "整改照片", PHOTOS, false, Set),
        f(
            "responsible_person",
            "整改责任人",
            K::Text { max_chars: 100 },
            false,
            Lww,
        ),
        f(
            "round",
            "整改轮次",
            K::Integer { min: 0, max: 1000 },
            false,
            Sa,
        ),
        f("rectified_at", "整改完成时间", K::Timestamp, false, Sa),
        f("verified_at", "复核时间", K::Timestamp, false, Sa),
        f("return_reason", "退回原因", NOTE, false, Sa),
        f("extension_requested", "申请延期至", K::Date, false, Sa),
        f("verification_photos", "复核照片", PHOTOS, false, Set),
        // The server's check of the last rectification's photos (EXIF time after the order's
        // issue date, within the distance of the hazard's position): `{verified, label_zh,
        // label_en, photos: [{verified, reason, message_zh, message_en}]}`, never a position.
        f(
            "rectification_proof",
            "整改照片核验",
            K::JsonObject { max_keys: 16 },
            false,
            Sa,
        ),
    ],
};

/// What a `hazard_action` does (see [`HAZARD_ACTION`]).
pub const HAZARD_ACTIONS: &[&str] = &[
    "rectify",
    "verify",
    "return",
    "request_extension",
    "decide_extension",
];

/// 整改处理: one step of a hazard's rectification order taken by a person (the responsible unit
/// marks it rectified, an inspector or supervisor verifies it or sends it back, the unit asks
/// for more time and a supervisor decides). Create-only; the server checks the rules and applies
/// it to the hazard with a server-authored mutation through the merge, or refuses it with a
/// stable code. A device never moves a hazard's status itself. `unit_id` and `area_id` are the
/// hazard's (so the responsible unit's devices receive the actions on its orders).
pub const HAZARD_ACTION: RecordSchema = RecordSchema {
    name: "hazard_action",
    label_zh: "整改处理",
    scope_fields: &["unit_id", "area_id"],
    create_only: true,
    read_only: false,
    fields: &[
        f("hazard_id", "隐患", K::Uuid, true, Lww),
        f("unit_id", "整改责任单位", K::Uuid, true, Sa),
        f("area_id", "所属区域", K::Uuid, true, Sa),
        f("action", "动作", K::Enum(HAZARD_ACTIONS), true, Lww),
        f("note", "说明", NOTE, false, Lww),
        f("photos", "照片", PHOTOS, false, Set),
        f("requested_deadline", "申请延期至", K::Date, false, Lww),
        f(
            "decision",
            "审批结果",
            K::Enum(&["approve", "refuse"]),
            false,
            Lww,
        ),
        f("acted_at", "办理时间", K::Timestamp, true, Lww),
    ],
};

/// 工单处理: a unit's action on a complaint ticket taken on a device. Create-only; the server
/// applies it to the ticket state machine, which may refuse it with a reason.
pub const TICKET_ACTION: RecordSchema = RecordSchema {
    name: "ticket_action",
    label_zh: "工单处理",
    scope_fields: &["unit_id"],
    create_only: true,
    read_only: false,
    fields: &[
        f("ticket_id", "工单", K::Uuid, true, Lww),
        f("unit_id", "办理单位", K::Uuid, true, Sa),
        f(
            "action",
            "动作",
            K::Enum(&["accept", "reply", "resolve"]),
            true,
            Lww,
        ),
        f("message", "答复内容", NOTE, false, Lww),
        f("acted_at", "办理时间", K::Timestamp, true, Lww),
        f("photos", "办结照片", PHOTOS, false, Set),
    ],
};

/// Ticket statuses (工单状态), as the ticket state machine names them.
pub const TICKET_STATUS: &[&str] = &[
    "dispatching",
    "dispatched",
    "accepted",
    "resolved",
    "closed",
    "reopened",
    "escalated",
];

/// 工单: the synced copy of a complaint ticket a unit handles (read-only: only the server writes
/// it, from the ticket state machine). In the scope of the handling unit (and the units above
/// it); the resident's phone reaches only the handling unit's own staff.
pub const TICKET: RecordSchema = RecordSchema {
    name: "ticket",
    label_zh: "工单",
    scope_fields: &["unit_id"],
    create_only: false,
    read_only: true,
    fields: &[
        f("ticket_no", "工单编号", K::Text { max_chars: 32 }, true, Sa),
        f("unit_id", "办理单位", K::Uuid, true, Sa),
        f("status", "状态", K::Enum(TICKET_STATUS), true, Sa),
        f(
            "category_code",
            "类别代码",
            K::Text { max_chars: 64 },
            true,
            Sa,
        ),
        f("category", "类别", NAME, true, Sa),
        f("area_id", "所属社区", K::Uuid, false, Sa),
        f("community", "社区", NAME, false, Sa),
        f("address", "地址", K::Text { max_chars: 300 }, false, Sa),
        f("description", "诉求内容", NOTE, true, Sa),
        f("response_due", "签收时限", K::Timestamp, true, Sa),
        f("resolution_due", "办结时限", K::Timestamp, true, Sa),
        f("accepted_at", "签收时间", K::Timestamp, false, Sa),
        f("resolved_at", "办结时间", K::Timestamp, false, Sa),
        f("closed_at", "关闭时间", K::Timestamp, false, Sa),
        f("filed_at", "提交时间", K::Timestamp, true, Sa),
        f(
            "replies",
            "公开答复",
            K::JsonArray { max_items: 200 },
            false,
            Sa,
        ),
        f(
            "resident_phone",
            "居民电话",
            K::Text { max_chars: 32 },
            false,
            Sa,
        ),
        f(
            "device_outcome",
            "设备操作结果",
            K::JsonObject { max_keys: 16 },
            false,
            Sa,
        ),
        f(
            "proof",
            "办结照片核验",
            K::JsonObject { max_keys: 16 },
            false,
            Sa,
        ),
    ],
};

const YUAN: FieldKind = K::Integer {
    min: -1_000_000_000_000_000,
    max: 1_000_000_000_000_000,
};

/// 项目资金: the summary of a project's fund ledger (read-only: only the server writes it, from
/// the ledger's write path, in the entry's transaction). Scoped like its project; pulled only by
/// the roles that may see funds (administrators, supervisors, units' administrators and staff).
pub const FUND_SUMMARY: RecordSchema = RecordSchema {
    name: "fund_summary",
    label_zh: "项目资金",
    scope_fields: &["unit_id", "area_id"],
    create_only: false,
    read_only: true,
    fields: &[
        f("project_id", "改造项目", K::Uuid, true, Sa),
        f("unit_id", "责任单位", K::Uuid, true, Sa),
        f("area_id", "所属区域", K::Uuid, true, Sa),
        f("code", "项目编号", CODE, false, Sa),
        f("name", "项目名称", NAME, false, Sa),
        f("budget", "预算(元)", YUAN, true, Sa),
        f("received", "到位(元)", YUAN, true, Sa),
        f("paid", "支付(元)", YUAN, true, Sa),
        f(
            "paid_percent",
            "支付占预算(%)",
            K::Decimal {
                min: 0.0,
                max: 1_000_000.0,
            },
            false,
            Sa,
        ),
        f(
            "budget_by_source",
            "预算来源",
            K::JsonObject { max_keys: 16 },
            false,
            Sa,
        ),
        f(
            "received_by_source",
            "到位来源",
            K::JsonObject { max_keys: 16 },
            false,
            Sa,
        ),
        f(
            "flags",
            "监管预警",
            K::JsonObject { max_keys: 8 },
            false,
            Sa,
        ),
    ],
};

/// Every record type devices sync.
pub const RECORD_TYPES: &[&RecordSchema] = &[
    &PROJECT,
    &BUILDING,
    &INSPECTION,
    &HAZARD,
    &TICKET_ACTION,
    &TICKET,
    &HAZARD_ACTION,
    &FUND_SUMMARY,
];

/// The schema of record type `name`, if it is one devices sync.
pub fn schema_for(name: &str) -> Option<&'static RecordSchema> {
    RECORD_TYPES.iter().copied().find(|s| s.name == name)
}

/// A value that does not fit its field; the code is stable snake_case, the messages are for
/// people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message_en}")]
pub struct FieldError {
    /// Stable code, e.g. `text_too_long`.
    pub code: RejectionCode,
    /// Message in Chinese.
    pub message_zh: String,
    /// Message in English.
    pub message_en: String,
}

fn err(code: RejectionCode, zh: impl Into<String>, en: impl Into<String>) -> FieldError {
    FieldError {
        code,
        message_zh: zh.into(),
        message_en: en.into(),
    }
}

fn wrong_type(expected_zh: &str, expected_en: &str) -> FieldError {
    err(
        RejectionCode::WrongType,
        format!("类型错误，应为{expected_zh}"),
        format!("wrong type, expected {expected_en}"),
    )
}

/// Checks `value` against `kind`. `null` is never accepted here (whether a field may be
/// cleared is decided by [`FieldSpec::required`]). For [`FieldKind::StringSet`] the value is the
/// wire delta `{"add": [...], "remove": [...]}`.
pub fn validate_value(kind: &FieldKind, value: &Value) -> Result<(), FieldError> {
    match (kind, value) {
        (K::Text { max_chars }, Value::String(s)) => check_text(s, *max_chars),
        (K::Text { .. }, _) => Err(wrong_type("文本", "text")),
        (K::Integer { min, max }, Value::Number(n)) => match n.as_i64() {
            Some(i) if (*min..=*max).contains(&i) => Ok(()),
            Some(_) => Err(out_of_range(*min, *max)),
            None if n.is_u64() => Err(out_of_range(*min, *max)),
            None => Err(wrong_type("整数", "integer")),
        },
        (K::Integer { .. }, _) => Err(wrong_type("整数", "integer")),
        (K::Decimal { min, max }, Value::Number(n)) => match n.as_f64() {
            Some(x) if x >= *min && x <= *max => Ok(()),
            _ => Err(out_of_range(*min, *max)),
        },
        (K::Decimal { .. }, _) => Err(wrong_type("数值", "number")),
        (K::Bool, Value::Bool(_)) => Ok(()),
        (K::Bool, _) => Err(wrong_type("布尔值", "boolean")),
        (K::Date, Value::String(s)) => {
            if parse_date(s).is_some() {
                Ok(())
            } else {
                Err(err(
                    RejectionCode::InvalidDate,
                    "日期格式应为 YYYY-MM-DD 且为有效日期",
                    "date must be a valid YYYY-MM-DD",
                ))
            }
        }
        (K::Date, _) => Err(wrong_type("日期", "date string")),
        (K::Timestamp, Value::String(s)) => {
            if is_rfc3339(s) {
                Ok(())
            } else {
                Err(err(
                    RejectionCode::InvalidTimestamp,
                    "时间格式应为 RFC 3339，例如 2024-05-01T08:30:00+08:00",
                    "timestamp must be RFC 3339 with an offset, e.g. 2024-05-01T08:30:00+08:00",
                ))
            }
        }
        (K::Timestamp, _) => Err(wrong_type("时间", "timestamp string")),
        (K::Enum(allowed), Value::String(s)) => {
            if allowed.contains(&s.as_str()) {
                Ok(())
            } else {
                let list = allowed.join(", ");
                Err(err(
                    RejectionCode::NotAllowedValue,
                    format!("取值不在允许范围内：{list}"),
                    format!("value must be one of: {list}"),
                ))
            }
        }
        (K::Enum(_), _) => Err(wrong_type("文本", "string")),
        (K::Uuid, Value::String(s)) => {
            if s.len() == 36 && uuid::Uuid::try_parse(s).is_ok() {
                Ok(())
            } else {
                Err(err(
                    RejectionCode::InvalidUuid,
                    "编号应为 UUID",
                    "value must be a hyphenated UUID",
                ))
            }
        }
        (K::Uuid, _) => Err(wrong_type("UUID 文本", "UUID string")),
        (
            K::StringSet {
                max_item_chars,
                sha256,
            },
            Value::Object(obj),
        ) => {
            if obj.is_empty() || obj.keys().any(|k| k != "add" && k != "remove") {
                return Err(bad_delta());
            }
            for items in obj.values() {
                let Value::Array(items) = items else {
                    return Err(bad_delta());
                };
                for item in items {
                    let Value::String(s) = item else {
                        return Err(bad_delta());
                    };
                    check_text(s, *max_item_chars)?;
                    if *sha256
                        && !(s.len() == 64
                            && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
                    {
                        return Err(err(
                            RejectionCode::InvalidSha256,
                            "照片引用应为 64 位小写十六进制 SHA-256",
                            "photo reference must be a lowercase hex SHA-256 (64 characters)",
                        ));
                    }
                }
            }
            Ok(())
        }
        (K::StringSet { .. }, _) => Err(bad_delta()),
        (K::JsonObject { max_keys }, Value::Object(obj)) => {
            if obj.len() <= *max_keys {
                Ok(())
            } else {
                Err(err(
                    RejectionCode::TooManyKeys,
                    format!("最多 {max_keys} 项"),
                    format!("at most {max_keys} keys"),
                ))
            }
        }
        (K::JsonObject { .. }, _) => Err(wrong_type("对象", "JSON object")),
        (K::JsonArray { max_items }, Value::Array(items)) => {
            if items.len() <= *max_items {
                Ok(())
            } else {
                Err(err(
                    RejectionCode::TooManyItems,
                    format!("最多 {max_items} 项"),
                    format!("at most {max_items} items"),
                ))
            }
        }
        (K::JsonArray { .. }, _) => Err(wrong_type("数组", "JSON array")),
    }
}

impl FieldSpec {
    /// Checks a value a device sends for this field: `null` clears an optional field and is
    /// refused (`field_required`) for a required one; anything else must fit [`Self::kind`].
    pub fn validate(&self, value: &Value) -> Result<(), FieldError> {
        if value.is_null() {
            if self.required || matches!(self.kind, K::StringSet { .. }) {
                return Err(err(
                    RejectionCode::FieldRequired,
                    format!("{}不能为空", self.label_zh),
                    format!("{} cannot be empty", self.name),
                ));
            }
            return Ok(());
        }
        validate_value(&self.kind, value)
    }
}

fn check_text(s: &str, max_chars: usize) -> Result<(), FieldError> {
    let n = s.chars().count();
    if n > max_chars {
        Err(err(
            RejectionCode::TextTooLong,
            format!("文本过长（{n} 字），最多 {max_chars} 字"),
            format!("text too long ({n} characters), at most {max_chars}"),
        ))
    } else {
        Ok(())
    }
}

fn out_of_range(min: impl std::fmt::Display, max: impl std::fmt::Display) -> FieldError {
    err(
        RejectionCode::OutOfRange,
        format!("数值应在 {min} 到 {max} 之间"),
        format!("value must be between {min} and {max}"),
    )
}

fn bad_delta() -> FieldError {
    err(
        RejectionCode::InvalidSetDelta,
        "集合字段应为 {\"add\": [...], \"remove\": [...]} 形式",
        "set field must be a delta {\"add\": [...], \"remove\": [...]} of strings",
    )
}

fn digits(s: &str) -> Option<u32> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Parses `YYYY-MM-DD` into (year, month, day) when the date exists in the Gregorian calendar.
fn parse_date(s: &str) -> Option<(u32, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&s[..4])?, digits(&s[5..7])?, digits(&s[8..])?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (y >= 1 && (1..=days).contains(&d)).then_some((y, m, d))
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t`/`z` and a space separator are accepted as
/// RFC 3339 allows.
fn is_rfc3339(s: &str) -> bool {
    if s.len() < 20 || !s.is_char_boundary(10) {
        return false;
    }
    let (date, rest) = s.split_at(10);
    if parse_date(date).is_none() {
        return false;
    }
    let rb = rest.as_bytes();
    if !matches!(rb[0], b'T' | b't' | b' ') || rb.len() < 9 || rb[3] != b':' || rb[6] != b':' {
        return false;
    }
    let time_ok =
        |h: &str, m: &str| matches!((digits(h), digits(m)), (Some(h), Some(m)) if h < 24 && m < 60);
    if !time_ok(&rest[1..3], &rest[4..6]) || !matches!(digits(&rest[7..9]), Some(sec) if sec <= 60)
    {
        return false;
    }
    let mut tail = &rest[9..];
    if let Some(frac) = tail.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        tail = &frac[n..];
    }
    match tail.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', _, _, b':', _, _] => time_ok(&tail[1..3], &tail[4..6]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(kind: FieldKind, v: Value) -> Option<&'static str> {
        validate_value(&kind, &v).err().map(|e| e.code.as_str())
    }

    #[test]
    fn text_counts_characters_not_bytes() {
        let k = K::Text { max_chars: 4 };
        assert_eq!(code(k, json!("危旧房屋")), None);
        assert_eq!(code(k, json!("危旧房屋改")), Some("text_too_long"));
        assert_eq!(code(k, json!(3)), Some("wrong_type"));
    }

    #[test]
    fn integer_range_and_type() {
        let k = K::Integer { min: 0, max: 100 };
        assert_eq!(code(k, json!(0)), None);
        assert_eq!(code(k, json!(100)), None);
        assert_eq!(code(k, json!(101)), Some("out_of_range"));
        assert_eq!(code(k, json!(-1)), Some("out_of_range"));
        assert_eq!(code(k, json!(u64::MAX)), Some("out_of_range"));
        assert_eq!(code(k, json!(1.5)), Some("wrong_type"));
        assert_eq!(code(k, json!("5")), Some("wrong_type"));
    }

    #[test]
    fn decimal_range() {
        let k = K::Decimal {
            min: -90.0,
            max: 90.0,
        };
        assert_eq!(code(k, json!(31.2304)), None);
        assert_eq!(code(k, json!(-90)), None);
        assert_eq!(code(k, json!(90.0001)), Some("out_of_range"));
        assert_eq!(code(k, json!("31.2")), Some("wrong_type"));
    }

    #[test]
    fn bool_kind() {
        assert_eq!(code(K::Bool, json!(true)), None);
        assert_eq!(code(K::Bool, json!("true")), Some("wrong_type"));
    }

    #[test]
    fn dates_must_exist() {
        for ok in ["2024-02-29", "2000-02-29", "2023-12-31"] {
            assert_eq!(code(K::Date, json!(ok)), None, "{ok}");
        }
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2024-13-01",
            "2024-04-31",
            "2024-1-01",
            "20240101",
            "2024-01-0a",
        ] {
            assert_eq!(code(K::Date, json!(bad)), Some("invalid_date"), "{bad}");
        }
        assert_eq!(code(K::Date, json!(20240101)), Some("wrong_type"));
    }

    #[test]
    fn timestamps_are_rfc3339_with_offset() {
        for ok in [
            "2024-05-01T08:30:00+08:00",
            "2024-05-01T00:30:00Z",
            "2024-05-01t00:30:00.123456z",
            "2024-05-01 23:59:60-05:30",
        ] {
            assert_eq!(code(K::Timestamp, json!(ok)), None, "{ok}");
        }
        for bad in [
            "2024-05-01T08:30:00",
            "2024-05-01T24:00:00Z",
            "2024-05-01T08:30Z",
            "2024-05-01T08:30:00.Z",
            "2024-05-01T08:30:00+0800",
            "2024-02-30T08:30:00Z",
            "2024-05-01T08:30:00+08:00 ",
            "二〇二四年五月一日八点三十分",
        ] {
            assert_eq!(
                code(K::Timestamp, json!(bad)),
                Some("invalid_timestamp"),
                "{bad}"
            );
        }
    }

    #[test]
    fn enums_and_uuids() {
        let k = K::Enum(HAZARD_STATUS);
        assert_eq!(code(k, json!("rectified")), None);
        assert_eq!(code(k, json!("closed")), Some("not_allowed_value"));
        assert_eq!(
            code(K::Uuid, json!("01890a5d-ac96-774b-bcce-b302099a8057")),
            None
        );
        assert_eq!(
            code(K::Uuid, json!("01890a5dac96774bbcceb302099a8057")),
            Some("invalid_uuid")
        );
        assert_eq!(code(K::Uuid, json!("not-a-uuid")), Some("invalid_uuid"));
    }

    #[test]
    fn string_set_takes_a_delta() {
        let k = K::StringSet {
            max_item_chars: 10,
            sha256: false,
        };
        assert_eq!(code(k, json!({"add": ["裂缝"], "remove": []})), None);
        assert_eq!(code(k, json!({"remove": ["a"]})), None);
        assert_eq!(code(k, json!(["a"])), Some("invalid_set_delta"));
        assert_eq!(code(k, json!({})), Some("invalid_set_delta"));
        assert_eq!(
            code(k, json!({"add": ["a"], "put": []})),
            Some("invalid_set_delta")
        );
        assert_eq!(code(k, json!({"add": [1]})), Some("invalid_set_delta"));
        assert_eq!(
            code(k, json!({"add": ["abcdefghijk"]})),
            Some("text_too_long")
        );
        let photos = K::StringSet {
            max_item_chars: 64,
            sha256: true,
        };
        let hash = "a".repeat(64);
        assert_eq!(code(photos, json!({"add": [hash]})), None);
        assert_eq!(
            code(photos, json!({"add": ["A".repeat(64)]})),
            Some("invalid_sha256")
        );
        assert_eq!(
            code(photos, json!({"add": ["abc"]})),
            Some("invalid_sha256")
        );
    }

    #[test]
    fn json_object_kind() {
        let k = K::JsonObject { max_keys: 2 };
        assert_eq!(code(k, json!({"q1": true, "q2": "crack"})), None);
        assert_eq!(
            code(k, json!({"a": 1, "b": 2, "c": 3})),
            Some("too_many_keys")
        );
        assert_eq!(code(k, json!([1])), Some("wrong_type"));
    }

    #[test]
    fn scope_ids_read_the_scope_fields() {
        let unit = "01890a5d-ac96-774b-bcce-b302099a8057";
        let values =
            serde_json::from_value(json!({"unit_id": unit, "area_id": "junk", "severity": "low"}))
                .unwrap();
        let ids = HAZARD.scope_ids(&values);
        assert_eq!(ids.len(), 1);
        assert_eq!(ids["unit_id"].to_string(), unit);
        assert!(BUILDING.scope_ids(&values).is_empty());
    }

    #[test]
    fn null_clears_optional_fields_only() {
        let status = HAZARD.field("status").unwrap();
        assert_eq!(
            status.validate(&Value::Null).unwrap_err().code,
            "field_required"
        );
        assert!(
            HAZARD
                .field("location")
                .unwrap()
                .validate(&Value::Null)
                .is_ok()
        );
        assert!(
            HAZARD
                .field("photos")
                .unwrap()
                .validate(&Value::Null)
                .is_err()
        );
    }

    #[test]
    fn errors_carry_both_languages() {
        let e = validate_value(&K::Date, &json!("x")).unwrap_err();
        assert!(!e.message_zh.is_empty() && !e.message_en.is_empty());
        assert_ne!(e.message_zh, e.message_en);
    }

    /// The declarations are consistent: unique names, sets use set policy, monotonic fields are
    /// enums over the same order, scope fields exist and are server-authoritative uuids.
    #[test]
    fn schemas_are_consistent() {
        let mut names: Vec<_> = RECORD_TYPES.iter().map(|s| s.name).collect();
        names.dedup();
        assert_eq!(names.len(), RECORD_TYPES.len());
        for s in RECORD_TYPES {
            assert_eq!(schema_for(s.name), Some(*s));
            let mut fields: Vec<_> = s.fields.iter().map(|f| f.name).collect();
            fields.sort();
            fields.dedup();
            assert_eq!(fields.len(), s.fields.len(), "{}", s.name);
            for field in s.fields {
                let is_set = matches!(field.kind, K::StringSet { .. });
                assert_eq!(
                    is_set,
                    field.policy == MergePolicy::AddWinsSet,
                    "{}.{}",
                    s.name,
                    field.name
                );
                if let MergePolicy::Monotonic(order) = field.policy {
                    assert_eq!(field.kind, K::Enum(order), "{}.{}", s.name, field.name);
                }
            }
            assert!(!s.scope_fields.is_empty());
            for scope in s.scope_fields {
                let spec = s.field(scope).expect("scope field exists");
                assert_eq!(spec.kind, K::Uuid);
                assert!(spec.required);
                assert_eq!(spec.policy, MergePolicy::ServerAuthoritative);
            }
        }
        assert!(schema_for("nope").is_none());
        let published = serde_json::to_value(RECORD_TYPES).unwrap();
        assert_eq!(published[3]["name"], "hazard");
        let status = &published[3]["fields"][12];
        assert_eq!(
            status["policy"],
            json!({"monotonic": ["open", "rectified", "verified"]})
        );
        assert_eq!(
            status["kind"],
            json!({"enum": ["open", "rectified", "verified"]})
        );
    }
}
