//! `taizhang serve`: bind, print where the data lives, serve until SIGTERM/SIGINT.

use std::process::ExitCode;

use anyhow::Context;
use taizhang_web::{AppState, ServerInfo};

use crate::cli::{describe_db, load_demo, open_app};
use crate::config::Config;

pub async fn run(cfg: Config, demo: bool, password: Option<String>) -> anyhow::Result<ExitCode> {
    let addr = cfg.bind_addr()?;
    // Bind first: a port in use must fail before anything is written.
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!(
            "cannot listen on {addr} (is another server using that port? choose one with --bind)"
        )
    })?;
    let app = open_app(&cfg).await?;
    println!(
        "taizhang {} — database: {}",
        env!("CARGO_PKG_VERSION"),
        describe_db(&app.store)
    );
    if demo {
        let has_demo = {
            let mut c = app.store.read().await?;
            taizhang_store::people::find_by_username(&mut c, "ducha")
                .await?
                .is_some()
        };
        if has_demo {
            println!(
                "demo data already loaded; demo logins: {}",
                taizhang_app::demo::DEMO_LOGINS
                    .iter()
                    .map(|(u, _)| *u)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        } else {
            load_demo(&app, password).await?;
        }
    } else if let Some(pw) = taizhang_app::org::bootstrap_admin(&app)
        .await
        .context("cannot create the first administrator")?
    {
        println!("first start: created the administrator `admin` with the one-time password {pw}");
        println!("it must be changed at first login, and is not shown again.");
    }
    let info = ServerInfo {
        version: env!("CARGO_PKG_VERSION"),
        backend: if app.store.sqlite_path().is_some() {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        sqlite_path: app.store.sqlite_path().map(|p| p.display().to_string()),
        // The demo on this machine is opened as plain http://127.0.0.1, where browsers do not keep
        // `Secure`/`__Host-` cookies reliably; every other setup keeps them (TLS in front).
        secure_cookies: cfg.secure_cookies && !(demo && addr.ip().is_loopback()),
        trusted_proxies: cfg
            .trusted_proxies
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect(),
    };
    let store = app.store.clone();
    if let Err(e) = taizhang_app::audit::checkpoint(&app).await {
        tracing::warn!(error = %e, "could not sign an audit checkpoint at start");
    }
    let scheduler = cfg
        .scheduler
        .then(|| taizhang_jobs::spawn_scheduler(app.clone()));
    let outbox = spawn_outbox(&cfg, &app).await?;
    let state = AppState::new(app, info).map_err(|e| anyhow::anyhow!(e))?;
    let router = taizhang_web::router_with(state, cfg.http_limits());
    if demo && addr.ip().is_loopback() && cfg.secure_cookies {
        println!(
            "demo on loopback: session cookie without Secure so that http://{addr}/ works in any browser"
        );
    }
    println!("serving on http://{addr}/");
    tracing::info!(bind = %addr, "listening");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("server error")?;
    if let Some(h) = scheduler {
        h.abort();
    }
    outbox.abort();
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The notification outbox worker, with email when an SMTP relay is configured.
async fn spawn_outbox(
    cfg: &Config,
    app: &taizhang_app::App,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    use taizhang_notify::{SmtpConfig, SmtpSecurity, SmtpSender, Transports, WebhookSender};
    let smtp = if cfg.smtp_host.trim().is_empty() {
        None
    } else {
        let security = match cfg.smtp_security.as_str() {
            "tls" => SmtpSecurity::ImplicitTls,
            "plain" => SmtpSecurity::Plain,
            _ => SmtpSecurity::StartTls,
        };
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Some(
            SmtpSender::new(&SmtpConfig {
                host: cfg.smtp_host.clone(),
                port: u16::try_from(cfg.smtp_port).unwrap_or(587),
                security,
                username: opt(&cfg.smtp_username),
                password: opt(&cfg.smtp_password),
                from: cfg.smtp_from.clone(),
                timeout: std::time::Duration::from_secs(20),
                hello_name: None,
            })
            .map_err(|e| anyhow::anyhow!("smtp configuration: {e}"))?,
        )
    };
    let allow = taizhang_app::notify::current_allow_list(app)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let webhook = WebhookSender::new(allow).map_err(|e| anyhow::anyhow!("webhook sender: {e}"))?;
    let worker = taizhang_jobs::outbox::OutboxWorker::new(
        app.clone(),
        std::sync::Arc::new(Transports::new(smtp, webhook)),
    );
    Ok(taizhang_jobs::outbox::spawn_outbox(
        worker,
        std::time::Duration::from_secs(15),
    ))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}
