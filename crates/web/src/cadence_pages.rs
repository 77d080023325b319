//! 日清查 pages: the day's check list with one-click 已清查 (htmx). Also the helpers the other
//! cadence pages share (today, names of units and people, field parsing).

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;
use taizhang_app::identity::SessionInfo;
use taizhang_app::ledger::daily::{self, CheckLine};
use taizhang_app::{AppError, Caller};
use taizhang_domain::daily_check::CheckCategory;
use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::policy::{Action, Label, Target};

use crate::AppState;
use crate::ctx::PageCtx;
use crate::error::{denied_page, page_error};
use crate::session::{Web, csrf_ok};

/// Today in the department's time zone, by the App clock.
pub fn today(st: &AppState) -> Date {
    taizhang_app::clock::date_of_ms(st.app.clock.now_ms())
}

/// Whether `who` may run the cadences (督查专员): drafts, snapshots, the year close.
pub fn runs_cadences(who: &Caller) -> bool {
    who.decide(Action::RunCadence, None).is_allowed()
}

/// Names of units and people, for showing ids (from the application's validated caches).
#[derive(Default)]
pub struct Names {
    tree: std::sync::Arc<taizhang_app::org::UnitTree>,
    dir: std::sync::Arc<taizhang_app::names::NameDirectory>,
}

impl Names {
    pub async fn load(st: &AppState) -> Result<Names, AppError> {
        let mut c = st.app.store.read().await?;
        Ok(Names {
            tree: st.app.unit_tree(&mut c).await?,
            dir: st.app.name_directory(&mut c).await?,
        })
    }

    pub fn unit(&self, id: i64) -> String {
        self.tree
            .units
            .get(&id)
            .map_or_else(|| id.to_string(), |u| u.name.clone())
    }

    /// Every unit's name by id (the unit picker).
    pub fn unit_map(&self) -> BTreeMap<i64, String> {
        self.tree
            .units
            .iter()
            .map(|(id, u)| (*id, u.name.clone()))
            .collect()
    }

    pub fn person(&self, id: Option<i64>) -> String {
        id.and_then(|i| self.dir.name(i))
            .map(str::to_owned)
            .unwrap_or_default()
    }
}

/// A form field or query value that must parse, as a field error otherwise.
pub fn parse_field<T: std::str::FromStr>(field: &str, v: &str, msg: &str) -> Result<T, AppError> {
    v.trim()
        .parse()
        .map_err(|_| AppError::invalid(field, "format", msg))
}

fn is_htmx(h: &HeaderMap) -> bool {
    h.get("hx-request").is_some_and(|v| v == "true")
}

#[derive(Deserialize, Default)]
pub struct ChecksQuery {
    #[serde(default)]
    day: String,
    #[serde(default)]
    unit: String,
    /// Page of the list, from 1.
    #[serde(default)]
    page: String,
}

#[derive(Serialize)]
struct CheckRow {
    id: i64,
    day: String,
    unit: String,
    matter_id: i64,
    number: String,
    title: String,
    deadline: Option<String>,
    status: String,
    category: String,
    done: bool,
    action: String,
    by: String,
    at: Option<i64>,
    can_confirm: bool,
}

fn check_row(l: CheckLine, names: &Names, who: &Caller) -> CheckRow {
    let unit = Target {
        owner_unit: Some(l.item.unit_id),
        assisting_units: Vec::new(),
        handler_ids: Vec::new(),
        label: Label::Normal,
    };
    let can_confirm = l.item.confirmed_at.is_none()
        && who
            .decide(Action::ConfirmDailyCheck, Some(&unit))
            .is_allowed();
    let action = daily::CHECK_ACTIONS
        .iter()
        .find(|(c, _)| *c == l.item.action)
        .map_or("", |(_, zh)| zh);
    CheckRow {
        id: l.item.id,
        day: l.item.check_day.clone(),
        unit: names.unit(l.item.unit_id),
        matter_id: l.item.matter_id,
        number: l.number,
        title: l.title,
        deadline: l.deadline,
        status: MatterStatus::parse(&l.status)
            .map_or("", |s| s.label_zh())
            .to_owned(),
        category: CheckCategory::parse(&l.item.category)
            .map_or(l.item.category.as_str(), |c| c.label_zh())
            .to_owned(),
        done: l.item.confirmed_at.is_some(),
        action: action.to_owned(),
        by: names.person(l.item.confirmed_by),
        at: l.item.confirmed_at,
        can_confirm,
    }
}

/// `GET /checks`: the check list of a day (today by default), all units or one.
pub async fn checks_page(
    State(st): State<AppState>,
    Web(s): Web,
    Query(q): Query<ChecksQuery>,
) -> Response {
    let day = match q.day.trim() {
        "" => today(&st),
        d => match parse_field::<Date>("day", d, "日期应为 YYYY-MM-DD") {
            Ok(d) => d,
            Err(e) => return page_error(&st, &e),
        },
    };
    let unit = q.unit.trim().parse::<i64>().ok();
    let page_no = q.page.trim().parse::<u32>().unwrap_or(1).max(1);
    let checks = match daily::daily_check_page(
        &st.app,
        &s.caller,
        day,
        unit,
        page_no,
        CHECKS_PER_PAGE,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return denied_page(&st, &s.caller, "/checks", &e).await,
    };
    let names = match Names::load(&st).await {
        Ok(n) => n,
        Err(e) => return page_error(&st, &e),
    };
    let open: i64 = checks.units.iter().map(|u| u.items - u.confirmed).sum();
    // A department's whole day (780,000 items at 10^6 matters) is no page: past one page, the
    // list without a unit is an overview by unit, each unit's lines one click away.
    let overview = unit.is_none() && checks.total > i64::from(CHECKS_PER_PAGE);
    let unit_rows: Vec<serde_json::Value> = checks
        .units
        .iter()
        .map(|u| {
            json!({"id": u.unit_id, "name": names.unit(u.unit_id), "items": u.items,
                   "open": u.items - u.confirmed})
        })
        .collect();
    let rows: Vec<CheckRow> = if overview {
        Vec::new()
    } else {
        checks
            .lines
            .into_iter()
            .map(|l| check_row(l, &names, &s.caller))
            .collect()
    };
    let mut by_unit: BTreeMap<String, Vec<&CheckRow>> = BTreeMap::new();
    for r in &rows {
        by_unit.entry(r.unit.clone()).or_default().push(r);
    }
    let pages = (checks.total + i64::from(CHECKS_PER_PAGE) - 1) / i64::from(CHECKS_PER_PAGE);
    st.templates.render(
        "cadence/checks.html",
        json!({
            "page": PageCtx::new(&s, "/checks"), "day": day.to_string(), "unit": unit,
            "groups": by_unit, "total": checks.total, "open": open,
            "overview": overview, "unit_rows": unit_rows,
            "page_no": page_no, "pages": if overview { 1 } else { pages.max(1) },
            "units": if runs_cadences(&s.caller) { Some(names.unit_map()) } else { None },
            "can_run": runs_cadences(&s.caller),
            "prev": day.yesterday().ok().map(|d| d.to_string()),
            "next": day.tomorrow().ok().map(|d| d.to_string()),
        }),
    )
}

/// Lines of a check list per page (and the most a list without a unit shows before it turns
/// into the overview by unit).
const CHECKS_PER_PAGE: u32 = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayForm {
    csrf: String,
    day: String,
}

/// `POST /checks/run`: build (or rebuild) the check list of a day (督查专员).
pub async fn run_checks(
    State(st): State<AppState>,
    Web(s): Web,
    Form(f): Form<DayForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let day = match parse_field::<Date>("day", &f.day, "日期应为 YYYY-MM-DD") {
        Ok(d) => d,
        Err(e) => return page_error(&st, &e),
    };
    match daily::run_daily_check(&st.app, &s.caller, day).await {
        Ok(_) => Redirect::to(&format!("/checks?day={day}")).into_response(),
        Err(e) => denied_page(&st, &s.caller, "/checks/run", &e).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmForm {
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    day: String,
}

/// `POST /checks/{id}/confirm`: 已清查. An htmx request gets the updated row back; a plain form
/// goes back to the list.
pub async fn confirm_check(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(f): Form<ConfirmForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    if let Err(e) = daily::confirm_check_item(&st.app, &s.caller, id, &f.action).await {
        return denied_page(&st, &s.caller, "/checks/confirm", &e).await;
    }
    let day = f.day.trim().parse::<Date>().unwrap_or_else(|_| today(&st));
    if !is_htmx(&headers) {
        return Redirect::to(&format!("/checks?day={day}")).into_response();
    }
    confirmed_row(&st, &s, day, id).await
}

async fn confirmed_row(st: &AppState, s: &SessionInfo, day: Date, id: i64) -> Response {
    let line = match daily::daily_check_line(&st.app, &s.caller, id).await {
        Ok(l) => l,
        Err(AppError::Forbidden | AppError::NotFound(_)) => {
            return Redirect::to(&format!("/checks?day={day}")).into_response();
        }
        Err(e) => return page_error(st, &e),
    };
    let names = Names::load(st).await.unwrap_or_default();
    let row = check_row(line, &names, &s.caller);
    st.templates.render(
        "cadence/_check_row.html",
        json!({"page": PageCtx::new(s, "/checks"), "r": row}),
    )
}
