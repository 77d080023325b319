//! 进展反馈 (定期报告): the lead unit reports each cycle, 配合单位 contribute, the supervision
//! office accepts or returns with a reason; 节点 are marked done as they are reached.

use taizhang_domain::feedback::FeedbackCycle;
use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::matter::Progress;
use taizhang_domain::policy::Action;
use taizhang_store::ledger::{self as store_ledger, ReportRow};

use super::{bounded, domain_error, open_step, person_of, required_reason, today};
use crate::{App, AppError, AppResult, Caller};

/// One 进展反馈.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgressInput {
    /// 本期进展
    pub body: String,
    /// 完成比例 (optional: a self-reported percentage is easy to game).
    pub progress: Option<u8>,
    /// 存在问题
    pub problems: String,
    /// 需协调事项
    pub coordination: String,
    /// 下步打算
    pub next_steps: String,
}

/// Submit a progress report. From the lead unit it becomes the matter's latest progress (and
/// its last update); from a 配合单位 it is recorded as a contribution. Returns the report id.
pub async fn report_progress(
    app: &App,
    who: &Caller,
    id: i64,
    input: ProgressInput,
) -> AppResult<i64> {
    let reporter = person_of(who)?;
    let body = bounded("body", &input.body)?;
    if body.is_empty() {
        return Err(AppError::invalid("body", "body_required", "请填写本期进展"));
    }
    let progress = input
        .progress
        .map(|p| Progress::new(p).map_err(|e| domain_error("progress", e)))
        .transpose()?;
    let mut s = open_step(app, who, id, Action::ReportProgress).await?;
    if !matches!(
        s.from,
        MatterStatus::InProgress | MatterStatus::ExtensionPending | MatterStatus::StopPending
    ) {
        return Err(AppError::rule(
            "transition",
            format!("事项处于「{}」状态，不能报送进展", s.from.label_zh()),
        ));
    }
    let today = today(app);
    let lead = who.is_system()
        || who.unit_id == s.m.lead_unit_id
        || who.actor.subtree.contains(&s.m.lead_unit_id);
    let cal = super::calendar::load(&mut s.c).await?;
    let due_on = FeedbackCycle::parse(&s.m.feedback_cycle)
        .ok()
        .and_then(|cy| {
            let horizon = today.checked_add(jiff::Span::new().days(62)).ok()?;
            cy.due_dates(&cal, today, horizon)
                .first()
                .map(ToString::to_string)
        });
    let row = ReportRow {
        id: 0,
        matter_id: id,
        unit_id: if lead { s.m.lead_unit_id } else { who.unit_id },
        reporter_id: reporter,
        due_on,
        submitted_at: app.clock.now_ms(),
        submitted_on: today.to_string(),
        progress: progress.map(|p| i64::from(p.get())),
        body: body.clone(),
        problems: bounded("problems", &input.problems)?,
        coordination: bounded("coordination", &input.coordination)?,
        next_steps: bounded("next_steps", &input.next_steps)?,
        contribution: !lead,
        status: "submitted".into(),
        review_note: String::new(),
        reviewed_by: None,
        reviewed_at: None,
    };
    let report_id = store_ledger::insert_report(&mut s.c, &row).await?;
    if lead {
        s.m.latest_progress = body;
        s.m.last_update_on = Some(today.to_string());
        if let Some(p) = row.progress {
            s.m.progress = Some(p);
        }
    }
    let kind = if lead {
        "report_progress"
    } else {
        "contribute_progress"
    };
    s.finish(app, who, kind, &format!("report={report_id}"))
        .await?;
    Ok(report_id)
}

/// Accept a report, or return it with a reason (退回).
pub async fn review_progress(
    app: &App,
    who: &Caller,
    report_id: i64,
    accept: bool,
    note: &str,
) -> AppResult<()> {
    let note = if accept {
        bounded("note", note)?
    } else {
        required_reason(note)?
    };
    let mut c = app.store.read().await?;
    let report = store_ledger::get_report(&mut c, report_id).await?;
    drop(c);
    let mut s = open_step(app, who, report.matter_id, Action::ReviewProgress).await?;
    let status = if accept { "accepted" } else { "returned" };
    store_ledger::review_report(
        &mut s.c,
        report_id,
        status,
        &note,
        who.person_id,
        app.clock.now_ms(),
    )
    .await
    .map_err(|_| AppError::rule("already_reviewed", "该进展已审核"))?;
    let kind = if accept {
        "accept_progress"
    } else {
        "return_progress"
    };
    s.finish(app, who, kind, &format!("report={report_id} {note}"))
        .await
}

/// Whether 节点 can be marked done in this status (after 签收, until the matter is finished).
pub fn milestones_open_in(status: MatterStatus) -> bool {
    matches!(
        status,
        MatterStatus::InProgress
            | MatterStatus::ExtensionPending
            | MatterStatus::StopPending
            | MatterStatus::CompletionPending
    )
}

/// Mark a 节点 of a matter done today, with an optional note (说明). The timeline row names the
/// 节点 (`标题` or `标题：说明`) and who marked it.
pub async fn complete_milestone(
    app: &App,
    who: &Caller,
    id: i64,
    milestone_id: i64,
    note: &str,
) -> AppResult<()> {
    let note = bounded("note", note)?;
    let mut s = open_step(app, who, id, Action::ReportProgress).await?;
    if !milestones_open_in(s.from) {
        return Err(AppError::rule(
            "transition",
            format!("事项处于「{}」状态，不能完成节点", s.from.label_zh()),
        ));
    }
    let ms = store_ledger::list_milestones(&mut s.c, id)
        .await?
        .into_iter()
        .find(|m| m.id == milestone_id)
        .ok_or_else(|| AppError::NotFound(format!("节点 {milestone_id}")))?;
    if ms.done_on.is_some() {
        return Err(AppError::rule("milestone_done", "该节点已完成"));
    }
    let today = today(app);
    store_ledger::set_milestone_done(&mut s.c, milestone_id, Some(&today.to_string())).await?;
    s.m.last_update_on = Some(today.to_string());
    let event_note = if note.is_empty() {
        ms.title.clone()
    } else {
        format!("{}：{note}", ms.title)
    };
    s.finish(app, who, "milestone_done", &event_note).await
}
