//! Middleware: request ids, structured request logs, metrics, security headers, compression,
//! timeouts and body limits. Time and body limits are set per route by what the route moves
//! ([`Transfer`]): forms and pages get the ordinary timeout and body cap; uploads and
//! downloads get the longer transfer timeout, and uploads size their body themselves.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::routes::Transfer;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// CSP without inline script: every script is a file under /static.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'";

/// Largest request body of an ordinary route (uploads size theirs by the limit in force and
/// answer an oversize file in their own words).
const BODY_LIMIT: usize = 25 * 1024 * 1024;

/// How long a request may take (`request_timeout_secs`, `transfer_timeout_secs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Pages, forms and JSON, from the first byte of the body to the response.
    pub request_timeout: Duration,
    /// Uploads (a 20 MB scan over a slow county line) and exports or reports being built. A
    /// client trickling its body is still cut off here.
    pub transfer_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            request_timeout: Duration::from_secs(60),
            transfer_timeout: Duration::from_secs(15 * 60),
        }
    }
}

/// The time limit and body cap of one route, by what it moves.
pub fn limit_route(
    h: MethodRouter<AppState>,
    transfer: Transfer,
    limits: &HttpLimits,
) -> MethodRouter<AppState> {
    let timeout = |d| TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, d);
    match transfer {
        Transfer::Ordinary => h
            .layer::<_, Infallible>(RequestBodyLimitLayer::new(BODY_LIMIT))
            .layer(timeout(limits.request_timeout)),
        Transfer::Download => h
            .layer::<_, Infallible>(RequestBodyLimitLayer::new(BODY_LIMIT))
            .layer(timeout(limits.transfer_timeout)),
        Transfer::Upload => h.layer(timeout(limits.transfer_timeout)),
    }
}

#[derive(Clone, Default)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let id: [u8; 8] = rand::random();
        HeaderValue::from_str(&hex::encode(id))
            .ok()
            .map(RequestId::new)
    }
}

/// The middleware around every route. Its timeout only backs up the per-route ones
/// ([`limit_route`]) for static files and the 404 page.
pub fn apply(router: Router<AppState>, state: AppState, limits: &HttpLimits) -> Router<AppState> {
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request| {
        let rid = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
        tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %rid)
    });
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, RandomRequestId))
            .layer(trace)
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(middleware::from_fn_with_state(state, observe))
            .layer(middleware::from_fn(same_origin_only))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("DENY"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            ))
            .layer(CompressionLayer::new())
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                limits.request_timeout.max(limits.transfer_timeout),
            )),
    )
}

/// Refuse state-changing requests that a browser marks as coming from another site (CSRF
/// defence in depth, beside the per-session token and SameSite cookies).
async fn same_origin_only(req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if unsafe_method {
        let h = req.headers();
        let cross_site = h
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "cross-site");
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin_mismatch = match (h.get(header::ORIGIN).and_then(|v| v.to_str().ok()), host) {
            (Some("null"), _) => true,
            (Some(origin), Some(host)) => {
                let o = origin
                    .split_once("://")
                    .map(|(_, rest)| rest)
                    .unwrap_or(origin);
                !o.eq_ignore_ascii_case(host)
            }
            _ => false,
        };
        if cross_site || origin_mismatch {
            return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
        }
    }
    next.run(req).await
}

async fn observe(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let resp = next.run(req).await;
    let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    st.metrics.observe(resp.status().as_u16(), micros);
    resp
}
