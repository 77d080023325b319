//! 预警阈值 (`/admin/thresholds`, 系统管理员): the light thresholds per 任务来源 — 临期 window in
//! working days, 序时 lag points for yellow and red — with a default row for the categories that
//! have none of their own. A refused row is shown again with what was typed next to the error.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use taizhang_app::identity::SessionInfo;
use taizhang_app::ledger::thresholds;
use taizhang_app::{AppError, AppResult};
use taizhang_domain::light::{LightRules, LightTable};
use taizhang_domain::matter::SourceCategory;

use crate::AppState;
use crate::admin_pages::RawForm;
use crate::ctx::PageCtx;
use crate::error::{denied_page, page_error};
use crate::session::{Web, csrf_ok};

/// One row of the page: key (`default` or a category code), label, own row?, the three values.
fn row(key: &str, label: &str, own: bool, r: LightRules) -> Value {
    json!({"key": key, "label": label, "own": own, "n": r.yellow_within_workdays.to_string(),
           "yellow": r.lag_yellow_points.to_string(), "red": r.lag_red_points.to_string()})
}

fn rows_of(t: &LightTable) -> Vec<Value> {
    let mut out = vec![row("default", "默认（未单独设置的类别）", true, t.default)];
    for c in SourceCategory::ALL {
        let own = t.own(*c);
        out.push(row(
            c.code(),
            c.label_zh(),
            own.is_some(),
            own.unwrap_or(t.default),
        ));
    }
    out
}

fn render(
    st: &AppState,
    s: &SessionInfo,
    rows: Vec<Value>,
    err: Option<&AppError>,
    saved: bool,
) -> Response {
    // A refusal that names no field shows at the top ("_").
    let (field, message) = crate::error::form_error(err);
    let field = field.or_else(|| message.as_ref().map(|_| "_".to_owned()));
    let status = if err.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    st.templates.render_status(
        status,
        "admin/thresholds.html",
        json!({"page": PageCtx::new(s, "/admin"), "rows": rows, "err_field": field,
               "err_msg": message, "saved": saved, "max_window": LightRules::MAX_WINDOW}),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: String,
}

/// 预警阈值 page.
pub async fn page(
    State(st): State<AppState>,
    Web(s): Web,
    Query(q): Query<SavedQuery>,
) -> Response {
    if let Err(e) = s
        .caller
        .require(taizhang_domain::policy::Action::ManageSettings, None)
    {
        return denied_page(&st, &s.caller, "/admin/thresholds", &e).await;
    }
    match thresholds::thresholds(&st.app, &s.caller).await {
        Ok(t) => render(&st, &s, rows_of(&t), None, q.saved == "1"),
        Err(e) => denied_page(&st, &s.caller, "/admin/thresholds", &e).await,
    }
}

fn number<T: TryFrom<u64>>(vals: &[(String, String)], field: &str) -> AppResult<T> {
    let raw = vals
        .iter()
        .rev()
        .find(|(k, _)| k == field)
        .map_or("", |(_, v)| v.as_str())
        .trim();
    raw.parse::<u64>()
        .ok()
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| {
            AppError::invalid(
                field,
                "threshold_number",
                format!("「{raw}」不是有效的非负整数"),
            )
        })
}

fn rules_of(vals: &[(String, String)], key: &str) -> AppResult<LightRules> {
    Ok(LightRules {
        yellow_within_workdays: number(vals, &format!("{key}_n"))?,
        lag_yellow_points: number(vals, &format!("{key}_yellow"))?,
        lag_red_points: number(vals, &format!("{key}_red"))?,
    })
}

fn table_of(vals: &[(String, String)]) -> AppResult<LightTable> {
    let mut t = LightTable::new(rules_of(vals, "default")?);
    for c in SourceCategory::ALL {
        let own = vals
            .iter()
            .any(|(k, v)| *k == format!("{}_own", c.code()) && v == "1");
        if own {
            t.set(*c, Some(rules_of(vals, c.code())?));
        }
    }
    Ok(t)
}

/// The rows as typed, to show them again after a refusal.
fn typed_rows(vals: &[(String, String)]) -> Vec<Value> {
    let get = |k: String| {
        vals.iter()
            .rev()
            .find(|(n, _)| *n == k)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let keys = std::iter::once(("default", "默认（未单独设置的类别）"))
        .chain(SourceCategory::ALL.iter().map(|c| (c.code(), c.label_zh())));
    keys.map(|(key, label)| {
        let own = key == "default" || get(format!("{key}_own")) == "1";
        json!({"key": key, "label": label, "own": own, "n": get(format!("{key}_n")),
               "yellow": get(format!("{key}_yellow")), "red": get(format!("{key}_red"))})
    })
    .collect()
}

/// Save the thresholds; back to the page, or the page again (422) with the error.
pub async fn save(State(st): State<AppState>, Web(s): Web, form: RawForm) -> Response {
    let vals = form.pairs();
    let csrf = vals
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    if !csrf_ok(&s, csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let r = match table_of(&vals) {
        Ok(t) => thresholds::set_thresholds(&st.app, &s.caller, t).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => Redirect::to("/admin/thresholds?saved=1").into_response(),
        Err(e @ AppError::Invalid { .. }) => render(&st, &s, typed_rows(&vals), Some(&e), false),
        Err(e) => denied_page(&st, &s.caller, "/admin/thresholds", &e).await,
    }
}
