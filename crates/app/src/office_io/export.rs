//! 导出台账: exactly what the ledger list returns for this caller (same filters, same scope and
//! labels), as the standard `.xlsx` (one sheet per year) or a `.csv` with BOM. Audited.

use std::io::Cursor;

use taizhang_domain::feedback::FeedbackCycle;
use taizhang_domain::policy::Action;
use taizhang_office::{
    LedgerMeta, LedgerMilestone, LedgerRow, write_ledger_csv, write_ledger_xlsx,
};
use taizhang_store::{imports, ledger as store_ledger, matters as store_matters};

use super::names::Directory;
use crate::audit::{self, Event};
use crate::clock::format_ms;
use crate::ledger::list::{MatterQuery, list_all_matters};
use crate::ledger::matters::MatterView;
use crate::{App, AppError, AppResult, Caller};

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

/// Every matter the list query returns for `who` (all pages), in list order.
pub async fn export_views(
    app: &App,
    who: &Caller,
    query: &MatterQuery,
) -> AppResult<Vec<MatterView>> {
    // The same query, scope and order as the list, in one pass rather than page by page.
    list_all_matters(app, who, query).await
}

/// The ledger rows of an export (names resolved, milestones and import texts attached).
pub async fn ledger_rows(app: &App, views: &[MatterView]) -> AppResult<Vec<LedgerRow>> {
    let mut c = app.store.read().await?;
    let dir = Directory::load(&mut c).await?;
    let ids: Vec<i64> = views.iter().map(|v| v.row.id).collect();
    let extras = imports::extras_of(&mut c, &ids).await?;
    // Assisting units and milestones of all matters, a thousand ids per query.
    let mut assisting_of: std::collections::HashMap<i64, Vec<i64>> =
        std::collections::HashMap::new();
    let mut milestones_of: std::collections::HashMap<i64, Vec<LedgerMilestone>> =
        std::collections::HashMap::new();
    for chunk in ids.chunks(1000) {
        for (m, u) in store_matters::assisting_units_of(&mut c, chunk).await? {
            assisting_of.entry(m).or_default().push(u);
        }
        for ms in store_ledger::milestones_of(&mut c, chunk).await? {
            milestones_of
                .entry(ms.matter_id)
                .or_default()
                .push(LedgerMilestone {
                    date: ms.due_on.parse().ok(),
                    title: ms.title,
                });
        }
    }
    let mut rows = Vec::with_capacity(views.len());
    for v in views {
        let m = &v.row;
        let assisting = assisting_of.remove(&m.id).unwrap_or_default();
        let milestones = milestones_of.remove(&m.id).unwrap_or_default();
        let extra = extras.get(&m.id).cloned().unwrap_or_default();
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

/// Export the ledger as the caller sees it in the list. Audited as `ledger.export`.
pub async fn export_ledger(
    app: &App,
    who: &Caller,
    query: &MatterQuery,
    format: ExportFormat,
) -> AppResult<Vec<u8>> {
    if let Err(e) = who.require(Action::ExportLedger, None) {
        audit::record_alone(app, who, Event::denied("ledger.export", "ledger", "", "")).await?;
        return Err(e);
    }
    let views = export_views(app, who, query).await?;
    let rows = ledger_rows(app, &views).await?;
    let reporting_unit = if who.is_system() {
        String::new()
    } else {
        let mut c = app.store.read().await?;
        Directory::load(&mut c)
            .await?
            .unit_name(who.unit_id)
            .to_owned()
    };
    let meta = LedgerMeta {
        title: "督办事项台账".into(),
        reporting_unit,
        exported_at: format_ms(app.clock.now_ms()),
    };
    let bytes = match format {
        ExportFormat::Xlsx => {
            let mut buf = Cursor::new(Vec::new());
            write_ledger_xlsx(&rows, &meta, &mut buf).map_err(internal)?;
            buf.into_inner()
        }
        ExportFormat::Csv => {
            let mut buf = Vec::new();
            write_ledger_csv(&rows, &mut buf).map_err(internal)?;
            buf
        }
    };
    let detail = format!(
        "format={} rows={} year={:?} unit={:?} q={:?}",
        format.extension(),
        rows.len(),
        query.year,
        query.unit_id,
        query.q
    );
    audit::record_alone(app, who, Event::ok("ledger.export", "ledger", "", detail)).await?;
    Ok(bytes)
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}
