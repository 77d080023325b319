//! HTTP layer of Taizhang: server-rendered zh-CN pages and the JSON API on axum.
//! Handlers extract, call a use case, and render; nothing here names SQL.

mod assets;
mod error;
mod layers;
mod metrics;
mod pages;
mod render;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use taizhang_app::App;

pub use metrics::Metrics;
pub use render::Templates;

/// Facts about the running server shown on status pages.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub version: &'static str,
    pub backend: &'static str,
    /// Absolute path of the SQLite file in use, if any.
    pub sqlite_path: Option<String>,
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub templates: Arc<Templates>,
    pub metrics: Arc<Metrics>,
    pub info: Arc<ServerInfo>,
}

impl AppState {
    pub fn new(app: App, info: ServerInfo) -> Result<AppState, String> {
        Ok(AppState {
            app,
            templates: Arc::new(Templates::load()?),
            metrics: Arc::new(Metrics::default()),
            info: Arc::new(info),
        })
    }
}

/// The whole router with its middleware.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(pages::home))
        .route("/healthz", get(pages::healthz))
        .route("/readyz", get(pages::readyz))
        .route("/metrics", get(metrics::render))
        .route("/static/{*path}", get(assets::serve))
        .fallback(pages::not_found);
    layers::apply(routes, state.clone()).with_state(state)
}
