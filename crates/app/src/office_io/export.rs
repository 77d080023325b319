//! 导出台账: exactly what the ledger list returns for this caller (same filters, same scope and
//! labels), as the standard `.xlsx` (one sheet per year) or a `.csv` with BOM. Audited.
//!
//! Streamed in constant memory: the list query first yields only the ids, in list order; the
//! rows are then read a thousand at a time (with their 配合单位, milestones and import texts),
//! turned into ledger rows and handed to a writer on a blocking thread, which writes them
//! straight into the workbook's constant-memory sheets (or the CSV). Reading the next chunk and
//! writing the previous one overlap. The output goes to a file ([`export_ledger_file`]: an
//! anonymous temporary file the web download streams from; [`export_ledger_to`]: any writer).

use std::collections::HashMap;
use std::io::{BufWriter, Read, Seek, Write};

use taizhang_domain::feedback::FeedbackCycle;
use taizhang_domain::policy::Action;
use taizhang_office::{LedgerCsvWriter, LedgerMeta, LedgerMilestone, LedgerRow, LedgerXlsxWriter};
use taizhang_store::{Conn, imports, ledger as store_ledger, matters as store_matters};
use tokio::sync::mpsc;

use super::names::Directory;
use crate::audit::{self, Event};
use crate::clock::format_ms;
use crate::ledger::list::{ListedIds, MatterQuery, list_all_ids, list_all_matters};
use crate::ledger::matters::MatterView;
use crate::{App, AppError, AppResult, Caller};

/// Matters read, converted and handed to the writer at a time.
const CHUNK: usize = 1000;

/// File format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Xlsx,
    Csv,
}

impl ExportFormat {
    /// From a file name or extension (`台账.xlsx`, `csv`).
    pub fn from_name(name: &str) -> Option<ExportFormat> {
        let ext = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
        match ext.as_str() {
            "xlsx" => Some(Self::Xlsx),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Xlsx => "xlsx",
            Self::Csv => "csv",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// Every matter the list query returns for `who` (all pages), in list order. Holds them all:
/// the export itself streams ([`export_ledger_to`]).
pub async fn export_views(
    app: &App,
    who: &Caller,
    query: &MatterQuery,
) -> AppResult<Vec<MatterView>> {
    list_all_matters(app, who, query).await
}

/// The ledger rows of `views` (names resolved, milestones and import texts attached).
pub async fn ledger_rows(app: &App, views: &[MatterView]) -> AppResult<Vec<LedgerRow>> {
    let mut c = app.store.read().await?;
    let dir = Directory::load(&mut c).await?;
    let mut rows = Vec::with_capacity(views.len());
    for chunk in views.chunks(CHUNK) {
        rows.extend(rows_of(&mut c, &dir, chunk).await?);
    }
    Ok(rows)
}

/// The ledger rows of a chunk of views: their 配合单位, milestones and import texts in three
/// queries.
async fn rows_of(c: &mut Conn, dir: &Directory, views: &[MatterView]) -> AppResult<Vec<LedgerRow>> {
    let ids: Vec<i64> = views.iter().map(|v| v.row.id).collect();
    let mut extras = imports::extras_of(c, &ids).await?;
    let mut assisting_of: HashMap<i64, Vec<i64>> = HashMap::new();
    for (m, u) in store_matters::assisting_units_of(c, &ids).await? {
        assisting_of.entry(m).or_default().push(u);
    }
    let mut milestones_of: HashMap<i64, Vec<LedgerMilestone>> = HashMap::new();
    for ms in store_ledger::milestones_of(c, &ids).await? {
        milestones_of
            .entry(ms.matter_id)
            .or_default()
            .push(LedgerMilestone {
                date: ms.due_on.parse().ok(),
                title: ms.title,
            });
    }
    let mut rows = Vec::with_capacity(views.len());
    for v in views {
        let m = &v.row;
        let assisting = assisting_of.remove(&m.id).unwrap_or_default();
        let milestones = milestones_of.remove(&m.id).unwrap_or_default();
        let extra = extras.remove(&m.id).unwrap_or_default();
        rows.push(LedgerRow {
            year: i16::try_from(m.year).unwrap_or(0),
            seq: u32::try_from(m.seq).unwrap_or(0),
            number: m.number.clone(),
            title: m.title.clone(),
            content: m.content.clone(),
            source: taizhang_domain::matter::SourceCategory::parse(&m.source_category)
                .map(|s| s.label_zh().to_owned())
                .unwrap_or_default()
                .replace("其他", "")
                + &m.source_doc,
            lead_leader: m
                .lead_leader_id
                .map(|id| dir.person_name(id).to_owned())
                .unwrap_or_default(),
            lead_unit: dir.unit_name(m.lead_unit_id).to_owned(),
            assisting_units: assisting
                .iter()
                .map(|u| dir.unit_name(*u).to_owned())
                .collect(),
            deadline: m.deadline.as_deref().and_then(|d| d.parse().ok()),
            deadline_note: match (m.deadline_kind.as_str(), m.deadline_workdays) {
                ("workdays", Some(n)) => format!("{n}个工作日内"),
                ("calendar_days", Some(n)) => format!("{n}日内"),
                _ => "长期坚持".into(),
            },
            feedback_cycle: FeedbackCycle::parse(&m.feedback_cycle).ok(),
            milestones,
            remaining_workdays: v.days_left,
            light: Some(v.light),
            status: v.status_label.clone(),
            progress: m.latest_progress.clone(),
            problems: extra.problems,
            next_steps: extra.next_steps,
            remarks: m.remarks.clone(),
        });
    }
    Ok(rows)
}

/// A finished export in an anonymous temporary file (deleted when closed).
#[derive(Debug)]
pub struct LedgerExport {
    /// Positioned at its start.
    pub file: std::fs::File,
    /// Bytes in the file.
    pub len: u64,
    /// Matters exported.
    pub rows: u64,
}

/// Export the ledger as the caller sees it in the list into an anonymous temporary file, to be
/// streamed out. Audited as `ledger.export`.
pub async fn export_ledger_file(
    app: &App,
    who: &Caller,
    query: &MatterQuery,
    format: ExportFormat,
) -> AppResult<LedgerExport> {
    let file = tempfile::tempfile().map_err(internal)?;
    let (mut file, rows) = export_ledger_to(app, who, query, format, file).await?;
    let len = file.stream_position().map_err(internal)?;
    file.rewind().map_err(internal)?;
    Ok(LedgerExport { file, len, rows })
}

/// Export the ledger as the caller sees it, in memory (small ledgers, tests); the streaming
/// forms are [`export_ledger_file`] and [`export_ledger_to`]. Audited as `ledger.export`.
pub async fn export_ledger(
    app: &App,
    who: &Caller,
    query: &MatterQuery,
    format: ExportFormat,
) -> AppResult<Vec<u8>> {
    let mut e = export_ledger_file(app, who, query, format).await?;
    let mut bytes = Vec::with_capacity(usize::try_from(e.len).unwrap_or(0));
    e.file.read_to_end(&mut bytes).map_err(internal)?;
    Ok(bytes)
}

/// Export the ledger as the caller sees it in the list into `out`, streaming: memory stays flat
/// whatever the size of the ledger. Returns `out` (flushed) and the number of matters written.
/// Audited as `ledger.export`; a refusal is audited as `denied` and nothing is written.
pub async fn export_ledger_to<W: Write + Send + 'static>(
    app: &App,
    who: &Caller,
    query: &MatterQuery,
    format: ExportFormat,
    out: W,
) -> AppResult<(W, u64)> {
    if let Err(e) = who.require(Action::ExportLedger, None) {
        audit::record_alone(app, who, Event::denied("ledger.export", "ledger", "", "")).await?;
        return Err(e);
    }
    let listed = list_all_ids(app, who, query).await?;
    let mut c = app.store.read().await?;
    let dir = Directory::load(&mut c).await?;
    let reporting_unit = if who.is_system() {
        String::new()
    } else {
        dir.unit_name(who.unit_id).to_owned()
    };
    let meta = LedgerMeta {
        title: "督办事项台账".into(),
        reporting_unit,
        exported_at: format_ms(app.clock.now_ms()),
    };
    // Two chunks in flight at most: one being written, one waiting.
    let (tx, rx) = mpsc::channel(2);
    let writer = tokio::task::spawn_blocking(move || write_chunks(format, &meta, rx, out));
    let read = send_chunks(&mut c, &dir, &listed, tx).await;
    drop(c);
    let written = writer.await.map_err(internal)?;
    // A failed read aborts the writer; its error is the one to report.
    read?;
    let (out, rows) = written?;
    let detail = format!(
        "format={} rows={} year={:?} unit={:?} q={:?}",
        format.extension(),
        rows,
        query.year,
        query.unit_id,
        query.q
    );
    audit::record_alone(app, who, Event::ok("ledger.export", "ledger", "", detail)).await?;
    Ok((out, rows))
}

/// A chunk of rows for the writer; `None` after the last chunk (the export is complete).
type Chunk = Option<Vec<LedgerRow>>;

/// Reads the listed matters a chunk at a time and sends their ledger rows to the writer, then
/// the end mark. Stops early when the writer has gone (it failed; its error is reported).
async fn send_chunks(
    c: &mut Conn,
    dir: &Directory,
    listed: &ListedIds,
    tx: mpsc::Sender<Chunk>,
) -> AppResult<()> {
    for ids in listed.ids.chunks(CHUNK) {
        let views = listed.views(c, ids).await?;
        let rows = rows_of(c, dir, &views).await?;
        drop(views);
        if tx.send(Some(rows)).await.is_err() {
            return Ok(());
        }
    }
    // The writer may be gone already; it reports why.
    let _ = tx.send(None).await;
    Ok(())
}

/// The writer's side (a blocking thread): every received row goes straight into the output.
fn write_chunks<W: Write + Send>(
    format: ExportFormat,
    meta: &LedgerMeta,
    mut rx: mpsc::Receiver<Chunk>,
    out: W,
) -> AppResult<(W, u64)> {
    let mut next = || match rx.blocking_recv() {
        Some(chunk) => Ok(chunk),
        None => Err(AppError::Internal("导出中断".into())),
    };
    match format {
        ExportFormat::Xlsx => {
            let mut w = LedgerXlsxWriter::new(meta);
            while let Some(rows) = next()? {
                for r in &rows {
                    w.push(r).map_err(internal)?;
                }
            }
            let rows = w.rows();
            let mut buf = BufWriter::with_capacity(1 << 16, out);
            w.finish(&mut buf).map_err(internal)?;
            Ok((buf.into_inner().map_err(|e| internal(e.error()))?, rows))
        }
        ExportFormat::Csv => {
            let mut w =
                LedgerCsvWriter::new(BufWriter::with_capacity(1 << 16, out)).map_err(internal)?;
            while let Some(rows) = next()? {
                for r in &rows {
                    w.push(r).map_err(internal)?;
                }
            }
            let rows = w.rows();
            let buf = w.finish().map_err(internal)?;
            Ok((buf.into_inner().map_err(|e| internal(e.error()))?, rows))
        }
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}
