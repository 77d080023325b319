//! `taizhang bench …`: fill a database with a realistic ledger for benchmarks, and show the
//! query plans of the lists and counts on it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Subcommand;
use taizhang_app::App;
use taizhang_app::bench_seed::{SeedOptions, seed};
use taizhang_app::ledger::explain::{ExplainOptions, document};

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
    /// Print the query plans (Markdown) of every list and count the pages and the API run on
    /// the tables that grow with the ledger, on the configured database (SQLite or PostgreSQL),
    /// with the statements the code builds and the demo accounts of `bench seed`.
    Explain {
        /// Write the document here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// PostgreSQL: EXPLAIN (ANALYZE, BUFFERS, TIMING OFF), which runs each statement.
        #[arg(long)]
        analyze: bool,
        /// Timed runs of each statement (median shown); 0 for plans only.
        #[arg(long, default_value_t = 5)]
        runs: usize,
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
        BenchCmd::Explain { out, analyze, runs } => {
            let doc = document(app, &ExplainOptions { analyze, runs })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            match out {
                Some(path) => std::fs::write(&path, doc)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
                None => print!("{doc}"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
