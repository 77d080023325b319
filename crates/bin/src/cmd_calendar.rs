//! `taizhang calendar …`: working-day arithmetic, the overrides of a year, importing a notice.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use taizhang_app::Caller;
use taizhang_app::ledger::calendar;

use crate::cli::open_app;
use crate::config::Config;

#[derive(Subcommand, Debug)]
pub enum CalendarCmd {
    /// Print the date N working days after DATE (“N个工作日内”, counted from the next day).
    AddWorkdays { date: String, n: u32 },
    /// List the 休/班 overrides of a year.
    List { year: i16 },
    /// Import a notice file (`date,kind,name,notice` lines, kind 休/班); replaces its years.
    Import { file: PathBuf },
}

pub async fn run(cfg: &Config, cmd: CalendarCmd) -> anyhow::Result<ExitCode> {
    let app = open_app(cfg).await?;
    match cmd {
        CalendarCmd::AddWorkdays { date, n } => {
            let start = date
                .parse()
                .with_context(|| format!("`{date}` is not a date (YYYY-MM-DD)"))?;
            let (d, provisional) = calendar::add_workdays(&app, start, n).await?;
            println!("{d}");
            if provisional {
                eprintln!(
                    "note: provisional — the holiday notice for a year in this span is not loaded"
                );
            }
        }
        CalendarCmd::List { year } => {
            let (lines, published) = calendar::list_year(&app, year).await?;
            if !published {
                println!(
                    "# {year}: notice not loaded — dates follow the weekday rule and are provisional"
                );
            }
            for l in lines {
                println!("{} {} {} {}", l.date, l.kind, l.name, l.notice);
            }
        }
        CalendarCmd::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let years = calendar::import(&app, &Caller::system("cli"), &text).await?;
            println!("imported {} ({years:?})", file.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
