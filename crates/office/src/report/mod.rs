//! Reports of the 11710 cadences — 一周一小结 (weekly summary), 一月一盘点 (monthly
//! stock-take), 通报 (bulletin) and 一年一归零 (annual zero-out reconciliation) — from plain
//! input structs. Each report becomes a [`Document`] (numbered sections, paragraphs, tables,
//! charts), rendered as a 公文-like `.docx` ([`docx`]) or as `.xlsx` tables ([`xlsx`]).

pub mod chart;
pub mod docx;
mod kinds;
pub mod xlsx;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub use kinds::{
    AnnualReconciliation, Bulletin, MatterLine, MonthlyReport, ReconLine, StatusCount, Totals,
    UnitLine, WeeklyReport,
};

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("生成 Word 文档失败：{0}")]
    Docx(String),
    #[error("生成 Excel 失败：{0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("写出文件失败：{0}")]
    Io(#[from] std::io::Error),
}

/// Title block and signature of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportHeader {
    /// 标题, e.g. `关于2026年10月督办事项办理情况的盘点报告`.
    pub title: String,
    /// 文号 / 期号 line under the title (e.g. `督查通报第十七期`), if any.
    pub doc_number: Option<String>,
    /// 落款 (issuing body).
    pub issuer: String,
    /// 成文日期.
    pub date: Date,
}

/// A table: header row and body rows of text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A bar chart (rendered to PNG by [`chart::bar_chart_png`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BarChart {
    pub caption: String,
    /// `(label, value)`; values are percentages when `percent`.
    pub bars: Vec<(String, f64)>,
    pub percent: bool,
}

/// One block of a section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Block {
    /// A body paragraph (first-line indent of two characters).
    Para(String),
    /// A second-level heading, numbered （一）（二）….
    Sub(String),
    /// A third-level item, numbered 1. 2. ….
    Point(String),
    Table(Table),
    Chart(BarChart),
}

/// A first-level section, numbered 一、二、….
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub heading: String,
    pub blocks: Vec<Block>,
}

/// A report ready to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub header: ReportHeader,
    /// Paragraphs before the first section.
    pub lead: Vec<String>,
    pub sections: Vec<Section>,
}

/// Chinese numerals for headings: 1 → 一, 12 → 十二, 21 → 二十一.
pub fn chinese_number(n: usize) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => D[n].to_owned(),
        10..=19 => format!("十{}", if n == 10 { "" } else { D[n - 10] }),
        20..=99 => format!(
            "{}十{}",
            D[n / 10],
            if n.is_multiple_of(10) { "" } else { D[n % 10] }
        ),
        _ => n.to_string(),
    }
}

/// `2026年11月29日`, as dates are written in 公文.
pub fn date_zh(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// Percentage with one decimal, `0.0%` for an empty base.
pub fn percent(part: u32, whole: u32) -> String {
    if whole == 0 {
        "0.0%".into()
    } else {
        format!("{:.1}%", f64::from(part) * 100.0 / f64::from(whole))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_numbers_are_written_in_chinese() {
        let got: Vec<String> = [1, 9, 10, 11, 20, 21, 99]
            .iter()
            .map(|n| chinese_number(*n))
            .collect();
        assert_eq!(got, ["一", "九", "十", "十一", "二十", "二十一", "九十九"]);
    }

    #[test]
    fn percentages_have_one_decimal_and_survive_an_empty_base() {
        assert_eq!(percent(6, 22), "27.3%");
        assert_eq!(percent(0, 0), "0.0%");
    }
}
