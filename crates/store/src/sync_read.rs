//! Synchronous SQLite reads for the hot, bounded queries of pages and the API.
//!
//! sqlx runs every SQLite connection on a worker thread of its own: each statement is a command
//! sent to that thread and a result sent back, two thread wake-ups, and the pool adds a round
//! trip when a connection goes back. For a list page or one matter with its timeline (a dozen
//! statements of a few hundred microseconds of SQLite work in all) those hand-offs were a third
//! of the server's CPU per request. Here a read connection of the request is a plain
//! [`rusqlite::Connection`] used on the request's own thread: the statement runs where the
//! request runs, with no hand-off at all.
//!
//! Only reads whose cost is bounded (one matter by id, its timeline, a page of at most 201
//! rows, a settings pair) run here, inline. Whole-ledger passes (exports, cadence jobs, light
//! scans) stay on sqlx's worker threads, so a long read never holds a runtime thread; counts
//! run here inside [`tokio::task::block_in_place`], which hands the runtime thread's other tasks
//! to another thread for the count's few milliseconds.
//!
//! Both libraries link the same `libsqlite3-sys`, so this is the same SQLite build, file and
//! WAL as every other connection.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::OpenFlags;
use rusqlite::config::DbConfig;
use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::matters::Arg;
use crate::row::GetCol;
use crate::{StoreError, StoreResult};

/// Idle connections kept for reuse; a burst beyond it opens more and closes them afterwards.
const KEEP_IDLE: usize = 4;

/// Prepared statements kept per connection (the list page's SQL varies with its filters).
const STATEMENT_CACHE: usize = 128;

/// Counts and fingerprints kept per connection at most; more clear the cache.
const KEPT: usize = 256;

/// The most ids a read may name and still count as bounded (a page of at most 200 matters and
/// the one past it): run inline on a SQLite read connection.
pub(crate) const BOUNDED_IDS: usize = 201;

/// The read-only connections of one SQLite file.
pub(crate) struct SyncPool {
    path: PathBuf,
    idle: Mutex<Vec<(rusqlite::Connection, KeptInts)>>,
}

/// The integers one connection read — a list's total, a cache's fingerprint (the unit tree's,
/// the name directory's) — by SQL and arguments, valid while the database is unchanged: `PRAGMA data_version` of a connection changes when any other
/// connection, of this process or another (a CLI job, an import), commits a change. Counting the
/// overdue matters walks an index entry per match (≈ 2.6 ms at 10^6 matters, 170,000 entries)
/// and every list with `with_total` and every 台账 page asks again; between two writes the
/// answer is the same. A fingerprint over the people table costs 0.3 ms at 10^5 matters (2,000
/// people) and 3 ms at 10^6, on every ledger page. The date a count depends on is in its SQL or
/// arguments, so a new day is a new key.
#[derive(Default)]
struct KeptInts {
    /// The `data_version` the values were read at.
    version: Option<i64>,
    /// By SQL, then arguments: a look-up borrows both, nothing is built to find a value.
    values: std::collections::HashMap<String, std::collections::HashMap<Vec<Arg>, Vec<i64>>>,
    /// How many values `values` holds.
    len: usize,
}

impl SyncPool {
    pub(crate) fn new(path: PathBuf) -> Arc<SyncPool> {
        Arc::new(SyncPool {
            path,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// An idle connection, or a new one.
    pub(crate) fn take(self: &Arc<Self>) -> StoreResult<SyncConn> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        let (conn, kept) = match idle {
            Some(c) => c,
            None => (self.open()?, KeptInts::default()),
        };
        Ok(SyncConn {
            conn: Some(conn),
            kept: std::cell::RefCell::new(kept),
            pool: Arc::clone(self),
        })
    }

    fn open(&self) -> StoreResult<rusqlite::Connection> {
        let c = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| {
            StoreError::Unavailable(format!("cannot open {}: {e}", self.path.display()))
        })?;
        c.busy_timeout(Duration::from_secs(10)).map_err(sql_error)?;
        // 8 MB: the pages a page or a matter reads again and again stay here; the operating
        // system caches the rest of the file (see `Store::connect_sqlite`).
        c.pragma_update(None, "cache_size", -8000)
            .map_err(sql_error)?;
        c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // The query planner stability guarantee: a statement is planned once, without looking
        // at the values bound to it. Without it, SQLite built with STAT4 (as `libsqlite3-sys`
        // builds it) and a database with `sqlite_stat4` (after `ANALYZE`) marks every
        // statement that compares an indexed column with a parameter as expired when a value
        // is bound, and prepares it again on its next step: a kept statement was parsed and
        // planned on every use (a matter with its timeline: 12 statements, 45 % of its CPU).
        // The plans these reads get are in docs/QUERY-PLANS.md (`bench explain` asks this
        // connection).
        c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(sql_error)?;
        Ok(c)
    }

    /// Drop idle connections (graceful shutdown).
    pub(crate) fn close(&self) {
        if let Ok(mut v) = self.idle.lock() {
            v.clear();
        }
    }
}

/// A read connection taken from a [`SyncPool`]; goes back when dropped.
pub struct SyncConn {
    conn: Option<rusqlite::Connection>,
    kept: std::cell::RefCell<KeptInts>,
    pool: Arc<SyncPool>,
}

impl Drop for SyncConn {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take()
            && c.is_autocommit()
            && let Ok(mut idle) = self.pool.idle.lock()
            && idle.len() < KEEP_IDLE
        {
            idle.push((c, self.kept.take()));
        }
    }
}

impl SyncConn {
    fn conn(&self) -> StoreResult<&rusqlite::Connection> {
        self.conn
            .as_ref()
            .ok_or_else(|| StoreError::Other("read connection already returned".into()))
    }

    /// Every row of `sql` with `args` bound, mapped by `map`. With `cache`, the prepared
    /// statement is kept for the next use of the same text.
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        args: &[Arg],
        cache: bool,
        mut map: impl FnMut(&dyn GetCol) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let c = self.conn()?;
        let (mut cached, mut once);
        let stmt: &mut rusqlite::Statement<'_> = if cache {
            cached = c.prepare_cached(sql).map_err(sql_error)?;
            &mut cached
        } else {
            // A statement that names its ids (`IN (1,2,…)`) will not come again: kept, a few
            // hundred of them held megabytes per connection.
            once = c.prepare(sql).map_err(sql_error)?;
            &mut once
        };
        bind(stmt, args)?;
        let names: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_error)? {
            out.push(map(&SyncRow {
                row,
                names: &names,
                next: std::cell::Cell::new(0),
            })?);
        }
        Ok(out)
    }

    /// The integers of `sql` with `args` from this connection's [`KeptInts`], if it holds them
    /// from since the database last changed. Reads the version first, so a change committed
    /// before a read that [`Self::keep`] then keeps makes the next look-up read again: a value
    /// may be read again, never kept stale.
    fn kept(&self, sql: &str, args: &[Arg]) -> StoreResult<Option<Vec<i64>>> {
        let version = self
            .conn()?
            .prepare_cached("PRAGMA data_version")
            .map_err(sql_error)?
            .query_row([], |r| r.get::<_, i64>(0))
            .map_err(sql_error)?;
        let mut kept = self.kept.borrow_mut();
        if kept.version != Some(version) || kept.len >= KEPT {
            kept.values.clear();
            kept.len = 0;
            kept.version = Some(version);
        }
        Ok(kept.values.get(sql).and_then(|a| a.get(args)).cloned())
    }

    /// Keep what was read after [`Self::kept`] looked for it.
    fn keep(&self, sql: &str, args: &[Arg], v: Vec<i64>) {
        let mut kept = self.kept.borrow_mut();
        let by_args = kept.values.entry(sql.to_owned()).or_default();
        if by_args.insert(args.to_vec(), v).is_none() {
            kept.len += 1;
        }
    }

    /// `EXPLAIN QUERY PLAN` of `sql` with `args` bound: (id, parent, detail) per node, as this
    /// connection plans it (`taizhang bench explain`).
    pub(crate) fn query_plan(
        &self,
        sql: &str,
        args: &[impl rusqlite::ToSql],
    ) -> StoreResult<Vec<(i64, i64, String)>> {
        let c = self.conn()?;
        let mut stmt = c
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .map_err(sql_error)?;
        bind(&mut stmt, args)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(sql_error)? {
            out.push((
                r.get(0).map_err(sql_error)?,
                r.get(1).map_err(sql_error)?,
                r.get(3).map_err(sql_error)?,
            ));
        }
        Ok(out)
    }

    /// How many rows `sql` with `args` returns (stepped, not decoded), prepared as the reads
    /// of pages are (kept): `taizhang bench explain` times statements with it.
    pub(crate) fn step_all(&self, sql: &str, args: &[impl rusqlite::ToSql]) -> StoreResult<usize> {
        let c = self.conn()?;
        let mut stmt = c.prepare_cached(sql).map_err(sql_error)?;
        bind(&mut stmt, args)?;
        let mut rows = stmt.raw_query();
        let mut n = 0;
        while rows.next().map_err(sql_error)?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    /// Every column of the first row of `sql` as integers, or `None` without a row.
    pub(crate) fn first_ints(&self, sql: &str, args: &[Arg]) -> StoreResult<Option<Vec<i64>>> {
        let c = self.conn()?;
        let mut stmt = c.prepare_cached(sql).map_err(sql_error)?;
        bind(&mut stmt, args)?;
        let n = stmt.column_count();
        let mut rows = stmt.raw_query();
        match rows.next().map_err(sql_error)? {
            Some(r) => (0..n)
                .map(|i| r.get::<_, i64>(i).map_err(sql_error))
                .collect::<StoreResult<Vec<i64>>>()
                .map(Some),
            None => Ok(None),
        }
    }
}

/// Bind `args` by the number in each parameter's name (`$1`, `?1`): the SQL of this crate is
/// written with numbered parameters for both backends, and a number may appear more than once
/// or out of order. An unnumbered parameter (`?`) takes the argument of its position.
fn bind(stmt: &mut rusqlite::Statement<'_>, args: &[impl rusqlite::ToSql]) -> StoreResult<()> {
    for i in 1..=stmt.parameter_count() {
        let n = stmt
            .parameter_name(i)
            .and_then(|name| name.get(1..))
            .and_then(|digits| digits.parse::<usize>().ok())
            .unwrap_or(i);
        let a = n
            .checked_sub(1)
            .and_then(|k| args.get(k))
            .ok_or_else(|| StoreError::Other(format!("no argument for parameter {n}")))?;
        stmt.raw_bind_parameter(i, a).map_err(sql_error)?;
    }
    Ok(())
}

impl rusqlite::ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Int(v) => ToSqlOutput::from(*v),
            Arg::Text(s) => ToSqlOutput::from(s.as_str()),
        })
    }
}

fn sql_error(e: rusqlite::Error) -> StoreError {
    StoreError::Other(format!("SQLite read: {e}"))
}

fn col_error(col: &str, e: rusqlite::Error) -> StoreError {
    StoreError::Other(format!("column {col}: {e}"))
}

/// A row of a synchronous read, read by column name.
struct SyncRow<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    names: &'a [String],
    /// Where the next column is looked for first (see [`crate::row::column_index`]).
    next: std::cell::Cell<usize>,
}

impl SyncRow<'_, '_> {
    fn get<T: rusqlite::types::FromSql>(&self, col: &str) -> StoreResult<T> {
        let i = crate::row::column_index(self.names, &self.next, col)
            .ok_or_else(|| StoreError::Other(format!("no column {col}")))?;
        self.row.get::<_, T>(i).map_err(|e| col_error(col, e))
    }

    /// A text column, NULL as `None`. UTF-8 is checked with `simdutf8` (what rusqlite's
    /// `FromSql for String` checks with `std::str::from_utf8`): the lists' Chinese text columns
    /// are most of the bytes a page reads, and the byte-at-a-time check of multi-byte
    /// characters was 5 % of a list request's CPU.
    fn text_or_null(&self, col: &str) -> StoreResult<Option<String>> {
        let i = crate::row::column_index(self.names, &self.next, col)
            .ok_or_else(|| StoreError::Other(format!("no column {col}")))?;
        match self.row.get_ref(i).map_err(|e| col_error(col, e))? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(b) => simdutf8::basic::from_utf8(b)
                .map(|s| Some(s.to_owned()))
                .map_err(|_| StoreError::Other(format!("column {col}: text is not UTF-8"))),
            other => Err(StoreError::Other(format!(
                "column {col}: {} where text was expected",
                other.data_type()
            ))),
        }
    }
}

impl GetCol for SyncRow<'_, '_> {
    fn i64(&self, col: &str) -> StoreResult<i64> {
        self.get(col)
    }
    fn opt_i64(&self, col: &str) -> StoreResult<Option<i64>> {
        self.get(col)
    }
    fn text(&self, col: &str) -> StoreResult<String> {
        self.text_or_null(col)?
            .ok_or_else(|| StoreError::Other(format!("column {col}: NULL where text was expected")))
    }
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        self.text_or_null(col)
    }
    fn flag(&self, col: &str) -> StoreResult<bool> {
        self.get(col)
    }
}

/// Rows of a read whose cost is bounded (by id, by a page's `LIMIT`): on a SQLite read
/// connection run synchronously on this thread, otherwise (a transaction, PostgreSQL) through
/// sqlx. `sql` uses numbered parameters (`$1`…) bound from `args`.
pub(crate) async fn bounded_rows<T>(
    c: &mut crate::Conn,
    sql: &str,
    args: &[Arg],
    map: impl FnMut(&dyn GetCol) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    rows_on(c, sql, args, true, map).await
}

/// [`bounded_rows`] for a statement that will not come again (it names its ids): no connection
/// keeps it prepared.
pub(crate) async fn bounded_rows_once<T>(
    c: &mut crate::Conn,
    sql: &str,
    args: &[Arg],
    map: impl FnMut(&dyn GetCol) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    rows_on(c, sql, args, false, map).await
}

async fn rows_on<T>(
    c: &mut crate::Conn,
    sql: &str,
    args: &[Arg],
    keep: bool,
    mut map: impl FnMut(&dyn GetCol) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    if let Some(s) = c.sync() {
        return s.rows(sql, args, keep, map);
    }
    let v = crate::on!(c, c => {
        let q = crate::bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).persistent(keep), args);
        let rows = q.fetch_all(&mut *c).await?;
        rows.iter().map(|r| map(r)).collect::<StoreResult<Vec<T>>>()?
    });
    Ok(v)
}

/// A count that may take milliseconds (over the ledger), as [`ints`] reads its columns.
pub(crate) async fn count(c: &mut crate::Conn, sql: &str, args: &[Arg]) -> StoreResult<i64> {
    if let Some(s) = c.sync() {
        return kept_or_read(s, sql, args)?
            .first()
            .copied()
            .ok_or_else(|| StoreError::Other("the count returned no value".into()));
    }
    let n: i64 = crate::on!(c, c => {
        let q = crate::bind_args!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())), args);
        q.fetch_one(&mut *c).await?
    });
    Ok(n)
}

/// The integer columns `cols` of the first row of `sql` (a count, a fingerprint): on a SQLite
/// read connection from its [`KeptInts`] while the database is unchanged, else read
/// synchronously, inside [`tokio::task::block_in_place`] on a multi-threaded runtime so this
/// thread's other tasks move on meanwhile; otherwise through sqlx. The SQL names its columns
/// `cols`, in that order.
pub(crate) async fn ints<const N: usize>(
    c: &mut crate::Conn,
    sql: &str,
    args: &[Arg],
    cols: [&str; N],
) -> StoreResult<[i64; N]> {
    let v = if let Some(s) = c.sync() {
        kept_or_read(s, sql, args)?
    } else {
        crate::on!(c, c => {
            let q = crate::bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())), args);
            let r = q.fetch_one(&mut *c).await?;
            cols.iter().map(|k| r.i64(k)).collect::<StoreResult<Vec<i64>>>()?
        })
    };
    <[i64; N]>::try_from(v).map_err(|v| {
        StoreError::Other(format!("{} values where {N} were expected: {sql}", v.len()))
    })
}

/// The first row's integers from the connection's [`KeptInts`], or read (and kept).
fn kept_or_read(s: &SyncConn, sql: &str, args: &[Arg]) -> StoreResult<Vec<i64>> {
    if let Some(v) = s.kept(sql, args)? {
        return Ok(v);
    }
    let v = blocking(|| s.first_ints(sql, args))?
        .ok_or_else(|| StoreError::Other("the statement returned no row".into()))?;
    s.keep(sql, args, v.clone());
    Ok(v)
}

/// A bulk-load write transaction on SQLite ([`crate::Store::begin_bulk`]).
///
/// sqlx sent each batch as multi-row INSERTs of up to 30,000 parameters: SQLite parsed and
/// planned every such statement afresh, and every value crossed to sqlx's worker thread. Here
/// one single-row INSERT per table is prepared once and executed per row, on a connection kept
/// for the whole load (its 256 MB page cache holds the growing tables' pages).
pub struct BulkTx {
    conn: Option<rusqlite::Connection>,
    slot: Arc<Mutex<Option<rusqlite::Connection>>>,
    open: bool,
}

impl BulkTx {
    /// `BEGIN IMMEDIATE` on the load's connection (kept in `slot` between transactions).
    pub(crate) fn begin(
        path: &std::path::Path,
        slot: &Arc<Mutex<Option<rusqlite::Connection>>>,
    ) -> StoreResult<BulkTx> {
        let kept = slot.lock().ok().and_then(|mut s| s.take());
        let conn = match kept {
            Some(c) => c,
            None => {
                let c = rusqlite::Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE
                        | OpenFlags::SQLITE_OPEN_NO_MUTEX
                        | OpenFlags::SQLITE_OPEN_URI,
                )
                .map_err(|e| {
                    StoreError::Unavailable(format!("cannot open {}: {e}", path.display()))
                })?;
                c.busy_timeout(Duration::from_secs(30)).map_err(sql_error)?;
                // Durable commits as the server's writer, but references are not looked up
                // row by row (a third of the load's time): a bulk load writes ids it has just
                // made or read (the seed's test runs `PRAGMA foreign_key_check` on the result).
                c.execute_batch(
                    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF; \
                     PRAGMA wal_autocheckpoint = 10000; PRAGMA cache_size = -262144;",
                )
                .map_err(sql_error)?;
                c
            }
        };
        conn.execute_batch("BEGIN IMMEDIATE").map_err(sql_error)?;
        Ok(BulkTx {
            conn: Some(conn),
            slot: Arc::clone(slot),
            open: true,
        })
    }

    /// Insert `rows` into `table(cols…)`, each row with one execution of a prepared statement.
    /// `table`, `cols` and `suffix` are the caller's constants, never user text.
    pub(crate) fn insert(
        &mut self,
        table: &str,
        cols: &[&str],
        rows: &[Vec<crate::bulk::Val>],
        suffix: &str,
    ) -> StoreResult<()> {
        let c = self
            .conn
            .as_ref()
            .ok_or_else(|| StoreError::Other("bulk transaction already ended".into()))?;
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({}) {suffix}",
            cols.join(", "),
            vec!["?"; cols.len()].join(", ")
        );
        let mut stmt = c.prepare_cached(&sql).map_err(sql_error)?;
        for row in rows {
            if row.len() != cols.len() {
                return Err(StoreError::Other(format!(
                    "bulk row for {table} has {} values for {} columns",
                    row.len(),
                    cols.len()
                )));
            }
            for (i, v) in row.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, v).map_err(sql_error)?;
            }
            stmt.raw_execute().map_err(|e| bulk_error(table, e))?;
        }
        Ok(())
    }

    pub(crate) fn commit(mut self) -> StoreResult<()> {
        let c = self
            .conn
            .as_ref()
            .ok_or_else(|| StoreError::Other("bulk transaction already ended".into()))?;
        c.execute_batch("COMMIT").map_err(sql_error)?;
        self.open = false;
        Ok(())
    }
}

impl Drop for BulkTx {
    /// Roll back what was not committed, and keep the connection for the next transaction.
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            if self.open && c.execute_batch("ROLLBACK").is_err() {
                return;
            }
            if let Ok(mut slot) = self.slot.lock() {
                *slot = Some(c);
            }
        }
    }
}

fn bulk_error(table: &str, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => {
            StoreError::Conflict(format!("{table}: {e}"))
        }
        _ => StoreError::Other(format!("bulk insert into {table}: {e}")),
    }
}

impl rusqlite::ToSql for crate::bulk::Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use crate::bulk::Val;
        Ok(match self {
            Val::Int(v) => ToSqlOutput::from(*v),
            Val::Text(s) => ToSqlOutput::from(s.as_str()),
            Val::Flag(b) => ToSqlOutput::from(*b),
            Val::NullInt | Val::NullText => ToSqlOutput::from(rusqlite::types::Null),
        })
    }
}

/// Run `f`, synchronous work of milliseconds or more, inside [`tokio::task::block_in_place`]
/// on a multi-threaded runtime (this thread's other tasks move to another thread meanwhile);
/// directly elsewhere (a single-threaded runtime, where `block_in_place` is not allowed).
pub(crate) fn blocking<R>(f: impl FnOnce() -> R) -> R {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sql: &str, args: &[Arg]) -> Vec<String> {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let mut stmt = c.prepare(sql).unwrap();
        bind(&mut stmt, args).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.raw_query();
        let row = rows.next().unwrap().unwrap();
        (0..n)
            .map(|i| match row.get_ref(i).unwrap() {
                ValueRef::Integer(v) => v.to_string(),
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn numbered_parameters_bind_by_their_number_repeated_or_out_of_order() {
        let args = [Arg::Int(7), Arg::Text("乙".into())];
        assert_eq!(read("SELECT $2, $1, $2", &args), ["乙", "7", "乙"]);
        assert_eq!(read("SELECT ?, ?", &args), ["7", "乙"]);
    }

    #[test]
    fn a_parameter_without_its_argument_is_an_error_not_a_null() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let mut stmt = c.prepare("SELECT $1, $3").unwrap();
        let e = bind(&mut stmt, &[Arg::Int(1), Arg::Int(2)]).unwrap_err();
        assert!(e.to_string().contains("parameter 3"), "{e}");
    }

    #[test]
    fn text_columns_read_text_and_refuse_null_numbers_and_broken_utf8() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let mut stmt = c
            .prepare("SELECT '督办事项', NULL, 7, CAST(x'e7ff' AS TEXT)")
            .unwrap();
        let names: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        let mut rows = stmt.raw_query();
        let row = rows.next().unwrap().unwrap();
        let r = SyncRow {
            row,
            names: &names,
            next: std::cell::Cell::new(0),
        };
        assert_eq!(r.text("a").unwrap(), "督办事项");
        assert_eq!(r.opt_text("a").unwrap().as_deref(), Some("督办事项"));
        assert_eq!(r.opt_text("b").unwrap(), None);
        assert!(r.text("b").unwrap_err().to_string().contains("NULL"));
        assert!(r.text("c").unwrap_err().to_string().contains("Integer"));
        assert!(r.text("d").unwrap_err().to_string().contains("UTF-8"));
    }

    /// A fresh directory for a database file `t.db` of one test: (directory, file).
    fn scratch_db(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        (dir, path)
    }

    #[test]
    fn a_kept_count_holds_until_another_connection_commits_a_change() {
        let (dir, path) = scratch_db("tz-count-cache");
        let w = rusqlite::Connection::open(&path).unwrap();
        w.pragma_update(None, "journal_mode", "wal").unwrap();
        w.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);")
            .unwrap();
        let (sql, args) = ("SELECT COUNT(*) FROM t WHERE x > $1", [Arg::Int(0)]);
        let pool = SyncPool::new(path);
        {
            let s = pool.take().unwrap();
            assert_eq!(s.kept(sql, &args).unwrap(), None);
            assert_eq!(kept_or_read(&s, sql, &args).unwrap(), [3]);
            assert_eq!(s.kept(sql, &args).unwrap(), Some(vec![3]));
            // Other arguments are another count.
            assert_eq!(s.kept(sql, &[Arg::Int(1)]).unwrap(), None);
            w.execute("INSERT INTO t VALUES (4)", []).unwrap();
            assert_eq!(s.kept(sql, &args).unwrap(), None, "changed");
            assert_eq!(kept_or_read(&s, sql, &args).unwrap(), [4]);
            let stamp = "SELECT COUNT(*) AS n, MAX(x) AS t FROM t";
            assert_eq!(kept_or_read(&s, stamp, &[]).unwrap(), [4, 4]);
        }
        // The connection went back to the pool with what it kept.
        let s = pool.take().unwrap();
        assert_eq!(s.kept(sql, &args).unwrap(), Some(vec![4]));
        let stamp = "SELECT COUNT(*) AS n, MAX(x) AS t FROM t";
        assert_eq!(s.kept(stamp, &[]).unwrap(), Some(vec![4, 4]));
        drop(s);
        pool.close();
        drop(w);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_kept_statement_is_not_prepared_again_when_other_values_are_bound() {
        let (dir, path) = scratch_db("tz-qpsg");
        let w = rusqlite::Connection::open(&path).unwrap();
        // A skewed indexed column and STAT4 samples of it, as `ANALYZE` leaves after a load.
        w.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT NOT NULL);
             CREATE INDEX t_s ON t (s);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO t (s) SELECT CASE WHEN i % 100 = 0 THEN 'rare' ELSE 'common' END FROM n;
             ANALYZE;",
        )
        .unwrap();
        let sql = "SELECT id FROM t WHERE s = $1 ORDER BY id LIMIT 3";
        let reprepared = |c: &rusqlite::Connection| {
            for v in ["rare", "common", "rare", "common"] {
                let mut st = c.prepare_cached(sql).unwrap();
                st.raw_bind_parameter(1, v).unwrap();
                let mut rows = st.raw_query();
                while rows.next().unwrap().is_some() {}
            }
            c.prepare_cached(sql)
                .unwrap()
                .get_status(rusqlite::StatementStatus::RePrepare)
        };
        // The control: a connection that plans with the bound values prepares the statement
        // again on every new binding.
        assert!(
            reprepared(&w) >= 3,
            "STAT4 makes a plain connection re-prepare"
        );
        let pool = SyncPool::new(path);
        let s = pool.take().unwrap();
        assert_eq!(reprepared(s.conn().unwrap()), 0);
        let ids = s
            .rows(sql, &[Arg::Text("rare".into())], true, |r| r.i64("id"))
            .unwrap();
        assert_eq!(ids, [100, 200, 300]);
        drop(s);
        pool.close();
        drop(w);
        let _ = std::fs::remove_dir_all(dir);
    }
}
