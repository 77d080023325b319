//! 一日一清查: on working days, one streamed pass over running matters builds the per-unit
//! check list (今日到期、临期、已超期、未签收、超期无更新、延期待批、反馈逾期), recorded in
//! batches; handlers confirm items as 已清查 and the confirmation is recorded.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;
use taizhang_domain::calendar::WorkCalendar;
use taizhang_domain::daily_check::{MatterFacts, classify};
use taizhang_domain::feedback::FeedbackCycle;
use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::policy::{self, Action, Label, Target};
use taizhang_store::cadences::{self as store_cad, CheckItemRow};
use taizhang_store::matters::{self as store_matters, RunningFacts};

use super::{rules, stored_date};
use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// The first day of the report period that ends on `due` (a report in it answers that due date).
fn window_start(cycle: FeedbackCycle, due: Date) -> Date {
    let span = match cycle {
        FeedbackCycle::Weekly { .. } => jiff::Span::new().days(6),
        _ => jiff::Span::new().months(1).days(-1),
    };
    due.checked_sub(span).unwrap_or(due)
}

/// The check facts of one running matter on `today`. 反馈逾期: the last report due before today
/// has no report from the lead unit within its period.
pub fn facts_of(cal: &WorkCalendar, today: Date, f: &RunningFacts) -> MatterFacts {
    let status = MatterStatus::parse(&f.status).unwrap_or(MatterStatus::Draft);
    let assigned_on = stored_date(f.assigned_on.as_deref());
    let last_update_on = stored_date(f.last_update_on.as_deref());
    let missed = match (FeedbackCycle::parse(&f.feedback_cycle), assigned_on) {
        (Ok(cycle), Some(since))
            if cycle != FeedbackCycle::None
                && matches!(
                    status,
                    MatterStatus::InProgress
                        | MatterStatus::ExtensionPending
                        | MatterStatus::StopPending
                ) =>
        {
            let yesterday = today.yesterday().unwrap_or(today);
            cycle
                .last_due_on_or_before(cal, since, yesterday)
                .is_some_and(|due| last_update_on.is_none_or(|u| u < window_start(cycle, due)))
        }
        _ => false,
    };
    MatterFacts {
        status,
        deadline: stored_date(f.deadline.as_deref()),
        assigned_on,
        last_update_on,
        last_report_due_missed: missed,
    }
}

/// What one daily check produced.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DailyCheckSummary {
    pub day: String,
    /// False on rest days: nothing is checked.
    pub workday: bool,
    pub items: usize,
    /// Items per category code.
    pub by_category: BTreeMap<String, usize>,
}

/// Build the check list of `day` (idempotent: unconfirmed items of the day are rebuilt,
/// confirmations are kept).
pub async fn run_daily_check(app: &App, who: &Caller, day: Date) -> AppResult<DailyCheckSummary> {
    who.require(Action::RunCadence, None)?;
    let mut read = app.store.read().await?;
    let cal = super::calendar::load(&mut read).await?;
    let mut summary = DailyCheckSummary {
        day: day.to_string(),
        ..Default::default()
    };
    if !cal.is_workday(day) {
        return Ok(summary);
    }
    summary.workday = true;
    let r = rules();
    let running: Vec<&str> = MatterStatus::ALL
        .iter()
        .filter(|s| s.is_running())
        .map(|s| s.as_str())
        .collect();
    let mut items: Vec<(i64, i64, &'static str)> = Vec::new();
    // Matters that cross a line today (due today, entering the 临期 window, first day overdue):
    // only these notify their people; the rest are in the unit's daily summary.
    let mut fresh: Vec<(i64, i64, &'static str)> = Vec::new();
    store_matters::for_each_running(&mut read, &running, None, |f| {
        let facts = facts_of(&cal, day, &f);
        for cat in classify(&cal, &r.check, day, &facts) {
            let crossing = facts.deadline.is_some_and(|d| {
                let left = cal.workdays_between(day, d);
                match cat.code() {
                    "due_today" => true,
                    "due_soon" => left == i64::from(r.check.due_soon_workdays),
                    "overdue" => left == -1,
                    _ => false,
                }
            });
            if crossing {
                fresh.push((f.lead_unit_id, f.id, cat.code()));
            }
            items.push((f.lead_unit_id, f.id, cat.code()));
        }
    })
    .await?;
    drop(read);
    for (_, _, cat) in &items {
        *summary.by_category.entry((*cat).to_owned()).or_default() += 1;
    }
    summary.items = items.len();
    let mut c = app.store.begin().await?;
    let key = day.to_string();
    store_cad::clear_unconfirmed(&mut c, &key).await?;
    store_cad::insert_items(&mut c, &key, &items).await?;
    crate::notify::on_daily_check(app, &mut c, &key, &items, &fresh).await?; // notify (issue 7)
    let detail = format!("day={key} items={} {:?}", items.len(), summary.by_category);
    audit::append(
        app,
        &mut c,
        who,
        Event::ok("cadence.daily_check", "cadence", &key, detail),
    )
    .await?;
    c.commit().await?;
    Ok(summary)
}

/// The recorded check list of a day that `who` may see (optionally one unit's).
pub async fn daily_check_list(
    app: &App,
    who: &Caller,
    day: Date,
    unit: Option<i64>,
) -> AppResult<Vec<CheckItemRow>> {
    who.require(Action::ViewReports, None)?;
    let scope = if who.is_system() {
        policy::ListScope::All
    } else {
        policy::list_scope(&who.actor, Action::ViewReports)
    };
    let mut c = app.store.read().await?;
    let items = store_cad::list_items(&mut c, &day.to_string(), unit).await?;
    Ok(items
        .into_iter()
        .filter(|i| {
            scope.includes(&Target {
                owner_unit: Some(i.unit_id),
                assisting_units: Vec::new(),
                handler_ids: Vec::new(),
                label: Label::Normal,
            })
        })
        .collect())
}

/// What was done about a check item.
pub const CHECK_ACTIONS: &[(&str, &str)] = &[
    ("checked", "已清查"),
    ("followed_up", "已跟进"),
    ("urged", "已催办"),
    ("reported", "已上报"),
];

/// 已清查: confirm one item of the list, recording who, when and what was done.
pub async fn confirm_check_item(
    app: &App,
    who: &Caller,
    item_id: i64,
    action: &str,
) -> AppResult<()> {
    let action = if action.is_empty() { "checked" } else { action };
    if !CHECK_ACTIONS.iter().any(|(c, _)| *c == action) {
        return Err(AppError::invalid(
            "action",
            "unknown_code",
            "未知的处理方式",
        ));
    }
    let mut c = app.store.begin().await?;
    let item = store_cad::get_item(&mut c, item_id).await?;
    let m = store_matters::get(&mut c, item.matter_id).await?;
    let target = super::target_of(&mut c, &m).await?;
    who.require(Action::ConfirmDailyCheck, Some(&target))?;
    store_cad::confirm_item(&mut c, item_id, who.person_id, action, app.clock.now_ms())
        .await
        .map_err(|_| AppError::rule("already_confirmed", "该项已清查"))?;
    let detail = format!(
        "day={} matter={} category={} action={action}",
        item.check_day, m.number, item.category
    );
    audit::append(
        app,
        &mut c,
        who,
        Event::ok("cadence.confirm_check", "check_item", item_id, detail),
    )
    .await?;
    c.commit().await?;
    Ok(())
}

/// One line of a day's check list as shown: the item with its matter's number, title and
/// deadline.
#[derive(Debug, Clone, Serialize)]
pub struct CheckLine {
    pub item: CheckItemRow,
    pub number: String,
    pub title: String,
    pub deadline: Option<String>,
    pub status: String,
}

/// [`daily_check_list`] with each item's matter (one query for all of them).
pub async fn daily_check_lines(
    app: &App,
    who: &Caller,
    day: Date,
    unit: Option<i64>,
) -> AppResult<Vec<CheckLine>> {
    let items = daily_check_list(app, who, day, unit).await?;
    let mut ids: Vec<i64> = items.iter().map(|i| i.matter_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rows = BTreeMap::new();
    let mut c = app.store.read().await?;
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT {} FROM matters m WHERE m.id IN ({})",
            store_matters::COLS,
            store_matters::placeholders(1, chunk.len())
        );
        let args: Vec<store_matters::Arg> =
            chunk.iter().map(|i| store_matters::Arg::Int(*i)).collect();
        for m in store_matters::query_rows(&mut c, sql, &args).await? {
            rows.insert(m.id, m);
        }
    }
    Ok(items
        .into_iter()
        .map(|item| {
            let m = rows.get(&item.matter_id);
            CheckLine {
                number: m.map(|m| m.number.clone()).unwrap_or_default(),
                title: m.map(|m| m.title.clone()).unwrap_or_default(),
                deadline: m.and_then(|m| m.deadline.clone()),
                status: m.map(|m| m.status.clone()).unwrap_or_default(),
                item,
            }
        })
        .collect())
}
