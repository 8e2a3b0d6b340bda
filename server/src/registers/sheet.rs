//! Spreadsheets in and out: one sheet with a bold Chinese header row (XLSX by rust_xlsxwriter,
//! CSV by hand), and reading the first sheet of an uploaded XLSX (calamine) or CSV as rows of
//! text cells, so the importers see one shape whatever the file.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::error::{ApiError, ErrorCode};

/// `?dry_run=true|false` of a sheet import (default true): the registers' and the plans'.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Only check; apply nothing.
    pub dry_run: Option<bool>,
}

/// One cell of an outgoing sheet.
#[derive(Debug, Clone)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
    /// Nothing.
    Empty,
}

/// The sheet as XLSX bytes: `headers` in bold on the first row, frozen.
pub fn xlsx(sheet_name: &str, headers: &[String], rows: &[Vec<Cell>]) -> Result<Vec<u8>, ApiError> {
    let build = || -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name)?;
        let bold = Format::new().set_bold();
        for (c, h) in headers.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            ws.write_string_with_format(0, c, h, &bold)?;
            ws.set_column_width(c, 16)?;
        }
        ws.set_freeze_panes(1, 0)?;
        for (r, row) in rows.iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (c, cell) in row.iter().enumerate() {
                let c = u16::try_from(c).unwrap_or(u16::MAX);
                match cell {
                    Cell::Text(s) => {
                        ws.write_string(r, c, s)?;
                    }
                    Cell::Number(n) => {
                        ws.write_number(r, c, *n)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        wb.save_to_buffer()
    };
    build().map_err(|e| ApiError::internal(anyhow::anyhow!("xlsx: {e}")))
}

/// A sheet written row by row: XLSX with the worksheet in rust_xlsxwriter's constant-memory
/// mode (each row goes to a temporary file as soon as the next one starts, strings inline), or
/// CSV. Only the finished file is held in memory, never the rows.
pub enum SheetWriter {
    /// An XLSX workbook with one constant-memory worksheet.
    Xlsx {
        /// The workbook.
        wb: Box<Workbook>,
        /// The next row to write.
        next: u32,
    },
    /// CSV text so far.
    Csv(String),
}

fn xlsx_err(e: XlsxError) -> ApiError {
    ApiError::internal(anyhow::anyhow!("xlsx: {e}"))
}

impl SheetWriter {
    /// An XLSX sheet named `sheet_name` with `headers` in bold on the first row, frozen.
    pub fn xlsx(sheet_name: &str, headers: &[String]) -> Result<SheetWriter, ApiError> {
        let mut wb = Box::new(Workbook::new());
        let ws = wb.add_worksheet_with_constant_memory().map_err(xlsx_err)?;
        ws.set_name(sheet_name).map_err(xlsx_err)?;
        let bold = Format::new().set_bold();
        for (c, h) in headers.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            ws.set_column_width(c, 16).map_err(xlsx_err)?;
            ws.write_string_with_format(0, c, h, &bold)
                .map_err(xlsx_err)?;
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_err)?;
        Ok(SheetWriter::Xlsx { wb, next: 1 })
    }

    /// A CSV sheet (UTF-8 with a byte-order mark) with `headers` on the first line.
    pub fn csv(headers: &[String]) -> SheetWriter {
        let mut out = String::from("\u{feff}");
        let cells: Vec<Cell> = headers.iter().cloned().map(Cell::Text).collect();
        csv_line(&mut out, &cells);
        SheetWriter::Csv(out)
    }

    /// Appends one row.
    pub fn row(&mut self, cells: &[Cell]) -> Result<(), ApiError> {
        match self {
            SheetWriter::Xlsx { wb, next } => {
                let ws = wb.worksheet_from_index(0).map_err(xlsx_err)?;
                for (c, cell) in cells.iter().enumerate() {
                    let c = u16::try_from(c).unwrap_or(u16::MAX);
                    match cell {
                        Cell::Text(s) => {
                            ws.write_string(*next, c, s).map_err(xlsx_err)?;
                        }
                        Cell::Number(n) => {
                            ws.write_number(*next, c, *n).map_err(xlsx_err)?;
                        }
                        Cell::Empty => {}
                    }
                }
                *next += 1;
            }
            SheetWriter::Csv(out) => csv_line(out, cells),
        }
        Ok(())
    }

    /// The finished file.
    pub fn finish(self) -> Result<Vec<u8>, ApiError> {
        match self {
            SheetWriter::Xlsx { mut wb, .. } => wb.save_to_buffer().map_err(xlsx_err),
            SheetWriter::Csv(out) => Ok(out.into_bytes()),
        }
    }
}

fn csv_quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn csv_line(out: &mut String, cells: &[Cell]) {
    let line: Vec<String> = cells
        .iter()
        .map(|c| match c {
            Cell::Text(s) => csv_quote(s),
            Cell::Number(n) => n.to_string(),
            Cell::Empty => String::new(),
        })
        .collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

/// The sheet as CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese headers).
pub fn csv(headers: &[String], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut w = SheetWriter::csv(headers);
    for row in rows {
        if let SheetWriter::Csv(out) = &mut w {
            csv_line(out, row);
        }
    }
    match w {
        SheetWriter::Csv(out) => out.into_bytes(),
        SheetWriter::Xlsx { .. } => Vec::new(),
    }
}

/// Most rows an uploaded sheet may have (the header not counted).
pub const MAX_ROWS: usize = 20_000;

/// The rows of an uploaded file as text cells (numbers in their shortest form), header first.
/// XLSX is recognised by its zip signature; anything else must be UTF-8 CSV. A file that is
/// neither, or longer than [`MAX_ROWS`], is a 400 / 413 with a code.
pub fn read_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, ApiError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| not_a_sheet())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rows = parse_csv(text);
    if rows.len() > MAX_ROWS + 1 {
        return Err(too_many(rows.len() - 1));
    }
    Ok(rows)
}

fn not_a_sheet() -> ApiError {
    ApiError::new(
        ErrorCode::NotASpreadsheet,
        "文件不是 XLSX 工作簿或 UTF-8 CSV",
        "the file is neither an XLSX workbook nor UTF-8 CSV",
    )
}

fn too_many(n: usize) -> ApiError {
    ApiError::new(
        ErrorCode::TooManyRows,
        format!("表格有 {n} 行，最多 {MAX_ROWS} 行"),
        format!("the sheet has {n} rows; at most {MAX_ROWS}"),
    )
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, ApiError> {
    use calamine::{Data, Reader, Xlsx};
    let mut wb: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes.to_vec())).map_err(|_| not_a_sheet())?;
    let first = wb.sheet_names().first().cloned().ok_or_else(not_a_sheet)?;
    let range = wb.worksheet_range(&first).map_err(|_| not_a_sheet())?;
    if range.height() > MAX_ROWS + 1 {
        return Err(too_many(range.height() - 1));
    }
    Ok(range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::String(s) => s.trim().to_owned(),
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                        format!("{}", *f as i64)
                    }
                    Data::Float(f) => f.to_string(),
                    Data::Int(i) => i.to_string(),
                    Data::Bool(b) => b.to_string(),
                    Data::DateTime(d) => excel_date(d.as_f64()),
                    Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                    Data::Error(e) => format!("#{e:?}"),
                    Data::Empty => String::new(),
                })
                .collect()
        })
        .collect())
}

/// An Excel date serial (days since 1899-12-30) as `YYYY-MM-DD`.
fn excel_date(serial: f64) -> String {
    let base = jiff::civil::date(1899, 12, 30);
    let days = serial.floor() as i64;
    base.checked_add(jiff::Span::new().days(days))
        .map(|d| d.to_string())
        .unwrap_or_else(|_| serial.to_string())
}

/// A small RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field).trim().to_owned()),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field).trim().to_owned());
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field.trim().to_owned());
        rows.push(row);
    }
    rows.retain(|r| r.iter().any(|c| !c.is_empty()));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip_keeps_commas_and_quotes() {
        let bytes = csv(
            &["名称".into(), "备注".into()],
            &[vec![
                Cell::Text("a,b".into()),
                Cell::Text("say \"hi\"".into()),
            ]],
        );
        let rows = read_rows(&bytes).expect("csv");
        assert_eq!(rows[1], vec!["a,b".to_owned(), "say \"hi\"".to_owned()]);
    }

    #[test]
    fn xlsx_round_trip() {
        let bytes = xlsx("计划", &["年度".into()], &[vec![Cell::Number(2026.0)]]).expect("xlsx");
        let rows = read_rows(&bytes).expect("read");
        assert_eq!(rows, vec![vec!["年度".to_owned()], vec!["2026".to_owned()]]);
    }

    #[test]
    fn garbage_is_refused() {
        assert!(read_rows(&[0xff, 0xfe, 0x00]).is_err());
        assert!(read_rows(b"PK\x03\x04garbage").is_err());
    }
}

/// The OpenAPI schema of a downloaded workbook or sheet: the file's bytes (a binary string).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct SheetFile(pub Vec<u8>);
