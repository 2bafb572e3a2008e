//! Spreadsheets in and out: CSV (UTF-8, with or without BOM) and XLSX, as published lists (权力清单) come
//! in both. Reading gives a header and text rows with their line numbers; writing takes the same.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use gridward_domain::{Problem, Problems};

/// Rows a sheet may have; larger files are refused before validation.
pub const MAX_ROWS: usize = 100_000;

/// A sheet read as text: the header, then each row with its 1-based line (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub header: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// The formats a sheet can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    Csv,
    Xlsx,
}

impl SheetFormat {
    pub fn parse(s: &str) -> Option<SheetFormat> {
        match s {
            "csv" => Some(SheetFormat::Csv),
            "xlsx" => Some(SheetFormat::Xlsx),
            _ => None,
        }
    }
    pub fn media_type(self) -> &'static str {
        match self {
            SheetFormat::Csv => "text/csv; charset=utf-8",
            SheetFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            SheetFormat::Csv => "csv",
            SheetFormat::Xlsx => "xlsx",
        }
    }
}

/// Reads CSV or XLSX (told apart by the bytes: an XLSX file is a ZIP archive). Only the first worksheet
/// of a workbook is read. Fully empty rows are skipped.
pub fn read_sheet(bytes: &[u8]) -> Result<Sheet, Problems> {
    let fail = |code: &'static str, message: String| Problems(vec![Problem::file(code, message)]);
    let mut lines: Vec<(usize, Vec<String>)> = Vec::new();
    if bytes.starts_with(b"PK\x03\x04") {
        let mut book: Xlsx<_> =
            Xlsx::new(Cursor::new(bytes)).map_err(|e| fail("bad_xlsx", format!("the workbook cannot be read: {e}")))?;
        let range = book
            .worksheet_range_at(0)
            .ok_or_else(|| fail("bad_xlsx", "the workbook has no worksheet".into()))?
            .map_err(|e| fail("bad_xlsx", format!("the first worksheet cannot be read: {e}")))?;
        let first_row = range.start().map_or(0, |(r, _)| r as usize);
        for (i, row) in range.rows().enumerate() {
            if lines.len() > MAX_ROWS {
                break;
            }
            lines.push((first_row + i + 1, row.iter().map(cell_text).collect()));
        }
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| fail("bad_encoding", "a CSV file must be UTF-8".into()))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        for record in reader.records() {
            if lines.len() > MAX_ROWS {
                break;
            }
            match record {
                Ok(r) => lines.push((r.position().map_or(0, |p| p.line() as usize), r.iter().map(str::to_string).collect())),
                Err(e) => return Err(fail("bad_csv", e.to_string())),
            }
        }
    }
    lines.retain(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    if lines.len() > MAX_ROWS {
        return Err(fail("too_many_rows", format!("a sheet has at most {MAX_ROWS} rows")));
    }
    let mut lines = lines.into_iter();
    let (_, header) = lines.next().ok_or_else(|| fail("empty_file", "the file is empty".into()))?;
    let header: Vec<String> = header.into_iter().map(|h| h.trim().to_string()).collect();
    let rows: Vec<(usize, Vec<String>)> = lines.collect();
    if rows.is_empty() {
        return Err(fail("empty_file", "the file has a header but no rows".into()));
    }
    Ok(Sheet { header, rows })
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        // A date cell holds days since 1899-12-30 (the spreadsheet epoch); the sheets here carry dates only.
        Data::DateTime(d) => jiff::civil::date(1899, 12, 30)
            .checked_add(jiff::Span::new().days(d.as_f64().floor() as i64))
            .map(|day| day.to_string())
            .unwrap_or_else(|_| d.to_string()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Finds each wanted column by any of its names (e.g. the code `name` or the heading `事项名称`). Missing
/// required columns and columns nobody asked for are problems of line 1.
pub fn locate_columns(header: &[String], wanted: &[(&str, &str)], optional: &[&str]) -> Result<Vec<Option<usize>>, Problems> {
    let mut problems = Problems::default();
    let mut found = vec![None; wanted.len()];
    for (i, h) in header.iter().enumerate() {
        match wanted.iter().position(|(code, heading)| h == code || h == heading) {
            Some(w) if found[w].is_some() => {
                problems.push(Problem::at(1, h, "duplicate_column", format!("column {h} appears twice")))
            }
            Some(w) => found[w] = Some(i),
            None if h.is_empty() => {}
            None => problems.push(Problem::at(1, h, "unknown_column", format!("{h:?} is not a column of this sheet"))),
        }
    }
    for ((code, heading), at) in wanted.iter().zip(&found) {
        if at.is_none() && !optional.contains(code) {
            problems.push(Problem::at(1, code, "missing_column", format!("the column {code} ({heading}) is missing")));
        }
    }
    problems.into_result(found)
}

/// Writes a sheet as CSV (RFC 4180, UTF-8 with a BOM so spreadsheet programs read the Chinese right).
pub fn write_csv(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(header);
        for row in rows {
            let _ = writer.write_record(row);
        }
        let _ = writer.flush();
    }
    out
}

/// Writes a sheet as an XLSX workbook with one worksheet, every cell as text.
pub fn write_xlsx(title: &str, header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let name: String = title.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    sheet.set_name(if name.is_empty() { "Sheet1" } else { &name }).map_err(|e| e.to_string())?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold).map_err(|e| e.to_string())?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, cell).map_err(|e| e.to_string())?;
            }
        }
    }
    book.save_to_buffer().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_xlsx_read_back_the_same() {
        let header = ["code", "name"];
        let rows = vec![vec!["a.1".to_string(), "甲，\"乙\"\n丙".to_string()], vec!["b.2".into(), "".into()]];
        let from_csv = read_sheet(&write_csv(&header, &rows)).unwrap();
        let from_xlsx = read_sheet(&write_xlsx("表", &header, &rows).unwrap()).unwrap();
        assert_eq!(from_csv.header, vec!["code", "name"]);
        assert_eq!(from_csv.rows.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(), rows);
        assert_eq!(from_xlsx.rows.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(), rows);
        assert_eq!(from_xlsx.rows[1].0, 3);
    }

    #[test]
    fn bad_files_are_named() {
        assert_eq!(read_sheet(b"").unwrap_err().0[0].code, "empty_file");
        assert_eq!(read_sheet(b"code,name\n").unwrap_err().0[0].code, "empty_file");
        assert_eq!(read_sheet(&[0xff, 0xfe, 0x00]).unwrap_err().0[0].code, "bad_encoding");
        assert_eq!(read_sheet(b"PK\x03\x04garbage").unwrap_err().0[0].code, "bad_xlsx");
        let header: Vec<String> = ["code", "名称", "extra"].map(String::from).to_vec();
        let problems = locate_columns(&header, &[("code", "事项编码"), ("name", "名称"), ("kind", "类型")], &[]).unwrap_err();
        let codes: Vec<&str> = problems.0.iter().map(|p| p.code).collect();
        assert_eq!(codes, vec!["unknown_column", "missing_column"]);
    }
}
