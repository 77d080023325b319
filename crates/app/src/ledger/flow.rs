//! The matter lifecycle (办理流程) as use cases: 提交 → 批准立项(交办) → 签收 → 报办结 → 审核 →
//! 销号, with 驳回/退回 at each review, 延期 and 中止 with their approvals, 回头看 and 结转.
//! Each one is a single transaction: the change, the timeline row and the audit record.

use jiff::civil::Date;
use taizhang_domain::lifecycle::{MatterStatus, Transition};
use taizhang_domain::matter::{DeadlineSpec, NumberPattern, ensure_extension_in_time};
use taizhang_domain::policy::Action;
use taizhang_store::ledger::{self as store_ledger, ExtensionRow, MilestoneRow};
use taizhang_store::matters::{self as store_matters, MatterRow};

use super::{
    bounded, domain_error, open_step, parse_date, person_of, record_event, required_reason, today,
};
use crate::{App, AppError, AppResult, Caller};

/// One transition whose only data is a note (or a required reason) and a few row fields.
async fn simple(
    app: &App,
    who: &Caller,
    id: i64,
    action: Action,
    t: Transition,
    note: &str,
    edit: impl FnOnce(&mut MatterRow, Date),
) -> AppResult<()> {
    let note = if t.requires_reason() {
        required_reason(note)?
    } else {
        bounded("note", note)?
    };
    let mut s = open_step(app, who, id, action).await?;
    s.transit(t)?;
    edit(&mut s.m, today(app));
    s.finish(app, who, t.code(), &note).await
}

/// 提交 a draft for 立项 review.
pub async fn submit_matter(app: &App, who: &Caller, id: i64) -> AppResult<()> {
    simple(
        app,
        who,
        id,
        Action::SubmitMatter,
        Transition::Submit,
        "",
        |_, _| {},
    )
    .await
}

/// 批准立项并交办: the deadline is resolved now (N个工作日 count from today) and kept as the
/// original deadline.
pub async fn approve_matter(app: &App, who: &Caller, id: i64) -> AppResult<()> {
    let mut s = open_step(app, who, id, Action::ApproveMatter).await?;
    s.transit(Transition::Approve)?;
    let cal = super::calendar::load(&mut s.c).await?;
    let today = today(app);
    let spec = match (s.m.deadline_kind.as_str(), s.m.deadline_workdays) {
        ("workdays", Some(n)) => Some(DeadlineSpec::WorkingDays(u32::try_from(n).unwrap_or(0))),
        ("calendar_days", Some(n)) => {
            Some(DeadlineSpec::CalendarDays(u32::try_from(n).unwrap_or(0)))
        }
        ("date", _) => super::stored_date(s.m.deadline.as_deref()).map(DeadlineSpec::Date),
        _ => None,
    };
    if let Some(spec) = spec {
        let d = spec
            .resolve(&cal, today)
            .map_err(|e| domain_error("deadline", e))?;
        super::submatters::check_deadline_fits(&mut s.c, &s.m, d).await?;
        s.m.deadline = Some(d.to_string());
        if s.m.original_deadline.is_none() {
            s.m.original_deadline = Some(d.to_string());
        }
    }
    s.m.assigned_on = Some(today.to_string());
    s.m.signed_on = None;
    s.finish(app, who, "approve", "").await
}

/// 驳回立项 (back to draft, with a reason).
pub async fn reject_matter(app: &App, who: &Caller, id: i64, reason: &str) -> AppResult<()> {
    simple(
        app,
        who,
        id,
        Action::ApproveMatter,
        Transition::Reject,
        reason,
        |_, _| {},
    )
    .await
}

/// 签收 — the lead unit acknowledges the assignment.
pub async fn sign_for(app: &App, who: &Caller, id: i64) -> AppResult<()> {
    simple(
        app,
        who,
        id,
        Action::SignFor,
        Transition::SignFor,
        "",
        |m, d| {
            m.signed_on = Some(d.to_string());
        },
    )
    .await
}

/// 退回交办 — the unit returns the assignment (wrong unit, unclear task), with a reason.
pub async fn return_assignment(app: &App, who: &Caller, id: i64, reason: &str) -> AppResult<()> {
    simple(
        app,
        who,
        id,
        Action::SignFor,
        Transition::ReturnAssignment,
        reason,
        |_, _| {},
    )
    .await
}

/// A 延期申请.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionRequest {
    pub reason: String,
    pub current_progress: String,
    /// 预计完成时间 `YYYY-MM-DD`.
    pub proposed_deadline: String,
}

/// 申请延期: only before the deadline passes (`extension_after_deadline`), to a later date.
pub async fn request_extension(
    app: &App,
    who: &Caller,
    id: i64,
    req: ExtensionRequest,
) -> AppResult<i64> {
    let reason = required_reason(&req.reason)?;
    let proposed = parse_date("proposed_deadline", &req.proposed_deadline)?;
    let requester = person_of(who)?;
    let mut s = open_step(app, who, id, Action::RequestExtension).await?;
    let today = today(app);
    let deadline = super::stored_date(s.m.deadline.as_deref())
        .ok_or_else(|| AppError::rule("no_deadline", "事项没有办理时限，无需延期"))?;
    ensure_extension_in_time(today, deadline).map_err(|e| domain_error("proposed_deadline", e))?;
    if proposed <= deadline {
        return Err(AppError::invalid(
            "proposed_deadline",
            "extension_not_later",
            "延期后的时限须晚于原时限",
        ));
    }
    s.transit(Transition::RequestExtension)?;
    let ext = ExtensionRow {
        id: 0,
        matter_id: id,
        requested_by: requester,
        requested_on: today.to_string(),
        reason: reason.clone(),
        current_progress: bounded("current_progress", &req.current_progress)?,
        old_deadline: Some(deadline.to_string()),
        proposed_deadline: proposed.to_string(),
        status: "pending".into(),
        decided_by: None,
        decided_on: None,
        new_deadline: None,
        basis: String::new(),
    };
    let ext_id = store_ledger::insert_extension(&mut s.c, &ext).await?;
    s.finish(
        app,
        who,
        "request_extension",
        &format!("{reason}（申请延至 {proposed}）"),
    )
    .await?;
    Ok(ext_id)
}

/// 审批延期: approve with the new deadline (default: the proposed one) and its basis
/// (批准依据), or reject with a reason. The original deadline is kept.
pub async fn decide_extension(
    app: &App,
    who: &Caller,
    id: i64,
    approve: bool,
    new_deadline: Option<&str>,
    basis: &str,
) -> AppResult<()> {
    let basis = if approve {
        bounded("basis", basis)?
    } else {
        required_reason(basis)?
    };
    let mut s = open_step(app, who, id, Action::DecideExtension).await?;
    let t = if approve {
        Transition::ApproveExtension
    } else {
        Transition::RejectExtension
    };
    s.transit(t)?;
    let mut ext = store_ledger::list_extensions(&mut s.c, id)
        .await?
        .into_iter()
        .rev()
        .find(|e| e.status == "pending")
        .ok_or_else(|| AppError::rule("no_pending_extension", "没有待审批的延期申请"))?;
    let today = today(app);
    ext.decided_by = who.person_id;
    ext.decided_on = Some(today.to_string());
    ext.basis = basis.clone();
    if approve {
        let d = match new_deadline {
            Some(s) => parse_date("new_deadline", s)?,
            None => parse_date("new_deadline", &ext.proposed_deadline)?,
        };
        if super::stored_date(ext.old_deadline.as_deref()).is_some_and(|old| d <= old) {
            return Err(AppError::invalid(
                "new_deadline",
                "extension_not_later",
                "延期后的时限须晚于原时限",
            ));
        }
        super::submatters::check_deadline_fits(&mut s.c, &s.m, d).await?;
        ext.status = "approved".into();
        ext.new_deadline = Some(d.to_string());
        s.m.deadline = Some(d.to_string());
    } else {
        ext.status = "rejected".into();
    }
    store_ledger::decide_extension(&mut s.c, &ext).await?;
    let note = match &ext.new_deadline {
        Some(d) => format!("新时限 {d}；{basis}"),
        None => basis,
    };
    s.finish(app, who, t.code(), &note).await
}

/// 申请中止（停办）, with a reason.
pub async fn request_stop(app: &App, who: &Caller, id: i64, reason: &str) -> AppResult<()> {
    simple(
        app,
        who,
        id,
        Action::RequestStop,
        Transition::RequestStop,
        reason,
        |_, _| {},
    )
    .await
}

/// 审批中止: approve (已中止, final) or reject with a reason (back to 办理中).
pub async fn decide_stop(
    app: &App,
    who: &Caller,
    id: i64,
    approve: bool,
    note: &str,
) -> AppResult<()> {
    let t = if approve {
        Transition::ApproveStop
    } else {
        Transition::RejectStop
    };
    simple(app, who, id, Action::DecideStop, t, note, |_, _| {}).await
}

/// 报办结 with the 办结依据 (e.g. 文件印发、系统上线、验收通过).
pub async fn report_completion(app: &App, who: &Caller, id: i64, basis: &str) -> AppResult<()> {
    let basis = bounded("basis", basis)?;
    if basis.is_empty() {
        return Err(AppError::invalid(
            "basis",
            "completion_basis_required",
            "请填写办结依据",
        ));
    }
    // 子事项: a parent reports completion only once its sub-matters are done.
    let mut s = open_step(app, who, id, Action::ReportCompletion).await?;
    s.transit(Transition::ReportCompletion)?;
    super::submatters::ensure_children_done(&mut s.c, id).await?;
    s.m.completion_note = basis.clone();
    s.finish(app, who, Transition::ReportCompletion.code(), &basis)
        .await
}

/// 办结审核: approve (已办结) or 退回重办 with a reason.
pub async fn review_completion(
    app: &App,
    who: &Caller,
    id: i64,
    approve: bool,
    note: &str,
) -> AppResult<()> {
    let t = if approve {
        Transition::ApproveCompletion
    } else {
        Transition::ReturnCompletion
    };
    simple(
        app,
        who,
        id,
        Action::ReviewCompletion,
        t,
        note,
        move |m, d| {
            if approve {
                m.completed_on = Some(d.to_string());
                m.progress = Some(100);
            }
        },
    )
    .await
}

/// 销号.
pub async fn close_out(app: &App, who: &Caller, id: i64) -> AppResult<()> {
    simple(
        app,
        who,
        id,
        Action::CloseOut,
        Transition::CloseOut,
        "",
        |m, d| {
            m.closed_on = Some(d.to_string());
        },
    )
    .await
}

/// 回头看发现问题，重新打开 (back to 办理中), with a reason.
pub async fn reopen(app: &App, who: &Caller, id: i64, reason: &str) -> AppResult<()> {
    simple(
        app,
        who,
        id,
        Action::Reopen,
        Transition::Reopen,
        reason,
        |m, _| {
            m.completed_on = None;
            m.closed_on = None;
        },
    )
    .await
}

/// 结转: end the matter in its year (已结转) and continue it as a new, linked matter in the next
/// year, keeping units, handlers, deadline and open 节点. Returns the new matter's id.
pub async fn carry_over(app: &App, who: &Caller, id: i64, reason: &str) -> AppResult<i64> {
    let reason = required_reason(reason)?;
    let mut s = open_step(app, who, id, Action::CloseYear).await?;
    let from = s.from;
    s.transit(Transition::CarryOver)?;
    super::submatters::ensure_may_carry(&mut s.c, &s.m).await?;
    let pattern = NumberPattern::parse(&app.settings.matter_number_pattern)
        .map_err(|e| domain_error("number", e))?;
    let year = s.m.year + 1;
    let seq = store_matters::next_seq(&mut s.c, year).await?;
    let now = app.clock.now_ms();
    let continued = match from {
        MatterStatus::ExtensionPending
        | MatterStatus::StopPending
        | MatterStatus::CompletionPending => MatterStatus::InProgress,
        other => other,
    };
    let mut next = s.m.clone();
    next.year = year;
    next.seq = seq;
    next.number = pattern
        .format(
            i16::try_from(year).unwrap_or(i16::MAX),
            u32::try_from(seq).unwrap_or(u32::MAX),
        )
        .to_string();
    next.status = continued.as_str().into();
    next.carried_from_id = Some(id);
    // A sub-matter carried on its own (its parent has ended) continues as a matter of its own.
    next.parent_id = None;
    next.created_by = who.person_id;
    next.created_at = now;
    next.updated_at = now;
    let new_id = store_matters::insert(&mut s.c, &next).await?;
    // 子事项: the unfinished sub-matters go along, under the new matter.
    let kids = super::submatters::carry_children(
        app,
        &mut s.c,
        who,
        &s.m,
        new_id,
        &next.number,
        year,
        &reason,
    )
    .await?;
    for u in store_matters::assisting_units(&mut s.c, id).await? {
        store_matters::add_assisting_unit(&mut s.c, new_id, u).await?;
    }
    for p in store_matters::handlers(&mut s.c, id).await? {
        store_matters::add_handler(&mut s.c, new_id, p).await?;
    }
    for ms in store_ledger::list_milestones(&mut s.c, id).await? {
        if ms.done_on.is_none() {
            store_ledger::insert_milestone(
                &mut s.c,
                &MilestoneRow {
                    matter_id: new_id,
                    ..ms
                },
            )
            .await?;
        }
    }
    let note = format!("结转自 {}：{reason}", s.m.number);
    record_event(
        app,
        &mut s.c,
        who,
        new_id,
        "carried_in",
        None,
        Some(continued),
        &note,
    )
    .await?;
    let mut out_note = format!("结转至 {}：{reason}", next.number);
    if !kids.is_empty() {
        let list: Vec<String> = kids.iter().map(|(o, n)| format!("{o}→{n}")).collect();
        out_note.push_str(&format!("（子事项随之结转：{}）", list.join("、")));
    }
    s.finish(app, who, "carry_over", &out_note).await?;
    Ok(new_id)
}
