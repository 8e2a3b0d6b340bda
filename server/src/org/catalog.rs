//! The organisation data a complaint needs at intake (categories, tiers, calendar, areas with
//! their point index, units, the router), loaded from the database and cached per database for
//! a short time so intake does not rebuild indexes on every request.
//!
//! Staleness: an edit made through this process's routing admin takes effect at once (the cache
//! is dropped); edits made elsewhere (another process, the org admin API) within
//! [`CACHE_TTL`].

// Row tuples mirror the columns each query selects; naming every one would hide that.
#![allow(clippy::type_complexity)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use jiff::tz::TimeZone;

use crate::calendar::DeadlineRule;
use crate::calendar::{DeadlineTier, WorkingCalendar};
use crate::db::DbConnection;
use crate::db::schema::{
    areas, categories, deadline_tiers, routing_rules, unit_notify_targets, units,
};
use crate::error::ApiError;
use crate::routing::{AreaIndex, AreaInput, AreaKind, Polygon, Router, RoutingRule};

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
#[derive(Debug, Clone)]
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
    pub targets: HashMap<String, Vec<(String, String, Option<String>)>>,
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

type Cache = Mutex<HashMap<String, (Instant, Arc<Catalog>)>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The catalog for the database at `db_key` (its URL), loading it when absent or stale.
pub fn get(conn: &mut DbConnection, db_key: &str, tz: &TimeZone) -> Result<Arc<Catalog>, ApiError> {
    if let Ok(map) = cache().lock()
        && let Some((at, cat)) = map.get(db_key)
        && at.elapsed() < CACHE_TTL
    {
        return Ok(cat.clone());
    }
    let cat = Arc::new(load(conn, tz)?);
    if let Ok(mut map) = cache().lock() {
        map.insert(db_key.to_string(), (Instant::now(), cat.clone()));
    }
    Ok(cat)
}

/// Drop the cached catalog of `db_key` (after an edit through this process).
pub fn invalidate(db_key: &str) {
    if let Ok(mut map) = cache().lock() {
        map.remove(db_key);
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

/// Load and index everything from the database.
pub fn load(conn: &mut DbConnection, tz: &TimeZone) -> Result<Catalog, ApiError> {
    let tier_rows: Vec<(String, String, String, String, i32, String, i32, String)> =
        deadline_tiers::table
            .select((
                deadline_tiers::code,
                deadline_tiers::name_zh,
                deadline_tiers::name_en,
                deadline_tiers::response_kind,
                deadline_tiers::response_value,
                deadline_tiers::resolution_kind,
                deadline_tiers::resolution_value,
                deadline_tiers::clock,
            ))
            .load(conn)?;
    let tiers: HashMap<String, DeadlineTier> = tier_rows
        .into_iter()
        .map(|(code, name_zh, name_en, rk, rv, sk, sv, clock)| {
            let tier = DeadlineTier {
                code: code.clone(),
                name_zh,
                name_en,
                response: deadline_rule(&rk, rv, &clock),
                resolution: deadline_rule(&sk, sv, &clock),
            };
            (code, tier)
        })
        .collect();
    let cat_rows: Vec<(String, String, String, String, bool, bool, i32)> = categories::table
        .select((
            categories::code,
            categories::name_zh,
            categories::name_en,
            categories::tier_code,
            categories::needs_photo_proof,
            categories::active,
            categories::sort_order,
        ))
        .order((categories::sort_order, categories::code))
        .load(conn)?;
    let mut categories = HashMap::new();
    let mut category_order = Vec::new();
    for (code, name_zh, name_en, tier_code, needs_photo_proof, active, _) in cat_rows {
        let Some(tier) = tiers.get(&tier_code).cloned() else {
            continue;
        };
        if active {
            category_order.push(code.clone());
        }
        categories.insert(
            code.clone(),
            CategoryInfo {
                code,
                name_zh,
                name_en,
                tier,
                needs_photo_proof,
                active,
            },
        );
    }
    let calendar = crate::org::store::load_calendar(conn, tz)?;
    let area_rows: Vec<(
        String,
        String,
        Option<String>,
        String,
        String,
        String,
        Option<String>,
    )> = areas::table
        .select((
            areas::id,
            areas::code,
            areas::parent_id,
            areas::kind,
            areas::name_zh,
            areas::name_en,
            areas::polygon,
        ))
        .load(conn)?;
    let mut inputs = Vec::with_capacity(area_rows.len());
    let mut area_map = HashMap::with_capacity(area_rows.len());
    for (id, code, parent_id, kind, name_zh, name_en, polygon) in area_rows {
        let polygon = polygon
            .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
            .and_then(|v| Polygon::from_geojson(&v).ok());
        let kind = area_kind(&kind);
        inputs.push(AreaInput {
            id: id.clone(),
            parent_id: parent_id.clone(),
            kind,
            polygon,
        });
        area_map.insert(
            id.clone(),
            AreaInfo {
                id,
                code,
                parent_id,
                kind,
                name_zh,
                name_en,
            },
        );
    }
    let area_index = AreaIndex::new(inputs)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("area tree: {e}")))?;
    let rule_rows: Vec<(String, Option<String>, String, String, i32)> = routing_rules::table
        .select((
            routing_rules::id,
            routing_rules::category_code,
            routing_rules::area_id,
            routing_rules::unit_id,
            routing_rules::priority,
        ))
        .load(conn)?;
    let rules = rule_rows
        .into_iter()
        .map(|(id, category, area_id, unit_id, priority)| RoutingRule {
            id,
            category,
            area_id,
            unit_id,
            priority,
        })
        .collect();
    let router = Router::new(&area_index, rules)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("routing rules: {e}")))?;
    let unit_rows: Vec<(
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
    )> = units::table
        .select((
            units::id,
            units::code,
            units::kind,
            units::parent_id,
            units::name_zh,
            units::name_en,
            units::supervising_unit_id,
        ))
        .order(units::code)
        .load(conn)?;
    let mut dispatch_center = None;
    let mut unit_map = HashMap::new();
    for (id, code, kind, parent_id, name_zh, name_en, supervising_unit_id) in unit_rows {
        if kind == "dispatch_center" && dispatch_center.is_none() {
            dispatch_center = Some(id.clone());
        }
        unit_map.insert(
            id.clone(),
            UnitInfo {
                id,
                code,
                kind,
                parent_id,
                name_zh,
                name_en,
                supervising_unit_id,
            },
        );
    }
    let target_rows: Vec<(String, String, String, Option<String>)> = unit_notify_targets::table
        .select((
            unit_notify_targets::unit_id,
            unit_notify_targets::kind,
            unit_notify_targets::url,
            unit_notify_targets::secret_env,
        ))
        .order(unit_notify_targets::id)
        .load(conn)?;
    let mut targets: HashMap<String, Vec<(String, String, Option<String>)>> = HashMap::new();
    for (unit, kind, url, secret_env) in target_rows {
        targets
            .entry(unit)
            .or_default()
            .push((kind, url, secret_env));
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
