//! Key/value settings stored in the database (things an administrator changes at run time).

use crate::matters::Arg;
use crate::{Conn, GetCol, StoreResult};

pub async fn find(c: &mut Conn, key: &str) -> StoreResult<Option<String>> {
    let v: Option<String> = crate::on!(c, c => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key).fetch_optional(&mut *c).await?);
    Ok(v)
}

/// Two settings in one query (each `None` when absent).
pub async fn find_pair(
    c: &mut Conn,
    a: &str,
    b: &str,
) -> StoreResult<(Option<String>, Option<String>)> {
    let args = [Arg::Text(a.to_owned()), Arg::Text(b.to_owned())];
    let rows = crate::sync_read::bounded_rows(
        c,
        "SELECT key, value FROM settings WHERE key IN ($1, $2)",
        &args,
        |r| Ok((r.text("key")?, r.text("value")?)),
    )
    .await?;
    let mut out = (None, None);
    for (k, v) in rows {
        if k == a {
            out.0 = Some(v);
        } else if k == b {
            out.1 = Some(v);
        }
    }
    Ok(out)
}

pub async fn put(c: &mut Conn, key: &str, value: &str, now_ms: i64) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
        .bind(key).bind(value).bind(now_ms).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn list(c: &mut Conn) -> StoreResult<Vec<(String, String)>> {
    let rows = crate::on!(c, c => {
        let rows = sqlx::query("SELECT key, value FROM settings ORDER BY key").fetch_all(&mut *c).await?;
        rows.iter().map(|r| Ok((r.text("key")?, r.text("value")?))).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(rows)
}
