//! 子事项 (project-style decomposition, 分解落实): a running matter broken down into sub-matters,
//! each a full matter of its own (own number, lead unit, lifecycle, light) linked by
//! `matters.parent_id`.
//!
//! Rules (decisions recorded here):
//! - Who: [`Action::DecomposeMatter`] on the parent *and* on the sub-matter — 督查室 anywhere, a
//!   处室负责人 / 联络员 for matters its subtree leads, tasking units of its own subtree only.
//!   The sub-matter starts as 草稿 like every matter and goes through 提交 → 批准立项 as usual,
//!   so 立项审核 stays with 督查室 / 部领导.
//! - When: the parent is running and not waiting for a decision (已交办, 办理中, 延期待批).
//! - Depth: two levels. A sub-matter cannot be broken down again (`depth_limit`).
//! - Inherited: year always; 任务来源, 来源文件 and 牵头领导 when left empty; the security label
//!   is at least the parent's, so nobody reads a piece of a matter they may not read whole.
//! - Deadline: not later than the parent's (`deadline_after_parent`), checked at 立项 (N working
//!   days counted from today), again when 交办 resolves it, on 修改 and on 延期 approval. A
//!   parent with a deadline cannot have a sub-matter without one.
//! - 报办结 of the parent is refused while a sub-matter is open (`children_open`, listing them):
//!   open = not 已办结/已销号/已中止/已结转, and not a 草稿 (a draft was never assigned; it does
//!   not hold the parent hostage).
//! - 结转: carrying a parent over carries its unfinished sub-matters with it, under the new
//!   parent, in the same transaction (the decomposition stays whole in the next year). A
//!   sub-matter alone cannot be carried over while its parent is still open
//!   (`carry_with_parent`); under a finished parent it continues as a matter of its own.
//!   The year close then finds every sub-matter terminal like any matter.

use jiff::civil::Date;
use serde::Serialize;
use taizhang_domain::lifecycle::{self, MatterStatus, Transition};
use taizhang_domain::matter::NumberPattern;
use taizhang_domain::policy::{Action, Label, Target};
use taizhang_store::Conn;
use taizhang_store::ledger::{self as store_ledger, MilestoneRow};
use taizhang_store::matter_parts;
use taizhang_store::matters::{self as store_matters, MatterRow};

use super::matters::{DeadlineInput, MatterView, NewMatter};
use super::{domain_error, record_event, status_of, stored_date};
use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// Statuses in which a matter may be broken down.
pub fn decomposable(s: MatterStatus) -> bool {
    matches!(
        s,
        MatterStatus::Assigned | MatterStatus::InProgress | MatterStatus::ExtensionPending
    )
}

/// Whether a sub-matter in `s` keeps its parent from 报办结.
pub fn holds_parent(s: MatterStatus) -> bool {
    !matches!(s, MatterStatus::Draft | MatterStatus::Completed) && !s.is_terminal()
}

/// Refused: the deadline `d` of a sub-matter lies after its parent's.
fn after_parent(parent: &MatterRow, pd: Date, d: Option<Date>) -> AppError {
    let what = d.map_or_else(|| "未设时限".to_owned(), |d| format!("时限 {d}"));
    AppError::invalid(
        "deadline",
        "deadline_after_parent",
        format!(
            "子事项的办理时限不能晚于父事项 {} 的时限 {pd}（当前{what}）",
            parent.number
        ),
    )
}

/// What [`prepare_child`] decided: the year of the sub-matter.
pub(crate) struct ChildOf {
    pub year: i64,
}

/// Check and complete a 立项 form whose `parent_id` is set: the parent exists and may be broken
/// down by `who`, the inherited fields are filled in, the deadline fits.
pub(crate) async fn prepare_child(
    app: &App,
    c: &mut Conn,
    who: &Caller,
    parent_id: i64,
    input: &mut NewMatter,
) -> AppResult<ChildOf> {
    let parent = store_matters::find(c, parent_id)
        .await?
        .ok_or_else(|| AppError::NotFound("父事项".into()))?;
    let ptarget = super::target_of(c, &parent).await?;
    who.require(Action::ViewMatter, Some(&ptarget))?;
    who.require(Action::DecomposeMatter, Some(&ptarget))?;
    if parent.parent_id.is_some() {
        return Err(AppError::invalid(
            "parent_id",
            "depth_limit",
            format!(
                "{} 本身是子事项，不能再分解（子事项最多两级）",
                parent.number
            ),
        ));
    }
    let status = status_of(&parent)?;
    if !decomposable(status) {
        return Err(AppError::invalid(
            "parent_id",
            "parent_not_running",
            format!(
                "父事项 {} 处于「{}」，只有已交办、办理中或延期待批的事项可以分解",
                parent.number,
                status.label_zh()
            ),
        ));
    }
    if taizhang_store::cadences::year_closed(c, parent.year).await? {
        return Err(AppError::rule(
            "year_closed",
            format!("{}年度已归零，事项只读", parent.year),
        ));
    }
    if input.source_category.trim().is_empty() {
        input.source_category = parent.source_category.clone();
    }
    if input.source_doc.trim().is_empty() {
        input.source_doc = parent.source_doc.clone();
    }
    if input.lead_leader_id.is_none() {
        input.lead_leader_id = parent.lead_leader_id;
    }
    let plabel = Label::parse(&parent.label).unwrap_or(Label::Core);
    let label = Label::parse(&input.label).unwrap_or(Label::Normal);
    input.label = label.max(plabel).code().to_owned();
    let child = Target {
        owner_unit: Some(input.lead_unit_id),
        assisting_units: input.assisting_unit_ids.clone(),
        handler_ids: input.handler_ids.clone(),
        label: label.max(plabel),
    };
    who.require(Action::DecomposeMatter, Some(&child))?;
    if let Some(pd) = stored_date(parent.deadline.as_deref()) {
        let cal = super::calendar::load_cached(app, c).await?;
        let today = super::today(app);
        let d = match &input.deadline {
            DeadlineInput::None => None,
            DeadlineInput::Date(s) => Some(super::parse_date("deadline", s)?),
            DeadlineInput::WorkingDays(n) => Some(
                cal.add_workdays(today, *n)
                    .map_err(|e| domain_error("deadline", e.into()))?,
            ),
            DeadlineInput::CalendarDays(n) => Some(
                cal.add_calendar_days_rolled(today, *n)
                    .map_err(|e| domain_error("deadline", e.into()))?,
            ),
        };
        if d.is_none_or(|d| d > pd) {
            return Err(after_parent(&parent, pd, d));
        }
    }
    Ok(ChildOf { year: parent.year })
}

/// Refuse a deadline `d` of `m` later than its parent's (no-op for a top-level matter).
pub(crate) async fn check_deadline_fits(c: &mut Conn, m: &MatterRow, d: Date) -> AppResult<()> {
    let Some(pid) = m.parent_id else {
        return Ok(());
    };
    let parent = store_matters::get(c, pid).await?;
    match stored_date(parent.deadline.as_deref()) {
        Some(pd) if d > pd => Err(after_parent(&parent, pd, Some(d))),
        _ => Ok(()),
    }
}

/// Refuse 报办结 of a matter while any of its sub-matters is open, naming them.
pub(crate) async fn ensure_children_done(c: &mut Conn, id: i64) -> AppResult<()> {
    let open: Vec<String> = matter_parts::children(c, id)
        .await?
        .into_iter()
        .filter_map(|k| {
            let s = MatterStatus::parse(&k.status)?;
            holds_parent(s).then(|| format!("{}「{}」（{}）", k.number, k.title, s.label_zh()))
        })
        .collect();
    if open.is_empty() {
        return Ok(());
    }
    Err(AppError::rule(
        "children_open",
        format!(
            "尚有{}个子事项未办结：{}。子事项办结、中止或结转后才能报办结",
            open.len(),
            open.join("、")
        ),
    ))
}

/// Refuse 结转 of a sub-matter whose parent is still open (it goes with its parent).
pub(crate) async fn ensure_may_carry(c: &mut Conn, m: &MatterRow) -> AppResult<()> {
    let Some(pid) = m.parent_id else {
        return Ok(());
    };
    let parent = store_matters::get(c, pid).await?;
    if MatterStatus::parse(&parent.status).is_some_and(|s| !s.is_terminal()) {
        return Err(AppError::rule(
            "carry_with_parent",
            format!(
                "子事项随父事项一并结转：请结转父事项 {}（其未完成的子事项随之结转）",
                parent.number
            ),
        ));
    }
    Ok(())
}

/// 结转 the unfinished sub-matters of `old_parent` together with it: each ends 已结转 in its
/// year and continues under `new_parent` in `year`, with its units, handlers and open 节点.
/// Returns (old number, new number) of each.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn carry_children(
    app: &App,
    c: &mut Conn,
    who: &Caller,
    old_parent: &MatterRow,
    new_parent: i64,
    new_parent_number: &str,
    year: i64,
    reason: &str,
) -> AppResult<Vec<(String, String)>> {
    let pattern = NumberPattern::parse(&app.settings.matter_number_pattern)
        .map_err(|e| domain_error("number", e))?;
    let now = app.clock.now_ms();
    let mut out = Vec::new();
    for kid in matter_parts::children(c, old_parent.id).await? {
        let from = status_of(&kid)?;
        if from.is_terminal() {
            continue;
        }
        let to = lifecycle::apply(from, Transition::CarryOver)
            .map_err(|e| domain_error("status", e.into()))?;
        let continued = match from {
            MatterStatus::ExtensionPending
            | MatterStatus::StopPending
            | MatterStatus::CompletionPending => MatterStatus::InProgress,
            other => other,
        };
        let seq = store_matters::next_seq(c, year).await?;
        let mut next = kid.clone();
        next.year = year;
        next.seq = seq;
        next.number = pattern
            .format(
                i16::try_from(year).unwrap_or(i16::MAX),
                u32::try_from(seq).unwrap_or(u32::MAX),
            )
            .to_string();
        next.status = continued.as_str().into();
        next.parent_id = Some(new_parent);
        next.carried_from_id = Some(kid.id);
        next.created_by = who.person_id;
        next.created_at = now;
        next.updated_at = now;
        let new_id = store_matters::insert(c, &next).await?;
        for u in store_matters::assisting_units(c, kid.id).await? {
            store_matters::add_assisting_unit(c, new_id, u).await?;
        }
        for p in store_matters::handlers(c, kid.id).await? {
            store_matters::add_handler(c, new_id, p).await?;
        }
        for ms in store_ledger::list_milestones(c, kid.id).await? {
            if ms.done_on.is_none() {
                let row = MilestoneRow {
                    matter_id: new_id,
                    ..ms
                };
                store_ledger::insert_milestone(c, &row).await?;
            }
        }
        let in_note = format!(
            "结转自 {}（随父事项结转至 {new_parent_number}）：{reason}",
            kid.number
        );
        record_event(
            app,
            c,
            who,
            new_id,
            "carried_in",
            None,
            Some(continued),
            &in_note,
        )
        .await?;
        let mut old = kid.clone();
        old.status = to.as_str().into();
        old.updated_at = now;
        store_matters::save(c, &old)
            .await
            .map_err(|_| AppError::Conflict("子事项已被他人修改，请刷新后重试".into()))?;
        let out_note = format!(
            "结转至 {}（随父事项 {} 结转）：{reason}",
            next.number, old_parent.number
        );
        record_event(
            app,
            c,
            who,
            kid.id,
            "carry_over",
            Some(from),
            Some(to),
            &out_note,
        )
        .await?;
        audit::append(
            app,
            c,
            who,
            Event::ok(
                "matter.carry_over",
                "matter",
                kid.id,
                format!(
                    "number={} {}→{} {out_note}",
                    kid.number,
                    from.as_str(),
                    to.as_str()
                ),
            ),
        )
        .await?;
        out.push((kid.number, next.number));
    }
    Ok(out)
}

/// The parent of a matter as its page shows it: the number always, the title only when the
/// reader may open the parent.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ParentRef {
    pub id: i64,
    pub number: String,
    pub title: Option<String>,
}

/// The parent of `m` (if any) and its children visible at `who`'s clearance, with lights.
pub(crate) async fn family(
    c: &mut Conn,
    who: &Caller,
    m: &MatterRow,
    cal: &taizhang_domain::calendar::WorkCalendar,
    rules: &super::LedgerRules,
    today: Date,
) -> AppResult<(Option<ParentRef>, Vec<MatterView>)> {
    let parent = match m.parent_id {
        Some(pid) => match store_matters::find(c, pid).await? {
            Some(p) => {
                let t = super::target_of(c, &p).await?;
                let readable = who.decide(Action::ViewMatter, Some(&t)).is_allowed();
                Some(ParentRef {
                    id: p.id,
                    number: p.number,
                    title: readable.then_some(p.title),
                })
            }
            None => None,
        },
        None => None,
    };
    let clearance = if who.is_system() {
        Label::Core
    } else {
        who.actor.clearance
    };
    let children = matter_parts::children(c, m.id)
        .await?
        .into_iter()
        .filter(|k| Label::parse(&k.label).unwrap_or(Label::Core) <= clearance)
        .map(|k| super::matters::view(cal, rules, today, k))
        .collect();
    Ok((parent, children))
}
