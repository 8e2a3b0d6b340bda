//! After-renovation upkeep (后续管理): a completed project's community is handed over to a
//! property manager (a unit of kind `property_manager`) on a date. The hand-over creates, in the
//! same transaction, the routing rules that send the damaged-facility and property-management
//! complaints of that community to the manager, and records who handed over and when. A
//! hand-over to any other kind of unit is refused with `not_a_property_manager`; of a project
//! not completed with `project_not_completed`. The figures per manager and per community are in
//! [`figures`] and [`report`]. See `docs/upkeep.md`.

pub mod answers;
pub mod figures;
pub mod report;
pub mod sample;
pub mod schema;

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::scope::Scope;
use crate::auth::{Authed, policy};
use crate::db::schema::{routing_rules, units};
use crate::error::{ApiError, ErrorCode};
use crate::org::routing_rules::RuleOrigins;
use crate::state::AppState;
use answers::{Handover, HandoverItem, HandoverList, HandoverRule};
use schema::{upkeep_handovers, upkeep_rules};

/// The complaint categories a hand-over routes to the property manager.
pub const CATEGORIES: [&str; 2] = ["damaged_facility", "property_management"];

/// Priority of a hand-over's rules (above the sample city's default rules of the area).
pub const PRIORITY: i32 = 50;

/// Body of `POST /api/v1/upkeep/handovers`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHandover {
    /// The completed project's sync record id; its community is handed over.
    pub project_id: String,
    /// The property manager (unit id or code).
    pub unit_id: String,
    /// The day it took over (YYYY-MM-DD).
    pub took_over_on: String,
    /// Free note.
    #[serde(default)]
    pub note: Option<String>,
}

fn unprocessable(code: ErrorCode, zh: String, en: String) -> ApiError {
    ApiError::new(code, zh, en)
}

/// `POST /api/v1/upkeep/handovers`: hands a completed project's community over to a property
/// manager and creates its routing rules (supervisors and administrators). All or nothing.
#[utoipa::path(post, path = "/api/v1/upkeep/handovers", tag = "upkeep", request_body = NewHandover, responses((status = 201, body = Handover), (status = 422, description = "not_a_property_manager, project_not_completed, invalid_date, already_handed_over"), (status = 404, description = "project_not_found")))]
pub async fn create_handover(
    state: web::Data<AppState>,
    auth: Authed<policy::Supervision>,
    body: web::Json<NewHandover>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.0;
    let b = body.into_inner();
    let now = state.clock.now_ms();
    let st = state.into_inner();
    let v = st
        .db
        .clone()
        .write(move |conn| {
            let v = hand_over(conn, &b, &who.user_id, &who.display_name, now)?;
            st.catalog.invalidate();
            Ok(v)
        })
        .await?;
    Ok(HttpResponse::Created().json(v))
}

/// Hands over per `b` in the caller's transaction, recorded as by `who_id` / `who_name`:
/// checks, the hand-over row and its routing rules. The caller drops the routing catalog.
pub fn hand_over(
    conn: &mut crate::db::DbConnection,
    b: &NewHandover,
    who_id: &str,
    who_name: &str,
    now: i64,
) -> Result<Handover, ApiError> {
    let date: jiff::civil::Date = b.took_over_on.trim().parse().map_err(|_| {
        unprocessable(
            ErrorCode::InvalidDate,
            format!("日期无效：{}", b.took_over_on),
            format!("not a date: {}", b.took_over_on),
        )
    })?;
    let p = crate::funds::handlers::project(conn, &b.project_id, &Scope::All)?;
    if p.text("status") != Some("completed") {
        return Err(unprocessable(
            ErrorCode::ProjectNotCompleted,
            "项目尚未完工，不能移交后续管理".into(),
            "the project is not completed; it cannot be handed over".into(),
        ));
    }
    let area = p.text("area_id").map(str::to_owned).ok_or_else(|| {
        unprocessable(
            ErrorCode::ProjectNotCompleted,
            "项目没有所属区域".into(),
            "the project has no area".into(),
        )
    })?;
    let unit: Option<(String, String)> = units::table
        .filter(units::id.eq(&b.unit_id).or(units::code.eq(&b.unit_id)))
        .select((units::id, units::kind))
        .first(conn)
        .optional()?;
    let Some((unit_id, kind)) = unit else {
        return Err(ApiError::new(
            ErrorCode::UnitNotFound,
            "没有这个单位",
            "no such unit",
        ));
    };
    if kind != "property_manager" {
        return Err(unprocessable(
            ErrorCode::NotAPropertyManager,
            format!("该单位不是物业服务企业（类型：{kind}），不能接管"),
            format!("the unit is not a property manager (kind: {kind}); it cannot take over"),
        ));
    }
    let taken: i64 = upkeep_handovers::table
        .filter(upkeep_handovers::area_id.eq(&area))
        .filter(upkeep_handovers::took_over_on.eq(date.to_string()))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(unprocessable(
            ErrorCode::AlreadyHandedOver,
            "该小区在这一天已有移交记录".into(),
            "this community already has a hand-over on that day".into(),
        ));
    }
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(upkeep_handovers::table)
        .values((
            upkeep_handovers::id.eq(&id),
            upkeep_handovers::project_id.eq(&b.project_id),
            upkeep_handovers::area_id.eq(&area),
            upkeep_handovers::unit_id.eq(&unit_id),
            upkeep_handovers::took_over_on.eq(date.to_string()),
            upkeep_handovers::note.eq(b.note.as_deref().unwrap_or("").trim()),
            upkeep_handovers::created_by.eq(&who_id),
            upkeep_handovers::created_by_name.eq(&who_name),
            upkeep_handovers::created_at.eq(now),
        ))
        .execute(conn)?;
    let mut rules = Vec::new();
    for cat in CATEGORIES {
        let rule_id = uuid::Uuid::now_v7().to_string();
        diesel::insert_into(routing_rules::table)
            .values((
                routing_rules::id.eq(&rule_id),
                routing_rules::rule_key.eq(format!("upkeep/{id}/{cat}")),
                routing_rules::category_code.eq(Some(cat)),
                routing_rules::area_id.eq(&area),
                routing_rules::unit_id.eq(&unit_id),
                routing_rules::priority.eq(PRIORITY),
                routing_rules::created_at.eq(now),
            ))
            .execute(conn)?;
        diesel::insert_into(upkeep_rules::table)
            .values((
                upkeep_rules::rule_id.eq(&rule_id),
                upkeep_rules::handover_id.eq(&id),
                upkeep_rules::category_code.eq(cat),
            ))
            .execute(conn)?;
        rules.push(HandoverRule {
            id: rule_id,
            category: cat,
        });
    }
    Ok(Handover {
        id,
        project_id: b.project_id.clone(),
        area_id: area,
        unit_id,
        took_over_on: date.to_string(),
        created_by_name: who_name.to_owned(),
        created_at: now,
        rules,
    })
}

/// `GET /api/v1/upkeep/handovers`: every hand-over, newest first, with who and when.
#[utoipa::path(get, path = "/api/v1/upkeep/handovers", tag = "upkeep", responses((status = 200, body = HandoverList)))]
pub async fn list_handovers(
    state: web::Data<AppState>,
    _auth: Authed<policy::Staff>,
) -> Result<HttpResponse, ApiError> {
    let items: Vec<HandoverItem> = state
        .db
        .run(|conn| {
            Ok(upkeep_handovers::table
                .order(upkeep_handovers::created_at.desc())
                .select(HandoverItem::as_select())
                .load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(HandoverList { items }))
}

/// The hand-overs' routing rules as org's dry run reads them ([`RuleOrigins`]): a rule that a
/// hand-over created names it, `{handover_id, unit_id, took_over_on}`.
#[derive(Debug, Default, Clone, Copy)]
pub struct HandoverRules;

impl RuleOrigins for HandoverRules {
    fn handover(
        &self,
        conn: &mut crate::db::DbConnection,
        rule_id: &str,
    ) -> QueryResult<Option<Value>> {
        let row: Option<(String, String, String)> = upkeep_rules::table
            .inner_join(
                upkeep_handovers::table.on(upkeep_handovers::id.eq(upkeep_rules::handover_id)),
            )
            .filter(upkeep_rules::rule_id.eq(rule_id))
            .select((
                upkeep_handovers::id,
                upkeep_handovers::unit_id,
                upkeep_handovers::took_over_on,
            ))
            .first(conn)
            .optional()?;
        Ok(row.map(|(h, u, d)| json!({"handover_id": h, "unit_id": u, "took_over_on": d})))
    }
}

/// Mounts the upkeep endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/upkeep/handovers", web::get().to(list_handovers))
        .route("/api/v1/upkeep/handovers", web::post().to(create_handover))
        .route(
            "/api/v1/upkeep/managers",
            web::get().to(report::list_managers),
        )
        .route(
            "/api/v1/upkeep/managers/{unit_id}",
            web::get().to(report::get_manager),
        )
        .route(
            "/api/v1/upkeep/communities/{area_id}",
            web::get().to(report::get_community),
        );
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create_handover,
        list_handovers,
        report::list_managers,
        report::get_manager,
        report::get_community
    ),
    components(schemas(NewHandover, figures::Figures))
)]
pub struct ApiDoc;
