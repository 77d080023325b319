//! Query plans of the statements the application runs, for `taizhang bench explain`: the
//! backend's own `EXPLAIN` of a statement with its arguments bound, and how long the statement
//! itself takes. Read-only; the statements are built by the code that runs them.

use std::time::Instant;

use sqlx::Row;

use crate::matters::Arg;
use crate::{Conn, StoreResult};

/// A bound argument of an explained statement (NULL-able, unlike [`Arg`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<&Arg> for Bind {
    fn from(a: &Arg) -> Bind {
        match a {
            Arg::Int(v) => Bind::Int(Some(*v)),
            Arg::Text(s) => Bind::Text(Some(s.clone())),
        }
    }
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args.iter() {
            q = match a {
                Bind::Int(v) => q.bind(*v),
                Bind::Text(s) => q.bind(s.clone()),
            };
        }
        q
    }};
}

/// How the plan is asked for on PostgreSQL (SQLite has only `EXPLAIN QUERY PLAN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgExplain {
    /// `EXPLAIN (COSTS OFF)`: the plan alone, stable from run to run.
    Plan,
    /// `EXPLAIN (ANALYZE, COSTS OFF, BUFFERS, TIMING OFF)`: runs the statement, with the rows
    /// each node produced.
    Analyze,
}

/// The plan of `sql` with `args` bound, one line per node, children indented by two spaces.
pub async fn plan(
    c: &mut Conn,
    sql: &str,
    args: &[Bind],
    pg: PgExplain,
) -> StoreResult<Vec<String>> {
    match c.exec().await? {
        crate::conn::Exec::Sqlite(c) => {
            let q = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
            let rows = bind_all!(q, args).fetch_all(&mut *c).await?;
            // (id, parent, detail); a node's parent precedes it.
            let mut depth: std::collections::HashMap<i64, usize> = Default::default();
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let id: i64 = r.try_get(0)?;
                let parent: i64 = r.try_get(1)?;
                let detail: String = r.try_get(3)?;
                let d = depth.get(&parent).map_or(0, |d| d + 1);
                depth.insert(id, d);
                out.push(format!("{}{detail}", "  ".repeat(d)));
            }
            Ok(out)
        }
        crate::conn::Exec::Pg(c) => {
            let options = match pg {
                PgExplain::Plan => "COSTS OFF",
                PgExplain::Analyze => "ANALYZE, COSTS OFF, BUFFERS, TIMING OFF",
            };
            let q = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN ({options}) {sql}")))
                // One plan for these values, as the application's first runs get.
                .persistent(false);
            let rows = bind_all!(q, args).fetch_all(&mut *c).await?;
            rows.iter()
                .map(|r| r.try_get::<String, _>(0).map_err(Into::into))
                .collect()
        }
    }
}

/// Run `sql` with `args` `runs` times (after one warm-up run): the rows it returned and the
/// wall time of each run in milliseconds.
pub async fn time(
    c: &mut Conn,
    sql: &str,
    args: &[Bind],
    runs: usize,
) -> StoreResult<(usize, Vec<f64>)> {
    let mut rows = 0;
    let mut ms = Vec::with_capacity(runs);
    for i in 0..=runs {
        let started = Instant::now();
        rows = crate::on!(c, c => {
            let q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
            bind_all!(q, args).fetch_all(&mut *c).await?.len()
        });
        if i > 0 {
            ms.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok((rows, ms))
}

/// The first column of the first row of a read-only query without arguments (picking the
/// arguments to explain with: a busy person, a matter with many reports), `None` when no row
/// or NULL.
pub async fn pick_int(c: &mut Conn, sql: &str) -> StoreResult<Option<i64>> {
    let v: Option<Option<i64>> = crate::on!(c, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_optional(&mut *c).await?);
    Ok(v.flatten())
}

/// As [`pick_int`], for a text column.
pub async fn pick_text(c: &mut Conn, sql: &str) -> StoreResult<Option<String>> {
    let v: Option<Option<String>> = crate::on!(c, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_optional(&mut *c).await?);
    Ok(v.flatten())
}

/// The server's version line (`SELECT version()` / `sqlite_version()`), for the document.
pub async fn server_version(c: &mut Conn) -> StoreResult<String> {
    let v: String = match c.exec().await? {
        crate::conn::Exec::Sqlite(c) => {
            let v: String = sqlx::query_scalar("SELECT sqlite_version()")
                .fetch_one(&mut *c)
                .await?;
            format!("SQLite {v}")
        }
        crate::conn::Exec::Pg(c) => {
            sqlx::query_scalar("SELECT version()")
                .fetch_one(&mut *c)
                .await?
        }
    };
    Ok(v)
}
