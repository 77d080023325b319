//! Input structs of the four reports and their layout as a [`Document`]. The app fills these
//! from its snapshots; nothing here counts or queries.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{BarChart, Block, Document, ReportHeader, Section, Table, date_zh, percent};

/// Overall counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub total: u32,
    /// 已办结 (incl. 已销号)
    pub completed: u32,
    pub in_progress: u32,
    pub overdue: u32,
    /// 延期 granted in the period
    pub extensions: u32,
    /// 督办单 issued in the period
    pub notices: u32,
}

/// A labelled count (by status, by light colour, by notice colour).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCount {
    pub label: String,
    pub count: u32,
}

/// Per-unit line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitLine {
    pub unit: String,
    pub total: u32,
    pub completed: u32,
    pub in_progress: u32,
    pub overdue: u32,
}

/// A matter named in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatterLine {
    pub number: String,
    pub title: String,
    pub unit: String,
    pub deadline: Option<Date>,
    pub status: String,
    /// 进展 / 滞后原因 / 需协调事项.
    pub note: String,
}

/// 一周一小结.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyReport {
    pub header: ReportHeader,
    pub week_start: Date,
    pub week_end: Date,
    pub totals: Totals,
    /// Matters that moved this week.
    pub moved: Vec<MatterLine>,
    /// Matters with no progress (stuck).
    pub stuck: Vec<MatterLine>,
    /// Matters needing coordination.
    pub coordination: Vec<MatterLine>,
}

/// 一月一盘点.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyReport {
    pub header: ReportHeader,
    pub year: i16,
    pub month: i8,
    pub as_of: Date,
    pub totals: Totals,
    pub by_status: Vec<StatusCount>,
    pub by_unit: Vec<UnitLine>,
    pub lagging: Vec<MatterLine>,
    /// 督办单 issued by colour (蓝/黄/红 …).
    pub notices_by_color: Vec<StatusCount>,
}

/// 通报.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bulletin {
    pub header: ReportHeader,
    /// 统计口径, e.g. `截至2026年10月31日`.
    pub scope: String,
    pub totals: Totals,
    /// 表扬 units.
    pub praised: Vec<String>,
    /// 批评 / 滞后 matters.
    pub criticized: Vec<MatterLine>,
    /// 工作要求.
    pub requirements: Vec<String>,
}

/// One matter at year close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconLine {
    pub number: String,
    pub title: String,
    pub unit: String,
    /// 办结销号 / 中止 / 结转 / 未处理.
    pub outcome: String,
    pub note: String,
}

/// 一年一归零.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnualReconciliation {
    pub header: ReportHeader,
    pub year: i16,
    pub totals: Totals,
    pub by_outcome: Vec<StatusCount>,
    pub by_unit: Vec<UnitLine>,
    pub lines: Vec<ReconLine>,
}

fn matter_table(caption: &str, lines: &[MatterLine]) -> Block {
    Block::Table(Table {
        caption: caption.into(),
        headers: [
            "序号",
            "编号",
            "事项名称",
            "牵头单位",
            "完成时限",
            "状态",
            "说明",
        ]
        .map(String::from)
        .to_vec(),
        rows: lines
            .iter()
            .enumerate()
            .map(|(i, m)| {
                vec![
                    (i + 1).to_string(),
                    m.number.clone(),
                    m.title.clone(),
                    m.unit.clone(),
                    m.deadline
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "无固定时限".into()),
                    m.status.clone(),
                    m.note.clone(),
                ]
            })
            .collect(),
    })
}

fn unit_table(caption: &str, units: &[UnitLine]) -> Block {
    Block::Table(Table {
        caption: caption.into(),
        headers: ["牵头单位", "事项数", "已办结", "办理中", "逾期", "办结率"]
            .map(String::from)
            .to_vec(),
        rows: units
            .iter()
            .map(|u| {
                vec![
                    u.unit.clone(),
                    u.total.to_string(),
                    u.completed.to_string(),
                    u.in_progress.to_string(),
                    u.overdue.to_string(),
                    percent(u.completed, u.total),
                ]
            })
            .collect(),
    })
}

fn count_table(caption: &str, first: &str, counts: &[StatusCount], whole: u32) -> Block {
    Block::Table(Table {
        caption: caption.into(),
        headers: vec![first.into(), "件数".into(), "占比".into()],
        rows: counts
            .iter()
            .map(|c| {
                vec![
                    c.label.clone(),
                    c.count.to_string(),
                    percent(c.count, whole),
                ]
            })
            .collect(),
    })
}

fn overview(t: &Totals) -> String {
    format!(
        "共有督办事项{}件，其中已办结{}件（{}），正在办理{}件（{}），逾期{}件；批准延期{}件，发出督办单{}份。",
        t.total,
        t.completed,
        percent(t.completed, t.total),
        t.in_progress,
        percent(t.in_progress, t.total),
        t.overdue,
        t.extensions,
        t.notices
    )
}

fn section(heading: &str, blocks: Vec<Block>) -> Section {
    Section {
        heading: heading.into(),
        blocks,
    }
}

impl WeeklyReport {
    pub fn to_document(&self) -> Document {
        let lead = format!(
            "现将{}至{}督办事项推进情况小结如下。",
            date_zh(self.week_start),
            date_zh(self.week_end)
        );
        Document {
            header: self.header.clone(),
            lead: vec![lead],
            sections: vec![
                section("总体情况", vec![Block::Para(overview(&self.totals))]),
                section(
                    "本周推进情况",
                    vec![
                        Block::Para(format!("本周有进展事项{}件。", self.moved.len())),
                        matter_table("本周有进展事项", &self.moved),
                    ],
                ),
                section(
                    "停滞事项",
                    vec![
                        Block::Para(format!("本周无进展事项{}件。", self.stuck.len())),
                        matter_table("停滞事项", &self.stuck),
                    ],
                ),
                section(
                    "需协调事项",
                    vec![matter_table("需协调事项", &self.coordination)],
                ),
            ],
        }
    }
}

impl MonthlyReport {
    pub fn to_document(&self) -> Document {
        let t = &self.totals;
        let chart = BarChart {
            caption: "各牵头单位办结率".into(),
            bars: self
                .by_unit
                .iter()
                .map(|u| {
                    (
                        u.unit.clone(),
                        if u.total == 0 {
                            0.0
                        } else {
                            f64::from(u.completed) * 100.0 / f64::from(u.total)
                        },
                    )
                })
                .collect(),
            percent: true,
        };
        let lead = format!(
            "截至{}，{}年{}月督办事项盘点情况如下。",
            date_zh(self.as_of),
            self.year,
            self.month
        );
        Document {
            header: self.header.clone(),
            lead: vec![lead],
            sections: vec![
                section(
                    "总体情况",
                    vec![
                        Block::Para(overview(t)),
                        count_table("按办理状态统计", "办理状态", &self.by_status, t.total),
                    ],
                ),
                section(
                    "各单位办理情况",
                    vec![
                        unit_table("各牵头单位办理情况", &self.by_unit),
                        Block::Chart(chart),
                    ],
                ),
                section(
                    "滞后事项",
                    vec![
                        Block::Para(format!("滞后事项{}件，列示如下。", self.lagging.len())),
                        matter_table("滞后事项清单", &self.lagging),
                    ],
                ),
                section(
                    "督办单发出情况",
                    vec![count_table(
                        "督办单按颜色统计",
                        "颜色",
                        &self.notices_by_color,
                        self.notices_by_color.iter().map(|c| c.count).sum(),
                    )],
                ),
            ],
        }
    }
}

impl Bulletin {
    pub fn to_document(&self) -> Document {
        let mut praise = vec![Block::Para(if self.praised.is_empty() {
            "本期无表扬单位。".into()
        } else {
            format!(
                "{}等单位推进有力、按时办结，予以表扬。",
                self.praised.join("、")
            )
        })];
        praise.extend(self.praised.iter().map(|u| Block::Point(u.clone())));
        Document {
            header: self.header.clone(),
            lead: vec![format!("{}，督办事项办理情况通报如下。", self.scope)],
            sections: vec![
                section("总体情况", vec![Block::Para(overview(&self.totals))]),
                section("表扬单位", praise),
                section(
                    "滞后事项及单位",
                    vec![
                        Block::Para("以下事项办理滞后，请相关单位限期整改。".into()),
                        matter_table("滞后事项", &self.criticized),
                    ],
                ),
                section(
                    "工作要求",
                    self.requirements
                        .iter()
                        .map(|r| Block::Point(r.clone()))
                        .collect(),
                ),
            ],
        }
    }
}

impl AnnualReconciliation {
    pub fn to_document(&self) -> Document {
        let t = &self.totals;
        let table = Block::Table(Table {
            caption: "事项逐项对账".into(),
            headers: ["序号", "编号", "事项名称", "牵头单位", "处理结果", "说明"]
                .map(String::from)
                .to_vec(),
            rows: self
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    vec![
                        (i + 1).to_string(),
                        l.number.clone(),
                        l.title.clone(),
                        l.unit.clone(),
                        l.outcome.clone(),
                        l.note.clone(),
                    ]
                })
                .collect(),
        });
        Document {
            header: self.header.clone(),
            lead: vec![format!(
                "根据“一年一归零”要求，对{}年度督办事项逐项对账如下。",
                self.year
            )],
            sections: vec![
                section(
                    "总体情况",
                    vec![
                        Block::Para(overview(t)),
                        count_table("按处理结果统计", "处理结果", &self.by_outcome, t.total),
                    ],
                ),
                section(
                    "各单位归零情况",
                    vec![unit_table("各牵头单位归零情况", &self.by_unit)],
                ),
                section("逐项对账", vec![table]),
            ],
        }
    }
}
