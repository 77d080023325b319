//! `taizhang bench …`: fill a database with a realistic ledger for benchmarks.

use std::process::ExitCode;
use std::time::Instant;

use clap::Subcommand;
use taizhang_app::App;
use taizhang_app::bench_seed::{SeedOptions, seed};

#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// Fill the database with N matters (deterministic for a given --seed), their milestones,
    /// progress reports, extensions and 督办单, on the demo organization scaled to about one
    /// person per 50 matters.
    Seed {
        #[arg(long)]
        matters: u64,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Password of the demo accounts created on an empty database.
        #[arg(long, default_value = "Bench#Pass2026")]
        password: String,
    },
}

pub async fn run(app: &App, cmd: BenchCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCmd::Seed {
            matters,
            seed: s,
            password,
        } => {
            let started = Instant::now();
            let report = seed(
                app,
                &SeedOptions {
                    matters,
                    seed: s,
                    password,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let secs = started.elapsed().as_secs_f64();
            let rate = report.matters as f64 / secs.max(1e-9);
            let out = serde_json::json!({"report": report, "seconds": (secs * 100.0).round() / 100.0, "matters_per_second": rate.round()});
            println!("{out}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
