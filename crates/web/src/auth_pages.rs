//! Login, second factor, password change and logout pages.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use taizhang_app::AppError;
use taizhang_app::identity::{self, NextStep};

use crate::AppState;
use crate::error::page_error;
use crate::session::{self, Step, csrf_ok, safe_next};

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(State(st): State<AppState>, Query(q): Query<NextQuery>) -> Response {
    st.templates.render(
        "login.html",
        json!({"next": safe_next(q.next.as_deref()), "username": ""}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    totp: String,
    #[serde(default)]
    next: String,
}

fn step_target(next: NextStep, after: &str) -> String {
    match next {
        NextStep::Done => after.to_owned(),
        NextStep::Totp => "/login/totp".into(),
        NextStep::EnrolTotp => "/account/totp".into(),
        NextStep::ChangePassword => "/account/password".into(),
    }
}

pub async fn login_submit(
    State(st): State<AppState>,
    parts: axum::http::request::Parts,
    Form(f): Form<LoginForm>,
) -> Response {
    let ip = session::client_ip(&st, &parts);
    let rid = session::request_id(&parts);
    let totp = Some(f.totp.as_str()).filter(|t| !t.trim().is_empty());
    let now = st.app.clock.now_ms();
    let outcome = if st.guard.login_blocked(&ip, now) {
        tracing::warn!(source_ip = %ip, "login throttled for this address");
        Err(AppError::BadCredentials)
    } else {
        identity::login(&st.app, &f.username, &f.password, totp, &ip, &rid).await
    };
    if matches!(outcome, Err(AppError::BadCredentials)) {
        st.guard.note_login_failure(&ip, now);
    }
    match outcome {
        Ok(out) => {
            let to = step_target(out.next, &safe_next(Some(&f.next)));
            ([(header::SET_COOKIE, session::session_cookie(&st, &out.session_token))], Redirect::to(&to)).into_response()
        }
        Err(AppError::BadCredentials) => st.templates.render_status(
            axum::http::StatusCode::UNAUTHORIZED,
            "login.html",
            json!({"next": safe_next(Some(&f.next)), "username": f.username.chars().take(64).collect::<String>(),
                   "error": identity::LOGIN_FAILED}),
        ),
        Err(e) => page_error(&st, &e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    State(st): State<AppState>,
    Step(s): Step,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    if let Err(e) = identity::logout(&st.app, &s).await {
        return page_error(&st, &e);
    }
    (
        [(header::SET_COOKIE, session::clear_cookie(&st))],
        Redirect::to("/login"),
    )
        .into_response()
}

pub async fn totp_page(State(st): State<AppState>, Step(s): Step) -> Response {
    st.templates
        .render("totp.html", json!({"csrf": s.csrf_token}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

pub async fn totp_submit(
    State(st): State<AppState>,
    Step(s): Step,
    Form(f): Form<CodeForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    match identity::verify_session_totp(&st.app, &s, &f.code).await {
        Ok(()) => Redirect::to("/desk").into_response(),
        Err(AppError::Invalid { message, .. }) => st.templates.render_status(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "totp.html",
            json!({"csrf": s.csrf_token, "error": message}),
        ),
        Err(e) => page_error(&st, &e),
    }
}

pub async fn enrol_page(State(st): State<AppState>, Step(s): Step) -> Response {
    match identity::begin_totp_enrol(&st.app, &s.caller).await {
        Ok((secret, uri)) => st.templates.render(
            "enrol.html",
            json!({"csrf": s.csrf_token, "secret": secret, "uri": uri}),
        ),
        Err(e) => page_error(&st, &e),
    }
}

pub async fn enrol_submit(
    State(st): State<AppState>,
    Step(s): Step,
    Form(f): Form<CodeForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    match identity::confirm_totp_enrol(&st.app, &s, &f.code).await {
        Ok(()) => Redirect::to("/account/next").into_response(),
        Err(AppError::Invalid { message, .. }) => st.templates.render_status(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "enrol.html",
            json!({"csrf": s.csrf_token, "error": message, "retry": true}),
        ),
        Err(e) => page_error(&st, &e),
    }
}

/// After enrolment: the password change if it is still due, else the desk.
pub async fn after_enrol(Step(s): Step) -> Response {
    Redirect::to(&step_target(s.next, "/desk")).into_response()
}

pub async fn password_page(State(st): State<AppState>, Step(s): Step) -> Response {
    st.templates.render(
        "password.html",
        json!({"csrf": s.csrf_token, "forced": s.next == NextStep::ChangePassword}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordForm {
    csrf: String,
    old: String,
    new: String,
    confirm: String,
}

pub async fn password_submit(
    State(st): State<AppState>,
    Step(s): Step,
    Form(f): Form<PasswordForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    match identity::change_password(&st.app, &s.caller, &f.old, &f.new, &f.confirm).await {
        Ok(()) => ([(header::SET_COOKIE, session::clear_cookie(&st))], Redirect::to("/login?changed=1")).into_response(),
        Err(AppError::Invalid { field, message, .. }) => st.templates.render_status(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "password.html",
            json!({"csrf": s.csrf_token, "error": message, "field": field, "forced": s.next == NextStep::ChangePassword}),
        ),
        Err(e) => page_error(&st, &e),
    }
}
