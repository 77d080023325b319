//! The 督办事项台账 workbook: merged title row, subtitle (填报单位, 导出时间), two-level header,
//! frozen panes, widths, wrapped text, the light as a fill, auto-filter, and A4 landscape print
//! setup with the header rows repeated, page numbers and fit to width.
//!
//! [`LedgerXlsxWriter`] streams: every sheet is a constant-memory sheet, each pushed row goes
//! straight to that sheet's temporary file, and nothing of a row is kept once it is written, so
//! memory stays flat whatever the number of rows. Sheets are created on their first row (one per
//! year) and put in year order when the workbook is finished.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use rust_xlsxwriter::{
    Color, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};
use taizhang_domain::light::Light;

use super::{
    COL_DEADLINE, COL_LIGHT, COL_REMAINING, ExportError, GROUPS, LedgerMeta, LedgerRow,
    LedgerSheet, headers, text_cells,
};
use crate::text::is_formula_like;

/// Writes one sheet per year (`2026年`), titled `{year}年度{meta.title}`, sheets in year order.
pub fn write_ledger_xlsx<W: Write + Send>(
    rows: &[LedgerRow],
    meta: &LedgerMeta,
    out: W,
) -> Result<(), ExportError> {
    let mut w = LedgerXlsxWriter::new(meta);
    for r in rows {
        w.push(r)?;
    }
    w.finish(out)
}

/// Writes the given sheets (one per year or per filter). An empty list writes one empty sheet.
pub fn write_ledger_sheets_xlsx<W: Write + Send>(
    sheets: &[LedgerSheet],
    meta: &LedgerMeta,
    out: W,
) -> Result<(), ExportError> {
    let mut w = LedgerXlsxWriter::new(meta);
    for s in sheets {
        let id = w.add_sheet(&s.name, &s.title)?;
        for r in &s.rows {
            w.push_to(id, r)?;
        }
    }
    w.finish(out)
}

/// A sheet of a [`LedgerXlsxWriter`], from [`LedgerXlsxWriter::add_sheet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetId(usize);

/// What the writer remembers of a sheet: its year (year sheets are ordered by it) and the next
/// row to write. Rows themselves are never kept.
struct SheetState {
    year: Option<i16>,
    next_row: u32,
}

/// The ledger workbook written row by row in constant memory.
///
/// ```no_run
/// # use taizhang_office::export::{LedgerXlsxWriter, LedgerMeta, LedgerRow};
/// # fn rows() -> Vec<LedgerRow> { Vec::new() }
/// # let meta = LedgerMeta { title: "督办事项台账".into(), reporting_unit: String::new(), exported_at: String::new() };
/// let mut w = LedgerXlsxWriter::new(&meta);
/// for r in rows() {
///     w.push(&r)?; // to the sheet of r.year, created on its first row
/// }
/// w.finish(std::fs::File::create("台账.xlsx")?)?;
/// # Ok::<(), taizhang_office::ExportError>(())
/// ```
pub struct LedgerXlsxWriter {
    book: Workbook,
    styles: Styles,
    meta: LedgerMeta,
    sheets: Vec<SheetState>,
    by_year: HashMap<i16, usize>,
    rows: u64,
}

impl LedgerXlsxWriter {
    /// A workbook with no sheet yet; sheet data goes to temporary files in the system's
    /// temporary directory.
    pub fn new(meta: &LedgerMeta) -> Self {
        Self {
            book: Workbook::new(),
            styles: Styles::new(),
            meta: meta.clone(),
            sheets: Vec::new(),
            by_year: HashMap::new(),
            rows: 0,
        }
    }

    /// Keep the sheets' temporary files in `dir` instead of the system's temporary directory.
    pub fn set_tempdir(&mut self, dir: &Path) -> Result<(), ExportError> {
        self.book.set_tempdir(dir)?;
        Ok(())
    }

    /// Appends `row` to the sheet of its year (`2026年`, titled `{year}年度{meta.title}`),
    /// creating that sheet on the year's first row.
    pub fn push(&mut self, row: &LedgerRow) -> Result<(), ExportError> {
        let id = match self.by_year.get(&row.year) {
            Some(i) => SheetId(*i),
            None => {
                let name = format!("{}年", row.year);
                let title = format!("{}年度{}", row.year, self.meta.title);
                let id = self.new_sheet(&name, &title, Some(row.year))?;
                self.by_year.insert(row.year, id.0);
                id
            }
        };
        self.push_to(id, row)
    }

    /// A named sheet with its own title row (sheets by filter rather than by year). Named
    /// sheets come after the year sheets, in the order they were added.
    pub fn add_sheet(&mut self, name: &str, title: &str) -> Result<SheetId, ExportError> {
        self.new_sheet(name, title, None)
    }

    /// Appends `row` to `sheet`.
    pub fn push_to(&mut self, sheet: SheetId, row: &LedgerRow) -> Result<(), ExportError> {
        let state = &mut self.sheets[sheet.0];
        let r = state.next_row;
        state.next_row += 1;
        let ws = self.book.worksheet_from_index(sheet.0)?;
        write_row(ws, r, row, &self.styles)?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far, over all sheets.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Sets each sheet's auto-filter over its rows, orders the sheets (years ascending, then
    /// named sheets) and writes the workbook to `out`. A workbook without any row gets one
    /// empty sheet titled `meta.title`.
    pub fn finish<W: Write + Send>(mut self, out: W) -> Result<(), ExportError> {
        if self.sheets.is_empty() {
            let title = self.meta.title.clone();
            self.new_sheet("台账", &title, None)?;
        }
        let last_col = (headers().len() - 1) as u16;
        for (i, state) in self.sheets.iter().enumerate() {
            let last_row = state.next_row.max(FIRST_DATA + 1) - 1;
            let ws = self.book.worksheet_from_index(i)?;
            ws.autofilter(HEADER_TOP + 1, 0, last_row, last_col)?;
        }
        // Sheets were created in the order their first row came; put the years in order.
        let mut keyed: Vec<((u8, i16), Worksheet)> = std::mem::take(self.book.worksheets_mut())
            .into_iter()
            .zip(&self.sheets)
            .map(|(ws, st)| (st.year.map_or((1, 0), |y| (0, y)), ws))
            .collect();
        keyed.sort_by_key(|(k, _)| *k);
        *self.book.worksheets_mut() = keyed.into_iter().map(|(_, ws)| ws).collect();
        self.book.save_to_writer(out)?;
        Ok(())
    }

    fn new_sheet(
        &mut self,
        name: &str,
        title: &str,
        year: Option<i16>,
    ) -> Result<SheetId, ExportError> {
        let ws = self.book.add_worksheet_with_constant_memory()?;
        ws.set_name(sheet_name(name))?;
        write_head(ws, title, &self.meta, &self.styles)?;
        self.sheets.push(SheetState {
            year,
            next_row: FIRST_DATA,
        });
        Ok(SheetId(self.sheets.len() - 1))
    }
}

/// Excel sheet names: ≤ 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if cleaned.trim().is_empty() {
        "台账".into()
    } else {
        cleaned
    }
}

struct Styles {
    title: Format,
    subtitle: Format,
    header: Format,
    body: Format,
    body_quoted: Format,
    center: Format,
    date: Format,
    lights: [(Light, Format); 4],
}

impl Styles {
    fn new() -> Self {
        let font = |f: Format| f.set_font_name("宋体");
        let boxed = |f: Format| {
            font(f)
                .set_border(FormatBorder::Thin)
                .set_align(FormatAlign::VerticalCenter)
        };
        let body = boxed(Format::new())
            .set_text_wrap()
            .set_align(FormatAlign::Top);
        let center = boxed(Format::new())
            .set_align(FormatAlign::Center)
            .set_text_wrap();
        let light = |rgb: u32| center.clone().set_background_color(Color::RGB(rgb));
        Self {
            title: Format::new()
                .set_font_name("方正小标宋简体")
                .set_font_size(20)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            subtitle: font(Format::new())
                .set_font_size(11)
                .set_align(FormatAlign::Left),
            header: boxed(Format::new())
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_text_wrap()
                .set_background_color(Color::RGB(0xD9E1F2)),
            body_quoted: body.clone().set_quote_prefix(),
            body,
            date: center.clone().set_num_format("yyyy-mm-dd"),
            lights: [
                (Light::Red, light(0xF8696B)),
                (Light::Yellow, light(0xFFEB84)),
                (Light::Green, light(0x63BE7B)),
                (Light::Grey, light(0xD9D9D9)),
            ],
            center,
        }
    }
}

/// Writes a text cell; formula-like text gets the quote-prefix style (Excel shows it as text
/// and keeps it text when edited). Values are always written as strings, never as formulas.
fn text(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    v: &str,
    s: &Styles,
    base: &Format,
) -> Result<(), ExportError> {
    let fmt = if is_formula_like(v) {
        &s.body_quoted
    } else {
        base
    };
    ws.write_string_with_format(r, c, v, fmt)?;
    Ok(())
}

const HEADER_TOP: u32 = 2;
const FIRST_DATA: u32 = 4;

/// Everything of a sheet but its rows and auto-filter: widths, title, subtitle, the two-level
/// header, frozen panes and the print setup.
fn write_head(
    ws: &mut Worksheet,
    title: &str,
    meta: &LedgerMeta,
    s: &Styles,
) -> Result<(), ExportError> {
    let cols = headers();
    let last_col = (cols.len() - 1) as u16;
    for (i, (_, width)) in GROUPS.iter().flat_map(|(_, c)| c.iter()).enumerate() {
        ws.set_column_width(i as u16, *width)?;
    }
    ws.set_row_height(0, 36)?;
    ws.merge_range(0, 0, 0, last_col, title, &s.title)?;
    let subtitle = format!(
        "填报单位：{}\u{3000}\u{3000}导出时间：{}",
        meta.reporting_unit, meta.exported_at
    );
    ws.merge_range(1, 0, 1, last_col, &subtitle, &s.subtitle)?;
    // Two-level header: parents merged across their children; a parent with a single child of
    // the same name is merged down over both header rows.
    let mut c: u16 = 0;
    let mut vertical: Vec<(u16, &str)> = Vec::new();
    for (parent, children) in GROUPS {
        let n = children.len() as u16;
        if n == 1 && children[0].0 == *parent {
            vertical.push((c, parent));
            ws.merge_range(HEADER_TOP, c, HEADER_TOP + 1, c, parent, &s.header)?;
        } else {
            ws.merge_range(HEADER_TOP, c, HEADER_TOP, c + n - 1, parent, &s.header)?;
        }
        c += n;
    }
    let mut c: u16 = 0;
    for (_, children) in GROUPS {
        for (h, _) in children.iter() {
            if !vertical.iter().any(|(vc, _)| *vc == c) {
                text(ws, HEADER_TOP + 1, c, h, s, &s.header)?;
            }
            c += 1;
        }
    }
    ws.set_freeze_panes(FIRST_DATA, 3)?;
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_repeat_rows(HEADER_TOP, HEADER_TOP + 1)?;
    ws.set_print_fit_to_pages(1, 0);
    ws.set_footer("&C第 &P 页，共 &N 页");
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    Ok(())
}

fn write_row(ws: &mut Worksheet, r: u32, row: &LedgerRow, s: &Styles) -> Result<(), ExportError> {
    for (i, v) in text_cells(row).iter().enumerate() {
        let c = i as u16;
        match i {
            0 => {
                ws.write_number_with_format(r, c, f64::from(row.seq), &s.center)?;
            }
            COL_DEADLINE if row.deadline.is_some() => {
                if let Some(d) = row.deadline {
                    let (y, m, day) = (d.year() as u16, d.month() as u8, d.day() as u8);
                    let dt = ExcelDateTime::from_ymd(y, m, day)?;
                    ws.write_date_with_format(r, c, &dt, &s.date)?;
                }
            }
            COL_REMAINING => match row.remaining_workdays {
                Some(n) => {
                    ws.write_number_with_format(r, c, n as f64, &s.center)?;
                }
                None => {
                    ws.write_blank(r, c, &s.center)?;
                }
            },
            COL_LIGHT => {
                let fmt = row
                    .light
                    .and_then(|l| s.lights.iter().find(|(k, _)| *k == l))
                    .map_or(&s.center, |(_, f)| f);
                text(ws, r, c, v, s, fmt)?;
            }
            _ => text(ws, r, c, v, s, &s.body)?,
        }
    }
    Ok(())
}
