//! Packed reads for whole-ledger passes on SQLite.
//!
//! sqlx hands every SQLite row from the connection's worker thread to the async side with a
//! channel send and a thread wake-up. For a pass over a million matters that hand-off costs more
//! than SQLite's own work (the daily check spent about 4 of its 5 scan seconds on futex waits and
//! wake-ups; SQLite reads the same rows in 0.4 s). Here SQLite packs a range of rows into one
//! text value with `group_concat` and the rows are split on this side: one hand-off per 20,000
//! rows instead of one per row. PostgreSQL streams rows without that cost and keeps the plain
//! query.

use crate::matters::{Arg, RunningFacts, placeholders};
use crate::{Conn, StoreError, StoreResult};

/// Rows per packed range (by id; ranges with few matching rows are cheap).
const RANGE: i64 = 20_000;
/// Between fields and between rows: control characters no stored status, date or cycle code
/// contains (they are validated codes; a row that does not split cleanly is an error, not a
/// guess).
const FIELD: char = '\u{1f}';
const ROW: char = '\u{1e}';

/// [`crate::matters::for_each_running`] on SQLite, packed.
pub(crate) async fn running_sqlite(
    c: &mut Conn,
    statuses: &[&str],
    units: Option<&[i64]>,
    f: &mut impl FnMut(RunningFacts),
) -> StoreResult<()> {
    let crate::conn::Exec::Sqlite(conn) = c.exec().await? else {
        return Err(StoreError::Other("packed scan is for SQLite".into()));
    };
    let (lo, hi): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT MIN(id), MAX(id) FROM matters")
            .fetch_one(&mut *conn)
            .await?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(());
    };
    let mut args: Vec<Arg> = statuses
        .iter()
        .map(|s| Arg::Text((*s).to_owned()))
        .collect();
    let mut sql = format!(
        "SELECT group_concat(id || char(31) || year || char(31) || lead_unit_id || char(31) || status \
         || char(31) || COALESCE(deadline, '') || char(31) || COALESCE(assigned_on, '') \
         || char(31) || COALESCE(last_update_on, '') || char(31) || feedback_cycle, char(30)) \
         FROM matters WHERE status IN ({})",
        placeholders(1, statuses.len())
    );
    if let Some(units) = units {
        sql.push_str(&format!(
            " AND lead_unit_id IN ({})",
            placeholders(args.len() + 1, units.len())
        ));
        args.extend(units.iter().map(|u| Arg::Int(*u)));
    }
    let n = args.len();
    sql.push_str(&format!(" AND id >= ${} AND id < ${}", n + 1, n + 2));
    let mut from = lo;
    while from <= hi {
        let to = from.saturating_add(RANGE);
        let mut q = sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql.clone()));
        for a in &args {
            q = match a {
                Arg::Int(i) => q.bind(*i),
                Arg::Text(t) => q.bind(t.clone()),
            };
        }
        let packed = q.bind(from).bind(to).fetch_one(&mut *conn).await?;
        if let Some(packed) = packed {
            for row in packed.split(ROW) {
                f(split_row(row)?);
            }
        }
        from = to;
    }
    Ok(())
}

fn split_row(row: &str) -> StoreResult<RunningFacts> {
    let bad = || StoreError::Other(format!("packed matter row does not split: {row:?}"));
    let mut it = row.split(FIELD);
    let mut next = || it.next().ok_or_else(bad);
    let int = |s: &str| s.parse::<i64>().map_err(|_| bad());
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let id = int(next()?)?;
    let year = int(next()?)?;
    let lead_unit_id = int(next()?)?;
    let status = next()?.to_owned();
    let deadline = opt(next()?);
    let assigned_on = opt(next()?);
    let last_update_on = opt(next()?);
    let feedback_cycle = next()?.to_owned();
    if it.next().is_some() {
        return Err(bad());
    }
    Ok(RunningFacts {
        id,
        year,
        lead_unit_id,
        status,
        deadline,
        assigned_on,
        last_update_on,
        feedback_cycle,
    })
}

/// A row of a [`json_rows`] result: the values of one JSON array, read by column name.
pub(crate) struct JsonRow<'a> {
    names: &'a [&'a str],
    vals: Vec<serde_json::Value>,
    /// Where the next column is looked for first (see [`crate::row::column_index`]).
    next: std::cell::Cell<usize>,
}

impl JsonRow<'_> {
    fn val(&self, col: &str) -> StoreResult<&serde_json::Value> {
        crate::row::column_index(self.names, &self.next, col)
            .and_then(|i| self.vals.get(i))
            .ok_or_else(|| StoreError::Other(format!("packed row has no column {col}")))
    }
}

fn wrong(col: &str, v: &serde_json::Value) -> StoreError {
    StoreError::Other(format!("column {col}: unexpected packed value {v}"))
}

impl crate::row::GetCol for JsonRow<'_> {
    fn i64(&self, col: &str) -> StoreResult<i64> {
        let v = self.val(col)?;
        v.as_i64().ok_or_else(|| wrong(col, v))
    }
    fn opt_i64(&self, col: &str) -> StoreResult<Option<i64>> {
        match self.val(col)? {
            serde_json::Value::Null => Ok(None),
            v => v.as_i64().map(Some).ok_or_else(|| wrong(col, v)),
        }
    }
    fn text(&self, col: &str) -> StoreResult<String> {
        let v = self.val(col)?;
        v.as_str().map(str::to_owned).ok_or_else(|| wrong(col, v))
    }
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        match self.val(col)? {
            serde_json::Value::Null => Ok(None),
            v => v
                .as_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| wrong(col, v)),
        }
    }
    fn flag(&self, col: &str) -> StoreResult<bool> {
        let v = self.val(col)?;
        match v {
            serde_json::Value::Bool(b) => Ok(*b),
            _ => v.as_i64().map(|i| i != 0).ok_or_else(|| wrong(col, v)),
        }
    }
}

/// The rows of `sql` (a `SELECT` whose result columns are named `names`, in any order of rows
/// it sets with `ORDER BY`), packed by SQLite into one JSON array and split here: one hand-off
/// from sqlx's worker thread for the whole result instead of one per row (a page of 50 matters
/// spent more time in those wake-ups than in SQLite). The order is the subquery's: SQLite does
/// not flatten a subquery with `ORDER BY` into an aggregate, so the aggregate sees its rows in
/// that order (checked against the plain query by the store's tests).
pub(crate) async fn json_rows<T>(
    conn: &mut sqlx::SqliteConnection,
    sql: &str,
    names: &[&str],
    args: &[Arg],
    persistent: bool,
    map: impl Fn(&JsonRow) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let packed_sql = format!(
        "SELECT json_group_array(json_array({})) FROM ({sql})",
        names.join(", ")
    );
    let q = crate::bind_args!(
        sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(packed_sql)).persistent(persistent),
        args
    );
    let text = q.fetch_one(&mut *conn).await?;
    let rows: Vec<Vec<serde_json::Value>> = serde_json::from_str(&text)
        .map_err(|e| StoreError::Other(format!("packed rows do not parse: {e}")))?;
    rows.into_iter()
        .map(|vals| {
            map(&JsonRow {
                names,
                vals,
                next: std::cell::Cell::new(0),
            })
        })
        .collect()
}
