//! The OpenAPI 3.1 description, generated from the handlers' `#[utoipa::path]` and the API
//! types, served at `/api/openapi.json`; and the browsable Swagger UI at `/api/docs`, served
//! from assets embedded at build time (utoipa-swagger-ui `vendored`, no CDN).

use std::sync::{Arc, OnceLock};

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::extract::header_value;
use super::{
    attachments, cadence, directory, matter_edit, matters, notify, steps, thresholds, types,
};

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("`taizhang admin create-token` 生成的 API 令牌"))
            .build();
        api.components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Taizhang 台账 API", version = "1",
        description = "11710 督办台账的 JSON API。错误统一为 {\"errors\":[{\"code\",\"field\",\"detail\"}]}。"),
    modifiers(&Bearer),
    paths(
        super::login, super::me,
        matters::list_matters, matters::create_matter, matters::get_matter,
        steps::submit, steps::approve, steps::reject, steps::sign_for, steps::return_assignment,
        steps::report_progress, steps::request_extension, steps::decide_extension,
        steps::report_completion, steps::review_completion, steps::urge, steps::issue_notice,
        steps::close_out, steps::reopen, steps::request_stop, steps::decide_stop,
        steps::carry_over, steps::review_effect, steps::review_report, steps::answer_notice,
        cadence::daily_list, cadence::daily_run, cadence::daily_confirm,
        cadence::weekly_list, cadence::weekly_run, cadence::weekly_submit, cadence::weekly_approve,
        cadence::monthly_get, cadence::monthly_take, cadence::year_get, cadence::year_close,
        cadence::add_workdays,
        directory::list_units, directory::list_people,
        directory::inbox, directory::inbox_count, directory::inbox_read,
        notify::list_targets, notify::create_target, notify::get_target, notify::update_target,
        notify::delete_target, notify::test_target, notify::my_prefs, notify::put_my_prefs,
        notify::deliveries,
        attachments::list, attachments::upload, attachments::download, attachments::remove,
        matter_edit::patch_matter, thresholds::get_thresholds, thresholds::put_thresholds,
    ),
    components(schemas(types::ErrorBody, types::ApiError))
)]
pub struct ApiDoc;

/// The description, built once.
pub fn spec() -> &'static str {
    static SPEC: OnceLock<String> = OnceLock::new();
    SPEC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()))
}

/// `GET /api/openapi.json`.
pub async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, header_value("application/json"))],
        spec(),
    )
        .into_response()
}

fn swagger_config() -> Arc<utoipa_swagger_ui::Config<'static>> {
    static C: OnceLock<Arc<utoipa_swagger_ui::Config<'static>>> = OnceLock::new();
    C.get_or_init(|| Arc::new(utoipa_swagger_ui::Config::from("/api/openapi.json")))
        .clone()
}

/// Swagger UI needs inline styles; scripts stay same-origin files.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

/// `GET /api/docs` → the index page.
pub async fn docs_index() -> Response {
    axum::response::Redirect::to("/api/docs/").into_response()
}

/// `GET /api/docs/{*path}`: the embedded Swagger UI files.
pub async fn docs_file(path: Option<Path<String>>) -> Response {
    let p = path.map(|Path(p)| p).unwrap_or_default();
    match utoipa_swagger_ui::serve(&p, swagger_config()) {
        Ok(Some(f)) => {
            let mut r = (
                [
                    (header::CONTENT_TYPE, header_value(&f.content_type)),
                    (header::CONTENT_SECURITY_POLICY, header_value(DOCS_CSP)),
                ],
                f.bytes.into_owned(),
            )
                .into_response();
            if f.gzpipped {
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, header_value("gzip"));
            }
            r
        }
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
