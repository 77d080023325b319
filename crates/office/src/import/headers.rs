//! Header recognition: the synonym table of issue 6 maps header texts to canonical fields;
//! the header row is the row (within the first rows) that names the most fields, with a
//! parent row above it for two-row headers. The result is a [`ColumnMapping`] the user can
//! correct and hand back.

use serde::{Deserialize, Serialize};

use super::ImportError;
use super::grid::Grid;

/// A canonical ledger column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CanonicalField {
    /// 序号
    Seq,
    /// 编号 / 督办单号
    Number,
    /// 事项名称
    Title,
    /// 具体要求 / 事项内容
    Requirements,
    /// 任务来源
    Source,
    /// 牵头领导
    LeadLeader,
    /// 牵头单位
    LeadUnit,
    /// 配合单位
    AssistingUnits,
    /// 完成时限
    Deadline,
    /// 反馈周期
    FeedbackCycle,
    /// 进展情况
    Progress,
    /// 存在问题
    Problems,
    /// 下步打算
    NextSteps,
    /// 完成情况 / 办理状态
    Status,
    /// 备注
    Remarks,
    /// 节点名称 / 阶段目标 (one milestone per row)
    MilestoneTitle,
    /// 节点时间 (one milestone per row)
    MilestoneDate,
    /// 细化时间节点: several `YYYY-MM-DD 标题` lines in one cell (our own export)
    MilestoneList,
}

/// Synonyms, most specific first; a header matches when, with spaces, line breaks and
/// parentheses removed, it equals a synonym or starts with one.
const SYNONYMS: &[(CanonicalField, &[&str])] = &[
    (CanonicalField::Seq, &["序号", "编号序号"]),
    (
        CanonicalField::Number,
        &["督办编号", "督办单号", "事项编号", "编号", "文号"],
    ),
    (
        CanonicalField::MilestoneList,
        &["细化时间节点", "时间节点安排", "阶段节点"],
    ),
    (
        CanonicalField::MilestoneTitle,
        &["节点名称", "节点任务", "阶段目标", "阶段任务", "节点内容"],
    ),
    (
        CanonicalField::MilestoneDate,
        &["节点时间", "节点时限", "阶段时限", "节点完成时间"],
    ),
    (
        CanonicalField::Title,
        &[
            "事项名称",
            "工作任务",
            "重点任务",
            "任务名称",
            "督办事项",
            "任务内容",
            "工作事项",
            "事项",
        ],
    ),
    (
        CanonicalField::Requirements,
        &[
            "具体要求",
            "工作目标",
            "目标要求",
            "事项内容",
            "工作要求",
            "任务要求",
            "主要内容",
        ],
    ),
    (
        CanonicalField::Source,
        &["任务来源", "交办来源", "事项来源", "来源"],
    ),
    (
        CanonicalField::LeadLeader,
        &["牵头领导", "责任领导", "分管领导", "牵头部领导"],
    ),
    (
        CanonicalField::LeadUnit,
        &[
            "牵头单位",
            "责任单位",
            "责任处室",
            "承办单位",
            "牵头部门",
            "主办单位",
            "责任科室",
        ],
    ),
    (
        CanonicalField::AssistingUnits,
        &["配合单位", "协办单位", "配合部门", "协办部门"],
    ),
    (
        CanonicalField::FeedbackCycle,
        &["反馈周期", "反馈时间", "报送时间"],
    ),
    (
        CanonicalField::Deadline,
        &[
            "完成时限",
            "时间节点",
            "完成时间",
            "办结时限",
            "时限要求",
            "完成期限",
        ],
    ),
    (
        CanonicalField::Progress,
        &["进展情况", "推进情况", "工作进展", "最新进展", "落实情况"],
    ),
    (
        CanonicalField::Problems,
        &["存在问题", "存在的问题", "困难问题"],
    ),
    (
        CanonicalField::NextSteps,
        &["下步打算", "下步措施", "下一步打算", "下一步措施"],
    ),
    (
        CanonicalField::Status,
        &["完成情况", "办理状态", "状态", "办理情况"],
    ),
    (CanonicalField::Remarks, &["备注"]),
];

/// Canonical field for a header text, if any.
pub fn recognize(header: &str) -> Option<CanonicalField> {
    let key: String = header
        .chars()
        .filter(|c| !c.is_whitespace() && !"()（）*＊:：".contains(*c))
        .collect();
    if key.is_empty() || key.chars().count() > 24 {
        return None;
    }
    SYNONYMS
        .iter()
        .find(|(_, words)| words.iter().any(|w| key == *w))
        .map(|(f, _)| *f)
        .or_else(|| {
            // The longest synonym the header starts with (事项来源 → 来源 field, not 事项).
            SYNONYMS
                .iter()
                .flat_map(|(f, words)| words.iter().map(move |w| (*f, *w)))
                .filter(|(_, w)| key.starts_with(w))
                .max_by_key(|(_, w)| w.len())
                .map(|(f, _)| f)
        })
}

/// One column of a sheet and the field it feeds (`None` = ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappedColumn {
    /// 0-based column index.
    pub index: u32,
    /// Column letter as Excel shows it (`A`, `B`, … `AA`).
    pub letter: String,
    /// Header text (parent and child joined with `/` for two-row headers).
    pub header: String,
    pub field: Option<CanonicalField>,
}

/// The header of one sheet: where it is and what each column means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub sheet: String,
    /// 1-based row of the (lowest) header row; data starts below it.
    pub header_row: u32,
    pub columns: Vec<MappedColumn>,
}

impl ColumnMapping {
    /// Column index feeding `field`.
    pub fn column_of(&self, field: CanonicalField) -> Option<u32> {
        self.columns
            .iter()
            .find(|c| c.field == Some(field))
            .map(|c| c.index)
    }

    /// Refuses two columns mapped to one field.
    pub(crate) fn check_duplicates(&self) -> Result<(), ImportError> {
        for (i, a) in self.columns.iter().enumerate() {
            let Some(f) = a.field else { continue };
            if let Some(b) = self.columns[i + 1..].iter().find(|b| b.field == Some(f)) {
                return Err(ImportError::DuplicateHeader {
                    sheet: self.sheet.clone(),
                    row: self.header_row,
                    header: a.header.clone(),
                    first: a.letter.clone(),
                    second: b.letter.clone(),
                });
            }
        }
        Ok(())
    }
}

/// `0` → `A`, `27` → `AB`.
pub fn column_letter(mut index: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(char::from(b'A' + (index % 26) as u8));
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.iter().rev().collect()
}

/// Rows searched for the header.
const HEADER_SCAN_ROWS: u32 = 30;

/// Finds the header of a grid. `None` when no row names a title column and one other field.
pub(crate) fn detect(grid: &Grid) -> Option<ColumnMapping> {
    let width = grid.width();
    let mut best: Option<(usize, ColumnMapping)> = None;
    for r in 0..grid.height().min(HEADER_SCAN_ROWS) {
        let mapping = mapping_at(grid, r, width);
        let fields: Vec<CanonicalField> = mapping.columns.iter().filter_map(|c| c.field).collect();
        let mut distinct = fields.clone();
        distinct.sort_by_key(|f| *f as u8);
        distinct.dedup();
        let score = distinct.len();
        if !distinct.contains(&CanonicalField::Title) || score < 2 {
            continue;
        }
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, mapping));
        }
    }
    best.map(|(_, m)| m)
}

/// Mapping if row `r` is the (lowest) header row; a column empty in row `r` but named in
/// row `r - 1` (a vertically merged parent such as 序号) takes the upper text.
fn mapping_at(grid: &Grid, r: u32, width: u32) -> ColumnMapping {
    let mut columns = Vec::new();
    for c in 0..width {
        let own = grid.get(r, c).text();
        let parent = if r > 0 {
            grid.get(r - 1, c).text()
        } else {
            String::new()
        };
        let (header, field) = match recognize(&own) {
            Some(f) => {
                let h = if !parent.is_empty() && parent != own && recognize(&parent).is_none() {
                    format!("{parent}/{own}")
                } else {
                    own.clone()
                };
                (h, Some(f))
            }
            None if own.is_empty() => (parent.clone(), recognize(&parent)),
            None => (own.clone(), None),
        };
        if header.is_empty() {
            continue;
        }
        columns.push(MappedColumn {
            index: c,
            letter: column_letter(c),
            header,
            field,
        });
    }
    ColumnMapping {
        sheet: grid.name.clone(),
        header_row: r + 1,
        columns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_of_issue_six_are_recognized() {
        for (h, f) in [
            ("事项名称", CanonicalField::Title),
            ("重点任务", CanonicalField::Title),
            ("具体要求", CanonicalField::Requirements),
            ("交办来源", CanonicalField::Source),
            ("分管领导", CanonicalField::LeadLeader),
            ("责任处室", CanonicalField::LeadUnit),
            ("协办单位", CanonicalField::AssistingUnits),
            ("办结时限", CanonicalField::Deadline),
            ("时间节点", CanonicalField::Deadline),
            ("推进情况", CanonicalField::Progress),
            ("存在问题", CanonicalField::Problems),
            ("下步措施", CanonicalField::NextSteps),
            ("办理状态", CanonicalField::Status),
            ("备 注", CanonicalField::Remarks),
            ("完成时限\n（2026年）", CanonicalField::Deadline),
        ] {
            assert_eq!(recognize(h), Some(f), "{h}");
        }
        assert_eq!(recognize("辅助列"), None);
    }

    #[test]
    fn column_letters_follow_excel() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
