//! A register (台账) list: the filters, the sort and the page, parsed once at the edge.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::query::{Live, Narrow, Org, Search, Sort};
use crate::error::{ApiError, ErrorCode};

/// The four registers of the office and the record type each one lists.
pub const REGISTERS: &[(&str, &str, &str)] = &[
    ("project", "改造项目", "Renovation projects"),
    ("building", "危旧房台账", "Dangerous and old buildings"),
    ("inspection", "排查/检查", "Inspections"),
    ("hazard", "隐患/整改", "Hazards and rectification"),
];

/// The record type of a register name, or 404 `unknown_register`.
pub fn register_type(name: &str) -> Result<&'static str, ApiError> {
    REGISTERS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, _, _)| *n)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::UnknownRegister,
                format!("没有名为 {name} 的台账（可用：project、building、inspection、hazard）"),
                format!("no register named {name} (project, building, inspection, hazard)"),
            )
        })
}

/// The query string of a register list (and of its XLSX/CSV download).
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Page number from 1.
    pub page: Option<u32>,
    /// Rows per page, 1..=200 (default 50).
    pub per_page: Option<u32>,
    /// Field to sort by (any field of the record type, or `updated_at`).
    pub sort: Option<String>,
    /// `asc` or `desc` (default `desc` for `updated_at`, else `asc`).
    pub order: Option<String>,
    /// Area id or code: the district, street or community and everything below it.
    pub area: Option<String>,
    /// Programme (projects): `shantytown`, `dangerous_housing`, `old_community`.
    pub programme: Option<String>,
    /// Status (projects, hazards).
    pub status: Option<String>,
    /// Safety grade A-D (buildings; an inspection's grade).
    pub grade: Option<String>,
    /// Severity (hazards).
    pub severity: Option<String>,
    /// Only overdue records: open hazards past their deadline, projects past their planned
    /// completion and not completed.
    pub overdue: Option<bool>,
    /// Responsible unit id or code.
    pub unit: Option<String>,
    /// Date range start `YYYY-MM-DD` (on the register's date field, see docs/registers.md).
    pub from: Option<String>,
    /// Date range end `YYYY-MM-DD`, inclusive.
    pub to: Option<String>,
    /// Text search over the record's text fields and its area's name.
    pub q: Option<String>,
}

/// The date field a register's date range filters on.
pub fn date_field(record_type: &str) -> &'static str {
    match record_type {
        "project" => "actual_start",
        "inspection" => "inspected_at",
        "hazard" => "order_issued_on",
        _ => "",
    }
}

/// A parsed list query: the SQL narrowing (today's date is added for `overdue` by
/// [`Filter::narrow`]), the order and the page.
pub struct Filter {
    narrow: Narrow,
    overdue: bool,
    /// The order.
    pub sort: Sort,
    /// Page from 1.
    pub page: usize,
    /// Rows per page.
    pub per_page: usize,
}

fn bad(code: ErrorCode, zh: String, en: String) -> ApiError {
    ApiError::new(code, zh, en)
}

fn date(s: &str, name: &str) -> Result<String, ApiError> {
    let ok = s.len() == 10 && jiff::civil::Date::strptime("%Y-%m-%d", s).is_ok();
    if ok {
        Ok(s.to_owned())
    } else {
        Err(bad(
            ErrorCode::InvalidDateQuery,
            format!("{name} 不是有效日期（YYYY-MM-DD）：{s}"),
            format!("{name} is not a date (YYYY-MM-DD): {s}"),
        ))
    }
}

impl Filter {
    /// Parses `q` for `record_type`; bad values are 400s with a code naming the parameter.
    pub fn parse(record_type: &str, q: &ListQuery, org: &Org) -> Result<Filter, ApiError> {
        register_type(record_type)?;
        let schema = anju_shared::records::schema_for(record_type).ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("register without a schema: {record_type}"))
        })?;
        let mut narrow = Narrow::default();
        if let Some(a) = q.area.as_deref().filter(|s| !s.is_empty()) {
            let area = org.area(a).ok_or_else(|| {
                bad(
                    ErrorCode::UnknownArea,
                    format!("没有这个区域：{a}"),
                    format!("no such area: {a}"),
                )
            })?;
            narrow.areas = Some(org.below(&area.id));
        }
        if let Some(u) = q.unit.as_deref().filter(|s| !s.is_empty()) {
            let unit = org.unit(u).ok_or_else(|| {
                bad(
                    ErrorCode::UnknownUnit,
                    format!("没有这个单位：{u}"),
                    format!("no such unit: {u}"),
                )
            })?;
            narrow.unit_id = Some(unit.id.clone());
        }
        let enum_of = |field: &str, code: ErrorCode, v: &str| -> Result<String, ApiError> {
            match schema.field(field).map(|f| f.kind) {
                Some(anju_shared::records::FieldKind::Enum(allowed)) if allowed.contains(&v) => {
                    Ok(v.to_owned())
                }
                _ => Err(bad(
                    code,
                    format!("{field} 的取值无效：{v}"),
                    format!("invalid {field}: {v}"),
                )),
            }
        };
        if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
            narrow.status = Some(enum_of("status", ErrorCode::InvalidStatusQuery, s)?);
        }
        if let Some(p) = q.programme.as_deref().filter(|s| !s.is_empty()) {
            narrow.programme = Some(enum_of("programme", ErrorCode::InvalidProgramme, p)?);
        }
        let grade = match q.grade.as_deref().filter(|s| !s.is_empty()) {
            Some(g) if anju_shared::records::SAFETY_GRADES.contains(&g) => Some(g.to_owned()),
            Some(g) => {
                return Err(bad(
                    ErrorCode::InvalidGrade,
                    format!("安全等级应为 A、B、C 或 D：{g}"),
                    format!("a safety grade is A, B, C or D: {g}"),
                ));
            }
            None => None,
        };
        let severity = match q.severity.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(enum_of("severity", ErrorCode::InvalidSeverity, s)?),
            None => None,
        };
        let from = q
            .from
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| date(s, "from"))
            .transpose()?;
        let to =
            q.to.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| date(s, "to"))
                .transpose()?;
        let sort_name = q.sort.clone().unwrap_or_else(|| "updated_at".into());
        let field = schema.field(&sort_name);
        if sort_name != "updated_at" && field.is_none() {
            return Err(bad(
                ErrorCode::InvalidSort,
                format!("不能按 {sort_name} 排序"),
                format!("cannot sort by {sort_name}"),
            ));
        }
        let desc = match q.order.as_deref() {
            None => sort_name == "updated_at",
            Some("asc") => false,
            Some("desc") => true,
            Some(o) => {
                return Err(bad(
                    ErrorCode::InvalidOrder,
                    format!("排序方向应为 asc 或 desc：{o}"),
                    format!("order is asc or desc: {o}"),
                ));
            }
        };
        let sort = match field {
            None => Sort::Updated { desc },
            Some(f) => Sort::Field {
                name: f.name,
                numeric: matches!(
                    f.kind,
                    anju_shared::records::FieldKind::Integer { .. }
                        | anju_shared::records::FieldKind::Decimal { .. }
                ),
                desc,
            },
        };
        let per_page = q.per_page.unwrap_or(50);
        if !(1..=200).contains(&per_page) {
            return Err(bad(
                ErrorCode::InvalidPerPage,
                "每页条数应在 1 到 200 之间".into(),
                "per_page is between 1 and 200".into(),
            ));
        }
        narrow.grade = grade;
        narrow.severity = severity;
        narrow.from = from;
        narrow.to = to;
        narrow.search =
            q.q.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_lowercase)
                .map(|needle| Search {
                    areas: org
                        .areas
                        .values()
                        .filter(|a| {
                            a.name_zh.contains(needle.as_str())
                                || a.name_en.to_lowercase().contains(&needle)
                        })
                        .map(|a| a.id.clone())
                        .collect(),
                    needle,
                });
        Ok(Filter {
            narrow,
            overdue: q.overdue.unwrap_or(false),
            sort,
            page: q.page.unwrap_or(1).max(1) as usize,
            per_page: per_page as usize,
        })
    }

    /// The SQL narrowing of this list on `today` (`YYYY-MM-DD`, for `overdue`).
    pub fn narrow(&self, today: &str) -> Narrow {
        let mut n = self.narrow.clone();
        if self.overdue {
            n.overdue_on = Some(today.to_owned());
        }
        n
    }
}

/// Whether a record is overdue on `today`: an open hazard past its rectification deadline, a
/// project past its planned completion that is not completed.
pub fn is_overdue(record_type: &str, r: &Live, today: &str) -> bool {
    match record_type {
        "hazard" => {
            r.text("status") == Some("open") && r.text("deadline").is_some_and(|d| d < today)
        }
        "project" => {
            r.text("status") != Some("completed")
                && r.text("planned_completion").is_some_and(|d| d < today)
        }
        _ => false,
    }
}

/// One row of a list answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListItem {
    /// Record id.
    pub id: String,
    /// Current version (what an edit sends as its base).
    pub version: i64,
    /// Field values.
    #[schema(value_type = Object)]
    pub fields: Value,
    /// The record's area (names) and its district and street (null when it has none).
    #[schema(value_type = Option<Object>)]
    pub area: Value,
    /// The responsible unit's names (null when the record has none).
    #[schema(value_type = Option<Object>)]
    pub unit: Value,
    /// Overdue on the server's today.
    pub overdue: bool,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

/// The names of a record's area, street and district.
pub fn area_names(org: &Org, area_id: Option<&str>) -> Value {
    let Some(a) = area_id.and_then(|a| org.areas.get(a)) else {
        return Value::Null;
    };
    let name = |k: &str| {
        org.ancestor(&a.id, k)
            .map(
                |x| json!({"id": x.id, "code": x.code, "name_zh": x.name_zh, "name_en": x.name_en}),
            )
            .unwrap_or(Value::Null)
    };
    json!({
        "id": a.id, "code": a.code, "kind": a.kind, "name_zh": a.name_zh, "name_en": a.name_en,
        "district": name("district"), "street": name("street"), "community": name("community"),
    })
}

/// The names of a unit.
pub fn unit_names(org: &Org, unit_id: Option<&str>) -> Value {
    unit_id
        .and_then(|u| org.units.get(u))
        .map(|u| json!({"id": u.id, "code": u.code, "name_zh": u.name_zh, "name_en": u.name_en}))
        .unwrap_or(Value::Null)
}

/// The list row of `r`.
pub fn item(record_type: &str, r: &Live, org: &Org, today: &str) -> ListItem {
    ListItem {
        id: r.record.id.to_string(),
        version: r.record.version,
        fields: serde_json::to_value(&r.values).unwrap_or(Value::Null),
        area: area_names(org, r.text("area_id")),
        unit: unit_names(org, r.text("unit_id")),
        overdue: is_overdue(record_type, r, today),
        updated_at: r.updated_at,
    }
}
