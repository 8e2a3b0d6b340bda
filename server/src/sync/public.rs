//! Public progress of renovation projects for the disclosure page (信息公开): no personal data,
//! no photos, no unit staff; only what a resident may see of a project.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use anju_shared::merge::FieldState;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SyncContext;
use super::schema::sync_records;
use crate::db::schema::areas;
use crate::error::ApiError;

/// One project as published.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicProject {
    /// Project id.
    pub id: String,
    /// Project name.
    #[schema(required = true)]
    pub name: Option<String>,
    /// `shantytown` (棚改), `dangerous_housing` (危旧房), `old_community` (老旧小区).
    #[schema(required = true)]
    pub programme: Option<String>,
    /// Area id.
    #[schema(required = true)]
    pub area_id: Option<String>,
    /// Area name (Chinese).
    #[schema(required = true)]
    pub area_name: Option<String>,
    /// `flat` (套) or `household` (户).
    #[schema(required = true)]
    pub measure: Option<String>,
    /// Planned units.
    #[schema(required = true)]
    pub planned_units: Option<i64>,
    /// Completed units.
    #[schema(required = true)]
    pub completed_units: Option<i64>,
    /// Progress percent (形象进度).
    #[schema(required = true)]
    pub progress_percent: Option<i64>,
    /// `planned`, `in_progress`, `completed`.
    #[schema(required = true)]
    pub status: Option<String>,
    /// Planned completion date.
    #[schema(required = true)]
    pub planned_completion: Option<String>,
}

/// Totals of one programme.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ProgrammeTotals {
    /// Number of projects.
    pub projects: i64,
    /// Sum of planned units.
    pub planned_units: i64,
    /// Sum of completed units.
    pub completed_units: i64,
    /// completed / planned × 100, one decimal; `None` when nothing is planned.
    #[schema(required = true)]
    pub completion_percent: Option<f64>,
}

/// What `GET /api/v1/public/projects` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicProjects {
    /// Live projects, by id.
    pub projects: Vec<PublicProject>,
    /// Totals by programme code (`""` for projects without one).
    pub totals: BTreeMap<String, ProgrammeTotals>,
}

/// Query of the public list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicQuery {
    /// Only this programme.
    #[serde(default)]
    pub programme: Option<String>,
}

/// `GET /api/v1/public/projects`: every live project's published fields, and totals by
/// programme. No login; nothing personal.
#[utoipa::path(get, path = "/api/v1/public/projects", tag = "public", params(("programme" = Option<String>, Query)), responses((status = 200, description = "{projects, totals}: published project progress, no personal data", body = PublicProjects)))]
pub async fn list_projects(
    state: web::Data<SyncContext>,
    query: web::Query<PublicQuery>,
) -> Result<HttpResponse, ApiError> {
    let programme = query.into_inner().programme;
    let (projects, totals) = state
        .db
        .run(move |conn| {
            let mut q = sync_records::table
                .filter(sync_records::record_type.eq("project"))
                .filter(sync_records::deleted.eq(false))
                .into_boxed();
            if let Some(p) = programme {
                q = q.filter(sync_records::programme.eq(p));
            }
            let rows: Vec<(String, String)> = q
                .order(sync_records::id.asc())
                .select((sync_records::id, sync_records::state))
                .load(conn)?;
            let names: BTreeMap<String, String> = areas::table
                .select((areas::id, areas::name_zh))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect();
            let mut projects = Vec::with_capacity(rows.len());
            let mut totals: BTreeMap<String, ProgrammeTotals> = BTreeMap::new();
            for (id, state) in rows {
                let Ok(fields) = serde_json::from_str::<BTreeMap<String, FieldState>>(&state)
                else {
                    continue;
                };
                let text = |k: &str| {
                    fields
                        .get(k)
                        .and_then(|f| f.value.as_str())
                        .map(str::to_owned)
                };
                let int = |k: &str| fields.get(k).and_then(|f| Value::as_i64(&f.value));
                let p = PublicProject {
                    id,
                    name: text("name"),
                    programme: text("programme"),
                    area_name: text("area_id").and_then(|a| names.get(&a).cloned()),
                    area_id: text("area_id"),
                    measure: text("measure"),
                    planned_units: int("planned_units"),
                    completed_units: int("completed_units"),
                    progress_percent: int("progress_percent"),
                    status: text("status"),
                    planned_completion: text("planned_completion"),
                };
                let t = totals
                    .entry(p.programme.clone().unwrap_or_default())
                    .or_default();
                t.projects += 1;
                t.planned_units += p.planned_units.unwrap_or(0);
                t.completed_units += p.completed_units.unwrap_or(0);
                projects.push(p);
            }
            for t in totals.values_mut() {
                t.completion_percent = (t.planned_units > 0).then(|| {
                    (t.completed_units as f64 * 1000.0 / t.planned_units as f64).round() / 10.0
                });
            }
            Ok((projects, totals))
        })
        .await?;
    Ok(HttpResponse::Ok().json(PublicProjects { projects, totals }))
}
