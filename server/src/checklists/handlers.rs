//! `GET /api/v1/checklists` (every staff role: the field app downloads them for offline use) and
//! `PUT /api/v1/checklists/{programme}` (administrators; recorded with who and when).

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde_json::json;

use super::checklist::{ChecklistBody, ChecklistItem, ChecklistView, PROGRAMMES, parse};
use super::schema::{checklist_changes, checklists};
use crate::auth::{Authed, policy};
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

type Row = (String, String, String, String, i64, String, String, i64);

fn view(r: Row) -> Result<ChecklistView, ApiError> {
    let items: Vec<ChecklistItem> = serde_json::from_str(&r.3)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("checklist {} items: {e}", r.0)))?;
    Ok(ChecklistView {
        programme: r.0,
        name_zh: r.1,
        name_en: r.2,
        items,
        version: r.4,
        updated_by: r.5,
        updated_by_name: r.6,
        updated_at: r.7,
    })
}

fn load(conn: &mut DbConnection, programme: Option<&str>) -> Result<Vec<ChecklistView>, ApiError> {
    let mut q = checklists::table
        .select((
            checklists::programme,
            checklists::name_zh,
            checklists::name_en,
            checklists::items,
            checklists::version,
            checklists::updated_by,
            checklists::updated_by_name,
            checklists::updated_at,
        ))
        .order(checklists::programme)
        .into_boxed();
    if let Some(p) = programme {
        q = q.filter(checklists::programme.eq(p.to_owned()));
    }
    let rows: Vec<Row> = q.load(conn)?;
    rows.into_iter().map(view).collect()
}

/// `GET /api/v1/checklists`: every programme's checklist, by programme.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ChecklistList {
    /// The checklists.
    pub checklists: Vec<ChecklistView>,
}

/// `GET /api/v1/checklists`: the inspection checklist of each programme.
#[utoipa::path(get, path = "/api/v1/checklists", tag = "checklists",
    responses((status = 200, body = ChecklistList)), security(("bearer" = [])))]
pub async fn list_checklists(
    state: web::Data<AppState>,
    _who: Authed<policy::Staff>,
) -> Result<HttpResponse, ApiError> {
    let list = state.db.run(|conn| load(conn, None)).await?;
    Ok(HttpResponse::Ok().json(ChecklistList { checklists: list }))
}

/// `PUT /api/v1/checklists/{programme}`: replaces a programme's checklist (administrators). The
/// old items are kept in the change log with who and when; inspections already recorded keep
/// their answers.
#[utoipa::path(put, path = "/api/v1/checklists/{programme}", tag = "checklists", request_body = ChecklistBody,
    params(("programme" = String, Path, description = "dangerous_housing, old_community or shantytown")),
    responses((status = 200, body = ChecklistView), (status = 403, description = "role_not_allowed"),
        (status = 404, description = "unknown_programme"), (status = 422, description = "invalid_checklist: errors per place")),
    security(("bearer" = [])))]
pub async fn put_checklist(
    state: web::Data<AppState>,
    auth: Authed<policy::AdminOnly>,
    path: web::Path<String>,
    body: web::Json<ChecklistBody>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.0;
    let programme = path.into_inner();
    if !PROGRAMMES.contains(&programme.as_str()) {
        return Err(ApiError::new(
            ErrorCode::UnknownProgramme,
            format!(
                "没有这个改造类型：{programme}（可选 {}）",
                PROGRAMMES.join("、")
            ),
            format!(
                "no such programme: {programme} (one of {})",
                PROGRAMMES.join(", ")
            ),
        ));
    }
    let valid = parse(body.into_inner()).map_err(|errors| {
        ApiError::new(
            ErrorCode::InvalidChecklist,
            "检查表有误，未作任何修改",
            "the checklist has errors; nothing was changed",
        )
        .with("errors", json!(errors))
    })?;
    let now = state.clock.now_ms();
    let saved = state
        .db
        .write(move |conn| {
            let items = serde_json::to_string(&valid.items)
                .map_err(|e| ApiError::internal(anyhow::anyhow!("checklist items: {e}")))?;
            let before: Option<(String, i64)> = checklists::table
                .filter(checklists::programme.eq(&programme))
                .select((checklists::items, checklists::version))
                .first(conn)
                .optional()?;
            let version = before.as_ref().map_or(1, |(_, v)| v + 1);
            let values = (
                checklists::name_zh.eq(&valid.name_zh),
                checklists::name_en.eq(&valid.name_en),
                checklists::items.eq(&items),
                checklists::version.eq(version),
                checklists::updated_by.eq(&who.user_id),
                checklists::updated_by_name.eq(&who.display_name),
                checklists::updated_at.eq(now),
            );
            if before.is_some() {
                diesel::update(checklists::table.find(&programme))
                    .set(values)
                    .execute(conn)?;
            } else {
                diesel::insert_into(checklists::table)
                    .values((checklists::programme.eq(&programme), values))
                    .execute(conn)?;
            }
            diesel::insert_into(checklist_changes::table)
                .values((
                    checklist_changes::id.eq(uuid::Uuid::now_v7().to_string()),
                    checklist_changes::programme.eq(&programme),
                    checklist_changes::version.eq(version),
                    checklist_changes::old_items
                        .eq(before.map_or_else(|| "[]".to_owned(), |b| b.0)),
                    checklist_changes::new_items.eq(&items),
                    checklist_changes::changed_by.eq(&who.user_id),
                    checklist_changes::changed_by_name.eq(&who.display_name),
                    checklist_changes::changed_at.eq(now),
                ))
                .execute(conn)?;
            load(conn, Some(&programme))?.pop().ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("checklist {programme} vanished"))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(saved))
}

/// Mounts the checklist endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/checklists", web::get().to(list_checklists))
        .route(
            "/api/v1/checklists/{programme}",
            web::put().to(put_checklist),
        );
}
