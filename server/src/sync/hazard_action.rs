//! The rules of a hazard's rectification order (整改通知), applied wherever a change comes from
//! (a device, the field app, an office form): a hazard's status changes only through a
//! `hazard_action` record, which the push checks here and applies to its hazard as a
//! server-authored mutation through the merge ([`anju_shared::merge::merge_server`]), in the
//! same transaction as the action. A refused action is stored nowhere; its device is told why.
//!
//! * `rectify` (已整改): the responsible unit's staff (or a unit above it), from `open`, with at
//!   least one rectification photo.
//! * `verify` (复核通过): an inspector or a supervisor, from `rectified`, with photos of the check.
//! * `return` (退回): an inspector or a supervisor, from `rectified`, with the reason; the hazard
//!   is open again in its next round (`round` + 1, the status moves forward within a round).
//! * `request_extension` (申请延期): the responsible unit, while open, with a later date and a
//!   reason; one request at a time.
//! * `decide_extension` (延期审批): a supervisor approves (the deadline becomes the requested
//!   date) or refuses.
//!
//! [`check_hazard_write`] guards the hazard's own mutations: no direct status moves, and a
//! deadline never before the order's issue date.

use std::collections::BTreeMap;

use anju_shared::merge::{Rejection, StoredRecord};
use anju_shared::protocol::Mutation;
use anju_shared::records::HAZARD;
use anju_shared::rejection::RejectionCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::scope::Scope;

/// The author of the hazard changes that actions make (in field stamps and histories).
pub const AUTHOR: &str = "server:hazard_actions";

fn refuse(code: RejectionCode, zh: &str, en: &str) -> Rejection {
    Rejection::new(code, zh, en)
}

fn text<'a>(r: &'a StoredRecord, name: &str) -> Option<&'a str> {
    r.fields
        .get(name)
        .and_then(|f| f.value.as_str())
        .filter(|s| !s.trim().is_empty())
}

fn strings(r: &StoredRecord, name: &str) -> Vec<String> {
    r.fields
        .get(name)
        .and_then(|f| f.value.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks a mutation of a hazard itself (not an action) given the record before (`current`)
/// and after the merge (`merged`): a status different from the stored one is refused
/// (`hazard_status_by_action`: statuses move through `hazard_action` records); a new hazard
/// starts `open` unless `may_set_status` (a supervisor's or an administrator's import of an
/// existing register); a deadline before the order's issue date is refused
/// (`deadline_before_issue`). Nothing is applied on a refusal.
pub fn check_hazard_write(
    current: Option<&StoredRecord>,
    merged: &StoredRecord,
    m: &Mutation,
    may_set_status: bool,
) -> Result<(), Rejection> {
    if let Some(status) = m.fields.get("status").and_then(Value::as_str) {
        let stored = current
            .filter(|c| !c.deleted)
            .and_then(|c| text(c, "status"));
        let refused = match stored {
            Some(s) => s != status,
            None => current.is_none() && status != "open" && !may_set_status,
        };
        if refused {
            return Err(refuse(
                RejectionCode::HazardStatusByAction,
                "整改状态不能直接修改：请提交整改处理（已整改须附整改照片，复核或退回由检查人员或督办人员办理）",
                "a hazard's status cannot be edited directly: submit a hazard action (rectify with photos; an inspector or supervisor verifies or returns it)",
            ));
        }
    }
    if m.fields.contains_key("rectification_proof") {
        return Err(refuse(
            RejectionCode::RectificationProofByServer,
            "整改照片核验结果由服务器根据照片判定，不能直接修改",
            "the rectification photos' check is the server's verdict and cannot be edited",
        ));
    }
    let value = |name: &str| {
        m.fields
            .get(name)
            .and_then(Value::as_str)
            .or_else(|| text(merged, name))
            .map(str::to_owned)
    };
    if let (Some(issued), Some(deadline)) = (value("order_issued_on"), value("deadline"))
        && deadline < issued
    {
        return Err(refuse(
            RejectionCode::DeadlineBeforeIssue,
            &format!("整改期限 {deadline} 早于整改通知下发日期 {issued}"),
            &format!("the deadline {deadline} is before the order's issue date {issued}"),
        ));
    }
    Ok(())
}

/// Who acts: the pushing user's role name and scope, and the server's time.
#[derive(Debug, Clone, Copy)]
pub struct Acting<'a> {
    /// Role wire name (`unit_staff`, `inspector`, `supervisor`, …).
    pub role: &'a str,
    /// What the user sees.
    pub scope: &'a Scope,
    /// Server time (ms), stamped as `rectified_at` / `verified_at`.
    pub now_ms: i64,
}

fn status_zh(status: &str) -> &'static str {
    match status {
        "rectified" => "已整改、待复核",
        "verified" => "已复核",
        _ => "待整改",
    }
}

fn is_unit_role(role: &str) -> bool {
    matches!(role, "unit_staff" | "unit_admin")
}

fn is_checker(role: &str) -> bool {
    matches!(role, "inspector" | "supervisor")
}

fn uuid_of(r: &StoredRecord, name: &str) -> Option<Uuid> {
    text(r, name).and_then(|s| Uuid::try_parse(s).ok())
}

fn timestamp(ms: i64) -> Value {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| Value::String(t.to_string()))
        .unwrap_or(Value::Null)
}

/// The changes `action` (a validated `hazard_action` record) makes to `hazard` (its target as
/// stored, with this batch's earlier changes), as the fields of a server-authored mutation; or
/// the refusal, with a stable code, when a rule forbids it. Pure.
pub fn effect(
    hazard: Option<&StoredRecord>,
    action: &StoredRecord,
    who: &Acting<'_>,
) -> Result<BTreeMap<String, Value>, Rejection> {
    let Some(h) = hazard.filter(|h| !h.deleted && h.record_type == HAZARD.name) else {
        return Err(refuse(
            RejectionCode::HazardNotFound,
            "没有这条隐患（可能已删除）",
            "no such hazard (it may have been deleted)",
        ));
    };
    if uuid_of(action, "unit_id") != uuid_of(h, "unit_id")
        || uuid_of(action, "area_id") != uuid_of(h, "area_id")
    {
        return Err(refuse(
            RejectionCode::HazardActionMismatch,
            "整改处理的责任单位和区域须与隐患一致（隐患可能已改派）",
            "the action must name the hazard's responsible unit and area (it may have been reassigned)",
        ));
    }
    let status = text(h, "status").unwrap_or("open");
    let round = h
        .fields
        .get("round")
        .and_then(|f| f.value.as_i64())
        .unwrap_or(0);
    let photos = strings(action, "photos");
    let note = text(action, "note").map(|s| s.trim().to_owned());
    let responsible = who
        .scope
        .may_decide(uuid_of(h, "unit_id"), uuid_of(h, "area_id"));
    let in_state = |wanted: &str| {
        if status == wanted {
            Ok(())
        } else {
            Err(refuse(
                RejectionCode::HazardNotInState,
                &format!("该隐患当前{}，不能办理此操作", status_zh(status)),
                &format!("the hazard is {status}; this action is not possible now"),
            ))
        }
    };
    let unit_only = || {
        if is_unit_role(who.role) && responsible {
            Ok(())
        } else {
            Err(refuse(
                RejectionCode::NotResponsibleUnit,
                "只有整改责任单位可以办理此操作",
                "only the responsible unit may do this",
            ))
        }
    };
    let checker_only = || {
        if is_checker(who.role) {
            Ok(())
        } else {
            Err(refuse(
                RejectionCode::CheckerRoleRequired,
                "只有检查人员或督办人员可以复核或退回整改",
                "only an inspector or a supervisor may verify or return a rectification",
            ))
        }
    };
    let mut out = BTreeMap::new();
    match text(action, "action").unwrap_or("") {
        "rectify" => {
            unit_only()?;
            in_state("open")?;
            if photos.is_empty() {
                return Err(refuse(
                    RejectionCode::RectificationPhotosRequired,
                    "标记已整改须附整改照片",
                    "marking a hazard rectified needs rectification photos",
                ));
            }
            out.insert("status".into(), json!("rectified"));
            out.insert("rectification_photos".into(), json!({ "add": photos }));
            out.insert("rectified_at".into(), timestamp(who.now_ms));
            if let Some(n) = note {
                out.insert("rectification_note".into(), json!(n));
            }
        }
        "verify" => {
            checker_only()?;
            in_state("rectified")?;
            if photos.is_empty() {
                return Err(refuse(
                    RejectionCode::VerificationPhotosRequired,
                    "复核须附现场核查照片",
                    "verifying needs photos of the check",
                ));
            }
            out.insert("status".into(), json!("verified"));
            out.insert("verification_photos".into(), json!({ "add": photos }));
            out.insert("verified_at".into(), timestamp(who.now_ms));
        }
        "return" => {
            checker_only()?;
            in_state("rectified")?;
            let Some(reason) = note else {
                return Err(refuse(
                    RejectionCode::ReturnReasonRequired,
                    "退回整改须写明原因",
                    "returning a rectification needs the reason",
                ));
            };
            out.insert("status".into(), json!("open"));
            out.insert("round".into(), json!(round + 1));
            out.insert("return_reason".into(), json!(reason));
            out.insert("rectified_at".into(), Value::Null);
            out.insert("rectification_proof".into(), Value::Null);
        }
        "request_extension" => {
            unit_only()?;
            in_state("open")?;
            let Some(deadline) = text(h, "deadline") else {
                return Err(refuse(
                    RejectionCode::NoDeadline,
                    "该隐患没有整改期限，无需申请延期",
                    "the hazard has no deadline to extend",
                ));
            };
            if text(h, "extension_requested").is_some() {
                return Err(refuse(
                    RejectionCode::ExtensionPending,
                    "已有待审批的延期申请",
                    "an extension request is already waiting for a decision",
                ));
            }
            let Some(requested) = text(action, "requested_deadline") else {
                return Err(refuse(
                    RejectionCode::RequestedDeadlineRequired,
                    "请填写申请延期至的日期",
                    "the requested deadline is required",
                ));
            };
            if requested <= deadline {
                return Err(refuse(
                    RejectionCode::ExtensionNotLater,
                    &format!("申请的期限 {requested} 须晚于当前整改期限 {deadline}"),
                    &format!(
                        "the requested deadline {requested} must be after the current {deadline}"
                    ),
                ));
            }
            if note.is_none() {
                return Err(refuse(
                    RejectionCode::ExtensionReasonRequired,
                    "申请延期须写明理由",
                    "an extension request needs its reason",
                ));
            }
            out.insert("extension_requested".into(), json!(requested));
        }
        "decide_extension" => {
            if !matches!(who.role, "supervisor" | "admin") {
                return Err(refuse(
                    RejectionCode::SupervisorRequired,
                    "只有督办人员可以审批延期申请",
                    "only a supervisor may decide an extension request",
                ));
            }
            let Some(requested) = text(h, "extension_requested") else {
                return Err(refuse(
                    RejectionCode::NoExtensionPending,
                    "该隐患没有待审批的延期申请",
                    "the hazard has no extension request waiting",
                ));
            };
            match text(action, "decision") {
                Some("approve") => {
                    out.insert("deadline".into(), json!(requested));
                }
                Some("refuse") => {}
                _ => {
                    return Err(refuse(
                        RejectionCode::DecisionRequired,
                        "请选择批准或不批准",
                        "the decision (approve or refuse) is required",
                    ));
                }
            }
            out.insert("extension_requested".into(), Value::Null);
        }
        other => {
            return Err(refuse(
                RejectionCode::UnknownHazardAction,
                &format!("未知的整改处理：{other}"),
                &format!("unknown hazard action: {other}"),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anju_shared::merge::merge;
    use anju_shared::protocol::Op;
    use anju_shared::records::HAZARD_ACTION;

    const UNIT: &str = "01890a5d-ac96-774b-bcce-b302099a8057";
    const AREA: &str = "01890a5d-ac96-774b-bcce-b302099a8059";

    fn record(schema: &anju_shared::records::RecordSchema, fields: Value) -> StoredRecord {
        let m = Mutation {
            seq: 1,
            record_type: schema.name.into(),
            record_id: Uuid::now_v7(),
            op: Op::Upsert,
            base_version: None,
            fields: serde_json::from_value(fields).unwrap(),
            hlc: format!("{:016x}-{:08x}-a", 1000, 0),
        };
        merge(schema, None, &m, "a", 1).unwrap().record
    }

    fn hazard(status: &str) -> StoredRecord {
        record(
            &HAZARD,
            json!({"description": "d", "unit_id": UNIT, "area_id": AREA, "severity": "low",
                   "status": status, "deadline": "2031-03-01", "order_issued_on": "2031-02-01"}),
        )
    }

    fn action(kind: &str, extra: Value) -> StoredRecord {
        let mut f = json!({"hazard_id": Uuid::now_v7().to_string(), "unit_id": UNIT,
                           "area_id": AREA, "action": kind, "acted_at": "2031-02-02T10:00:00Z"});
        f.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        record(&HAZARD_ACTION, f)
    }

    fn code(h: &StoredRecord, a: &StoredRecord, role: &str) -> String {
        let scope = Scope::All;
        let who = Acting {
            role,
            scope: &scope,
            now_ms: 0,
        };
        match effect(Some(h), a, &who) {
            Ok(_) => "ok".into(),
            Err(r) => r.code,
        }
    }

    #[test]
    fn each_step_has_its_role_state_and_evidence() {
        let photo = json!({"add": ["a".repeat(64)]});
        let open = hazard("open");
        let done = hazard("rectified");
        let rectify = action("rectify", json!({"photos": photo}));
        assert_eq!(code(&open, &rectify, "unit_staff"), "ok");
        assert_eq!(code(&open, &rectify, "inspector"), "not_responsible_unit");
        assert_eq!(code(&done, &rectify, "unit_staff"), "hazard_not_in_state");
        let bare = action("rectify", json!({}));
        assert_eq!(
            code(&open, &bare, "unit_staff"),
            "rectification_photos_required"
        );
        let verify = action("verify", json!({"photos": photo}));
        assert_eq!(code(&done, &verify, "inspector"), "ok");
        assert_eq!(code(&done, &verify, "unit_admin"), "checker_role_required");
        assert_eq!(code(&open, &verify, "supervisor"), "hazard_not_in_state");
        let back = action("return", json!({}));
        assert_eq!(code(&done, &back, "inspector"), "return_reason_required");
        let ask = action(
            "request_extension",
            json!({"requested_deadline": "2031-02-20", "note": "雨季"}),
        );
        assert_eq!(code(&open, &ask, "unit_staff"), "extension_not_later");
        let decide = action("decide_extension", json!({"decision": "approve"}));
        assert_eq!(code(&open, &decide, "supervisor"), "no_extension_pending");
        assert_eq!(code(&open, &decide, "unit_staff"), "supervisor_required");
    }

    #[test]
    fn a_deadline_before_the_issue_date_is_refused() {
        let h = hazard("open");
        let m = Mutation {
            seq: 2,
            record_type: "hazard".into(),
            record_id: h.id,
            op: Op::Upsert,
            base_version: Some(1),
            fields: serde_json::from_value(json!({"order_issued_on": "2031-03-05"})).unwrap(),
            hlc: format!("{:016x}-{:08x}-a", 2000, 0),
        };
        let e = check_hazard_write(Some(&h), &h, &m, false).unwrap_err();
        assert_eq!(e.code, "deadline_before_issue");
    }
}
