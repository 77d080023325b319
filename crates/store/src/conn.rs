//! Connecting to a backend, and the connection/transaction handle every query runs on.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{
    ConnectOptions, Connection, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection,
    SqlitePool, Transaction,
};

use crate::sync_read::{SyncConn, SyncPool};
use crate::{StoreError, StoreResult};

/// The database, shared by every request. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Pools>,
}

enum Pools {
    /// One writer connection (SQLite allows one writer) and a few readers (WAL).
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
        /// Read connections used on the request's thread (see [`crate::sync_read`]).
        sync: Arc<SyncPool>,
        /// The connection of bulk loads, kept between their transactions (its page cache
        /// holds the indexes the load is growing).
        bulk: Arc<std::sync::Mutex<Option<rusqlite::Connection>>>,
        path: PathBuf,
    },
    Pg {
        pool: PgPool,
    },
}

/// A connection in use: a write transaction or a pooled read connection.
pub enum Conn {
    SqliteTx(Transaction<'static, Sqlite>),
    PgTx(Transaction<'static, Postgres>),
    SqliteRead(SqliteRead),
    PgRead(PoolConnection<Postgres>),
    /// A bulk-load transaction on SQLite ([`Store::begin_bulk`]): bulk inserts only.
    SqliteBulk(crate::sync_read::BulkTx),
}

/// A SQLite read connection: a synchronous one for the hot reads (see [`crate::sync_read`]),
/// and a sqlx one from the read pool, taken only when a query needs it.
pub struct SqliteRead {
    pub(crate) sync: SyncConn,
    pooled: Option<PoolConnection<Sqlite>>,
    pool: SqlitePool,
}

/// A borrowed backend connection; the [`on!`](crate::on) macro matches on it.
pub enum Exec<'a> {
    Sqlite(&'a mut SqliteConnection),
    Pg(&'a mut PgConnection),
}

impl Conn {
    /// The sqlx connection to run a query on (for a SQLite read, taken from the pool at its
    /// first use).
    #[doc(hidden)]
    pub async fn exec(&mut self) -> StoreResult<Exec<'_>> {
        Ok(match self {
            Conn::SqliteTx(t) => Exec::Sqlite(t),
            Conn::PgTx(t) => Exec::Pg(t),
            Conn::SqliteRead(r) => {
                let c = match &mut r.pooled {
                    Some(c) => c,
                    slot @ None => slot.insert(r.pool.acquire().await?),
                };
                Exec::Sqlite(c)
            }
            Conn::PgRead(c) => Exec::Pg(c),
            Conn::SqliteBulk(_) => {
                return Err(StoreError::Other(
                    "a bulk-load transaction takes bulk inserts only".into(),
                ));
            }
        })
    }

    /// The synchronous SQLite read connection, when this is a SQLite read.
    pub(crate) fn sync(&self) -> Option<&SyncConn> {
        match self {
            Conn::SqliteRead(r) => Some(&r.sync),
            _ => None,
        }
    }

    /// Commit a write transaction (a no-op for read connections).
    pub async fn commit(self) -> StoreResult<()> {
        match self {
            Conn::SqliteTx(t) => t.commit().await?,
            Conn::PgTx(t) => t.commit().await?,
            Conn::SqliteBulk(b) => b.commit()?,
            Conn::SqliteRead(_) | Conn::PgRead(_) => {}
        }
        Ok(())
    }

    /// Roll a write transaction back explicitly (dropping it does the same).
    pub async fn rollback(self) -> StoreResult<()> {
        match self {
            Conn::SqliteTx(t) => t.rollback().await?,
            Conn::PgTx(t) => t.rollback().await?,
            // Dropping it rolls back.
            Conn::SqliteBulk(b) => drop(b),
            Conn::SqliteRead(_) | Conn::PgRead(_) => {}
        }
        Ok(())
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Conn::PgTx(_) | Conn::PgRead(_))
    }
}

/// Which engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names, or a clear error for anything else.
    pub fn of_url(url: &str) -> StoreResult<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            Err(StoreError::Unavailable(format!(
                "unknown database URL scheme `{scheme}`: use sqlite://PATH or postgres://USER@HOST/DB"
            )))
        }
    }
}

impl Store {
    /// Open the database named by `url`, creating a SQLite file (and its folder) on first use.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        match Backend::of_url(url)? {
            Backend::Sqlite => Self::connect_sqlite(url).await,
            Backend::Postgres => Self::connect_pg(url).await,
        }
    }

    async fn connect_sqlite(url: &str) -> StoreResult<Store> {
        let raw = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        let raw = raw.split('?').next().unwrap_or(raw);
        if raw.is_empty() || raw == ":memory:" {
            return Err(StoreError::Unavailable(
                "an in-memory SQLite database cannot be shared; give a file path".into(),
            ));
        }
        let path = PathBuf::from(raw);
        let abs = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
        if let Some(dir) = abs.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot create the data folder {}: {e}",
                    dir.display()
                ))
            })?;
            probe_writable(dir)?;
        }
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", abs.display()))
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL {url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("secure_delete", "ON")
            .pragma("cache_size", "-32000")
            // Rows cross from SQLite's worker thread in batches; the default of 50 made a
            // million-row scan spend a third of its time switching threads.
            .row_buffer_size(1024)
            // Statement text can be huge (bulk loads); slow statements are logged at debug level
            // with the request's own timing in the request log.
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Debug, Duration::from_secs(1));
        // Checkpoints run beside the writer ([`checkpointer`]); the writer checkpoints itself
        // only when the WAL outgrows 40 MB (the checkpointer fell behind a bulk load).
        let write_opts = opts.clone().pragma("wal_autocheckpoint", "10000");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(write_opts.clone())
            .await
            .map_err(|e| sqlite_open_error(&abs, e))?;
        // A corrupted or foreign file must be refused before anything is written to it. The full
        // page check reads the whole file, so large databases get the schema check only (a
        // foreign or truncated file still fails it); `taizhang backup` reads every row anyway.
        let big = std::fs::metadata(&abs)
            .map(|m| m.len() > 256 * 1024 * 1024)
            .unwrap_or(false);
        let check: Result<String, sqlx::Error> = if big {
            sqlx::query_scalar("SELECT 'ok' FROM sqlite_master LIMIT 1")
                .fetch_optional(&write)
                .await
                .map(|v: Option<String>| v.unwrap_or_else(|| "ok".into()))
        } else {
            sqlx::query_scalar("PRAGMA quick_check")
                .fetch_one(&write)
                .await
        };
        // The check read the whole file through the writer's page cache: give those pages back
        // (32 MB of the server's resident memory from its first second on).
        let _ = sqlx::query("PRAGMA shrink_memory").execute(&write).await;
        match check {
            Ok(ok) if ok == "ok" => {}
            Ok(other) => {
                return Err(StoreError::Unavailable(format!(
                    "{} failed its integrity check ({other}); restore it from a backup",
                    abs.display()
                )));
            }
            Err(e) => return Err(sqlite_open_error(&abs, e)),
        }
        // No liveness ping before each acquire: a SQLite connection is a local file handle that
        // cannot drop like a socket, and the ping was one more worker-thread round trip per
        // request (sqlx still pings once when a connection goes back to the pool).
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            // A small page cache per sqlx reader (2 MB; the writer keeps 32 MB for index upkeep,
            // the synchronous readers of pages 8 MB): these readers serve the passes over the
            // ledger (exports, cadence jobs), which read each page once, and the operating system
            // caches the file for all connections; four full 32 MB caches (an export fills one)
            // held the server at 200 MB.
            .connect_with(
                opts.read_only(true)
                    .create_if_missing(false)
                    .pragma("cache_size", "-2000"),
            )
            .await
            .map_err(|e| sqlite_open_error(&abs, e))?;
        let sync = SyncPool::new(abs.clone());
        // Open one now, so a file the readers cannot open fails the start, not a request.
        drop(sync.take()?);
        let inner = Arc::new(Pools::Sqlite {
            write,
            read,
            sync,
            bulk: Arc::default(),
            path: abs,
        });
        tokio::spawn(checkpointer(write_opts, Arc::downgrade(&inner)));
        Ok(Store { inner })
    }

    async fn connect_pg(url: &str) -> StoreResult<Store> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?
            .application_name("taizhang")
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Debug, Duration::from_secs(1));
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot reach PostgreSQL at {}: {e}",
                    redact_url(url)
                ))
            })?;
        Ok(Store {
            inner: Arc::new(Pools::Pg { pool }),
        })
    }

    pub fn backend(&self) -> Backend {
        match &*self.inner {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Pg { .. } => Backend::Postgres,
        }
    }

    /// The absolute path of the SQLite file in use (shown at start and on the settings page).
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &*self.inner {
            Pools::Sqlite { path, .. } => Some(path),
            Pools::Pg { .. } => None,
        }
    }

    /// Start a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`).
    pub async fn begin(&self) -> StoreResult<Conn> {
        Ok(match &*self.inner {
            Pools::Sqlite { write, .. } => {
                Conn::SqliteTx(write.begin_with("BEGIN IMMEDIATE").await?)
            }
            Pools::Pg { pool } => Conn::PgTx(pool.begin().await?),
        })
    }

    /// A write transaction for bulk loads (`taizhang bench seed`) that only [`crate::bulk::insert`]
    /// writes to. On SQLite it runs on a synchronous connection of its own with one prepared
    /// single-row INSERT per table (see [`crate::sync_read::BulkTx`]); on PostgreSQL it is
    /// [`Store::begin`].
    pub async fn begin_bulk(&self) -> StoreResult<Conn> {
        match &*self.inner {
            Pools::Sqlite { bulk, path, .. } => Ok(Conn::SqliteBulk(
                crate::sync_read::BulkTx::begin(path, bulk)?,
            )),
            Pools::Pg { .. } => self.begin().await,
        }
    }

    /// A read-only transaction over one consistent snapshot (backups): a deferred `BEGIN` on a
    /// SQLite read connection (WAL keeps its snapshot while writers carry on), `REPEATABLE READ`
    /// on PostgreSQL. End it with [`Conn::rollback`].
    pub async fn snapshot(&self) -> StoreResult<Conn> {
        Ok(match &*self.inner {
            Pools::Sqlite { read, .. } => Conn::SqliteTx(read.begin().await?),
            Pools::Pg { pool } => Conn::PgTx(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?,
            ),
        })
    }

    /// A connection for reads.
    pub async fn read(&self) -> StoreResult<Conn> {
        Ok(match &*self.inner {
            Pools::Sqlite { read, sync, .. } => Conn::SqliteRead(SqliteRead {
                sync: sync.take()?,
                pooled: None,
                pool: read.clone(),
            }),
            Pools::Pg { pool } => Conn::PgRead(pool.acquire().await?),
        })
    }

    /// Apply the embedded migrations of this backend.
    pub async fn migrate(&self) -> StoreResult<()> {
        match &*self.inner {
            Pools::Sqlite { write, .. } => crate::migrate::sqlite().run(write).await?,
            Pools::Pg { pool } => crate::migrate::postgres().run(pool).await?,
        }
        Ok(())
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> StoreResult<()> {
        let mut c = self.read().await?;
        crate::on!(c, c => { sqlx::query("SELECT 1").execute(&mut *c).await?; });
        Ok(())
    }

    /// Close all connections (graceful shutdown).
    pub async fn close(&self) {
        match &*self.inner {
            Pools::Sqlite {
                write, read, sync, ..
            } => {
                sync.close();
                read.close().await;
                write.close().await;
            }
            Pools::Pg { pool } => pool.close().await,
        }
    }
}

/// WAL checkpoints off the commit path. With `synchronous = FULL` the commit that crossed
/// SQLite's automatic checkpoint threshold (1,000 pages) copied the WAL into the database and
/// synced it before answering: that request took 5–120 ms where a commit takes about 1 ms. Here a
/// connection of its own runs a PASSIVE checkpoint every half second (it never blocks the writer
/// or readers: it copies what no reader still needs), so the WAL stays small and commits only
/// sync the WAL. Ends when the store is dropped or closed.
async fn checkpointer(opts: SqliteConnectOptions, pools: std::sync::Weak<Pools>) {
    let mut conn: Option<SqliteConnection> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match pools.upgrade().as_deref() {
            Some(Pools::Sqlite { write, .. }) if !write.is_closed() => {}
            _ => break,
        }
        if conn.is_none() {
            conn = opts.connect().await.ok();
        }
        let Some(c) = conn.as_mut() else { continue };
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut *c)
            .await
        {
            tracing::debug!(error = %e, "WAL checkpoint failed; retrying with a new connection");
            conn = None;
        }
    }
    if let Some(c) = conn {
        let _ = c.close().await;
    }
}

fn probe_writable(dir: &Path) -> StoreResult<()> {
    let probe = dir.join(format!(".taizhang-write-probe-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(StoreError::Unavailable(format!(
            "the data folder {} is not writable ({e}); fix its permissions or choose another --database-url",
            dir.display()
        ))),
    }
}

fn sqlite_open_error(path: &Path, e: sqlx::Error) -> StoreError {
    let msg = e.to_string();
    if msg.contains("not a database") || msg.contains("malformed") {
        StoreError::Unavailable(format!(
            "{} is not a usable SQLite database ({msg}); restore it from a backup or point --database-url elsewhere",
            path.display()
        ))
    } else {
        StoreError::Unavailable(format!("cannot open {}: {msg}", path.display()))
    }
}

/// A URL with its password replaced, safe for logs and messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparseable URL>".into(),
    }
}
