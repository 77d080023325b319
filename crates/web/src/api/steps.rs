//! The steps of the closed loop on one matter (`POST /api/v1/matters/{id}/…`): each calls the
//! same use case as the page button. `If-Match` (the matter's `ETag`) is honoured: a stale tag
//! answers 412 and changes nothing. The answer carries the matter's new `ETag`.

use std::future::Future;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use taizhang_app::ledger::escalation::{self as esc, EffectInput, NoticeInput};
use taizhang_app::ledger::flow::{self, ExtensionRequest};
use taizhang_app::ledger::progress::{self, ProgressInput};
use taizhang_app::{AppError, Caller};

use super::extract::{
    ApiJson, PathId, has_if_match, header_value, if_match_ok, precondition_failed,
};
use super::matters::current;
use super::types::{
    CompletionIn, DecisionIn, Done, EffectIn, ErrorBody, ExtensionIn, NoticeIn, ProgressIn,
    ReasonIn, ReplyIn, UrgeIn,
};
use super::{error_response, json_ok};
use crate::AppState;
use crate::session::Api;

fn none(_: ()) -> Done {
    Done {
        id: None,
        number: None,
    }
}

fn with_id(id: i64) -> Done {
    Done {
        id: Some(id),
        number: None,
    }
}

/// Check `If-Match`, run the step, answer [`Done`] with the new `ETag`.
async fn step(
    st: &AppState,
    who: &Caller,
    id: i64,
    headers: &HeaderMap,
    run: impl Future<Output = Result<Done, AppError>>,
) -> Response {
    if has_if_match(headers) {
        match current(st, who, id).await {
            Ok((_, tag)) if if_match_ok(headers, &tag) => {}
            Ok(_) => return precondition_failed(),
            Err(e) => return error_response(&e),
        }
    }
    match run.await {
        Ok(done) => {
            let mut r = json_ok(&done);
            if let Ok((_, tag)) = current(st, who, id).await {
                r.headers_mut().insert(header::ETAG, header_value(&tag));
            }
            r
        }
        Err(e) => error_response(&e),
    }
}

macro_rules! bare_step {
    ($name:ident, $path:literal, $doc:literal, |$app:ident, $who:ident, $id:ident| $call:expr) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "steps",
                    params(("id" = i64, Path, description = "Matter id"),
                        ("If-Match" = Option<String>, Header, description = "The matter's ETag")),
                    responses((status = 200, body = Done), (status = "4XX", body = ErrorBody)),
                    security(("bearer" = [])))]
        pub async fn $name(
            State(st): State<AppState>,
            Api(who): Api,
            PathId(id): PathId,
            headers: HeaderMap,
        ) -> Response {
            let ($app, $who, $id) = (&st.app, &who, id);
            step(&st, &who, id, &headers, async move { $call }).await
        }
    };
}

macro_rules! body_step {
    ($name:ident, $path:literal, $doc:literal, $ty:ty, |$app:ident, $who:ident, $id:ident, $b:ident| $call:expr) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "steps", request_body = $ty,
                    params(("id" = i64, Path, description = "Matter id"),
                        ("If-Match" = Option<String>, Header, description = "The matter's ETag")),
                    responses((status = 200, body = Done), (status = "4XX", body = ErrorBody)),
                    security(("bearer" = [])))]
        pub async fn $name(
            State(st): State<AppState>,
            Api(who): Api,
            PathId(id): PathId,
            headers: HeaderMap,
            body: ApiJson<$ty>,
        ) -> Response {
            let $b = body.value;
            let ($app, $who, $id) = (&st.app, &who, id);
            step(&st, &who, id, &headers, async move { $call }).await
        }
    };
}

bare_step!(
    submit,
    "/api/v1/matters/{id}/submit",
    "提交审核.",
    |a, w, id| flow::submit_matter(a, w, id).await.map(none)
);
bare_step!(
    approve,
    "/api/v1/matters/{id}/approve",
    "批准立项并交办.",
    |a, w, id| flow::approve_matter(a, w, id).await.map(none)
);
bare_step!(
    sign_for,
    "/api/v1/matters/{id}/sign-for",
    "签收.",
    |a, w, id| flow::sign_for(a, w, id).await.map(none)
);
bare_step!(
    close_out,
    "/api/v1/matters/{id}/close-out",
    "销号.",
    |a, w, id| flow::close_out(a, w, id).await.map(none)
);
body_step!(
    reject,
    "/api/v1/matters/{id}/reject",
    "驳回立项.",
    ReasonIn,
    |a, w, id, b| flow::reject_matter(a, w, id, &b.reason).await.map(none)
);
body_step!(
    return_assignment,
    "/api/v1/matters/{id}/return",
    "退回交办.",
    ReasonIn,
    |a, w, id, b| flow::return_assignment(a, w, id, &b.reason).await.map(none)
);
body_step!(
    reopen,
    "/api/v1/matters/{id}/reopen",
    "回头看（重新打开）.",
    ReasonIn,
    |a, w, id, b| flow::reopen(a, w, id, &b.reason).await.map(none)
);
body_step!(
    request_stop,
    "/api/v1/matters/{id}/stop",
    "申请中止.",
    ReasonIn,
    |a, w, id, b| flow::request_stop(a, w, id, &b.reason).await.map(none)
);
body_step!(
    decide_stop,
    "/api/v1/matters/{id}/stop/decision",
    "审批中止.",
    DecisionIn,
    |a, w, id, b| flow::decide_stop(a, w, id, b.approve, &b.note)
        .await
        .map(none)
);
body_step!(
    carry_over,
    "/api/v1/matters/{id}/carry-over",
    "结转下一年度.",
    ReasonIn,
    |a, w, id, b| flow::carry_over(a, w, id, &b.reason).await.map(with_id)
);
body_step!(
    report_progress,
    "/api/v1/matters/{id}/progress",
    "报进展.",
    ProgressIn,
    |a, w, id, b| {
        let input = ProgressInput {
            body: b.body,
            progress: b.progress,
            problems: b.problems,
            coordination: b.coordination,
            next_steps: b.next_steps,
        };
        progress::report_progress(a, w, id, input)
            .await
            .map(with_id)
    }
);
body_step!(
    request_extension,
    "/api/v1/matters/{id}/extensions",
    "申请延期.",
    ExtensionIn,
    |a, w, id, b| {
        let req = ExtensionRequest {
            reason: b.reason,
            current_progress: b.current_progress,
            proposed_deadline: b.proposed_deadline,
        };
        flow::request_extension(a, w, id, req).await.map(with_id)
    }
);
body_step!(
    decide_extension,
    "/api/v1/matters/{id}/extensions/decision",
    "审批延期（`new_deadline` 缺省为申请的时限）.",
    DecisionIn,
    |a, w, id, b| flow::decide_extension(a, w, id, b.approve, b.new_deadline.as_deref(), &b.note)
        .await
        .map(none)
);
body_step!(
    report_completion,
    "/api/v1/matters/{id}/completion",
    "报办结.",
    CompletionIn,
    |a, w, id, b| flow::report_completion(a, w, id, &b.basis).await.map(none)
);
body_step!(
    review_completion,
    "/api/v1/matters/{id}/review",
    "审核办结.",
    DecisionIn,
    |a, w, id, b| flow::review_completion(a, w, id, b.approve, &b.note)
        .await
        .map(none)
);
body_step!(
    urge,
    "/api/v1/matters/{id}/urge",
    "催办.",
    UrgeIn,
    |a, w, id, b| esc::urge(a, w, id, &b.method, &b.note).await.map(with_id)
);
body_step!(
    issue_notice,
    "/api/v1/matters/{id}/notices",
    "下发督办单.",
    NoticeIn,
    |a, w, id, b| {
        let input = NoticeInput {
            color: b.color,
            reason: b.reason,
            requirement: b.requirement,
            due_on: b.due_on,
        };
        esc::issue_notice(a, w, id, input)
            .await
            .map(|(id, number)| Done {
                id: Some(id),
                number: Some(number),
            })
    }
);
body_step!(
    review_effect,
    "/api/v1/matters/{id}/effects",
    "问效.",
    EffectIn,
    |a, w, id, b| {
        let input = EffectInput {
            rating: b.rating,
            evidence: b.evidence,
            comment: b.comment,
            lookback_on: b.lookback_on,
        };
        esc::review_effect(a, w, id, input).await.map(with_id)
    }
);

/// Accept a progress report, or return it (退回) with a reason in `note`.
#[utoipa::path(post, path = "/api/v1/reports/{id}/review", tag = "steps", request_body = DecisionIn,
    params(("id" = i64, Path, description = "Report id")),
    responses((status = 200, body = Done), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn review_report(
    State(st): State<AppState>,
    Api(who): Api,
    PathId(id): PathId,
    body: ApiJson<DecisionIn>,
) -> Response {
    let b = body.value;
    match progress::review_progress(&st.app, &who, id, b.approve, &b.note).await {
        Ok(()) => json_ok(&none(())),
        Err(e) => error_response(&e),
    }
}

/// The unit's written reply (书面说明) to a 督办单.
#[utoipa::path(post, path = "/api/v1/notices/{id}/answer", tag = "steps", request_body = ReplyIn,
    params(("id" = i64, Path, description = "Notice id")),
    responses((status = 200, body = Done), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn answer_notice(
    State(st): State<AppState>,
    Api(who): Api,
    PathId(id): PathId,
    body: ApiJson<ReplyIn>,
) -> Response {
    match esc::answer_notice(&st.app, &who, id, &body.value.reply).await {
        Ok(()) => json_ok(&none(())),
        Err(e) => error_response(&e),
    }
}
