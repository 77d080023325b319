//! `taizhang` — the one binary: serve, demo, migrate, backup/restore, admin, audit, calendar, jobs.

mod cli;
mod cmd_admin;
mod cmd_bench;
mod cmd_calendar;
mod cmd_jobs;
mod cmd_office;
mod config;
mod keys;
mod serve;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = <cli::Cli as clap::Parser>::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            // One clear line (with its causes) that says what is wrong.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
