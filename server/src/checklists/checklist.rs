//! A checklist as the API carries it, and the one place its body is checked (parse at the edge).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The programmes a checklist can belong to (the `programme` values of a project record).
pub const PROGRAMMES: &[&str] = &["dangerous_housing", "old_community", "shantytown"];

/// Most items in one checklist.
pub const MAX_ITEMS: usize = 100;
/// Longest Chinese label: an inspection's `checklist_findings` holds labels of at most 100 characters.
pub const MAX_LABEL_ZH: usize = 100;
/// Longest English label or checklist name.
pub const MAX_LABEL_EN: usize = 200;

/// One item to check (检查项).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// Stable key of the item in an inspection's `checklist` answers: `[a-z0-9_]`, 1 to 40.
    pub id: String,
    /// What to check, in Chinese (also the text of a finding).
    pub label_zh: String,
    /// The same in English (may be empty).
    #[serde(default)]
    pub label_en: String,
}

/// The body of `PUT /api/v1/checklists/{programme}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistBody {
    /// Name of the checklist in Chinese.
    pub name_zh: String,
    /// Name in English (may be empty).
    #[serde(default)]
    pub name_en: String,
    /// The items, in display order.
    pub items: Vec<ChecklistItem>,
}

/// A checklist as served.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChecklistView {
    /// The programme it is for.
    pub programme: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// Items in display order.
    pub items: Vec<ChecklistItem>,
    /// 1 for the seeded default, one more per change.
    pub version: i64,
    /// Who changed it last (`system` for the seeded default).
    pub updated_by: String,
    /// Their display name.
    pub updated_by_name: String,
    /// When, ms since the epoch (0 for the seeded default).
    pub updated_at: i64,
}

/// A checked checklist body: trimmed, every rule met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidChecklist {
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// Items.
    pub items: Vec<ChecklistItem>,
}

fn problem(at: &str, zh: impl Into<String>, en: impl Into<String>) -> Value {
    json!({"at": at, "message_zh": zh.into(), "message_en": en.into()})
}

/// Checks a body; the errors name each place (`name_zh`, `items[3].id`, …) in both languages.
pub fn parse(body: ChecklistBody) -> Result<ValidChecklist, Vec<Value>> {
    let mut errors = Vec::new();
    let name_zh = body.name_zh.trim().to_owned();
    let name_en = body.name_en.trim().to_owned();
    let len = |s: &str| s.chars().count();
    if name_zh.is_empty() || len(&name_zh) > MAX_LABEL_ZH {
        errors.push(problem(
            "name_zh",
            format!("检查表名称需要 1–{MAX_LABEL_ZH} 个字"),
            format!("the name needs 1 to {MAX_LABEL_ZH} characters"),
        ));
    }
    if len(&name_en) > MAX_LABEL_EN {
        errors.push(problem(
            "name_en",
            format!("英文名称最多 {MAX_LABEL_EN} 个字符"),
            format!("the English name takes at most {MAX_LABEL_EN} characters"),
        ));
    }
    if body.items.is_empty() || body.items.len() > MAX_ITEMS {
        errors.push(problem(
            "items",
            format!("检查项需要 1–{MAX_ITEMS} 项"),
            format!("a checklist needs 1 to {MAX_ITEMS} items"),
        ));
    }
    let mut ids = BTreeSet::new();
    let mut labels = BTreeSet::new();
    let mut items = Vec::new();
    for (i, it) in body.items.into_iter().enumerate() {
        let id = it.id.trim().to_owned();
        let label_zh = it.label_zh.trim().to_owned();
        let label_en = it.label_en.trim().to_owned();
        let at = |f: &str| format!("items[{i}].{f}");
        if id.is_empty()
            || id.len() > 40
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            errors.push(problem(
                &at("id"),
                "检查项编号只能用小写字母、数字和下划线（1–40 个）",
                "an item id is 1 to 40 of a-z, 0-9 and _",
            ));
        } else if !ids.insert(id.clone()) {
            errors.push(problem(
                &at("id"),
                format!("检查项编号 {id} 重复"),
                format!("item id {id} appears twice"),
            ));
        }
        if label_zh.is_empty() || len(&label_zh) > MAX_LABEL_ZH {
            errors.push(problem(
                &at("label_zh"),
                format!("检查项内容需要 1–{MAX_LABEL_ZH} 个字"),
                format!("an item needs 1 to {MAX_LABEL_ZH} characters of Chinese text"),
            ));
        } else if !labels.insert(label_zh.clone()) {
            errors.push(problem(
                &at("label_zh"),
                format!("检查项“{label_zh}”重复"),
                format!("item “{label_zh}” appears twice"),
            ));
        }
        if len(&label_en) > MAX_LABEL_EN {
            errors.push(problem(
                &at("label_en"),
                format!("英文内容最多 {MAX_LABEL_EN} 个字符"),
                format!("the English text takes at most {MAX_LABEL_EN} characters"),
            ));
        }
        items.push(ChecklistItem {
            id,
            label_zh,
            label_en,
        });
    }
    if errors.is_empty() {
        Ok(ValidChecklist {
            name_zh,
            name_en,
            items,
        })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, zh: &str) -> ChecklistItem {
        ChecklistItem {
            id: id.into(),
            label_zh: zh.into(),
            label_en: String::new(),
        }
    }

    #[test]
    fn a_good_body_is_trimmed_and_kept_in_order() {
        let v = parse(ChecklistBody {
            name_zh: " 危房排查 ".into(),
            name_en: "Dangerous buildings".into(),
            items: vec![item("walls", " 墙体裂缝 "), item("roof", "屋面渗漏")],
        })
        .unwrap();
        assert_eq!(v.name_zh, "危房排查");
        assert_eq!(v.items[0].label_zh, "墙体裂缝");
        assert_eq!(v.items[1].id, "roof");
    }

    #[test]
    fn every_problem_is_named() {
        let e = parse(ChecklistBody {
            name_zh: "".into(),
            name_en: String::new(),
            items: vec![
                item("Walls!", "墙体"),
                item("roof", &"长".repeat(101)),
                item("x", "墙体"),
                item("x", "漏"),
            ],
        })
        .unwrap_err();
        let at: Vec<&str> = e.iter().map(|p| p["at"].as_str().unwrap()).collect();
        assert_eq!(
            at,
            [
                "name_zh",
                "items[0].id",
                "items[1].label_zh",
                "items[2].label_zh",
                "items[3].id"
            ]
        );
        assert!(
            parse(ChecklistBody {
                name_zh: "空".into(),
                name_en: String::new(),
                items: vec![]
            })
            .is_err()
        );
    }
}
