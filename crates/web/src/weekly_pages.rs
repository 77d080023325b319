//! 周小结 pages: the summaries of a week (per unit and department-wide), one summary with its
//! drafted facts, and editing, submission and approval.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use taizhang_app::AppError;
use taizhang_app::identity::SessionInfo;
use taizhang_app::ledger::weekly::{self, WeeklyView};
use taizhang_domain::period::PeriodKey;
use taizhang_domain::policy::{Action, Label, Target};

use crate::AppState;
use crate::cadence_pages::{Names, runs_cadences, today};
use crate::ctx::PageCtx;
use crate::error::{denied_page, page_error};
use crate::session::{Web, csrf_ok};

/// 草稿 / 已提交 / 已通过 / 已退回.
pub fn status_zh(s: &str) -> &'static str {
    match s {
        "draft" => "草稿",
        "submitted" => "已提交",
        "approved" => "已通过",
        "returned" => "已退回",
        _ => "未知",
    }
}

fn target(unit: Option<i64>) -> Option<Target> {
    unit.map(|u| Target {
        owner_unit: Some(u),
        assisting_units: Vec::new(),
        handler_ids: Vec::new(),
        label: Label::Normal,
    })
}

#[derive(Serialize)]
struct SummaryRow {
    id: i64,
    week: String,
    unit: String,
    status: &'static str,
    status_code: String,
    counts: [usize; 5],
    updated_at: i64,
    submitted_by: String,
    approved_by: String,
}

fn summary_row(v: &WeeklyView, names: &Names) -> SummaryRow {
    let f = &v.facts;
    SummaryRow {
        id: v.row.id,
        week: v.row.week_key.clone(),
        unit: v
            .row
            .unit_id
            .map_or_else(|| "全部门".to_owned(), |u| names.unit(u)),
        status: status_zh(&v.row.status),
        status_code: v.row.status.clone(),
        counts: [
            f.moved.len(),
            f.completed.len(),
            f.stuck.len(),
            f.coordination.len(),
            f.next_week.len(),
        ],
        updated_at: v.row.updated_at,
        submitted_by: names.person(v.row.submitted_by),
        approved_by: names.person(v.row.approved_by),
    }
}

#[derive(Deserialize, Default)]
pub struct WeekQuery {
    #[serde(default)]
    week: String,
}

/// `GET /weekly`: the summaries of a week (this week by default) and links to recent weeks.
pub async fn weekly_page(
    State(st): State<AppState>,
    Web(s): Web,
    Query(q): Query<WeekQuery>,
) -> Response {
    let this_week = PeriodKey::week_of(today(&st));
    let week = match q.week.trim() {
        "" => this_week,
        w => match PeriodKey::parse(w) {
            Ok(k @ PeriodKey::Week { .. }) => k,
            _ => {
                return page_error(
                    &st,
                    &AppError::invalid("week", "period", "周次应为 2026-W12 的形式"),
                );
            }
        },
    };
    let list = match weekly::list_weekly_summaries(&st.app, &s.caller, &week.to_string()).await {
        Ok(l) => l,
        Err(e) => return denied_page(&st, &s.caller, "/weekly", &e).await,
    };
    let names = match Names::load(&st).await {
        Ok(n) => n,
        Err(e) => return page_error(&st, &e),
    };
    let mut recent = Vec::new();
    let mut k = this_week;
    for _ in 0..8 {
        let n = weekly::list_weekly_summaries(&st.app, &s.caller, &k.to_string())
            .await
            .map(|l| l.len())
            .unwrap_or(0);
        recent.push(json!({"week": k.to_string(), "count": n, "on": k == week}));
        match k.previous() {
            Ok(p) => k = p,
            Err(_) => break,
        }
    }
    let rows: Vec<SummaryRow> = list.iter().map(|v| summary_row(v, &names)).collect();
    st.templates.render(
        "cadence/weekly.html",
        json!({
            "page": PageCtx::new(&s, "/weekly"), "week": week.to_string(), "rows": rows,
            "recent": recent, "can_run": runs_cadences(&s.caller),
            "from": week.first_day().ok().map(|d| d.to_string()),
            "to": week.last_day().ok().map(|d| d.to_string()),
        }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunForm {
    csrf: String,
    week: String,
}

/// `POST /weekly/run`: draft (or refresh the untouched drafts of) a week (督查专员).
pub async fn run_weekly(
    State(st): State<AppState>,
    Web(s): Web,
    Form(f): Form<RunForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let week = match PeriodKey::parse(f.week.trim()) {
        Ok(k @ PeriodKey::Week { .. }) => k,
        _ => return page_error(&st, &AppError::invalid("week", "period", "周次无效")),
    };
    let as_of = week.last_day().map_or(today(&st), |d| d.min(today(&st)));
    match weekly::run_weekly_summary(&st.app, &s.caller, week, as_of).await {
        Ok(_) => Redirect::to(&format!("/weekly?week={week}")).into_response(),
        Err(e) => denied_page(&st, &s.caller, "/weekly/run", &e).await,
    }
}

async fn show(
    st: &AppState,
    s: &SessionInfo,
    id: i64,
    error: Option<String>,
    typed: Option<String>,
) -> Response {
    let v = match weekly::get_weekly_summary(&st.app, &s.caller, id).await {
        Ok(v) => v,
        Err(e) => return denied_page(st, &s.caller, "/weekly/{id}", &e).await,
    };
    let names = match Names::load(st).await {
        Ok(n) => n,
        Err(e) => return page_error(st, &e),
    };
    let t = target(v.row.unit_id);
    let open = matches!(v.row.status.as_str(), "draft" | "returned");
    let can_edit = open
        && s.caller
            .decide(Action::EditWeeklySummary, t.as_ref())
            .is_allowed();
    let can_approve = v.row.status == "submitted"
        && s.caller
            .decide(Action::ApproveWeeklySummary, t.as_ref())
            .is_allowed();
    let row = summary_row(&v, &names);
    let sections = [
        ("本周推进", &v.facts.moved),
        ("本周办结", &v.facts.completed),
        ("滞后事项及原因", &v.facts.stuck),
        ("需领导协调", &v.facts.coordination),
        ("下周安排", &v.facts.next_week),
    ];
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    st.templates.render_status(
        status,
        "cadence/weekly_show.html",
        json!({
            "page": PageCtx::new(s, "/weekly"), "s": row, "sections": sections,
            "body": typed.unwrap_or(v.row.body), "error": error,
            "can_edit": can_edit, "can_approve": can_approve,
        }),
    )
}

/// `GET /weekly/{id}`: one summary.
pub async fn weekly_show(State(st): State<AppState>, Web(s): Web, Path(id): Path<i64>) -> Response {
    show(&st, &s, id, None, None).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditForm {
    csrf: String,
    body: String,
}

/// `POST /weekly/{id}/edit`: save the text; on an error the typed text is shown again.
pub async fn edit_weekly(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Form(f): Form<EditForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    match weekly::edit_weekly_summary(&st.app, &s.caller, id, &f.body).await {
        Ok(()) => Redirect::to(&format!("/weekly/{id}")).into_response(),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            show(&st, &s, id, Some(e.to_string()), Some(f.body)).await
        }
        Err(e) => denied_page(&st, &s.caller, "/weekly/{id}/edit", &e).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /weekly/{id}/submit`.
pub async fn submit_weekly(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    match weekly::submit_weekly_summary(&st.app, &s.caller, id).await {
        Ok(()) => Redirect::to(&format!("/weekly/{id}")).into_response(),
        Err(e) => denied_page(&st, &s.caller, "/weekly/{id}/submit", &e).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideForm {
    csrf: String,
    decision: String,
}

/// `POST /weekly/{id}/approve`: `decision` is `approve` or `return`.
pub async fn approve_weekly(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let approve = match f.decision.as_str() {
        "approve" => true,
        "return" => false,
        _ => {
            return page_error(
                &st,
                &AppError::invalid("decision", "unknown_code", "请选择通过或退回"),
            );
        }
    };
    match weekly::approve_weekly_summary(&st.app, &s.caller, id, approve).await {
        Ok(()) => Redirect::to(&format!("/weekly/{id}")).into_response(),
        Err(e) => denied_page(&st, &s.caller, "/weekly/{id}/approve", &e).await,
    }
}
