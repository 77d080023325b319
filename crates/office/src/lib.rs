//! Excel and Word for Taizhang (台账): reads the ledgers offices already keep and writes the ones
//! they hand in.
//!
//! This crate knows domain types, not the database: everything here is pure and synchronous,
//! takes bytes or plain structs and returns plain structs. The app wires it to use cases.
//!
//! - [`import`]: `.xlsx` / `.xls` / `.csv` (UTF-8, UTF-8 with BOM, GBK) → [`ParsedWorkbook`],
//!   with bad-input guards (zip bombs, XXE, renamed files, encryption, huge sheets) run first.
//! - [`export`]: the standard 督办事项台账 as `.xlsx` and `.csv` (BOM), streamed row by row in
//!   constant memory, formula injection neutralized.
//! - [`report`]: weekly summary, monthly stock-take, 通报 and annual reconciliation as `.docx`
//!   (公文-like) and `.xlsx`, with PNG charts.

pub mod export;
pub mod import;
pub mod report;
pub mod text;

pub use export::{
    ExportError, LedgerCsvWriter, LedgerMeta, LedgerMilestone, LedgerRow, LedgerSheet,
    LedgerXlsxWriter, write_ledger_csv, write_ledger_xlsx,
};
pub use import::{
    CanonicalField, ColumnMapping, FileFormat, ImportError, ImportLimits, ImportOptions,
    ImportSummary, ImportedMatter, ImportedMilestone, MappedColumn, ParsedDeadline, ParsedWorkbook,
    RowRefusal, read_ledger, read_ledger_with_mapping,
};
pub use report::{
    AnnualReconciliation, Bulletin, Document, MonthlyReport, ReportError, ReportHeader,
    WeeklyReport, docx::render_docx, xlsx::render_xlsx,
};
pub use text::{NameMatch, match_name, neutralize_formula, normalize_name, split_names};
