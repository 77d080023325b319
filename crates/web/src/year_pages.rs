//! 年度归零 pages: the matters that still block a year's close, the close itself (refused with
//! the list while any is open), the annual reconciliation per unit, and its print view.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use taizhang_app::AppError;
use taizhang_app::identity::SessionInfo;
use taizhang_app::ledger::year;
use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::policy::Action;

use crate::AppState;
use crate::cadence_pages::{Names, today};
use crate::ctx::PageCtx;
use crate::error::{denied_page, page_error};
use crate::session::{Web, csrf_ok};

#[derive(Serialize)]
struct OpenRow {
    id: i64,
    number: String,
    title: String,
    unit: String,
    status: &'static str,
    deadline: Option<String>,
    /// The steps towards zero this user may take now: 办结, 中止, 结转 (links to their forms).
    steps: Vec<StepLink>,
}

#[derive(Serialize)]
struct StepLink {
    code: &'static str,
    label: &'static str,
    /// `finish` (办结), `stop` (中止) or `carry` (结转).
    group: &'static str,
}

fn group_of(code: &str) -> &'static str {
    match code {
        "request_stop" | "decide_stop" => "stop",
        "carry_over" => "carry",
        _ => "finish",
    }
}

#[derive(Serialize)]
struct UnitRow {
    unit: String,
    total: i64,
    closed: i64,
    stopped: i64,
    carried_over: i64,
    on_time: i64,
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    #[serde(default)]
    year: String,
}

fn year_of(st: &AppState, asked: &str) -> Result<i64, AppError> {
    match asked.trim() {
        "" => Ok(i64::from(today(st).year())),
        y => y
            .parse::<i64>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or_else(|| AppError::invalid("year", "format", "年度应为四位数字")),
    }
}

async fn render(
    st: &AppState,
    s: &SessionInfo,
    y: i64,
    print: bool,
    error: Option<String>,
) -> Response {
    let report = match year::year_report(&st.app, &s.caller, y).await {
        Ok(r) => r,
        Err(e) => return denied_page(st, &s.caller, "/year-close", &e).await,
    };
    let open = match &report {
        Some(_) => Vec::new(),
        None => match year::open_matters_with_steps(&st.app, &s.caller, y).await {
            Ok(o) => o,
            Err(e) => return denied_page(st, &s.caller, "/year-close", &e).await,
        },
    };
    let names = match Names::load(st).await {
        Ok(n) => n,
        Err(e) => return page_error(st, &e),
    };
    let open: Vec<OpenRow> = open
        .into_iter()
        .map(|o| {
            let m = o.row;
            OpenRow {
                status: MatterStatus::parse(&m.status).map_or("", |s| s.label_zh()),
                unit: names.unit(m.lead_unit_id),
                id: m.id,
                number: m.number,
                title: m.title,
                deadline: m.deadline,
                steps: o
                    .steps
                    .iter()
                    .map(|a| StepLink {
                        code: a.code,
                        label: a.label,
                        group: group_of(a.code),
                    })
                    .collect(),
            }
        })
        .collect();
    let carried = match &report {
        Some(_) => Vec::new(),
        None => match year::carried_of_year(&st.app, &s.caller, y).await {
            Ok(v) => v,
            Err(e) => return denied_page(st, &s.caller, "/year-close", &e).await,
        },
    };
    let carried: Vec<serde_json::Value> = carried
        .into_iter()
        .map(|(old_id, old, new_id, new)| {
            json!({"old_id": old_id, "old": old, "new_id": new_id, "new": new})
        })
        .collect();
    let any_steps = open.iter().any(|o| !o.steps.is_empty());
    let units: Vec<UnitRow> = report
        .iter()
        .flat_map(|r| r.by_unit.iter())
        .map(|(u, l)| UnitRow {
            unit: names.unit(*u),
            total: l.total,
            closed: l.closed,
            stopped: l.stopped,
            carried_over: l.carried_over,
            on_time: l.on_time,
        })
        .collect();
    let can_close = report.is_none() && s.caller.decide(Action::CloseYear, None).is_allowed();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    st.templates.render_status(
        status,
        "cadence/year_close.html",
        json!({
            "page": PageCtx::new(s, "/year-close"), "year": y, "report": report, "units": units,
            "open": open, "can_close": can_close, "print": print, "error": error,
            "carried_now": carried, "any_steps": any_steps,
        }),
    )
}

/// `GET /year-close`: the year's state (this year by default).
pub async fn year_page(
    State(st): State<AppState>,
    Web(s): Web,
    Query(q): Query<YearQuery>,
) -> Response {
    match year_of(&st, &q.year) {
        Ok(y) => render(&st, &s, y, false, None).await,
        Err(e) => page_error(&st, &e),
    }
}

/// `GET /year-close/print`: the reconciliation (or the open list) for paper.
pub async fn year_print(
    State(st): State<AppState>,
    Web(s): Web,
    Query(q): Query<YearQuery>,
) -> Response {
    match year_of(&st, &q.year) {
        Ok(y) => render(&st, &s, y, true, None).await,
        Err(e) => page_error(&st, &e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseForm {
    csrf: String,
    year: String,
}

/// `POST /year-close`: close the year; a refusal shows the page again with the open matters.
pub async fn close_year(
    State(st): State<AppState>,
    Web(s): Web,
    Form(f): Form<CloseForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let y = match year_of(&st, &f.year) {
        Ok(y) if !f.year.trim().is_empty() => y,
        Ok(_) => return page_error(&st, &AppError::invalid("year", "required", "请指定年度")),
        Err(e) => return page_error(&st, &e),
    };
    match year::close_year(&st.app, &s.caller, y).await {
        Ok(_) => Redirect::to(&format!("/year-close?year={y}")).into_response(),
        Err(e @ AppError::Invalid { .. }) => render(&st, &s, y, false, Some(e.to_string())).await,
        Err(e) => denied_page(&st, &s.caller, "/year-close", &e).await,
    }
}
