//! 修改台账: editing a matter after 立项, in one transaction with its timeline row (the changed
//! fields, old → new) and its audit record.
//!
//! Rules (decisions recorded here):
//! - 草稿 / 待审核立项: the creator (while they may still create such a matter) or 督查室
//!   ([`Action::EditMatter`]) may change everything, the deadline and the lead unit included.
//! - 已交办 … 待审核办结 (running): only 督查室. The deadline is refused (`deadline_locked`):
//!   after 交办 it moves only by 延期 (申请 → 审批), which keeps the original deadline and the
//!   approval chain. The lead unit may be changed only before 签收 (改派): the matter stays
//!   已交办 (待签收) for the new unit, 交办日期 becomes today and the new unit is notified;
//!   after 签收 it is refused (`lead_unit_locked`), because work, reports and the 序时 clock
//!   already belong to the unit that signed.
//! - 已办结, 已销号, 已中止, 已结转, and every matter of a closed year: read-only (`read_only`,
//!   `year_closed`).
//! - Validation is the 立项 validation (title, texts, codes, live units, deadline not before
//!   today and inside the calendar; a 子事项's deadline not after its parent's).
//! - Optimistic concurrency on `matters.version`: an edit made on an older version is refused
//!   (`AppError::Conflict`) and changes nothing. An edit that changes nothing writes nothing.
//! - 节点: unfinished ones can be added, changed (title, date, owner, order) and removed;
//!   finished ones stay as they are (`milestone_done`).

use std::collections::BTreeSet;

use serde::Serialize;
use taizhang_domain::feedback::FeedbackCycle;
use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::matter::{MatterTitle, SourceCategory, Urgency};
use taizhang_domain::policy::{Action, Target};
use taizhang_store::ledger::{self as store_ledger, MilestoneRow};
use taizhang_store::matters::{self as store_matters, MatterRow};
use taizhang_store::{Conn, matter_parts, org, people};

use super::matters::{DeadlineInput, MatterDetail, check_deadline, ensure_live_unit};
use super::{bounded, domain_error, parse_date, record_event, status_of, stored_date, today};
use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// A 节点 as edited: with `id` an existing unfinished one, without a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilestoneEdit {
    pub id: Option<i64>,
    pub title: String,
    pub due_on: String,
    pub owner_id: Option<i64>,
}

/// The changes asked for; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatterEdit {
    pub title: Option<String>,
    pub content: Option<String>,
    pub source_category: Option<String>,
    pub source_doc: Option<String>,
    /// `Some(None)` clears the 牵头领导.
    pub lead_leader_id: Option<Option<i64>>,
    pub lead_unit_id: Option<i64>,
    pub assisting_unit_ids: Option<Vec<i64>>,
    pub handler_ids: Option<Vec<i64>>,
    pub deadline: Option<DeadlineInput>,
    pub urgency: Option<String>,
    pub major: Option<bool>,
    pub feedback_cycle: Option<String>,
    pub remarks: Option<String>,
    /// The unfinished 节点 wanted, in order: listed with `id` are changed, without are added,
    /// unfinished ones not listed are removed. Finished 节点 are kept as they are.
    pub milestones: Option<Vec<MilestoneEdit>>,
}

/// What an edit did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EditOutcome {
    /// Labels of the fields that changed (empty: nothing was written).
    pub changed: Vec<String>,
    /// The matter's version now.
    pub version: i64,
}

/// Statuses in which the matter can still be edited at all.
pub fn editable(s: MatterStatus) -> bool {
    !s.is_terminal() && s != MatterStatus::Completed
}

/// 草稿 and 待审核立项: nothing assigned yet, so everything can change.
fn before_assignment(s: MatterStatus) -> bool {
    matches!(s, MatterStatus::Draft | MatterStatus::PendingApproval)
}

fn is_creator(who: &Caller, m: &MatterRow) -> bool {
    who.person_id.is_some() && who.person_id == m.created_by
}

/// Whether `who` may create a matter for `target` the way `m` was created (立项 or 分解).
fn may_create(who: &Caller, m: &MatterRow, target: &Target) -> bool {
    let action = if m.parent_id.is_some() {
        Action::DecomposeMatter
    } else {
        Action::CreateMatter
    };
    who.decide(action, Some(target)).is_allowed()
}

/// Whether the matter page offers 编辑 to `who` (the use case checks everything again).
pub fn may_edit(who: &Caller, d: &MatterDetail) -> bool {
    let Some(s) = MatterStatus::parse(&d.matter.row.status) else {
        return false;
    };
    let target = super::actions::target_of_detail(d);
    editable(s)
        && (who.decide(Action::EditMatter, Some(&target)).is_allowed()
            || (before_assignment(s)
                && is_creator(who, &d.matter.row)
                && may_create(who, &d.matter.row, &target)))
}

/// At most `n` characters of `s`, with an ellipsis when cut.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "（空）" } else { s }
}

/// The changes found, as `label：old → new` lines.
#[derive(Default)]
struct Changes {
    labels: Vec<String>,
    lines: Vec<String>,
}

impl Changes {
    fn push(&mut self, label: &str, old: &str, new: &str) {
        self.labels.push(label.to_owned());
        self.lines
            .push(format!("{label}：{} → {}", or_dash(old), or_dash(new)));
    }
    fn note(&mut self, label: &str, line: String) {
        if !self.labels.iter().any(|l| l == label) {
            self.labels.push(label.to_owned());
        }
        self.lines.push(line);
    }
}

async fn unit_name(c: &mut Conn, id: i64) -> AppResult<String> {
    Ok(org::find_unit(c, id)
        .await?
        .map_or_else(|| format!("单位{id}"), |u| u.name))
}

async fn person_name(c: &mut Conn, id: Option<i64>) -> AppResult<String> {
    match id {
        None => Ok(String::new()),
        Some(id) => Ok(people::find_person(c, id)
            .await?
            .map_or_else(|| format!("人员{id}"), |p| p.display_name)),
    }
}

async fn ensure_person(c: &mut Conn, field: &str, id: i64) -> AppResult<()> {
    match people::find_person(c, id).await? {
        Some(p) if !p.disabled => Ok(()),
        Some(p) => Err(AppError::invalid(
            field,
            "person_disabled",
            format!("人员「{}」已停用", p.display_name),
        )),
        None => Err(AppError::invalid(
            field,
            "person_unknown",
            format!("人员 {id} 不存在"),
        )),
    }
}

async fn names_of_units(c: &mut Conn, ids: &[i64]) -> AppResult<String> {
    let mut out = Vec::new();
    for id in ids {
        out.push(unit_name(c, *id).await?);
    }
    Ok(out.join("、"))
}

async fn names_of_people(c: &mut Conn, ids: &[i64]) -> AppResult<String> {
    let mut out = Vec::new();
    for id in ids {
        out.push(person_name(c, Some(*id)).await?);
    }
    Ok(out.join("、"))
}

/// The deadline columns (`deadline_kind`, N, date) of a 立项-style deadline, checked like 立项.
fn deadline_columns(
    cal: &taizhang_domain::calendar::WorkCalendar,
    today: jiff::civil::Date,
    d: &DeadlineInput,
) -> AppResult<(String, Option<i64>, Option<String>)> {
    Ok(match d {
        DeadlineInput::None => ("none".into(), None, None),
        DeadlineInput::Date(s) => {
            let d = parse_date("deadline", s)?;
            check_deadline(cal, today, d)?;
            ("date".into(), None, Some(d.to_string()))
        }
        DeadlineInput::WorkingDays(n) => ("workdays".into(), Some(i64::from(*n)), None),
        DeadlineInput::CalendarDays(n) => ("calendar_days".into(), Some(i64::from(*n)), None),
    })
}

fn deadline_text(kind: &str, n: Option<i64>, d: Option<&str>) -> String {
    match (kind, n, d) {
        (_, _, Some(d)) => d.to_owned(),
        ("workdays", Some(n), None) => format!("交办后{n}个工作日内"),
        ("calendar_days", Some(n), None) => format!("交办后{n}日内"),
        _ => "长期".to_owned(),
    }
}

/// Whether a deadline sent with the edit of a running matter is just the current one again.
fn same_deadline(m: &MatterRow, d: &DeadlineInput) -> bool {
    match d {
        DeadlineInput::None => m.deadline_kind == "none",
        DeadlineInput::Date(s) => {
            s.trim().parse::<jiff::civil::Date>().ok() == stored_date(m.deadline.as_deref())
        }
        DeadlineInput::WorkingDays(n) => {
            m.deadline_kind == "workdays" && m.deadline_workdays == Some(i64::from(*n))
        }
        DeadlineInput::CalendarDays(n) => {
            m.deadline_kind == "calendar_days" && m.deadline_workdays == Some(i64::from(*n))
        }
    }
}

/// 修改台账: apply `e` to matter `id` if it is still at `expected_version`.
pub async fn edit_matter(
    app: &App,
    who: &Caller,
    id: i64,
    expected_version: i64,
    e: MatterEdit,
) -> AppResult<EditOutcome> {
    let mut c = app.store.begin().await?;
    let m = store_matters::get(&mut c, id).await?;
    let target = super::target_of(&mut c, &m).await?;
    let status = status_of(&m)?;
    let manager = who.decide(Action::EditMatter, Some(&target)).is_allowed();
    if !manager {
        who.require(Action::ViewMatter, Some(&target))?;
        if !(before_assignment(status) && is_creator(who, &m) && may_create(who, &m, &target)) {
            return Err(AppError::Forbidden);
        }
    }
    if taizhang_store::cadences::year_closed(&mut c, m.year).await? {
        return Err(AppError::rule(
            "year_closed",
            format!("{}年度已归零，事项只读", m.year),
        ));
    }
    if !editable(status) {
        return Err(AppError::rule(
            "read_only",
            format!("事项处于「{}」，台账只读，不能修改", status.label_zh()),
        ));
    }
    if m.version != expected_version {
        return Err(AppError::Conflict(format!(
            "事项已被他人修改（您编辑的是第{expected_version}版，当前是第{}版），本次修改未保存，请刷新后重试",
            m.version
        )));
    }
    let pre = before_assignment(status);
    let today = today(app);
    let mut n = m.clone();
    let mut ch = Changes::default();
    let mut reassigned = false;

    if let Some(t) = &e.title {
        let t = MatterTitle::parse(t).map_err(|e| domain_error("title", e))?;
        if t.as_str() != m.title {
            ch.push("事项名称", &m.title, t.as_str());
            n.title = t.to_string();
        }
    }
    if let Some(t) = &e.content {
        let t = bounded("content", t)?;
        if t != m.content {
            ch.push("事项内容", &short(&m.content, 40), &short(&t, 40));
            n.content = t;
        }
    }
    if let Some(s) = &e.source_category {
        let s = SourceCategory::parse(s).map_err(|e| domain_error("source_category", e))?;
        if s.code() != m.source_category {
            let old = SourceCategory::parse(&m.source_category).map_or("", |c| c.label_zh());
            ch.push("任务来源", old, s.label_zh());
            n.source_category = s.code().into();
        }
    }
    if let Some(t) = &e.source_doc {
        let t = bounded("source_doc", t)?;
        if t != m.source_doc {
            ch.push("来源文件", &short(&m.source_doc, 40), &short(&t, 40));
            n.source_doc = t;
        }
    }
    if let Some(l) = e.lead_leader_id
        && l != m.lead_leader_id
    {
        if let Some(p) = l {
            ensure_person(&mut c, "lead_leader_id", p).await?;
        }
        let (old, new) = (
            person_name(&mut c, m.lead_leader_id).await?,
            person_name(&mut c, l).await?,
        );
        ch.push("牵头领导", &old, &new);
        n.lead_leader_id = l;
    }
    if let Some(u) = e.lead_unit_id
        && u != m.lead_unit_id
    {
        if !pre && status != MatterStatus::Assigned {
            return Err(AppError::invalid(
                "lead_unit_id",
                "lead_unit_locked",
                "牵头单位已签收，不能再改派；改派只能在签收前进行",
            ));
        }
        ensure_live_unit(&mut c, "lead_unit_id", u).await?;
        let (old, new) = (
            unit_name(&mut c, m.lead_unit_id).await?,
            unit_name(&mut c, u).await?,
        );
        ch.push("牵头单位", &old, &new);
        n.lead_unit_id = u;
        if status == MatterStatus::Assigned {
            // 改派: 待签收 again, for the new unit, from today.
            n.assigned_on = Some(today.to_string());
            n.signed_on = None;
            reassigned = true;
            ch.note(
                "牵头单位",
                format!("改派后由新牵头单位签收（交办日期 {today}）"),
            );
        }
    }
    let old_assisting = target.assisting_units.clone();
    let mut new_assisting = old_assisting.clone();
    if let Some(list) = &e.assisting_unit_ids {
        let wanted: BTreeSet<i64> = list
            .iter()
            .copied()
            .filter(|u| *u != n.lead_unit_id)
            .collect();
        for u in &wanted {
            if !old_assisting.contains(u) {
                ensure_live_unit(&mut c, "assisting_unit_ids", *u).await?;
            }
        }
        new_assisting = wanted.into_iter().collect();
    }
    // A lead unit that was an assisting unit stops being one.
    new_assisting.retain(|u| *u != n.lead_unit_id);
    if new_assisting != old_assisting {
        let (old, new) = (
            names_of_units(&mut c, &old_assisting).await?,
            names_of_units(&mut c, &new_assisting).await?,
        );
        ch.push("配合单位", &old, &new);
    }
    let old_handlers = target.handler_ids.clone();
    let mut new_handlers = old_handlers.clone();
    if let Some(list) = &e.handler_ids {
        let wanted: BTreeSet<i64> = list.iter().copied().collect();
        for p in &wanted {
            if !old_handlers.contains(p) {
                ensure_person(&mut c, "handler_ids", *p).await?;
            }
        }
        new_handlers = wanted.into_iter().collect();
        if new_handlers != old_handlers {
            let (old, new) = (
                names_of_people(&mut c, &old_handlers).await?,
                names_of_people(&mut c, &new_handlers).await?,
            );
            ch.push("经办人", &old, &new);
        }
    }
    if let Some(d) = &e.deadline {
        if pre {
            let cal = super::calendar::load(&mut c).await?;
            let (kind, days, date) = deadline_columns(&cal, today, d)?;
            if (kind.as_str(), days, date.as_deref())
                != (
                    m.deadline_kind.as_str(),
                    m.deadline_workdays,
                    m.deadline.as_deref(),
                )
            {
                if let Some(d) = stored_date(date.as_deref()) {
                    super::submatters::check_deadline_fits(&mut c, &m, d).await?;
                }
                ch.push(
                    "办理时限",
                    &deadline_text(&m.deadline_kind, m.deadline_workdays, m.deadline.as_deref()),
                    &deadline_text(&kind, days, date.as_deref()),
                );
                n.deadline_kind = kind;
                n.deadline_workdays = days;
                n.deadline = date;
            }
        } else if !same_deadline(&m, d) {
            return Err(AppError::invalid(
                "deadline",
                "deadline_locked",
                format!(
                    "事项已交办，办理时限（{}）不能在此修改；如需调整，请由牵头单位申请延期，经审批后生效",
                    m.deadline.as_deref().unwrap_or("长期")
                ),
            ));
        }
    }
    if let Some(u) = &e.urgency {
        let u = Urgency::parse(u).map_err(|e| domain_error("urgency", e))?;
        if u.code() != m.urgency {
            let old = Urgency::parse(&m.urgency).map_or("", |u| u.label_zh());
            ch.push("紧急程度", old, u.label_zh());
            n.urgency = u.code().into();
        }
    }
    if let Some(b) = e.major
        && b != m.major
    {
        let yn = |b: bool| if b { "是" } else { "否" };
        ch.push("重大事项", yn(m.major), yn(b));
        n.major = b;
    }
    if let Some(f) = &e.feedback_cycle {
        let f = FeedbackCycle::parse(f)
            .map_err(|e| AppError::invalid("feedback_cycle", "feedback_cycle", e.to_string()))?;
        if f.code() != m.feedback_cycle {
            let old = FeedbackCycle::parse(&m.feedback_cycle)
                .map_or_else(|_| String::new(), |c| c.label_zh());
            ch.push("反馈周期", &old, &f.label_zh());
            n.feedback_cycle = f.code();
        }
    }
    if let Some(t) = &e.remarks {
        let t = bounded("remarks", t)?;
        if t != m.remarks {
            ch.push("备注", &short(&m.remarks, 40), &short(&t, 40));
            n.remarks = t;
        }
    }
    // The new lead unit / 配合单位 / 经办人 must still be within what a creator may create.
    let new_target = Target {
        owner_unit: Some(n.lead_unit_id),
        assisting_units: new_assisting.clone(),
        handler_ids: new_handlers.clone(),
        label: target.label,
    };
    if manager {
        who.require(Action::EditMatter, Some(&new_target))?;
    } else if !may_create(who, &m, &new_target) {
        return Err(AppError::Forbidden);
    }
    let plan = match &e.milestones {
        Some(list) => plan_milestones(&mut c, id, list).await?,
        None => Vec::new(),
    };
    for p in &plan {
        ch.note("节点", p.line.clone());
    }

    if ch.labels.is_empty() {
        return Ok(EditOutcome {
            changed: Vec::new(),
            version: m.version,
        });
    }
    n.updated_at = app.clock.now_ms();
    store_matters::save(&mut c, &n)
        .await
        .map_err(|_| AppError::Conflict("事项已被他人修改，本次修改未保存，请刷新后重试".into()))?;
    for u in &old_assisting {
        if !new_assisting.contains(u) {
            matter_parts::remove_assisting_unit(&mut c, id, *u).await?;
        }
    }
    for u in &new_assisting {
        if !old_assisting.contains(u) {
            store_matters::add_assisting_unit(&mut c, id, *u).await?;
        }
    }
    for p in &old_handlers {
        if !new_handlers.contains(p) {
            matter_parts::remove_handler(&mut c, id, *p).await?;
        }
    }
    for p in &new_handlers {
        if !old_handlers.contains(p) {
            store_matters::add_handler(&mut c, id, *p).await?;
        }
    }
    for p in &plan {
        apply_milestone(&mut c, p).await?;
    }
    let note = ch.lines.join("；");
    record_event(
        app,
        &mut c,
        who,
        id,
        "edit",
        Some(status),
        Some(status),
        &note,
    )
    .await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "matter.edit",
            "matter",
            id,
            format!(
                "number={} version={}→{} fields={} {note}",
                m.number,
                m.version,
                m.version + 1,
                ch.labels.join(",")
            ),
        ),
    )
    .await?;
    if reassigned {
        // The new lead unit hears of its assignment like at 交办.
        crate::notify::on_matter_step(app, &mut c, &n, "approve", "").await?;
    }
    c.commit().await?;
    Ok(EditOutcome {
        changed: ch.labels,
        version: m.version + 1,
    })
}

/// One 节点 change of an edit.
struct MilestoneStep {
    kind: MilestoneChange,
    row: MilestoneRow,
    line: String,
}

enum MilestoneChange {
    Add,
    Update,
    Remove,
}

/// Compare the wanted unfinished 节点 with the stored ones: additions, changes, removals.
async fn plan_milestones(
    c: &mut Conn,
    matter_id: i64,
    wanted: &[MilestoneEdit],
) -> AppResult<Vec<MilestoneStep>> {
    let stored = store_ledger::list_milestones(c, matter_id).await?;
    let mut plan = Vec::new();
    let mut kept = BTreeSet::new();
    for (i, w) in wanted.iter().enumerate() {
        let title = MatterTitle::parse(&w.title).map_err(|e| domain_error("milestones", e))?;
        let due = parse_date("milestones", &w.due_on)?;
        if let Some(o) = w.owner_id {
            ensure_person(c, "milestones", o).await?;
        }
        let position = i64::try_from(i).unwrap_or(0) + 1;
        match w.id {
            None => plan.push(MilestoneStep {
                kind: MilestoneChange::Add,
                line: format!("新增节点「{title}」（{due}）"),
                row: MilestoneRow {
                    id: 0,
                    matter_id,
                    position,
                    title: title.to_string(),
                    due_on: due.to_string(),
                    owner_id: w.owner_id,
                    done_on: None,
                },
            }),
            Some(mid) => {
                let Some(old) = stored.iter().find(|s| s.id == mid) else {
                    return Err(AppError::invalid(
                        "milestones",
                        "milestone_unknown",
                        format!("节点 {mid} 不属于本事项"),
                    ));
                };
                if old.done_on.is_some() {
                    return Err(AppError::invalid(
                        "milestones",
                        "milestone_done",
                        format!("节点「{}」已完成，不能修改或删除", old.title),
                    ));
                }
                kept.insert(mid);
                let row = MilestoneRow {
                    title: title.to_string(),
                    due_on: due.to_string(),
                    owner_id: w.owner_id,
                    position,
                    ..old.clone()
                };
                if row != *old {
                    let mut what = Vec::new();
                    if row.title != old.title {
                        what.push(format!("名称 {} → {}", old.title, row.title));
                    }
                    if row.due_on != old.due_on {
                        what.push(format!("日期 {} → {}", old.due_on, row.due_on));
                    }
                    if row.owner_id != old.owner_id {
                        what.push("责任人".to_owned());
                    }
                    if row.position != old.position {
                        what.push("顺序".to_owned());
                    }
                    plan.push(MilestoneStep {
                        kind: MilestoneChange::Update,
                        line: format!("修改节点「{}」：{}", old.title, what.join("，")),
                        row,
                    });
                }
            }
        }
    }
    for s in stored
        .iter()
        .filter(|s| s.done_on.is_none() && !kept.contains(&s.id))
    {
        plan.push(MilestoneStep {
            kind: MilestoneChange::Remove,
            line: format!("删除节点「{}」（{}）", s.title, s.due_on),
            row: s.clone(),
        });
    }
    Ok(plan)
}

async fn apply_milestone(c: &mut Conn, p: &MilestoneStep) -> AppResult<()> {
    let ok = match p.kind {
        MilestoneChange::Add => {
            store_ledger::insert_milestone(c, &p.row).await?;
            true
        }
        MilestoneChange::Update => matter_parts::update_open_milestone(c, &p.row).await?,
        MilestoneChange::Remove => {
            matter_parts::delete_open_milestone(c, p.row.matter_id, p.row.id).await?
        }
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "节点已被他人修改，本次修改未保存，请刷新后重试".into(),
        ))
    }
}
