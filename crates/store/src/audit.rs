//! The audit trail rows: append (with the chain head locked), search and full scans for verify.
//! There is no update or delete path here by design.

use serde::Serialize;

use crate::{Conn, GetCol, StoreResult};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: i64,
    pub at_ms: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub role: String,
    pub source_ip: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub result: String,
    pub request_id: String,
    pub detail: String,
    pub detail_digest: String,
    pub mac: String,
}

const COLS: &str = "seq, at_ms, actor_id, actor_name, role, source_ip, action, object_type, object_id, result, \
    request_id, detail, detail_digest, mac";

fn map(r: &(impl GetCol + ?Sized)) -> StoreResult<AuditRow> {
    Ok(AuditRow {
        seq: r.i64("seq")?,
        at_ms: r.i64("at_ms")?,
        actor_id: r.opt_i64("actor_id")?,
        actor_name: r.text("actor_name")?,
        role: r.text("role")?,
        source_ip: r.text("source_ip")?,
        action: r.text("action")?,
        object_type: r.text("object_type")?,
        object_id: r.text("object_id")?,
        result: r.text("result")?,
        request_id: r.text("request_id")?,
        detail: r.text("detail")?,
        detail_digest: r.text("detail_digest")?,
        mac: r.text("mac")?,
    })
}

/// Take the next sequence number and the previous MAC. The UPDATE locks the head row until the
/// transaction ends, so concurrent appenders queue up and the chain never forks.
pub async fn reserve_next(c: &mut Conn) -> StoreResult<(i64, String)> {
    let v = crate::on!(c, c => {
        let r = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, mac")
            .fetch_one(&mut *c).await?;
        (r.i64("seq")?, r.text("mac")?)
    });
    Ok(v)
}

/// Insert the record (whose `seq` came from [`reserve_next`]) and move the head to its MAC.
pub async fn insert(c: &mut Conn, row: &AuditRow) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO audit_log ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    crate::on!(c, c => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(row.seq).bind(row.at_ms).bind(row.actor_id).bind(&row.actor_name).bind(&row.role)
        .bind(&row.source_ip).bind(&row.action).bind(&row.object_type).bind(&row.object_id)
        .bind(&row.result).bind(&row.request_id).bind(&row.detail).bind(&row.detail_digest).bind(&row.mac)
        .execute(&mut *c).await?.rows_affected());
    crate::on!(c, c => sqlx::query("UPDATE audit_head SET mac = $1 WHERE id = 1 AND seq = $2")
        .bind(&row.mac).bind(row.seq).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// The head of the chain: (seq, mac).
pub async fn head(c: &mut Conn) -> StoreResult<(i64, String)> {
    let v = crate::on!(c, c => {
        let r = sqlx::query("SELECT seq, mac FROM audit_head WHERE id = 1").fetch_one(&mut *c).await?;
        (r.i64("seq")?, r.text("mac")?)
    });
    Ok(v)
}

/// A page of the trail in sequence order starting after `after_seq` (for verify, streaming).
pub async fn scan(c: &mut Conn, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditRow>> {
    let sql = format!("SELECT {COLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after_seq).bind(limit).fetch_all(&mut *c).await?;
        rows.iter().map(map).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// Search filters for the audit page (审计管理员 and 纪检监察).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor_name: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub result: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// The statement of [`search`]: `$1`…`$8` the optional filters of [`AuditQuery`] in field order
/// (NULL: any), `$9` the limit.
pub fn search_sql() -> String {
    format!(
        "SELECT {COLS} FROM audit_log WHERE ($1 IS NULL OR actor_name = $1) AND ($2 IS NULL OR action = $2)
           AND ($3 IS NULL OR object_type = $3) AND ($4 IS NULL OR object_id = $4) AND ($5 IS NULL OR result = $5)
           AND ($6 IS NULL OR at_ms >= $6) AND ($7 IS NULL OR at_ms < $7) AND ($8 IS NULL OR seq < $8)
         ORDER BY seq DESC LIMIT $9"
    )
}

pub async fn search(c: &mut Conn, q: &AuditQuery) -> StoreResult<Vec<AuditRow>> {
    let sql = search_sql();
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(q.actor_name.as_deref()).bind(q.action.as_deref()).bind(q.object_type.as_deref())
            .bind(q.object_id.as_deref()).bind(q.result.as_deref()).bind(q.from_ms).bind(q.to_ms)
            .bind(q.before_seq).bind(q.limit.clamp(1, 500))
            .fetch_all(&mut *c).await?;
        rows.iter().map(map).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckpointRow {
    pub seq: i64,
    pub at_ms: i64,
    pub mac: String,
    pub signature: String,
}

pub async fn insert_checkpoint(c: &mut Conn, cp: &CheckpointRow) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "INSERT INTO audit_checkpoints (seq, at_ms, mac, signature) VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO NOTHING")
        .bind(cp.seq).bind(cp.at_ms).bind(&cp.mac).bind(&cp.signature).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn checkpoints(c: &mut Conn) -> StoreResult<Vec<CheckpointRow>> {
    let v = crate::on!(c, c => {
        let rows = sqlx::query("SELECT seq, at_ms, mac, signature FROM audit_checkpoints ORDER BY seq").fetch_all(&mut *c).await?;
        rows.iter().map(|r| Ok(CheckpointRow { seq: r.i64("seq")?, at_ms: r.i64("at_ms")?, mac: r.text("mac")?, signature: r.text("signature")? }))
            .collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// The newest record older than `cutoff_ms` such that every record up to it is older too
/// (the purgeable prefix), with its MAC.
pub async fn purgeable_prefix(c: &mut Conn, cutoff_ms: i64) -> StoreResult<Option<(i64, String)>> {
    let v = crate::on!(c, c => {
        let first_young: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM audit_log WHERE at_ms >= $1")
            .bind(cutoff_ms).fetch_one(&mut *c).await?;
        let row = match first_young {
            Some(s) => sqlx::query("SELECT seq, mac FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT 1")
                .bind(s).fetch_optional(&mut *c).await?,
            None => sqlx::query("SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *c).await?,
        };
        match row {
            Some(r) => Some((r.i64("seq")?, r.text("mac")?)),
            None => None,
        }
    });
    Ok(v)
}

/// Delete the records up to `seq` (retention). Only the retention job calls this.
pub async fn delete_through(c: &mut Conn, seq: i64) -> StoreResult<u64> {
    let n = crate::on!(c, c => sqlx::query("DELETE FROM audit_log WHERE seq <= $1").bind(seq).execute(&mut *c).await?.rows_affected());
    Ok(n)
}

/// The sequence number of the newest signed checkpoint (0 when none).
pub async fn last_checkpoint_seq(c: &mut Conn) -> StoreResult<i64> {
    let v: i64 = crate::on!(c, c => sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints")
        .fetch_one(&mut *c).await?);
    Ok(v)
}
