//! 工作台 (desk) counts in SQL. Each count is a date or status condition the database checks in
//! one pass, so the desk of a 督查室 member (every unit) no longer walks every running matter
//! through the daily-check classification in Rust (0.3 s at 10^5 matters, seconds at 10^6).
//! Exactly the classification's answer: the 临期 window in working days is a date range (the
//! count of working days up to a date never decreases), and a missed report cycle is, per
//! distinct stored cycle, "assigned before its last due date and no update since that period
//! began" (`daily::DayFacts`).

use jiff::civil::Date;
use taizhang_domain::calendar::WorkCalendar;
use taizhang_domain::feedback::FeedbackCycle;
use taizhang_domain::policy::{Action, ListScope, Role};
use taizhang_store::matters::{self as store_matters, Arg};

use super::list::{DeskCounts, HELD, quoted};
use super::{rules, today};
use crate::{App, AppResult, Caller};

/// Statuses that report progress (a missed report cycle counts only for them).
const REPORTING: &[&str] = &["in_progress", "extension_pending", "stop_pending"];
/// Statuses a reviewer decides (立项、办结、延期、中止).
const TO_REVIEW: &[&str] = &[
    "pending_approval",
    "completion_pending",
    "extension_pending",
    "stop_pending",
];

/// The last date whose working days after `today` are at most `n` (the end of the 临期 window).
fn window_end(cal: &WorkCalendar, today: Date, n: i64) -> Date {
    let mut end = today;
    for _ in 0..400 {
        let Some(next) = end.tomorrow().ok() else {
            break;
        };
        if cal.workdays_between(today, next) > n {
            break;
        }
        end = next;
    }
    end
}

/// Desk counts over the matters led by units in `who`'s scope.
pub async fn desk_counts(app: &App, who: &Caller) -> AppResult<DeskCounts> {
    let mut c = app.store.read().await?;
    let Some((_, sql, args, reviewer)) = desk_sql(app, &mut c, who).await? else {
        return Ok(DeskCounts::default());
    };
    let [to_sign, to_review, due_soon, overdue, to_report] =
        store_matters::query_counts::<5>(&mut c, sql, &args).await?;
    Ok(DeskCounts {
        to_sign,
        to_review: if reviewer { to_review } else { 0 },
        to_report,
        due_soon,
        overdue,
    })
}

/// The statements of [`desk_counts`] for `who` (`taizhang bench explain`): the distinct report
/// cycles, then the counts.
pub(crate) async fn statements(app: &App, who: &Caller) -> AppResult<Vec<super::list::Statement>> {
    let mut c = app.store.read().await?;
    let Some((cycles, sql, args, _)) = desk_sql(app, &mut c, who).await? else {
        return Ok(Vec::new());
    };
    Ok(vec![
        super::list::Statement {
            what: "report cycles",
            sql: cycles,
            args: Vec::new(),
        },
        super::list::Statement {
            what: "counts",
            sql,
            args,
        },
    ])
}

/// The desk's two statements for `who`: the distinct report cycles (run here, since the counts
/// have one condition per cycle) and the counts with their arguments, and whether `who` reviews;
/// `None` when the scope is empty.
async fn desk_sql(
    app: &App,
    c: &mut taizhang_store::Conn,
    who: &Caller,
) -> AppResult<Option<(String, String, Vec<Arg>, bool)>> {
    who.require(Action::ListMatters, None)?;
    let scope = if who.is_system() {
        ListScope::All
    } else {
        taizhang_domain::policy::list_scope(&who.actor, Action::ListMatters)
    };
    let units = match scope {
        ListScope::All => String::new(),
        ListScope::Nothing => return Ok(None),
        ListScope::Units(u) if u.is_empty() => return Ok(None),
        // Integers formatted here, never user text.
        ListScope::Units(u) => format!(
            " AND lead_unit_id IN ({})",
            u.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ),
    };
    let reviewer =
        who.is_system() || who.has_role(Role::Supervisor) || who.has_role(Role::DeptLeader);
    let today = today(app);
    let cal = super::calendar::load_cached(app, c).await?;
    let r = rules();
    let soon_end = window_end(&cal, today, i64::from(r.check.due_soon_workdays));
    let yesterday = today.yesterday().unwrap_or(today);

    // 反馈逾期, per distinct stored cycle text (a handful): the last due date before today and
    // the start of its report period.
    let cycles_sql = format!(
        "SELECT DISTINCT feedback_cycle FROM matters WHERE status IN ({}){units}",
        quoted(REPORTING)
    );
    let cycles = store_matters::query_texts(c, cycles_sql.clone()).await?;
    let mut args: Vec<Arg> = vec![
        Arg::Text(today.to_string()),
        Arg::Text(soon_end.to_string()),
    ];
    let mut missed = Vec::new();
    for text in cycles {
        let Some(cycle) = FeedbackCycle::parse(&text)
            .ok()
            .filter(|c| *c != FeedbackCycle::None)
        else {
            continue;
        };
        let Some(due) = cycle.last_due_on_or_before(&cal, Date::MIN, yesterday) else {
            continue;
        };
        let start = super::daily::window_start(cycle, due);
        let n = args.len();
        missed.push(format!(
            "(feedback_cycle = ${} AND assigned_on < ${} AND (last_update_on IS NULL OR last_update_on < ${}))",
            n + 1,
            n + 2,
            n + 3
        ));
        args.extend([
            Arg::Text(text),
            Arg::Text(due.to_string()),
            Arg::Text(start.to_string()),
        ]);
    }
    let missed = if missed.is_empty() {
        "1 = 0".to_owned()
    } else {
        missed.join(" OR ")
    };
    let held = quoted(HELD);
    let sql = format!(
        "SELECT \
           COALESCE(SUM(CASE WHEN status = 'assigned' THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN status IN ({review}) THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN status IN ({held}) AND deadline >= $1 AND deadline <= $2 THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN status IN ({held}) AND deadline < $1 THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN status IN ({reporting}) AND ({missed}) THEN 1 ELSE 0 END), 0) \
         FROM matters WHERE status IN ({all}){units}",
        review = quoted(TO_REVIEW),
        reporting = quoted(REPORTING),
        all = quoted(&[
            "assigned",
            "in_progress",
            "extension_pending",
            "stop_pending",
            "completion_pending",
            "pending_approval",
        ]),
    );
    Ok(Some((cycles_sql, sql, args, reviewer)))
}
