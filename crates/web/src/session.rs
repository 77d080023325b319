//! Sessions on the web: the cookie, the client address, CSRF, and the extractors that turn a
//! request into a logged-in [`Caller`](taizhang_app::Caller).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use taizhang_app::identity::{self, NextStep, SessionInfo};
use taizhang_app::{AppError, Caller};

use crate::AppState;
use crate::layers::REQUEST_ID;

pub const COOKIE_SECURE: &str = "__Host-tz_session";
pub const COOKIE_PLAIN: &str = "tz_session";

pub fn cookie_name(st: &AppState) -> &'static str {
    if st.info.secure_cookies {
        COOKIE_SECURE
    } else {
        COOKIE_PLAIN
    }
}

/// `Set-Cookie` for a new session (no Max-Age: the server enforces the limits).
pub fn session_cookie(st: &AppState, token: &str) -> HeaderValue {
    let v = if st.info.secure_cookies {
        format!("{COOKIE_SECURE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax")
    } else {
        format!("{COOKIE_PLAIN}={token}; Path=/; HttpOnly; SameSite=Lax")
    };
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie(st: &AppState) -> HeaderValue {
    let v = if st.info.secure_cookies {
        format!("{COOKIE_SECURE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
    } else {
        format!("{COOKIE_PLAIN}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
    };
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    for v in headers.get_all(header::COOKIE) {
        let Ok(s) = v.to_str() else { continue };
        for part in s.split(';') {
            if let Some((k, val)) = part.trim().split_once('=')
                && k == name
                && !val.is_empty()
            {
                return Some(val.to_owned());
            }
        }
    }
    None
}

/// The client's address: the peer, unless the peer is a configured proxy, in which case the
/// last address in `X-Forwarded-For` that is not itself a trusted proxy. A forged header from an
/// untrusted peer is ignored.
pub fn client_ip(st: &AppState, parts: &Parts) -> String {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if !st.info.trusted_proxies.contains(&peer) {
        return peer.to_string();
    }
    let chain: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    chain
        .iter()
        .rev()
        .find(|ip| !st.info.trusted_proxies.contains(ip))
        .copied()
        .unwrap_or(peer)
        .to_string()
}

pub fn request_id(parts: &Parts) -> String {
    parts
        .headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Constant-time comparison of the submitted CSRF token with the session's.
pub fn csrf_ok(session: &SessionInfo, submitted: &str) -> bool {
    taizhang_domain::crypto::ct_eq(session.csrf_token.as_bytes(), submitted.as_bytes())
}

/// A safe place to go after login: a relative path on this site, never `//host` or a scheme.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.contains("://")
                && !n.chars().any(char::is_control)
                && n.len() < 512 =>
        {
            n.to_owned()
        }
        _ => "/desk".to_owned(),
    }
}

async fn resolve(parts: &Parts, st: &AppState) -> Result<SessionInfo, AppError> {
    let raw = read_cookie(&parts.headers, cookie_name(st)).ok_or(AppError::BadCredentials)?;
    identity::authenticate_session(&st.app, &raw, &client_ip(st, parts), &request_id(parts)).await
}

fn to_login(parts: &Parts) -> Response {
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/desk");
    let next = if parts.method == Method::GET {
        path
    } else {
        "/desk"
    };
    Redirect::to(&format!("/login?next={}", urlencode(next))).into_response()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A fully logged-in page user (password changed, second factor done where required).
pub struct Web(pub SessionInfo);

impl FromRequestParts<AppState> for Web {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        match resolve(parts, st).await {
            Ok(s) => match s.next {
                NextStep::Done => Ok(Web(s)),
                NextStep::Totp => Err(Redirect::to("/login/totp").into_response()),
                NextStep::EnrolTotp => Err(Redirect::to("/account/totp").into_response()),
                NextStep::ChangePassword => Err(Redirect::to("/account/password").into_response()),
            },
            Err(AppError::BadCredentials) => Err(to_login(parts)),
            Err(e) => Err(crate::error::page_error(st, &e)),
        }
    }
}

/// A session at any step (for the TOTP, enrolment and password-change pages).
pub struct Step(pub SessionInfo);

impl FromRequestParts<AppState> for Step {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        match resolve(parts, st).await {
            Ok(s) => Ok(Step(s)),
            Err(AppError::BadCredentials) => Err(to_login(parts)),
            Err(e) => Err(crate::error::page_error(st, &e)),
        }
    }
}

/// An API caller: a bearer token, or a complete cookie session that sends its CSRF token in
/// `X-CSRF-Token` on every unsafe method.
pub struct Api(pub Caller);

impl FromRequestParts<AppState> for Api {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let ip = client_ip(st, parts);
        let rid = request_id(parts);
        if let Some(auth) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            let Some(token) = auth.strip_prefix("Bearer ") else {
                return Err(crate::api::error_response(&AppError::BadCredentials));
            };
            return identity::authenticate_token(&st.app, token.trim(), &ip, &rid)
                .await
                .map(Api)
                .map_err(|e| crate::api::error_response(&e));
        }
        let s = resolve(parts, st)
            .await
            .map_err(|e| crate::api::error_response(&e))?;
        if s.next != NextStep::Done {
            return Err(crate::api::error_response(&AppError::NeedsStep(
                "请先完成登录步骤（修改密码或动态口令）".into(),
            )));
        }
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !csrf_ok(&s, sent) {
                return Err((
                    StatusCode::FORBIDDEN,
                    axum::Json(crate::api::errors_body(
                        "csrf",
                        None,
                        "缺少或错误的 X-CSRF-Token",
                    )),
                )
                    .into_response());
            }
        }
        Ok(Api(s.caller))
    }
}
