//! Cadence runs (一日一清查, 一周一小结, 一月一盘点, 一年一归零): claimed per (kind, period) so each
//! period runs once even with several app nodes on one database.

use crate::{Conn, GetCol, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CadenceRun {
    pub kind: String,
    pub period_key: String,
    pub node: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: String,
    pub summary: String,
}

/// Claim a period. Returns false when another run (any node) already holds it. A claim is an
/// INSERT guarded by the primary key, so two nodes can never both win.
pub async fn claim(
    c: &mut Conn,
    kind: &str,
    period_key: &str,
    node: &str,
    now_ms: i64,
) -> StoreResult<bool> {
    let res = crate::on!(c, c => sqlx::query(
        "INSERT INTO cadence_runs (kind, period_key, node, started_at, status) VALUES ($1, $2, $3, $4, 'running')
         ON CONFLICT (kind, period_key) DO NOTHING")
        .bind(kind).bind(period_key).bind(node).bind(now_ms).execute(&mut *c).await.map(|r| r.rows_affected()));
    match res {
        Ok(n) => Ok(n == 1),
        Err(e) => Err(StoreError::from(e)),
    }
}

pub async fn finish(
    c: &mut Conn,
    kind: &str,
    period_key: &str,
    summary: &str,
    now_ms: i64,
) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "UPDATE cadence_runs SET status = 'done', finished_at = $1, summary = $2 WHERE kind = $3 AND period_key = $4")
        .bind(now_ms).bind(summary).bind(kind).bind(period_key).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Forget a run so it can be replayed (`--replay`).
pub async fn forget(c: &mut Conn, kind: &str, period_key: &str) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("DELETE FROM cadence_runs WHERE kind = $1 AND period_key = $2")
        .bind(kind).bind(period_key).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn find(c: &mut Conn, kind: &str, period_key: &str) -> StoreResult<Option<CadenceRun>> {
    let v = crate::on!(c, c => match sqlx::query(
        "SELECT kind, period_key, node, started_at, finished_at, status, summary FROM cadence_runs WHERE kind = $1 AND period_key = $2")
        .bind(kind).bind(period_key).fetch_optional(&mut *c).await? {
        Some(r) => Some(map(&r)?),
        None => None,
    });
    Ok(v)
}

pub async fn latest(c: &mut Conn, kind: &str) -> StoreResult<Option<CadenceRun>> {
    let v = crate::on!(c, c => match sqlx::query(
        "SELECT kind, period_key, node, started_at, finished_at, status, summary FROM cadence_runs WHERE kind = $1
         ORDER BY period_key DESC LIMIT 1")
        .bind(kind).fetch_optional(&mut *c).await? {
        Some(r) => Some(map(&r)?),
        None => None,
    });
    Ok(v)
}

fn map(r: &(impl GetCol + ?Sized)) -> StoreResult<CadenceRun> {
    Ok(CadenceRun {
        kind: r.text("kind")?,
        period_key: r.text("period_key")?,
        node: r.text("node")?,
        started_at: r.i64("started_at")?,
        finished_at: r.opt_i64("finished_at")?,
        status: r.text("status")?,
        summary: r.text("summary")?,
    })
}
