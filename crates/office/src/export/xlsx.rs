//! The 督办事项台账 workbook: merged title row, subtitle (填报单位, 导出时间), two-level header,
//! frozen panes, widths, wrapped text, the light as a fill, auto-filter, and A4 landscape print
//! setup with the header rows repeated, page numbers and fit to width. Sheets use the
//! constant-memory mode, so rows are streamed to a temporary file in order and memory stays
//! flat for 100,000 rows.

use std::collections::BTreeMap;
use std::io::{Seek, Write};

use rust_xlsxwriter::{
    Color, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};
use taizhang_domain::light::Light;

use super::{
    COL_DEADLINE, COL_LIGHT, COL_REMAINING, ExportError, GROUPS, LedgerMeta, LedgerRow,
    LedgerSheet, headers, text_cells,
};
use crate::text::is_formula_like;

/// Writes one sheet per year (`2026年`), titled `{year}年度{meta.title}`.
pub fn write_ledger_xlsx<W: Write + Seek + Send>(
    rows: &[LedgerRow],
    meta: &LedgerMeta,
    out: W,
) -> Result<(), ExportError> {
    let mut by_year: BTreeMap<i16, Vec<LedgerRow>> = BTreeMap::new();
    for r in rows {
        by_year.entry(r.year).or_default().push(r.clone());
    }
    let sheets: Vec<LedgerSheet> = by_year
        .into_iter()
        .map(|(year, rows)| LedgerSheet {
            name: format!("{year}年"),
            title: format!("{year}年度{}", meta.title),
            rows,
        })
        .collect();
    write_ledger_sheets_xlsx(&sheets, meta, out)
}

/// Writes the given sheets (one per year or per filter). An empty list writes one empty sheet.
pub fn write_ledger_sheets_xlsx<W: Write + Seek + Send>(
    sheets: &[LedgerSheet],
    meta: &LedgerMeta,
    out: W,
) -> Result<(), ExportError> {
    let mut book = Workbook::new();
    let styles = Styles::new();
    let empty = [LedgerSheet {
        name: "台账".into(),
        title: meta.title.clone(),
        rows: Vec::new(),
    }];
    let sheets = if sheets.is_empty() {
        &empty[..]
    } else {
        sheets
    };
    for s in sheets {
        let ws = book.add_worksheet_with_constant_memory()?;
        ws.set_name(sheet_name(&s.name))?;
        write_sheet(ws, s, meta, &styles)?;
    }
    book.save_to_writer(out)?;
    Ok(())
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

fn write_sheet(
    ws: &mut Worksheet,
    sheet: &LedgerSheet,
    meta: &LedgerMeta,
    s: &Styles,
) -> Result<(), ExportError> {
    let cols = headers();
    let last_col = (cols.len() - 1) as u16;
    for (i, (_, width)) in GROUPS.iter().flat_map(|(_, c)| c.iter()).enumerate() {
        ws.set_column_width(i as u16, *width)?;
    }
    ws.set_row_height(0, 36)?;
    ws.merge_range(0, 0, 0, last_col, &sheet.title, &s.title)?;
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
    let mut r = FIRST_DATA;
    for row in &sheet.rows {
        write_row(ws, r, row, s)?;
        r += 1;
    }
    let last_row = r.max(FIRST_DATA + 1) - 1;
    ws.set_freeze_panes(FIRST_DATA, 3)?;
    ws.autofilter(HEADER_TOP + 1, 0, last_row, last_col)?;
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
