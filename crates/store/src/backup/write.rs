//! Writing a backup: one snapshot, each table streamed row by row to the output, attachment bytes
//! read in groups of a few MB and base64-encoded straight into the output.

use std::io::Write;

use base64::engine::general_purpose::STANDARD as B64;
use futures::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{BackupSummary, Col, FORMAT, TABLES, VERSION, io_err};
use crate::{Conn, Store, StoreError, StoreResult};

/// Attachment bytes fetched per query (one larger blob is fetched alone).
const BLOB_GROUP_BYTES: i64 = 8 << 20;
/// Keys (with their sizes) read per page while walking a table of blobs.
const BLOB_KEY_PAGE: i64 = 1000;

pub(super) async fn backup(store: &Store, out: &mut dyn Write) -> StoreResult<BackupSummary> {
    let mut c = store.snapshot().await?;
    let mut w = Hashed {
        out,
        hasher: Sha256::new(),
    };
    let mut summary = BackupSummary::default();
    let header = serde_json::json!({"format": FORMAT, "version": VERSION, "tables": TABLES.len()});
    writeln!(w, "{header}").map_err(io_err)?;
    for (table, cols) in TABLES {
        let n = if cols.iter().any(|(_, k)| *k == Col::Bytes) {
            dump_blobs(&mut c, table, cols, &mut w).await?
        } else {
            dump_rows(&mut c, table, cols, &mut w).await?
        };
        summary.counts.insert((*table).to_owned(), n);
    }
    c.rollback().await?;
    let Hashed { out, hasher } = w;
    summary.sha256 = hex::encode(hasher.finalize());
    let footer =
        serde_json::json!({"end": true, "counts": summary.counts, "sha256": summary.sha256});
    writeln!(out, "{footer}").map_err(io_err)?;
    out.flush().map_err(io_err)?;
    Ok(summary)
}

/// A table of ordinary rows, streamed in key order.
async fn dump_rows(
    c: &mut Conn,
    table: &str,
    cols: &[(&str, Col)],
    w: &mut Hashed<'_>,
) -> StoreResult<u64> {
    let sql = format!("SELECT {} FROM {table} ORDER BY {}", names(cols), cols[0].0);
    let mut n = 0u64;
    crate::on!(c, c => {
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *c);
        while let Some(r) = rows.try_next().await? {
            write_row(w, table, cols, &r)?;
            n += 1;
        }
    });
    Ok(n)
}

/// A table holding bytes: walk its (text) key in pages, then fetch the rows of each group of
/// keys whose bytes add up to at most [`BLOB_GROUP_BYTES`], so only that much is ever held.
async fn dump_blobs(
    c: &mut Conn,
    table: &str,
    cols: &[(&str, Col)],
    w: &mut Hashed<'_>,
) -> StoreResult<u64> {
    let key = cols[0].0;
    let Some((bytes_col, _)) = cols.iter().find(|(_, k)| *k == Col::Bytes) else {
        return Ok(0);
    };
    if cols[0].1 != Col::Text {
        return Err(StoreError::Other(format!(
            "backup: {table} holds bytes but its first column is not a text key"
        )));
    }
    let page_sql = format!(
        "SELECT {key} AS k, CAST(LENGTH({bytes_col}) AS BIGINT) AS n FROM {table} \
         WHERE {key} > $1 ORDER BY {key} LIMIT {BLOB_KEY_PAGE}"
    );
    let rows_sql = format!(
        "SELECT {} FROM {table} WHERE {key} >= $1 AND {key} <= $2 ORDER BY {key}",
        names(cols)
    );
    let mut after = String::new();
    let mut n = 0u64;
    loop {
        let page: Vec<(String, Option<i64>)> = crate::on!(c, c => {
            sqlx::query_as(sqlx::AssertSqlSafe(page_sql.clone()))
                .bind(&after)
                .fetch_all(&mut *c)
                .await?
        });
        let Some((last, _)) = page.last() else {
            break;
        };
        after = last.clone();
        for group in groups(&page) {
            let (lo, hi) = (&group[0].0, &group[group.len() - 1].0);
            crate::on!(c, c => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(rows_sql.clone()))
                    .bind(lo)
                    .bind(hi)
                    .fetch_all(&mut *c)
                    .await?;
                for r in rows {
                    write_row(w, table, cols, &r)?;
                    n += 1;
                }
            });
        }
    }
    Ok(n)
}

/// Consecutive keys cut into groups of at most [`BLOB_GROUP_BYTES`] (a larger one alone).
fn groups(page: &[(String, Option<i64>)]) -> Vec<&[(String, Option<i64>)]> {
    let mut out = Vec::new();
    let (mut start, mut sum) = (0usize, 0i64);
    for (i, (_, len)) in page.iter().enumerate() {
        let len = len.unwrap_or(0).max(0);
        if i > start && sum + len > BLOB_GROUP_BYTES {
            out.push(&page[start..i]);
            (start, sum) = (i, 0);
        }
        sum += len;
    }
    if start < page.len() {
        out.push(&page[start..]);
    }
    out
}

fn names(cols: &[(&str, Col)]) -> String {
    cols.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// Reading one column of a row as its backup kind, the same way on both backends.
trait Cells {
    fn write_cell(&self, w: &mut Hashed<'_>, name: &str, kind: Col) -> Result<(), sqlx::Error>;
}

macro_rules! impl_cells {
    ($row:ty) => {
        impl Cells for $row {
            fn write_cell(
                &self,
                w: &mut Hashed<'_>,
                name: &str,
                kind: Col,
            ) -> Result<(), sqlx::Error> {
                let io = |e: std::io::Error| sqlx::Error::Io(e);
                match kind {
                    Col::Int | Col::SelfRef => match self.try_get::<Option<i64>, _>(name)? {
                        Some(v) => write!(w, "{v}").map_err(io),
                        None => w.write_all(b"null").map_err(io),
                    },
                    Col::Flag => match self.try_get::<Option<bool>, _>(name)? {
                        Some(v) => write!(w, "{v}").map_err(io),
                        None => w.write_all(b"null").map_err(io),
                    },
                    Col::Text => match self.try_get::<Option<&str>, _>(name)? {
                        Some(v) => serde_json::to_writer(&mut *w, v)
                            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e))),
                        None => w.write_all(b"null").map_err(io),
                    },
                    // Base64 needs no JSON escaping: the text goes straight out, never whole.
                    Col::Bytes => match self.try_get::<Option<&[u8]>, _>(name)? {
                        Some(v) => {
                            w.write_all(b"\"").map_err(io)?;
                            let mut enc = base64::write::EncoderWriter::new(&mut *w, &B64);
                            enc.write_all(v).map_err(io)?;
                            let w = enc.finish().map_err(io)?;
                            w.write_all(b"\"").map_err(io)
                        }
                        None => w.write_all(b"null").map_err(io),
                    },
                }
            }
        }
    };
}

impl_cells!(sqlx::sqlite::SqliteRow);
impl_cells!(sqlx::postgres::PgRow);

/// One row line: `{"t":TABLE,"r":[…]}`.
fn write_row<R: Cells>(
    w: &mut Hashed<'_>,
    table: &str,
    cols: &[(&str, Col)],
    r: &R,
) -> StoreResult<()> {
    write!(w, "{{\"t\":\"{table}\",\"r\":[").map_err(io_err)?;
    for (i, (name, kind)) in cols.iter().enumerate() {
        if i > 0 {
            w.write_all(b",").map_err(io_err)?;
        }
        r.write_cell(w, name, *kind)
            .map_err(|e| StoreError::Other(format!("{table}.{name}: {e}")))?;
    }
    w.write_all(b"]}\n").map_err(io_err)
}

/// The output, hashing every byte that goes through it (the end line is written around it).
struct Hashed<'a> {
    out: &'a mut dyn Write,
    hasher: Sha256,
}

impl Write for Hashed<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_groups_stay_under_the_cap_and_a_big_blob_goes_alone() {
        let mb = 1 << 20;
        let page: Vec<(String, Option<i64>)> = [3i64, 3, 3, 20, 1, 0]
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("{i}"), Some(n * mb)))
            .collect();
        let g = groups(&page);
        let sizes: Vec<usize> = g.iter().map(|s| s.len()).collect();
        assert_eq!(sizes, vec![2, 1, 1, 2]);
        assert_eq!(g.iter().map(|s| s.len()).sum::<usize>(), page.len());
        assert!(groups(&[]).is_empty());
    }
}
