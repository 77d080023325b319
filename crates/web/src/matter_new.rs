//! 新建事项 (`/matters/new`, 督查专员): the 立项 form with unit pickers from the tree, a
//! working-day deadline helper (`/matters/deadline`, an htmx fragment) and a 节点 editor.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
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
struct Typed {
    one: BTreeMap<String, String>,
    many: BTreeMap<String, Vec<String>>,
}

impl Typed {
    fn from(form: &RawForm) -> Typed {
        let mut t = Typed::default();
        for (k, v) in form.pairs() {
            t.many.entry(k.clone()).or_default().push(v.clone());
            t.one.insert(k, v);
        }
        t
    }
    fn get(&self, k: &str) -> &str {
        self.one.get(k).map_or("", |s| s.as_str())
    }
    fn list(&self, k: &str) -> &[String] {
        self.many.get(k).map_or(&[], |v| v.as_slice())
    }
}

fn to_input(t: &Typed) -> AppResult<NewMatter> {
    let lead: i64 = t
        .get("lead_unit_id")
        .parse()
        .map_err(|_| AppError::invalid("lead_unit_id", "unit_unknown", "请选择牵头单位"))?;
    let deadline = match t.get("deadline_mode") {
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
    };
    let titles = t.list("ms_title");
    let dues = t.list("ms_due");
    let milestones = titles
        .iter()
        .zip(dues.iter().chain(std::iter::repeat(&String::new())))
        .filter(|(a, b)| !a.trim().is_empty() || !b.trim().is_empty())
        .map(|(a, b)| NewMilestone {
            title: a.clone(),
            due_on: b.clone(),
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
    m.milestones = milestones;
    Ok(m)
}

/// Render the form with what was typed and the error next to its field.
async fn form(
    st: &AppState,
    s: &taizhang_app::identity::SessionInfo,
    t: &Typed,
    err: Option<&AppError>,
) -> Response {
    let n = match Names::load(&st.app).await {
        Ok(n) => n,
        Err(e) => return page_error(st, &e),
    };
    let (field, message) = match err {
        Some(AppError::Invalid {
            field: Some(f),
            message,
            ..
        }) => (Some(f.clone()), Some(message.clone())),
        Some(e) => (Some("_".into()), Some(e.to_string())),
        None => (None, None),
    };
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
    let ms: Vec<(String, String)> = t
        .list("ms_title")
        .iter()
        .cloned()
        .zip(t.list("ms_due").iter().cloned())
        .collect();
    st.templates.render_status(
        status,
        "matters/new.html",
        json!({
            "page": PageCtx::new(s, "/matters"), "v": t.one, "assisting": t.list("assisting"),
            "ms": ms, "err_field": field, "err_msg": message,
            "units": n.unit_opts, "leaders": n.leader_opts, "sources": names::source_opts(),
            "urgencies": names::urgency_opts(), "cycles": cycles, "today": today(&st.app).to_string(),
        }),
    )
}

/// 新建事项 form.
pub async fn new_form(State(st): State<AppState>, Web(s): Web) -> Response {
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
