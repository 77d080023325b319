//! Public pages: home, health, readiness, not-found.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::AppState;

#[derive(Serialize)]
struct HomePage<'a> {
    version: &'a str,
    backend: &'a str,
    counts: Vec<(&'static str, u64)>,
}

pub async fn home(State(st): State<AppState>) -> Response {
    let counts = match st.app.store.row_counts().await {
        Ok(c) => vec![
            ("单位", c.get("units").copied().unwrap_or(0)),
            ("人员", c.get("people").copied().unwrap_or(0)),
            ("督办事项", c.get("matters").copied().unwrap_or(0)),
            ("审计记录", c.get("audit_log").copied().unwrap_or(0)),
        ],
        Err(_) => Vec::new(),
    };
    st.templates.render(
        "home.html",
        HomePage {
            version: st.info.version,
            backend: st.info.backend,
            counts,
        },
    )
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(st): State<AppState>) -> Response {
    match st.app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

pub async fn not_found(State(st): State<AppState>) -> Response {
    st.templates.render_status(
        StatusCode::NOT_FOUND,
        "not_found.html",
        serde_json::json!({}),
    )
}
