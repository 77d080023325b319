//! 事项 (`/matters/{id}`): the header, the whole timeline, 节点, reports, extensions, 督办单
//! and 问效, with the steps this user may take now; and each step's form
//! (`/matters/{id}/act/{code}`), re-rendered with the typed values on an error.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};
use taizhang_app::ledger::actions::{self, MatterAction};
use taizhang_app::ledger::{MatterDetail, get_matter};
use taizhang_app::{AppError, Caller};
use taizhang_domain::escalation::NoticeColor;

use crate::AppState;
use crate::admin_pages::RawForm;
use crate::ctx::PageCtx;
use crate::error::page_error;
use crate::ledger_names::{Names, event_label};
use crate::matter_forms::{self, Values};
use crate::session::{Web, csrf_ok};

/// Refuse, auditing the refusal: a matter out of scope answers like a missing one (404), and
/// both are recorded as `denied`, so probing ids leaves a trail.
pub async fn refuse(st: &AppState, who: &Caller, what: &str, e: &AppError) -> Response {
    // A missing id is audited like an out-of-scope one (and counts towards the probing alert).
    let as_denial = match e {
        AppError::NotFound(_) => &AppError::OutOfScope,
        other => other,
    };
    crate::error::audit_denial(st, who, what, as_denial).await;
    page_error(st, e)
}

fn named_rows<T: serde::Serialize>(rows: &[T], n: &Names, keys: &[(&str, &str)]) -> Vec<Value> {
    rows.iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
            for (id_key, name_key) in keys {
                let id = v.get(*id_key).and_then(Value::as_i64);
                v[*name_key] = json!(n.person(id));
            }
            v
        })
        .collect()
}

/// The template context of a matter: the decorated record and the names in it.
fn detail_ctx(d: &MatterDetail, n: &Names) -> Value {
    let events: Vec<Value> = d
        .events
        .iter()
        .map(|e| {
            // Report ids are for the audit trail, not for readers of the timeline; the review
            // note after one (`report=7 理由`) is.
            let note = match e.note.strip_prefix("report=") {
                Some(rest) => rest.split_once(' ').map_or("", |(_, n)| n.trim()),
                None => e.note.as_str(),
            };
            json!({"at": e.at_ms, "who": n.person(e.actor_id), "what": event_label(&e.kind),
                   "kind": e.kind, "note": note})
        })
        .collect();
    let notices: Vec<Value> = named_rows(&d.notices, n, &[("signer_id", "signer")])
        .into_iter()
        .map(|mut v| {
            let color = v["color"].as_str().and_then(NoticeColor::parse);
            v["color_label"] = json!(color.map_or("督办单", |c| c.label_zh()));
            v
        })
        .collect();
    json!({
        "m": n.row(&d.matter, &d.assisting_unit_ids),
        "events": events,
        "milestones": d.milestones,
        "reports": named_rows(&d.reports, n, &[("reporter_id", "reporter")]),
        "extensions": named_rows(&d.extensions, n, &[("requested_by", "requester"), ("decided_by", "decider")]),
        "urges": named_rows(&d.urges, n, &[("by_id", "by")]),
        "notices": notices,
        "effects": named_rows(&d.effects, n, &[("reviewer_id", "reviewer")]),
        "proposal": d.proposal.map(|p| p.label_zh()),
        "handlers": d.handler_ids.iter().map(|p| n.person(Some(*p))).collect::<Vec<_>>(),
    })
}

/// 事项 page.
pub async fn show(State(st): State<AppState>, Web(s): Web, Path(id): Path<i64>) -> Response {
    render_show(&st, &s, id, None).await
}

/// The 事项 page; with `inline`, a refused record-level form (督办单回复, 进展审核, 节点完成)
/// shown next to its record (422).
pub async fn render_show(
    st: &AppState,
    s: &taizhang_app::identity::SessionInfo,
    id: i64,
    inline: Option<crate::matter_loop::InlineError>,
) -> Response {
    let what = format!("/matters/{id}");
    let d = match get_matter(&st.app, &s.caller, id).await {
        Ok(d) => d,
        Err(e) => return refuse(st, &s.caller, &what, &e).await,
    };
    let n = match Names::load(&st.app).await {
        Ok(n) => n,
        Err(e) => return page_error(st, &e),
    };
    let mut ctx = detail_ctx(&d, &n);
    let offered: Vec<Value> = actions::actions_for(&s.caller, &d)
        .into_iter()
        .map(|a| json!({"code": a.code, "label": crate::i18n::action_label(a.code, a.label),
            "direct": matter_forms::fields(a.code).is_empty() && crate::matter_edit::page_of(a.code, id).is_none()}))
        .collect();
    ctx["actions"] = json!(offered);
    crate::matter_edit::family_ctx(&mut ctx, &d, &n);
    ctx["page"] = json!(PageCtx::new(s, "/matters"));
    ctx["att"] = crate::attachment_pages::section(st, &s.caller, &d, &n).await;
    crate::matter_loop::decorate(&mut ctx, &s.caller, &d, &n);
    ctx["carried_to"] = json!(
        d.carried_to
            .iter()
            .map(|(i, num)| json!({"id": i, "number": num}))
            .collect::<Vec<_>>()
    );
    let status = if inline.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    ctx["inline_error"] = json!(inline);
    st.templates.render_status(status, "matters/show.html", ctx)
}

/// Load the matter and the step, refusing a step this user may not take now.
async fn open(
    st: &AppState,
    who: &Caller,
    id: i64,
    code: &str,
) -> Result<(MatterDetail, &'static MatterAction), Response> {
    let what = format!("/matters/{id}/act/{code}");
    let d = match get_matter(&st.app, who, id).await {
        Ok(d) => d,
        Err(e) => return Err(refuse(st, who, &what, &e).await),
    };
    let Some(a) = actions::find(code) else {
        return Err(page_error(st, &AppError::NotFound("操作".into())));
    };
    if !a.offered(who, &d) {
        return Err(refuse(st, who, &what, &AppError::Forbidden).await);
    }
    Ok((d, a))
}

/// Render a step's form with the values typed so far and the error next to its field.
fn form_page(
    st: &AppState,
    s: &taizhang_app::identity::SessionInfo,
    (d, a): (&MatterDetail, &MatterAction),
    vals: &Values,
    err: Option<&AppError>,
) -> Response {
    let fields = matter_forms::fields(a.code);
    let (mut field_err, mut general) = (None, None);
    if let Some(e) = err {
        let named = match e {
            AppError::Invalid {
                field: Some(f),
                message,
                ..
            } => {
                let f = fields
                    .iter()
                    .find(|x| x.name == f)
                    .or_else(|| {
                        (f == "reason")
                            .then(|| {
                                fields
                                    .iter()
                                    .rev()
                                    .find(|x| matches!(x.kind, matter_forms::Kind::Area))
                            })
                            .flatten()
                    })
                    .map(|x| x.name);
                f.map(|f| (f, message.clone()))
            }
            _ => None,
        };
        match named {
            Some(x) => field_err = Some(x),
            None => general = Some(e.to_string()),
        }
    }
    let status = if err.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let (ef, em) = field_err.unzip();
    let back = back_of(vals.get("back").map(String::as_str));
    st.templates.render_status(
        status,
        "matters/act.html",
        json!({
            "page": PageCtx::new(s, "/matters"), "m": d.matter, "a": a, "fields": fields,
            "values": vals, "err_field": ef, "err_msg": em, "error": general,
            "back": back, "back_href": back_href(back, &d.matter.row),
        }),
    )
}

/// Where a step form returns to: the matter (default) or the 年度归零 page it was opened from.
fn back_of(asked: Option<&str>) -> &'static str {
    match asked {
        Some("year-close") => "year-close",
        _ => "",
    }
}

fn back_href(back: &str, m: &taizhang_store::matters::MatterRow) -> String {
    match back {
        "year-close" => format!("/year-close?year={}", m.year),
        _ => format!("/matters/{}", m.id),
    }
}

/// `?back=year-close` on a step form.
#[derive(Debug, Default, serde::Deserialize)]
pub struct BackQuery {
    #[serde(default)]
    back: String,
}

/// A step's form.
pub async fn act_form(
    State(st): State<AppState>,
    Web(s): Web,
    Path((id, code)): Path<(i64, String)>,
    axum::extract::Query(q): axum::extract::Query<BackQuery>,
) -> Response {
    // 编辑 and 新建子事项 have pages of their own (which check again).
    if let Some(to) = crate::matter_edit::page_of(&code, id) {
        return Redirect::to(&to).into_response();
    }
    let mut vals = Values::new();
    if !back_of(Some(&q.back)).is_empty() {
        vals.insert("back".into(), q.back);
    }
    match open(&st, &s.caller, id, &code).await {
        Ok((d, a)) => form_page(&st, &s, (&d, a), &vals, None),
        Err(r) => r,
    }
}

/// Take a step; back to the matter, or the form again with the error and the typed values.
pub async fn act_submit(
    State(st): State<AppState>,
    Web(s): Web,
    Path((id, code)): Path<(i64, String)>,
    form: RawForm,
) -> Response {
    let vals: Values = form.pairs().into_iter().collect();
    if !csrf_ok(&s, vals.get("csrf").map_or("", |v| v.as_str())) {
        return page_error(&st, &AppError::Forbidden);
    }
    let (d, a) = match open(&st, &s.caller, id, &code).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match matter_forms::submit(&st.app, &s.caller, id, a.code, &vals).await {
        Ok(()) => {
            let back = back_of(vals.get("back").map(String::as_str));
            Redirect::to(&back_href(back, &d.matter.row)).into_response()
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            form_page(&st, &s, (&d, a), &vals, Some(&e))
        }
        Err(e) => refuse(&st, &s.caller, &format!("/matters/{id}/act/{code}"), &e).await,
    }
}
