//! One mapping from use-case errors to HTTP status codes, with no catch-all arm.

use axum::http::StatusCode;
use taizhang_app::AppError;

#[allow(dead_code)] // used by the API error renderer (next step)
pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::BadCredentials => StatusCode::UNAUTHORIZED,
        AppError::Locked { .. } => StatusCode::UNAUTHORIZED,
        AppError::NeedsStep(_) => StatusCode::FORBIDDEN,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
