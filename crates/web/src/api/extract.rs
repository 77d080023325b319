//! Turning requests into typed input without a 5xx: JSON bodies limited to [`BODY_LIMIT`],
//! parse errors (syntax, depth, lone surrogates) as 400 and wrong shapes as 422; query strings
//! as 400; `ETag`/`If-Match` on matters.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::errors_body;

/// Largest JSON body the API reads (the rest of the site has its own, larger limit).
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn bad(status: StatusCode, code: &str, field: Option<&str>, detail: &str) -> Response {
    (status, axum::Json(errors_body(code, field, detail))).into_response()
}

/// A JSON body and its raw bytes (the Idempotency-Key compares bytes).
pub struct ApiJson<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let json = ct
            .split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(bad(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                None,
                "请求体须为 application/json",
            ));
        }
        let raw = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
            .await
            .map_err(|_| {
                bad(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    None,
                    "请求体不能超过 1 MB",
                )
            })?;
        let value = parse_json(&raw)?;
        Ok(ApiJson { value, raw })
    }
}

/// Parse JSON: syntax errors, nesting deeper than serde_json's limit and lone surrogates are
/// `bad_json` (400); a well-formed body of the wrong shape is `invalid_body` (422).
#[allow(clippy::result_large_err)] // the error is the answer itself, built once per request
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(raw).map_err(|e| {
        use serde_json::error::Category;
        let detail = e.to_string();
        match e.classify() {
            Category::Data => bad(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                None,
                &detail,
            ),
            Category::Syntax | Category::Eof | Category::Io => {
                bad(StatusCode::BAD_REQUEST, "bad_json", None, &detail)
            }
        }
    })
}

/// A query string (`axum::extract::Query`) whose rejection is a JSON 400 `bad_query`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(q)
            .map(ApiQuery)
            .map_err(|e| bad(StatusCode::BAD_REQUEST, "bad_query", None, &e.to_string()))
    }
}

/// A path id (`{id}`) that is a positive integer, else 404.
pub struct PathId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw): axum::extract::Path<String> =
            axum::extract::Path::from_request_parts(parts, state)
                .await
                .map_err(|_| not_found())?;
        match raw.parse::<i64>() {
            Ok(id) if id > 0 => Ok(PathId(id)),
            _ => Err(not_found()),
        }
    }
}

pub fn not_found() -> Response {
    bad(StatusCode::NOT_FOUND, "not_found", None, "未找到或无权查看")
}

/// A strong ETag over the exact representation.
pub fn etag_of(body: &[u8]) -> String {
    let d = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&d[..12]))
}

/// Whether `If-Match` (if sent) names `etag` (or `*`).
pub fn if_match_ok(headers: &HeaderMap, etag: &str) -> bool {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return true;
    };
    let Ok(v) = v.to_str() else { return false };
    v.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == etag || t.strip_prefix("W/").is_some_and(|w| w == etag))
}

pub fn has_if_match(headers: &HeaderMap) -> bool {
    headers.contains_key(header::IF_MATCH)
}

pub fn precondition_failed() -> Response {
    bad(
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        Some("If-Match"),
        "事项已被他人修改（ETag 不符），请重新读取后再提交",
    )
}

pub fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}
