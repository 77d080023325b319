//! A [`Document`] as `.xlsx` tables: one sheet, the title merged on top, then each section's
//! heading, paragraphs and tables in order, with charts inserted as pictures.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Image, Workbook};

use super::chart::bar_chart_png;
use super::{Block, Document, ReportError, chinese_number, date_zh};
use crate::text::is_formula_like;

/// Renders `doc` as `.xlsx` bytes.
pub fn render_xlsx(doc: &Document) -> Result<Vec<u8>, ReportError> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("报告")?;
    let title = Format::new()
        .set_font_name("方正小标宋简体")
        .set_font_size(18)
        .set_bold()
        .set_align(FormatAlign::Center);
    let heading = Format::new().set_font_name("黑体").set_font_size(12);
    let text = Format::new().set_font_name("仿宋_GB2312").set_text_wrap();
    let cell = Format::new()
        .set_font_name("宋体")
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let head = cell.clone().set_bold().set_align(FormatAlign::Center);
    let quoted = cell.clone().set_quote_prefix();
    let width = doc
        .sections
        .iter()
        .flat_map(|s| &s.blocks)
        .filter_map(|b| {
            if let Block::Table(t) = b {
                Some(t.headers.len())
            } else {
                None
            }
        })
        .max()
        .unwrap_or(1)
        .max(1) as u16;
    for c in 0..width {
        ws.set_column_width(c, 16)?;
    }
    ws.merge_range(0, 0, 0, width - 1, &doc.header.title, &title)?;
    let mut r: u32 = 1;
    if let Some(n) = &doc.header.doc_number {
        ws.write_string(r, 0, n)?;
        r += 1;
    }
    for p in &doc.lead {
        ws.write_string_with_format(r, 0, p, &text)?;
        r += 1;
    }
    for (i, s) in doc.sections.iter().enumerate() {
        r += 1;
        ws.write_string_with_format(
            r,
            0,
            format!("{}、{}", chinese_number(i + 1), s.heading),
            &heading,
        )?;
        r += 1;
        for b in &s.blocks {
            match b {
                Block::Para(t) | Block::Sub(t) | Block::Point(t) => {
                    ws.write_string_with_format(r, 0, t, &text)?;
                    r += 1;
                }
                Block::Table(t) => {
                    ws.write_string_with_format(r, 0, &t.caption, &heading)?;
                    r += 1;
                    for (c, h) in t.headers.iter().enumerate() {
                        ws.write_string_with_format(r, c as u16, h, &head)?;
                    }
                    r += 1;
                    for row in &t.rows {
                        for (c, v) in row.iter().enumerate() {
                            let f = if is_formula_like(v) { &quoted } else { &cell };
                            match v.parse::<f64>() {
                                Ok(n) if !v.starts_with(['+', '-']) => {
                                    ws.write_number_with_format(r, c as u16, n, f)?
                                }
                                _ => ws.write_string_with_format(r, c as u16, v, f)?,
                            };
                        }
                        r += 1;
                    }
                }
                Block::Chart(chart) => {
                    if let Some(png) = bar_chart_png(chart) {
                        let img = Image::new_from_buffer(&png)?
                            .set_scale_width(0.6)
                            .set_scale_height(0.6);
                        ws.insert_image(r, 0, &img)?;
                        r += 16;
                    }
                }
            }
        }
    }
    r += 1;
    ws.write_string(r, width - 1, &doc.header.issuer)?;
    ws.write_string(r + 1, width - 1, date_zh(doc.header.date))?;
    Ok(book.save_to_buffer()?)
}
