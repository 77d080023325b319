//! 月盘点 pages: the dashboard of a frozen month (numbers by unit — never a ranking of people —,
//! light distribution, weekly and monthly trends), its chart data as JSON for `static/charts.js`,
//! the print view, and the supervisor's buttons to take the snapshot and issue a 通报 from it.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};
use serde_json::json;
use taizhang_app::ledger::monthly::{self, MonthlySnapshot};
use taizhang_app::ledger::weekly;
use taizhang_app::{AppError, Caller};
use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::light::Light;
use taizhang_domain::period::PeriodKey;

use crate::AppState;
use crate::cadence_pages::{Names, runs_cadences, today};
use crate::ctx::PageCtx;
use crate::error::{denied_page, page_error};
use crate::session::{Web, csrf_ok};

/// One unit's line of the dashboard.
#[derive(Debug, Serialize)]
pub struct UnitLine {
    pub unit: String,
    pub total: i64,
    pub finished: i64,
    pub completion_rate: f64,
    pub on_time_rate: Option<f64>,
    pub overdue: i64,
    pub lagging: usize,
}

/// A month of the trend (absent snapshots are skipped).
#[derive(Debug, Serialize)]
pub struct MonthPoint {
    pub month: String,
    pub total: i64,
    pub finished: i64,
    pub overdue: i64,
    pub on_time_rate: Option<f64>,
}

/// A week of the trend, from the weekly summaries.
#[derive(Debug, Serialize)]
pub struct WeekPoint {
    pub week: String,
    pub moved: usize,
    pub completed: usize,
    pub stuck: usize,
}

/// Everything the dashboard, its print view and its chart data show.
#[derive(Debug, Serialize)]
pub struct Dashboard {
    pub month: String,
    pub snap: Option<MonthlySnapshot>,
    pub finished: i64,
    pub finished_share: f64,
    pub units: Vec<UnitLine>,
    pub lights: Vec<(String, String, i64)>,
    /// (状态, count, share %).
    pub statuses: Vec<(String, i64, f64)>,
    pub lagging: Vec<(String, Vec<monthly::Lagging>)>,
    pub months: Vec<MonthPoint>,
    pub weeks: Vec<WeekPoint>,
}

fn pct(n: i64, d: i64) -> f64 {
    if d == 0 {
        0.0
    } else {
        ((n as f64) * 1000.0 / (d as f64)).round() / 10.0
    }
}

fn finished_of(by_status: &std::collections::BTreeMap<String, i64>) -> i64 {
    ["completed", "closed"]
        .iter()
        .map(|k| by_status.get(*k).copied().unwrap_or(0))
        .sum()
}

async fn month_trend(st: &AppState, who: &Caller, month: PeriodKey) -> Vec<MonthPoint> {
    let PeriodKey::Month { year, month: last } = month else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for m in 1..=last {
        let key = PeriodKey::Month { year, month: m }.to_string();
        if let Ok(Some(s)) = monthly::get_monthly_snapshot(&st.app, who, &key).await {
            out.push(MonthPoint {
                month: key,
                total: s.total,
                finished: finished_of(&s.by_status),
                overdue: s.overdue,
                on_time_rate: s.on_time_rate,
            });
        }
    }
    out
}

async fn week_trend(st: &AppState, who: &Caller, month: PeriodKey) -> Vec<WeekPoint> {
    let end = month.last_day().map_or(today(st), |d| d.min(today(st)));
    let mut k = PeriodKey::week_of(end);
    let mut out = Vec::new();
    for _ in 0..8 {
        let list = weekly::list_weekly_summaries(&st.app, who, &k.to_string())
            .await
            .unwrap_or_default();
        let whole = list.iter().find(|v| v.row.unit_id.is_none());
        let facts: Vec<_> = match whole {
            Some(w) => vec![&w.facts],
            None => list.iter().map(|v| &v.facts).collect(),
        };
        out.push(WeekPoint {
            week: k.to_string(),
            moved: facts.iter().map(|f| f.moved.len()).sum(),
            completed: facts.iter().map(|f| f.completed.len()).sum(),
            stuck: facts.iter().map(|f| f.stuck.len()).sum(),
        });
        match k.previous() {
            Ok(p) => k = p,
            Err(_) => break,
        }
    }
    out.reverse();
    out
}

/// The month asked for, or the latest frozen one of the past year, or this month.
async fn pick_month(st: &AppState, who: &Caller, asked: &str) -> Result<PeriodKey, AppError> {
    if !asked.trim().is_empty() {
        return match PeriodKey::parse(asked.trim()) {
            Ok(k @ PeriodKey::Month { .. }) => Ok(k),
            _ => Err(AppError::invalid(
                "month",
                "period",
                "月份应为 2026-03 的形式",
            )),
        };
    }
    let this = PeriodKey::month_of(today(st));
    let mut k = this;
    for _ in 0..12 {
        if monthly::get_monthly_snapshot(&st.app, who, &k.to_string())
            .await?
            .is_some()
        {
            return Ok(k);
        }
        match k.previous() {
            Ok(p) => k = p,
            Err(_) => break,
        }
    }
    Ok(this)
}

/// Build the dashboard of `asked` (empty = latest) for `who`.
pub async fn dashboard(st: &AppState, who: &Caller, asked: &str) -> Result<Dashboard, AppError> {
    let month = pick_month(st, who, asked).await?;
    let snap = monthly::get_monthly_snapshot(&st.app, who, &month.to_string()).await?;
    let names = Names::load(st).await?;
    let mut d = Dashboard {
        month: month.to_string(),
        snap: None,
        finished: 0,
        finished_share: 0.0,
        units: Vec::new(),
        lights: Vec::new(),
        statuses: Vec::new(),
        lagging: Vec::new(),
        months: month_trend(st, who, month).await,
        weeks: week_trend(st, who, month).await,
    };
    let Some(s) = snap else { return Ok(d) };
    d.finished = finished_of(&s.by_status);
    d.finished_share = pct(d.finished, s.total);
    for (unit, counts) in &s.by_unit {
        let total: i64 = counts.values().sum();
        let finished = finished_of(counts);
        d.units.push(UnitLine {
            unit: names.unit(*unit),
            total,
            finished,
            completion_rate: pct(finished, total),
            on_time_rate: s.on_time_by_unit.get(unit).copied(),
            overdue: s.overdue_by_unit.get(unit).copied().unwrap_or(0),
            lagging: s.lagging_by_unit.get(unit).map_or(0, Vec::len),
        });
    }
    for l in [Light::Green, Light::Yellow, Light::Red, Light::Grey] {
        let n = s.by_light.get(l.code()).copied().unwrap_or(0);
        d.lights
            .push((l.code().to_owned(), format!("{}灯", l.label_zh()), n));
    }
    d.statuses = s
        .by_status
        .iter()
        .map(|(k, n)| {
            let label = MatterStatus::parse(k).map_or(k.as_str(), |st| st.label_zh());
            (
                label.to_owned(),
                *n,
                s.status_share.get(k).copied().unwrap_or(0.0),
            )
        })
        .collect();
    d.lagging = s
        .lagging_by_unit
        .iter()
        .map(|(u, items)| (names.unit(*u), items.clone()))
        .collect();
    d.snap = Some(s);
    Ok(d)
}

#[derive(Deserialize, Default)]
pub struct MonthQuery {
    #[serde(default)]
    month: String,
    #[serde(default)]
    issued: Option<i64>,
}

async fn render(
    st: AppState,
    s: taizhang_app::identity::SessionInfo,
    q: MonthQuery,
    print: bool,
) -> Response {
    let d = match dashboard(&st, &s.caller, &q.month).await {
        Ok(d) => d,
        Err(e) => return denied_page(&st, &s.caller, "/monthly", &e).await,
    };
    let can_run = runs_cadences(&s.caller);
    let can_take =
        can_run && d.snap.is_none() && d.month <= PeriodKey::month_of(today(&st)).to_string();
    st.templates.render(
        "cadence/monthly.html",
        json!({
            "page": PageCtx::new(&s, "/monthly"), "d": d, "print": print, "issued": q.issued,
            "can_take": can_take, "can_bulletin": can_run && d.snap.is_some(),
        }),
    )
}

/// `GET /monthly`: the dashboard.
pub async fn monthly_page(
    State(st): State<AppState>,
    Web(s): Web,
    Query(q): Query<MonthQuery>,
) -> Response {
    render(st, s, q, false).await
}

/// `GET /monthly/print`: the same numbers laid out for paper.
pub async fn monthly_print(
    State(st): State<AppState>,
    Web(s): Web,
    Query(q): Query<MonthQuery>,
) -> Response {
    render(st, s, q, true).await
}

/// `GET /monthly/data.json`: the chart series of the dashboard.
pub async fn monthly_data(
    State(st): State<AppState>,
    Web(s): Web,
    Query(q): Query<MonthQuery>,
) -> Response {
    match dashboard(&st, &s.caller, &q.month).await {
        Ok(d) => Json(chart_data(&d)).into_response(),
        Err(e) => {
            crate::error::audit_denial(&st, &s.caller, "/monthly/data.json", &e).await;
            crate::api::error_response(&e)
        }
    }
}

/// The series `static/charts.js` draws: units only, never people.
pub fn chart_data(d: &Dashboard) -> serde_json::Value {
    json!({
        "month": d.month,
        "units": {
            "names": d.units.iter().map(|u| &u.unit).collect::<Vec<_>>(),
            "completion": d.units.iter().map(|u| u.completion_rate).collect::<Vec<_>>(),
            "on_time": d.units.iter().map(|u| u.on_time_rate).collect::<Vec<_>>(),
            "overdue": d.units.iter().map(|u| u.overdue).collect::<Vec<_>>(),
        },
        "lights": d.lights.iter().map(|(code, name, n)| json!({"code": code, "name": name, "value": n})).collect::<Vec<_>>(),
        "months": {
            "keys": d.months.iter().map(|m| &m.month).collect::<Vec<_>>(),
            "finished": d.months.iter().map(|m| m.finished).collect::<Vec<_>>(),
            "overdue": d.months.iter().map(|m| m.overdue).collect::<Vec<_>>(),
            "on_time": d.months.iter().map(|m| m.on_time_rate).collect::<Vec<_>>(),
        },
        "weeks": {
            "keys": d.weeks.iter().map(|w| &w.week).collect::<Vec<_>>(),
            "moved": d.weeks.iter().map(|w| w.moved).collect::<Vec<_>>(),
            "completed": d.weeks.iter().map(|w| w.completed).collect::<Vec<_>>(),
            "stuck": d.weeks.iter().map(|w| w.stuck).collect::<Vec<_>>(),
        },
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthForm {
    csrf: String,
    month: String,
}

fn month_of_form(f: &MonthForm) -> Result<PeriodKey, AppError> {
    match PeriodKey::parse(f.month.trim()) {
        Ok(k @ PeriodKey::Month { .. }) => Ok(k),
        _ => Err(AppError::invalid("month", "period", "月份无效")),
    }
}

/// `POST /monthly/snapshot`: freeze a month (督查专员), as of its last day or today.
pub async fn take_snapshot(
    State(st): State<AppState>,
    Web(s): Web,
    Form(f): Form<MonthForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let month = match month_of_form(&f) {
        Ok(m) if m.first_day().is_ok_and(|d| d <= today(&st)) => m,
        Ok(_) => {
            return page_error(
                &st,
                &AppError::invalid("month", "period", "不能盘点未来的月份"),
            );
        }
        Err(e) => return page_error(&st, &e),
    };
    let as_of = month.last_day().map_or(today(&st), |d| d.min(today(&st)));
    match monthly::take_monthly_snapshot(&st.app, &s.caller, month, as_of).await {
        Ok(_) => Redirect::to(&format!("/monthly?month={month}")).into_response(),
        Err(e) => denied_page(&st, &s.caller, "/monthly/snapshot", &e).await,
    }
}

/// `POST /monthly/bulletin`: issue a 通报 drafted from the frozen month.
pub async fn issue_bulletin(
    State(st): State<AppState>,
    Web(s): Web,
    Form(f): Form<MonthForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let month = match month_of_form(&f) {
        Ok(m) => m,
        Err(e) => return page_error(&st, &e),
    };
    match monthly::bulletin_from_snapshot(&st.app, &s.caller, &month.to_string()).await {
        Ok((_, no)) => Redirect::to(&format!("/monthly?month={month}&issued={no}")).into_response(),
        Err(e) => denied_page(&st, &s.caller, "/monthly/bulletin", &e).await,
    }
}
