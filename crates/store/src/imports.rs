//! Imported ledger rows (issue 6): which row of which file a matter came from (`matter_imports`),
//! so a re-import updates instead of duplicating, and the few write helpers an update needs
//! (replacing 配合单位 and open 节点).

use std::collections::HashMap;

use crate::{Conn, GetCol, StoreResult};

/// The import record of one matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub matter_id: i64,
    pub year: i64,
    /// The importer's stable row key (sheet + title + lead unit).
    pub import_key: String,
    pub file_name: String,
    pub sheet: String,
    pub row_no: i64,
    /// 存在问题 as written.
    pub problems: String,
    /// 下步打算 as written.
    pub next_steps: String,
    /// 完成情况 / 办理状态 as written.
    pub status_text: String,
    pub imported_at: i64,
}

/// Texts kept from the ledger for the export (存在问题, 下步打算, 完成情况).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportExtras {
    pub problems: String,
    pub next_steps: String,
    pub status_text: String,
}

/// Every stored key: `(year, import_key)` → matter id.
pub async fn all_keys(c: &mut Conn) -> StoreResult<HashMap<(i64, String), i64>> {
    let v = crate::on!(c, c => {
        let rows = sqlx::query("SELECT matter_id, year, import_key FROM matter_imports")
            .fetch_all(&mut *c).await?;
        rows.iter()
            .map(|r| Ok(((r.i64("year")?, r.text("import_key")?), r.i64("matter_id")?)))
            .collect::<StoreResult<HashMap<_, _>>>()?
    });
    Ok(v)
}

/// Insert or replace the import record of a matter.
pub async fn upsert(c: &mut Conn, r: &ImportRow) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "INSERT INTO matter_imports (matter_id, year, import_key, file_name, sheet, row_no, problems,
            next_steps, status_text, imported_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (matter_id) DO UPDATE SET year = excluded.year, import_key = excluded.import_key,
            file_name = excluded.file_name, sheet = excluded.sheet, row_no = excluded.row_no,
            problems = excluded.problems, next_steps = excluded.next_steps,
            status_text = excluded.status_text, imported_at = excluded.imported_at")
        .bind(r.matter_id).bind(r.year).bind(&r.import_key).bind(&r.file_name).bind(&r.sheet)
        .bind(r.row_no).bind(&r.problems).bind(&r.next_steps).bind(&r.status_text)
        .bind(r.imported_at)
        .execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Extras of the given matters (those that came from an import), read in chunks.
pub async fn extras_of(c: &mut Conn, ids: &[i64]) -> StoreResult<HashMap<i64, ImportExtras>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT matter_id, problems, next_steps, status_text FROM matter_imports WHERE matter_id IN ({})",
            crate::matters::placeholders(1, chunk.len())
        );
        crate::on!(c, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&mut *c).await? {
                out.insert(r.i64("matter_id")?, ImportExtras {
                    problems: r.text("problems")?,
                    next_steps: r.text("next_steps")?,
                    status_text: r.text("status_text")?,
                });
            }
        });
    }
    Ok(out)
}

/// The matter holding `number` in `year`, if any.
pub async fn matter_with_number(c: &mut Conn, year: i64, number: &str) -> StoreResult<Option<i64>> {
    let v = crate::on!(c, c => sqlx::query_scalar(
        "SELECT id FROM matters WHERE year = $1 AND number = $2")
        .bind(year).bind(number).fetch_optional(&mut *c).await?);
    Ok(v)
}

/// The matters of `year` carrying one of `numbers`: (id, number).
pub async fn matters_with_numbers(
    c: &mut Conn,
    year: i64,
    numbers: &[String],
) -> StoreResult<Vec<(i64, String)>> {
    use crate::matters::{Arg, placeholders};
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, number FROM matters WHERE year = $1 AND number IN ({})",
        placeholders(2, numbers.len())
    );
    let mut args = vec![Arg::Int(year)];
    args.extend(numbers.iter().map(|n| Arg::Text(n.clone())));
    let v = crate::on!(c, c => {
        let q = crate::bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql)), args);
        let rows = q.fetch_all(&mut *c).await?;
        rows.iter().map(|r| Ok((r.i64("id")?, r.text("number")?))).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// Drop every 配合单位 of a matter (an update then adds the ledger's list).
pub async fn clear_assisting_units(c: &mut Conn, matter_id: i64) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("DELETE FROM matter_units WHERE matter_id = $1")
        .bind(matter_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Drop the 节点 of a matter that are not done; returns the highest position kept.
pub async fn clear_open_milestones(c: &mut Conn, matter_id: i64) -> StoreResult<i64> {
    let kept: i64 = crate::on!(c, c => {
        sqlx::query("DELETE FROM milestones WHERE matter_id = $1 AND done_on IS NULL")
            .bind(matter_id).execute(&mut *c).await?;
        sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM milestones WHERE matter_id = $1")
            .bind(matter_id).fetch_one(&mut *c).await?
    });
    Ok(kept)
}
