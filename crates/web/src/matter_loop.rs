//! The closed loop's record-level steps on the 事项 page: the 书面回复 to a 督办单, 采纳 / 退回
//! of a 进展反馈 and 完成 of a 节点. Each is a small form next to its record, offered only to
//! whom the policy (and the record's state) allows; the use case checks both again. A refusal
//! shows the page again with the message next to the form and the typed text kept.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use serde_json::{Value, json};
use taizhang_app::ledger::MatterDetail;
use taizhang_app::ledger::actions::target_of_detail;
use taizhang_app::ledger::escalation::{self, may_answer};
use taizhang_app::ledger::progress::{self, milestones_open_in};
use taizhang_app::{AppError, AppResult, Caller};
use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::policy::Action;

use crate::AppState;
use crate::admin_pages::RawForm;
use crate::error::page_error;
use crate::ledger_names::Names;
use crate::session::{Web, csrf_ok};

/// A refused inline form: the record it belongs to (`report-3`, `notice-2`, `milestone-5`),
/// the message, and the text that was typed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InlineError {
    pub at: String,
    pub message: String,
    pub text: String,
}

/// Who marked a 节点 done, and the note: the newest `milestone_done` timeline row naming it
/// (`标题` or `标题：说明`).
fn done_by(d: &MatterDetail, n: &Names, title: &str) -> Option<(String, String, i64)> {
    let prefix = format!("{title}：");
    d.events
        .iter()
        .rev()
        .filter(|e| e.kind == "milestone_done")
        .find_map(|e| {
            let note = if e.note == title {
                Some(String::new())
            } else {
                e.note.strip_prefix(&prefix).map(str::to_owned)
            }?;
            Some((n.person(e.actor_id), note, e.at_ms))
        })
}

/// Add to the matter page's context what each record offers `who`: `can_review` on reports,
/// `can_answer` and the replier on notices, `can_complete` and who completed on 节点.
pub fn decorate(ctx: &mut Value, who: &Caller, d: &MatterDetail, n: &Names) {
    let target = target_of_detail(d);
    let running = MatterStatus::parse(&d.matter.row.status).is_some_and(milestones_open_in);
    let may_review = who
        .decide(Action::ReviewProgress, Some(&target))
        .is_allowed();
    let may_report = who
        .decide(Action::ReportProgress, Some(&target))
        .is_allowed();
    if let Some(rows) = ctx["reports"].as_array_mut() {
        for (v, r) in rows.iter_mut().zip(&d.reports) {
            v["can_review"] = json!(may_review && r.status == "submitted");
            v["reviewer"] = json!(r.reviewed_by.map(|p| n.person(Some(p))));
        }
    }
    if let Some(rows) = ctx["notices"].as_array_mut() {
        for (v, nt) in rows.iter_mut().zip(&d.notices) {
            v["can_answer"] = json!(may_answer(who, nt, &target));
            v["replier"] = json!(nt.replied_by.map(|p| n.person(Some(p))));
            v["unit"] = json!(n.unit(nt.unit_id));
        }
    }
    if let Some(rows) = ctx["milestones"].as_array_mut() {
        for (v, ms) in rows.iter_mut().zip(&d.milestones) {
            let done = ms.row.done_on.is_some();
            v["can_complete"] = json!(!done && running && may_report);
            if done && let Some((by, note, at)) = done_by(d, n, &ms.row.title) {
                v["done_by"] = json!(by);
                v["done_note"] = json!(note);
                v["done_at"] = json!(at);
            }
        }
    }
}

type Fields = BTreeMap<String, String>;

fn field<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).map_or("", String::as_str)
}

/// The submitted form, if its CSRF token is the session's.
fn checked(s: &taizhang_app::identity::SessionInfo, form: &RawForm) -> Option<Fields> {
    let f: Fields = form.pairs().into_iter().collect();
    csrf_ok(s, field(&f, "csrf")).then_some(f)
}

/// Back to the matter (or the 工作台 the form was sent from), or the page with the refusal.
async fn answer(
    st: &AppState,
    s: &taizhang_app::identity::SessionInfo,
    id: i64,
    at: String,
    text: &str,
    back: &str,
    r: AppResult<()>,
) -> Response {
    match r {
        Ok(()) if back == "desk" => Redirect::to("/desk#notices").into_response(),
        Ok(()) => Redirect::to(&format!("/matters/{id}#{at}")).into_response(),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            let err = InlineError {
                at,
                message: e.to_string(),
                text: text.to_owned(),
            };
            crate::matter_pages::render_show(st, s, id, Some(err)).await
        }
        Err(e) => {
            let what = format!("/matters/{id}/{at}");
            crate::matter_pages::refuse(st, &s.caller, &what, &e).await
        }
    }
}

/// `POST /matters/{id}/notices/{nid}/answer`: the lead unit's 书面回复 to a 督办单.
pub async fn answer_notice(
    State(st): State<AppState>,
    Web(s): Web,
    Path((id, nid)): Path<(i64, i64)>,
    form: RawForm,
) -> Response {
    let Some(f) = checked(&s, &form) else {
        return page_error(&st, &AppError::Forbidden);
    };
    let reply = field(&f, "reply");
    let r = escalation::answer_notice(&st.app, &s.caller, nid, reply).await;
    answer(
        &st,
        &s,
        id,
        format!("notice-{nid}"),
        reply,
        field(&f, "back"),
        r,
    )
    .await
}

/// `POST /matters/{id}/reports/{rid}/review`: 采纳 (`decision=accept`) or 退回 with a reason.
pub async fn review_report(
    State(st): State<AppState>,
    Web(s): Web,
    Path((id, rid)): Path<(i64, i64)>,
    form: RawForm,
) -> Response {
    let Some(f) = checked(&s, &form) else {
        return page_error(&st, &AppError::Forbidden);
    };
    let note = field(&f, "note");
    let r = match field(&f, "decision") {
        "accept" => progress::review_progress(&st.app, &s.caller, rid, true, note).await,
        "return" => progress::review_progress(&st.app, &s.caller, rid, false, note).await,
        _ => Err(AppError::invalid(
            "decision",
            "unknown_code",
            "请选择采纳或退回",
        )),
    };
    answer(&st, &s, id, format!("report-{rid}"), note, "", r).await
}

/// `POST /matters/{id}/milestones/{mid}/done`: mark a 节点 done today, with an optional note.
pub async fn complete_milestone(
    State(st): State<AppState>,
    Web(s): Web,
    Path((id, mid)): Path<(i64, i64)>,
    form: RawForm,
) -> Response {
    let Some(f) = checked(&s, &form) else {
        return page_error(&st, &AppError::Forbidden);
    };
    let note = field(&f, "note");
    let r = progress::complete_milestone(&st.app, &s.caller, id, mid, note).await;
    answer(&st, &s, id, format!("milestone-{mid}"), note, "", r).await
}
