//! 编辑事项 (`/matters/{id}/edit`): the 立项 form (`matters/new.html`, shared with
//! `matter_new`) prefilled from the matter, with what may no longer change shown read-only —
//! the deadline once assigned (延期 moves it), the lead unit once signed for — and finished
//! 节点 kept out of the editor. The form carries the version it was read at; a stale save is
//! refused with the form kept as typed.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};
use taizhang_app::AppError;
use taizhang_app::identity::SessionInfo;
use taizhang_app::ledger::edit::{self, MatterEdit, MilestoneEdit};
use taizhang_app::ledger::{MatterDetail, get_matter};
use taizhang_domain::lifecycle::MatterStatus;

use crate::AppState;
use crate::admin_pages::RawForm;
use crate::matter_new::{
    Typed, deadline_of, handlers_of, lead_unit_of, milestone_rows, render_form,
};
use crate::matter_pages::refuse;
use crate::session::{Web, csrf_ok};

/// What the edit form locks for a matter in `status`: (deadline, lead unit).
fn locks(status: MatterStatus) -> (bool, bool) {
    let pre = matches!(status, MatterStatus::Draft | MatterStatus::PendingApproval);
    (!pre, !pre && status != MatterStatus::Assigned)
}

/// The matter as form values.
fn typed_of(d: &MatterDetail) -> Typed {
    let m = &d.matter.row;
    let mut t = Typed::default();
    t.set("version", m.version.to_string());
    t.set("title", m.title.clone());
    t.set("content", m.content.clone());
    t.set("source_category", m.source_category.clone());
    t.set("source_doc", m.source_doc.clone());
    if let Some(l) = m.lead_leader_id {
        t.set("lead_leader_id", l.to_string());
    }
    t.set("lead_unit_id", m.lead_unit_id.to_string());
    let mode = match (m.deadline_kind.as_str(), m.deadline_workdays) {
        ("workdays", Some(n)) if m.deadline.is_none() => {
            t.set("deadline_days", n.to_string());
            "workdays"
        }
        ("none", _) => "none",
        // "N日内" (from the API) has no radio of its own: nothing ticked keeps it as it is.
        ("calendar_days", Some(_)) if m.deadline.is_none() => "",
        _ => "date",
    };
    t.set("deadline_mode", mode);
    t.set("deadline_date", m.deadline.clone().unwrap_or_default());
    t.set("urgency", m.urgency.clone());
    if m.major {
        t.set("major", "1");
    }
    t.set("feedback_cycle", m.feedback_cycle.clone());
    t.set("remarks", m.remarks.clone());
    t.set_list(
        "assisting",
        d.assisting_unit_ids.iter().map(i64::to_string).collect(),
    );
    t.set_list(
        "handler",
        d.handler_ids.iter().map(i64::to_string).collect(),
    );
    let open: Vec<_> = d
        .milestones
        .iter()
        .filter(|x| x.row.done_on.is_none())
        .collect();
    t.set_list("ms_id", open.iter().map(|x| x.row.id.to_string()).collect());
    t.set_list(
        "ms_title",
        open.iter().map(|x| x.row.title.clone()).collect(),
    );
    t.set_list(
        "ms_due",
        open.iter().map(|x| x.row.due_on.clone()).collect(),
    );
    t
}

/// The edit page's own context: locks, 经办人 choices, finished 节点, where to go back.
async fn extra_of(st: &AppState, d: &MatterDetail) -> Result<Value, AppError> {
    let m = &d.matter.row;
    let status = MatterStatus::parse(&m.status).unwrap_or(MatterStatus::Draft);
    let (locked_deadline, locked_lead) = locks(status);
    let mut units = vec![m.lead_unit_id];
    units.extend(d.assisting_unit_ids.iter().copied());
    let mut c = st.app.store.read().await?;
    let mut people = taizhang_store::matter_parts::people_of_units(&mut c, &units).await?;
    drop(c);
    let n = crate::ledger_names::Names::load(&st.app).await?;
    for h in &d.handler_ids {
        if !people.iter().any(|(p, _, _)| p == h) {
            people.push((*h, n.person(Some(*h)), 0));
        }
    }
    let handler_opts: Vec<Value> = people
        .iter()
        .map(|(id, name, unit)| {
            let label = if *unit == 0 {
                name.clone()
            } else {
                format!("{name}（{}）", n.unit(*unit))
            };
            json!({"value": id.to_string(), "label": label})
        })
        .collect();
    let done: Vec<Value> = d
        .milestones
        .iter()
        .filter(|x| x.row.done_on.is_some())
        .map(|x| json!({"title": x.row.title, "due": x.row.due_on, "done_on": x.row.done_on}))
        .collect();
    Ok(json!({
        "mode": "edit", "action": format!("/matters/{}/edit", m.id),
        "cancel": format!("/matters/{}", m.id), "matter": {"id": m.id, "number": m.number,
            "status_label": d.matter.status_label, "deadline": m.deadline, "lead_unit": n.unit(m.lead_unit_id)},
        "locked_deadline": locked_deadline, "locked_lead": locked_lead,
        "handler_opts": handler_opts, "done_ms": done,
        "parent": d.parent,
    }))
}

/// Load the matter for editing, refusing (audited, 404 out of scope) when 编辑 is not offered.
async fn open(st: &AppState, s: &SessionInfo, id: i64) -> Result<MatterDetail, Response> {
    let what = format!("/matters/{id}/edit");
    let d = match get_matter(&st.app, &s.caller, id).await {
        Ok(d) => d,
        Err(e) => return Err(refuse(st, &s.caller, &what, &e).await),
    };
    if !edit::may_edit(&s.caller, &d) {
        return Err(refuse(st, &s.caller, &what, &AppError::Forbidden).await);
    }
    Ok(d)
}

async fn show_form(
    st: &AppState,
    s: &SessionInfo,
    d: &MatterDetail,
    t: &Typed,
    err: Option<&AppError>,
) -> Response {
    match extra_of(st, d).await {
        Ok(extra) => render_form(st, s, t, err, extra).await,
        Err(e) => crate::error::page_error(st, &e),
    }
}

/// 编辑 form.
pub async fn edit_form(State(st): State<AppState>, Web(s): Web, Path(id): Path<i64>) -> Response {
    match open(&st, &s, id).await {
        Ok(d) => show_form(&st, &s, &d, &typed_of(&d), None).await,
        Err(r) => r,
    }
}

/// The edit asked for by the form (what is locked is left out, so it stays as it is).
fn edit_of(t: &Typed, locked_deadline: bool, locked_lead: bool) -> Result<MatterEdit, AppError> {
    let milestones = milestone_rows(t)
        .into_iter()
        .map(|(id, title, due_on)| MilestoneEdit {
            id,
            title,
            due_on,
            owner_id: None,
        })
        .collect();
    Ok(MatterEdit {
        title: Some(t.get("title").into()),
        content: Some(t.get("content").into()),
        source_category: Some(t.get("source_category").into()),
        source_doc: Some(t.get("source_doc").into()),
        lead_leader_id: Some(t.get("lead_leader_id").trim().parse().ok()),
        lead_unit_id: if locked_lead {
            None
        } else {
            Some(lead_unit_of(t)?)
        },
        assisting_unit_ids: Some(
            t.list("assisting")
                .iter()
                .filter_map(|u| u.parse().ok())
                .collect(),
        ),
        handler_ids: (t.get("handlers_shown") == "1").then(|| handlers_of(t)),
        deadline: if locked_deadline || t.get("deadline_mode").is_empty() {
            None
        } else {
            Some(deadline_of(t)?)
        },
        urgency: Some(t.get("urgency").into()),
        major: Some(t.get("major") == "1"),
        feedback_cycle: Some(t.get("feedback_cycle").into()),
        remarks: Some(t.get("remarks").into()),
        milestones: Some(milestones),
    })
}

/// Save the edit; back to the matter, or the form again (422) with the error and what was typed.
pub async fn edit_submit(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    raw: RawForm,
) -> Response {
    let t = Typed::from(&raw);
    if !csrf_ok(&s, t.get("csrf")) {
        return crate::error::page_error(&st, &AppError::Forbidden);
    }
    let d = match open(&st, &s, id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let status = MatterStatus::parse(&d.matter.row.status).unwrap_or(MatterStatus::Draft);
    let (locked_deadline, locked_lead) = locks(status);
    let version: i64 = t.get("version").trim().parse().unwrap_or(-1);
    let r = match edit_of(&t, locked_deadline, locked_lead) {
        Ok(e) => edit::edit_matter(&st.app, &s.caller, id, version, e).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => Redirect::to(&format!("/matters/{id}")).into_response(),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            show_form(&st, &s, &d, &t, Some(&e)).await
        }
        Err(e) => refuse(&st, &s.caller, &format!("/matters/{id}/edit"), &e).await,
    }
}

/// The page of a matter-page step that is not a small step form: 编辑, 新建子事项.
pub fn page_of(code: &str, id: i64) -> Option<String> {
    match code {
        "edit" => Some(format!("/matters/{id}/edit")),
        "new_sub" => Some(format!("/matters/new?parent={id}")),
        _ => None,
    }
}

/// The 父事项 link and the 子事项 table of the matter page.
pub fn family_ctx(ctx: &mut Value, d: &MatterDetail, n: &crate::ledger_names::Names) {
    ctx["parent"] = json!(d.parent);
    let children: Vec<Value> = d.children.iter().map(|k| n.row(k, &[])).collect();
    ctx["children"] = json!(children);
}

/// Mark a ledger row: `parent_number` for a 子事项, `child_count` for a matter with 子事项.
pub fn family_marks(
    row: &mut Value,
    v: &taizhang_app::ledger::MatterView,
    numbers: &[(i64, String)],
    counts: &[(i64, i64)],
) {
    if let Some(pid) = v.row.parent_id {
        let number = numbers.iter().find(|(i, _)| *i == pid).map(|(_, n)| n);
        row["parent_number"] = json!(number);
    }
    let kids = counts
        .iter()
        .find(|(i, _)| *i == v.row.id)
        .map_or(0, |(_, n)| *n);
    row["child_count"] = json!(kids);
}

/// Put each 子事项 right under its parent when both are on the page (marked `nested`, for the
/// indentation); the page's order is kept otherwise. In memory, on at most a page of rows.
pub fn nest_children(rows: Vec<Value>) -> Vec<Value> {
    let id_of = |v: &Value| v["id"].as_i64();
    let on_page: std::collections::BTreeSet<i64> = rows.iter().filter_map(id_of).collect();
    let parent_here = |v: &Value| v["parent_id"].as_i64().filter(|p| on_page.contains(p));
    let (kids, tops): (Vec<Value>, Vec<Value>) =
        rows.into_iter().partition(|v| parent_here(v).is_some());
    let mut out = Vec::with_capacity(tops.len() + kids.len());
    for t in tops {
        let id = id_of(&t);
        out.push(t);
        for k in kids.iter().filter(|k| k["parent_id"].as_i64() == id) {
            let mut k = k.clone();
            k["nested"] = json!(true);
            out.push(k);
        }
    }
    out
}
