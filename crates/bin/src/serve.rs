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
        secure_cookies: cfg.secure_cookies,
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
    let scheduler = cfg.scheduler.then(|| taizhang_jobs::spawn_scheduler(app.clone()));
    let state = AppState::new(app, info).map_err(|e| anyhow::anyhow!(e))?;
    let router = taizhang_web::router(state);
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
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
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
