//! Row assembly: data rows below the header become matters. A row whose 事项名称 is merged
//! down from the row above (or left blank under a matter) continues that matter and adds a
//! milestone; blank rows end a matter; section headings and 小计 are skipped; a 合计 / 说明 /
//! 填表人 footer ends the table.

use jiff::civil::Date;
use sha2::{Digest, Sha256};
use taizhang_domain::feedback::FeedbackCycle;
use taizhang_domain::matter::MatterTitle;

use super::dates::{self, ParsedDeadline};
use super::grid::{CellValue, Grid};
use super::headers::{CanonicalField as F, ColumnMapping};
use super::{ImportedMatter, ImportedMilestone, RowRefusal, SkippedRow};
use crate::text::{normalize_name, split_names, strip_neutralizer};

/// Result of one sheet.
pub(crate) struct SheetRows {
    pub matters: Vec<ImportedMatter>,
    pub refused: Vec<RowRefusal>,
    pub skipped: Vec<SkippedRow>,
}

/// Year and 填报单位 from the sheet name and the rows above the header.
pub(crate) fn sheet_context(grid: &Grid, mapping: &ColumnMapping) -> (Option<i16>, Option<String>) {
    let mut year = year_in(&grid.name);
    let mut unit = None;
    let header = mapping.header_row.saturating_sub(1);
    for r in 0..header {
        for c in 0..grid.width().min(64) {
            let t = grid.get(r, c).text();
            if year.is_none() {
                year = year_in(&t);
            }
            if unit.is_none() {
                unit = labelled(&t, "填报单位");
            }
        }
    }
    (year, unit)
}

/// `2026年度…` / `2026年` / `2026` (a four-digit 20xx number).
fn year_in(text: &str) -> Option<i16> {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(4).enumerate().find_map(|(i, w)| {
        let s: String = w.iter().collect();
        let before = i
            .checked_sub(1)
            .and_then(|j| chars.get(j))
            .is_some_and(char::is_ascii_digit);
        let after = chars.get(i + 4).is_some_and(char::is_ascii_digit);
        let y: i16 = s.parse().ok()?;
        ((2000..2100).contains(&y) && !before && !after).then_some(y)
    })
}

/// `填报单位：组织科   填报日期：…` → `组织科`.
fn labelled(text: &str, label: &str) -> Option<String> {
    let rest = text
        .split_once(label)?
        .1
        .trim_start_matches([':', '：', ' ', '\u{3000}']);
    let end = rest
        .find("  ")
        .or_else(|| rest.find('\u{3000}'))
        .or_else(|| rest.find("填报"))
        .unwrap_or(rest.len());
    let v = normalize_name(&rest[..end]);
    (!v.is_empty()).then_some(v)
}

const FOOTERS: [&str; 10] = [
    "合计",
    "总计",
    "说明",
    "注：",
    "注:",
    "填表说明",
    "填表人",
    "制表",
    "审核人",
    "联系人",
];

/// Parses the data rows of a sheet.
pub(crate) fn parse_sheet(
    grid: &Grid,
    mapping: &ColumnMapping,
    year: Option<i16>,
    reporting_unit: Option<&str>,
) -> SheetRows {
    let mut out = SheetRows {
        matters: Vec::new(),
        refused: Vec::new(),
        skipped: Vec::new(),
    };
    let Some(title_col) = mapping.column_of(F::Title) else {
        return out;
    };
    let width = grid.width();
    let seq_col = mapping.column_of(F::Seq);
    let mut group: Vec<u32> = Vec::new();
    let ctx = Ctx {
        grid,
        mapping,
        year,
        reporting_unit,
    };
    let flush = |group: &mut Vec<u32>, out: &mut SheetRows| {
        if !group.is_empty() {
            match ctx.build(group) {
                Ok(m) => out.matters.push(m),
                Err((row, reason)) => out.refused.push(RowRefusal {
                    sheet: grid.name.clone(),
                    row: row + 1,
                    reason,
                }),
            }
            group.clear();
        }
    };
    for r in mapping.header_row..grid.height() {
        if grid.row_is_empty(r, width) {
            flush(&mut group, &mut out);
            continue;
        }
        let texts: Vec<String> = (0..width)
            .map(|c| grid.get(r, c).text())
            .filter(|t| !t.is_empty())
            .collect();
        let first = texts.first().cloned().unwrap_or_default();
        let compact: String = first.chars().filter(|c| !c.is_whitespace()).collect();
        if FOOTERS.iter().any(|f| compact.starts_with(f)) {
            flush(&mut group, &mut out);
            break;
        }
        if compact.starts_with("小计") {
            flush(&mut group, &mut out);
            out.skipped.push(SkippedRow {
                row: r + 1,
                reason: "小计行".into(),
            });
            continue;
        }
        let title = grid.get(r, title_col);
        let continues = grid.covered_from_above(r, title_col)
            || (title.is_empty()
                && !group.is_empty()
                && seq_col
                    .is_none_or(|c| grid.get(r, c).is_empty() || grid.covered_from_above(r, c)));
        if continues {
            group.push(r);
            continue;
        }
        flush(&mut group, &mut out);
        if is_section(grid, r, width, &texts) {
            out.skipped.push(SkippedRow {
                row: r + 1,
                reason: format!("分类标题「{first}」"),
            });
            continue;
        }
        if title.is_empty() {
            out.refused.push(RowRefusal {
                sheet: grid.name.clone(),
                row: r + 1,
                reason: "事项名称为空".into(),
            });
            continue;
        }
        group.push(r);
    }
    flush(&mut group, &mut out);
    out
}

/// A heading such as `一、党的建设` spanning the row: one distinct value, written as a numbered
/// heading or merged across three or more columns.
fn is_section(grid: &Grid, r: u32, width: u32, texts: &[String]) -> bool {
    let mut distinct = texts.to_vec();
    distinct.dedup();
    if distinct.len() != 1 {
        return false;
    }
    let t = &distinct[0];
    let numbered = t
        .chars()
        .next()
        .is_some_and(|c| "一二三四五六七八九十".contains(c))
        && t.contains('、');
    let wide = (0..width).any(|c| grid.merge_end_col(r, c).is_some_and(|end| end >= c + 2));
    numbered || wide
}

struct Ctx<'a> {
    grid: &'a Grid,
    mapping: &'a ColumnMapping,
    year: Option<i16>,
    reporting_unit: Option<&'a str>,
}

type Refusal = (u32, String);

impl Ctx<'_> {
    fn cell(&self, r: u32, f: F) -> Option<&CellValue> {
        self.mapping.column_of(f).map(|c| self.grid.get(r, c))
    }

    fn text(&self, r: u32, f: F) -> String {
        self.cell(r, f)
            .map(|v| strip_neutralizer(&v.text()).to_owned())
            .unwrap_or_default()
    }

    /// The cell has its own value on row `r` (not merged down from above).
    fn own(&self, r: u32, f: F) -> bool {
        self.mapping
            .column_of(f)
            .is_some_and(|c| !self.grid.covered_from_above(r, c) && !self.grid.get(r, c).is_empty())
    }

    /// Distinct own texts of a field over the group's rows, one per line.
    fn joined(&self, rows: &[u32], f: F) -> String {
        let mut parts: Vec<String> = Vec::new();
        for &r in rows {
            if r == rows[0] || self.own(r, f) {
                let t = self.text(r, f);
                if !t.is_empty() && !parts.contains(&t) {
                    parts.push(t);
                }
            }
        }
        parts.join("\n")
    }

    fn build(&self, rows: &[u32]) -> Result<ImportedMatter, Refusal> {
        let r0 = rows[0];
        let title = collapse(&self.text(r0, F::Title));
        MatterTitle::parse(&title).map_err(|e| (r0, e.to_string()))?;
        let lead_units = match self.mapping.column_of(F::LeadUnit) {
            Some(_) => split_names(&self.text(r0, F::LeadUnit)),
            None => self
                .reporting_unit
                .map(|u| vec![u.to_owned()])
                .unwrap_or_default(),
        };
        if lead_units.is_empty() && self.mapping.column_of(F::LeadUnit).is_some() {
            return Err((r0, "牵头单位为空".into()));
        }
        let (deadline, mut cycle, milestones) = self.deadline_and_milestones(rows)?;
        if self.mapping.column_of(F::FeedbackCycle).is_some() {
            let t = self.text(r0, F::FeedbackCycle);
            if !t.is_empty() {
                match dates::parse_deadline(&CellValue::Text(t.clone()), self.year) {
                    Ok((_, Some(c))) => cycle = Some(c),
                    _ if t == "无" => cycle = Some(FeedbackCycle::None),
                    _ => {
                        return Err((
                            r0,
                            format!("反馈周期「{t}」无法识别（示例：每月5日前、每周五）"),
                        ));
                    }
                }
            }
        }
        let lead_key = lead_units.first().cloned().unwrap_or_default();
        Ok(ImportedMatter {
            sheet: self.grid.name.clone(),
            row: r0 + 1,
            source_key: source_key(&self.grid.name, &title, &lead_key),
            number: Some(self.text(r0, F::Number)).filter(|s| !s.is_empty()),
            title,
            requirements: self.joined(rows, F::Requirements),
            source: self.text(r0, F::Source),
            lead_leader_name: normalize_name(&self.text(r0, F::LeadLeader)),
            lead_unit_names: lead_units,
            assisting_unit_names: split_names(&self.text(r0, F::AssistingUnits)),
            deadline,
            feedback_cycle: cycle,
            progress_text: self.joined(rows, F::Progress),
            problems: self.joined(rows, F::Problems),
            next_steps: self.joined(rows, F::NextSteps),
            status_text: self.text(r0, F::Status),
            remarks: self.joined(rows, F::Remarks),
            milestones,
        })
    }

    fn parse(
        &self,
        r: u32,
        v: &CellValue,
    ) -> Result<(ParsedDeadline, Option<FeedbackCycle>), Refusal> {
        dates::parse_deadline(v, self.year).map_err(|e| (r, e))
    }

    /// The matter's deadline, cadence and milestones. Milestones come from 节点 columns, from
    /// a 细化时间节点 list cell, or — for a matter spread over rows with a deadline per row —
    /// from each row's 完成时限 and 具体要求; the matter is then due at the last of them.
    fn deadline_and_milestones(
        &self,
        rows: &[u32],
    ) -> Result<
        (
            ParsedDeadline,
            Option<FeedbackCycle>,
            Vec<ImportedMilestone>,
        ),
        Refusal,
    > {
        let r0 = rows[0];
        let empty = CellValue::Empty;
        let (mut deadline, cycle) = self.parse(r0, self.cell(r0, F::Deadline).unwrap_or(&empty))?;
        let mut milestones = Vec::new();
        let has_ms_cols = self.mapping.column_of(F::MilestoneTitle).is_some()
            || self.mapping.column_of(F::MilestoneDate).is_some();
        if has_ms_cols {
            for &r in rows {
                let first = r == r0;
                let title = if first || self.own(r, F::MilestoneTitle) {
                    self.text(r, F::MilestoneTitle)
                } else {
                    String::new()
                };
                let date = match self.cell(r, F::MilestoneDate) {
                    Some(v) if first || self.own(r, F::MilestoneDate) => self.parse(r, v)?.0.date(),
                    _ => None,
                };
                if !title.is_empty() || date.is_some() {
                    milestones.push(ImportedMilestone {
                        row: r + 1,
                        title,
                        date,
                    });
                }
            }
        } else if rows.len() > 1 && rows[1..].iter().any(|&r| self.own(r, F::Deadline)) {
            let mut last: Option<Date> = deadline.date();
            for (i, &r) in rows.iter().enumerate() {
                let (d, _) = self.parse(r, self.cell(r, F::Deadline).unwrap_or(&empty))?;
                let own_req = r == r0 || self.own(r, F::Requirements);
                let title = if own_req {
                    self.text(r, F::Requirements)
                } else {
                    String::new()
                };
                let title = if title.is_empty() {
                    format!("第{}阶段", i + 1)
                } else {
                    title
                };
                if let Some(date) = d.date() {
                    last = last.max(Some(date));
                }
                milestones.push(ImportedMilestone {
                    row: r + 1,
                    title,
                    date: d.date(),
                });
            }
            if let Some(date) = last {
                deadline = ParsedDeadline::Date {
                    date,
                    end_of_period: false,
                };
            }
        }
        if self.mapping.column_of(F::MilestoneList).is_some() {
            for line in self
                .text(r0, F::MilestoneList)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
            {
                let (head, tail) = line
                    .split_once([' ', '\u{3000}', '：', ':'])
                    .unwrap_or((line, ""));
                let (d, _) = self.parse(r0, &CellValue::Text(head.to_owned()))?;
                milestones.push(ImportedMilestone {
                    row: r0 + 1,
                    title: tail.trim().to_owned(),
                    date: d.date(),
                });
            }
        }
        if deadline == ParsedDeadline::Missing
            && let Some(date) = milestones.iter().filter_map(|m| m.date).max()
        {
            deadline = ParsedDeadline::Date {
                date,
                end_of_period: false,
            };
        }
        Ok((deadline, cycle, milestones))
    }
}

/// Line breaks and runs of spaces inside a title → one space (none between CJK characters).
fn collapse(t: &str) -> String {
    normalize_name(&t.replace(['\r', '\n', '\t'], " "))
}

/// Stable key of a row: SHA-256 of sheet, title and lead unit (first 32 hex digits).
pub(crate) fn source_key(sheet: &str, title: &str, lead_unit: &str) -> String {
    let mut h = Sha256::new();
    for part in [sheet, title, lead_unit] {
        h.update(normalize_name(part).as_bytes());
        h.update([0x1f]);
    }
    hex::encode(&h.finalize()[..16])
}
