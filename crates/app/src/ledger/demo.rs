//! The demo ledger: about three hundred matters over every lifecycle state, with 节点, progress
//! reports, extensions, 催办 and 督办单, overdue ones and deadlines around today — all dated
//! relative to the App clock, so the same clock gives the same data. Written in one
//! transaction straight through the store (the use cases would take minutes of fsyncs).

use jiff::civil::Date;
use taizhang_domain::calendar::WorkCalendar;
use taizhang_domain::lifecycle::MatterStatus as S;
use taizhang_domain::matter::NumberPattern;
use taizhang_store::escalation::{self as store_esc, NoticeRow, UrgeRow};
use taizhang_store::ledger::{
    self as store_ledger, EventRow, ExtensionRow, MilestoneRow, ReportRow,
};
use taizhang_store::matters::{self as store_matters, MatterRow};
use taizhang_store::{Conn, org, people};

use super::domain_error;
use crate::audit::{self, Event};
use crate::clock::start_of_day_ms;
use crate::{App, AppError, AppResult, Caller};

/// Number of demo matters.
pub const DEMO_MATTERS: usize = 300;

/// Status by `i % 20`: mostly 办理中, every other state present.
const MIX: [S; 20] = [
    S::Draft,
    S::PendingApproval,
    S::Assigned,
    S::Assigned,
    S::InProgress,
    S::InProgress,
    S::InProgress,
    S::InProgress,
    S::InProgress,
    S::InProgress,
    S::InProgress,
    S::InProgress,
    S::ExtensionPending,
    S::StopPending,
    S::CompletionPending,
    S::Completed,
    S::Completed,
    S::Closed,
    S::Closed,
    S::Stopped,
];

const TOPICS: &[&str] = &[
    "干部教育培训规划落实",
    "年轻干部选育管用",
    "基层党组织标准化建设",
    "党员发展质量提升",
    "人才引进政策兑现",
    "公务员平时考核",
    "干部档案专项审核",
    "选人用人专项检查整改",
    "组工干部业务比武",
    "四个联系走访问题办理",
    "第一议题制度落实",
    "党内法规学习年活动",
    "机关作风建设",
    "软弱涣散党组织整顿",
    "干部监督信息化",
];
const SOURCES: &[&str] = &[
    "superior_document",
    "leader_instruction",
    "meeting_decision",
    "annual_key_work",
    "four_contacts",
    "first_topic",
];
const CYCLES: &[&str] = &["weekly:5", "monthly_workday:5", "none"];

struct Ctx<'a> {
    c: Conn,
    cal: &'a WorkCalendar,
    today: Date,
    units: Vec<(i64, Vec<i64>)>,
    supervisor: i64,
    leaders: Vec<i64>,
}

fn back(d: Date, days: i64) -> Date {
    d.checked_sub(jiff::Span::new().days(days)).unwrap_or(d)
}

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    async fn event(
        &mut self,
        id: i64,
        day: Date,
        actor: Option<i64>,
        kind: &str,
        from: Option<S>,
        to: Option<S>,
        note: &str,
    ) -> AppResult<()> {
        let e = EventRow {
            id: 0,
            matter_id: id,
            at_ms: start_of_day_ms(day) + 10 * 3_600_000,
            on_day: day.to_string(),
            actor_id: actor,
            kind: kind.into(),
            from_status: from.map(|s| s.as_str().into()),
            to_status: to.map(|s| s.as_str().into()),
            note: note.into(),
        };
        store_ledger::insert_event(&mut self.c, &e).await?;
        Ok(())
    }

    fn wd(&self, d: Date, n: u32) -> AppResult<Date> {
        self.cal
            .add_workdays(d, n)
            .map_err(|e| domain_error("deadline", e.into()))
    }
}

/// Load the demo matters (after [`crate::demo::load_org`]). Returns how many were created.
pub async fn load_matters(app: &App) -> AppResult<usize> {
    let mut c = app.store.begin().await?;
    let cal = super::calendar::load(&mut c).await?;
    let today = super::today(app);
    let find = async |c: &mut Conn, u: &str| -> AppResult<i64> {
        Ok(people::find_by_username(c, u)
            .await?
            .ok_or_else(|| AppError::NotFound(u.into()))?
            .id)
    };
    let supervisor = find(&mut c, "ducha").await?;
    let mut leaders = Vec::new();
    for u in [
        "buzhang",
        "changwu",
        "fubuzhang1",
        "fubuzhang2",
        "fubuzhang3",
    ] {
        leaders.push(find(&mut c, u).await?);
    }
    let all_people = people::list_people(&mut c).await?;
    let roles = people::all_roles(&mut c).await?;
    let mut units = Vec::new();
    for u in org::list_units(&mut c).await? {
        if !matches!(u.kind.as_str(), "division" | "lower_department")
            || ["督查室", "信息中心", "驻部纪检监察组"].contains(&u.name.as_str())
        {
            continue;
        }
        let staff: Vec<i64> = all_people
            .iter()
            .filter(|p| {
                p.unit_id == u.id
                    && roles.iter().any(|(id, r)| {
                        *id == p.id && (r == "handler" || r == "liaison" || r == "unit_head")
                    })
            })
            .map(|p| p.id)
            .collect();
        if !staff.is_empty() {
            units.push((u.id, staff));
        }
    }
    if units.is_empty() {
        return Err(AppError::Conflict("演示组织未装入".into()));
    }
    let mut ctx = Ctx {
        c,
        cal: &cal,
        today,
        units,
        supervisor,
        leaders,
    };
    let pattern = NumberPattern::parse(&app.settings.matter_number_pattern)
        .map_err(|e| domain_error("number", e))?;
    let first_seq = store_matters::next_seq(&mut ctx.c, i64::from(today.year())).await?;
    for i in 0..DEMO_MATTERS {
        one(
            &mut ctx,
            &pattern,
            i,
            first_seq + i64::try_from(i).unwrap_or(0),
            app.clock.now_ms(),
        )
        .await?;
    }
    let mut c = ctx.c;
    audit::append(
        app,
        &mut c,
        &Caller::system("demo"),
        Event::ok(
            "demo.load_ledger",
            "database",
            "demo",
            format!("matters={DEMO_MATTERS}"),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(DEMO_MATTERS)
}

async fn one(
    ctx: &mut Ctx<'_>,
    pattern: &NumberPattern,
    i: usize,
    seq: i64,
    now: i64,
) -> AppResult<()> {
    let status = MIX[i % MIX.len()];
    // Favour 干部一处 (the demo handler's unit): every fifth matter is led by the first unit.
    let (unit, staff) = if i.is_multiple_of(5) {
        ctx.units[5.min(ctx.units.len() - 1)].clone()
    } else {
        ctx.units[(i * 7) % ctx.units.len()].clone()
    };
    let assisting = ctx.units[(i * 11 + 3) % ctx.units.len()].0;
    let handler = staff[i % staff.len()];
    let today = ctx.today;
    let n = u32::try_from(5 + (i * 13) % 50).unwrap_or(10);
    let assigned = back(today, i64::try_from(3 + (i * 7) % 60).unwrap_or(5));
    let created = back(assigned, 2);
    let started = !matches!(status, S::Draft | S::PendingApproval);
    let deadline = if started {
        Some(ctx.wd(assigned, n)?)
    } else {
        None
    };
    let signed = if started && status != S::Assigned {
        Some(ctx.wd(assigned, 1)?.min(today))
    } else {
        None
    };
    let year = i64::from(today.year());
    let mut m = MatterRow {
        id: 0,
        year,
        seq,
        number: pattern
            .format(today.year(), u32::try_from(seq).unwrap_or(0))
            .to_string(),
        title: format!("{}（第{}项）", TOPICS[i % TOPICS.len()], i + 1),
        content: format!(
            "围绕{}，明确任务分工、时间节点和工作要求，按期报送进展。",
            TOPICS[i % TOPICS.len()]
        ),
        source_category: SOURCES[i % SOURCES.len()].into(),
        source_doc: format!("部务会纪要〔{year}〕{}号", 1 + i % 12),
        lead_leader_id: Some(ctx.leaders[i % ctx.leaders.len()]),
        lead_unit_id: unit,
        deadline_kind: if started { "date" } else { "workdays" }.into(),
        deadline_workdays: (!started).then_some(i64::from(n)),
        deadline: deadline.map(|d| d.to_string()),
        original_deadline: deadline.map(|d| d.to_string()),
        urgency: ["normal", "normal", "urgent", "extra"][i % 4].into(),
        major: i.is_multiple_of(9),
        feedback_cycle: CYCLES[i % CYCLES.len()].into(),
        status: status.as_str().into(),
        progress: None,
        label: "normal".into(),
        parent_id: None,
        carried_from_id: None,
        remarks: String::new(),
        latest_progress: String::new(),
        completion_note: String::new(),
        assigned_on: started.then(|| assigned.to_string()),
        signed_on: signed.map(|d| d.to_string()),
        completed_on: None,
        closed_on: None,
        lookback_on: None,
        created_by: Some(ctx.supervisor),
        created_at: now,
        updated_at: now,
        last_update_on: None,
        version: 1,
    };
    if matches!(status, S::CompletionPending | S::Completed | S::Closed) {
        m.completion_note = "相关文件已印发，工作已落实".into();
    }
    if matches!(status, S::Completed | S::Closed) {
        let fin = deadline.map_or(today, |d| d.min(today));
        m.completed_on = Some(fin.to_string());
        m.progress = Some(100);
        if status == S::Closed {
            m.closed_on = Some(fin.to_string());
        }
    }
    let id = store_matters::insert(&mut ctx.c, &m).await?;
    m.id = id;
    store_matters::add_handler(&mut ctx.c, id, handler).await?;
    if i.is_multiple_of(3) && assisting != unit {
        store_matters::add_assisting_unit(&mut ctx.c, id, assisting).await?;
    }
    let sup = Some(ctx.supervisor);
    ctx.event(id, created, sup, "create", None, Some(S::Draft), "")
        .await?;
    if status == S::Draft {
        return Ok(());
    }
    ctx.event(
        id,
        created,
        sup,
        "submit",
        Some(S::Draft),
        Some(S::PendingApproval),
        "",
    )
    .await?;
    if status == S::PendingApproval {
        return Ok(());
    }
    ctx.event(
        id,
        assigned,
        sup,
        "approve",
        Some(S::PendingApproval),
        Some(S::Assigned),
        "",
    )
    .await?;
    if i % 3 == 1 {
        for (k, title) in ["制定方案", "组织实施", "总结验收"].iter().enumerate() {
            let due = ctx.wd(assigned, n * u32::try_from(k + 1).unwrap_or(1) / 3)?;
            let done = (due < today && status != S::Assigned).then(|| due.to_string());
            store_ledger::insert_milestone(
                &mut ctx.c,
                &MilestoneRow {
                    id: 0,
                    matter_id: id,
                    position: i64::try_from(k).unwrap_or(0) + 1,
                    title: (*title).into(),
                    due_on: due.to_string(),
                    owner_id: Some(handler),
                    done_on: done,
                },
            )
            .await?;
        }
    }
    let Some(signed) = signed else { return Ok(()) };
    ctx.event(
        id,
        signed,
        Some(handler),
        "sign_for",
        Some(S::Assigned),
        Some(S::InProgress),
        "",
    )
    .await?;
    later(ctx, &mut m, id, i, status, signed, handler).await?;
    store_matters::save(&mut ctx.c, &m).await?;
    Ok(())
}

/// Reports, extensions, escalation and the final steps of a signed-for matter.
async fn later(
    ctx: &mut Ctx<'_>,
    m: &mut MatterRow,
    id: i64,
    i: usize,
    status: S,
    signed: Date,
    handler: i64,
) -> AppResult<()> {
    let today = ctx.today;
    let reports = if i % 7 == 3 { 0 } else { 1 + i % 3 };
    for k in 0..reports {
        let day = back(today, i64::try_from((reports - k) * 5 + i % 4).unwrap_or(0)).max(signed);
        let p = i64::try_from((k + 1) * 25 + i % 10).unwrap_or(0).min(95);
        let body = format!("已完成第{}阶段工作，推进顺利。", k + 1);
        let rep = ReportRow {
            id: 0,
            matter_id: id,
            unit_id: m.lead_unit_id,
            reporter_id: handler,
            due_on: None,
            submitted_at: start_of_day_ms(day) + 11 * 3_600_000,
            submitted_on: day.to_string(),
            progress: Some(p),
            body: body.clone(),
            problems: if i.is_multiple_of(4) {
                "个别单位配合不够".into()
            } else {
                String::new()
            },
            coordination: if i.is_multiple_of(6) {
                "需协调财政部门保障经费".into()
            } else {
                String::new()
            },
            next_steps: "按计划推进下一阶段".into(),
            contribution: false,
            status: "submitted".into(),
            review_note: String::new(),
            reviewed_by: None,
            reviewed_at: None,
        };
        let rid = store_ledger::insert_report(&mut ctx.c, &rep).await?;
        ctx.event(
            id,
            day,
            Some(handler),
            "report_progress",
            Some(S::InProgress),
            Some(S::InProgress),
            &format!("report={rid}"),
        )
        .await?;
        // 佐证材料 on the latest report of some matters (several of 干部一处's).
        if k + 1 == reports && (i.is_multiple_of(10) || i % 20 == 15 || i % 20 == 7) {
            let at = start_of_day_ms(day) + 11 * 3_600_000 + 60_000;
            let name =
                super::attachments::demo_evidence(&mut ctx.c, m, rid, handler, at, i).await?;
            let s = Some(S::InProgress);
            ctx.event(id, day, Some(handler), "attachment_upload", s, s, &name)
                .await?;
        }
        m.latest_progress = body;
        m.last_update_on = Some(day.to_string());
        if m.progress.is_none() || status == S::InProgress {
            m.progress = Some(p);
        }
    }
    let deadline = super::stored_date(m.deadline.as_deref());
    let overdue = deadline.is_some_and(|d| d < today);
    if status == S::ExtensionPending || (status == S::InProgress && i % 10 == 4 && !overdue) {
        let old = deadline.unwrap_or(today);
        let proposed = ctx.wd(old, 10)?;
        let approved = status == S::InProgress;
        let ext = ExtensionRow {
            id: 0,
            matter_id: id,
            requested_by: handler,
            requested_on: today.to_string(),
            reason: "涉及多部门会签，需延长办理时间".into(),
            current_progress: "已完成主体工作".into(),
            old_deadline: Some(old.to_string()),
            proposed_deadline: proposed.to_string(),
            status: "pending".into(),
            decided_by: None,
            decided_on: None,
            new_deadline: None,
            basis: String::new(),
        };
        let eid = store_ledger::insert_extension(&mut ctx.c, &ext).await?;
        ctx.event(
            id,
            today,
            Some(handler),
            "request_extension",
            Some(S::InProgress),
            Some(S::ExtensionPending),
            &ext.reason,
        )
        .await?;
        if approved {
            let decided = ExtensionRow {
                id: eid,
                status: "approved".into(),
                decided_by: Some(ctx.supervisor),
                decided_on: Some(today.to_string()),
                new_deadline: Some(proposed.to_string()),
                basis: "部领导批示同意".into(),
                ..ext
            };
            store_ledger::decide_extension(&mut ctx.c, &decided).await?;
            ctx.event(
                id,
                today,
                Some(ctx.supervisor),
                "approve_extension",
                Some(S::ExtensionPending),
                Some(S::InProgress),
                "部领导批示同意",
            )
            .await?;
            m.deadline = Some(proposed.to_string());
        }
    }
    if overdue && status == S::InProgress {
        let day = back(today, 1).max(signed);
        store_esc::insert_urge(
            &mut ctx.c,
            &UrgeRow {
                id: 0,
                matter_id: id,
                at_ms: start_of_day_ms(day) + 9 * 3_600_000,
                on_day: day.to_string(),
                by_id: Some(ctx.supervisor),
                method: "电话".into(),
                note: "请抓紧办理".into(),
            },
        )
        .await?;
        ctx.event(
            id,
            day,
            Some(ctx.supervisor),
            "urge",
            Some(S::InProgress),
            Some(S::InProgress),
            "电话 请抓紧办理",
        )
        .await?;
        if i.is_multiple_of(2) {
            let color = ["blue", "yellow", "red"][i % 3];
            let seq = store_esc::next_notice_seq(&mut ctx.c, m.year).await?;
            let due = ctx.wd(today, 3)?;
            let n = NoticeRow {
                id: 0,
                matter_id: id,
                year: m.year,
                seq,
                number: format!("督办〔{}〕{seq}号", m.year),
                color: color.into(),
                unit_id: m.lead_unit_id,
                reason: "逾期未办结".into(),
                requirement: "3个工作日内书面说明情况".into(),
                due_on: due.to_string(),
                signer_id: ctx.supervisor,
                issued_on: today.to_string(),
                reply: None,
                replied_by: None,
                replied_on: None,
            };
            store_esc::insert_notice(&mut ctx.c, &n).await?;
            ctx.event(
                id,
                today,
                Some(ctx.supervisor),
                "issue_notice",
                Some(S::InProgress),
                Some(S::InProgress),
                &n.number,
            )
            .await?;
        }
    }
    let end = deadline.map_or(today, |d| d.min(today)).max(signed);
    match status {
        S::StopPending | S::Stopped => {
            ctx.event(
                id,
                end,
                Some(handler),
                "request_stop",
                Some(S::InProgress),
                Some(S::StopPending),
                "上级政策调整，任务不再实施",
            )
            .await?;
            if status == S::Stopped {
                ctx.event(
                    id,
                    end,
                    Some(ctx.supervisor),
                    "approve_stop",
                    Some(S::StopPending),
                    Some(S::Stopped),
                    "同意中止",
                )
                .await?;
            }
        }
        S::CompletionPending | S::Completed | S::Closed => {
            ctx.event(
                id,
                end,
                Some(handler),
                "report_completion",
                Some(S::InProgress),
                Some(S::CompletionPending),
                "相关文件已印发",
            )
            .await?;
            if status != S::CompletionPending {
                ctx.event(
                    id,
                    end,
                    Some(ctx.supervisor),
                    "approve_completion",
                    Some(S::CompletionPending),
                    Some(S::Completed),
                    "",
                )
                .await?;
            }
            if status == S::Closed {
                ctx.event(
                    id,
                    end,
                    Some(ctx.supervisor),
                    "close_out",
                    Some(S::Completed),
                    Some(S::Closed),
                    "",
                )
                .await?;
            }
        }
        _ => {}
    }
    Ok(())
}
