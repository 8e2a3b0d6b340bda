//! HTTP handlers of the registers: the catalogue, a register's list (JSON, XLSX, CSV), a record
//! page (fields with labels, linked records, history, open conflicts), and office create/edit
//! (a mutation through sync's push).

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use anju_shared::protocol::MutationOutcome;
use anju_shared::records::{RecordSchema, schema_for};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::answers::{
    AreaEntry, Catalogue, FieldView, Link, ListPage, Pushed, RecordPage, RegisterEntry, Relation,
    Summary, UnitEntry,
};
use super::history::{self, Authors};
use super::list::{self, Filter, ListQuery, REGISTERS, item, register_type};
use super::query::{self, Org};
use super::sheet::{self, Cell, SheetFile};
use super::write::{Edit, OfficeAuthor, push_office};
use crate::auth::Principal;
use crate::auth::scope::scope_of;
use crate::error::{ApiError, ErrorCode};
use crate::http::ids::RecordId;
use crate::state::AppState;

fn today(state: &AppState) -> String {
    state
        .config
        .timezone
        .to_datetime(state.clock.now())
        .date()
        .to_string()
}

/// `GET /api/v1/registers`: the four registers with their fields (labels from the shared
/// schemas) and the areas and units to filter by.
#[utoipa::path(get, path = "/api/v1/registers", tag = "registers", responses((status = 200, body = Catalogue)))]
pub async fn catalogue(
    state: web::Data<AppState>,
    _p: Principal,
) -> Result<HttpResponse, ApiError> {
    let body = state
        .db
        .run(move |conn| {
            let org = Org::load(conn)?;
            let registers = REGISTERS
                .iter()
                .map(|(n, zh, en)| RegisterEntry {
                    name: n,
                    label_zh: zh,
                    label_en: en,
                    schema: schema_for(n),
                    date_field: list::date_field(n),
                })
                .collect();
            let mut areas: Vec<AreaEntry> = org
                .areas
                .values()
                .map(|a| AreaEntry {
                    id: a.id.clone(),
                    code: a.code.clone(),
                    parent_id: a.parent_id.clone(),
                    kind: a.kind.clone(),
                    name_zh: a.name_zh.clone(),
                    name_en: a.name_en.clone(),
                })
                .collect();
            areas.sort_by(|a, b| a.code.cmp(&b.code));
            let mut units: Vec<UnitEntry> = org
                .units
                .values()
                .map(|u| UnitEntry {
                    id: u.id.clone(),
                    code: u.code.clone(),
                    name_zh: u.name_zh.clone(),
                    name_en: u.name_en.clone(),
                })
                .collect();
            units.sort_by(|a, b| a.code.cmp(&b.code));
            Ok(Catalogue {
                registers,
                areas,
                units,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/v1/registers/{register}` (also `{register}.xlsx`, `{register}.csv`): one page of
/// the records the caller sees, filtered and sorted on the server; the downloads carry every
/// matching row with Chinese headers.
#[utoipa::path(get, path = "/api/v1/registers/{register}", tag = "registers", params(("register" = String, Path, description = "project, building, inspection or hazard; with .xlsx or .csv to download"), ListQuery), responses((status = 200, description = "one page as JSON; `{register}.xlsx` and `{register}.csv` download every matching row", content((ListPage = "application/json"), (SheetFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (SheetFile = "text/csv"))), (status = 400, description = "invalid filter"), (status = 404, description = "unknown_register")))]
pub async fn list_register(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let (name, format) = match raw.rsplit_once('.') {
        Some((n, "xlsx")) => (n.to_owned(), "xlsx"),
        Some((n, "csv")) => (n.to_owned(), "csv"),
        _ => (raw.clone(), "json"),
    };
    let record_type = register_type(&name)?;
    let today = today(&state);
    let q = q.into_inner();
    let answer = state
        .db
        .run(move |conn| -> Result<ListAnswer, ApiError> {
            let org = Org::load(conn)?;
            let filter = Filter::parse(record_type, &q, &org)?;
            let scope = scope_of(conn, &principal)?;
            let narrow = filter.narrow(&today);
            if format == "json" {
                let start = (filter.page - 1).saturating_mul(filter.per_page);
                let (total, rows) = query::page(
                    conn,
                    record_type,
                    &scope,
                    &narrow,
                    &filter.sort,
                    start,
                    filter.per_page,
                )?;
                let items: Vec<list::ListItem> = rows
                    .iter()
                    .map(|r| item(record_type, r, &org, &today))
                    .collect();
                return Ok(ListAnswer::Page(ListPage {
                    register: record_type,
                    items,
                    total: i64::try_from(total).unwrap_or(i64::MAX),
                    page: i64::try_from(filter.page).unwrap_or(i64::MAX),
                    per_page: i64::try_from(filter.per_page).unwrap_or(i64::MAX),
                }));
            }
            let schema = schema_for(record_type).ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("no schema for {record_type}"))
            })?;
            let headers = sheet_headers(schema);
            let label = REGISTERS
                .iter()
                .find(|(n, _, _)| *n == record_type)
                .map(|(_, zh, _)| *zh)
                .unwrap_or(record_type);
            // Streamed: records are read a batch at a time and written out row by row (the XLSX
            // worksheet in the writer's constant-memory mode), so memory stays bounded.
            let mut out = if format == "xlsx" {
                sheet::SheetWriter::xlsx(&label.replace('/', "-"), &headers)?
            } else {
                sheet::SheetWriter::csv(&headers)
            };
            query::for_each_batch(
                conn,
                record_type,
                &scope,
                &narrow,
                &filter.sort,
                EXPORT_BATCH,
                |rows| {
                    for r in rows {
                        out.row(&sheet_row(schema, r, &org, record_type, &today))?;
                    }
                    Ok(())
                },
            )?;
            let ctype = if format == "xlsx" {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            } else {
                "text/csv; charset=utf-8"
            };
            Ok(ListAnswer::File {
                bytes: out.finish()?,
                ctype,
                filename: format!("{record_type}-{today}.{format}"),
            })
        })
        .await?;
    Ok(match answer {
        ListAnswer::Page(v) => HttpResponse::Ok().json(v),
        ListAnswer::File {
            bytes,
            ctype,
            filename,
        } => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, ctype))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ))
            .body(bytes),
    })
}

enum ListAnswer {
    Page(ListPage),
    File {
        bytes: Vec<u8>,
        ctype: &'static str,
        filename: String,
    },
}

/// A cell's text as people read it: area and unit ids become names, sets join with `;`.
fn display(org: &Org, v: &Value) -> Cell {
    match v {
        Value::Null => Cell::Empty,
        Value::Number(n) => n.as_f64().map(Cell::Number).unwrap_or(Cell::Empty),
        Value::Bool(b) => Cell::Text(if *b { "是" } else { "否" }.into()),
        Value::String(s) => Cell::Text(
            org.areas
                .get(s)
                .map(|a| a.name_zh.clone())
                .or_else(|| org.units.get(s).map(|u| u.name_zh.clone()))
                .unwrap_or_else(|| s.clone()),
        ),
        Value::Array(a) => Cell::Text(
            a.iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect::<Vec<_>>()
                .join(";"),
        ),
        Value::Object(_) => Cell::Text(v.to_string()),
    }
}

/// Records read per batch by a download.
const EXPORT_BATCH: usize = 1000;

fn sheet_headers(schema: &RecordSchema) -> Vec<String> {
    let mut headers = vec!["记录编号".to_owned(), "街道".to_owned(), "区县".to_owned()];
    headers.extend(schema.fields.iter().map(|f| f.label_zh.to_owned()));
    headers.push("是否超期".into());
    headers
}

fn sheet_row(
    schema: &RecordSchema,
    r: &query::Live,
    org: &Org,
    record_type: &str,
    today: &str,
) -> Vec<Cell> {
    let area = r.text("area_id");
    let up = |k: &str| {
        area.and_then(|a| org.ancestor(a, k))
            .map(|a| Cell::Text(a.name_zh.clone()))
            .unwrap_or(Cell::Empty)
    };
    let mut row = vec![
        Cell::Text(r.record.id.to_string()),
        up("street"),
        up("district"),
    ];
    row.extend(schema.fields.iter().map(|f| {
        r.values
            .get(f.name)
            .map(|v| display(org, v))
            .unwrap_or(Cell::Empty)
    }));
    row.push(Cell::Text(
        if list::is_overdue(record_type, r, today) {
            "是"
        } else {
            "否"
        }
        .into(),
    ));
    row
}

/// The links of a record page: (record type, field pointing at this record) for children,
/// and the fields of this record pointing at parents.
const CHILDREN: &[(&str, &[(&str, &str)])] = &[
    (
        "project",
        &[
            ("building", "project_id"),
            ("inspection", "project_id"),
            ("hazard", "project_id"),
        ],
    ),
    (
        "building",
        &[("inspection", "building_id"), ("hazard", "building_id")],
    ),
    ("inspection", &[("hazard", "inspection_id")]),
    ("hazard", &[]),
];

fn summary(r: &query::Live, record_type: &str, org: &Org, today: &str) -> Summary {
    let title = ["name", "address", "description", "inspector"]
        .iter()
        .find_map(|f| r.text(f))
        .unwrap_or("");
    Summary {
        record_type: record_type.to_owned(),
        id: r.record.id.to_string(),
        title: title.to_owned(),
        status: r.text("status").map(str::to_owned),
        grade: r
            .text("safety_grade")
            .or(r.text("grade"))
            .map(str::to_owned),
        severity: r.text("severity").map(str::to_owned),
        area: list::area_names(org, r.text("area_id")),
        overdue: list::is_overdue(record_type, r, today),
    }
}

/// `GET /api/v1/registers/{register}/{id}`: every field with its Chinese label, linked records
/// (project → buildings → inspections → hazards, and back), the full history and the open
/// conflicts. 404 when the caller's scope does not see it.
#[utoipa::path(get, path = "/api/v1/registers/{register}/{id}", tag = "registers", params(("register" = String, Path), ("id" = uuid::Uuid, Path)), responses((status = 200, body = RecordPage), (status = 404, description = "record_not_found")))]
pub async fn record_page(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, RecordId)>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let id = id.to_string();
    let record_type = register_type(&name)?;
    let today = today(&state);
    let body = state
        .db
        .run(move |conn| {
            let scope = scope_of(conn, &principal)?;
            let org = Org::load(conn)?;
            let not_found = || {
                ApiError::new(
                    ErrorCode::RecordNotFound,
                    "没有这条记录，或不在您的管辖范围内",
                    "no such record, or not in your scope",
                )
            };
            let (r, deleted) = query::record(conn, &id, &scope)?.ok_or_else(not_found)?;
            if r.record.record_type != record_type {
                return Err(not_found());
            }
            let schema = schema_for(record_type).ok_or_else(not_found)?;
            let fields: Vec<FieldView> = schema
                .fields
                .iter()
                .map(|f| {
                    let v = r.values.get(f.name).cloned().unwrap_or(Value::Null);
                    let shown = match display(&org, &v) {
                        Cell::Text(s) => json!(s),
                        Cell::Number(n) => json!(n),
                        Cell::Empty => Value::Null,
                    };
                    let st = r.record.fields.get(f.name);
                    FieldView {
                        name: f.name,
                        label_zh: f.label_zh,
                        kind: f.kind,
                        required: f.required,
                        value: v,
                        display: shown,
                        version: st.map(|s| s.version),
                        author: st.map(|s| s.author.clone()),
                    }
                })
                .collect();
            let mut links = Vec::new();
            // Parents: the ids this record points at.
            for field in ["project_id", "building_id", "inspection_id"] {
                if let Some(pid) = r.text(field)
                    && let Some((p, _)) = query::record(conn, pid, &scope)?
                {
                    let t = p.record.record_type.clone();
                    links.push(Link {
                        relation: Relation::Parent,
                        via: field,
                        record: summary(&p, &t, &org, &today),
                    });
                }
            }
            let me: BTreeSet<String> = [r.record.id.to_string()].into();
            let children = CHILDREN
                .iter()
                .find(|(t, _)| *t == record_type)
                .map(|(_, c)| *c)
                .unwrap_or(&[]);
            for (t, field) in children {
                for c in query::linked(conn, t, field, &me, &scope)? {
                    links.push(Link {
                        relation: Relation::Child,
                        via: field,
                        record: summary(&c, t, &org, &today),
                    });
                }
            }
            let mut authors = Authors::default();
            let history = history::versions(conn, record_type, &id, &mut authors)?;
            let conflicts = history::open_conflicts(conn, record_type, &id, &mut authors)?;
            Ok(RecordPage {
                record: item(record_type, &r, &org, &today),
                deleted,
                label_zh: schema.label_zh,
                fields,
                links,
                history,
                conflicts,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Body of an office create or edit.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficeEdit {
    /// The version the form was loaded at (edits only): concurrent changes merge against it.
    pub base_version: Option<i64>,
    /// Changed fields (wire names); sets as `{"add": [...], "remove": [...]}`.
    #[schema(value_type = Object)]
    pub fields: BTreeMap<String, Value>,
}

fn author_of(p: &Principal) -> OfficeAuthor {
    OfficeAuthor {
        user_id: Some(p.user_id.clone()),
        role: p.role.as_str().to_owned(),
        unit_id: p.unit_id.clone(),
        label: p.display_name.clone(),
    }
}

async fn push_one(
    state: web::Data<AppState>,
    principal: Principal,
    record_type: &'static str,
    record_id: Uuid,
    body: OfficeEdit,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now_ms();
    let sync = state.sync.clone();
    // The device push's path: the same writer turn on SQLite.
    let result = state
        .db
        .write(move |conn| {
            let scope = scope_of(conn, &principal)?;
            let edit = Edit {
                record_type: record_type.to_owned(),
                record_id,
                base_version: body.base_version,
                fields: body.fields,
            };
            let mut results = push_office(
                conn,
                sync.as_ref().into(),
                &scope,
                &author_of(&principal),
                vec![edit],
                now,
            )?;
            results
                .pop()
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("push answered nothing")))
        })
        .await?;
    match &result.outcome {
        MutationOutcome::Rejected {
            code,
            message_zh,
            message_en,
        } => {
            let status = if code == "out_of_scope" {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Err(ApiError::relay(
                status,
                code.clone(),
                message_zh.clone(),
                message_en.clone(),
            ))
        }
        _ => Ok(HttpResponse::Ok().json(Pushed {
            id: record_id,
            result,
        })),
    }
}

/// `POST /api/v1/registers/{register}`: creates a record as the office user, through sync's
/// push (the same validation, scope check and change log as a device).
#[utoipa::path(post, path = "/api/v1/registers/{register}", tag = "registers", params(("register" = String, Path)), request_body = OfficeEdit, responses((status = 200, body = Pushed), (status = 403, description = "out_of_scope"), (status = 422, description = "the field validation's code")))]
pub async fn create_record(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: web::Json<OfficeEdit>,
) -> Result<HttpResponse, ApiError> {
    let record_type = register_type(&path.into_inner())?;
    let mut body = body.into_inner();
    body.base_version = None;
    push_one(state, principal, record_type, Uuid::now_v7(), body).await
}

/// `PATCH /api/v1/registers/{register}/{id}`: changes fields as the office user, merged
/// against `base_version` like a device's edit (a concurrent change of the same field becomes
/// a conflict both sides see).
#[utoipa::path(patch, path = "/api/v1/registers/{register}/{id}", tag = "registers", params(("register" = String, Path), ("id" = uuid::Uuid, Path)), request_body = OfficeEdit, responses((status = 200, body = Pushed), (status = 404, description = "record_not_found")))]
pub async fn edit_record(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, RecordId)>,
    body: web::Json<OfficeEdit>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let record_type = register_type(&name)?;
    let not_found = || {
        ApiError::new(
            ErrorCode::RecordNotFound,
            "没有这条记录，或不在您的管辖范围内",
            "no such record, or not in your scope",
        )
    };
    let record_id = id.uuid();
    let id = id.to_string();
    let body = body.into_inner();
    if body.base_version.is_none() {
        return Err(ApiError::new(
            ErrorCode::BaseVersionRequired,
            "修改记录需要提供 base_version（加载时的版本）",
            "an edit needs base_version (the version it was loaded at)",
        ));
    }
    let p = principal.clone();
    let exists = state
        .db
        .run(move |conn| {
            let scope = scope_of(conn, &p)?;
            Ok(query::record(conn, &id, &scope)?
                .is_some_and(|(r, _)| r.record.record_type == record_type))
        })
        .await?;
    if !exists {
        return Err(not_found());
    }
    push_one(state, principal, record_type, record_id, body).await
}

/// Mounts the registers endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/registers", web::get().to(catalogue))
        .route("/api/v1/registers/{register}", web::get().to(list_register))
        .route(
            "/api/v1/registers/{register}",
            web::post().to(create_record),
        )
        .service(
            web::resource("/api/v1/registers/{register}/import")
                .app_data(crate::http::payload_config(super::import::MAX_UPLOAD_BYTES))
                .route(web::post().to(super::import::import_register)),
        )
        .route(
            "/api/v1/registers/{register}/{id}",
            web::get().to(record_page),
        )
        .route(
            "/api/v1/registers/{register}/{id}",
            web::patch().to(edit_record),
        );
}
