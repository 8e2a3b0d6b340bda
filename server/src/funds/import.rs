//! Fund entries from a sheet (XLSX or CSV): one row per entry with the columns 项目编号 (project
//! code or id), 类型 (预算/到位/支付), 资金来源, 金额(元), 日期, 备注. Every bad row is named (row,
//! column, code, reason) and nothing is recorded while any is bad; a dry run only checks. Rows
//! are checked in order against the ledger as it would be after the rows above them, so a
//! payment is allowed by a receipt earlier in the same sheet. A row already recorded (the
//! export's 记录编号, or an identical entry of the same project) is skipped, so a re-import of
//! the export changes nothing.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::answers::FundsImport;
use super::handlers::{FundRecording, today};
use super::ledger::{self, Checked, Entry, Kind, Ledger, NewEntry, Recorder, Source};
use crate::auth::principal::Authed;
use crate::auth::scope::scope_of;
use crate::error::{ApiError, ErrorCode};
use crate::registers::query::{self, Live};
use crate::registers::sheet;
use crate::state::AppState;

/// `?dry_run=true|false` (default true).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Only check; record nothing.
    pub dry_run: Option<bool>,
}

fn row_error(row: usize, column: &str, code: &str, zh: String, en: String) -> Value {
    json!({"row": row, "column": column, "code": code, "message_zh": zh, "message_en": en})
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Project,
    Kind,
    Source,
    Amount,
    Date,
    Note,
    Id,
    Ignored,
}

fn column(h: &str) -> Option<Col> {
    Some(match h {
        "项目编号" | "项目" | "project" | "project_code" => Col::Project,
        "类型" | "kind" => Col::Kind,
        "资金来源" | "来源" | "source" => Col::Source,
        "金额(元)" | "金额（元）" | "金额" | "amount" => Col::Amount,
        "日期" | "date" => Col::Date,
        "备注" | "note" => Col::Note,
        "记录编号" | "id" => Col::Id,
        "更正记录" | "记录人" | "记录时间" | "corrects" | "recorded_by" | "recorded_at" => {
            Col::Ignored
        }
        _ => return None,
    })
}

/// The rows to record: (project id, checked entry).
pub type Planned = Vec<(String, Checked)>;

/// Parses and checks a fund sheet against `projects` (those the importer sees) and their
/// `ledgers`. Returns the entries to record, how many rows were skipped as already recorded,
/// and every error.
pub fn parse(
    rows: &[Vec<String>],
    projects: &[Live],
    ledgers: &BTreeMap<String, Ledger>,
    today: jiff::civil::Date,
) -> (Planned, usize, Vec<Value>) {
    let mut errors = Vec::new();
    let mut planned = Vec::new();
    let mut skipped = 0;
    let Some(header) = rows.first() else {
        errors.push(row_error(
            1,
            "",
            "empty_sheet",
            "表格是空的".into(),
            "the sheet is empty".into(),
        ));
        return (planned, skipped, errors);
    };
    let mut cols: BTreeMap<usize, Col> = BTreeMap::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim();
        if h.is_empty() {
            continue;
        }
        match column(h) {
            Some(c) => {
                cols.insert(i, c);
            }
            None => errors.push(row_error(
                1,
                h,
                "unknown_column",
                format!("未知的列：{h}"),
                format!("unknown column: {h}"),
            )),
        }
    }
    for (name, c) in [
        ("项目编号", Col::Project),
        ("类型", Col::Kind),
        ("金额(元)", Col::Amount),
        ("日期", Col::Date),
    ] {
        if !cols.values().any(|x| *x == c) {
            errors.push(row_error(
                1,
                name,
                "missing_column",
                format!("缺少列：{name}"),
                format!("missing column: {name}"),
            ));
        }
    }
    if !errors.is_empty() {
        return (planned, skipped, errors);
    }
    let by_code: BTreeMap<String, &Live> = projects
        .iter()
        .flat_map(|p| {
            let id = p.record.id.to_string();
            let mut v = vec![(id, p)];
            if let Some(c) = p.text("code") {
                v.push((c.to_owned(), p));
            }
            v
        })
        .collect();
    let mut work: BTreeMap<String, Ledger> = BTreeMap::new();
    for (n, r) in rows.iter().enumerate().skip(1) {
        let row = n + 1;
        let get = |c: Col| {
            cols.iter()
                .find(|(_, x)| **x == c)
                .and_then(|(i, _)| r.get(*i))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let code = get(Col::Project);
        let Some(p) = by_code.get(&code) else {
            errors.push(row_error(
                row,
                "项目编号",
                "project_not_found",
                format!("没有这个项目，或不在您的管辖范围内：{code}"),
                format!("no such project, or not in your scope: {code}"),
            ));
            continue;
        };
        let pid = p.record.id.to_string();
        let l = work
            .entry(pid.clone())
            .or_insert_with(|| ledgers.get(&pid).cloned().unwrap_or_default());
        let id = get(Col::Id);
        if !id.is_empty() && l.entries.iter().any(|e| e.id == id) {
            skipped += 1;
            continue;
        }
        let raw = get(Col::Amount).replace([',', '，'], "");
        let amount = match raw.parse::<i64>().ok().or_else(|| {
            raw.parse::<f64>()
                .ok()
                .filter(|f| f.fract() == 0.0 && f.is_finite() && f.abs() < 1e15)
                .map(|f| f as i64)
        }) {
            Some(a) => a,
            None => {
                errors.push(row_error(
                    row,
                    "金额(元)",
                    "invalid_fund_amount",
                    format!("金额应为整数（元）：{raw}"),
                    format!("the amount is a whole number of yuan: {raw}"),
                ));
                continue;
            }
        };
        let e = NewEntry {
            kind: Some(get(Col::Kind)),
            source: Some(get(Col::Source)),
            amount,
            date: get(Col::Date),
            note: Some(get(Col::Note)),
            corrects: None,
        };
        let kind = Kind::parse(&get(Col::Kind));
        let same = |x: &Entry| {
            x.corrects.is_none()
                && Some(x.kind.as_str()) == kind.map(Kind::as_str)
                && x.amount == amount
                && x.entry_date == e.date
                && x.note == get(Col::Note)
                && (kind == Some(Kind::Paid)
                    || x.source.as_deref() == Source::parse(&get(Col::Source)).map(Source::as_str))
        };
        if l.entries.iter().any(same) {
            skipped += 1;
            continue;
        }
        match l.check(&e, today) {
            Ok(c) => {
                // The working ledger sees the row, so later rows are checked after it.
                l.entries.push(Entry {
                    id: format!("row-{row}"),
                    project_id: pid.clone(),
                    kind: c.kind.as_str().into(),
                    source: c.source.map(|s| s.as_str().into()),
                    amount: c.amount,
                    entry_date: c.date.to_string(),
                    note: c.note.clone(),
                    corrects: None,
                    recorded_by: String::new(),
                    recorded_by_name: String::new(),
                    origin: "import".into(),
                    recorded_at: 0,
                });
                planned.push((pid, c));
            }
            Err(refusal) => {
                let col = match refusal.code {
                    ErrorCode::InvalidFundKind => "类型",
                    ErrorCode::InvalidFundSource => "资金来源",
                    ErrorCode::InvalidFundDate => "日期",
                    ErrorCode::InvalidFundNote => "备注",
                    _ => "金额(元)",
                };
                errors.push(row_error(
                    row,
                    col,
                    refusal.code.as_str(),
                    refusal.zh,
                    refusal.en,
                ));
            }
        }
    }
    (planned, skipped, errors)
}

/// `POST /api/v1/funds/import?dry_run=`: a fund sheet (body = the XLSX or CSV file). Every bad
/// row named; nothing recorded while any is bad; rows already recorded are skipped.
#[utoipa::path(post, path = "/api/v1/funds/import", tag = "funds", params(ImportQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 200, body = FundsImport), (status = 422, description = "import_has_errors: {errors: [{row, column, code, message_zh, message_en}]}")))]
pub async fn import_funds(
    state: web::Data<AppState>,
    auth: Authed<FundRecording>,
    q: web::Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let who = auth.0;
    let dry_run = q.dry_run.unwrap_or(true);
    let rows = sheet::read_rows(&body)?;
    let today = today(&state);
    let now = state.clock.now_ms();
    let answer = state
        .db
        .write(move |conn| {
            let scope = scope_of(conn, &who)?;
            let projects = query::live_records(conn, "project", &scope, &query::Narrow::default())?;
            let ledgers = ledger::load_all(conn)?;
            let (planned, skipped, errors) = parse(&rows, &projects, &ledgers, today);
            if !errors.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::ImportHasErrors,
                    format!("有 {} 处错误，未导入任何数据", errors.len()),
                    format!("{} errors; nothing was imported", errors.len()),
                )
                .with("errors", json!(errors)));
            }
            let mut recorded = 0;
            if !dry_run {
                let r = Recorder {
                    id: &who.user_id,
                    name: &who.display_name,
                    origin: "import",
                };
                for (pid, c) in &planned {
                    ledger::insert(conn, pid, c, &r, now, today)?;
                    recorded += 1;
                }
            }
            Ok(FundsImport {
                dry_run,
                rows: rows.len().saturating_sub(1),
                entries: planned.len(),
                skipped,
                recorded,
                errors: Vec::new(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}
