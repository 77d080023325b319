//! 工作日历 administration: loading the working-day calendar from the database, seeding it with
//! the official 2024–2026 notices, editing single days and importing a notice file.

use jiff::civil::Date;
use serde::Serialize;
use taizhang_domain::calendar::{DayOverride, OverrideKind, WorkCalendar, parse_overrides_csv};
use taizhang_domain::policy::Action;
use taizhang_store::Conn;
use taizhang_store::calendar::{self as store_cal, OverrideRow};

use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// The calendar as stored. An empty table (a database nobody seeded) falls back to the official
/// notices compiled into the binary, so deadlines never silently ignore 春节.
pub async fn load(c: &mut Conn) -> AppResult<WorkCalendar> {
    let rows = store_cal::list_overrides(c).await?;
    let years = store_cal::list_years(c).await?;
    if rows.is_empty() && years.is_empty() {
        return Ok(WorkCalendar::official());
    }
    let overrides = rows.iter().filter_map(|r| {
        Some(DayOverride {
            date: r.day.parse().ok()?,
            kind: OverrideKind::parse(&r.kind)?,
            name: r.name.clone(),
            notice: r.notice.clone(),
        })
    });
    let published = years.iter().filter_map(|(y, _)| i16::try_from(*y).ok());
    Ok(WorkCalendar::new(
        overrides.collect::<Vec<_>>(),
        published.collect::<Vec<_>>(),
    ))
}

/// The setting bumped by every calendar edit, so each node's cached calendar knows it is stale.
pub(crate) const VERSION_KEY: &str = "calendar.version";

async fn bump_version(app: &App, c: &mut Conn) -> AppResult<()> {
    let v = taizhang_store::settings::find(c, VERSION_KEY)
        .await?
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    taizhang_store::settings::put(c, VERSION_KEY, &(v + 1).to_string(), app.clock.now_ms()).await?;
    Ok(())
}

/// The calendar for a request: the cached one while `calendar.version` is unchanged (one tiny
/// query), else loaded afresh.
pub async fn load_cached(app: &App, c: &mut Conn) -> AppResult<std::sync::Arc<WorkCalendar>> {
    let version = taizhang_store::settings::find(c, VERSION_KEY)
        .await?
        .unwrap_or_default();
    cached_at(app, c, version).await
}

/// The calendar at a `calendar.version` already read on `c` (empty when unset).
pub(crate) async fn cached_at(
    app: &App,
    c: &mut Conn,
    version: String,
) -> AppResult<std::sync::Arc<WorkCalendar>> {
    if let Some(cal) = app.caches.calendar(&version) {
        return Ok(cal);
    }
    let cal = std::sync::Arc::new(load(c).await?);
    app.caches.keep_calendar(version, cal.clone());
    Ok(cal)
}

/// The calendar, read on its own connection (one load per request).
pub async fn current(app: &App) -> AppResult<WorkCalendar> {
    let mut c = app.store.read().await?;
    load(&mut c).await
}

fn row_of(o: &DayOverride) -> OverrideRow {
    OverrideRow {
        day: o.date.to_string(),
        kind: o.kind.code().to_owned(),
        name: o.name.clone(),
        notice: o.notice.clone(),
    }
}

async fn write_all(c: &mut Conn, overrides: &[DayOverride]) -> AppResult<Vec<i16>> {
    let mut years: Vec<i16> = overrides.iter().map(|o| o.date.year()).collect();
    years.sort_unstable();
    years.dedup();
    for o in overrides {
        store_cal::upsert_override(c, &row_of(o)).await?;
    }
    for y in &years {
        let notice = overrides
            .iter()
            .find(|o| o.date.year() == *y)
            .map(|o| o.notice.clone())
            .unwrap_or_default();
        store_cal::upsert_year(c, i64::from(*y), &notice).await?;
    }
    Ok(years)
}

/// Store the official 2024–2026 休/班 days (domain.md §6.2). Idempotent.
pub async fn seed_official(app: &App, who: &Caller) -> AppResult<usize> {
    who.require(Action::ManageCalendar, None)?;
    let overrides = WorkCalendar::official_overrides();
    let mut c = app.store.begin().await?;
    write_all(&mut c, &overrides).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "calendar.seed_official",
            "calendar",
            "official",
            format!("days={}", overrides.len()),
        ),
    )
    .await?;
    bump_version(app, &mut c).await?;
    c.commit().await?;
    Ok(overrides.len())
}

/// Import a notice file (`date,kind,name,notice` lines): replaces every override of the years
/// in the file and marks them published. A bad line refuses the whole file.
pub async fn import(app: &App, who: &Caller, text: &str) -> AppResult<Vec<i16>> {
    who.require(Action::ManageCalendar, None)?;
    let overrides = parse_overrides_csv(text)
        .map_err(|e| AppError::invalid("file", "calendar_file", e.to_string()))?;
    let mut c = app.store.begin().await?;
    let mut cal = load(&mut c).await?;
    cal.import(overrides.clone())
        .map_err(|e| AppError::invalid("file", "date_out_of_range", e.to_string()))?;
    let years: Vec<i16> = {
        let mut y: Vec<i16> = overrides.iter().map(|o| o.date.year()).collect();
        y.dedup();
        y
    };
    for r in store_cal::list_overrides(&mut c).await? {
        if r.day
            .parse::<Date>()
            .is_ok_and(|d| years.contains(&d.year()))
        {
            store_cal::delete_override(&mut c, &r.day).await?;
        }
    }
    let years = write_all(&mut c, &overrides).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "calendar.import",
            "calendar",
            "file",
            format!("days={} years={years:?}", overrides.len()),
        ),
    )
    .await?;
    bump_version(app, &mut c).await?;
    c.commit().await?;
    Ok(years)
}

/// Declare one day 休 or 班 (admin edit).
pub async fn set_day(app: &App, who: &Caller, o: DayOverride) -> AppResult<()> {
    who.require(Action::ManageCalendar, None)?;
    let mut c = app.store.begin().await?;
    store_cal::upsert_override(&mut c, &row_of(&o)).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok("calendar.set_day", "calendar", o.date, o.kind.code()),
    )
    .await?;
    bump_version(app, &mut c).await?;
    c.commit().await?;
    Ok(())
}

/// Remove the override of one day: it follows the weekday rule again.
pub async fn clear_day(app: &App, who: &Caller, day: Date) -> AppResult<bool> {
    who.require(Action::ManageCalendar, None)?;
    let mut c = app.store.begin().await?;
    let removed = store_cal::delete_override(&mut c, &day.to_string()).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok("calendar.clear_day", "calendar", day, ""),
    )
    .await?;
    bump_version(app, &mut c).await?;
    c.commit().await?;
    Ok(removed)
}

/// One line of `calendar list`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DayLine {
    pub date: String,
    /// 休 / 班.
    pub kind: String,
    pub name: String,
    pub notice: String,
}

/// The overrides of a year and whether its notice is loaded (else every date is provisional).
pub async fn list_year(app: &App, year: i16) -> AppResult<(Vec<DayLine>, bool)> {
    let cal = current(app).await?;
    let lines = cal
        .overrides()
        .filter(|o| o.date.year() == year)
        .map(|o| DayLine {
            date: o.date.to_string(),
            kind: o.kind.label_zh().to_owned(),
            name: o.name.clone(),
            notice: o.notice.clone(),
        })
        .collect();
    Ok((lines, cal.published_years().contains(&year)))
}

/// “N个工作日内” from `start`: the date, and whether it is provisional (calendar not published).
pub async fn add_workdays(app: &App, start: Date, n: u32) -> AppResult<(Date, bool)> {
    let cal = current(app).await?;
    let d = cal
        .add_workdays(start, n)
        .map_err(|e| AppError::invalid("date", "date_out_of_range", e.to_string()))?;
    Ok((d, cal.span_is_provisional(start, d)))
}
