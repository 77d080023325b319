//! The parts of a matter that 修改台账 and 子事项 change after creation: removing 配合单位 and
//! 承办人, updating and removing unfinished 节点, the children of a matter (`parent_id`, indexed
//! by `matters_parent`) and the few names a list page needs about parents and children, each
//! in one query for a whole page.

use crate::matters::{COLS, MatterRow, map};
use crate::{Conn, GetCol, StoreResult};

/// The children (子事项) of a matter, in number order.
pub async fn children(c: &mut Conn, parent_id: i64) -> StoreResult<Vec<MatterRow>> {
    let sql = format!("SELECT {COLS} FROM matters m WHERE m.parent_id = $1 ORDER BY m.seq, m.id");
    crate::sync_read::bounded_rows(c, &sql, &[crate::matters::Arg::Int(parent_id)], |r| map(r))
        .await
}

/// `a,b,c` for an `IN (…)` list of integers formatted here (never user text).
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// The statement of [`child_counts`] for `ids` (not empty).
pub fn child_counts_sql(ids: &[i64]) -> String {
    format!(
        "SELECT parent_id, COUNT(*) AS n FROM matters WHERE parent_id IN ({}) GROUP BY parent_id",
        id_list(ids)
    )
}

/// How many children each of `ids` has: (parent id, count), only for parents with children.
pub async fn child_counts(c: &mut Conn, ids: &[i64]) -> StoreResult<Vec<(i64, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // A page's ids: a bounded read, on a SQLite read connection without a thread hand-off.
    crate::sync_read::bounded_rows_once(c, &child_counts_sql(ids), &[], |r| {
        Ok((r.i64("parent_id")?, r.i64("n")?))
    })
    .await
}

/// (id, 编号) of each of `ids` that exists.
pub async fn numbers_of(c: &mut Conn, ids: &[i64]) -> StoreResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, number FROM matters WHERE id IN ({})",
        id_list(ids)
    );
    // A page's parents: a bounded read (see `child_counts`).
    crate::sync_read::bounded_rows_once(c, &sql, &[], |r| Ok((r.i64("id")?, r.text("number")?)))
        .await
}

/// Drop a 配合单位 from a matter.
pub async fn remove_assisting_unit(c: &mut Conn, id: i64, unit_id: i64) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("DELETE FROM matter_units WHERE matter_id = $1 AND unit_id = $2")
        .bind(id).bind(unit_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Drop a 承办人 from a matter.
pub async fn remove_handler(c: &mut Conn, id: i64, person_id: i64) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("DELETE FROM matter_handlers WHERE matter_id = $1 AND person_id = $2")
        .bind(id).bind(person_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Change title, date, owner and position of a 节点 that is not done yet. False when the row is
/// not an unfinished 节点 of this matter (nothing changed).
pub async fn update_open_milestone(
    c: &mut Conn,
    m: &crate::ledger::MilestoneRow,
) -> StoreResult<bool> {
    let n = crate::on!(c, c => sqlx::query(
        "UPDATE milestones SET title = $1, due_on = $2, owner_id = $3, position = $4
         WHERE id = $5 AND matter_id = $6 AND done_on IS NULL")
        .bind(&m.title).bind(&m.due_on).bind(m.owner_id).bind(m.position).bind(m.id).bind(m.matter_id)
        .execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// Remove a 节点 that is not done yet. False when it is not an unfinished 节点 of this matter.
pub async fn delete_open_milestone(c: &mut Conn, matter_id: i64, id: i64) -> StoreResult<bool> {
    let n = crate::on!(c, c => sqlx::query(
        "DELETE FROM milestones WHERE id = $1 AND matter_id = $2 AND done_on IS NULL")
        .bind(id).bind(matter_id).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// Enabled people of the given units: (id, display name, unit id), by unit then name.
pub async fn people_of_units(c: &mut Conn, units: &[i64]) -> StoreResult<Vec<(i64, String, i64)>> {
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, display_name, unit_id FROM people WHERE unit_id IN ({}) AND disabled = FALSE
         ORDER BY unit_id, id",
        id_list(units)
    );
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false).fetch_all(&mut *c).await?;
        rows.iter()
            .map(|r| Ok((r.i64("id")?, r.text("display_name")?, r.i64("unit_id")?)))
            .collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}
