//! 立项 and reading one matter (一事一台账): creating a draft with its units, handlers and 节点,
//! and the full record with its timeline, reports, extensions, 催办, 督办单 and derived light.

use jiff::civil::Date;
use serde::Serialize;
use taizhang_domain::calendar::WorkCalendar;
use taizhang_domain::escalation::EscalationStep;
use taizhang_domain::feedback::FeedbackCycle;
use taizhang_domain::light::{self, Light};
use taizhang_domain::matter::{
    MatterTitle, MilestoneStatus, NumberPattern, SourceCategory, Urgency,
};
use taizhang_domain::policy::{Action, Label, Target};
use taizhang_store::escalation::{self as store_esc, EffectRow, NoticeRow, UrgeRow};
use taizhang_store::ledger::{
    self as store_ledger, EventRow, ExtensionRow, MilestoneRow, ReportRow,
};
use taizhang_store::matters::{self as store_matters, MatterRow};
use taizhang_store::{Conn, org};

use super::{LedgerRules, bounded, domain_error, parse_date, record_event, status_of, today};
use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// 办理时限 as entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadlineInput {
    /// No deadline (长期事项).
    None,
    /// A fixed date `YYYY-MM-DD`.
    Date(String),
    /// N个工作日内, resolved at 交办.
    WorkingDays(u32),
    /// N日内, resolved at 交办.
    CalendarDays(u32),
}

/// A 节点 entered with the matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMilestone {
    pub title: String,
    pub due_on: String,
    pub owner_id: Option<i64>,
}

/// The 立项 form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMatter {
    pub title: String,
    pub content: String,
    /// 任务来源 code or label.
    pub source_category: String,
    pub source_doc: String,
    pub lead_leader_id: Option<i64>,
    pub lead_unit_id: i64,
    pub assisting_unit_ids: Vec<i64>,
    pub handler_ids: Vec<i64>,
    pub deadline: DeadlineInput,
    /// 特急 / 加急 / 普通 (code or label).
    pub urgency: String,
    pub major: bool,
    /// e.g. `weekly:5`, `monthly_workday:5`, `none`.
    pub feedback_cycle: String,
    /// Security label code; `normal` by default.
    pub label: String,
    pub parent_id: Option<i64>,
    pub remarks: String,
    pub milestones: Vec<NewMilestone>,
}

impl NewMatter {
    /// A minimal form: title, lead unit and deadline; everything else default.
    pub fn basic(title: &str, lead_unit_id: i64, deadline: DeadlineInput) -> NewMatter {
        NewMatter {
            title: title.to_owned(),
            content: String::new(),
            source_category: "other".into(),
            source_doc: String::new(),
            lead_leader_id: None,
            lead_unit_id,
            assisting_unit_ids: Vec::new(),
            handler_ids: Vec::new(),
            deadline,
            urgency: "normal".into(),
            major: false,
            feedback_cycle: "none".into(),
            label: "normal".into(),
            parent_id: None,
            remarks: String::new(),
            milestones: Vec::new(),
        }
    }

    /// A minimal 子事项 form under `parent_id`: 任务来源, 来源文件 and 牵头领导 are left empty so
    /// they are inherited from the parent.
    pub fn sub(
        title: &str,
        parent_id: i64,
        lead_unit_id: i64,
        deadline: DeadlineInput,
    ) -> NewMatter {
        NewMatter {
            source_category: String::new(),
            parent_id: Some(parent_id),
            ..NewMatter::basic(title, lead_unit_id, deadline)
        }
    }
}

/// Refuse an unknown or retired unit (codes `unit_unknown`, `unit_retired`).
pub(crate) async fn ensure_live_unit(c: &mut Conn, field: &str, id: i64) -> AppResult<()> {
    match org::find_unit(c, id).await? {
        None => Err(AppError::invalid(
            field,
            "unit_unknown",
            format!("单位 {id} 不存在"),
        )),
        Some(u) if u.retired_at.is_some() => Err(AppError::invalid(
            field,
            "unit_retired",
            format!("单位「{}」已撤销，不能承办新事项", u.name),
        )),
        Some(_) => Ok(()),
    }
}

/// Check a fixed deadline against today and the calendar's range.
pub(crate) fn check_deadline(cal: &WorkCalendar, today: Date, d: Date) -> AppResult<()> {
    cal.next_workday_on_or_after(d)
        .map_err(|e| domain_error("deadline", e.into()))?;
    if d < today {
        return Err(domain_error(
            "deadline",
            taizhang_domain::matter::DomainError::DeadlineBeforeStart {
                start: today,
                deadline: d,
            },
        ));
    }
    Ok(())
}

/// 立项: create a draft (草稿) with a number unique per year. Returns the new id.
pub async fn create_matter(app: &App, who: &Caller, input: NewMatter) -> AppResult<i64> {
    let mut c = app.store.begin().await?;
    let id = create_matter_in(app, &mut c, who, input, &CreateIn::default()).await?;
    c.commit().await?;
    Ok(id)
}

// --- office import (issue 6): creation inside the importer's transaction ---
/// How [`create_matter_in`] departs from the 立项 form (the ledger import uses it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateIn {
    /// The ledger year (default: this year).
    pub year: Option<i16>,
    /// Accept a deadline already past: an imported ledger records work under way.
    pub allow_past_deadline: bool,
    /// Keep this 编号 instead of numbering by the pattern (the caller checks it is free).
    pub number: Option<String>,
}

/// [`create_matter`] on a transaction the caller holds and commits (all-or-nothing imports).
pub async fn create_matter_in(
    app: &App,
    c: &mut Conn,
    who: &Caller,
    input: NewMatter,
    how: &CreateIn,
) -> AppResult<i64> {
    let mut input = input;
    // --- 子事项: a form with a parent is checked against it and inherits from it ---
    let child_of = match input.parent_id {
        Some(pid) => Some(super::submatters::prepare_child(app, c, who, pid, &mut input).await?),
        None => None,
    };
    let title = MatterTitle::parse(&input.title).map_err(|e| domain_error("title", e))?;
    let content = bounded("content", &input.content)?;
    let source = SourceCategory::parse(&input.source_category)
        .map_err(|e| domain_error("source_category", e))?;
    let urgency = Urgency::parse(&input.urgency).map_err(|e| domain_error("urgency", e))?;
    let cycle = FeedbackCycle::parse(&input.feedback_cycle)
        .map_err(|e| AppError::invalid("feedback_cycle", "feedback_cycle", e.to_string()))?;
    let label = Label::parse(&input.label)
        .ok_or_else(|| AppError::invalid("label", "unknown_code", "未知的安全标记"))?;
    let target = Target {
        owner_unit: Some(input.lead_unit_id),
        assisting_units: input.assisting_unit_ids.clone(),
        handler_ids: input.handler_ids.clone(),
        label,
    };
    if child_of.is_none() {
        who.require(Action::CreateMatter, Some(&target))?;
    }
    // The cached calendar, validated by `calendar.version` on this transaction (a full load was
    // two more queries inside the write lock).
    let cal = super::calendar::load_cached(app, c).await?;
    let today = today(app);
    let (kind, n, deadline) = match &input.deadline {
        DeadlineInput::None => ("none", None, None),
        DeadlineInput::Date(s) => {
            let d = parse_date("deadline", s)?;
            let floor = if how.allow_past_deadline { d } else { today };
            check_deadline(&cal, floor, d)?;
            ("date", None, Some(d.to_string()))
        }
        DeadlineInput::WorkingDays(n) => ("workdays", Some(i64::from(*n)), None),
        DeadlineInput::CalendarDays(n) => ("calendar_days", Some(i64::from(*n)), None),
    };
    ensure_live_unit(c, "lead_unit_id", input.lead_unit_id).await?;
    for u in &input.assisting_unit_ids {
        ensure_live_unit(c, "assisting_unit_ids", *u).await?;
    }
    let pattern = NumberPattern::parse(&app.settings.matter_number_pattern)
        .map_err(|e| domain_error("number", e))?;
    let year16 = match &child_of {
        Some(p) => i16::try_from(p.year).unwrap_or(today.year()),
        None => how.year.unwrap_or(today.year()),
    };
    let year = i64::from(year16);
    let seq = store_matters::next_seq(c, year).await?;
    let number = match &how.number {
        Some(n) => n.clone(),
        None => pattern
            .format(year16, u32::try_from(seq).unwrap_or(u32::MAX))
            .to_string(),
    };
    let now = app.clock.now_ms();
    let row = MatterRow {
        id: 0,
        year,
        seq,
        number: number.clone(),
        title: title.to_string(),
        content,
        source_category: source.code().into(),
        source_doc: bounded("source_doc", &input.source_doc)?,
        lead_leader_id: input.lead_leader_id,
        lead_unit_id: input.lead_unit_id,
        deadline_kind: kind.into(),
        deadline_workdays: n,
        deadline,
        original_deadline: None,
        urgency: urgency.code().into(),
        major: input.major,
        feedback_cycle: cycle.code(),
        status: "draft".into(),
        progress: None,
        label: label.code().into(),
        parent_id: input.parent_id,
        carried_from_id: None,
        remarks: bounded("remarks", &input.remarks)?,
        latest_progress: String::new(),
        completion_note: String::new(),
        assigned_on: None,
        signed_on: None,
        completed_on: None,
        closed_on: None,
        lookback_on: None,
        created_by: who.person_id,
        created_at: now,
        updated_at: now,
        last_update_on: None,
        version: 1,
    };
    let id = store_matters::insert(c, &row).await.map_err(|e| match e {
        taizhang_store::StoreError::Conflict(_) => {
            AppError::Conflict(format!("编号 {number} 已被占用，请重试"))
        }
        other => other.into(),
    })?;
    attach_parts(c, id, &input).await?;
    record_event(app, c, who, id, "create", None, Some(status_of(&row)?), "").await?;
    audit::append(
        app,
        c,
        who,
        Event::ok("matter.create", "matter", id, format!("number={number}")),
    )
    .await?;
    Ok(id)
}
// --- end office import ---

async fn attach_parts(c: &mut Conn, id: i64, input: &NewMatter) -> AppResult<()> {
    for u in &input.assisting_unit_ids {
        if *u != input.lead_unit_id {
            store_matters::add_assisting_unit(c, id, *u).await?;
        }
    }
    for p in &input.handler_ids {
        store_matters::add_handler(c, id, *p).await?;
    }
    for (i, ms) in input.milestones.iter().enumerate() {
        let title = MatterTitle::parse(&ms.title).map_err(|e| domain_error("milestones", e))?;
        let due = parse_date("milestones", &ms.due_on)?;
        store_ledger::insert_milestone(
            c,
            &MilestoneRow {
                id: 0,
                matter_id: id,
                position: i64::try_from(i).unwrap_or(0) + 1,
                title: title.to_string(),
                due_on: due.to_string(),
                owner_id: ms.owner_id,
                done_on: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// A matter with the facts derived at read time.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MatterView {
    #[serde(flatten)]
    pub row: MatterRow,
    pub status_label: String,
    pub light: Light,
    /// 剩余工作日 (0 on the deadline, negative when overdue).
    pub days_left: Option<i64>,
    pub overdue: bool,
    /// The deadline lies in a year whose holiday notice is not loaded (日历未发布).
    pub provisional: bool,
}

/// Derive light, days left and overdue for one row. Pure: a page of 50 takes microseconds.
/// The light of a stored matter from the columns it depends on (the list's light filter reads
/// only these; [`view`] gives the same answer for the whole row).
pub fn light_of(
    cal: &WorkCalendar,
    rules: &LedgerRules,
    today: Date,
    f: &taizhang_store::matters::LightFacts,
) -> Light {
    light_from(
        cal,
        rules,
        today,
        &f.status,
        f.deadline.as_deref(),
        f.assigned_on.as_deref(),
        f.progress,
        &f.source_category,
    )
}

#[allow(clippy::too_many_arguments)]
fn light_from(
    cal: &WorkCalendar,
    rules: &LedgerRules,
    today: Date,
    status: &str,
    deadline: Option<&str>,
    assigned_on: Option<&str>,
    progress: Option<i64>,
    source_category: &str,
) -> Light {
    let status = taizhang_domain::lifecycle::MatterStatus::parse(status);
    let deadline = super::stored_date(deadline);
    let start = super::stored_date(assigned_on);
    let progress = progress.and_then(|p| u8::try_from(p).ok());
    status.map_or(Light::Grey, |s| {
        let r = rules.light.for_code(source_category);
        light::light(cal, &r, s, today, deadline, start, progress)
    })
}

pub fn view(cal: &WorkCalendar, rules: &LedgerRules, today: Date, row: MatterRow) -> MatterView {
    let status = taizhang_domain::lifecycle::MatterStatus::parse(&row.status);
    let deadline = super::stored_date(row.deadline.as_deref());
    let lit = light_from(
        cal,
        rules,
        today,
        &row.status,
        row.deadline.as_deref(),
        row.assigned_on.as_deref(),
        row.progress,
        &row.source_category,
    );
    let running = status.is_some_and(|s| {
        s.is_running() && s != taizhang_domain::lifecycle::MatterStatus::CompletionPending
    });
    MatterView {
        status_label: status.map_or_else(|| row.status.clone(), |s| s.label_zh().to_owned()),
        light: lit,
        days_left: deadline
            .filter(|_| running)
            .map(|d| light::days_left(cal, today, d)),
        overdue: running && deadline.is_some_and(|d| today > d),
        provisional: deadline.is_some_and(|d| cal.is_provisional(d)),
        row,
    }
}

/// A 节点 with its derived status.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MilestoneView {
    #[serde(flatten)]
    pub row: MilestoneRow,
    pub status: MilestoneStatus,
}

/// Everything about one matter (台账 page).
#[derive(Debug, Clone, Serialize)]
pub struct MatterDetail {
    pub matter: MatterView,
    pub assisting_unit_ids: Vec<i64>,
    pub handler_ids: Vec<i64>,
    pub milestones: Vec<MilestoneView>,
    /// The timeline: every step, who, when, what.
    pub events: Vec<EventRow>,
    pub reports: Vec<ReportRow>,
    pub extensions: Vec<ExtensionRow>,
    pub urges: Vec<UrgeRow>,
    pub notices: Vec<NoticeRow>,
    pub effects: Vec<EffectRow>,
    /// 结转至: matters carried over from this one.
    pub carried_to: Vec<(i64, String)>,
    /// 父事项, when this is a 子事项.
    pub parent: Option<super::submatters::ParentRef>,
    /// 子事项 (those within the reader's clearance), in number order, with their lights.
    pub children: Vec<MatterView>,
    /// What the escalation ladder proposes today (a person decides).
    pub proposal: Option<EscalationStep>,
}

/// Read one matter with its whole record.
pub async fn get_matter(app: &App, who: &Caller, id: i64) -> AppResult<MatterDetail> {
    let mut c = app.store.read().await?;
    let m = store_matters::get(&mut c, id).await?;
    let target = super::target_of(&mut c, &m).await?;
    who.require(Action::ViewMatter, Some(&target))?;
    if target.label != taizhang_domain::policy::Label::Normal {
        // Every read of a restricted (敏感/核心) record is in the audit trail (等保 安全审计 a).
        crate::audit::record_alone(
            app,
            who,
            crate::audit::Event::ok(
                "matter.read_restricted",
                "matter",
                id,
                format!("label={}", target.label.code()),
            ),
        )
        .await?;
    }
    let (cal, r) = super::calendar_and_rules(app, &mut c).await?;
    let today = today(app);
    let (parent, children) = super::submatters::family(&mut c, who, &m, &cal, &r, today).await?;
    let started = m.signed_on.is_some();
    let milestones = store_ledger::list_milestones(&mut c, id)
        .await?
        .into_iter()
        .map(|row| {
            let due = super::stored_date(Some(&row.due_on)).unwrap_or(today);
            let done = super::stored_date(row.done_on.as_deref());
            MilestoneView {
                status: MilestoneStatus::derive(started, done, due, today),
                row,
            }
        })
        .collect();
    let urges = store_esc::list_urges(&mut c, id).await?;
    let notices = store_esc::list_notices(&mut c, id).await?;
    let view = view(&cal, &r, today, m);
    let proposal = super::escalation::propose_for(&cal, &r, today, &view, &urges, &notices);
    Ok(MatterDetail {
        assisting_unit_ids: target.assisting_units,
        handler_ids: target.handler_ids,
        milestones,
        events: store_ledger::list_events(&mut c, id).await?,
        reports: store_ledger::list_reports(&mut c, id).await?,
        extensions: store_ledger::list_extensions(&mut c, id).await?,
        effects: store_esc::list_effects(&mut c, id).await?,
        carried_to: store_matters::carried_to(&mut c, id).await?,
        parent,
        children,
        urges,
        notices,
        proposal,
        matter: view,
    })
}
