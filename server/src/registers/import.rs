//! Register import (台账导入): an XLSX or CSV sheet of projects or buildings with the Chinese
//! headers the download writes, checked row by row (every bad cell named, nothing applied while
//! any is bad), then applied as office mutations through sync's push — the same path as an
//! office edit, so devices pull the rows and the history shows them.
//!
//! A row is matched by its 记录编号 (the record id the download writes) or else by its external
//! code (项目编号, 房屋编号): a known record is updated with the cells that differ (an unchanged
//! row changes nothing), an unknown code creates a record. Inspections and hazards are made on
//! site (checklists, photos, deadlines) and are not imported (`import_not_supported`).
//! See `docs/registers.md`.

use std::collections::{BTreeMap, HashMap, HashSet};

use actix_web::{HttpResponse, web};
use anju_shared::protocol::MutationOutcome;
use anju_shared::records::schema_for;
use diesel::QueryResult;
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::import_cells::{Column, area_error, column_of, find_area, parse_cell};
use super::list::register_type;
use super::query::{self, Live, Narrow, Org};
use super::sheet::{self, ImportQuery};
use super::write::{Edit, OfficeAuthor, push_office};
use crate::auth::Principal;
use crate::auth::scope::Scope;
use crate::auth::scope::scope_of;
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The record types a sheet may import, with the header of their external code.
pub const IMPORTABLE: &[(&str, &str)] = &[("project", "项目编号"), ("building", "房屋编号")];

/// Most errors one answer lists (`errors_total` counts them all).
pub const MAX_LISTED_ERRORS: usize = 1000;

/// Largest accepted upload, bytes.
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;

/// One refused cell: the sheet row (1 = header), the column header, a stable code, the reason.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// Row number as Excel shows it (the header is row 1).
    pub row: usize,
    /// The column's header ("" for the whole row).
    pub column: String,
    /// Stable snake_case code, e.g. `unknown_area`, `invalid_date`.
    pub code: String,
    /// Reason in Chinese.
    pub message_zh: String,
    /// Reason in English.
    pub message_en: String,
}

pub(super) fn row_error(row: usize, column: &str, code: &str, zh: String, en: String) -> RowError {
    RowError {
        row,
        column: column.to_owned(),
        code: code.to_owned(),
        message_zh: zh,
        message_en: en,
    }
}

/// The checked sheet: the edits to push (with their sheet rows) and the counts, or the errors.
#[derive(Debug, Default)]
pub struct Planned {
    /// Edits in sheet order, each with its row number.
    pub edits: Vec<(usize, Edit)>,
    /// Rows that create a record.
    pub created: usize,
    /// Rows that change a record.
    pub updated: usize,
    /// Rows equal to their record.
    pub unchanged: usize,
    /// Every bad cell.
    pub errors: Vec<RowError>,
}

/// The existing records an import matches against, of one type and in every scope (a code
/// held by a record outside the caller's scope is refused, not duplicated).
pub(super) struct Existing {
    pub(super) by_id: HashMap<Uuid, Live>,
    pub(super) by_code: HashMap<String, Vec<Uuid>>,
}

impl Existing {
    fn load(conn: &mut DbConnection, record_type: &str) -> QueryResult<Existing> {
        let all = query::live_records(conn, record_type, &Scope::All, &Narrow::default())?;
        let mut by_code: HashMap<String, Vec<Uuid>> = HashMap::new();
        for r in &all {
            if let Some(c) = r.text("code").filter(|c| !c.is_empty()) {
                by_code.entry(c.to_owned()).or_default().push(r.record.id);
            }
        }
        let by_id = all.into_iter().map(|r| (r.record.id, r)).collect();
        Ok(Existing { by_id, by_code })
    }
}

/// Checks `rows` (header first) as a sheet of `record_type` for `scope`: every bad cell is in
/// `errors`; the edits are only meaningful when there is none.
pub fn plan(
    conn: &mut DbConnection,
    record_type: &str,
    rows: &[Vec<String>],
    org: &Org,
    scope: &Scope,
) -> Result<Planned, ApiError> {
    let schema = schema_for(record_type)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no schema for {record_type}")))?;
    let code_header = IMPORTABLE
        .iter()
        .find(|(t, _)| *t == record_type)
        .map(|(_, h)| *h)
        .unwrap_or("");
    let mut out = Planned::default();
    let Some(header) = rows.first() else {
        out.errors.push(row_error(
            1,
            "",
            "empty_sheet",
            "表格是空的".into(),
            "the sheet is empty".into(),
        ));
        return Ok(out);
    };
    let mut columns: Vec<(usize, String, Column)> = Vec::new();
    let mut seen = HashSet::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim();
        if h.is_empty() {
            continue;
        }
        if !seen.insert(h.to_owned()) {
            out.errors.push(row_error(
                1,
                h,
                "duplicate_column",
                format!("列重复：{h}"),
                format!("column appears twice: {h}"),
            ));
            continue;
        }
        match column_of(schema, h) {
            Some(c) => columns.push((i, h.to_owned(), c)),
            None => out.errors.push(row_error(
                1,
                h,
                "unknown_column",
                format!("未知的列：{h}"),
                format!("unknown column: {h}"),
            )),
        }
    }
    let has_field = |name: &str| {
        columns
            .iter()
            .any(|(_, _, c)| matches!(c, Column::Field(f) if f.name == name))
    };
    if !has_field("code") && !columns.iter().any(|(_, _, c)| matches!(c, Column::Id)) {
        out.errors.push(row_error(
            1,
            code_header,
            "missing_key_column",
            format!("缺少列：{code_header}（或 记录编号）"),
            format!("missing column: {code_header} (or 记录编号, the record id)"),
        ));
    }
    if !out.errors.is_empty() {
        return Ok(out);
    }
    let existing = Existing::load(conn, record_type)?;
    // A building's 关联项目 may name the project by its 项目编号.
    let projects = if record_type == "project" {
        None
    } else {
        Some(Existing::load(conn, "project")?)
    };
    let projects = projects.as_ref().unwrap_or(&existing);
    let mut keys_seen: HashMap<String, usize> = HashMap::new();
    for (n, cells) in rows.iter().enumerate().skip(1) {
        let row = n + 1;
        let before = out.errors.len();
        let cell = |i: usize| cells.get(i).map(|s| s.trim()).unwrap_or("");
        let mut values: BTreeMap<String, Value> = BTreeMap::new();
        let (mut id_cell, mut district, mut street) = ("", "", "");
        for (i, _, c) in &columns {
            match c {
                Column::Id => id_cell = cell(*i),
                Column::District => district = cell(*i),
                Column::Street => street = cell(*i),
                Column::Ignored | Column::Field(_) => {}
            }
        }
        // The district and street, if given, must exist; they narrow the area's name.
        let mut within: Option<&str> = None;
        if !district.is_empty() {
            match find_area(org, district, &["district"], None) {
                Ok(a) => within = Some(a),
                Err(e) => out.errors.push(area_error(row, "区县", district, e)),
            }
        }
        if !street.is_empty() {
            match find_area(org, street, &["street"], within) {
                Ok(a) => within = Some(a),
                Err(e) => out.errors.push(area_error(row, "街道", street, e)),
            }
        }
        for (i, header, c) in &columns {
            let Column::Field(spec) = c else { continue };
            let raw = cell(*i);
            if raw.is_empty() {
                continue;
            }
            match parse_cell(spec, raw, org, within, projects) {
                Ok(v) => {
                    values.insert(spec.name.to_owned(), v);
                }
                Err((code, zh, en)) => out.errors.push(row_error(row, header, code, zh, en)),
            }
        }
        // Which record the row is.
        let code = values
            .get("code")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let key_column = if id_cell.is_empty() {
            code_header
        } else {
            "记录编号"
        };
        let target: Result<Option<&Live>, (&str, String, String)> = if !id_cell.is_empty() {
            Uuid::try_parse(id_cell)
                .ok()
                .and_then(|id| existing.by_id.get(&id))
                .filter(|r| sees(scope, r))
                .map(Some)
                .ok_or_else(|| {
                    (
                        "record_not_found",
                        format!("没有编号为 {id_cell} 的记录，或不在您的管辖范围内"),
                        format!("no record {id_cell}, or not in your scope"),
                    )
                })
        } else if let Some(code) = &code {
            match existing.by_code.get(code).map(Vec::as_slice) {
                None | Some([]) => Ok(None),
                Some([one]) => match existing.by_id.get(one) {
                    Some(r) if sees(scope, r) => Ok(Some(r)),
                    _ => Err((
                        "out_of_scope",
                        format!("{code_header} {code} 属于您管辖范围以外的记录"),
                        format!("{code} belongs to a record outside your scope"),
                    )),
                },
                Some(_) => Err((
                    "ambiguous_code",
                    format!("{code_header} {code} 对应多条记录，请填写记录编号"),
                    format!("{code} names several records; give the record id (记录编号)"),
                )),
            }
        } else {
            Err((
                "missing_key",
                format!("请填写{code_header}或记录编号"),
                format!("the row needs {code_header} (the code) or 记录编号 (the record id)"),
            ))
        };
        let target = match target {
            Ok(t) => t,
            Err((c, zh, en)) => {
                out.errors.push(row_error(row, key_column, c, zh, en));
                continue;
            }
        };
        let key = target
            .map(|r| r.record.id.to_string())
            .or(code.clone())
            .unwrap_or_default();
        if let Some(first) = keys_seen.insert(key, row) {
            out.errors.push(row_error(
                row,
                key_column,
                "duplicate_row",
                format!("与第 {first} 行是同一条记录"),
                format!("the same record as row {first}"),
            ));
            continue;
        }
        // The record as it would be: the caller must see it afterwards too.
        let mut after = target.map(|r| r.values.clone()).unwrap_or_default();
        after.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
        if target.is_none() {
            for f in schema.fields.iter().filter(|f| f.required) {
                let named = out.errors[before..].iter().any(|e| e.column == f.label_zh);
                if !values.contains_key(f.name) && !named {
                    out.errors.push(row_error(
                        row,
                        f.label_zh,
                        "field_required",
                        format!("新建记录必须填写{}", f.label_zh),
                        format!("a new record needs {} ({})", f.label_zh, f.name),
                    ));
                }
            }
        }
        let ids = schema.scope_ids(&after);
        if out.errors.len() == before
            && !scope.sees(ids.get("unit_id").copied(), ids.get("area_id").copied())
        {
            out.errors.push(row_error(
                row,
                "所属区域",
                "out_of_scope",
                "该行的区域或责任单位不在您的管辖范围内".into(),
                "the row's area or unit is outside your scope".into(),
            ));
        }
        if out.errors.len() > before {
            continue;
        }
        let fields: BTreeMap<String, Value> = match target {
            Some(r) => values
                .into_iter()
                .filter(|(k, v)| r.values.get(k) != Some(v))
                .collect(),
            None => values,
        };
        if fields.is_empty() {
            out.unchanged += 1;
            continue;
        }
        if target.is_some() {
            out.updated += 1;
        } else {
            out.created += 1;
        }
        out.edits.push((
            row,
            Edit {
                record_type: record_type.to_owned(),
                record_id: target.map(|r| r.record.id).unwrap_or_else(Uuid::now_v7),
                base_version: target.map(|r| r.record.version),
                fields,
            },
        ));
    }
    Ok(out)
}

fn sees(scope: &Scope, r: &Live) -> bool {
    let (u, a) = (r.text("unit_id"), r.text("area_id"));
    let p = |s: Option<&str>| s.and_then(|s| Uuid::try_parse(s).ok());
    scope.sees(p(u), p(a))
}

/// `POST /api/v1/registers/{register}/import?dry_run=true|false` (default true): an XLSX or
/// CSV sheet (body = the file) of projects or buildings. Every bad cell is named (row, column,
/// code, reason) and nothing is applied while any is bad (422 `import_has_errors`). Applied rows
/// are office mutations through sync's push in one transaction: devices pull them.
#[utoipa::path(post, path = "/api/v1/registers/{register}/import", tag = "registers",
    params(("register" = String, Path, description = "project or building"), ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the XLSX or CSV file"),
    responses(
        (status = 200, body = ImportAnswer),
        (status = 400, description = "not_a_spreadsheet, import_not_supported"),
        (status = 413, description = "too_many_rows (more than 20,000) or a file over 16 MiB"),
        (status = 422, description = "import_has_errors: {errors: [RowError], errors_total, created, updated, unchanged}")))]
pub async fn import_register(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    q: web::Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let record_type = register_type(&path.into_inner())?;
    if !IMPORTABLE.iter().any(|(t, _)| *t == record_type) {
        return Err(ApiError::new(
            ErrorCode::ImportNotSupported,
            "只能导入改造项目和危旧房台账；排查和隐患记录在现场采集",
            "only projects and buildings can be imported; inspections and hazards are recorded on site",
        ));
    }
    let dry_run = q.dry_run.unwrap_or(true);
    let rows = sheet::read_rows(&body)?;
    let now = state.clock.now_ms();
    let sync = state.sync.clone();
    let author = OfficeAuthor {
        user_id: Some(principal.user_id.clone()),
        role: principal.role.as_str().to_owned(),
        unit_id: principal.unit_id.clone(),
        label: principal.display_name.clone(),
    };
    let db = state.db.clone();
    let answer = state
        .db
        .run(move |conn| {
            let scope = scope_of(conn, &principal)?;
            let org = Org::load(conn)?;
            // The check reads only (no write turn): every row of the sheet, before anything is
            // applied.
            let planned = plan(conn, record_type, &rows, &org, &scope)?;
            let counts = ImportCounts {
                dry_run,
                rows: rows.len().saturating_sub(1),
                created: planned.created,
                updated: planned.updated,
                unchanged: planned.unchanged,
            };
            if !planned.errors.is_empty() {
                return Err(has_errors(planned.errors, &counts));
            }
            if !dry_run {
                apply(
                    conn,
                    &db,
                    sync.as_ref().into(),
                    &scope,
                    &author,
                    planned.edits,
                    now,
                    &counts,
                )?;
            }
            Ok(ImportAnswer {
                counts,
                errors: Vec::new(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// What a sheet holds, by what its rows would do (or did).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportCounts {
    /// Whether nothing was applied (the default).
    pub dry_run: bool,
    /// Data rows read (the header not counted).
    pub rows: usize,
    /// Rows that create a record.
    pub created: usize,
    /// Rows that change a record.
    pub updated: usize,
    /// Rows equal to their record.
    pub unchanged: usize,
}

/// `POST /api/v1/registers/{register}/import`: the counts of a sheet without errors.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportAnswer {
    /// The counts.
    #[serde(flatten)]
    pub counts: ImportCounts,
    /// Always empty: a sheet with any bad cell is refused with 422 `import_has_errors`.
    pub errors: Vec<RowError>,
}

/// Edits pushed per write transaction by an import's apply.
pub const APPLY_BATCH: usize = 500;

/// Applies a checked sheet: its edits pushed through sync's push in batches of
/// [`APPLY_BATCH`], each in a write transaction of its own taken at background priority, so
/// other writers (devices, office edits) take turns between batches instead of waiting for the
/// whole sheet. A batch is all or nothing. A push rejection (something changed since the check)
/// stops the apply with the rows named (`import_has_errors`, `applied` = rows already
/// applied); re-running the same sheet completes it, since applied rows are then unchanged and
/// created records are matched by their code.
#[allow(clippy::too_many_arguments)]
fn apply(
    conn: &mut DbConnection,
    db: &crate::db::Db,
    sync: super::write::OfficeSync<'_>,
    scope: &Scope,
    author: &OfficeAuthor,
    edits: Vec<(usize, Edit)>,
    now: i64,
    counts: &ImportCounts,
) -> Result<(), ApiError> {
    let mut applied = 0;
    for batch in edits.chunks(APPLY_BATCH) {
        let row_of: HashMap<Uuid, usize> =
            batch.iter().map(|(row, e)| (e.record_id, *row)).collect();
        let edits: Vec<Edit> = batch.iter().map(|(_, e)| e.clone()).collect();
        db.background_tx(conn, |conn| {
            let results = push_office(conn, sync, scope, author, edits, now)?;
            let refused: Vec<RowError> = results
                .iter()
                .filter_map(|r| match &r.outcome {
                    MutationOutcome::Rejected {
                        code,
                        message_zh,
                        message_en,
                    } => Some(row_error(
                        row_of.get(&r.record_id).copied().unwrap_or(0),
                        "",
                        code,
                        message_zh.clone(),
                        message_en.clone(),
                    )),
                    _ => None,
                })
                .collect();
            if refused.is_empty() {
                Ok(())
            } else {
                // Rolls this batch back.
                Err(has_errors(refused, counts).with("applied", json!(applied)))
            }
        })?;
        applied += batch.len();
    }
    Ok(())
}

fn has_errors(mut errors: Vec<RowError>, counts: &ImportCounts) -> ApiError {
    let total = errors.len();
    errors.truncate(MAX_LISTED_ERRORS);
    let mut e = ApiError::new(
        ErrorCode::ImportHasErrors,
        format!("有 {total} 处错误，未导入任何数据"),
        format!("{total} errors; nothing was imported"),
    )
    .with("errors", json!(errors))
    .with("errors_total", json!(total));
    if let Ok(Value::Object(m)) = serde_json::to_value(counts) {
        for (k, v) in m {
            e = e.with(&k, v);
        }
    }
    e
}
