//! 督办升级阶梯 as use cases: 催办 (logged, with a minimum interval), 督办单 (blue/yellow/red
//! notice with the unit's written reply), 通报 (numbered bulletin, 期号), and 跟踪问效 (effect
//! review with an optional 回头看 date). The system proposes; a person issues.

use jiff::civil::Date;
use serde::Serialize;
use taizhang_domain::calendar::WorkCalendar;
use taizhang_domain::escalation::{self, EscalationFacts, EscalationStep, NoticeColor};
use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::matter::{MatterTitle, Urgency};
use taizhang_domain::policy::{self, Action, ListScope, Target};
use taizhang_store::escalation::{self as store_esc, BulletinRow, EffectRow, NoticeRow, UrgeRow};

use super::matters::MatterView;
use super::{
    LedgerRules, bounded, domain_error, open_step, parse_date, person_of, required_reason, rules,
    today,
};
use crate::audit::{self, Event};
use crate::clock::date_of_ms;
use crate::{App, AppError, AppResult, Caller};

/// The next rung the ladder proposes for a matter today, if any.
pub fn propose_for(
    cal: &WorkCalendar,
    rules: &LedgerRules,
    today: Date,
    view: &MatterView,
    urges: &[UrgeRow],
    notices: &[NoticeRow],
) -> Option<EscalationStep> {
    let highest = notices
        .iter()
        .filter_map(|n| NoticeColor::parse(&n.color))
        .max();
    let top = notices
        .iter()
        .rfind(|n| NoticeColor::parse(&n.color) == highest);
    let facts = EscalationFacts {
        light: view.light,
        overdue_workdays: view.days_left.map_or(0, |d| -d),
        urges_sent: u32::try_from(urges.len()).unwrap_or(u32::MAX),
        last_urge_on: urges.last().and_then(|u| u.on_day.parse().ok()),
        highest_notice: highest,
        notice_unanswered_past_limit: top.is_some_and(|n| {
            n.reply.is_none() && n.due_on.parse::<Date>().is_ok_and(|d| today > d)
        }),
        major: view.row.major,
        urgency: Urgency::parse(&view.row.urgency).unwrap_or(Urgency::Normal),
    };
    escalation::propose(&facts, today, cal, &rules.escalation)
}

fn ensure_running(from: MatterStatus) -> AppResult<()> {
    if from.is_running() {
        Ok(())
    } else {
        Err(AppError::rule(
            "transition",
            format!("事项处于「{}」状态，无需督办", from.label_zh()),
        ))
    }
}

/// 催办: logged; refused within the minimum interval since the last one (`urge_too_soon`).
pub async fn urge(app: &App, who: &Caller, id: i64, method: &str, note: &str) -> AppResult<i64> {
    let note = bounded("note", note)?;
    let method = match method.trim() {
        "" => "system".to_owned(),
        m => bounded("method", m)?,
    };
    let mut s = open_step(app, who, id, Action::Urge).await?;
    ensure_running(s.from)?;
    let today = today(app);
    let cal = super::calendar::load(&mut s.c).await?;
    let min = rules().escalation.min_urge_interval_workdays;
    if let Some(last) = store_esc::list_urges(&mut s.c, id).await?.last()
        && let Ok(d) = last.on_day.parse::<Date>()
        && cal.workdays_between(d, today) < i64::from(min)
    {
        return Err(AppError::rule(
            "urge_too_soon",
            format!("距上次催办（{d}）不足{min}个工作日"),
        ));
    }
    let now = app.clock.now_ms();
    let urge_id = store_esc::insert_urge(
        &mut s.c,
        &UrgeRow {
            id: 0,
            matter_id: id,
            at_ms: now,
            on_day: today.to_string(),
            by_id: who.person_id,
            method: method.clone(),
            note: note.clone(),
        },
    )
    .await?;
    s.finish(app, who, "urge", &format!("{method} {note}"))
        .await?;
    Ok(urge_id)
}

/// A 督办单 to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeInput {
    /// `blue`, `yellow` or `red`.
    pub color: String,
    /// 发出原因
    pub reason: String,
    /// 办理要求
    pub requirement: String,
    /// 限期 `YYYY-MM-DD`.
    pub due_on: String,
}

/// 签发督办单 to the lead unit. Returns (id, number such as `督办〔2026〕3号`).
pub async fn issue_notice(
    app: &App,
    who: &Caller,
    id: i64,
    input: NoticeInput,
) -> AppResult<(i64, String)> {
    let signer = person_of(who)?;
    let color = NoticeColor::parse(&input.color).ok_or_else(|| {
        AppError::invalid(
            "color",
            "unknown_code",
            "督办单颜色应为 blue / yellow / red",
        )
    })?;
    let reason = required_reason(&input.reason)?;
    let requirement = bounded("requirement", &input.requirement)?;
    let due = parse_date("due_on", &input.due_on)?;
    let today = today(app);
    if due < today {
        return Err(domain_error(
            "due_on",
            taizhang_domain::matter::DomainError::DeadlineBeforeStart {
                start: today,
                deadline: due,
            },
        ));
    }
    let mut s = open_step(app, who, id, Action::IssueNotice).await?;
    ensure_running(s.from)?;
    let year = i64::from(today.year());
    let seq = store_esc::next_notice_seq(&mut s.c, year).await?;
    let number = format!("督办〔{year}〕{seq}号");
    let row = NoticeRow {
        id: 0,
        matter_id: id,
        year,
        seq,
        number: number.clone(),
        color: color.code().into(),
        unit_id: s.m.lead_unit_id,
        reason,
        requirement,
        due_on: due.to_string(),
        signer_id: signer,
        issued_on: today.to_string(),
        reply: None,
        replied_by: None,
        replied_on: None,
    };
    let notice_id = store_esc::insert_notice(&mut s.c, &row).await?;
    s.finish(
        app,
        who,
        "issue_notice",
        &format!("{} {number}", color.label_zh()),
    )
    .await?;
    Ok((notice_id, number))
}

/// The unit's written reply (书面说明) to a 督办单.
pub async fn answer_notice(app: &App, who: &Caller, notice_id: i64, reply: &str) -> AppResult<()> {
    let reply = required_reason(reply)?;
    let mut c = app.store.read().await?;
    let notice = store_esc::get_notice(&mut c, notice_id).await?;
    drop(c);
    let mut s = open_step(app, who, notice.matter_id, Action::AnswerNotice).await?;
    let today = today(app).to_string();
    store_esc::answer_notice(&mut s.c, notice_id, &reply, who.person_id, &today)
        .await
        .map_err(|_| AppError::rule("notice_answered", "该督办单已回复"))?;
    s.finish(app, who, "answer_notice", &notice.number).await
}

/// Whether `who` is the one to write the 书面回复 to notice `n` now: it is unanswered, the
/// policy allows [`Action::AnswerNotice`] on the matter, and `who` belongs to the unit the notice
/// was sent to (or a unit above it). The 督查室 may answer by policy (through the API), but its
/// pages do not offer it a reply to its own notice.
pub fn may_answer(who: &Caller, n: &NoticeRow, target: &Target) -> bool {
    n.reply.is_none()
        && who.decide(Action::AnswerNotice, Some(target)).is_allowed()
        && (who.unit_id == n.unit_id || who.actor.subtree.contains(&n.unit_id))
}

/// A 督办单 on the 工作台, with its matter.
#[derive(Debug, Clone, Serialize)]
pub struct DeskNotice {
    #[serde(flatten)]
    pub notice: NoticeRow,
    pub matter_number: String,
    pub matter_title: String,
    pub can_answer: bool,
}

/// Days an answered 督办单 stays on the 工作台 (the 督查室 reads the replies there).
pub const REPLIES_SHOWN_DAYS: i64 = 30;

/// The 督办单 `who` sees on the 工作台: every unanswered one on a matter they may read (the
/// lead unit answers from here), and the ones answered in the last [`REPLIES_SHOWN_DAYS`] days.
pub async fn desk_notices(app: &App, who: &Caller) -> AppResult<Vec<DeskNotice>> {
    let scope = if who.is_system() {
        ListScope::All
    } else {
        policy::list_scope(&who.actor, Action::ViewMatter)
    };
    let units = match &scope {
        ListScope::All => None,
        ListScope::Units(u) => Some(u.as_slice()),
        ListScope::Nothing => return Ok(Vec::new()),
    };
    let since = today(app)
        .checked_sub(jiff::Span::new().days(REPLIES_SHOWN_DAYS))
        .unwrap_or_else(|_| today(app));
    let mut c = app.store.read().await?;
    let rows = store_esc::notices_for_units(&mut c, units, &since.to_string(), 200).await?;
    let mut out = Vec::new();
    for n in rows {
        let m = taizhang_store::matters::get(&mut c, n.matter_id).await?;
        let target = super::target_of(&mut c, &m).await?;
        if !who.decide(Action::ViewMatter, Some(&target)).is_allowed() {
            continue;
        }
        out.push(DeskNotice {
            can_answer: may_answer(who, &n, &target),
            matter_number: m.number,
            matter_title: m.title,
            notice: n,
        });
        if out.len() >= 50 {
            break;
        }
    }
    Ok(out)
}

/// A 通报 to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulletinInput {
    pub title: String,
    pub body: String,
    /// The 月盘点 it is issued from (`2026-03`), if any.
    pub month_key: Option<String>,
}

/// 通报: a numbered bulletin (期号 per year). Returns (id, issue number).
pub async fn issue_bulletin(
    app: &App,
    who: &Caller,
    input: BulletinInput,
) -> AppResult<(i64, i64)> {
    who.require(Action::IssueBulletin, None)?;
    let by = person_of(who)?;
    let title = MatterTitle::parse(&input.title).map_err(|e| domain_error("title", e))?;
    let body = bounded("body", &input.body)?;
    let today = date_of_ms(app.clock.now_ms());
    let year = i64::from(today.year());
    let mut c = app.store.begin().await?;
    if let Some(m) = &input.month_key
        && taizhang_store::cadences::find_snapshot(&mut c, m)
            .await?
            .is_none()
    {
        return Err(AppError::invalid(
            "month_key",
            "snapshot_missing",
            format!("{m} 尚未盘点"),
        ));
    }
    let issue_no = store_esc::next_issue_no(&mut c, year).await?;
    let row = BulletinRow {
        id: 0,
        year,
        issue_no,
        title: title.to_string(),
        period_key: input.month_key.clone().unwrap_or_default(),
        body,
        issued_by: by,
        issued_on: today.to_string(),
    };
    let id = store_esc::insert_bulletin(&mut c, &row).await?;
    if let Some(m) = &input.month_key {
        taizhang_store::cadences::link_bulletin(&mut c, m, id).await?;
    }
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "bulletin.issue",
            "bulletin",
            id,
            format!("year={year} no={issue_no}"),
        ),
    )
    .await?;
    c.commit().await?;
    Ok((id, issue_no))
}

/// 问效 ratings.
pub const RATINGS: &[(&str, &str)] = &[
    ("good", "好"),
    ("fair", "较好"),
    ("average", "一般"),
    ("poor", "差"),
];

/// A 跟踪问效 review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectInput {
    /// A code of [`RATINGS`].
    pub rating: String,
    pub evidence: String,
    pub comment: String,
    /// 回头看 date, `YYYY-MM-DD`.
    pub lookback_on: Option<String>,
}

/// 问效 after 办结 (or 销号): rating, evidence, comment and an optional 回头看 date.
pub async fn review_effect(app: &App, who: &Caller, id: i64, input: EffectInput) -> AppResult<i64> {
    let reviewer = person_of(who)?;
    if !RATINGS.iter().any(|(c, _)| *c == input.rating) {
        return Err(AppError::invalid(
            "rating",
            "unknown_code",
            "评价应为 good / fair / average / poor",
        ));
    }
    let lookback = input
        .lookback_on
        .as_deref()
        .map(|s| parse_date("lookback_on", s))
        .transpose()?;
    let mut s = open_step(app, who, id, Action::CloseOut).await?;
    if !matches!(s.from, MatterStatus::Completed | MatterStatus::Closed) {
        return Err(AppError::rule(
            "effect_before_completion",
            "事项办结后才能问效",
        ));
    }
    let today = today(app);
    let row = EffectRow {
        id: 0,
        matter_id: id,
        rating: input.rating.clone(),
        evidence: bounded("evidence", &input.evidence)?,
        comment: bounded("comment", &input.comment)?,
        reviewer_id: reviewer,
        reviewed_on: today.to_string(),
        lookback_on: lookback.map(|d| d.to_string()),
    };
    let effect_id = store_esc::insert_effect(&mut s.c, &row).await?;
    if let Some(d) = lookback {
        s.m.lookback_on = Some(d.to_string());
    }
    s.finish(app, who, "review_effect", &input.rating).await?;
    Ok(effect_id)
}
