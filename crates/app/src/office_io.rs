//! Excel and Word in the product (issue 6): importing the ledgers offices keep
//! ([`import_ledger`], dry run first, all-or-nothing, re-import updates), exporting the ledger as
//! the caller sees it ([`export_ledger`]), and the cadence reports as `.docx` / `.xlsx`
//! ([`reports`]). The parsing and writing live in `taizhang-office`; this module adds the
//! database, the policy and the audit trail.

mod apply;
mod export;
mod import;
mod names;
mod plan;
pub mod reports;

pub use export::{
    ExportFormat, LedgerExport, export_ledger, export_ledger_file, export_ledger_to, export_views,
    ledger_rows,
};
pub use import::{
    ImportProgress, ImportReport, SkippedLine, import_ledger, import_ledger_with_progress,
};
pub use plan::{RowAction, RowPlan};
pub use reports::{
    ReportFormat, annual_report_file, bulletin_docx, monthly_report_file, weekly_report_file,
};
pub use taizhang_office::{
    CanonicalField, ColumnMapping, ImportOptions, ImportSummary, MappedColumn,
};

/// Parse-only view of a file for the mapping step: the detected column mappings per sheet.
pub fn detect_mappings(
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
) -> Result<Vec<ColumnMapping>, crate::AppError> {
    taizhang_office::read_ledger(bytes, file_name, opts)
        .map(|p| p.mappings())
        .map_err(|e| crate::AppError::invalid("file", "import_file", e.to_string()))
}
