//! Conflict review: a person picks one of the two contested values of a field, the server's or
//! the device's, never a third one; the choice is written as an ordinary server change, so
//! every device in scope pulls it.
//!
//! Who decides: a server-authoritative field (责任单位, 整改期限) or a monotonic status only a
//! supervisor or an administrator ([`super::may_overrule`]); any other field also the record's
//! responsible unit or a unit above it ([`Scope::may_decide`]). A choice after which the record
//! would leave the resolver's scope is refused.

use std::collections::BTreeMap;
use std::sync::Mutex;

use anju_shared::hlc::HlcClock;
use anju_shared::merge::{ElementTag, FieldState, StoredRecord};
use anju_shared::protocol::SetDelta;
use anju_shared::records::{FieldKind, FieldSpec, MergePolicy, schema_for, validate_value};
use diesel::prelude::*;
use serde_json::Value;

use super::schema::{sync_conflicts, sync_records};
use super::store::{
    RecordRow, lock_counter, record_scope_exit, replace_photo_refs, scope_columns, store_counter,
};
use crate::auth::scope::Scope;
use crate::db::DbConnection;

/// Which side of a conflict a person keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    /// The value the server had before the device's change.
    Server,
    /// The device's change (for a set: the server's elements with the device's delta applied;
    /// for a delete: the deletion).
    Device,
}

/// What a person sent: a side, or a value that must equal one of the two contested ones.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    /// `{"pick": "server" | "device"}`.
    Pick(Pick),
    /// `{"value": …}` (the older form): accepted only when it is one of the contested values.
    Value(Value),
}

/// Who resolves: their author name (`user:<id>`), their scope, and whether they may overrule
/// server-authoritative fields and monotonic statuses.
#[derive(Debug, Clone, Copy)]
pub struct Resolver<'a> {
    /// Author stamped on the written value.
    pub author: &'a str,
    /// What the resolver sees.
    pub scope: &'a Scope,
    /// Supervisor or administrator.
    pub may_overrule: bool,
}

/// Why a resolution was refused. Nothing is written on any of them.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No such conflict (or not visible to the caller).
    #[error("conflict not found")]
    NotFound,
    /// The caller sees the record but is not its responsible unit.
    #[error("not the record's unit")]
    NotYourUnit,
    /// A server-authoritative field or a monotonic status: supervisors and administrators only.
    #[error("needs a supervisor")]
    NeedsSupervisor,
    /// The value is neither the server's nor the device's.
    #[error("not a contested value")]
    NotContested {
        /// The server's value.
        server: Value,
        /// The device's value (`null` for a deletion).
        device: Value,
    },
    /// After the choice the record would be outside the resolver's scope.
    #[error("the record would leave the resolver's scope")]
    LeavesScope,
    /// Already resolved.
    #[error("conflict already resolved")]
    AlreadyResolved,
    /// The value does not fit the field.
    #[error("{code}: {message_en}")]
    InvalidValue {
        /// Stable code from the field validation.
        code: String,
        /// Chinese message.
        message_zh: String,
        /// English message.
        message_en: String,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    /// A stored row could not be read.
    #[error(transparent)]
    Corrupt(#[from] anyhow::Error),
}

/// The two contested values of one conflict, as a person chooses between them.
#[derive(Debug, Clone, PartialEq)]
pub struct Contested {
    /// The server's value (a sorted array for a set).
    pub server: Value,
    /// The device's value; `None` when the device deleted the record.
    pub device: Option<Value>,
}

fn sorted_set(v: &Value) -> Vec<String> {
    let mut items: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect();
    items.sort();
    items.dedup();
    items
}

fn as_set_value(items: Vec<String>) -> Value {
    Value::Array(items.into_iter().map(Value::String).collect())
}

/// The contested values of a conflict on field `spec` whose stored sides are `server_value`
/// and `device_value`, for a record now `deleted` or not.
pub fn contested(
    spec: &FieldSpec,
    server_value: &Value,
    device_value: &Value,
    deleted: bool,
) -> Contested {
    if matches!(spec.kind, FieldKind::StringSet { .. }) {
        let server = sorted_set(server_value);
        // A set conflict carries the device's delta; null means the device deleted the record.
        let device = (!device_value.is_null()).then(|| {
            let delta: SetDelta = serde_json::from_value(device_value.clone()).unwrap_or_default();
            let mut items: Vec<String> = server
                .iter()
                .filter(|e| !delta.remove.contains(e))
                .cloned()
                .collect();
            items.extend(delta.add);
            items.sort();
            items.dedup();
            as_set_value(items)
        });
        return Contested {
            server: as_set_value(server),
            device,
        };
    }
    let deletion = device_value.is_null() && (deleted || spec.required);
    Contested {
        server: server_value.clone(),
        device: (!deletion).then(|| device_value.clone()),
    }
}

/// What a resolution does: the record to write (`None`: it stays as it is, e.g. the deletion
/// was kept) and the value recorded as the resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The record after the choice, when it changes.
    pub record: Option<StoredRecord>,
    /// The chosen value (`null` for a kept deletion).
    pub resolution: Value,
}

/// Decides a resolution without touching the database: checks who may decide this field,
/// that the choice is one of the contested values, and that the record stays in the
/// resolver's scope. `hlc` and `version` stamp the written field.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    resolver: &Resolver<'_>,
    spec: &FieldSpec,
    server_value: &Value,
    device_value: &Value,
    record: &StoredRecord,
    choice: &Choice,
    hlc: &str,
    version: i64,
) -> Result<Decision, ResolveError> {
    let (unit, area) = scope_columns(record);
    match spec.policy {
        MergePolicy::ServerAuthoritative | MergePolicy::Monotonic(_) => {
            if !resolver.may_overrule {
                return Err(ResolveError::NeedsSupervisor);
            }
        }
        MergePolicy::LastWriterWins | MergePolicy::AddWinsSet => {
            if !resolver.may_overrule && !resolver.scope.may_decide(unit, area) {
                return Err(ResolveError::NotYourUnit);
            }
        }
    }
    let sides = contested(spec, server_value, device_value, record.deleted);
    let is_set = matches!(spec.kind, FieldKind::StringSet { .. });
    let pick = match choice {
        Choice::Pick(p) => *p,
        Choice::Value(v) => {
            let v = match v {
                Value::Array(_) if is_set => Some(as_set_value(sorted_set(v))),
                _ if is_set => None,
                _ => Some(v.clone()),
            };
            match v {
                Some(v) if v == sides.server => Pick::Server,
                Some(v) if sides.device.as_ref() == Some(&v) => Pick::Device,
                _ => {
                    return Err(ResolveError::NotContested {
                        server: sides.server,
                        device: sides.device.unwrap_or(Value::Null),
                    });
                }
            }
        }
    };
    let chosen = match pick {
        Pick::Server => sides.server,
        Pick::Device => match sides.device {
            Some(v) => v,
            // The deletion stands: nothing to write.
            None => {
                return Ok(Decision {
                    record: None,
                    resolution: Value::Null,
                });
            }
        },
    };
    let invalid = |e: anju_shared::records::FieldError| ResolveError::InvalidValue {
        code: e.code.as_str().to_owned(),
        message_zh: e.message_zh,
        message_en: e.message_en,
    };
    if is_set {
        let items = chosen.as_array().cloned().unwrap_or_default();
        validate_value(&spec.kind, &serde_json::json!({ "add": items })).map_err(invalid)?;
    } else {
        spec.validate(&chosen).map_err(invalid)?;
    }
    let current = record
        .fields
        .get(spec.name)
        .map_or(&Value::Null, |f| &f.value);
    if !record.deleted && *current == chosen {
        return Ok(Decision {
            record: None,
            resolution: chosen,
        });
    }
    let elements: BTreeMap<String, Vec<ElementTag>> = if is_set {
        sorted_set(&chosen)
            .into_iter()
            .map(|e| {
                let tag = ElementTag {
                    version,
                    author: resolver.author.to_owned(),
                };
                (e, vec![tag])
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    let mut after = record.clone();
    after.fields.insert(
        spec.name.to_owned(),
        FieldState {
            value: chosen.clone(),
            hlc: hlc.to_owned(),
            version,
            author: resolver.author.to_owned(),
            elements,
        },
    );
    after.version = version;
    // A person chose to keep an edit of a deleted record: it is restored.
    after.deleted = false;
    let (unit, area) = scope_columns(&after);
    if !resolver.scope.sees(unit, area) {
        return Err(ResolveError::LeavesScope);
    }
    Ok(Decision {
        record: Some(after),
        resolution: chosen,
    })
}

/// Resolves conflict `id` with `choice` by `resolver`: the decision of [`decide`] is written
/// (the record at a new version, a scope exit if its scope changed, its photo references) and
/// the conflict is marked resolved, all in one transaction, with the capabilities' rules on the
/// written record (`records`: register columns, a hazard's clock). Returns the record's version.
pub fn resolve(
    conn: &mut DbConnection,
    clock: &Mutex<HlcClock>,
    records: &dyn super::hooks::RecordHooks,
    resolver: &Resolver<'_>,
    id: &str,
    choice: &Choice,
    now_ms: i64,
) -> Result<i64, ResolveError> {
    conn.transaction(|conn| {
        let (mut seq, _) = lock_counter(conn)?;
        let (record_id, field, status, server_value, device_value): (
            String,
            String,
            String,
            String,
            String,
        ) = sync_conflicts::table
            .find(id)
            .select((
                sync_conflicts::record_id,
                sync_conflicts::field,
                sync_conflicts::status,
                sync_conflicts::server_value,
                sync_conflicts::device_value,
            ))
            .first(conn)
            .optional()?
            .ok_or(ResolveError::NotFound)?;
        let row: RecordRow = sync_records::table
            .find(&record_id)
            .select(RecordRow::as_select())
            .first(conn)
            .optional()?
            .ok_or(ResolveError::NotFound)?;
        let (unit, area) = row.scope_ids();
        if !resolver.scope.sees(unit, area) {
            return Err(ResolveError::NotFound);
        }
        if status != "open" {
            return Err(ResolveError::AlreadyResolved);
        }
        let record = row.to_record()?;
        let spec = schema_for(&record.record_type)
            .and_then(|s| s.field(&field))
            .ok_or(ResolveError::NotFound)?;
        let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
        let hlc = {
            let mut clock = clock.lock().unwrap_or_else(|p| p.into_inner());
            clock.tick(u64::try_from(now_ms).unwrap_or(0)).to_string()
        };
        let decision = decide(
            resolver,
            spec,
            &parse(&server_value),
            &parse(&device_value),
            &record,
            choice,
            &hlc,
            seq + 2,
        )?;
        let before = scope_columns(&record);
        let mut after = before;
        let mut version = record.version;
        if let Some(new) = &decision.record {
            let exit_seq = seq + 1;
            seq += 2;
            after = scope_columns(new);
            if after != before {
                record_scope_exit(
                    conn,
                    exit_seq,
                    &record.record_type,
                    &record_id,
                    before,
                    now_ms,
                )?;
            }
            let new_row = RecordRow::from_record(new, seq, now_ms, records.columns(new));
            diesel::update(sync_records::table.find(&record_id))
                .set(&new_row)
                .execute(conn)?;
            replace_photo_refs(conn, &[new])?;
            records.written(conn, new, now_ms)?;
            version = new.version;
        }
        diesel::update(sync_conflicts::table.find(id))
            .set((
                sync_conflicts::status.eq("resolved"),
                sync_conflicts::resolution.eq(Some(decision.resolution.to_string())),
                sync_conflicts::resolved_by.eq(Some(resolver.author.to_owned())),
                sync_conflicts::resolved_at.eq(Some(now_ms)),
                sync_conflicts::unit_id.eq(after.0.map(|u| u.to_string())),
                sync_conflicts::area_id.eq(after.1.map(|a| a.to_string())),
            ))
            .execute(conn)?;
        store_counter(conn, seq)?;
        Ok(version)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anju_shared::merge::merge;
    use anju_shared::protocol::{Mutation, Op};
    use anju_shared::records::HAZARD;
    use serde_json::json;
    use uuid::Uuid;

    const MINE: &str = "01890a5d-ac96-774b-bcce-b302099a8057";
    const WATER: &str = "01890a5d-ac96-774b-bcce-b302099a8058";
    const AREA: &str = "01890a5d-ac96-774b-bcce-b302099a8059";

    fn hazard() -> StoredRecord {
        let m = Mutation {
            seq: 1,
            record_type: "hazard".into(),
            record_id: Uuid::now_v7(),
            op: Op::Upsert,
            base_version: None,
            fields: serde_json::from_value(json!({
                "description": "外墙空鼓", "area_id": AREA, "unit_id": MINE,
                "severity": "medium", "status": "rectified", "deadline": "2026-12-10",
                "photos": {"add": ["a".repeat(64)]}
            }))
            .unwrap(),
            hlc: "00000000000003e8-00000000-A".into(),
        };
        merge(&HAZARD, None, &m, "A", 1).unwrap().record
    }

    fn mine_only() -> Scope {
        Scope::Limited {
            units: [Uuid::parse_str(MINE).unwrap()].into(),
            areas: Default::default(),
        }
    }

    fn run(
        resolver: &Resolver<'_>,
        field: &str,
        server: Value,
        device: Value,
        choice: Choice,
    ) -> Result<Decision, ResolveError> {
        let spec = HAZARD.field(field).unwrap();
        decide(
            resolver,
            spec,
            &server,
            &device,
            &hazard(),
            &choice,
            "00000000000007d0-00000000-server",
            5,
        )
    }

    #[test]
    fn only_a_contested_value_can_be_chosen() {
        let scope = mine_only();
        let unit = Resolver {
            author: "user:u",
            scope: &scope,
            may_overrule: false,
        };
        let third = run(
            &unit,
            "severity",
            json!("medium"),
            json!("high"),
            Choice::Value(json!("low")),
        );
        assert!(matches!(third, Err(ResolveError::NotContested { .. })));
        let device = run(
            &unit,
            "severity",
            json!("medium"),
            json!("high"),
            Choice::Value(json!("high")),
        )
        .unwrap();
        assert_eq!(device.record.unwrap().fields["severity"].value, "high");
        let server = run(
            &unit,
            "severity",
            json!("medium"),
            json!("high"),
            Choice::Pick(Pick::Server),
        )
        .unwrap();
        assert_eq!(server.record, None, "already the current value");
        assert_eq!(server.resolution, "medium");
    }

    #[test]
    fn server_fields_and_statuses_need_a_supervisor() {
        let scope = mine_only();
        let unit = Resolver {
            author: "user:u",
            scope: &scope,
            may_overrule: false,
        };
        for (field, server, device) in [
            ("unit_id", json!(MINE), json!(WATER)),
            ("deadline", json!("2026-12-10"), json!("2027-06-30")),
            ("status", json!("rectified"), json!("open")),
        ] {
            let r = run(&unit, field, server, device, Choice::Pick(Pick::Device));
            assert!(matches!(r, Err(ResolveError::NeedsSupervisor)), "{field}");
        }
    }

    #[test]
    fn a_choice_that_moves_the_record_out_of_the_resolvers_scope_is_refused() {
        // An overruling resolver whose scope is only its own unit (defence in depth: today's
        // overruling roles see everything).
        let scope = mine_only();
        let limited = Resolver {
            author: "user:u",
            scope: &scope,
            may_overrule: true,
        };
        let r = run(
            &limited,
            "unit_id",
            json!(MINE),
            json!(WATER),
            Choice::Pick(Pick::Device),
        );
        assert!(matches!(r, Err(ResolveError::LeavesScope)));
        let all = Resolver {
            scope: &Scope::All,
            ..limited
        };
        let moved = run(
            &all,
            "unit_id",
            json!(MINE),
            json!(WATER),
            Choice::Value(json!(WATER)),
        )
        .unwrap();
        assert_eq!(moved.record.unwrap().fields["unit_id"].value, WATER);
    }

    #[test]
    fn set_and_delete_conflicts_have_their_own_sides() {
        let scope = mine_only();
        let unit = Resolver {
            author: "user:u",
            scope: &scope,
            may_overrule: false,
        };
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        let d = run(
            &unit,
            "photos",
            json!([a]),
            json!({"add": [b], "remove": [a]}),
            Choice::Pick(Pick::Device),
        )
        .unwrap();
        assert_eq!(d.resolution, json!([b]));
        let other = run(
            &unit,
            "photos",
            json!([a]),
            json!({"add": [b]}),
            Choice::Value(json!(["c".repeat(64)])),
        );
        assert!(matches!(other, Err(ResolveError::NotContested { .. })));
        // A delete conflict on a required field: the device's side is the deletion.
        let sides = contested(
            HAZARD.field("description").unwrap(),
            &json!("x"),
            &Value::Null,
            true,
        );
        assert_eq!(sides.device, None);
    }
}
