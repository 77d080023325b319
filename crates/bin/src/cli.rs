//! Command-line interface (clap). `--help` is English; the product is 台账.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use taizhang_app::{App, AppSettings, SystemClock};
use taizhang_store::Store;

use crate::config::{Config, EXAMPLE, Overrides};

#[derive(Parser, Debug)]
#[command(
    name = "taizhang",
    version,
    about = "Taizhang (台账) — the 11710 supervision ledger of an organization department",
    long_about = "Taizhang (台账): 一事一台账、一日一清查、一周一小结、一月一盘点、一年一归零.\n\
                  One binary: web UI and JSON API, SQLite by default, PostgreSQL for several nodes."
)]
pub struct Cli {
    /// Configuration file (default: ./taizhang.toml if it exists).
    #[arg(long, global = true, env = "TAIZHANG_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// Log format: text or json.
    #[arg(long, global = true)]
    pub log_format: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web UI and the API.
    Serve {
        /// Load the demo organization into a fresh database first, then serve.
        #[arg(long)]
        demo: bool,
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
        /// Password for all demo accounts (with --demo); default: one random password, printed once.
        #[arg(long)]
        password: Option<String>,
    },
    /// Load the demo organization (units, people, matters) into an empty database.
    Demo {
        /// Password for all demo accounts; default: one random password, printed once.
        #[arg(long)]
        password: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print the commented default configuration file.
    ConfigExample,
    /// Write a portable backup of the whole database.
    Backup {
        /// Backup file to write.
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into an empty database.
    Restore {
        /// Backup file to read.
        #[arg(long)]
        from: PathBuf,
        /// Overwrite a database that is not empty.
        #[arg(long)]
        force: bool,
    },
    /// Print the version.
    Version,
    /// Accounts and API tokens.
    Admin {
        #[command(subcommand)]
        cmd: crate::cmd_admin::AdminCmd,
    },
    /// Benchmark data and query plans: `bench seed --matters N`, `bench explain [--out FILE]`.
    Bench {
        #[command(subcommand)]
        cmd: crate::cmd_bench::BenchCmd,
    },
    /// The tamper-evident audit trail.
    Audit {
        #[command(subcommand)]
        cmd: crate::cmd_admin::AuditCmd,
    },
    /// Cadence jobs: daily-check, weekly-summary, monthly-stocktake, year-close.
    Jobs {
        #[command(subcommand)]
        cmd: crate::cmd_jobs::JobsCmd,
    },
    /// The working-day calendar (工作日历).
    Calendar {
        #[command(subcommand)]
        cmd: crate::cmd_calendar::CalendarCmd,
    },
    /// Import Excel/CSV ledgers: `import ledger FILE [--dry-run] [--format json]`.
    Import {
        #[command(subcommand)]
        cmd: crate::cmd_office::ImportCmd,
    },
    /// Export the ledger: `export ledger [--year Y] [--unit NAME] --out FILE.xlsx|.csv`.
    Export {
        #[command(subcommand)]
        cmd: crate::cmd_office::ExportCmd,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let flags = Overrides {
        bind: match &cli.command {
            Command::Serve { bind, .. } => bind.clone(),
            _ => None,
        },
        database_url: cli.database_url.clone(),
        log_format: cli.log_format.clone(),
    };
    match cli.command {
        Command::ConfigExample => {
            print!("{EXAMPLE}");
            return Ok(ExitCode::SUCCESS);
        }
        Command::Version => {
            println!("taizhang {}", env!("CARGO_PKG_VERSION"));
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let cfg = Config::load(cli.config.as_deref(), &flags)?;
    init_logging(&cfg);
    match cli.command {
        Command::Serve { demo, password, .. } => crate::serve::run(cfg, demo, password).await,
        Command::Demo { password } => {
            let app = open_app(&cfg).await?;
            load_demo(&app, password).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let app = open_app(&cfg).await?;
            println!("migrations applied ({})", describe_db(&app.store));
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { to } => {
            let app = open_app(&cfg).await?;
            backup(&app, &to).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { from, force } => {
            let app = open_app(&cfg).await?;
            restore(&app, &from, force).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin { cmd } => {
            let app = open_app(&cfg).await?;
            crate::cmd_admin::run_admin(&app, cmd).await
        }
        Command::Bench { cmd } => {
            let app = open_app(&cfg).await?;
            crate::cmd_bench::run(&app, cmd).await
        }
        Command::Audit { cmd } => {
            let app = open_app(&cfg).await?;
            crate::cmd_admin::run_audit(&app, cmd).await
        }
        Command::Jobs { cmd } => crate::cmd_jobs::run(&cfg, cmd).await,
        Command::Calendar { cmd } => crate::cmd_calendar::run(&cfg, cmd).await,
        Command::Import { cmd } => crate::cmd_office::run_import(&cfg, cmd).await,
        Command::Export { cmd } => crate::cmd_office::run_export(&cfg, cmd).await,
        Command::ConfigExample | Command::Version => Ok(ExitCode::SUCCESS),
    }
}

pub fn init_logging(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&cfg.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if cfg.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Open the database, apply migrations, and build the application.
pub async fn open_app(cfg: &Config) -> anyhow::Result<App> {
    let store = Store::connect(&cfg.database_url)
        .await
        .context("cannot open the database")?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    let key = crate::keys::load_or_create(&cfg.audit_key_file)?;
    let settings = AppSettings {
        audit_key: Arc::new(key),
        node_name: cfg.node_name.clone(),
        session_idle_minutes: cfg.session_idle_minutes,
        session_absolute_hours: cfg.session_absolute_hours,
        lockout_threshold: cfg.lockout_threshold,
        lockout_minutes: cfg.lockout_minutes,
        password_profile: cfg.password_profile.clone(),
        audit_retention_days: cfg.audit_retention_days,
        matter_number_pattern: cfg.matter_number_pattern.clone(),
    };
    Ok(App::new(store, Arc::new(SystemClock), settings))
}

pub fn describe_db(store: &Store) -> String {
    match store.sqlite_path() {
        Some(p) => format!("SQLite {}", p.display()),
        None => "PostgreSQL".into(),
    }
}

/// Load the demo and print the logins; returns the password used.
pub async fn load_demo(app: &App, password: Option<String>) -> anyhow::Result<String> {
    let password = password.unwrap_or_else(taizhang_app::passwords::random_password);
    let summary = taizhang_app::demo::load(app, &password)
        .await
        .context("cannot load the demo data")?;
    println!(
        "demo loaded: {} units, {} people, {} matters ({})",
        summary.units,
        summary.people,
        summary.matters,
        describe_db(&app.store)
    );
    println!("demo logins (password for all: {password}):");
    for (user, what) in taizhang_app::demo::DEMO_LOGINS {
        println!("  {user:<10} {what}");
    }
    Ok(password)
}

async fn backup(app: &App, to: &std::path::Path) -> anyhow::Result<()> {
    if to.exists() {
        bail!("{} already exists; choose a new file name", to.display());
    }
    let tmp = to.with_extension("partial");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let summary = match app.store.backup_to(&mut w).await {
        Ok(s) => s,
        Err(e) => {
            drop(w);
            let _ = std::fs::remove_file(&tmp);
            return Err(e).context("backup failed");
        }
    };
    // On disk before it takes its final name (rows were streamed, never held in memory).
    let synced = w
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)
        .and_then(|f| f.sync_all());
    if let Err(e) = synced {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", tmp.display()));
    }
    std::fs::rename(&tmp, to)
        .with_context(|| format!("cannot move the backup into {}", to.display()))?;
    taizhang_app::audit::record_alone(
        app,
        &taizhang_app::Caller::system("cli"),
        taizhang_app::audit::Event::ok(
            "backup.create",
            "database",
            "backup",
            format!(
                "file={} rows={} sha256={}",
                to.display(),
                summary.total_rows(),
                summary.sha256
            ),
        ),
    )
    .await
    .context("cannot record the backup in the audit trail")?;
    println!(
        "backup written to {}: {} rows, sha256 {}",
        to.display(),
        summary.total_rows(),
        summary.sha256
    );
    Ok(())
}

async fn restore(app: &App, from: &std::path::Path, force: bool) -> anyhow::Result<()> {
    let file =
        std::fs::File::open(from).with_context(|| format!("cannot open {}", from.display()))?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, file);
    let summary = app
        .store
        .restore_from(&mut r, force)
        .await
        .context("restore failed; nothing was changed")?;
    // The restored trail continues with the restore itself.
    taizhang_app::audit::record_alone(
        app,
        &taizhang_app::Caller::system("cli"),
        taizhang_app::audit::Event::ok(
            "backup.restore",
            "database",
            "restore",
            format!(
                "file={} rows={} sha256={} force={force}",
                from.display(),
                summary.total_rows(),
                summary.sha256
            ),
        ),
    )
    .await
    .context("restored, but the restore could not be recorded in the audit trail")?;
    println!(
        "restored {} rows from {} ({})",
        summary.total_rows(),
        from.display(),
        describe_db(&app.store)
    );
    for (t, n) in &summary.counts {
        if *n > 0 {
            println!("  {t:<20} {n}");
        }
    }
    Ok(())
}
