//! 工作台 (`/desk`: what is waiting for me, today's 清查 list with one-click 已清查) and 台账
//! (`/matters`: the filtered, sorted, paged ledger table).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use taizhang_app::identity::SessionInfo;
use taizhang_app::ledger::list::{self, MatterPage, MatterQuery};
use taizhang_app::ledger::{daily, today, views};
use taizhang_app::{AppError, AppResult, Caller};
use taizhang_domain::policy::{Action, Label, Role, Target};

use crate::AppState;
use crate::admin_pages::RawForm;
use crate::ctx::PageCtx;
use crate::error::{denied_page, page_error};
use crate::ledger_names::{self as names, Names};
use crate::session::{Web, csrf_ok};

/// The matters of a page with display names (assisting units of the whole page in one query).
pub async fn decorate(st: &AppState, n: &Names, page: &MatterPage) -> AppResult<Vec<Value>> {
    let mut c = st.app.store.read().await?;
    let ids: Vec<i64> = page.rows.iter().map(|v| v.row.id).collect();
    let pairs = taizhang_store::matters::assisting_units_of(&mut c, &ids).await?;
    // 子事项: parents' numbers and children counts of the whole page, one query each.
    let parents: Vec<i64> = page.rows.iter().filter_map(|v| v.row.parent_id).collect();
    let numbers = taizhang_store::matter_parts::numbers_of(&mut c, &parents).await?;
    let counts = taizhang_store::matter_parts::child_counts(&mut c, &ids).await?;
    let mut out = Vec::with_capacity(page.rows.len());
    for v in &page.rows {
        let assisting: Vec<i64> = pairs
            .iter()
            .filter(|(m, _)| *m == v.row.id)
            .map(|(_, u)| *u)
            .collect();
        let mut row = n.row(v, &assisting);
        crate::matter_edit::family_marks(&mut row, v, &numbers, &counts);
        out.push(row);
    }
    Ok(out)
}

fn query(statuses: &[&str], per_page: u32) -> MatterQuery {
    MatterQuery {
        statuses: statuses.iter().map(|s| (*s).to_owned()).collect(),
        per_page,
        page: 1,
        ..Default::default()
    }
}

/// One desk list: its title, total and first rows.
async fn desk_list(
    st: &AppState,
    who: &Caller,
    n: &Names,
    title: &str,
    q: MatterQuery,
) -> AppResult<Value> {
    let page = list::list_matters(&st.app, who, &q).await?;
    let rows = decorate(st, n, &page).await?;
    Ok(json!({"title": title, "total": page.total, "rows": rows}))
}

fn is_reviewer(who: &Caller) -> bool {
    who.has_role(Role::Supervisor) || who.has_role(Role::DeptLeader)
}

/// Today's 清查 items `who` may see, with the matter's number and title.
async fn check_items(st: &AppState, who: &Caller, n: &Names) -> AppResult<Vec<Value>> {
    let day = today(&st.app);
    // The first 100 lines in scope (the /checks page has the rest), their matters in one query.
    let lines = match daily::daily_check_head(&st.app, who, day, 100).await {
        Ok(lines) => lines,
        Err(AppError::Forbidden | AppError::NotFound(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for l in lines {
        let i = l.item;
        let target = Target {
            owner_unit: Some(i.unit_id),
            assisting_units: Vec::new(),
            handler_ids: Vec::new(),
            label: Label::Normal,
        };
        let can = who
            .decide(Action::ConfirmDailyCheck, Some(&target))
            .is_allowed();
        out.push(json!({
            "id": i.id, "matter_id": i.matter_id, "number": l.number, "title": l.title,
            "unit": n.unit(i.unit_id), "category": names::check_label(&i.category),
            "done": i.confirmed_at.is_some(), "by": n.person(i.confirmed_by),
            "at": i.confirmed_at, "can_confirm": can,
        }));
    }
    Ok(out)
}

async fn desk_data(st: &AppState, who: &Caller) -> AppResult<Value> {
    let n = Names::load(&st.app).await?;
    let counts = taizhang_app::ledger::desk::desk_counts(&st.app, who).await?;
    let mut lists = vec![desk_list(st, who, &n, "待签收", query(&["assigned"], 10)).await?];
    if is_reviewer(who) {
        let pending = [
            "pending_approval",
            "extension_pending",
            "stop_pending",
            "completion_pending",
        ];
        lists.push(desk_list(st, who, &n, "待审核", query(&pending, 10)).await?);
    }
    let day = today(&st.app);
    let (soon, _) = taizhang_app::ledger::calendar::add_workdays(&st.app, day, 3).await?;
    let mut due = query(list::HELD, 10);
    due.deadline_from = Some(day.to_string());
    due.deadline_to = Some(soon.to_string());
    lists.push(desk_list(st, who, &n, "即将到期（3个工作日内）", due).await?);
    let mut late = query(&[], 10);
    late.overdue = true;
    lists.push(desk_list(st, who, &n, "已超期", late).await?);
    let checks = check_items(st, who, &n).await?;
    let mut notices = Vec::new();
    for dn in taizhang_app::ledger::escalation::desk_notices(&st.app, who).await? {
        let mut v = json!(dn);
        v["signer"] = json!(n.person(Some(dn.notice.signer_id)));
        v["unit"] = json!(n.unit(dn.notice.unit_id));
        v["replier"] = json!(dn.notice.replied_by.map(|p| n.person(Some(p))));
        v["color_label"] = json!(
            taizhang_domain::escalation::NoticeColor::parse(&dn.notice.color)
                .map_or("督办单", |c| c.label_zh())
        );
        notices.push(v);
    }
    let today = day.to_string();
    Ok(json!({
        "counts": counts, "lists": lists, "checks": checks, "today": today, "notices": notices,
    }))
}

/// 工作台.
pub async fn desk(State(st): State<AppState>, Web(s): Web) -> Response {
    if s.caller.roles.iter().all(|r| r.is_admin_role()) {
        let page = PageCtx::new(&s, "/desk");
        return st
            .templates
            .render("desk.html", json!({"page": page, "admin_only": true}));
    }
    match desk_data(&st, &s.caller).await {
        Ok(mut data) => {
            data["page"] = json!(PageCtx::new(&s, "/desk"));
            st.templates.render("desk.html", data)
        }
        Err(e) => denied_page(&st, &s.caller, "/desk", &e).await,
    }
}

/// 已清查: confirm one item of today's list (an htmx fragment, or back to the desk).
pub async fn confirm_check(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    headers: HeaderMap,
    form: RawForm,
) -> Response {
    let pairs = form.pairs();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    };
    if !csrf_ok(&s, get("csrf")) {
        return page_error(&st, &AppError::Forbidden);
    }
    let r = daily::confirm_check_item(&st.app, &s.caller, id, get("action")).await;
    let htmx = headers.contains_key("hx-request");
    match (r, htmx) {
        (Ok(()), true) => st.templates.render(
            "matters/_check_done.html",
            json!({"by": s.caller.display_name, "ok": true}),
        ),
        (Ok(()), false) => Redirect::to("/desk").into_response(),
        (Err(e), true) if !matches!(e, AppError::Forbidden | AppError::NotFound(_)) => st
            .templates
            .render("matters/_check_done.html", json!({"error": e.to_string()})),
        (Err(e), _) => denied_page(&st, &s.caller, "/desk/checks", &e).await,
    }
}

/// The ledger filters as they arrive in the query string (empty means unset).
#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct LedgerParams {
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub leader: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub light: String,
    #[serde(default)]
    pub urgency: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub overdue: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub desc: String,
    #[serde(default)]
    pub page: String,
    /// `1`: only top-level matters (no 子事项).
    #[serde(default)]
    pub top: String,
    /// Only the 子事项 of this matter.
    #[serde(default)]
    pub parent: String,
}

fn some(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

impl LedgerParams {
    pub(crate) fn to_query(&self) -> MatterQuery {
        let sort = some(&self.sort).filter(|s| list::SORTS.iter().any(|(k, _)| k == s));
        MatterQuery {
            year: self.year.trim().parse().ok(),
            unit_id: self.unit.trim().parse().ok(),
            leader_id: self.leader.trim().parse().ok(),
            source: some(&self.source),
            statuses: some(&self.status).into_iter().collect(),
            light: some(&self.light),
            urgency: some(&self.urgency),
            overdue: self.overdue == "1",
            q: some(&self.q),
            deadline_from: some(&self.from),
            deadline_to: some(&self.to),
            sort,
            desc: self.desc == "1",
            page: self.page.trim().parse().unwrap_or(1).max(1),
            per_page: 50,
            parent_id: self.parent.trim().parse().ok(),
            top_only: self.top == "1",
        }
    }

    /// The query string of these filters without sort and page (for sort and page links).
    fn filters_qs(&self) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("year", &self.year),
            ("unit", &self.unit),
            ("leader", &self.leader),
            ("source", &self.source),
            ("status", &self.status),
            ("light", &self.light),
            ("urgency", &self.urgency),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
            ("overdue", &self.overdue),
            ("top", &self.top),
            ("parent", &self.parent),
        ] {
            if !v.trim().is_empty() {
                ser.append_pair(k, v.trim());
            }
        }
        ser.finish()
    }
}

/// 台账: the ledger table.
pub async fn list_page(
    State(st): State<AppState>,
    Web(s): Web,
    Query(p): Query<LedgerParams>,
) -> Response {
    render_list(&st, &s, &p, None).await
}

/// The ledger page for filters `p`, with a refusal of a 常用视图 change shown when given
/// (its message, and the view name as typed, kept in the box).
async fn render_list(
    st: &AppState,
    s: &SessionInfo,
    p: &LedgerParams,
    view_error: Option<(String, &str)>,
) -> Response {
    let (view_error, view_name) = view_error.unzip();
    let q = p.to_query();
    let n = match Names::load(&st.app).await {
        Ok(n) => n,
        Err(e) => return page_error(st, &e),
    };
    let (rows, total, error) = match list::list_matters(&st.app, &s.caller, &q).await {
        Ok(page) => match decorate(st, &n, &page).await {
            Ok(rows) => (crate::matter_edit::nest_children(rows), page.total, None),
            Err(e) => return page_error(st, &e),
        },
        Err(e @ AppError::Invalid { .. }) => (Vec::new(), 0, Some(e.to_string())),
        Err(e) => return denied_page(st, &s.caller, "/matters", &e).await,
    };
    let saved = match views::list_views(&st.app, &s.caller).await {
        Ok(v) => v,
        Err(e) => return page_error(st, &e),
    };
    // The current filters and sort (never the page), as a view would save them.
    let view_qs = serde_urlencoded::to_string(p)
        .ok()
        .and_then(|raw| views::normalize_query(&raw).ok())
        .unwrap_or_else(|| p.filters_qs());
    let pages = (total + 49) / 50;
    st.templates.render(
        "matters/index.html",
        json!({
            "page": PageCtx::new(s, "/matters"), "rows": rows, "total": total, "error": error,
            "p": p, "filters_qs": p.filters_qs(), "sort": q.sort.as_deref().unwrap_or("deadline"),
            "desc": q.desc, "page_no": q.page, "pages": pages, "first": (i64::from(q.page) - 1) * 50,
            "unit_options": n.units.options_html(&p.unit), "leaders": n.leader_opts, "sources": names::source_opts(),
            "statuses": names::status_opts(), "lights": names::light_opts(),
            "urgencies": names::urgency_opts(), "year_now": today(&st.app).year(),
            "can_create": s.caller.decide(Action::CreateMatter, None).is_allowed(),
            "can_import": s.caller.decide(Action::ImportLedger, None).is_allowed(),
            "can_export": s.caller.decide(Action::ExportLedger, None).is_allowed(),
            "views": saved, "view_qs": view_qs, "view_error": view_error, "view_name": view_name,
            "view_max_chars": views::NAME_MAX_CHARS,
            "can_save_view": s.caller.person_id.is_some()
                && !s.caller.roles.contains(&Role::Inspector),
        }),
    )
}

/// A 常用视图 change refused: the ledger page again (with the filters of `qs`), the reason and
/// the name that was typed.
async fn view_refused(
    st: &AppState,
    s: &SessionInfo,
    qs: &str,
    name: &str,
    e: &AppError,
) -> Response {
    if !matches!(e, AppError::Invalid { .. }) {
        return denied_page(st, &s.caller, "/matters/views", e).await;
    }
    let qs = qs.trim();
    let p: LedgerParams =
        serde_urlencoded::from_str(qs.strip_prefix('?').unwrap_or(qs)).unwrap_or_default();
    let page = render_list(st, s, &p, Some((e.to_string(), name))).await;
    (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// The fields of a posted form, with the CSRF token checked.
fn checked_form(s: &SessionInfo, form: &RawForm) -> Option<Vec<(String, String)>> {
    let pairs = form.pairs();
    let csrf = pairs
        .iter()
        .find(|(n, _)| n == "csrf")
        .map_or("", |(_, v)| v.as_str());
    csrf_ok(s, csrf).then_some(pairs)
}

fn field<'a>(pairs: &'a [(String, String)], k: &str) -> &'a str {
    pairs
        .iter()
        .find(|(n, _)| n == k)
        .map_or("", |(_, v)| v.as_str())
}

/// 保存当前视图: fields `name` and `query` (the ledger query string; re-validated).
pub async fn save_view(State(st): State<AppState>, Web(s): Web, form: RawForm) -> Response {
    let Some(f) = checked_form(&s, &form) else {
        return page_error(&st, &AppError::Forbidden);
    };
    let query = field(&f, "query");
    match views::save_view(&st.app, &s.caller, field(&f, "name"), query).await {
        Ok(v) if v.query.is_empty() => Redirect::to("/matters").into_response(),
        Ok(v) => Redirect::to(&format!("/matters?{}", v.query)).into_response(),
        Err(e) => view_refused(&st, &s, query, field(&f, "name"), &e).await,
    }
}

/// 删除视图: field `name`.
pub async fn delete_view(State(st): State<AppState>, Web(s): Web, form: RawForm) -> Response {
    let Some(f) = checked_form(&s, &form) else {
        return page_error(&st, &AppError::Forbidden);
    };
    match views::delete_view(&st.app, &s.caller, field(&f, "name")).await {
        Ok(()) => Redirect::to("/matters").into_response(),
        Err(e) => view_refused(&st, &s, "", "", &e).await,
    }
}
