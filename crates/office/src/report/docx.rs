//! A [`Document`] as a 公文-like `.docx` (GB/T 9704 in spirit): A4 with 公文 margins, title in
//! 方正小标宋简体 二号 centered, body in 仿宋_GB2312 三号 with a two-character first-line
//! indent, headings 一、（黑体） （一）（楷体_GB2312） 1.（仿宋 bold), tables in 仿宋 小四,
//! charts as PNG pictures, and the issuer and date at the end, right-aligned.
//!
//! Font fallback: docx-rs cannot write `w:altName`, so the written font table is patched to
//! declare 宋体 as the alternative of 方正小标宋简体 and 仿宋 of 仿宋_GB2312 (and 楷体 of
//! 楷体_GB2312): Word and WPS then substitute on machines without the 方正/GB2312 fonts.

use std::io::{Cursor, Read, Write};

use docx_rs::{
    AlignmentType, Docx, PageMargin, Paragraph, Pic, Run, RunFonts, SpecialIndentType, Table,
    TableCell, TableRow, WidthType,
};

use super::chart::{CHART_SIZE, bar_chart_png};
use super::{Block, Document, ReportError, chinese_number, date_zh};

const TITLE_FONT: &str = "方正小标宋简体";
const BODY_FONT: &str = "仿宋_GB2312";
const H1_FONT: &str = "黑体";
const H2_FONT: &str = "楷体_GB2312";

/// 二号 = 22 pt, 三号 = 16 pt, 小四 = 12 pt (docx sizes are half-points).
const SIZE_TITLE: usize = 44;
const SIZE_BODY: usize = 32;
const SIZE_TABLE: usize = 24;

fn run(text: &str, font: &str, size: usize) -> Run {
    Run::new()
        .add_text(text)
        .fonts(RunFonts::new().east_asia(font).ascii(font).hi_ansi(font))
        .size(size)
}

fn body(text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, BODY_FONT, SIZE_BODY))
        .indent(None, Some(SpecialIndentType::FirstLine(640)), None, None)
}

fn centered(text: &str, font: &str, size: usize) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, font, size))
        .align(AlignmentType::Center)
}

fn table(t: &super::Table) -> Table {
    let cell = |text: &str, bold: bool| {
        let r = run(text, BODY_FONT, SIZE_TABLE);
        let r = if bold { r.bold() } else { r };
        TableCell::new().add_paragraph(Paragraph::new().add_run(r).align(AlignmentType::Center))
    };
    let mut rows = vec![TableRow::new(
        t.headers.iter().map(|h| cell(h, true)).collect(),
    )];
    rows.extend(
        t.rows
            .iter()
            .map(|r| TableRow::new(r.iter().map(|v| cell(v, false)).collect())),
    );
    Table::new(rows).width(8788, WidthType::Dxa)
}

/// Renders `doc` as `.docx` bytes.
pub fn render_docx(doc: &Document) -> Result<Vec<u8>, ReportError> {
    let mut d = Docx::new()
        .page_size(11906, 16838)
        .page_margin(
            PageMargin::new()
                .top(2098)
                .bottom(1984)
                .left(1588)
                .right(1474),
        )
        .default_fonts(RunFonts::new().east_asia(BODY_FONT))
        .default_size(SIZE_BODY);
    d = d.add_paragraph(centered(&doc.header.title, TITLE_FONT, SIZE_TITLE));
    if let Some(n) = &doc.header.doc_number {
        d = d.add_paragraph(centered(n, BODY_FONT, SIZE_BODY));
    }
    for p in &doc.lead {
        d = d.add_paragraph(body(p));
    }
    for (i, s) in doc.sections.iter().enumerate() {
        let heading = format!("{}、{}", chinese_number(i + 1), s.heading);
        d = d.add_paragraph(
            Paragraph::new()
                .add_run(run(&heading, H1_FONT, SIZE_BODY))
                .indent(None, Some(SpecialIndentType::FirstLine(640)), None, None),
        );
        let (mut sub, mut point) = (0, 0);
        for b in &s.blocks {
            d = match b {
                Block::Para(t) => d.add_paragraph(body(t)),
                Block::Sub(t) => {
                    sub += 1;
                    point = 0;
                    let text = format!("（{}）{t}", chinese_number(sub));
                    d.add_paragraph(
                        Paragraph::new()
                            .add_run(run(&text, H2_FONT, SIZE_BODY))
                            .indent(None, Some(SpecialIndentType::FirstLine(640)), None, None),
                    )
                }
                Block::Point(t) => {
                    point += 1;
                    d.add_paragraph(body(&format!("{point}.{t}")))
                }
                Block::Table(t) => d
                    .add_paragraph(centered(&t.caption, H1_FONT, SIZE_TABLE))
                    .add_table(table(t)),
                Block::Chart(c) => match bar_chart_png(c) {
                    Some(png) => {
                        let (w, h) = CHART_SIZE;
                        // 15 cm wide, aspect kept (914400 EMU per inch, 360000 per cm).
                        let pic =
                            Pic::new_with_dimensions(png, w, h).size(5_400_000, 5_400_000 * h / w);
                        d.add_paragraph(
                            Paragraph::new()
                                .add_run(Run::new().add_image(pic))
                                .align(AlignmentType::Center),
                        )
                        .add_paragraph(centered(&c.caption, BODY_FONT, SIZE_TABLE))
                    }
                    None => d,
                },
            };
        }
    }
    let right = |t: &str| {
        Paragraph::new()
            .add_run(run(t, BODY_FONT, SIZE_BODY))
            .align(AlignmentType::Right)
    };
    d = d
        .add_paragraph(Paragraph::new())
        .add_paragraph(right(&doc.header.issuer))
        .add_paragraph(right(&date_zh(doc.header.date)));
    let mut buf = Cursor::new(Vec::new());
    d.build()
        .pack(&mut buf)
        .map_err(|e| ReportError::Docx(e.to_string()))?;
    patch_font_table(&buf.into_inner())
}

/// Font entries with their alternatives, added to `word/fontTable.xml`.
const FONT_ALTERNATIVES: [(&str, &str); 4] = [
    (TITLE_FONT, "宋体"),
    (BODY_FONT, "仿宋"),
    (H2_FONT, "楷体"),
    (H1_FONT, "SimHei"),
];

/// Copies the package, declaring the 公文 fonts and their fallbacks in the font table.
fn patch_font_table(docx: &[u8]) -> Result<Vec<u8>, ReportError> {
    let err = |e: zip::result::ZipError| ReportError::Docx(e.to_string());
    let mut src = zip::ZipArchive::new(Cursor::new(docx)).map_err(err)?;
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..src.len() {
        let mut f = src.by_index(i).map_err(err)?;
        let name = f.name().map_err(err)?.into_owned();
        let mut data = Vec::new();
        f.read_to_end(&mut data)?;
        if name == "word/fontTable.xml" {
            let xml = String::from_utf8_lossy(&data);
            let extra: String = FONT_ALTERNATIVES
                .iter()
                .map(|(name, alt)| format!(r#"<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/><w:family w:val="auto"/><w:pitch w:val="variable"/></w:font>"#))
                .collect();
            data = xml
                .replacen("</w:fonts>", &format!("{extra}</w:fonts>"), 1)
                .into_bytes();
        }
        out.start_file(name, opts).map_err(err)?;
        out.write_all(&data)?;
    }
    Ok(out.finish().map_err(err)?.into_inner())
}
