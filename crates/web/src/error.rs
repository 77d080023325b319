//! One mapping from use-case errors to HTTP status codes, with no catch-all arm, and the two
//! renderers: an error page for the UI and JSON errors for `/api` (in `api.rs`).

use axum::http::StatusCode;
use axum::response::Response;
use taizhang_app::{AppError, Caller};

use crate::AppState;

/// What a form shows after `err`: the field a validation refusal names (None for any other
/// error) and the message; both None without an error.
pub fn form_error(err: Option<&AppError>) -> (Option<String>, Option<String>) {
    match err {
        Some(AppError::Invalid {
            field: Some(f),
            message,
            ..
        }) => (Some(f.clone()), Some(message.clone())),
        Some(e) => (None, Some(e.to_string())),
        None => (None, None),
    }
}

pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::BadCredentials => StatusCode::UNAUTHORIZED,
        AppError::Locked { .. } => StatusCode::UNAUTHORIZED,
        AppError::NeedsStep(_) => StatusCode::FORBIDDEN,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound(_) | AppError::OutOfScope => StatusCode::NOT_FOUND,
        AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Log a server-side cause once, at the boundary.
pub fn log_cause(e: &AppError) {
    match e {
        AppError::Internal(why) | AppError::Unavailable(why) => {
            tracing::error!(error = %why, "request failed")
        }
        _ => {}
    }
}

/// The error page. A 5xx shows a generic message; the cause is in the log.
pub fn page_error(st: &AppState, e: &AppError) -> Response {
    log_cause(e);
    let status = status_of(e);
    let message = e.to_string();
    st.templates.render_status(
        status,
        "error.html",
        serde_json::json!({"status": status.as_u16(), "message": message}),
    )
}

/// Record a policy refusal in the audit trail (as `denied`), then render it.
pub async fn denied_page(st: &AppState, who: &Caller, what: &str, e: &AppError) -> Response {
    audit_denial(st, who, what, e).await;
    page_error(st, e)
}

pub async fn audit_denial(st: &AppState, who: &Caller, what: &str, e: &AppError) {
    if matches!(e, AppError::Forbidden | AppError::OutOfScope)
        && let Err(err) =
            taizhang_app::identity::record_denied(&st.app, who, "access.denied", what).await
    {
        tracing::error!(error = %err, "could not audit a denial");
    }
    if matches!(e, AppError::Forbidden | AppError::OutOfScope)
        && let Some(pid) = who.person_id
        && st.guard.note_denial(pid, st.app.clock.now_ms())
    {
        // 入侵防范: a burst of refused accesses (id probing) raises an alert in the trail.
        tracing::warn!(person.id = pid, person.name = %who.name, "security alert: burst of refused accesses");
        let ev = taizhang_app::audit::Event {
            action: "security.alert",
            object_type: "person",
            object_id: pid.to_string(),
            result: taizhang_domain::audit_chain::AuditResult::Denied,
            detail: format!(
                "{} refused accesses within a minute",
                crate::guard::DENIALS_FOR_ALERT
            ),
        };
        if let Err(err) = taizhang_app::audit::record_alone(&st.app, who, ev).await {
            tracing::error!(error = %err, "could not audit a security alert");
        }
    }
}
