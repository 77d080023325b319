//! `taizhang import ledger …` and `taizhang export ledger …`: Excel ledgers in and out from the
//! command line, acting as the system (`cli`) or as a named user (`--as USERNAME`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use taizhang_app::ledger::list::MatterQuery;
use taizhang_app::office_io::{
    ExportFormat, ImportOptions, ImportProgress, ImportReport, export_ledger_to,
    import_ledger_with_progress,
};
use taizhang_app::{App, Caller};

use crate::cli::open_app;
use crate::config::Config;

#[derive(Subcommand, Debug)]
pub enum ImportCmd {
    /// Import a ledger (.xlsx, .xls, .csv). All-or-nothing: a file with any refused row is not
    /// applied (each refusal is listed with its sheet and row). Re-importing updates the matters
    /// imported before. New matters start as 办理中 (已办结/已销号/已中止 when 完成情况 says so).
    Ledger(ImportArgs),
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The ledger file.
    pub file: PathBuf,
    /// Only this sheet.
    #[arg(long)]
    pub sheet: Option<String>,
    /// Only sheets of this year, and the year of dates written without one.
    #[arg(long)]
    pub year: Option<i16>,
    /// Check the file and report what would be imported; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output: text (default) or json (`{"matters","milestones","refused","no_fixed_deadline"}`).
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Act as this user (their permissions apply) instead of the system.
    #[arg(long = "as")]
    pub as_user: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ExportCmd {
    /// Export the ledger as .xlsx (one sheet per year) or .csv (by the extension of --out).
    Ledger(ExportArgs),
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long)]
    pub year: Option<i64>,
    /// Lead or assisting unit, by name.
    #[arg(long)]
    pub unit: Option<String>,
    /// Output file: FILE.xlsx or FILE.csv.
    #[arg(long)]
    pub out: PathBuf,
    /// Act as this user (their scope applies) instead of the system.
    #[arg(long = "as")]
    pub as_user: Option<String>,
}

async fn caller(app: &App, as_user: Option<&str>) -> anyhow::Result<Caller> {
    match as_user {
        None => Ok(Caller::system("cli")),
        Some(u) => taizhang_app::caller::load_caller_by_username(app, u)
            .await
            .with_context(|| format!("no user `{u}`")),
    }
}

pub async fn run_import(cfg: &Config, cmd: ImportCmd) -> anyhow::Result<ExitCode> {
    let ImportCmd::Ledger(a) = cmd;
    let json = match a.format.as_str() {
        "json" => true,
        "text" => false,
        other => bail!("unknown --format `{other}` (text or json)"),
    };
    let bytes =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let name = a
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let app = open_app(cfg).await?;
    let who = caller(&app, a.as_user.as_deref()).await?;
    let opts = ImportOptions {
        sheet: a.sheet,
        year: a.year,
        ..ImportOptions::default()
    };
    let mut progress = |p: ImportProgress| {
        let (what, d, t) = match p {
            ImportProgress::Checked(d, t) => ("checked", d, t),
            ImportProgress::Applied(d, t) => ("applied", d, t),
        };
        if t >= 1000 {
            eprintln!("{what} {d}/{t}");
        }
    };
    let report = import_ledger_with_progress(
        &app,
        &who,
        &bytes,
        &name,
        &opts,
        None,
        a.dry_run,
        &mut progress,
    )
    .await?;
    if json {
        println!("{}", serde_json::to_string(&report.summary)?);
    } else {
        print_text(&report);
    }
    // All-or-nothing: any refused row means the file cannot be applied (a dry run says so too).
    Ok(if !report.summary.refused.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_text(r: &ImportReport) {
    let mut out = std::io::stdout().lock();
    for row in &r.rows {
        let _ = writeln!(
            out,
            "{}!{:<5} {:<4} {}{}{}",
            row.sheet,
            row.row,
            row.action_label,
            row.title,
            row.reason
                .as_ref()
                .map(|x| format!("：{x}"))
                .unwrap_or_default(),
            if row.notes.is_empty() {
                String::new()
            } else {
                format!("（{}）", row.notes.join("；"))
            },
        );
    }
    for x in r.summary.refused.iter().filter(|x| {
        !r.rows
            .iter()
            .any(|row| row.sheet == x.sheet && row.row == x.row)
    }) {
        let _ = writeln!(out, "{}!{:<5} 拒绝 {}", x.sheet, x.row, x.reason);
    }
    let s = &r.summary;
    let _ = writeln!(
        out,
        "事项 {} 件（新建 {}，更新 {}，无变化 {}），节点 {} 个，无固定时限 {} 件，拒绝 {} 行",
        s.matters,
        r.created,
        r.updated,
        r.unchanged,
        s.milestones,
        s.no_fixed_deadline,
        s.refused.len()
    );
    let verdict = if r.dry_run {
        "预检完成，未写入任何数据"
    } else if r.applied {
        "已导入"
    } else {
        "存在被拒绝的行，整个文件未导入（全部或全不）"
    };
    let _ = writeln!(out, "{verdict}");
}

pub async fn run_export(cfg: &Config, cmd: ExportCmd) -> anyhow::Result<ExitCode> {
    let ExportCmd::Ledger(a) = cmd;
    let name = a.out.to_string_lossy().into_owned();
    let Some(format) = ExportFormat::from_name(&name) else {
        bail!("--out must end in .xlsx or .csv");
    };
    let app = open_app(cfg).await?;
    let who = caller(&app, a.as_user.as_deref()).await?;
    let unit_id = match &a.unit {
        None => None,
        Some(u) => Some(unit_by_name(&app, u).await?),
    };
    let q = MatterQuery {
        year: a.year,
        unit_id,
        ..MatterQuery::default()
    };
    // Streamed into a temporary file beside the target, which replaces the target only once
    // the export is complete (a refused or failed export leaves an existing file as it was).
    let dir = match a.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let (tmp, rows) = export_ledger_to(&app, &who, &q, format, tmp).await?;
    let len = tmp.as_file().metadata()?.len();
    tmp.persist(&a.out)
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    eprintln!("wrote {} ({rows} matters, {len} bytes)", a.out.display());
    Ok(ExitCode::SUCCESS)
}

async fn unit_by_name(app: &App, name: &str) -> anyhow::Result<i64> {
    let mut c = app.store.read().await?;
    let wanted = plain_name(name);
    let units = taizhang_store::org::list_units(&mut c).await?;
    units
        .iter()
        .find(|u| plain_name(&u.name) == wanted || plain_name(&u.short_name) == wanted)
        .map(|u| u.id)
        .with_context(|| format!("no unit named `{name}`"))
}

/// Names compared without spaces (the CLI does not depend on the office crate).
fn plain_name(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}
