//! 工作日历 administration (系统管理员): a year's 休/班 overrides, which years are published
//! (the others are provisional: weekends only), single-day edits and the notice import.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::json;
use taizhang_app::AppError;
use taizhang_app::identity::SessionInfo;
use taizhang_app::ledger::calendar;
use taizhang_domain::calendar::{DayOverride, OverrideKind};

use crate::AppState;
use crate::cadence_pages::{parse_field, today};
use crate::ctx::PageCtx;
use crate::error::{denied_page, page_error};
use crate::session::{Web, csrf_ok};

#[derive(Deserialize, Default)]
pub struct YearQuery {
    #[serde(default)]
    year: String,
}

/// What the form sent, shown again after an error so nothing typed is lost.
#[derive(Default, serde::Serialize)]
struct Typed {
    date: String,
    kind: String,
    name: String,
    text: String,
}

async fn render(
    st: &AppState,
    s: &SessionInfo,
    year: i16,
    error: Option<(String, String)>,
    typed: Typed,
) -> Response {
    let (days, published) = match calendar::list_year(&st.app, year).await {
        Ok(v) => v,
        Err(e) => return page_error(st, &e),
    };
    let this = today(st).year();
    let mut years = Vec::new();
    for y in (this - 2)..=(this + 1) {
        let published = calendar::list_year(&st.app, y).await.is_ok_and(|(_, p)| p);
        years.push(json!({"year": y, "published": published, "on": y == year}));
    }
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    st.templates.render_status(
        status,
        "cadence/calendar.html",
        json!({
            "page": PageCtx::new(s, "/admin"), "year": year, "days": days, "published": published,
            "years": years, "error": error.as_ref().map(|e| &e.1), "error_field": error.as_ref().map(|e| &e.0),
            "typed": typed,
        }),
    )
}

fn year_of(st: &AppState, asked: &str) -> Result<i16, AppError> {
    match asked.trim() {
        "" => Ok(today(st).year()),
        y => y
            .parse::<i16>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or_else(|| AppError::invalid("year", "format", "年度应为四位数字")),
    }
}

/// `GET /admin/calendar`: one year's overrides (this year by default).
pub async fn calendar_page(
    State(st): State<AppState>,
    Web(s): Web,
    Query(q): Query<YearQuery>,
) -> Response {
    match year_of(&st, &q.year) {
        Ok(y) => render(&st, &s, y, None, Typed::default()).await,
        Err(e) => page_error(&st, &e),
    }
}

/// Re-render with a field error, or the error page for anything else.
async fn refused(st: &AppState, s: &SessionInfo, year: i16, e: AppError, typed: Typed) -> Response {
    match &e {
        AppError::Invalid { field, message, .. } => {
            render(
                st,
                s,
                year,
                Some((field.clone().unwrap_or_default(), message.clone())),
                typed,
            )
            .await
        }
        _ => denied_page(st, &s.caller, "/admin/calendar", &e).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayForm {
    csrf: String,
    date: String,
    kind: String,
    #[serde(default)]
    name: String,
}

/// `POST /admin/calendar/day`: declare one day 休 or 班.
pub async fn set_day(State(st): State<AppState>, Web(s): Web, Form(f): Form<DayForm>) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let typed = Typed {
        date: f.date.clone(),
        kind: f.kind.clone(),
        name: f.name.clone(),
        text: String::new(),
    };
    let parsed = parse_field::<Date>("date", &f.date, "日期应为 YYYY-MM-DD").and_then(|d| {
        OverrideKind::parse(&f.kind)
            .map(|k| (d, k))
            .ok_or_else(|| AppError::invalid("kind", "unknown_code", "请选择 休 或 班"))
    });
    let (date, kind) = match parsed {
        Ok(v) => v,
        Err(e) => return refused(&st, &s, today(&st).year(), e, typed).await,
    };
    let o = DayOverride {
        date,
        kind,
        name: f.name.trim().chars().take(50).collect(),
        notice: "管理员调整".into(),
    };
    match calendar::set_day(&st.app, &s.caller, o).await {
        Ok(()) => Redirect::to(&format!("/admin/calendar?year={}", date.year())).into_response(),
        Err(e) => refused(&st, &s, date.year(), e, typed).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearForm {
    csrf: String,
    date: String,
}

/// `POST /admin/calendar/clear`: the day follows the weekday rule again.
pub async fn clear_day(
    State(st): State<AppState>,
    Web(s): Web,
    Form(f): Form<ClearForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let date = match parse_field::<Date>("date", &f.date, "日期应为 YYYY-MM-DD") {
        Ok(d) => d,
        Err(e) => return page_error(&st, &e),
    };
    match calendar::clear_day(&st.app, &s.caller, date).await {
        Ok(_) => Redirect::to(&format!("/admin/calendar?year={}", date.year())).into_response(),
        Err(e) => denied_page(&st, &s.caller, "/admin/calendar/clear", &e).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportForm {
    csrf: String,
    text: String,
}

/// `POST /admin/calendar/import`: a notice file (`date,kind,name,notice` lines), pasted or read
/// from a chosen file by `static/calendar.js`. A bad line refuses the whole file.
pub async fn import(
    State(st): State<AppState>,
    Web(s): Web,
    Form(f): Form<ImportForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    match calendar::import(&st.app, &s.caller, &f.text).await {
        Ok(years) => {
            let y = years.first().copied().unwrap_or(today(&st).year());
            Redirect::to(&format!("/admin/calendar?year={y}")).into_response()
        }
        Err(e) => {
            let typed = Typed {
                text: f.text,
                ..Typed::default()
            };
            refused(&st, &s, today(&st).year(), e, typed).await
        }
    }
}
