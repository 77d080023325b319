//! Reading a backup back: line by line into bounded multi-row INSERTs inside one transaction,
//! the digest checked at the end line before anything is committed.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, Read};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use sha2::{Digest, Sha256};

use super::{BackupSummary, Col, FORMAT, NOT_BACKED_UP, TABLES, VERSION, io_err};
use crate::{Conn, Store, StoreError, StoreResult};

/// Longest line accepted: a blob at the attachment ceiling is about a third of this in base64.
const MAX_LINE: u64 = 128 << 20;
/// Bind parameters per INSERT (SQLite allows 32766, PostgreSQL 65535).
const MAX_BINDS: usize = 30_000;
/// Bytes of values held before a batch is written.
const MAX_BATCH_BYTES: usize = 8 << 20;

pub(super) async fn restore(store: &Store, input: &mut dyn BufRead) -> StoreResult<BackupSummary> {
    let mut lines = Lines {
        input,
        buf: Vec::new(),
        n: 0,
        hasher: Sha256::new(),
    };
    if !lines.next()? {
        return Err(bad(1, "empty file"));
    }
    check_header(&lines.buf)?;
    lines.hash();
    let mut c = store.begin().await?;
    let mut load = Loader::default();
    if let Err(e) = load_all(&mut c, &mut lines, &mut load).await {
        c.rollback().await?;
        return Err(e);
    }
    c.commit().await?;
    let mut counts = BTreeMap::new();
    for ((table, _), n) in TABLES.iter().zip(&load.counts) {
        counts.insert((*table).to_owned(), *n);
    }
    Ok(BackupSummary {
        counts,
        sha256: hex::encode(lines.hasher.finalize()),
    })
}

/// Clear the tables and load every row; an error leaves the transaction to be rolled back.
async fn load_all(c: &mut Conn, lines: &mut Lines<'_>, load: &mut Loader) -> StoreResult<()> {
    // Clear every table (children first); sessions of the old database end with the restore.
    for table in NOT_BACKED_UP
        .iter()
        .chain(TABLES.iter().rev().map(|(t, _)| t))
    {
        let sql = format!("DELETE FROM {table}");
        crate::on!(c, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *c).await?.rows_affected());
    }
    let footer_digest = loop {
        if !lines.next()? {
            return Err(StoreError::Other(
                "backup file is truncated (no end marker)".into(),
            ));
        }
        let n = lines.n;
        let l: Line<'_> =
            serde_json::from_slice(&lines.buf).map_err(|e| bad(n, &format!("not JSON ({e})")))?;
        if l.end.is_some() {
            break l.sha256.unwrap_or_default();
        }
        let (Some(t), Some(r)) = (l.t, l.r) else {
            return Err(bad(n, "a row needs a table (t) and values (r)"));
        };
        load.push(c, n, &t, r).await?;
        lines.hasher.update(&lines.buf);
        lines.hasher.update(b"\n");
    };
    if lines.next()? {
        return Err(bad(lines.n, "data after the end marker"));
    }
    load.finish_table(c).await?;
    if footer_digest != hex::encode(lines.hasher.clone().finalize()) {
        return Err(StoreError::Other(
            "backup file digest mismatch: the file was altered or damaged".into(),
        ));
    }
    if c.is_postgres() {
        for (table, cols) in TABLES {
            if cols.first().is_some_and(|(n, _)| *n == "id") {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                );
                crate::on!(c, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *c).await?.rows_affected());
            }
        }
    }
    Ok(())
}

fn bad(line: usize, why: &str) -> StoreError {
    StoreError::Other(format!("backup file line {line}: {why}"))
}

fn check_header(line: &[u8]) -> StoreResult<()> {
    #[derive(Deserialize)]
    struct Header<'a> {
        #[serde(borrow)]
        format: Option<Cow<'a, str>>,
        version: Option<i64>,
    }
    let h: Header<'_> =
        serde_json::from_slice(line).map_err(|e| bad(1, &format!("not JSON ({e})")))?;
    if h.format.as_deref() != Some(FORMAT) {
        return Err(bad(1, "not a Taizhang backup file"));
    }
    match h.version {
        Some(v) if v > VERSION => Err(bad(
            1,
            &format!("format version {v} was written by a newer Taizhang; upgrade to restore it"),
        )),
        _ => Ok(()),
    }
}

/// The lines of the file, read into one reused buffer and hashed once accepted.
struct Lines<'a> {
    input: &'a mut dyn BufRead,
    buf: Vec<u8>,
    n: usize,
    hasher: Sha256,
}

impl Lines<'_> {
    /// Read the next line into `buf` without its terminator (`\n` or `\r\n`); `false` at the end.
    fn next(&mut self) -> StoreResult<bool> {
        self.buf.clear();
        let read = (&mut *self.input)
            .take(MAX_LINE + 2)
            .read_until(b'\n', &mut self.buf)
            .map_err(io_err)?;
        if read == 0 {
            return Ok(false);
        }
        self.n += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        } else if read as u64 > MAX_LINE {
            return Err(bad(self.n, "line longer than 128 MiB"));
        }
        Ok(true)
    }

    /// Add the line just read to the digest (as written: the line and `\n`).
    fn hash(&mut self) {
        self.hasher.update(&self.buf);
        self.hasher.update(b"\n");
    }
}

/// One line after the header: a row (`t`, `r`) or the end line (`end`, as the first version
/// told them apart), strings borrowed from the line where possible.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    t: Option<Cow<'a, str>>,
    #[serde(borrow)]
    r: Option<Vec<Json<'a>>>,
    end: Option<de::IgnoredAny>,
    sha256: Option<String>,
}

/// A value of a row: only what the writer produces, anything else is refused.
enum Json<'a> {
    Null,
    Int(i64),
    Bool(bool),
    Str(Cow<'a, str>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Json<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("null, an integer, a boolean or a string")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Json::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Json::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map(Json::Int)
                    .map_err(|_| E::custom("integer out of range"))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Json::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Json::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Json::Str(Cow::Owned(v)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A value ready to bind, typed by its column (PostgreSQL needs the type of a NULL too).
enum Bind {
    Int(Option<i64>),
    Text(Option<String>),
    Flag(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

impl Bind {
    fn size(&self) -> usize {
        match self {
            Bind::Text(Some(s)) => s.len(),
            Bind::Bytes(Some(b)) => b.len(),
            _ => 8,
        }
    }
}

/// Rows on their way in: the batch of the current table, the self references that point
/// forward (set once their table is complete) and the counts so far.
struct Loader {
    table: usize,
    batch: Vec<Vec<Bind>>,
    batch_bytes: usize,
    /// `(id, column index, referenced id)` of self references not yet satisfiable.
    later: Vec<(i64, usize, i64)>,
    last_id: Option<i64>,
    ascending: bool,
    counts: Vec<u64>,
}

impl Default for Loader {
    fn default() -> Self {
        Loader {
            table: 0,
            batch: Vec::new(),
            batch_bytes: 0,
            later: Vec::new(),
            last_id: None,
            ascending: true,
            counts: vec![0; TABLES.len()],
        }
    }
}

impl Loader {
    async fn push(&mut self, c: &mut Conn, n: usize, t: &str, r: Vec<Json<'_>>) -> StoreResult<()> {
        let Some(idx) = TABLES.iter().position(|(name, _)| *name == t) else {
            return Err(bad(n, &format!("unknown table {t}")));
        };
        if idx < self.table {
            return Err(bad(
                n,
                &format!(
                    "rows of {t} after rows of {}: the tables are out of order",
                    TABLES[self.table].0
                ),
            ));
        }
        if idx > self.table {
            self.finish_table(c).await?;
            self.table = idx;
        }
        let (table, cols) = TABLES[idx];
        if r.len() != cols.len() {
            return Err(bad(
                n,
                &format!(
                    "{table} row has {} values, expected {}",
                    r.len(),
                    cols.len()
                ),
            ));
        }
        // Rows come in id order, so a reference to a smaller id points at a row already in;
        // anything else is inserted as NULL and set when the table is complete.
        let id = match r.first() {
            Some(Json::Int(i)) => Some(*i),
            _ => None,
        };
        if let (Some(prev), Some(id)) = (self.last_id, id) {
            self.ascending &= id > prev;
        }
        self.last_id = id;
        let mut binds = Vec::with_capacity(cols.len());
        for (i, ((name, kind), v)) in cols.iter().zip(r).enumerate() {
            let b = match (kind, v) {
                (Col::SelfRef, Json::Int(to)) => match id {
                    Some(id) if self.ascending && to < id => Bind::Int(Some(to)),
                    Some(id) => {
                        self.later.push((id, i, to));
                        Bind::Int(None)
                    }
                    None => return Err(bad(n, &format!("{table}.{name} without an id"))),
                },
                (Col::Int | Col::SelfRef, v) => Bind::Int(match v {
                    Json::Int(x) => Some(x),
                    _ => None,
                }),
                (Col::Text, v) => Bind::Text(match v {
                    Json::Str(s) => Some(s.into_owned()),
                    _ => None,
                }),
                (Col::Flag, v) => Bind::Flag(match v {
                    Json::Bool(x) => Some(x),
                    _ => None,
                }),
                (Col::Bytes, Json::Str(s)) => {
                    Bind::Bytes(Some(B64.decode(s.as_bytes()).map_err(|e| {
                        bad(n, &format!("{table}.{name} holds bad base64 ({e})"))
                    })?))
                }
                (Col::Bytes, _) => Bind::Bytes(None),
            };
            self.batch_bytes += b.size();
            binds.push(b);
        }
        self.batch.push(binds);
        self.counts[idx] += 1;
        if (self.batch.len() + 1) * cols.len() > MAX_BINDS || self.batch_bytes >= MAX_BATCH_BYTES {
            self.flush(c).await?;
        }
        Ok(())
    }

    /// Write what is pending and set the forward self references of the current table.
    async fn finish_table(&mut self, c: &mut Conn) -> StoreResult<()> {
        self.flush(c).await?;
        let (table, cols) = TABLES[self.table];
        for (id, col, r) in std::mem::take(&mut self.later) {
            let sql = format!("UPDATE {table} SET {} = $1 WHERE id = $2", cols[col].0);
            crate::on!(c, c => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(r).bind(id).execute(&mut *c).await?.rows_affected());
        }
        self.last_id = None;
        self.ascending = true;
        Ok(())
    }

    /// One multi-row INSERT of the batch.
    async fn flush(&mut self, c: &mut Conn) -> StoreResult<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let (table, cols) = TABLES[self.table];
        let rows = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        // SQLite looks `$N` up by a linear scan of the names; anonymous `?` avoid that.
        let positional = !c.is_postgres();
        let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", names.join(", "));
        let mut k = 0usize;
        for i in 0..rows.len() {
            sql.push_str(if i == 0 { "(" } else { ",(" });
            for j in 0..cols.len() {
                if j > 0 {
                    sql.push(',');
                }
                k += 1;
                if positional {
                    sql.push('?');
                } else {
                    sql.push('$');
                    sql.push_str(&k.to_string());
                }
            }
            sql.push(')');
        }
        crate::on!(c, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
            for row in rows {
                for b in row {
                    q = match b {
                        Bind::Int(v) => q.bind(v),
                        Bind::Text(v) => q.bind(v),
                        Bind::Flag(v) => q.bind(v),
                        Bind::Bytes(v) => q.bind(v),
                    };
                }
            }
            q.execute(&mut *c).await?.rows_affected()
        });
        Ok(())
    }
}
