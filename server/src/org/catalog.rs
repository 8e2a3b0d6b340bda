//! The organisation data a complaint needs at intake (categories, tiers, calendar, areas with
//! their point index, units, the router), loaded from the database and cached by the app for
//! a short time so intake does not rebuild indexes on every request.
//!
//! Staleness: an edit made through this process's routing admin takes effect at once (the cache
//! is dropped); edits made elsewhere (another process, the org admin API) within
//! [`CACHE_TTL`].

// Row tuples mirror the columns each query selects; naming every one would hide that.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use jiff::tz::TimeZone;

use crate::calendar::DeadlineRule;
use crate::calendar::{DeadlineTier, WorkingCalendar};
use crate::db::DbConnection;
use crate::db::schema::{
    areas, categories, deadline_tiers, routing_rules, unit_notify_targets, units,
};
use crate::error::{ApiError, ErrorCode};
use crate::routing::{AreaIndex, AreaInput, AreaKind, Polygon, Router, RoutingRule};

/// 400 `unknown_category` listing the catalog's valid codes (intake, "me too", the dry run).
pub fn unknown_category(catalog: &Catalog) -> ApiError {
    ApiError::new(
        ErrorCode::UnknownCategory,
        "没有这个诉求类别",
        "There is no such category",
    )
    .with("valid_codes", serde_json::json!(catalog.valid_codes()))
}

/// 400 `outside_jurisdiction`: a point in none of the catalog's areas.
pub fn outside_jurisdiction() -> ApiError {
    ApiError::new(
        ErrorCode::OutsideJurisdiction,
        "该位置不在本市管辖范围内",
        "This location is outside the city's jurisdiction",
    )
}

/// How long a loaded catalog is reused.
pub const CACHE_TTL: Duration = Duration::from_secs(2);

/// A complaint category (诉求类别) as intake needs it.
#[derive(Debug, Clone)]
pub struct CategoryInfo {
    /// Code.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Its deadline tier.
    pub tier: DeadlineTier,
    /// Whether resolving needs after-photos.
    pub needs_photo_proof: bool,
    /// Whether residents may pick it.
    pub active: bool,
}

/// An area's public data.
#[derive(Debug, Clone)]
pub struct AreaInfo {
    /// Id.
    pub id: String,
    /// Code.
    pub code: String,
    /// Parent id.
    pub parent_id: Option<String>,
    /// Level.
    pub kind: AreaKind,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// A unit's public data.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = units)]
pub struct UnitInfo {
    /// Id.
    pub id: String,
    /// Code.
    pub code: String,
    /// Kind (`street_office`, `dispatch_center`, …).
    pub kind: String,
    /// Parent in the unit tree.
    pub parent_id: Option<String>,
    /// Chinese (public) name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// The unit that supervises it (督办).
    pub supervising_unit_id: Option<String>,
}

/// Everything loaded, with indexes built.
pub struct Catalog {
    /// Categories by code, in display order in `category_order`.
    pub categories: HashMap<String, CategoryInfo>,
    /// Active category codes in display order.
    pub category_order: Vec<String>,
    /// The working calendar.
    pub calendar: WorkingCalendar,
    /// Areas by id.
    pub areas: HashMap<String, AreaInfo>,
    /// Point lookup.
    pub area_index: AreaIndex,
    /// `(category, area) → unit`.
    pub router: Router,
    /// Units by id.
    pub units: HashMap<String, UnitInfo>,
    /// The dispatch center (派单中心), where unrouted complaints wait.
    pub dispatch_center: Option<String>,
    /// Notification targets per unit id: `(kind, url, secret_env)`.
    pub targets: HashMap<String, Vec<NotifyTarget>>,
}

impl Catalog {
    /// The district (区) an area lies in, if any.
    pub fn district_of(&self, area_id: &str) -> Option<&AreaInfo> {
        self.area_index
            .ancestors(area_id)
            .filter_map(|id| self.areas.get(id))
            .find(|a| a.kind == AreaKind::District)
    }

    /// Valid category codes, for "unknown category" answers.
    pub fn valid_codes(&self) -> Vec<&str> {
        self.category_order.iter().map(String::as_str).collect()
    }
}

/// The app's cached catalog: loaded when absent or older than [`CACHE_TTL`], dropped on an edit
/// through this app. Owned by the app's state (one per running server), so two servers in one
/// process never share it.
#[derive(Default)]
pub struct CatalogCache {
    entry: Mutex<Option<(Instant, Arc<Catalog>)>>,
}

impl CatalogCache {
    /// The catalog, loading it when absent or stale.
    pub fn get(&self, conn: &mut DbConnection, tz: &TimeZone) -> Result<Arc<Catalog>, ApiError> {
        if let Ok(entry) = self.entry.lock()
            && let Some((at, cat)) = entry.as_ref()
            && at.elapsed() < CACHE_TTL
        {
            return Ok(cat.clone());
        }
        let cat = Arc::new(load(conn, tz)?);
        if let Ok(mut entry) = self.entry.lock() {
            *entry = Some((Instant::now(), cat.clone()));
        }
        Ok(cat)
    }

    /// Drop the cached catalog (after an edit through this app).
    pub fn invalidate(&self) {
        if let Ok(mut entry) = self.entry.lock() {
            *entry = None;
        }
    }
}

fn deadline_rule(kind: &str, value: i32, clock: &str) -> DeadlineRule {
    let n = u32::try_from(value).unwrap_or(0);
    match (kind, clock) {
        ("working_days", _) => DeadlineRule::WorkingDays(n),
        (_, "working") => DeadlineRule::WorkingHours(n),
        _ => DeadlineRule::Hours(n),
    }
}

fn area_kind(s: &str) -> AreaKind {
    match s {
        "city" => AreaKind::City,
        "district" => AreaKind::District,
        "street" => AreaKind::Street,
        _ => AreaKind::Community,
    }
}

/// A notification target of a unit as the outbox takes it: `(kind, url, secret_env)`.
pub type NotifyTarget = (String, String, Option<String>);

#[derive(Queryable, Selectable)]
#[diesel(table_name = deadline_tiers)]
struct TierRow {
    code: String,
    name_zh: String,
    name_en: String,
    response_kind: String,
    response_value: i32,
    resolution_kind: String,
    resolution_value: i32,
    clock: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = categories)]
struct CategoryRow {
    code: String,
    name_zh: String,
    name_en: String,
    tier_code: String,
    needs_photo_proof: bool,
    active: bool,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = areas)]
struct AreaRow {
    id: String,
    code: String,
    parent_id: Option<String>,
    kind: String,
    name_zh: String,
    name_en: String,
    polygon: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = routing_rules)]
struct RuleRow {
    id: String,
    category_code: Option<String>,
    area_id: String,
    unit_id: String,
    priority: i32,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = unit_notify_targets)]
struct TargetRow {
    unit_id: String,
    kind: String,
    url: String,
    secret_env: Option<String>,
}

/// Load and index everything from the database.
pub fn load(conn: &mut DbConnection, tz: &TimeZone) -> Result<Catalog, ApiError> {
    let tier_rows: Vec<TierRow> = deadline_tiers::table
        .select(TierRow::as_select())
        .load(conn)?;
    let tiers: HashMap<String, DeadlineTier> = tier_rows
        .into_iter()
        .map(|r| {
            let tier = DeadlineTier {
                code: r.code.clone(),
                name_zh: r.name_zh,
                name_en: r.name_en,
                response: deadline_rule(&r.response_kind, r.response_value, &r.clock),
                resolution: deadline_rule(&r.resolution_kind, r.resolution_value, &r.clock),
            };
            (r.code, tier)
        })
        .collect();
    let cat_rows: Vec<CategoryRow> = categories::table
        .select(CategoryRow::as_select())
        .order((categories::sort_order, categories::code))
        .load(conn)?;
    let mut categories = HashMap::new();
    let mut category_order = Vec::new();
    for r in cat_rows {
        let Some(tier) = tiers.get(&r.tier_code).cloned() else {
            continue;
        };
        if r.active {
            category_order.push(r.code.clone());
        }
        categories.insert(
            r.code.clone(),
            CategoryInfo {
                code: r.code,
                name_zh: r.name_zh,
                name_en: r.name_en,
                tier,
                needs_photo_proof: r.needs_photo_proof,
                active: r.active,
            },
        );
    }
    let calendar = crate::org::store::load_calendar(conn, tz)?;
    let area_rows: Vec<AreaRow> = areas::table.select(AreaRow::as_select()).load(conn)?;
    let mut inputs = Vec::with_capacity(area_rows.len());
    let mut area_map = HashMap::with_capacity(area_rows.len());
    for r in area_rows {
        let polygon = r
            .polygon
            .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
            .and_then(|v| Polygon::from_geojson(&v).ok());
        let kind = area_kind(&r.kind);
        inputs.push(AreaInput {
            id: r.id.clone(),
            parent_id: r.parent_id.clone(),
            kind,
            polygon,
        });
        area_map.insert(
            r.id.clone(),
            AreaInfo {
                id: r.id,
                code: r.code,
                parent_id: r.parent_id,
                kind,
                name_zh: r.name_zh,
                name_en: r.name_en,
            },
        );
    }
    let area_index = AreaIndex::new(inputs)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("area tree: {e}")))?;
    let rule_rows: Vec<RuleRow> = routing_rules::table
        .select(RuleRow::as_select())
        .load(conn)?;
    let rules = rule_rows
        .into_iter()
        .map(|r| RoutingRule {
            id: r.id,
            category: r.category_code,
            area_id: r.area_id,
            unit_id: r.unit_id,
            priority: r.priority,
        })
        .collect();
    let router = Router::new(&area_index, rules)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("routing rules: {e}")))?;
    let unit_rows: Vec<UnitInfo> = units::table
        .select(UnitInfo::as_select())
        .order(units::code)
        .load(conn)?;
    let mut dispatch_center = None;
    let mut unit_map = HashMap::new();
    for unit in unit_rows {
        if unit.kind == "dispatch_center" && dispatch_center.is_none() {
            dispatch_center = Some(unit.id.clone());
        }
        unit_map.insert(unit.id.clone(), unit);
    }
    let target_rows: Vec<TargetRow> = unit_notify_targets::table
        .select(TargetRow::as_select())
        .order(unit_notify_targets::id)
        .load(conn)?;
    let mut targets: HashMap<String, Vec<NotifyTarget>> = HashMap::new();
    for r in target_rows {
        targets
            .entry(r.unit_id)
            .or_default()
            .push((r.kind, r.url, r.secret_env));
    }
    Ok(Catalog {
        targets,
        categories,
        category_order,
        calendar,
        areas: area_map,
        area_index,
        router,
        units: unit_map,
        dispatch_center,
    })
}
