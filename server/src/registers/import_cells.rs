//! The cells of an imported sheet: which column a header names, and one cell as its field's
//! wire value (area and unit names become ids, dates and numbers are checked, then the shared
//! field validation as on a device).

use anju_shared::records::{FieldKind, FieldSpec, RecordSchema};
use serde_json::{Value, json};
use uuid::Uuid;

use super::import::{Existing, RowError, row_error};
use super::query::Org;

/// What a column of the sheet holds.
#[derive(Debug, Clone, Copy)]
pub(super) enum Column {
    /// 记录编号: the record id.
    Id,
    /// 区县: narrows the area name.
    District,
    /// 街道: narrows the area name.
    Street,
    /// A computed column of the download (是否超期): read and ignored.
    Ignored,
    /// A field of the record type.
    Field(&'static FieldSpec),
}

pub(super) fn column_of(schema: &RecordSchema, header: &str) -> Option<Column> {
    Some(match header {
        "记录编号" | "id" => Column::Id,
        "区县" | "district" => Column::District,
        "街道" | "street" => Column::Street,
        "是否超期" | "overdue" => Column::Ignored,
        h => Column::Field(
            schema
                .fields
                .iter()
                .find(|f| f.label_zh == h || f.name == h)?,
        ),
    })
}

/// Why an area name names no area.
pub(super) enum AreaMiss {
    Unknown,
    Ambiguous,
}

pub(super) fn area_error(row: usize, column: &str, name: &str, e: AreaMiss) -> RowError {
    let (what_zh, what_en) = match column {
        "区县" => ("区县", "district"),
        "街道" => ("街道", "street"),
        _ => ("区域", "area"),
    };
    match e {
        AreaMiss::Unknown => row_error(
            row,
            column,
            &format!("unknown_{what_en}"),
            format!("未知的{what_zh}：{name}"),
            format!("unknown {what_en}: {name}"),
        ),
        AreaMiss::Ambiguous => row_error(
            row,
            column,
            "ambiguous_area",
            format!("有多个名为 {name} 的{what_zh}，请同时填写区县和街道"),
            format!("several {what_en}s are named {name}; give the district and street too"),
        ),
    }
}

/// The area named `name` (Chinese or English name, code or id) of one of `kinds` (any kind
/// when empty), below `within` when given.
pub(super) fn find_area<'o>(
    org: &'o Org,
    name: &str,
    kinds: &[&str],
    within: Option<&str>,
) -> Result<&'o str, AreaMiss> {
    if let Some(a) = org.areas.get(name) {
        return Ok(&a.id);
    }
    let below = within.map(|w| org.below(w));
    let found: Vec<&str> = org
        .areas
        .values()
        .filter(|a| a.name_zh == name || a.name_en == name || a.code == name)
        .filter(|a| kinds.is_empty() || kinds.contains(&a.kind.as_str()))
        .filter(|a| below.as_ref().is_none_or(|b| b.contains(&a.id)))
        .map(|a| a.id.as_str())
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(AreaMiss::Unknown),
        _ => Err(AreaMiss::Ambiguous),
    }
}

pub(super) type CellError = (&'static str, String, String);

/// One cell as the field's wire value: names become ids, dates are checked, numbers parsed,
/// then the shared field validation (lengths, ranges, enums) as on a device.
pub(super) fn parse_cell(
    spec: &FieldSpec,
    raw: &str,
    org: &Org,
    within: Option<&str>,
    projects: &Existing,
) -> Result<Value, CellError> {
    let value = match (&spec.kind, spec.name) {
        (FieldKind::Uuid, "area_id") => match find_area(org, raw, &[], within) {
            Ok(id) => json!(id),
            Err(AreaMiss::Unknown) => {
                return Err((
                    "unknown_area",
                    format!("未知的区域（社区）：{raw}"),
                    format!("unknown area (community): {raw}"),
                ));
            }
            Err(AreaMiss::Ambiguous) => {
                return Err((
                    "ambiguous_area",
                    format!("有多个名为 {raw} 的区域，请同时填写区县和街道"),
                    format!("several areas are named {raw}; give the district and street too"),
                ));
            }
        },
        (FieldKind::Uuid, "unit_id") => {
            let found: Vec<&str> = org
                .units
                .values()
                .filter(|u| u.id == raw || u.code == raw || u.name_zh == raw || u.name_en == raw)
                .map(|u| u.id.as_str())
                .collect();
            match found.as_slice() {
                [one] => json!(one),
                _ => {
                    return Err((
                        "unknown_unit",
                        format!("未知的单位：{raw}"),
                        format!("unknown unit: {raw}"),
                    ));
                }
            }
        }
        (FieldKind::Uuid, "project_id") if Uuid::try_parse(raw).is_err() => {
            // A project's code (项目编号) is accepted where the sheet links a project.
            match projects.by_code.get(raw).map(Vec::as_slice) {
                Some([one]) => json!(one.to_string()),
                _ => {
                    return Err((
                        "unknown_project",
                        format!("{}应为项目的项目编号或记录编号：{raw}", spec.label_zh),
                        format!("{} must be a project's code or record id: {raw}", spec.name),
                    ));
                }
            }
        }
        (FieldKind::Integer { .. }, _) => match raw.parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => {
                return Err((
                    "not_a_number",
                    format!("不是整数：{raw}"),
                    format!("not a whole number: {raw}"),
                ));
            }
        },
        (FieldKind::Decimal { .. }, _) => match raw.parse::<f64>() {
            Ok(n) if n.is_finite() => json!(n),
            _ => {
                return Err((
                    "not_a_number",
                    format!("不是数字：{raw}"),
                    format!("not a number: {raw}"),
                ));
            }
        },
        (FieldKind::Date, _) => {
            let norm = raw.replace(['/', '.'], "-");
            match norm.parse::<jiff::civil::Date>() {
                Ok(d) => json!(d.to_string()),
                Err(_) => {
                    return Err((
                        "invalid_date",
                        format!("不是有效日期（应为 YYYY-MM-DD）：{raw}"),
                        format!("not a date (YYYY-MM-DD): {raw}"),
                    ));
                }
            }
        }
        (FieldKind::Bool, _) => match raw {
            "是" | "true" | "TRUE" | "1" => json!(true),
            "否" | "false" | "FALSE" | "0" => json!(false),
            _ => {
                return Err((
                    "not_a_bool",
                    format!("应为 是 或 否：{raw}"),
                    format!("must be 是 (yes) or 否 (no): {raw}"),
                ));
            }
        },
        (FieldKind::Enum(allowed), _) => {
            let v = allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(raw))
                .copied()
                .unwrap_or(raw);
            if !allowed.contains(&v) {
                let list = allowed.join("、");
                let (zh, en) = if spec.name == "safety_grade" {
                    (
                        format!("安全等级应为 A、B、C 或 D：{raw}"),
                        format!("the safety grade must be A, B, C or D: {raw}"),
                    )
                } else {
                    (
                        format!("{}应为 {list} 之一：{raw}", spec.label_zh),
                        format!("{} must be one of {}: {raw}", spec.name, allowed.join(", ")),
                    )
                };
                return Err(("invalid_value", zh, en));
            }
            json!(v)
        }
        (FieldKind::StringSet { .. } | FieldKind::JsonObject { .. }, _) => {
            return Err((
                "column_not_importable",
                format!("{}不能通过表格导入", spec.label_zh),
                format!("{} cannot be imported from a sheet", spec.name),
            ));
        }
        _ => json!(raw),
    };
    spec.validate(&value)
        .map_err(|e| (e.code.as_str(), e.message_zh, e.message_en))?;
    Ok(value)
}
