//! A sheet as a bounded grid of cell values with its merged regions, built from `.xlsx`
//! (streamed cell by cell), `.xls` or `.csv`. Reading stops after a run of empty rows, and
//! columns and rows are capped, so memory stays bounded whatever the file claims.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, DataRef, Reader, SheetVisible, Xls, Xlsx};
use jiff::civil::Date;

use super::{ImportError, ImportLimits};

/// One cell, reduced to what the importer needs.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum CellValue {
    #[default]
    Empty,
    Text(String),
    Number(f64),
    Date(Date),
}

impl CellValue {
    /// Text as a person reads it (numbers without a trailing `.0`, dates as `YYYY-MM-DD`).
    pub(crate) fn text(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Text(t) => t.trim().to_owned(),
            Self::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Self::Number(n) => n.to_string(),
            Self::Date(d) => d.to_string(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Self::Empty => true,
            Self::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }
}

/// One sheet: `rows[r][c]` with 0-based indices (Excel row = r + 1).
#[derive(Debug, Default)]
pub(crate) struct Grid {
    pub name: String,
    rows: Vec<Vec<CellValue>>,
    /// Cells inside a merged region other than its top-left, → the top-left.
    covered: HashMap<(u32, u32), (u32, u32)>,
    /// Top-left cell of a merged region → its last column.
    merge_width: HashMap<(u32, u32), u32>,
    empty: CellValue,
}

impl Grid {
    pub(crate) fn height(&self) -> u32 {
        self.rows.len() as u32
    }

    /// The value shown in the cell: merged cells show their region's top-left value.
    pub(crate) fn get(&self, r: u32, c: u32) -> &CellValue {
        let (r, c) = self.covered.get(&(r, c)).copied().unwrap_or((r, c));
        self.rows
            .get(r as usize)
            .and_then(|row| row.get(c as usize))
            .unwrap_or(&self.empty)
    }

    /// True when the cell belongs to a merged region that starts on an earlier row.
    pub(crate) fn covered_from_above(&self, r: u32, c: u32) -> bool {
        self.covered.get(&(r, c)).is_some_and(|(r0, _)| *r0 < r)
    }

    /// Last column of the merged region starting at this cell, if any.
    pub(crate) fn merge_end_col(&self, r: u32, c: u32) -> Option<u32> {
        self.merge_width.get(&(r, c)).copied()
    }

    /// Row `r` has no visible value (merged values included).
    pub(crate) fn row_is_empty(&self, r: u32, width: u32) -> bool {
        (0..width).all(|c| self.get(r, c).is_empty())
    }

    /// Widest row.
    pub(crate) fn width(&self) -> u32 {
        self.rows.iter().map(Vec::len).max().unwrap_or(0) as u32
    }

    fn put(
        &mut self,
        r: u32,
        c: u32,
        v: CellValue,
        limits: &ImportLimits,
    ) -> Result<(), ImportError> {
        if c >= limits.max_columns {
            return Err(ImportError::TooManyColumns {
                sheet: self.name.clone(),
                count: c + 1,
                limit: limits.max_columns,
            });
        }
        let (r, c) = (r as usize, c as usize);
        if self.rows.len() <= r {
            self.rows.resize_with(r + 1, Vec::new);
        }
        let row = &mut self.rows[r];
        if row.len() <= c {
            row.resize_with(c + 1, CellValue::default);
        }
        row[c] = v;
        Ok(())
    }

    /// Registers merged regions, clipped to the cells actually read.
    fn add_merges(
        &mut self,
        merges: &[calamine::Dimensions],
        limits: &ImportLimits,
    ) -> Result<(), ImportError> {
        let (height, width) = (self.height(), self.width().max(1));
        let mut budget = limits.max_merged_cells;
        for m in merges {
            let (r0, c0) = m.start;
            if r0 >= height || c0 >= width {
                continue;
            }
            let (r1, c1) = (m.end.0.min(height - 1), m.end.1.min(width - 1));
            self.merge_width.insert((r0, c0), c1);
            for r in r0..=r1 {
                for c in c0..=c1 {
                    if (r, c) != (r0, c0) {
                        budget = budget.checked_sub(1).ok_or_else(|| {
                            ImportError::Corrupt(format!("工作表「{}」合并单元格过多", self.name))
                        })?;
                        self.covered.insert((r, c), (r0, c0));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Tracks the run of empty rows so a sheet with 10⁶ blank rows stops early.
struct RowGuard {
    last_nonempty: Option<u32>,
}

impl RowGuard {
    /// `false` once `row` lies too far past the last non-empty row: stop reading.
    fn keep_going(&self, row: u32, limits: &ImportLimits) -> bool {
        let last = self.last_nonempty.map_or(0, |r| r + 1);
        row < last.saturating_add(limits.max_consecutive_empty_rows)
    }
}

fn check_rows(name: &str, row: u32, limits: &ImportLimits) -> Result<(), ImportError> {
    if row >= limits.max_rows {
        return Err(ImportError::TooManyRows {
            sheet: name.to_owned(),
            limit: limits.max_rows,
        });
    }
    Ok(())
}

/// Sheet names to read: the wanted one, else every visible worksheet.
fn select<'a>(
    meta: &'a [calamine::Sheet],
    wanted: Option<&str>,
) -> Result<Vec<&'a str>, ImportError> {
    if let Some(w) = wanted {
        return match meta
            .iter()
            .find(|s| s.name == w || s.name.trim() == w.trim())
        {
            Some(s) => Ok(vec![s.name.as_str()]),
            None => Err(ImportError::SheetNotFound {
                wanted: w.to_owned(),
                available: meta
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
            }),
        };
    }
    Ok(meta
        .iter()
        .filter(|s| s.visible == SheetVisible::Visible && s.typ == calamine::SheetType::WorkSheet)
        .map(|s| s.name.as_str())
        .collect())
}

fn from_ref(v: &DataRef<'_>) -> CellValue {
    match v {
        DataRef::Empty | DataRef::Error(_) => CellValue::Empty,
        DataRef::Int(i) => CellValue::Number(*i as f64),
        DataRef::Float(f) => CellValue::Number(*f),
        DataRef::String(s) => CellValue::Text(s.clone()),
        DataRef::SharedString(s) => CellValue::Text((*s).to_owned()),
        DataRef::Bool(b) => CellValue::Text(if *b { "是" } else { "否" }.into()),
        DataRef::DateTime(d) if d.is_datetime() => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            ymd(i32::from(y), m, day).map_or(CellValue::Number(d.as_f64()), CellValue::Date)
        }
        DataRef::DateTime(d) => CellValue::Number(d.as_f64()),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => iso(s),
    }
}

fn from_data(v: &Data) -> CellValue {
    match v {
        Data::Empty | Data::Error(_) => CellValue::Empty,
        Data::Int(i) => CellValue::Number(*i as f64),
        Data::Float(f) => CellValue::Number(*f),
        Data::String(s) => CellValue::Text(s.clone()),
        Data::Bool(b) => CellValue::Text(if *b { "是" } else { "否" }.into()),
        Data::DateTime(d) if d.is_datetime() => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            ymd(i32::from(y), m, day).map_or(CellValue::Number(d.as_f64()), CellValue::Date)
        }
        Data::DateTime(d) => CellValue::Number(d.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => iso(s),
    }
}

fn ymd(y: i32, m: u8, d: u8) -> Option<Date> {
    Date::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
    )
    .ok()
}

fn iso(s: &str) -> CellValue {
    s.get(..10)
        .and_then(|p| p.parse::<Date>().ok())
        .map_or_else(|| CellValue::Text(s.to_owned()), CellValue::Date)
}

/// Reads the chosen sheets of an `.xlsx` (already checked by `sniff::check_zip`).
pub(crate) fn read_xlsx(
    bytes: &[u8],
    wanted: Option<&str>,
    limits: &ImportLimits,
) -> Result<Vec<Grid>, ImportError> {
    let corrupt = |e: calamine::XlsxError| ImportError::Corrupt(e.to_string());
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(corrupt)?;
    let names: Vec<String> = select(book.sheets_metadata(), wanted)?
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut grids = Vec::new();
    for name in names {
        let mut grid = Grid {
            name: name.clone(),
            ..Grid::default()
        };
        {
            let mut cells = book.worksheet_cells_reader(&name).map_err(corrupt)?;
            let mut guard = RowGuard {
                last_nonempty: None,
            };
            while let Some(cell) = cells.next_cell().map_err(corrupt)? {
                let (r, c) = cell.get_position();
                if !guard.keep_going(r, limits) {
                    break;
                }
                let v = from_ref(cell.get_value());
                if v.is_empty() {
                    continue;
                }
                check_rows(&name, r, limits)?;
                guard.last_nonempty = Some(r);
                grid.put(r, c, v, limits)?;
            }
        }
        let merges = book.merge_cells_by_sheet_name(&name).map_err(corrupt)?;
        grid.add_merges(&merges, limits)?;
        grids.push(grid);
    }
    Ok(grids)
}

/// Reads the chosen sheets of a legacy `.xls`.
pub(crate) fn read_xls(
    bytes: &[u8],
    wanted: Option<&str>,
    limits: &ImportLimits,
) -> Result<Vec<Grid>, ImportError> {
    let mut book: Xls<_> = Xls::new(Cursor::new(bytes)).map_err(|e| match e {
        calamine::XlsError::Password => ImportError::Encrypted,
        e => ImportError::Corrupt(e.to_string()),
    })?;
    let names: Vec<String> = select(book.sheets_metadata(), wanted)?
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut grids = Vec::new();
    for name in names {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| ImportError::Corrupt(e.to_string()))?;
        let mut grid = Grid {
            name: name.clone(),
            ..Grid::default()
        };
        let mut guard = RowGuard {
            last_nonempty: None,
        };
        for (r, c, v) in range.used_cells() {
            let (r, c) = (r as u32, c as u32);
            let (r, c) = match range.start() {
                Some((r0, c0)) => (r + r0, c + c0),
                None => (r, c),
            };
            if !guard.keep_going(r, limits) {
                break;
            }
            let v = from_data(v);
            if v.is_empty() {
                continue;
            }
            check_rows(&name, r, limits)?;
            guard.last_nonempty = Some(r);
            grid.put(r, c, v, limits)?;
        }
        let merges = book.merge_cells_by_sheet_name(&name).unwrap_or_default();
        grid.add_merges(&merges, limits)?;
        grids.push(grid);
    }
    Ok(grids)
}

/// Decodes CSV bytes: UTF-8 (BOM optional), else GBK; UTF-16 and undecodable bytes are refused.
pub(crate) fn decode_csv(bytes: &[u8]) -> Result<String, ImportError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ImportError::Encoding);
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(body) {
        return Ok(s.to_owned());
    }
    let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(body);
    if had_errors {
        return Err(ImportError::Encoding);
    }
    Ok(text.into_owned())
}

/// Reads CSV text as one sheet named after the file.
pub(crate) fn read_csv(
    text: &str,
    name: &str,
    limits: &ImportLimits,
) -> Result<Vec<Grid>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Grid {
        name: name.to_owned(),
        ..Grid::default()
    };
    let mut guard = RowGuard {
        last_nonempty: None,
    };
    for (r, record) in reader.records().enumerate() {
        let r = r as u32;
        if !guard.keep_going(r, limits) {
            break;
        }
        let record = record
            .map_err(|e| ImportError::Corrupt(format!("CSV 第 {} 行格式错误（{e}）", r + 1)))?;
        for (c, field) in record.iter().enumerate() {
            if field.trim().is_empty() {
                continue;
            }
            check_rows(name, r, limits)?;
            guard.last_nonempty = Some(r);
            grid.put(r, c as u32, CellValue::Text(field.to_owned()), limits)?;
        }
    }
    Ok(vec![grid])
}
