//! `taizhang jobs run …`: run or replay one cadence (一日一清查, 一周一小结, 一月一盘点, 一年一归零).

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use taizhang_jobs::{Kind, Outcome};

use crate::cli::open_app;
use crate::config::Config;

#[derive(Subcommand, Debug)]
pub enum JobsCmd {
    /// Run one cadence for the period containing --as-of (or --year for year-close).
    Run {
        /// daily-check, weekly-summary, monthly-stocktake or year-close.
        kind: String,
        /// The day to run as (YYYY-MM-DD); default today.
        #[arg(long)]
        as_of: Option<String>,
        /// The year to close (year-close only).
        #[arg(long)]
        year: Option<i16>,
        /// Run again even if the period already ran.
        #[arg(long)]
        replay: bool,
    },
}

pub async fn run(cfg: &Config, cmd: JobsCmd) -> anyhow::Result<ExitCode> {
    let JobsCmd::Run {
        kind,
        as_of,
        year,
        replay,
    } = cmd;
    let kind = Kind::parse(&kind).with_context(|| {
        format!("unknown cadence `{kind}`: use daily-check, weekly-summary, monthly-stocktake or year-close")
    })?;
    let app = open_app(cfg).await?;
    let outcome = match kind {
        Kind::YearClose => {
            let Some(y) = year else {
                bail!("year-close needs --year YYYY")
            };
            taizhang_jobs::close_year(&app, y, replay).await?
        }
        _ => {
            let day = match as_of {
                Some(s) => s
                    .parse()
                    .with_context(|| format!("--as-of `{s}` is not a date (YYYY-MM-DD)"))?,
                None => app.clock.today(),
            };
            taizhang_jobs::run(&app, kind, day, replay).await?
        }
    };
    match outcome {
        Outcome::Ran { period, summary } => println!("{} {period}: {summary}", kind.code()),
        Outcome::AlreadyClaimed { period } => {
            println!(
                "{} {period}: already run (use --replay to run again)",
                kind.code()
            )
        }
    }
    Ok(ExitCode::SUCCESS)
}
