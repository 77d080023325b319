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
    let crate::conn::Exec::Sqlite(conn) = c.exec() else {
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
