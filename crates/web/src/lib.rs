//! HTTP layer of Taizhang: server-rendered zh-CN pages and the JSON API on axum.
//! Handlers extract, call a use case, and render; nothing here names SQL.

mod admin_pages;
mod admin_units;
mod api;
mod assets;
mod attachment_pages;
mod auth_pages;
mod cadence_pages;
mod calendar_pages;
mod ctx;
mod error;
pub mod guard;
mod i18n;
mod layers;
mod ledger_names;
mod ledger_pages;
mod matter_edit;
mod matter_forms;
mod matter_loop;
mod matter_new;
mod matter_pages;
mod metrics;
mod notify_pages;
mod office_pages;
mod pages;
mod render;
mod report_pages;
pub mod routes;
mod session;
mod threshold_pages;
mod weekly_pages;
mod year_pages;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use taizhang_app::App;

pub use layers::HttpLimits;
pub use metrics::Metrics;
pub use render::Templates;

/// Facts about the running server shown on status pages, and the web settings.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub version: &'static str,
    pub backend: &'static str,
    /// Absolute path of the SQLite file in use, if any.
    pub sqlite_path: Option<String>,
    /// Cookies with `Secure` and the `__Host-` prefix.
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub templates: Arc<Templates>,
    pub metrics: Arc<Metrics>,
    pub info: Arc<ServerInfo>,
    /// Intrusion signals (refusal bursts, login throttling per address).
    pub guard: Arc<guard::Guard>,
}

impl AppState {
    pub fn new(app: App, info: ServerInfo) -> Result<AppState, String> {
        Ok(AppState {
            app,
            templates: Arc::new(Templates::load()?),
            metrics: Arc::new(Metrics::default()),
            guard: Arc::new(guard::Guard::default()),
            info: Arc::new(info),
        })
    }
}

/// The whole router with its middleware. Every route comes from [`routes::table`], which also
/// declares who may reach it; the authorization matrix test walks that table.
pub fn router(state: AppState) -> Router {
    router_with(state, HttpLimits::default())
}

/// [`router`] with the time limits of the configuration.
pub fn router_with(state: AppState, limits: HttpLimits) -> Router {
    let mut r = Router::new();
    for e in routes::table() {
        let gated = layers::limit_route(routes::gate(&state, &e), e.transfer(), &limits);
        r = r.route(e.path, gated);
    }
    let r = r
        .route("/static/{*path}", get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(i18n::layer));
    layers::apply(r, state.clone(), &limits).with_state(state)
}
