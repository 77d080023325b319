//! Report downloads: the cadences' stored results (weekly summaries, the frozen monthly
//! snapshot, the 年度归零 report) turned into the office crate's report structs and rendered as
//! `.docx` (公文-like) or `.xlsx`. Nothing is recounted here. Every download is audited.

use jiff::civil::Date;
use taizhang_domain::period::PeriodKey;
use taizhang_office::report::{MatterLine, ReconLine, StatusCount, Totals, UnitLine};
use taizhang_office::{
    AnnualReconciliation, Bulletin, Document, MonthlyReport, ReportHeader, WeeklyReport,
    render_docx, render_xlsx,
};
use taizhang_store::org;

use crate::audit::{self, Event};
use crate::ledger::monthly::{MonthlySnapshot, get_monthly_snapshot};
use crate::ledger::weekly::{Line, list_weekly_summaries};
use crate::ledger::{today, year::year_report};
use crate::{App, AppError, AppResult, Caller};

/// A report file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Docx,
    Xlsx,
}

impl ReportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Docx => "docx",
            Self::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

const ISSUER: &str = "督查室";

fn header(app: &App, title: String) -> ReportHeader {
    ReportHeader {
        title,
        doc_number: None,
        issuer: ISSUER.into(),
        date: today(app),
    }
}

fn bad_period(key: &str) -> AppError {
    AppError::invalid("period", "period", format!("期间「{key}」格式无效"))
}

async fn render(
    app: &App,
    who: &Caller,
    kind: &str,
    key: &str,
    doc: Document,
    format: ReportFormat,
) -> AppResult<Vec<u8>> {
    let bytes = match format {
        ReportFormat::Docx => render_docx(&doc),
        ReportFormat::Xlsx => render_xlsx(&doc),
    }
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let detail = format!("kind={kind} format={}", format.extension());
    audit::record_alone(
        app,
        who,
        Event::ok("report.download", "report", key, detail),
    )
    .await?;
    Ok(bytes)
}

fn matter_line(l: &Line) -> MatterLine {
    MatterLine {
        number: l.number.clone(),
        title: l.title.clone(),
        unit: String::new(),
        deadline: None,
        status: String::new(),
        note: l.text.clone(),
    }
}

/// 一周一小结 of `week_key` (`2026-W12`): the department-wide summary, or the caller's units'.
pub async fn weekly_report(app: &App, who: &Caller, week_key: &str) -> AppResult<WeeklyReport> {
    let week = PeriodKey::parse(week_key).map_err(|_| bad_period(week_key))?;
    let (start, end) = match (week.first_day(), week.last_day()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return Err(bad_period(week_key)),
    };
    let summaries = list_weekly_summaries(app, who, week_key).await?;
    let pick: Vec<_> = match summaries.iter().find(|s| s.facts.unit_id.is_none()) {
        Some(all) => vec![all],
        None => summaries.iter().collect(),
    };
    if pick.is_empty() {
        return Err(AppError::NotFound(format!("{week_key} 的周小结")));
    }
    let lines = |f: fn(&crate::ledger::weekly::WeeklyFacts) -> &Vec<Line>| -> Vec<MatterLine> {
        pick.iter()
            .flat_map(|s| f(&s.facts))
            .map(matter_line)
            .collect()
    };
    let moved = lines(|f| &f.moved);
    let completed = u32::try_from(pick.iter().map(|s| s.facts.completed.len()).sum::<usize>())
        .unwrap_or(u32::MAX);
    let stuck = lines(|f| &f.stuck);
    Ok(WeeklyReport {
        header: header(app, format!("{week_key}督办工作小结")),
        week_start: start,
        week_end: end,
        totals: Totals {
            total: u32::try_from(moved.len()).unwrap_or(u32::MAX) + completed,
            completed,
            in_progress: u32::try_from(moved.len()).unwrap_or(u32::MAX),
            overdue: u32::try_from(stuck.len()).unwrap_or(u32::MAX),
            ..Totals::default()
        },
        moved,
        stuck,
        coordination: lines(|f| &f.coordination),
    })
}

pub async fn weekly_report_file(
    app: &App,
    who: &Caller,
    week_key: &str,
    format: ReportFormat,
) -> AppResult<Vec<u8>> {
    let r = weekly_report(app, who, week_key).await?;
    render(app, who, "weekly", week_key, r.to_document(), format).await
}

async fn snapshot(app: &App, who: &Caller, month_key: &str) -> AppResult<MonthlySnapshot> {
    get_monthly_snapshot(app, who, month_key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("{month_key} 的月度盘点")))
}

async fn unit_names(app: &App) -> AppResult<std::collections::HashMap<i64, String>> {
    let mut c = app.store.read().await?;
    Ok(org::list_units(&mut c)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

fn n32(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

fn status_label(code: &str) -> String {
    taizhang_domain::lifecycle::MatterStatus::parse(code)
        .map_or_else(|| code.to_owned(), |s| s.label_zh().to_owned())
}

fn snapshot_totals(s: &MonthlySnapshot) -> Totals {
    let count = |k: &str| s.by_status.get(k).copied().unwrap_or(0);
    let completed = count("completed") + count("closed");
    let running: i64 = [
        "assigned",
        "in_progress",
        "extension_pending",
        "stop_pending",
        "completion_pending",
    ]
    .iter()
    .map(|k| count(k))
    .sum();
    Totals {
        total: n32(s.total),
        completed: n32(completed),
        in_progress: n32(running),
        overdue: n32(s.overdue),
        extensions: n32(s.extensions_granted),
        notices: n32(s.notices_by_color.values().sum()),
    }
}

fn lagging_lines(
    s: &MonthlySnapshot,
    names: &std::collections::HashMap<i64, String>,
) -> Vec<MatterLine> {
    s.lagging_by_unit
        .iter()
        .flat_map(|(u, items)| {
            items.iter().map(move |l| MatterLine {
                number: l.number.clone(),
                title: l.title.clone(),
                unit: names.get(u).cloned().unwrap_or_default(),
                deadline: None,
                status: "滞后".into(),
                note: l
                    .days_left
                    .map(|d| format!("剩余{d}个工作日"))
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// 一月一盘点 of `month_key` (`2026-10`), from the frozen snapshot.
pub async fn monthly_report(app: &App, who: &Caller, month_key: &str) -> AppResult<MonthlyReport> {
    let s = snapshot(app, who, month_key).await?;
    let names = unit_names(app).await?;
    let as_of: Date = s.as_of.parse().map_err(|_| bad_period(&s.as_of))?;
    let (year, month) = match PeriodKey::parse(month_key) {
        Ok(PeriodKey::Month { year, month }) => (year, month),
        _ => return Err(bad_period(month_key)),
    };
    Ok(MonthlyReport {
        header: header(
            app,
            format!("关于{year}年{month}月督办事项办理情况的盘点报告"),
        ),
        year,
        month,
        as_of,
        totals: snapshot_totals(&s),
        by_status: s
            .by_status
            .iter()
            .map(|(k, v)| StatusCount {
                label: status_label(k),
                count: n32(*v),
            })
            .collect(),
        by_unit: s
            .by_unit
            .iter()
            .map(|(u, m)| {
                let c = |k: &str| n32(m.get(k).copied().unwrap_or(0));
                UnitLine {
                    unit: names.get(u).cloned().unwrap_or_default(),
                    total: n32(m.values().sum()),
                    completed: c("completed") + c("closed"),
                    in_progress: c("assigned")
                        + c("in_progress")
                        + c("extension_pending")
                        + c("stop_pending")
                        + c("completion_pending"),
                    overdue: n32(s.overdue_by_unit.get(u).copied().unwrap_or(0)),
                }
            })
            .collect(),
        lagging: lagging_lines(&s, &names),
        notices_by_color: s
            .notices_by_color
            .iter()
            .map(|(k, v)| StatusCount {
                label: k.clone(),
                count: n32(*v),
            })
            .collect(),
    })
}

pub async fn monthly_report_file(
    app: &App,
    who: &Caller,
    month_key: &str,
    format: ReportFormat,
) -> AppResult<Vec<u8>> {
    let r = monthly_report(app, who, month_key).await?;
    render(app, who, "monthly", month_key, r.to_document(), format).await
}

/// 通报 of a frozen month: units without overdue matters are praised, lagging matters named.
pub async fn bulletin(app: &App, who: &Caller, month_key: &str) -> AppResult<Bulletin> {
    let s = snapshot(app, who, month_key).await?;
    let names = unit_names(app).await?;
    let praised = s
        .by_unit
        .iter()
        .filter(|(u, m)| {
            s.overdue_by_unit.get(u).copied().unwrap_or(0) == 0
                && !s.lagging_by_unit.contains_key(u)
                && m.get("completed").copied().unwrap_or(0) + m.get("closed").copied().unwrap_or(0)
                    > 0
        })
        .filter_map(|(u, _)| names.get(u).cloned())
        .collect();
    Ok(Bulletin {
        header: header(app, format!("关于{month_key}督办事项落实情况的通报")),
        scope: format!("截至{}", s.as_of),
        totals: snapshot_totals(&s),
        praised,
        criticized: lagging_lines(&s, &names),
        requirements: vec![
            "各单位要对照滞后事项逐项分析原因，明确整改措施和时限。".into(),
            "已逾期事项要在5个工作日内报送书面说明。".into(),
            "督查室将持续跟踪，按期办结销号。".into(),
        ],
    })
}

pub async fn bulletin_docx(app: &App, who: &Caller, month_key: &str) -> AppResult<Vec<u8>> {
    let b = bulletin(app, who, month_key).await?;
    render(
        app,
        who,
        "bulletin",
        month_key,
        b.to_document(),
        ReportFormat::Docx,
    )
    .await
}

/// 一年一归零 of a closed year, from the stored reconciliation.
pub async fn annual_report(app: &App, who: &Caller, year: i64) -> AppResult<AnnualReconciliation> {
    let r = year_report(app, who, year)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("{year}年度归零报告")))?;
    let names = unit_names(app).await?;
    let y = i16::try_from(year).map_err(|_| bad_period(&year.to_string()))?;
    let outcome = |label: &str, n: i64| StatusCount {
        label: label.into(),
        count: n32(n),
    };
    Ok(AnnualReconciliation {
        header: header(app, format!("{year}年度督办事项归零对账报告")),
        year: y,
        totals: Totals {
            total: n32(r.total),
            completed: n32(r.closed),
            ..Totals::default()
        },
        by_outcome: vec![
            outcome("办结销号", r.closed),
            outcome("中止", r.stopped),
            outcome("结转", r.carried_over),
        ],
        by_unit: r
            .by_unit
            .iter()
            .map(|(u, l)| UnitLine {
                unit: names.get(u).cloned().unwrap_or_default(),
                total: n32(l.total),
                completed: n32(l.closed),
                in_progress: n32(l.carried_over),
                overdue: n32(l.closed - l.on_time),
            })
            .collect(),
        lines: r
            .carried
            .iter()
            .map(|(old, new)| ReconLine {
                number: old.clone(),
                title: String::new(),
                unit: String::new(),
                outcome: "结转".into(),
                note: format!("结转为 {new}"),
            })
            .collect(),
    })
}

pub async fn annual_report_file(
    app: &App,
    who: &Caller,
    year: i64,
    format: ReportFormat,
) -> AppResult<Vec<u8>> {
    let r = annual_report(app, who, year).await?;
    render(
        app,
        who,
        "annual",
        &year.to_string(),
        r.to_document(),
        format,
    )
    .await
}
