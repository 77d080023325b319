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
use taizhang_domain::policy::{self, Action};
use taizhang_store::cadences::{self as store_cad, CheckItemRow};
use taizhang_store::matters::{self as store_matters, RunningFacts};

use super::{rules, stored_date};
use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// The first day of the report period that ends on `due` (a report in it answers that due date).
pub(crate) fn window_start(cycle: FeedbackCycle, due: Date) -> Date {
    let span = match cycle {
        FeedbackCycle::Weekly { .. } => jiff::Span::new().days(6),
        _ => jiff::Span::new().months(1).days(-1),
    };
    due.checked_sub(span).unwrap_or(due)
}

/// The check facts of one running matter on `today`. 反馈逾期: the last report due before today
/// has no report from the lead unit within its period.
pub fn facts_of(cal: &WorkCalendar, today: Date, f: &RunningFacts) -> MatterFacts {
    DayFacts::new(cal, today).facts(f)
}

/// [`facts_of`] for many matters on one day. Every matter with the same feedback cycle has the
/// same last due date before today (the due dates of a cycle do not depend on the matter), so it
/// is computed once per distinct cycle text instead of once per matter.
pub struct DayFacts<'a> {
    cal: &'a WorkCalendar,
    yesterday: Date,
    /// Per stored cycle text: the cycle, and its last due date on or before yesterday.
    cycles: std::collections::HashMap<String, Option<(FeedbackCycle, Option<Date>)>>,
}

impl<'a> DayFacts<'a> {
    pub fn new(cal: &'a WorkCalendar, today: Date) -> DayFacts<'a> {
        DayFacts {
            cal,
            yesterday: today.yesterday().unwrap_or(today),
            cycles: std::collections::HashMap::new(),
        }
    }

    /// The cycle of `text` and its last due date on or before yesterday, if it has one.
    fn cycle(&mut self, text: &str) -> Option<(FeedbackCycle, Option<Date>)> {
        if let Some(v) = self.cycles.get(text) {
            return *v;
        }
        let v = FeedbackCycle::parse(text)
            .ok()
            .filter(|c| *c != FeedbackCycle::None)
            .map(|c| {
                // The earliest possible `since`: the latest due date is then the one due dates
                // of any matter end with (a later `since` only drops earlier ones).
                let last = c.last_due_on_or_before(self.cal, Date::MIN, self.yesterday);
                (c, last)
            });
        self.cycles.insert(text.to_owned(), v);
        v
    }

    /// The check facts of one running matter.
    pub fn facts(&mut self, f: &RunningFacts) -> MatterFacts {
        let status = MatterStatus::parse(&f.status).unwrap_or(MatterStatus::Draft);
        let assigned_on = stored_date(f.assigned_on.as_deref());
        let last_update_on = stored_date(f.last_update_on.as_deref());
        let reporting = matches!(
            status,
            MatterStatus::InProgress | MatterStatus::ExtensionPending | MatterStatus::StopPending
        );
        let missed = match (reporting, assigned_on) {
            (true, Some(since)) => self.cycle(&f.feedback_cycle).is_some_and(|(cycle, last)| {
                last.filter(|due| *due > since)
                    .is_some_and(|due| last_update_on.is_none_or(|u| u < window_start(cycle, due)))
            }),
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
    let started = std::time::Instant::now();
    let r = rules();
    let running: Vec<&str> = MatterStatus::ALL
        .iter()
        .filter(|s| s.is_running())
        .map(|s| s.as_str())
        .collect();
    let key = day.to_string();
    // The write transaction is open while the scan runs: items are inserted in batches as the
    // scan produces them, so reading (one connection) and writing (another) overlap.
    let mut c = app.store.begin().await?;
    store_cad::clear_unconfirmed(&mut c, &key).await?;
    let mut items: Vec<(i64, i64, &'static str)> = Vec::new();
    // Matters that cross a line today (due today, entering the 临期 window, first day overdue):
    // only these notify their people; the rest are in the unit's daily summary.
    let mut fresh: Vec<(i64, i64, &'static str)> = Vec::new();
    const BATCH: usize = 10_000;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<(i64, i64, &'static str)>>();
    let scan = async {
        let tx = tx;
        let mut facts_of_day = DayFacts::new(&cal, day);
        let mut batch = Vec::with_capacity(BATCH);
        let scanned = store_matters::for_each_running(&mut read, &running, None, |f| {
            let facts = facts_of_day.facts(&f);
            for cat in classify(&cal, &r.check, day, &facts) {
                let crossing = facts.deadline.is_some_and(|d| match cat.code() {
                    "due_today" => true,
                    "due_soon" => {
                        cal.workdays_between(day, d) == i64::from(r.check.due_soon_workdays)
                    }
                    "overdue" => cal.workdays_between(day, d) == -1,
                    _ => false,
                });
                let item = (f.lead_unit_id, f.id, cat.code());
                if crossing {
                    fresh.push(item);
                }
                items.push(item);
                batch.push(item);
                if batch.len() >= BATCH {
                    // The receiver lives until the scan ends; a send cannot fail before.
                    let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                }
            }
        })
        .await;
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
        scanned
    };
    let write = async {
        while let Some(batch) = rx.recv().await {
            store_cad::insert_items(&mut c, &key, &batch).await?;
        }
        Ok::<(), taizhang_store::StoreError>(())
    };
    let (scanned, written) = tokio::join!(scan, write);
    scanned?;
    written?;
    drop(read);
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        items = items.len(),
        "daily check: scanned and inserted"
    );
    for (_, _, cat) in &items {
        *summary.by_category.entry((*cat).to_owned()).or_default() += 1;
    }
    summary.items = items.len();
    crate::notify::on_daily_check(app, &mut c, &key, &items, &fresh).await?; // notify (issue 7)
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        fresh = fresh.len(),
        "daily check: notified"
    );
    let detail = format!("day={key} items={} {:?}", items.len(), summary.by_category);
    audit::append(
        app,
        &mut c,
        who,
        Event::ok("cadence.daily_check", "cadence", &key, detail),
    )
    .await?;
    c.commit().await?;
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "daily check: committed"
    );
    Ok(summary)
}

/// The units whose items `who` may see on a check list, narrowed to `unit` when given: `None`
/// for every unit.
pub(super) fn visible_units(who: &Caller, unit: Option<i64>) -> AppResult<Option<Vec<i64>>> {
    who.require(Action::ViewReports, None)?;
    let scope = if who.is_system() {
        policy::ListScope::All
    } else {
        policy::list_scope(&who.actor, Action::ViewReports)
    };
    Ok(match (scope, unit) {
        (policy::ListScope::All, None) => None,
        (policy::ListScope::All, Some(u)) => Some(vec![u]),
        (policy::ListScope::Nothing, _) => Some(Vec::new()),
        (policy::ListScope::Units(units), None) => Some(units),
        (policy::ListScope::Units(units), Some(u)) => {
            Some(units.into_iter().filter(|x| *x == u).collect())
        }
    })
}

pub(super) fn item_units(units: &Option<Vec<i64>>) -> store_cad::ItemUnits<'_> {
    match units {
        None => store_cad::ItemUnits::All,
        Some(u) => store_cad::ItemUnits::Only(u),
    }
}

/// The recorded check list of a day that `who` may see (optionally one unit's), every item.
/// Pages use [`daily_check_page`]: a department's day at 10^6 matters is 780,000 items.
pub async fn daily_check_list(
    app: &App,
    who: &Caller,
    day: Date,
    unit: Option<i64>,
) -> AppResult<Vec<CheckItemRow>> {
    daily_check_slice(app, who, day, unit, i64::MAX, 0).await
}

/// `limit` items of [`daily_check_list`] from `offset`, in list order (the API's paging).
pub async fn daily_check_slice(
    app: &App,
    who: &Caller,
    day: Date,
    unit: Option<i64>,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<CheckItemRow>> {
    let units = visible_units(who, unit)?;
    let mut c = app.store.read().await?;
    Ok(store_cad::list_items_page(
        &mut c,
        &day.to_string(),
        item_units(&units),
        limit.max(0),
        offset.max(0),
    )
    .await?)
}

/// A unit's share of a day's check list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UnitChecks {
    pub unit_id: i64,
    pub items: i64,
    /// Items confirmed (已清查).
    pub confirmed: i64,
}

/// One page of a day's check list as shown, with the per-unit counts of everything `who` may
/// see that day (the department's overview, and the total the paging needs).
#[derive(Debug, Clone, Serialize)]
pub struct CheckPage {
    pub lines: Vec<CheckLine>,
    /// Items on every page.
    pub total: i64,
    pub units: Vec<UnitChecks>,
}

/// Page `page` (from 1) of `per_page` lines of `day`'s check list that `who` may see, optionally
/// one unit's; the counts cover every unit in scope.
pub async fn daily_check_page(
    app: &App,
    who: &Caller,
    day: Date,
    unit: Option<i64>,
    page: u32,
    per_page: u32,
) -> AppResult<CheckPage> {
    let units = visible_units(who, unit)?;
    let key = day.to_string();
    let mut c = app.store.read().await?;
    let counts: Vec<UnitChecks> = store_cad::unit_counts(&mut c, &key, item_units(&units))
        .await?
        .into_iter()
        .map(|(unit_id, items, confirmed)| UnitChecks {
            unit_id,
            items,
            confirmed,
        })
        .collect();
    let total = counts.iter().map(|u| u.items).sum();
    let per_page = i64::from(per_page.clamp(1, 1000));
    let offset = i64::from(page.max(1) - 1) * per_page;
    let items = if offset < total {
        store_cad::list_items_page(&mut c, &key, item_units(&units), per_page, offset).await?
    } else {
        Vec::new()
    };
    Ok(CheckPage {
        lines: lines_of(&mut c, items).await?,
        total,
        units: counts,
    })
}

/// The first `limit` lines of `day` that `who` may see, without counting the rest (the desk's
/// panel).
pub async fn daily_check_head(
    app: &App,
    who: &Caller,
    day: Date,
    limit: u32,
) -> AppResult<Vec<CheckLine>> {
    let units = visible_units(who, None)?;
    let mut c = app.store.read().await?;
    let items = store_cad::list_items_page(
        &mut c,
        &day.to_string(),
        item_units(&units),
        i64::from(limit),
        0,
    )
    .await?;
    lines_of(&mut c, items).await
}

/// One line of a check list by its item id, if `who` may see it.
pub async fn daily_check_line(app: &App, who: &Caller, item_id: i64) -> AppResult<CheckLine> {
    let mut c = app.store.read().await?;
    let item = store_cad::get_item(&mut c, item_id).await?;
    let units = visible_units(who, Some(item.unit_id))?;
    if units.is_some_and(|u| u.is_empty()) {
        return Err(AppError::Forbidden);
    }
    lines_of(&mut c, vec![item])
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound(format!("check item {item_id}")))
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
    let mut c = app.store.read().await?;
    lines_of(&mut c, items).await
}

/// Items with their matters' number, title, deadline and status (one query per 500 matters).
async fn lines_of(
    c: &mut taizhang_store::Conn,
    items: Vec<CheckItemRow>,
) -> AppResult<Vec<CheckLine>> {
    let ids: Vec<i64> = items.iter().map(|i| i.matter_id).collect();
    let rows = store_matters::rows_by_id(c, &ids).await?;
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use jiff::ToSpan;

    /// The per-day cache gives the same facts as asking each matter's cycle on its own, for
    /// every cycle kind, across holidays (Spring Festival, National Day) and every `since`.
    #[test]
    fn day_facts_match_the_direct_computation() {
        let cal = WorkCalendar::official();
        let cycles = [
            "weekly:1",
            "weekly:5",
            "weekly:7",
            "monthly_day:5",
            "monthly_day:28",
            "monthly_workday:1",
            "monthly_workday:5",
            "none",
        ];
        let days = [
            jiff::civil::date(2026, 2, 24),
            jiff::civil::date(2026, 10, 9),
            jiff::civil::date(2026, 11, 27),
            jiff::civil::date(2025, 1, 6),
        ];
        for today in days {
            let mut day = DayFacts::new(&cal, today);
            for cycle in cycles {
                for back in (0..120).step_by(3) {
                    let since = today.checked_sub(back.days()).unwrap();
                    for update in [
                        None,
                        Some(since),
                        Some(today.checked_sub(2.days()).unwrap()),
                    ] {
                        let f = RunningFacts {
                            id: 1,
                            year: 2026,
                            lead_unit_id: 1,
                            status: "in_progress".into(),
                            deadline: None,
                            assigned_on: Some(since.to_string()),
                            last_update_on: update.map(|d| d.to_string()),
                            feedback_cycle: cycle.into(),
                        };
                        let want = FeedbackCycle::parse(cycle).ok().is_some_and(|c| {
                            c != FeedbackCycle::None
                                && c.last_due_on_or_before(&cal, since, today.yesterday().unwrap())
                                    .is_some_and(|due| {
                                        update.is_none_or(|u| u < window_start(c, due))
                                    })
                        });
                        assert_eq!(
                            day.facts(&f).last_report_due_missed,
                            want,
                            "today={today} cycle={cycle} since={since} update={update:?}"
                        );
                    }
                }
            }
        }
    }
}
