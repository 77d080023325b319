//! The cadence scheduler (11710 的四个节奏): 一日一清查 on working days, 一周一小结 on the last
//! working day of each week, 一月一盘点 on the last working day of each month, and 一年一归零 on
//! demand. Each (kind, period) is claimed in the database first, so several nodes on one
//! PostgreSQL run it once; after downtime the missed periods are caught up in order; any period
//! can be replayed from the command line.

pub mod outbox;

use std::time::Duration;

use anyhow::{Context, bail};
use jiff::civil::Date;
use taizhang_app::ledger::{daily, monthly, weekly, year};
use taizhang_app::{App, Caller};
use taizhang_domain::calendar::WorkCalendar;
use taizhang_domain::period::PeriodKey;
use tokio::task::JoinHandle;

/// The four cadences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 一日一清查
    DailyCheck,
    /// 一周一小结
    WeeklySummary,
    /// 一月一盘点
    MonthlyStocktake,
    /// 一年一归零
    YearClose,
}

impl Kind {
    /// The CLI and `cadence_runs.kind` name.
    pub fn code(self) -> &'static str {
        match self {
            Kind::DailyCheck => "daily-check",
            Kind::WeeklySummary => "weekly-summary",
            Kind::MonthlyStocktake => "monthly-stocktake",
            Kind::YearClose => "year-close",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [
            Kind::DailyCheck,
            Kind::WeeklySummary,
            Kind::MonthlyStocktake,
            Kind::YearClose,
        ]
        .into_iter()
        .find(|k| k.code() == s)
    }

    /// The period `as_of` falls in.
    pub fn period_of(self, as_of: Date) -> PeriodKey {
        match self {
            Kind::DailyCheck => PeriodKey::Day(as_of),
            Kind::WeeklySummary => PeriodKey::week_of(as_of),
            Kind::MonthlyStocktake => PeriodKey::month_of(as_of),
            Kind::YearClose => PeriodKey::year_of(as_of),
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Ran here; the summary is recorded with the claim.
    Ran { period: String, summary: String },
    /// Another run (this or another node) already holds the period.
    AlreadyClaimed { period: String },
}

async fn claim(app: &App, kind: Kind, period: &str, replay: bool) -> anyhow::Result<bool> {
    let mut c = app.store.begin().await?;
    if replay {
        taizhang_store::cadence::forget(&mut c, kind.code(), period).await?;
    }
    let won = taizhang_store::cadence::claim(
        &mut c,
        kind.code(),
        period,
        &app.settings.node_name,
        app.clock.now_ms(),
    )
    .await?;
    c.commit().await?;
    Ok(won)
}

async fn settle(
    app: &App,
    kind: Kind,
    period: &str,
    result: anyhow::Result<String>,
) -> anyhow::Result<String> {
    let mut c = app.store.begin().await?;
    match result {
        Ok(summary) => {
            taizhang_store::cadence::finish(
                &mut c,
                kind.code(),
                period,
                &summary,
                app.clock.now_ms(),
            )
            .await?;
            c.commit().await?;
            Ok(summary)
        }
        Err(e) => {
            // Release the claim so the next tick (or an operator) can try again.
            taizhang_store::cadence::forget(&mut c, kind.code(), period).await?;
            c.commit().await?;
            Err(e)
        }
    }
}

async fn execute(
    app: &App,
    kind: Kind,
    period: PeriodKey,
    as_of: Date,
    replay: bool,
) -> anyhow::Result<String> {
    let who = Caller::system("jobs");
    Ok(match kind {
        Kind::DailyCheck => {
            let s = daily::run_daily_check(app, &who, as_of).await?;
            if s.workday {
                format!("items={} {:?}", s.items, s.by_category)
            } else {
                "rest day".into()
            }
        }
        Kind::WeeklySummary => {
            let facts = weekly::run_weekly_summary(app, &who, period, as_of).await?;
            format!("drafts={}", facts.len())
        }
        Kind::MonthlyStocktake => {
            if replay {
                monthly::forget_monthly_snapshot(app, &who, &period.to_string()).await?;
            }
            let s = monthly::take_monthly_snapshot(app, &who, period, as_of).await?;
            format!("total={} overdue={}", s.total, s.overdue)
        }
        Kind::YearClose => {
            let PeriodKey::Year(y) = period else {
                bail!("year close needs a year")
            };
            let r = year::close_year(app, &who, i64::from(y)).await?;
            format!(
                "total={} closed={} stopped={} carried={}",
                r.total, r.closed, r.stopped, r.carried_over
            )
        }
    })
}

/// Run one cadence for the period containing `as_of` (`taizhang jobs run`). Without `replay`
/// a period already run is left alone; with it, the period is run again.
pub async fn run(app: &App, kind: Kind, as_of: Date, replay: bool) -> anyhow::Result<Outcome> {
    let period = kind.period_of(as_of);
    let key = period.to_string();
    if !claim(app, kind, &key, replay).await? {
        return Ok(Outcome::AlreadyClaimed { period: key });
    }
    let result = execute(app, kind, period, as_of, replay).await;
    let summary = settle(app, kind, &key, result)
        .await
        .with_context(|| format!("{} {key} failed", kind.code()))?;
    Ok(Outcome::Ran {
        period: key,
        summary,
    })
}

/// `taizhang jobs run year-close --year YYYY`.
pub async fn close_year(app: &App, year: i16, replay: bool) -> anyhow::Result<Outcome> {
    let as_of = Date::new(year, 12, 31).context("year out of range")?;
    run(app, Kind::YearClose, as_of, replay).await
}

/// Longest stretch caught up after downtime, in days.
pub const CATCH_UP_DAYS: i64 = 62;

/// The date a period's cadence becomes due: the day itself for the daily check, the last working
/// day of the week or month for the summaries (the period's last day if it has none).
pub fn due_on(cal: &WorkCalendar, kind: Kind, period: PeriodKey) -> Option<Date> {
    let last = period.last_day().ok()?;
    match kind {
        Kind::DailyCheck => Some(last),
        Kind::WeeklySummary | Kind::MonthlyStocktake => {
            let first = period.first_day().ok()?;
            let d = cal.prev_workday_on_or_before(last).ok()?;
            Some(if d < first { last } else { d })
        }
        Kind::YearClose => None,
    }
}

/// Every period of `kind` due by `today` and not yet run, oldest first, starting after the last
/// recorded run of the kind (or at the period of the scheduler's first run of any kind, or of
/// `today` on a fresh database), at most [`CATCH_UP_DAYS`] back.
pub async fn pending(
    app: &App,
    cal: &WorkCalendar,
    kind: Kind,
    today: Date,
) -> anyhow::Result<Vec<(PeriodKey, Date)>> {
    let mut c = app.store.read().await?;
    let latest = taizhang_store::cadence::latest(&mut c, kind.code()).await?;
    let born = taizhang_store::cadences::first_run_at(&mut c).await?;
    drop(c);
    let floor = today
        .checked_sub(jiff::Span::new().days(CATCH_UP_DAYS))
        .unwrap_or(today);
    let mut p = match latest.and_then(|r| PeriodKey::parse(&r.period_key).ok()) {
        Some(last) => last.next()?,
        None => {
            kind.period_of(born.map_or(today, |ms| taizhang_app::clock::date_of_ms(ms).min(today)))
        }
    };
    if p.last_day().is_ok_and(|d| d < floor) {
        p = kind.period_of(floor);
    }
    let mut out = Vec::new();
    while let Some(due) = due_on(cal, kind, p) {
        if due > today {
            break;
        }
        out.push((p, due.min(today)));
        p = p.next()?;
    }
    Ok(out)
}

/// One scheduler tick: run every due, unclaimed period of the three automatic cadences.
/// The year close is never automatic: a person decides when the year is clean.
pub async fn tick(app: &App, today: Date) -> anyhow::Result<Vec<Outcome>> {
    let cal = taizhang_app::ledger::calendar::current(app).await?;
    let mut out = Vec::new();
    for kind in [
        Kind::DailyCheck,
        Kind::WeeklySummary,
        Kind::MonthlyStocktake,
    ] {
        for (period, as_of) in pending(app, &cal, kind, today).await? {
            let as_of = period.last_day().map_or(as_of, |d| d.min(as_of));
            out.push(run(app, kind, as_of, false).await?);
        }
    }
    Ok(out)
}

/// Start the scheduler loop on this node: a tick at start (catching up), then every minute.
pub fn spawn_scheduler(app: App) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            let today = app.clock.today();
            match tick(&app, today).await {
                Ok(done) => {
                    for o in done {
                        if let Outcome::Ran { period, summary } = o {
                            tracing::info!(cadence.period = %period, cadence.summary = %summary, "cadence ran");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "cadence tick failed"),
            }
            // The audit trail: sign the head when it moved, and apply retention (180-day floor).
            if let Err(e) = taizhang_app::audit::checkpoint(&app).await {
                tracing::warn!(error = %e, "audit checkpoint failed");
            }
            match taizhang_app::audit::purge_expired(&app).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(audit.purged = n, "audit retention applied"),
                Err(e) => tracing::warn!(error = %e, "audit retention failed"),
            }
        }
    })
}
