//! The organization tree: units (单位/处室) and their history.

use serde::Serialize;

use crate::{Conn, GetCol, StoreError, StoreResult};

/// Kinds of unit in the tree.
pub const UNIT_KINDS: &[&str] = &[
    "department",
    "division",
    "lower_department",
    "lower_division",
];

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Unit {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub short_name: String,
    pub kind: String,
    pub sort_order: i64,
    /// 分管领导 (the department leader in charge).
    pub leader_id: Option<i64>,
    pub retired_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewUnit<'a> {
    pub parent_id: Option<i64>,
    pub name: &'a str,
    pub short_name: &'a str,
    pub kind: &'a str,
    pub sort_order: i64,
}

const COLS: &str = "id, parent_id, name, short_name, kind, sort_order, leader_id, retired_at";

fn map(r: &(impl GetCol + ?Sized)) -> StoreResult<Unit> {
    Ok(Unit {
        id: r.i64("id")?,
        parent_id: r.opt_i64("parent_id")?,
        name: r.text("name")?,
        short_name: r.text("short_name")?,
        kind: r.text("kind")?,
        sort_order: r.i64("sort_order")?,
        leader_id: r.opt_i64("leader_id")?,
        retired_at: r.opt_i64("retired_at")?,
    })
}

pub async fn insert_unit(c: &mut Conn, u: &NewUnit<'_>, now_ms: i64) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO units (parent_id, name, short_name, kind, sort_order, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id")
        .bind(u.parent_id).bind(u.name).bind(u.short_name).bind(u.kind).bind(u.sort_order).bind(now_ms)
        .fetch_one(&mut *c).await?);
    Ok(id)
}

/// All units, retired ones included (history must stay readable), ordered for display.
pub async fn list_units(c: &mut Conn) -> StoreResult<Vec<Unit>> {
    let sql = format!("SELECT {COLS} FROM units ORDER BY sort_order, id");
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *c).await?;
        rows.iter().map(map).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

pub async fn find_unit(c: &mut Conn, id: i64) -> StoreResult<Option<Unit>> {
    let sql = format!("SELECT {COLS} FROM units WHERE id = $1");
    let v = crate::on!(c, c => match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *c).await? {
        Some(r) => Some(map(&r)?),
        None => None,
    });
    Ok(v)
}

pub async fn get_unit(c: &mut Conn, id: i64) -> StoreResult<Unit> {
    find_unit(c, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("unit {id}")))
}

pub async fn set_leader(
    c: &mut Conn,
    unit_id: i64,
    leader_id: Option<i64>,
    now_ms: i64,
) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("UPDATE units SET leader_id = $1, updated_at = $2 WHERE id = $3")
        .bind(leader_id).bind(now_ms).bind(unit_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Rename, move or retire a unit, keeping the old value in `unit_events`.
pub async fn update_unit(
    c: &mut Conn,
    id: i64,
    field: UnitChange<'_>,
    actor_id: Option<i64>,
    now_ms: i64,
) -> StoreResult<()> {
    let old = get_unit(c, id).await?;
    let (kind, old_v, new_v) = match field {
        UnitChange::Rename(name) => {
            crate::on!(c, c => sqlx::query("UPDATE units SET name = $1, updated_at = $2 WHERE id = $3")
                .bind(name).bind(now_ms).bind(id).execute(&mut *c).await?.rows_affected());
            ("rename", old.name.clone(), name.to_owned())
        }
        UnitChange::Move(parent) => {
            crate::on!(c, c => sqlx::query("UPDATE units SET parent_id = $1, updated_at = $2 WHERE id = $3")
                .bind(parent).bind(now_ms).bind(id).execute(&mut *c).await?.rows_affected());
            (
                "move",
                old.parent_id.map(|p| p.to_string()).unwrap_or_default(),
                parent.to_string(),
            )
        }
        UnitChange::Retire => {
            crate::on!(c, c => sqlx::query("UPDATE units SET retired_at = $1, updated_at = $1 WHERE id = $2")
                .bind(now_ms).bind(id).execute(&mut *c).await?.rows_affected());
            ("retire", String::new(), now_ms.to_string())
        }
    };
    crate::on!(c, c => sqlx::query(
        "INSERT INTO unit_events (unit_id, at_ms, actor_id, kind, old_value, new_value) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id).bind(now_ms).bind(actor_id).bind(kind).bind(old_v).bind(new_v).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub enum UnitChange<'a> {
    Rename(&'a str),
    Move(i64),
    Retire,
}

/// A cheap fingerprint of the unit tree (count and latest change), so a cached tree can be
/// reused until any node (on any app server) changes a unit.
pub async fn units_stamp(c: &mut Conn) -> StoreResult<(i64, i64)> {
    // Kept by a SQLite read connection until the database changes (`sync_read::ints`).
    let [n, t] = crate::sync_read::ints(
        c,
        "SELECT COUNT(*) AS n, COALESCE(MAX(updated_at), 0) AS t FROM units",
        &[],
        ["n", "t"],
    )
    .await?;
    Ok((n, t))
}
