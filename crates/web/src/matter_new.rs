//! 新建事项 (`/matters/new`, 督查专员): the 立项 form with unit pickers from the tree, a
//! working-day deadline helper (`/matters/deadline`, an htmx fragment) and a 节点 editor.
//! `/matters/new?parent={id}` is the same form for a 子事项, prefilled from the parent; the
//! edit page (`matter_edit`) renders this form too, so the three never drift apart.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;
use serde_json::json;
use taizhang_app::ledger::matters::{DeadlineInput, NewMilestone};
use taizhang_app::ledger::{NewMatter, create_matter, today};
use taizhang_app::{AppError, AppResult};
use taizhang_domain::feedback::FeedbackCycle;
use taizhang_domain::policy::Action;

use crate::AppState;
use crate::admin_pages::RawForm;
use crate::ctx::PageCtx;
use crate::error::page_error;
use crate::ledger_names::{self as names, Names};
use crate::matter_pages::refuse;
use crate::session::{Web, csrf_ok};

const CYCLES: &[&str] = &[
    "none",
    "weekly:5",
    "weekly:1",
    "monthly_workday:5",
    "monthly_day:25",
];

/// The submitted form: single values, and the repeated keys as lists.
#[derive(Debug, Default, serde::Serialize)]
pub(crate) struct Typed {
    pub(crate) one: BTreeMap<String, String>,
    pub(crate) many: BTreeMap<String, Vec<String>>,
}

impl Typed {
    pub(crate) fn from(form: &RawForm) -> Typed {
        let mut t = Typed::default();
        for (k, v) in form.pairs() {
            t.many.entry(k.clone()).or_default().push(v.clone());
            t.one.insert(k, v);
        }
        t
    }
    pub(crate) fn get(&self, k: &str) -> &str {
        self.one.get(k).map_or("", |s| s.as_str())
    }
    pub(crate) fn list(&self, k: &str) -> &[String] {
        self.many.get(k).map_or(&[], |v| v.as_slice())
    }
    pub(crate) fn set(&mut self, k: &str, v: impl Into<String>) {
        self.one.insert(k.to_owned(), v.into());
    }
    pub(crate) fn set_list(&mut self, k: &str, v: Vec<String>) {
        self.many.insert(k.to_owned(), v);
    }
}

/// The lead unit chosen on the form.
pub(crate) fn lead_unit_of(t: &Typed) -> AppResult<i64> {
    t.get("lead_unit_id")
        .parse()
        .map_err(|_| AppError::invalid("lead_unit_id", "unit_unknown", "请选择牵头单位"))
}

/// The deadline fields of the form.
pub(crate) fn deadline_of(t: &Typed) -> AppResult<DeadlineInput> {
    Ok(match t.get("deadline_mode") {
        "none" => DeadlineInput::None,
        "workdays" => match t.get("deadline_days").trim().parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => DeadlineInput::WorkingDays(n),
            _ => {
                return Err(AppError::invalid(
                    "deadline",
                    "workdays",
                    "工作日数应为 1–1000 的整数",
                ));
            }
        },
        _ => DeadlineInput::Date(t.get("deadline_date").to_owned()),
    })
}

/// The 节点 rows of the form: (id of an existing 节点 or `None`, title, date), blank rows left out.
pub(crate) fn milestone_rows(t: &Typed) -> Vec<(Option<i64>, String, String)> {
    let titles = t.list("ms_title");
    let dues = t.list("ms_due");
    let ids = t.list("ms_id");
    let blank = String::new();
    titles
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let d = dues.get(i).unwrap_or(&blank);
            let id = ids.get(i).and_then(|x| x.trim().parse::<i64>().ok());
            (id, a.clone(), d.clone())
        })
        .filter(|(_, a, b)| !a.trim().is_empty() || !b.trim().is_empty())
        .collect()
}

/// The 经办人 ticked on the form.
pub(crate) fn handlers_of(t: &Typed) -> Vec<i64> {
    t.list("handler")
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn to_input(t: &Typed) -> AppResult<NewMatter> {
    let lead = lead_unit_of(t)?;
    let deadline = deadline_of(t)?;
    let milestones = milestone_rows(t)
        .into_iter()
        .map(|(_, a, b)| NewMilestone {
            title: a,
            due_on: b,
            owner_id: None,
        })
        .collect();
    let mut m = NewMatter::basic(t.get("title"), lead, deadline);
    m.content = t.get("content").into();
    m.source_category = t.get("source_category").into();
    m.source_doc = t.get("source_doc").into();
    m.lead_leader_id = t.get("lead_leader_id").parse().ok();
    m.assisting_unit_ids = t
        .list("assisting")
        .iter()
        .filter_map(|u| u.parse().ok())
        .collect();
    m.urgency = t.get("urgency").into();
    m.major = t.get("major") == "1";
    m.feedback_cycle = t.get("feedback_cycle").into();
    m.remarks = t.get("remarks").into();
    m.handler_ids = handlers_of(t);
    m.milestones = milestones;
    m.parent_id = t.get("parent_id").trim().parse().ok();
    Ok(m)
}

/// Render the 立项 form with what was typed and the error next to its field.
async fn form(
    st: &AppState,
    s: &taizhang_app::identity::SessionInfo,
    t: &Typed,
    err: Option<&AppError>,
) -> Response {
    let parent: Option<i64> = t.get("parent_id").trim().parse().ok();
    let extra = match parent {
        Some(pid) => match taizhang_app::ledger::get_matter(&st.app, &s.caller, pid).await {
            Ok(d) => json!({
                "parent": {"id": pid, "number": d.matter.row.number, "title": d.matter.row.title,
                           "deadline": d.matter.row.deadline},
                "action": "/matters/new", "cancel": format!("/matters/{pid}"),
            }),
            Err(e) => return refuse(st, &s.caller, "/matters/new", &e).await,
        },
        None => json!({"action": "/matters/new", "cancel": "/matters"}),
    };
    render_form(st, s, t, err, extra).await
}

/// Render `matters/new.html` (立项, 子事项 or 编辑, as `extra` says: `action`, `cancel`, `mode`,
/// `parent`, `locked_*`, `handler_opts`, `done_ms`) with the typed values and the error.
pub(crate) async fn render_form(
    st: &AppState,
    s: &taizhang_app::identity::SessionInfo,
    t: &Typed,
    err: Option<&AppError>,
    extra: Value,
) -> Response {
    let n = match Names::load(&st.app).await {
        Ok(n) => n,
        Err(e) => return page_error(st, &e),
    };
    // A refusal that names no field shows at the top ("_").
    let (field, message) = crate::error::form_error(err);
    let field = field.or_else(|| message.as_ref().map(|_| "_".to_owned()));
    let cycles: Vec<names::Opt> = CYCLES
        .iter()
        .filter_map(|c| FeedbackCycle::parse(c).ok().map(|fc| (c, fc)))
        .map(|(c, fc)| names::Opt {
            value: (*c).to_owned(),
            label: fc.label_zh(),
        })
        .collect();
    let status = if err.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let ms: Vec<Value> = milestone_rows(t)
        .into_iter()
        .map(|(id, title, due)| json!({"id": id, "title": title, "due": due}))
        .collect();
    let mut ctx = json!({
        "page": PageCtx::new(s, "/matters"), "v": t.one, "assisting": t.list("assisting"),
        "handlers": t.list("handler"),
        "ms": ms, "err_field": field, "err_msg": message,
        "units": n.units.opts, "leaders": n.leader_opts, "sources": names::source_opts(),
        "urgencies": names::urgency_opts(), "cycles": cycles, "today": today(&st.app).to_string(),
    });
    if let (Value::Object(c), Value::Object(x)) = (&mut ctx, extra) {
        c.extend(x);
    }
    st.templates.render_status(status, "matters/new.html", ctx)
}

#[derive(Debug, Default, Deserialize)]
pub struct NewParams {
    /// 新建子事项 under this matter.
    #[serde(default)]
    parent: String,
}

/// 新建事项 form; with `?parent=`, the 新建子事项 form prefilled from the parent.
pub async fn new_form(
    State(st): State<AppState>,
    Web(s): Web,
    Query(p): Query<NewParams>,
) -> Response {
    if let Ok(pid) = p.parent.trim().parse::<i64>() {
        return sub_form(&st, &s, pid).await;
    }
    if let Err(e) = s.caller.require(Action::CreateMatter, None) {
        return refuse(&st, &s.caller, "/matters/new", &e).await;
    }
    let mut t = Typed::default();
    for (k, v) in [
        ("deadline_mode", "date"),
        ("urgency", "normal"),
        ("feedback_cycle", "weekly:5"),
        ("source_category", "leader_instruction"),
    ] {
        t.one.insert(k.into(), v.into());
    }
    form(&st, &s, &t, None).await
}

/// 新建子事项: offered only where the matter page offers it; inherits 来源, 来源文件, 牵头领导,
/// 反馈周期 and (as the latest allowed) the deadline of the parent.
async fn sub_form(st: &AppState, s: &taizhang_app::identity::SessionInfo, pid: i64) -> Response {
    let what = format!("/matters/new?parent={pid}");
    let d = match taizhang_app::ledger::get_matter(&st.app, &s.caller, pid).await {
        Ok(d) => d,
        Err(e) => return refuse(st, &s.caller, &what, &e).await,
    };
    let offered =
        taizhang_app::ledger::actions::find("new_sub").is_some_and(|a| a.offered(&s.caller, &d));
    if !offered {
        return refuse(st, &s.caller, &what, &AppError::Forbidden).await;
    }
    let m = &d.matter.row;
    let mut t = Typed::default();
    t.set("parent_id", pid.to_string());
    t.set("source_category", m.source_category.clone());
    t.set("source_doc", m.source_doc.clone());
    t.set("feedback_cycle", m.feedback_cycle.clone());
    t.set("urgency", m.urgency.clone());
    if let Some(l) = m.lead_leader_id {
        t.set("lead_leader_id", l.to_string());
    }
    t.set("lead_unit_id", m.lead_unit_id.to_string());
    match &m.deadline {
        Some(dl) => {
            t.set("deadline_mode", "date");
            t.set("deadline_date", dl.clone());
        }
        None => t.set("deadline_mode", "date"),
    }
    form(st, s, &t, None).await
}

/// 立项: create the draft and go to its page, or show the form again with the error.
pub async fn create(State(st): State<AppState>, Web(s): Web, raw: RawForm) -> Response {
    let t = Typed::from(&raw);
    if !csrf_ok(&s, t.get("csrf")) {
        return page_error(&st, &AppError::Forbidden);
    }
    let r = match to_input(&t) {
        Ok(input) => create_matter(&st.app, &s.caller, input).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(id) => Redirect::to(&format!("/matters/{id}")).into_response(),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            form(&st, &s, &t, Some(&e)).await
        }
        Err(e) => refuse(&st, &s.caller, "/matters/new", &e).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct DaysParam {
    #[serde(default)]
    deadline_days: String,
}

/// The deadline helper: the date N working days from today, and a warning when the date lies
/// past the published holiday calendar (an htmx fragment).
pub async fn deadline_helper(
    State(st): State<AppState>,
    Web(_s): Web,
    Query(p): Query<DaysParam>,
) -> Response {
    let ctx = match p.deadline_days.trim().parse::<u32>() {
        Ok(n) if (1..=1000).contains(&n) => {
            let start = today(&st.app);
            match taizhang_app::ledger::calendar::add_workdays(&st.app, start, n).await {
                Ok((d, provisional)) => json!({
                    "n": n, "date": d.to_string(), "weekday": weekday_zh(d),
                    "provisional": provisional,
                }),
                Err(e) => json!({"error": e.to_string()}),
            }
        }
        _ => json!({"error": "请输入 1–1000 的工作日数"}),
    };
    st.templates.render("matters/_deadline.html", ctx)
}

fn weekday_zh(d: jiff::civil::Date) -> &'static str {
    ["一", "二", "三", "四", "五", "六", "日"]
        .get(usize::try_from(d.weekday().to_monday_one_offset() - 1).unwrap_or(0))
        .copied()
        .unwrap_or("")
}
