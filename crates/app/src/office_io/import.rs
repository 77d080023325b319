//! 导入台账: parse a ledger file, plan it row by row (the dry run), and apply it all-or-nothing
//! in one transaction. A file with any refused row is not applied; every attempt — dry run,
//! refusal, failure or success — is audited.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use taizhang_domain::policy::Action;
use taizhang_office::{
    ColumnMapping, FileFormat, ImportOptions, ImportSummary, ParsedWorkbook,
    read_ledger_with_mapping,
};
use taizhang_store::imports;

use super::names::Directory;
use super::plan::{self, Context, Planned, RowAction, RowPlan};
use crate::audit::{self, Event};
use crate::ledger::today;
use crate::{App, AppError, AppResult, Caller};

/// A row passed over on purpose (分类标题, 小计), for the dry-run report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedLine {
    pub sheet: String,
    pub row: u32,
    pub reason: String,
}

/// Result of an import or a dry run.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub file_name: String,
    pub format: FileFormat,
    pub dry_run: bool,
    /// The file was written to the ledger (never when a row is refused).
    pub applied: bool,
    /// `{"matters","milestones","refused","no_fixed_deadline"}`: what was (or, in a dry run,
    /// would be) imported, and every refused row.
    pub summary: ImportSummary,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Row by row, in file order.
    pub rows: Vec<RowPlan>,
    pub skipped: Vec<SkippedLine>,
    /// The column mappings used (for the mapping step).
    pub mappings: Vec<ColumnMapping>,
}

/// Where a long import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportProgress {
    /// Rows checked against the units, people and the ledger: `(done, total)`.
    Checked(usize, usize),
    /// Matters written: `(done, total)`.
    Applied(usize, usize),
}

/// [`import_ledger_with_progress`] without progress reports.
pub async fn import_ledger(
    app: &App,
    who: &Caller,
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
    mapping: Option<Vec<ColumnMapping>>,
    dry_run: bool,
) -> AppResult<ImportReport> {
    let mut quiet = |_: ImportProgress| {};
    import_ledger_with_progress(
        app, who, bytes, file_name, opts, mapping, dry_run, &mut quiet,
    )
    .await
}

/// Parse, plan and (unless `dry_run`, and only when no row is refused) apply a ledger file.
/// A file-level problem (not a ledger, zip bomb, encrypted…) is [`AppError::Invalid`] with
/// code `import_file`; it is audited too.
#[allow(clippy::too_many_arguments)]
pub async fn import_ledger_with_progress(
    app: &App,
    who: &Caller,
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
    mapping: Option<Vec<ColumnMapping>>,
    dry_run: bool,
    progress: &mut (dyn FnMut(ImportProgress) + Send),
) -> AppResult<ImportReport> {
    let action = if dry_run {
        "ledger.import_dry_run"
    } else {
        "ledger.import"
    };
    if let Err(e) = who.require(Action::ImportLedger, None) {
        audit::record_alone(app, who, Event::denied(action, "import", file_name, "")).await?;
        return Err(e);
    }
    let parsed =
        match read_ledger_with_mapping(bytes, file_name, opts, &mapping.unwrap_or_default()) {
            Ok(p) => p,
            Err(e) => {
                let why = e.to_string();
                audit::record_alone(
                    app,
                    who,
                    Event::ok("ledger.import_failed", "import", file_name, why.clone()),
                )
                .await?;
                return Err(AppError::invalid("file", "import_file", why));
            }
        };
    let mut report_progress = |d, t| progress(ImportProgress::Checked(d, t));
    let planned = {
        let mut c = app.store.read().await?;
        let dir = Directory::load(&mut c).await?;
        let cal = crate::ledger::calendar::load(&mut c).await?;
        let mut ctx = Context {
            dir: &dir,
            cal: &cal,
            today: today(app),
            keys: imports::all_keys(&mut c).await?,
            closed: BTreeMap::new(),
            numbers: HashSet::new(),
            seen: HashMap::new(),
            sheet_years: parsed
                .sheets
                .iter()
                .map(|s| (s.name.clone(), s.year))
                .collect(),
            default_year: opts.year,
            ahead: Default::default(),
        };
        plan::plan_all(&mut c, &mut ctx, &parsed, &mut report_progress).await?
    };
    let mut report = report_of(file_name, &parsed, &planned, dry_run);
    let detail = format!(
        "file={file_name} matters={} milestones={} refused={} create={} update={}",
        report.summary.matters,
        report.summary.milestones,
        report.summary.refused.len(),
        report.created,
        report.updated
    );
    if dry_run {
        audit::record_alone(app, who, Event::ok(action, "import", file_name, detail)).await?;
        return Ok(report);
    }
    if !report.summary.refused.is_empty() {
        audit::record_alone(
            app,
            who,
            Event::ok("ledger.import_refused", "import", file_name, detail),
        )
        .await?;
        blocked(&mut report);
        return Ok(report);
    }
    let mut c = app.store.begin().await?;
    let total = planned.len();
    for (i, p) in planned.iter().enumerate() {
        if let Some(prep) = &p.prepared {
            super::apply::apply_row(app, &mut c, who, file_name, p, prep)
                .await
                .map_err(|e| at_row(&p.plan, e))?;
        }
        if (i + 1) % 200 == 0 || i + 1 == total {
            progress(ImportProgress::Applied(i + 1, total));
        }
    }
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(action, "import", file_name, detail),
    )
    .await?;
    c.commit().await?;
    report.applied = true;
    Ok(report)
}

/// Nothing was applied: the counts of what was imported are zero; the rows still say why.
fn blocked(report: &mut ImportReport) {
    report.summary.matters = 0;
    report.summary.milestones = 0;
    report.summary.no_fixed_deadline = 0;
    report.created = 0;
    report.updated = 0;
}

/// An error while applying names its row (the whole file is rolled back).
fn at_row(p: &RowPlan, e: AppError) -> AppError {
    match e {
        AppError::Invalid {
            field,
            code,
            message,
        } => AppError::Invalid {
            field,
            code,
            message: format!(
                "工作表「{}」第 {} 行：{message}；整个文件未导入",
                p.sheet, p.row
            ),
        },
        other => other,
    }
}

fn report_of(
    file_name: &str,
    parsed: &ParsedWorkbook,
    planned: &[Planned],
    dry_run: bool,
) -> ImportReport {
    let ok: Vec<&Planned> = planned.iter().filter(|p| p.prepared.is_some()).collect();
    let mut refused = parsed.refused.clone();
    refused.extend(plan::refusals(planned));
    let order: HashMap<&str, usize> = parsed
        .sheets
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    refused.sort_by_key(|r| (order.get(r.sheet.as_str()).copied().unwrap_or(0), r.row));
    let count = |a: RowAction| planned.iter().filter(|p| p.plan.action == a).count();
    ImportReport {
        file_name: file_name.to_owned(),
        format: parsed.format,
        dry_run,
        applied: false,
        summary: ImportSummary {
            matters: ok.len(),
            milestones: ok.iter().map(|p| p.plan.milestones).sum(),
            refused,
            no_fixed_deadline: ok.iter().filter(|p| p.plan.no_fixed_deadline).count(),
        },
        created: count(RowAction::Create),
        updated: count(RowAction::Update),
        unchanged: count(RowAction::Unchanged),
        rows: planned.iter().map(|p| p.plan.clone()).collect(),
        skipped: parsed
            .sheets
            .iter()
            .flat_map(|s| {
                s.skipped.iter().map(|k| SkippedLine {
                    sheet: s.name.clone(),
                    row: k.row,
                    reason: k.reason.clone(),
                })
            })
            .collect(),
        mappings: parsed.mappings(),
    }
}
