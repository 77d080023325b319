//! The 11710 supervision ledger (一事一台账、一日一清查、一周一小结、一月一盘点、一年一归零): use
//! cases for matters, the closed loop 建立台账 → 督办落实 → 定期报告 → 跟踪问效, escalation and the
//! four cadences.
//!
//! Every write runs in one transaction holding the change, a `matter_events` timeline row (for
//! matter changes) and the audit record. A refused step returns [`AppError::Invalid`] whose
//! `code` names the rule (`transition`, `extension_after_deadline`, …) and changes nothing.
//! Lights and days left are derived at read time from the calendar loaded once per request.

pub mod actions;
pub mod attachments;
pub mod calendar;
pub mod daily;
pub mod demo;
pub mod desk;
pub mod edit;
pub mod escalation;
pub mod explain;
pub mod flow;
pub mod list;
pub mod matters;
pub mod monthly;
pub mod progress;
pub mod submatters;
pub mod thresholds;
pub mod views;
pub mod weekly;
pub mod year;

use jiff::civil::Date;
use taizhang_domain::daily_check::CheckRules;
use taizhang_domain::escalation::EscalationRules;
use taizhang_domain::lifecycle::{self, MatterStatus, Transition};
use taizhang_domain::light::LightTable;
use taizhang_domain::matter::DomainError;
use taizhang_domain::policy::{Action, Label, Target};
use taizhang_store::Conn;
use taizhang_store::ledger::{self as store_ledger, EventRow};
use taizhang_store::matters::{self as store_matters, MatterRow};

use crate::audit::{self, Event};
use crate::clock::date_of_ms;
use crate::{App, AppError, AppResult, Caller};

pub use matters::{MatterDetail, MatterView, NewMatter, create_matter, get_matter};

/// Thresholds of lights, the daily check and the escalation ladder (defaults of domain.md §2.3).
#[derive(Debug, Clone, Copy, Default)]
pub struct LedgerRules {
    /// Light thresholds per 任务来源, with a default row (configured by the administrator).
    pub light: LightTable,
    pub check: CheckRules,
    pub escalation: EscalationRules,
}

/// The documented defaults. Lights use the configured per-category thresholds instead: see
/// [`thresholds::rules_in`] (the daily check and the escalation ladder keep these defaults).
pub fn rules() -> LedgerRules {
    LedgerRules::default()
}

/// The working-day calendar and the ledger rules for one request: both cached in [`App`] and
/// validated by their settings rows (`calendar.version`, [`thresholds::SETTING_KEY`]), read in
/// one query instead of one each.
pub(crate) async fn calendar_and_rules(
    app: &App,
    c: &mut Conn,
) -> AppResult<(
    std::sync::Arc<taizhang_domain::calendar::WorkCalendar>,
    LedgerRules,
)> {
    let (version, thresholds) =
        taizhang_store::settings::find_pair(c, calendar::VERSION_KEY, thresholds::SETTING_KEY)
            .await?;
    let cal = calendar::cached_at(app, c, version.unwrap_or_default()).await?;
    Ok((
        cal,
        thresholds::rules_for(app, thresholds.unwrap_or_default()),
    ))
}

/// Longest 事项内容 and other free texts accepted, in characters.
pub const TEXT_MAX_CHARS: usize = 20_000;

/// Today in China, from the App clock.
pub fn today(app: &App) -> Date {
    date_of_ms(app.clock.now_ms())
}

/// A `YYYY-MM-DD` form value; refused with code `date` otherwise.
pub fn parse_date(field: &str, s: &str) -> AppResult<Date> {
    s.trim().parse::<Date>().map_err(|_| {
        AppError::invalid(
            field,
            "date",
            format!("日期「{s}」格式无效（应为 YYYY-MM-DD）"),
        )
    })
}

/// A stored date column (written by us, so malformed means corrupt data).
pub(crate) fn stored_date(s: Option<&str>) -> Option<Date> {
    s.and_then(|d| d.parse::<Date>().ok())
}

/// Free text bounded by [`TEXT_MAX_CHARS`]; refused with code `text_too_long`.
pub(crate) fn bounded(field: &str, s: &str) -> AppResult<String> {
    if s.len() > TEXT_MAX_CHARS * 4 || s.chars().count() > TEXT_MAX_CHARS {
        return Err(AppError::invalid(
            field,
            "text_too_long",
            format!("内容不能超过{TEXT_MAX_CHARS}个字"),
        ));
    }
    Ok(s.trim().to_owned())
}

/// A reason that must be written (驳回、退回、延期、中止、回头看).
pub(crate) fn required_reason(s: &str) -> AppResult<String> {
    let r = bounded("reason", s)?;
    if r.is_empty() {
        return Err(AppError::invalid("reason", "reason_required", "请填写理由"));
    }
    Ok(r)
}

/// A domain refusal as an [`AppError::Invalid`] whose code names the rule.
pub fn domain_error(field: &str, e: DomainError) -> AppError {
    let code = match &e {
        DomainError::TitleEmpty => "title_empty",
        DomainError::TitleTooLong { .. } => "title_too_long",
        DomainError::TitleControlChar => "title_control_char",
        DomainError::DeadlineBeforeStart { .. } => "deadline_before_start",
        DomainError::ExtensionAfterDeadline { .. } => "extension_after_deadline",
        DomainError::ProgressOutOfRange(_) => "progress_out_of_range",
        DomainError::UnknownCode { .. } => "unknown_code",
        DomainError::NumberPatternWithoutSeq(_)
        | DomainError::NumberPatternUnknownPlaceholder { .. } => "number_pattern",
        DomainError::Calendar(_) => "date_out_of_range",
        DomainError::Transition(_) => "transition",
    };
    AppError::invalid(field, code, e.to_string())
}

pub(crate) fn status_of(m: &MatterRow) -> AppResult<MatterStatus> {
    MatterStatus::parse(&m.status)
        .ok_or_else(|| AppError::Internal(format!("matter {} has status {}", m.id, m.status)))
}

/// The policy target of a matter: lead unit, assisting units, handlers, label.
pub(crate) async fn target_of(c: &mut Conn, m: &MatterRow) -> AppResult<Target> {
    let (assisting_units, handler_ids) = store_matters::parties(c, m.id).await?;
    Ok(Target {
        owner_unit: Some(m.lead_unit_id),
        assisting_units,
        handler_ids,
        label: Label::parse(&m.label).unwrap_or(Label::Core),
    })
}

/// A matter opened for one change: the write transaction, the row as read, and its target.
pub(crate) struct Step {
    pub c: Conn,
    pub m: MatterRow,
    pub from: MatterStatus,
}

/// Begin a write on matter `id`: load it, ask the policy for `action`, refuse a closed year.
pub(crate) async fn open_step(app: &App, who: &Caller, id: i64, action: Action) -> AppResult<Step> {
    let mut c = app.store.begin().await?;
    let m = store_matters::get(&mut c, id).await?;
    let target = target_of(&mut c, &m).await?;
    who.require(action, Some(&target))?;
    if taizhang_store::cadences::year_closed(&mut c, m.year).await? {
        return Err(AppError::rule(
            "year_closed",
            format!("{}年度已归零，事项只读", m.year),
        ));
    }
    let from = status_of(&m)?;
    Ok(Step { c, m, from })
}

impl Step {
    /// Move the matter by `t` (refused with code `transition` from the wrong status).
    pub fn transit(&mut self, t: Transition) -> AppResult<MatterStatus> {
        let to = lifecycle::apply(self.from, t)
            .map_err(|e| domain_error("status", DomainError::Transition(e)))?;
        self.m.status = to.as_str().to_owned();
        Ok(to)
    }

    /// Save the row, append the timeline event and the audit record, and commit.
    pub async fn finish(
        mut self,
        app: &App,
        who: &Caller,
        kind: &str,
        note: &str,
    ) -> AppResult<()> {
        let now = app.clock.now_ms();
        self.m.updated_at = now;
        store_matters::save(&mut self.c, &self.m)
            .await
            .map_err(|_| AppError::Conflict("事项已被他人修改，请刷新后重试".into()))?;
        let to = status_of(&self.m)?;
        record_event(
            app,
            &mut self.c,
            who,
            self.m.id,
            kind,
            Some(self.from),
            Some(to),
            note,
        )
        .await?;
        let detail = format!(
            "number={} {}→{} {}",
            self.m.number,
            self.from.as_str(),
            to.as_str(),
            note
        );
        audit::append(
            app,
            &mut self.c,
            who,
            Event::ok(&format!("matter.{kind}"), "matter", self.m.id, detail),
        )
        .await?;
        // --- notify (issue 7): the step's notifications commit with it ---
        crate::notify::on_matter_step(app, &mut self.c, &self.m, kind, note).await?;
        self.c.commit().await?;
        Ok(())
    }
}

/// Append one timeline row (who, when, what).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_event(
    app: &App,
    c: &mut Conn,
    who: &Caller,
    matter_id: i64,
    kind: &str,
    from: Option<MatterStatus>,
    to: Option<MatterStatus>,
    note: &str,
) -> AppResult<()> {
    let now = app.clock.now_ms();
    store_ledger::insert_event(
        c,
        &EventRow {
            id: 0,
            matter_id,
            at_ms: now,
            on_day: date_of_ms(now).to_string(),
            actor_id: who.person_id,
            kind: kind.to_owned(),
            from_status: from.map(|s| s.as_str().to_owned()),
            to_status: to.map(|s| s.as_str().to_owned()),
            note: note.to_owned(),
        },
    )
    .await?;
    Ok(())
}

/// The person behind a write that must name one (reports, notices): the system cannot.
pub(crate) fn person_of(who: &Caller) -> AppResult<i64> {
    who.person_id
        .ok_or_else(|| AppError::rule("person_required", "此操作须由具体人员执行"))
}
