//! Templates (minijinja, auto-escaping `.html`), embedded in the binary and loaded at start.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use rust_embed::Embed;
use serde::Serialize;

#[derive(Embed)]
#[folder = "templates/"]
struct TemplateFiles;

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn load() -> Result<Templates, String> {
        let mut env = Environment::new();
        env.add_filter("fmt_ms", |v: Option<i64>| {
            v.map(taizhang_app::clock::format_ms).unwrap_or_default()
        });
        env.add_filter("t", crate::i18n::filter);
        env.add_function("lang_now", crate::i18n::current);
        for name in TemplateFiles::iter() {
            let Some(file) = TemplateFiles::get(&name) else {
                continue;
            };
            let src = String::from_utf8(file.data.into_owned())
                .map_err(|e| format!("template {name}: {e}"))?;
            env.add_template_owned(name.to_string(), src)
                .map_err(|e| format!("template {name}: {e}"))?;
        }
        Ok(Templates { env })
    }

    /// Render a template, or a plain 500 that names the template (the cause goes to the log).
    pub fn render<S: Serialize>(&self, name: &str, ctx: S) -> Response {
        self.render_status(StatusCode::OK, name, ctx)
    }

    pub fn render_status<S: Serialize>(&self, status: StatusCode, name: &str, ctx: S) -> Response {
        let out = self
            .env
            .get_template(name)
            .and_then(|t| t.render(minijinja::value::Serde(&ctx)));
        match out {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "template render failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<h1>页面渲染失败</h1>".to_owned()),
                )
                    .into_response()
            }
        }
    }
}
