//! 佐证材料 (attachments): content-addressed bytes (`attachment_blobs`, one row per distinct
//! SHA-256) and the uploads that point at them (`attachments`: matter, optional 进展反馈, the
//! name the user gave, who and when, and whether it was withdrawn).

use serde::Serialize;

use crate::{Conn, GetCol, StoreError, StoreResult};

/// One upload: the metadata only (the bytes are fetched separately with [`blob`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentRow {
    pub id: i64,
    pub matter_id: i64,
    pub report_id: Option<i64>,
    pub sha256: String,
    pub size_bytes: i64,
    pub media_type: String,
    pub filename: String,
    pub uploaded_by: i64,
    pub uploaded_at: i64,
    /// Set when the attachment was withdrawn (the row and the bytes stay).
    pub removed_at: Option<i64>,
    pub removed_by: Option<i64>,
    pub removed_reason: String,
}

const COLS: &str = "id, matter_id, report_id, sha256, size_bytes, media_type, filename, \
    uploaded_by, uploaded_at, removed_at, removed_by, removed_reason";

fn map(r: &(impl GetCol + ?Sized)) -> StoreResult<AttachmentRow> {
    Ok(AttachmentRow {
        id: r.i64("id")?,
        matter_id: r.i64("matter_id")?,
        report_id: r.opt_i64("report_id")?,
        sha256: r.text("sha256")?,
        size_bytes: r.i64("size_bytes")?,
        media_type: r.text("media_type")?,
        filename: r.text("filename")?,
        uploaded_by: r.i64("uploaded_by")?,
        uploaded_at: r.i64("uploaded_at")?,
        removed_at: r.opt_i64("removed_at")?,
        removed_by: r.opt_i64("removed_by")?,
        removed_reason: r.text("removed_reason")?,
    })
}

/// Store `bytes` under their SHA-256 unless the same bytes are already there. Returns whether a
/// new blob was written (`false`: deduplicated).
pub async fn put_blob(
    c: &mut Conn,
    sha256: &str,
    media_type: &str,
    bytes: &[u8],
    now_ms: i64,
) -> StoreResult<bool> {
    let size =
        i64::try_from(bytes.len()).map_err(|_| StoreError::Other("attachment too large".into()))?;
    let n = crate::on!(c, c => sqlx::query(
        "INSERT INTO attachment_blobs (sha256, size_bytes, media_type, bytes, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING")
        .bind(sha256).bind(size).bind(media_type).bind(bytes).bind(now_ms)
        .execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// The bytes stored under `sha256`.
pub async fn blob(c: &mut Conn, sha256: &str) -> StoreResult<Vec<u8>> {
    let v: Option<Vec<u8>> = crate::on!(c, c => sqlx::query_scalar(
        "SELECT bytes FROM attachment_blobs WHERE sha256 = $1")
        .bind(sha256).fetch_optional(&mut *c).await?);
    v.ok_or_else(|| StoreError::NotFound(format!("attachment blob {sha256}")))
}

/// Number of distinct blobs stored (dedupe checks, statistics).
pub async fn blob_count(c: &mut Conn) -> StoreResult<i64> {
    let n: i64 = crate::on!(c, c => sqlx::query_scalar("SELECT COUNT(*) FROM attachment_blobs")
        .fetch_one(&mut *c).await?);
    Ok(n)
}

/// Record one upload (the blob must already be stored). Returns the new id.
pub async fn insert(c: &mut Conn, a: &AttachmentRow) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO attachments (matter_id, report_id, sha256, size_bytes, media_type, filename,
            uploaded_by, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
        .bind(a.matter_id).bind(a.report_id).bind(&a.sha256).bind(a.size_bytes)
        .bind(&a.media_type).bind(&a.filename).bind(a.uploaded_by).bind(a.uploaded_at)
        .fetch_one(&mut *c).await?);
    Ok(id)
}

/// One upload's metadata.
pub async fn get(c: &mut Conn, id: i64) -> StoreResult<AttachmentRow> {
    let sql = format!("SELECT {COLS} FROM attachments WHERE id = $1");
    let v = crate::on!(c, c => match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *c).await? {
        Some(r) => map(&r)?,
        None => return Err(StoreError::NotFound(format!("attachment {id}"))),
    });
    Ok(v)
}

/// The statement of [`list_by_matter`] (`$1` matter).
pub fn by_matter_sql() -> String {
    format!("SELECT {COLS} FROM attachments WHERE matter_id = $1 ORDER BY uploaded_at, id")
}

/// Every upload of a matter, withdrawn ones included, oldest first.
pub async fn list_by_matter(c: &mut Conn, matter_id: i64) -> StoreResult<Vec<AttachmentRow>> {
    let sql = by_matter_sql();
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(matter_id).fetch_all(&mut *c).await?;
        rows.iter().map(map).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// The uploads attached to one 进展反馈, withdrawn ones included, oldest first.
pub async fn list_by_report(c: &mut Conn, report_id: i64) -> StoreResult<Vec<AttachmentRow>> {
    let sql =
        format!("SELECT {COLS} FROM attachments WHERE report_id = $1 ORDER BY uploaded_at, id");
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(report_id).fetch_all(&mut *c).await?;
        rows.iter().map(map).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// Mark an upload withdrawn. A `Conflict` when it already was (nothing changes then).
pub async fn mark_removed(
    c: &mut Conn,
    id: i64,
    by: Option<i64>,
    reason: &str,
    now_ms: i64,
) -> StoreResult<()> {
    let n = crate::on!(c, c => sqlx::query(
        "UPDATE attachments SET removed_at = $1, removed_by = $2, removed_reason = $3
         WHERE id = $4 AND removed_at IS NULL")
        .bind(now_ms).bind(by).bind(reason).bind(id).execute(&mut *c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "attachment {id} already withdrawn"
        )));
    }
    Ok(())
}
