//! Routing rules administration (派单规则管理) and the dry run that explains a decision, over the
//! database. The rules are the organisation's (org owns them with the catalog they feed); the
//! matching itself is `crate::routing`'s, a floor below. Edits take effect at once in this
//! process (the intake catalog is dropped) and within [`super::catalog::CACHE_TTL`] in other
//! processes.

// Row tuples mirror the columns each query selects; naming every one would hide that.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalog::{Catalog, outside_jurisdiction, unknown_category};
use crate::auth::{Authed, policy};
use crate::db::DbConnection;
use crate::db::schema::{areas, routing_rules, units};
use crate::error::{ApiError, ErrorCode, FieldCode, FieldError};
use crate::http::ids::RuleId;
use crate::state::AppState;

/// Who made a routing rule when a capability above org made it, so that the dry run can name
/// it: upkeep's hand-overs make rules (`upkeep::HandoverRules` implements this), and `startup`
/// registers it as `web::Data<Arc<dyn RuleOrigins>>`, which the dry run takes: org never
/// imports upkeep.
pub trait RuleOrigins: Send + Sync {
    /// The upkeep hand-over that made rule `rule_id` (`{handover_id, unit_id, took_over_on}`),
    /// or `None` for a rule an administrator made; read in the caller's connection.
    fn handover(&self, conn: &mut DbConnection, rule_id: &str) -> QueryResult<Option<Value>>;
}

/// Explain where a complaint of `category` at `area_id` (or at the point) would go.
pub fn dry_run(
    catalog: &Catalog,
    category: &str,
    area_id: Option<&str>,
    point: Option<(f64, f64)>,
) -> Result<DryRun, ApiError> {
    if !catalog.categories.contains_key(category) {
        return Err(unknown_category(catalog));
    }
    let area = match (area_id, point) {
        (Some(a), _) => {
            if !catalog.areas.contains_key(a) {
                // Accept an area code too, for people at a terminal.
                let by_code = catalog
                    .areas
                    .values()
                    .find(|x| x.code == a)
                    .map(|x| x.id.clone());
                by_code.ok_or_else(|| {
                    ApiError::new(ErrorCode::AreaNotFound, "没有这个区域", "No such area")
                })?
            } else {
                a.to_string()
            }
        }
        (None, Some((lat, lon))) => catalog
            .area_index
            .locate_deepest(lat, lon)
            .map(str::to_string)
            .ok_or_else(outside_jurisdiction)?,
        (None, None) => {
            return Err(ApiError::new(
                ErrorCode::LocationRequired,
                "请给出区域或经纬度",
                "Give an area or lat/lon",
            ));
        }
    };
    let area_ref = catalog.areas.get(&area).map(|a| AreaRef {
        id: a.id.clone(),
        code: a.code.clone(),
        kind: a.kind,
        name_zh: a.name_zh.clone(),
        name_en: a.name_en.clone(),
    });
    let unit_ref = |id: &str| {
        catalog.units.get(id).map(|u| UnitRef {
            id: u.id.clone(),
            code: u.code.clone(),
            name_zh: u.name_zh.clone(),
            name_en: u.name_en.clone(),
        })
    };
    Ok(match catalog.router.route(category, &area) {
        Some(d) => {
            let rule = catalog.router.rules().iter().find(|r| r.id == d.rule_id);
            DryRun {
                area: area_ref,
                unit: unit_ref(d.unit_id),
                status: DryRunStatus::Dispatched,
                rule: rule.map(|r| RuleRef {
                    id: r.id.clone(),
                    category: r.category.clone(),
                    area_id: r.area_id.clone(),
                    area_code: catalog.areas.get(&r.area_id).map(|a| a.code.clone()),
                    priority: r.priority,
                }),
                reason: if d.matched_area_id == area {
                    DryRunReason::RuleOnThisArea
                } else {
                    DryRunReason::RuleOnAnEnclosingArea
                },
                handover: None,
            }
        }
        None => DryRun {
            area: area_ref,
            unit: catalog.dispatch_center.as_deref().and_then(unit_ref),
            status: DryRunStatus::Dispatching,
            rule: None,
            reason: DryRunReason::NoRuleDispatchCenter,
            handover: None,
        },
    })
}

/// Where a complaint would go, and why.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DryRun {
    /// The area it would be filed in (null only if the catalog lost it meanwhile).
    pub area: Option<AreaRef>,
    /// The unit it would go to (null: no dispatch centre configured).
    pub unit: Option<UnitRef>,
    /// Its first status.
    pub status: DryRunStatus,
    /// The rule that decided (null: none matched).
    pub rule: Option<RuleRef>,
    /// Why.
    pub reason: DryRunReason,
    /// The upkeep hand-over that made the rule (`reason: upkeep_handover` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub handover: Option<Value>,
}

/// A complaint's first status after routing.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DryRunStatus {
    /// A rule named the unit.
    Dispatched,
    /// No rule: the dispatch centre decides.
    Dispatching,
}

/// Why a complaint goes where it goes.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DryRunReason {
    /// A rule on the complaint's own area.
    RuleOnThisArea,
    /// A rule on an area enclosing it.
    RuleOnAnEnclosingArea,
    /// No rule: the dispatch centre.
    NoRuleDispatchCenter,
    /// A rule an upkeep hand-over made (the property manager).
    UpkeepHandover,
}

/// An area in a dry run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = DryRunArea)]
pub struct AreaRef {
    /// Area id.
    pub id: String,
    /// Area code.
    pub code: String,
    /// Its level.
    pub kind: crate::routing::AreaKind,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
}

/// A unit in a dry run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = DryRunUnit)]
pub struct UnitRef {
    /// Unit id.
    pub id: String,
    /// Unit code.
    pub code: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
}

/// The rule a dry run matched.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleRef {
    /// Rule id.
    pub id: String,
    /// Category code, or null for every category.
    pub category: Option<String>,
    /// The rule's area id.
    pub area_id: String,
    /// Its code.
    pub area_code: Option<String>,
    /// Its priority.
    pub priority: i32,
}

/// Query of the dry run: a category and an area (id or code) or a point.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DryRunQuery {
    /// Category code.
    pub category: String,
    /// Area id or code.
    #[serde(default)]
    pub area_id: Option<String>,
    /// Latitude.
    #[serde(default)]
    pub lat: Option<f64>,
    /// Longitude.
    #[serde(default)]
    pub lon: Option<f64>,
}

/// `GET /api/v1/routing/dry-run`.
#[utoipa::path(get, path = "/api/v1/routing/dry-run", tag = "routing", params(DryRunQuery), responses((status = 200, description = "Where a complaint would go and why", body = DryRun)), security(("bearer" = [])))]
pub async fn dry_run_handler(
    state: web::Data<AppState>,
    origins: web::Data<Arc<dyn RuleOrigins>>,
    _auth: Authed<policy::Dispatch>,
    q: web::Query<DryRunQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let st = state.into_inner();
    let origins = origins.into_inner();
    let v = st
        .db
        .clone()
        .run(move |conn| {
            let catalog = st.catalog.get(conn, &st.config.timezone)?;
            let point = match (q.lat, q.lon) {
                (Some(a), Some(b)) if a.is_finite() && b.is_finite() => Some((a, b)),
                _ => None,
            };
            let mut v = dry_run(&catalog, &q.category, q.area_id.as_deref(), point)?;
            // A rule made by an upkeep hand-over says so.
            if let Some(rule) = v.rule.as_ref().map(|r| r.id.clone())
                && let Some(h) = origins.handover(conn, &rule)?
            {
                v.reason = DryRunReason::UpkeepHandover;
                v.handover = Some(h);
            }
            Ok(v)
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// A routing rule as the admin list shows it, with the codes of its area and unit.
#[derive(Debug, Queryable, Serialize, utoipa::ToSchema)]
pub struct RuleView {
    /// Rule id.
    pub id: String,
    /// Category code, or null for every category.
    pub category: Option<String>,
    /// Area id.
    pub area_id: String,
    /// Area code.
    pub area_code: String,
    /// Unit id.
    pub unit_id: String,
    /// Unit code.
    pub unit_code: String,
    /// Higher wins among rules of the same area and category.
    pub priority: i32,
}

/// `GET /api/v1/admin/routing/rules`.
#[utoipa::path(get, path = "/api/v1/admin/routing/rules", tag = "routing", responses((status = 200, body = [RuleView])), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    _auth: Authed<policy::Dispatch>,
) -> Result<HttpResponse, ApiError> {
    let rows: Vec<RuleView> = state
        .db
        .run(|conn| {
            Ok(routing_rules::table
                .inner_join(areas::table.on(areas::id.eq(routing_rules::area_id)))
                .inner_join(units::table.on(units::id.eq(routing_rules::unit_id)))
                .order((
                    areas::code,
                    routing_rules::category_code,
                    routing_rules::priority.desc(),
                ))
                .select((
                    routing_rules::id,
                    routing_rules::category_code,
                    routing_rules::area_id,
                    areas::code,
                    routing_rules::unit_id,
                    units::code,
                    routing_rules::priority,
                ))
                .load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// A new rule.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    /// Category code, or absent for every category.
    #[serde(default)]
    pub category: Option<String>,
    /// Area id.
    pub area_id: String,
    /// Unit id.
    pub unit_id: String,
    /// Higher wins at the same area and specificity.
    #[serde(default)]
    pub priority: i32,
}

/// A rule as created.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedRule {
    /// Rule id.
    pub id: String,
    /// Its key: `area code/category or */unit code`.
    pub rule_key: String,
    /// Category code, or null for every category.
    pub category: Option<String>,
    /// Area id.
    pub area_id: String,
    /// Unit id.
    pub unit_id: String,
    /// Higher wins among rules of the same area and category.
    pub priority: i32,
}

/// `POST /api/v1/admin/routing/rules`.
#[utoipa::path(post, path = "/api/v1/admin/routing/rules", tag = "routing", request_body = NewRule, responses((status = 201, description = "Rule created", body = CreatedRule), (status = 422, description = "unknown category, area or unit (per field)")), security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    _auth: Authed<policy::AdminOnly>,
    body: web::Json<NewRule>,
) -> Result<HttpResponse, ApiError> {
    let r = body.into_inner();
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .write(move |conn| {
            let catalog = st.catalog.get(conn, &st.config.timezone)?;
            let mut errors = Vec::new();
            if let Some(c) = &r.category
                && !catalog.categories.contains_key(c)
            {
                errors.push(FieldError::new(
                    "category",
                    FieldCode::UnknownCategory,
                    "没有这个类别",
                    "No such category",
                ));
            }
            let area_code = catalog.areas.get(&r.area_id).map(|a| a.code.clone());
            if area_code.is_none() {
                errors.push(FieldError::new(
                    "area_id",
                    FieldCode::UnknownArea,
                    "没有这个区域",
                    "No such area",
                ));
            }
            let unit_code = catalog.units.get(&r.unit_id).map(|u| u.code.clone());
            if unit_code.is_none() {
                errors.push(FieldError::new(
                    "unit_id",
                    FieldCode::UnknownUnit,
                    "没有这个单位",
                    "No such unit",
                ));
            }
            if !errors.is_empty() {
                return Err(ApiError::with_fields(errors));
            }
            let key = format!(
                "{}/{}/{}",
                area_code.unwrap_or_default(),
                r.category.as_deref().unwrap_or("*"),
                unit_code.unwrap_or_default()
            );
            let id = uuid::Uuid::now_v7().to_string();
            diesel::insert_into(routing_rules::table)
                .values((
                    routing_rules::id.eq(&id),
                    routing_rules::rule_key.eq(&key),
                    routing_rules::category_code.eq(&r.category),
                    routing_rules::area_id.eq(&r.area_id),
                    routing_rules::unit_id.eq(&r.unit_id),
                    routing_rules::priority.eq(r.priority),
                    routing_rules::created_at.eq(st.clock.now_ms()),
                ))
                .execute(conn)?;
            st.catalog.invalidate();
            Ok(CreatedRule {
                id,
                rule_key: key,
                category: r.category,
                area_id: r.area_id,
                unit_id: r.unit_id,
                priority: r.priority,
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// `DELETE /api/v1/admin/routing/rules/{id}`.
#[utoipa::path(delete, path = "/api/v1/admin/routing/rules/{id}", tag = "routing", params(("id" = uuid::Uuid, Path)), responses((status = 204, description = "Rule removed")), security(("bearer" = [])))]
pub async fn delete(
    state: web::Data<AppState>,
    _auth: Authed<policy::AdminOnly>,
    path: web::Path<RuleId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().to_string();
    let st = state.into_inner();
    let n = st
        .db
        .clone()
        .write(move |conn| {
            let n = diesel::delete(routing_rules::table.find(&id)).execute(conn)?;
            st.catalog.invalidate();
            Ok(n)
        })
        .await?;
    if n == 0 {
        return Err(ApiError::new(
            ErrorCode::RuleNotFound,
            "没有这条规则",
            "No such rule",
        ));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Mounts the routing admin endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/routing/dry-run", web::get().to(dry_run_handler))
        .route("/api/v1/admin/routing/rules", web::get().to(list))
        .route("/api/v1/admin/routing/rules", web::post().to(create))
        .route("/api/v1/admin/routing/rules/{id}", web::delete().to(delete));
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(dry_run_handler, list, create, delete))]
pub struct ApiDoc;
