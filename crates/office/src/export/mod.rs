//! Ledger export: the standard 督办事项台账 as `.xlsx` (one sheet per year) and `.csv` with a
//! UTF-8 BOM. Both stream: [`LedgerXlsxWriter`] and [`LedgerCsvWriter`] take one row at a time
//! and keep none, so a ledger of any size exports in constant memory; [`write_ledger_xlsx`],
//! [`write_ledger_sheets_xlsx`] and [`write_ledger_csv`] write a slice of rows through them.
//! Every text cell that a spreadsheet could read as a formula is neutralized, headers included.

mod csv_out;
mod xlsx;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use taizhang_domain::feedback::FeedbackCycle;
use taizhang_domain::light::Light;

pub use csv_out::{LedgerCsvWriter, write_ledger_csv};
pub use xlsx::{LedgerXlsxWriter, SheetId, write_ledger_sheets_xlsx, write_ledger_xlsx};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("生成 Excel 失败：{0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("写出文件失败：{0}")]
    Io(#[from] std::io::Error),
    #[error("生成 CSV 失败：{0}")]
    Csv(#[from] csv::Error),
}

/// 细化时间节点 of a ledger row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerMilestone {
    pub date: Option<Date>,
    pub title: String,
}

/// One matter as a ledger line. Plain data: the app fills it from its read model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRow {
    /// 年度 (selects the sheet in [`write_ledger_xlsx`]).
    pub year: i16,
    /// 序号
    pub seq: u32,
    /// 编号
    pub number: String,
    /// 事项名称
    pub title: String,
    /// 事项内容 / 具体要求
    pub content: String,
    /// 任务来源
    pub source: String,
    /// 牵头领导
    pub lead_leader: String,
    /// 牵头单位
    pub lead_unit: String,
    /// 配合单位
    pub assisting_units: Vec<String>,
    /// 完成时限
    pub deadline: Option<Date>,
    /// Shown instead of a date when there is none (e.g. 长期坚持).
    pub deadline_note: String,
    /// 反馈周期
    pub feedback_cycle: Option<FeedbackCycle>,
    /// 细化时间节点
    pub milestones: Vec<LedgerMilestone>,
    /// 剩余工作日 (negative when overdue).
    pub remaining_workdays: Option<i64>,
    /// 预警 (红/黄/绿/灰), as a cell fill.
    pub light: Option<Light>,
    /// 办理状态
    pub status: String,
    /// 最新进展
    pub progress: String,
    /// 存在问题
    pub problems: String,
    /// 下步打算
    pub next_steps: String,
    /// 备注
    pub remarks: String,
}

/// Title block of an exported ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerMeta {
    /// Title after the year: `督办事项台账` → `2026年度督办事项台账`.
    pub title: String,
    /// 填报单位
    pub reporting_unit: String,
    /// 导出时间, as shown (e.g. `2026-11-29 10:30`).
    pub exported_at: String,
}

/// A named sheet of rows (one per year, or one per filter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerSheet {
    /// Sheet name (≤ 31 characters; `[]:*?/\` are replaced).
    pub name: String,
    /// Full title row text.
    pub title: String,
    pub rows: Vec<LedgerRow>,
}

/// Parent header, then its child columns with widths (in characters).
pub(crate) const GROUPS: &[(&str, &[(&str, f64)])] = &[
    (
        "基本信息",
        &[
            ("序号", 6.0),
            ("编号", 12.0),
            ("事项名称", 28.0),
            ("事项内容", 40.0),
            ("任务来源", 14.0),
        ],
    ),
    (
        "责任分工",
        &[("牵头领导", 10.0), ("牵头单位", 14.0), ("配合单位", 18.0)],
    ),
    (
        "时限与进度",
        &[
            ("完成时限", 12.0),
            ("反馈周期", 12.0),
            ("细化时间节点", 28.0),
            ("剩余工作日", 8.0),
            ("预警", 6.0),
            ("办理状态", 10.0),
            ("最新进展", 40.0),
            ("存在问题", 24.0),
            ("下步打算", 24.0),
        ],
    ),
    ("备注", &[("备注", 16.0)]),
];

/// Flat list of column headers in order.
pub(crate) fn headers() -> Vec<&'static str> {
    GROUPS
        .iter()
        .flat_map(|(_, cols)| cols.iter().map(|(h, _)| *h))
        .collect()
}

/// A row's text cells in header order; `None` marks the non-text columns (完成时限 when a date,
/// 剩余工作日, 预警) that the writers render themselves.
pub(crate) fn text_cells(r: &LedgerRow) -> Vec<String> {
    let deadline = match r.deadline {
        Some(d) => d.to_string(),
        None => r.deadline_note.clone(),
    };
    vec![
        r.seq.to_string(),
        r.number.clone(),
        r.title.clone(),
        r.content.clone(),
        r.source.clone(),
        r.lead_leader.clone(),
        r.lead_unit.clone(),
        r.assisting_units.join("、"),
        deadline,
        r.feedback_cycle
            .filter(|c| *c != FeedbackCycle::None)
            .map(|c| c.label_zh())
            .unwrap_or_default(),
        milestone_lines(&r.milestones),
        r.remaining_workdays
            .map(|d| d.to_string())
            .unwrap_or_default(),
        r.light.map(|l| l.label_zh().to_owned()).unwrap_or_default(),
        r.status.clone(),
        r.progress.clone(),
        r.problems.clone(),
        r.next_steps.clone(),
        r.remarks.clone(),
    ]
}

/// `2026-03-31 完成调研` per line (the importer reads this back).
fn milestone_lines(ms: &[LedgerMilestone]) -> String {
    ms.iter()
        .map(|m| match m.date {
            Some(d) => format!("{d} {}", m.title),
            None => format!("待定 {}", m.title),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Column indices the xlsx writer treats specially.
pub(crate) const COL_DEADLINE: usize = 8;
pub(crate) const COL_REMAINING: usize = 11;
pub(crate) const COL_LIGHT: usize = 12;
