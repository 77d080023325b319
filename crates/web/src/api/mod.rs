//! The JSON API under `/api/v1`: errors are `{"errors":[{"code","field","detail"}]}` with
//! stable codes. Handlers extract (typed, size-limited, never a 5xx on bad input), call the same
//! use case as the pages, and render JSON. The OpenAPI description is generated from them.

pub mod attachments;
pub mod cadence;
pub mod directory;
pub mod doc;
pub mod extract;
pub mod matter_edit;
pub mod matters;
pub mod notify;
pub mod steps;
pub mod thresholds;
pub mod types;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use taizhang_app::AppError;
use taizhang_app::identity::{self, NextStep};

use crate::AppState;
use crate::error::{log_cause, status_of};
use crate::session::{self, Api};

/// The stable code of an error.
pub fn code_of(e: &AppError) -> String {
    match e {
        AppError::BadCredentials => "unauthenticated".into(),
        AppError::Locked { .. } => "locked".into(),
        AppError::NeedsStep(_) => "login_step_required".into(),
        AppError::Forbidden => "forbidden".into(),
        AppError::NotFound(_) | AppError::OutOfScope => "not_found".into(),
        AppError::Invalid { code, .. } => code.clone(),
        AppError::Conflict(_) => "conflict".into(),
        AppError::Unavailable(_) => "unavailable".into(),
        AppError::Internal(_) => "internal".into(),
    }
}

pub fn errors_body(code: &str, field: Option<&str>, detail: &str) -> Value {
    json!({"errors": [{"code": code, "field": field, "detail": detail}]})
}

pub fn error_response(e: &AppError) -> Response {
    log_cause(e);
    let field = match e {
        AppError::Invalid { field, .. } => field.as_deref(),
        _ => None,
    };
    (
        status_of(e),
        Json(errors_body(&code_of(e), field, &e.to_string())),
    )
        .into_response()
}

/// A 200 JSON answer.
pub fn json_ok<T: serde::Serialize>(v: &T) -> Response {
    Json(v).into_response()
}

/// A 200 JSON answer written into a buffer of about `capacity` bytes at once (a page of 50
/// matters is ≈ 50 KB: growing from axum's 128 bytes copied it ten times).
pub fn json_ok_sized<T: serde::Serialize>(v: &T, capacity: usize) -> Response {
    let mut buf = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut buf, v) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            buf,
        )
            .into_response(),
        Err(e) => error_response(&AppError::Internal(format!("json: {e}"))),
    }
}

/// `POST /api/v1/auth/login`: JSON credentials; sets the session cookie and returns the CSRF
/// token that unsafe API calls with that cookie must send in `X-CSRF-Token`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = types::LoginIn,
    responses((status = 200, body = types::LoginOut), (status = "4XX", body = types::ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    headers: HeaderMap,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    body: Result<Json<types::LoginIn>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(b)) = body else {
        return (
            StatusCode::BAD_REQUEST,
            Json(errors_body(
                "bad_request",
                None,
                "请求体须为 JSON：username、password、可选 totp",
            )),
        )
            .into_response();
    };
    let ip = if st.info.trusted_proxies.contains(&peer.ip()) {
        headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.split(',').next_back())
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|| peer.ip().to_string())
    } else {
        peer.ip().to_string()
    };
    let rid = headers
        .get(crate::layers::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let now = st.app.clock.now_ms();
    let outcome = if st.guard.login_blocked(&ip, now) {
        Err(AppError::BadCredentials)
    } else {
        identity::login(
            &st.app,
            &b.username,
            &b.password,
            b.totp.as_deref(),
            &ip,
            &rid,
        )
        .await
    };
    if matches!(outcome, Err(AppError::BadCredentials)) {
        st.guard.note_login_failure(&ip, now);
    }
    match outcome {
        Ok(out) => {
            let next = match out.next {
                NextStep::Done => "done",
                NextStep::Totp => "totp",
                NextStep::EnrolTotp => "enrol_totp",
                NextStep::ChangePassword => "change_password",
            };
            (
                [(
                    header::SET_COOKIE,
                    session::session_cookie(&st, &out.session_token),
                )],
                Json(
                    json!({"person_id": out.person_id, "next": next, "csrf_token": out.csrf_token}),
                ),
            )
                .into_response()
        }
        Err(e) => error_response(&e),
    }
}

/// `GET /api/v1/me`: who am I.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = types::MeOut), (status = "4XX", body = types::ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(Api(who): Api) -> Response {
    let roles: Vec<&str> = who.roles.iter().map(|r| r.code()).collect();
    Json(json!({
        "person_id": who.person_id, "username": who.name, "display_name": who.display_name,
        "unit_id": who.unit_id, "roles": roles,
    }))
    .into_response()
}
