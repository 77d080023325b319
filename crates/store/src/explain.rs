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
/// On SQLite, as the read connection of pages and the API plans it (the query planner stability
/// guarantee on: one plan whatever the values; see `sync_read`).
pub async fn plan(
    c: &mut Conn,
    sql: &str,
    args: &[Bind],
    pg: PgExplain,
) -> StoreResult<Vec<String>> {
    if let Some(s) = c.sync() {
        return Ok(indented(s.query_plan(sql, args)?));
    }
    match c.exec().await? {
        crate::conn::Exec::Sqlite(c) => sniffed(c, sql, args).await,
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

/// On SQLite, the plan of `sql` as a connection that looks at the bound values plans it (STAT4:
/// sqlx's connections, which run exports, imports and the cadence jobs); `None` on PostgreSQL.
pub async fn plan_with_values(
    c: &mut Conn,
    sql: &str,
    args: &[Bind],
) -> StoreResult<Option<Vec<String>>> {
    match c.exec().await? {
        crate::conn::Exec::Sqlite(c) => Ok(Some(sniffed(c, sql, args).await?)),
        crate::conn::Exec::Pg(_) => Ok(None),
    }
}

async fn sniffed(
    c: &mut sqlx::SqliteConnection,
    sql: &str,
    args: &[Bind],
) -> StoreResult<Vec<String>> {
    let q = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
    let rows = bind_all!(q, args).fetch_all(&mut *c).await?;
    let mut nodes = Vec::with_capacity(rows.len());
    for r in &rows {
        nodes.push((r.try_get(0)?, r.try_get(1)?, r.try_get(3)?));
    }
    Ok(indented(nodes))
}

/// (id, parent, detail) nodes as lines, each indented two spaces deeper than its parent (which
/// precedes it).
fn indented(nodes: Vec<(i64, i64, String)>) -> Vec<String> {
    let mut depth: std::collections::HashMap<i64, usize> = Default::default();
    let mut out = Vec::with_capacity(nodes.len());
    for (id, parent, detail) in nodes {
        let d = depth.get(&parent).map_or(0, |d| d + 1);
        depth.insert(id, d);
        out.push(format!("{}{detail}", "  ".repeat(d)));
    }
    out
}

impl rusqlite::ToSql for Bind {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{Null, ToSqlOutput};
        Ok(match self {
            Bind::Int(Some(v)) => ToSqlOutput::from(*v),
            Bind::Text(Some(s)) => ToSqlOutput::from(s.as_str()),
            Bind::Int(None) | Bind::Text(None) => ToSqlOutput::from(Null),
        })
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
        rows = if let Some(s) = c.sync() {
            s.step_all(sql, args)?
        } else {
            crate::on!(c, c => {
                let q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
                bind_all!(q, args).fetch_all(&mut *c).await?.len()
            })
        };
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
