//! `GET /api/v1/directory`: the areas and units a device's user may file records under, by name,
//! for the field app's pickers (nobody types an id). Each area carries the names of its parent
//! chain (区 › 街道 › 社区) so two communities of the same name are told apart.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::schema::{areas, units};
use crate::error::ApiError;

use super::SyncContext;
use crate::auth::scope::Scope;

/// One area of the caller's scope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DirectoryArea {
    /// Area id (the value of a record's `area_id`).
    pub id: String,
    /// Stable code, e.g. `hexi-jianshe-1`.
    pub code: String,
    /// Parent area id.
    #[schema(required = true)]
    pub parent_id: Option<String>,
    /// `city`, `district`, `street`, `community`.
    pub kind: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Names from the top of the tree down to this area, in Chinese.
    pub path_zh: Vec<String>,
    /// The same in English.
    pub path_en: Vec<String>,
}

/// One unit of the caller's scope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DirectoryUnit {
    /// Unit id (the value of a record's `unit_id`).
    pub id: String,
    /// Stable code, e.g. `hexi_jianshe_office`.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// The answer: areas in tree order (parents first, then by code) and units by code.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Directory {
    /// Areas the caller's records may be in.
    pub areas: Vec<DirectoryArea>,
    /// Units the caller's records may name as responsible.
    pub units: Vec<DirectoryUnit>,
}

type AreaRow = (String, String, Option<String>, String, String, String);
type UnitRow = (String, String, String, String);

/// Builds the directory of `scope` from every area and unit.
fn build(scope: &Scope, area_rows: Vec<AreaRow>, unit_rows: Vec<UnitRow>) -> Directory {
    let by_id: HashMap<&str, &AreaRow> = area_rows.iter().map(|r| (r.0.as_str(), r)).collect();
    let visible = |id: &str, is_area: bool| match scope {
        Scope::All => true,
        Scope::Limited { units, areas } => Uuid::try_parse(id).is_ok_and(|u| {
            if is_area {
                areas.contains(&u)
            } else {
                units.contains(&u)
            }
        }),
    };
    let mut out: Vec<DirectoryArea> = area_rows
        .iter()
        .filter(|r| visible(&r.0, true))
        .map(|(id, code, parent_id, kind, zh, en)| {
            let (mut path_zh, mut path_en) = (vec![zh.clone()], vec![en.clone()]);
            let mut at = parent_id.as_deref();
            // a parent chain never loops in a valid tree; the bound keeps a broken one finite
            for _ in 0..32 {
                let Some(p) = at.and_then(|p| by_id.get(p)) else {
                    break;
                };
                path_zh.push(p.4.clone());
                path_en.push(p.5.clone());
                at = p.2.as_deref();
            }
            path_zh.reverse();
            path_en.reverse();
            DirectoryArea {
                id: id.clone(),
                code: code.clone(),
                parent_id: parent_id.clone(),
                kind: kind.clone(),
                name_zh: zh.clone(),
                name_en: en.clone(),
                path_zh,
                path_en,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (a.path_zh.len(), &a.path_zh, &a.code).cmp(&(b.path_zh.len(), &b.path_zh, &b.code))
    });
    let mut unit_list: Vec<DirectoryUnit> = unit_rows
        .into_iter()
        .filter(|r| visible(&r.0, false))
        .map(|(id, code, name_zh, name_en)| DirectoryUnit {
            id,
            code,
            name_zh,
            name_en,
        })
        .collect();
    unit_list.sort_by(|a, b| a.code.cmp(&b.code));
    Directory {
        areas: out,
        units: unit_list,
    }
}

/// `GET /api/v1/directory`: the areas (with the names of their parent chain) and units of the
/// caller's sync scope, for pickers by name.
#[utoipa::path(get, path = "/api/v1/directory", tag = "sync",
    responses((status = 200, description = "{areas: [{id, code, parent_id, kind, name_zh, name_en, path_zh, path_en}], units: [{id, code, name_zh, name_en}]}", body = Directory)),
    security(("bearer" = [])))]
pub async fn directory(
    state: web::Data<SyncContext>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let dir = state
        .db
        .run(move |conn| -> Result<Directory, ApiError> {
            let scope = crate::auth::scope::scope_of(conn, &principal)?;
            let area_rows: Vec<AreaRow> = areas::table
                .select((
                    areas::id,
                    areas::code,
                    areas::parent_id,
                    areas::kind,
                    areas::name_zh,
                    areas::name_en,
                ))
                .load(conn)?;
            let unit_rows: Vec<UnitRow> = units::table
                .select((units::id, units::code, units::name_zh, units::name_en))
                .load(conn)?;
            Ok(build(&scope, area_rows, unit_rows))
        })
        .await?;
    Ok(HttpResponse::Ok().json(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const CITY: &str = "00000000-0000-7000-8000-000000000001";
    const DISTRICT: &str = "00000000-0000-7000-8000-000000000002";
    const COMMUNITY: &str = "00000000-0000-7000-8000-000000000003";
    const UNIT: &str = "00000000-0000-7000-8000-000000000010";
    const OTHER: &str = "00000000-0000-7000-8000-000000000011";

    fn rows() -> (Vec<AreaRow>, Vec<UnitRow>) {
        let a = |id: &str, code: &str, parent: Option<&str>, kind: &str, zh: &str| {
            (
                id.to_owned(),
                code.to_owned(),
                parent.map(str::to_owned),
                kind.to_owned(),
                zh.to_owned(),
                code.to_owned(),
            )
        };
        let u = |id: &str, code: &str| {
            (
                id.to_owned(),
                code.to_owned(),
                code.to_owned(),
                code.to_owned(),
            )
        };
        (
            vec![
                a(COMMUNITY, "c", Some(DISTRICT), "community", "一社区"),
                a(CITY, "city", None, "city", "清河市"),
                a(DISTRICT, "d", Some(CITY), "district", "河西区"),
            ],
            vec![u(OTHER, "b_other"), u(UNIT, "a_unit")],
        )
    }

    #[test]
    fn a_limited_scope_lists_only_its_areas_and_units_with_their_parent_names() {
        let (a, u) = rows();
        let scope = Scope::Limited {
            units: BTreeSet::from([Uuid::parse_str(UNIT).unwrap()]),
            areas: BTreeSet::from([Uuid::parse_str(COMMUNITY).unwrap()]),
        };
        let d = build(&scope, a, u);
        assert_eq!(d.areas.len(), 1);
        assert_eq!(d.areas[0].path_zh, ["清河市", "河西区", "一社区"]);
        assert_eq!(d.units.len(), 1);
        assert_eq!(d.units[0].id, UNIT);
    }

    #[test]
    fn the_whole_city_comes_parents_first() {
        let (a, u) = rows();
        let d = build(&Scope::All, a, u);
        let codes: Vec<&str> = d.areas.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(codes, ["city", "d", "c"]);
        let units: Vec<&str> = d.units.iter().map(|u| u.code.as_str()).collect();
        assert_eq!(units, ["a_unit", "b_other"]);
    }
}
