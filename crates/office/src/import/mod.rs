//! Ledger import: bytes of an `.xlsx`, `.xls` or `.csv` → [`ParsedWorkbook`] of matters and
//! per-row refusals. Pure and all-or-nothing by construction: nothing here writes anywhere,
//! so the caller can show the dry run and apply the whole result in one transaction.
//!
//! Order of work: sniff the content ([`sniff`]), check zip archives (bombs, XXE) before any
//! parser opens them, read bounded grids ([`grid`]), find the header ([`headers`]), then
//! assemble matters row by row ([`rows`]).

mod dates;
mod error;
mod grid;
mod headers;
mod rows;
mod sniff;

use jiff::civil::Date;
use serde::Serialize;
use taizhang_domain::feedback::FeedbackCycle;

pub use dates::ParsedDeadline;
pub use error::ImportError;
pub use headers::{CanonicalField, ColumnMapping, MappedColumn, column_letter, recognize};

/// Kind of file, decided by content (not only by the extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Xlsx,
    Xls,
    Csv,
}

/// Limits that keep memory and time bounded on hostile files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLimits {
    /// Upload size (default 50 MB).
    pub max_file_bytes: u64,
    /// Sum of uncompressed zip entries, declared and actual (default 100 MB).
    pub max_uncompressed_bytes: u64,
    /// Zip entries (default 10,000).
    pub max_zip_entries: usize,
    /// Uncompressed : compressed ratio of any entry over 1 MB (default 500).
    pub max_zip_ratio: u64,
    /// Columns per sheet holding a value (default 256).
    pub max_columns: u32,
    /// Sheet rows holding a value (default 300,000).
    pub max_rows: u32,
    /// Reading a sheet stops after this many empty rows in a row (default 1,000).
    pub max_consecutive_empty_rows: u32,
    /// Cells covered by merged regions (default 2,000,000).
    pub max_merged_cells: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 50 << 20,
            max_uncompressed_bytes: 100 << 20,
            max_zip_entries: 10_000,
            max_zip_ratio: 500,
            max_columns: 256,
            max_rows: 300_000,
            max_consecutive_empty_rows: 1_000,
            max_merged_cells: 2_000_000,
        }
    }
}

/// What to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// `--sheet NAME`: only this sheet (hidden sheets are read only when named here).
    pub sheet: Option<String>,
    /// `--year YYYY`: only sheets of this year (when sheets carry years), and the year of
    /// dates written without one (`3月底`).
    pub year: Option<i16>,
    pub limits: ImportLimits,
}

/// 细化时间节点 (milestone) of an imported matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedMilestone {
    /// 1-based sheet row it came from.
    pub row: u32,
    pub title: String,
    pub date: Option<Date>,
}

/// One matter read from a ledger (possibly spread over several rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedMatter {
    pub sheet: String,
    /// 1-based first row, as Excel shows it.
    pub row: u32,
    /// Hash of sheet + title + lead unit: the same row re-imported updates, not duplicates.
    pub source_key: String,
    /// 编号 as written, if the sheet has that column.
    pub number: Option<String>,
    /// 事项名称
    pub title: String,
    /// 具体要求 / 事项内容
    pub requirements: String,
    /// 任务来源
    pub source: String,
    /// 牵头领导
    pub lead_leader_name: String,
    /// 牵头单位 (normally one; a cell naming two is kept as written for the user to decide)
    pub lead_unit_names: Vec<String>,
    /// 配合单位
    pub assisting_unit_names: Vec<String>,
    /// 完成时限
    pub deadline: ParsedDeadline,
    /// 反馈周期 (`每月5日前` in the deadline or its own column)
    pub feedback_cycle: Option<FeedbackCycle>,
    /// 进展情况
    pub progress_text: String,
    /// 存在问题
    pub problems: String,
    /// 下步打算
    pub next_steps: String,
    /// 完成情况 / 办理状态 as written
    pub status_text: String,
    /// 备注
    pub remarks: String,
    pub milestones: Vec<ImportedMilestone>,
}

/// A row that will not be imported, and why (Chinese, precise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowRefusal {
    pub sheet: String,
    pub row: u32,
    pub reason: String,
}

/// A row passed over on purpose (section heading, 小计), reported in the dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedRow {
    pub row: u32,
    pub reason: String,
}

/// What was found on one sheet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SheetInfo {
    pub name: String,
    /// Year from `--year`, the sheet name (`2026年`) or the title row (`2026年度…台账`).
    pub year: Option<i16>,
    /// 填报单位 from the subtitle, if present.
    pub reporting_unit: Option<String>,
    pub mapping: ColumnMapping,
    pub skipped: Vec<SkippedRow>,
}

/// Counts as the CLI prints them with `--format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub matters: usize,
    pub milestones: usize,
    pub refused: Vec<RowRefusal>,
    pub no_fixed_deadline: usize,
}

/// Everything read from one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedWorkbook {
    pub format: FileFormat,
    pub sheets: Vec<SheetInfo>,
    pub matters: Vec<ImportedMatter>,
    pub refused: Vec<RowRefusal>,
}

impl ParsedWorkbook {
    /// `{"matters", "milestones", "refused", "no_fixed_deadline"}`.
    pub fn summary(&self) -> ImportSummary {
        ImportSummary {
            matters: self.matters.len(),
            milestones: self.matters.iter().map(|m| m.milestones.len()).sum(),
            refused: self.refused.clone(),
            no_fixed_deadline: self
                .matters
                .iter()
                .filter(|m| matches!(m.deadline, ParsedDeadline::NoFixed { .. }))
                .count(),
        }
    }

    /// The detected (or given) mappings, for the user to correct.
    pub fn mappings(&self) -> Vec<ColumnMapping> {
        self.sheets.iter().map(|s| s.mapping.clone()).collect()
    }
}

/// Reads a ledger, recognizing the header of each sheet by synonyms.
pub fn read_ledger(
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
) -> Result<ParsedWorkbook, ImportError> {
    read_ledger_with_mapping(bytes, file_name, opts, &[])
}

/// Reads a ledger using the user's corrected mappings for the sheets they name (by sheet name);
/// other sheets are recognized automatically.
pub fn read_ledger_with_mapping(
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
    mappings: &[ColumnMapping],
) -> Result<ParsedWorkbook, ImportError> {
    let limits = &opts.limits;
    let format = sniff::sniff(bytes, file_name, limits)?;
    let wanted = opts.sheet.as_deref();
    let grids = match format {
        FileFormat::Xlsx => {
            sniff::check_zip(bytes, limits)?;
            grid::read_xlsx(bytes, wanted, limits)?
        }
        FileFormat::Xls => grid::read_xls(bytes, wanted, limits)?,
        FileFormat::Csv => {
            let text = grid::decode_csv(bytes)?;
            let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
            let stem = stem.rsplit(['/', '\\']).next().unwrap_or(stem);
            grid::read_csv(&text, stem, limits)?
        }
    };
    let several = grids.len() > 1;
    let mut out = ParsedWorkbook {
        format,
        sheets: Vec::new(),
        matters: Vec::new(),
        refused: Vec::new(),
    };
    for g in &grids {
        let given = mappings.iter().find(|m| m.sheet == g.name).cloned();
        let Some(mapping) = given.or_else(|| headers::detect(g)) else {
            continue; // a sheet without a ledger header (说明, 统计) is not a ledger
        };
        mapping.check_duplicates()?;
        let (sheet_year, reporting_unit) = rows::sheet_context(g, &mapping);
        if let (Some(want), Some(have), true) = (opts.year, sheet_year, several)
            && want != have
        {
            continue;
        }
        let year = sheet_year.or(opts.year);
        let parsed = rows::parse_sheet(g, &mapping, year, reporting_unit.as_deref());
        out.matters.extend(parsed.matters);
        out.refused.extend(parsed.refused);
        out.sheets.push(SheetInfo {
            name: g.name.clone(),
            year,
            reporting_unit,
            mapping,
            skipped: parsed.skipped,
        });
    }
    if out.sheets.is_empty() {
        return Err(ImportError::NoHeader);
    }
    Ok(out)
}
