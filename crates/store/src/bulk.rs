//! Bulk loading for seed data and benchmarks: rows with explicit ids, as multi-row INSERTs in as
//! few statements as the engines' bind limits allow, or in a SQLite bulk transaction
//! ([`crate::Store::begin_bulk`]) one prepared single-row INSERT per row. Not for user writes (no
//! audit, no checks).

use crate::{Conn, StoreResult};

/// One value of a bulk row.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(i64),
    Text(String),
    Flag(bool),
    /// NULL in an integer column (PostgreSQL needs the type of a NULL parameter).
    NullInt,
    /// NULL in a text column.
    NullText,
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_owned())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Flag(v)
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Val::NullInt, Val::Int)
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        v.map_or(Val::NullText, Val::Text)
    }
}
impl From<Option<&str>> for Val {
    fn from(v: Option<&str>) -> Self {
        v.map_or(Val::NullText, |s| Val::Text(s.to_owned()))
    }
}

/// Largest number of bind parameters per statement (SQLite allows 32766, PostgreSQL 65535).
const MAX_BINDS: usize = 30_000;

/// Insert `rows` into `table(cols…)` with multi-row VALUES lists.
pub async fn insert(
    c: &mut Conn,
    table: &str,
    cols: &[&str],
    rows: &[Vec<Val>],
) -> StoreResult<()> {
    insert_with(c, table, cols, rows, "").await
}

/// [`insert`] with a trailing clause such as `ON CONFLICT (…) DO NOTHING`.
pub async fn insert_with(
    c: &mut Conn,
    table: &str,
    cols: &[&str],
    rows: &[Vec<Val>],
    suffix: &str,
) -> StoreResult<()> {
    if rows.is_empty() || cols.is_empty() {
        return Ok(());
    }
    if let Conn::SqliteBulk(b) = c {
        // Synchronous SQLite work of a second or so per batch: off the runtime's thread.
        return crate::sync_read::blocking(|| b.insert(table, cols, rows, suffix));
    }
    let per = (MAX_BINDS / cols.len()).max(1);
    // SQLite looks a named parameter (`$7`) up by a linear scan of the statement's names, which
    // turns a 30,000-parameter INSERT quadratic; anonymous `?` parameters avoid the lookup.
    let positional = !c.is_postgres();
    for chunk in rows.chunks(per) {
        let mut sql = String::with_capacity(64 + chunk.len() * cols.len() * 6);
        sql.push_str(&format!(
            "INSERT INTO {table} ({}) VALUES ",
            cols.join(", ")
        ));
        let mut n = 0usize;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for j in 0..cols.len() {
                if j > 0 {
                    sql.push(',');
                }
                n += 1;
                if positional {
                    sql.push('?');
                } else {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
            sql.push(')');
        }
        if !suffix.is_empty() {
            sql.push(' ');
            sql.push_str(suffix);
        }
        crate::on!(c, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for row in chunk {
                for v in row {
                    q = match v {
                        Val::Int(i) => q.bind(*i),
                        Val::Text(t) => q.bind(t.as_str()),
                        Val::Flag(b) => q.bind(*b),
                        Val::NullInt => q.bind(None::<i64>),
                        Val::NullText => q.bind(None::<String>),
                    };
                }
            }
            q.execute(&mut *c).await?.rows_affected()
        });
    }
    Ok(())
}

/// The largest id in a table (0 when empty).
pub async fn max_id(c: &mut Conn, table: &str) -> StoreResult<i64> {
    let sql = format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
    let v: i64 =
        crate::on!(c, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *c).await?);
    Ok(v)
}

/// After inserting explicit ids on PostgreSQL, move the identity sequence past them.
pub async fn reset_sequence(c: &mut Conn, table: &str) -> StoreResult<()> {
    if !c.is_postgres() {
        return Ok(());
    }
    let sql = format!(
        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
    );
    crate::on!(c, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Refresh the planner's statistics after a bulk load.
pub async fn analyze(c: &mut Conn) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("ANALYZE").execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// After a bulk load on PostgreSQL: `VACUUM (ANALYZE)`, so the visibility map is set and counts
/// run as index-only scans from the first request (the overdue count at 10^5 matters: 14.6 ms
/// from the heap, 1.6 ms index-only), instead of waiting for autovacuum. Outside a transaction
/// (VACUUM cannot run in one); nothing to do on SQLite, where [`analyze`] is enough.
pub async fn vacuum_analyze(c: &mut Conn) -> StoreResult<()> {
    if let crate::conn::Exec::Pg(pg) = c.exec().await? {
        sqlx::query("VACUUM (ANALYZE)").execute(&mut *pg).await?;
    }
    Ok(())
}

/// The secondary indexes of `table` (name, statement that creates it): the ones a bulk load may
/// drop and create again from the loaded rows, in one sorted pass each instead of one B-tree
/// insertion per row. Constraint indexes (primary key, UNIQUE) are not among them: they keep
/// checking the load.
pub async fn secondary_indexes(c: &mut Conn, table: &str) -> StoreResult<Vec<(String, String)>> {
    let sql = if c.is_postgres() {
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() \
             AND i.tablename = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint k \
             WHERE k.conname = i.indexname \
         AND k.conrelid = (quote_ident(i.schemaname) || '.' || quote_ident(i.tablename))::regclass) \
         ORDER BY i.indexname"
    } else {
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 \
             AND sql IS NOT NULL ORDER BY name"
    };
    let v: Vec<(String, String)> =
        crate::on!(c, c => sqlx::query_as(sql).bind(table).fetch_all(&mut *c).await?);
    Ok(v)
}

/// Drop the index `name` (a name read from the catalog by [`secondary_indexes`]).
pub async fn drop_index(c: &mut Conn, name: &str) -> StoreResult<()> {
    let sql = format!("DROP INDEX \"{}\"", name.replace('"', "\"\""));
    crate::on!(c, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Run a statement read from the catalog by [`secondary_indexes`] (creates the index again).
pub async fn create_index(c: &mut Conn, create_sql: &str) -> StoreResult<()> {
    let sql = create_sql.to_owned();
    crate::on!(c, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// For the rest of a bulk-loading process on SQLite: a 256 MB page cache on the writer. The rows
/// go through the bulk transaction's connection (which sets its own), but the indexes dropped
/// for the load are built again on the writer, and SQLite sorts an index's keys in memory up to
/// the connection's cache size before spilling to temporary files. Nothing on PostgreSQL (the
/// server's buffers are its own).
pub async fn loading_cache(c: &mut Conn) -> StoreResult<()> {
    if let crate::conn::Exec::Sqlite(s) = c.exec().await? {
        sqlx::query("PRAGMA cache_size = -262144")
            .execute(&mut *s)
            .await?;
    }
    Ok(())
}
