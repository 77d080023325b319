//! What the cadences record: 一日一清查 items and their confirmations, 一周一小结 summaries,
//! 一月一盘点 frozen snapshots and 一年一归零 year closes.

use serde::Serialize;

use crate::{Conn, GetCol, StoreError, StoreResult};

/// One line of a daily check list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckItemRow {
    pub id: i64,
    pub check_day: String,
    pub unit_id: i64,
    pub matter_id: i64,
    pub category: String,
    pub action: String,
    pub confirmed_by: Option<i64>,
    pub confirmed_at: Option<i64>,
}

/// Forget the unconfirmed items of a day (a replay rebuilds them; confirmations stay).
pub async fn clear_unconfirmed(c: &mut Conn, day: &str) -> StoreResult<u64> {
    let n = crate::on!(c, c => sqlx::query("DELETE FROM daily_check_items WHERE check_day = $1 AND confirmed_at IS NULL")
        .bind(day).execute(&mut *c).await?.rows_affected());
    Ok(n)
}

/// Insert `(unit_id, matter_id, category)` items for `day` in batches; existing ones are kept.
pub async fn insert_items(c: &mut Conn, day: &str, items: &[(i64, i64, &str)]) -> StoreResult<()> {
    use crate::bulk::{self, Val};
    if let crate::conn::Exec::Pg(pg) = c.exec().await? {
        // Three array parameters instead of 30,000 scalars per statement: PostgreSQL parses and
        // binds one short statement per batch (a third of the multi-row VALUES time).
        let units: Vec<i64> = items.iter().map(|i| i.0).collect();
        let matters: Vec<i64> = items.iter().map(|i| i.1).collect();
        let cats: Vec<&str> = items.iter().map(|i| i.2).collect();
        sqlx::query(
            "INSERT INTO daily_check_items (check_day, unit_id, matter_id, category) \
             SELECT $1, u, m, k FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::TEXT[]) AS t(u, m, k) \
             ON CONFLICT (check_day, matter_id, category) DO NOTHING",
        )
        .bind(day)
        .bind(units)
        .bind(matters)
        .bind(cats)
        .execute(&mut *pg)
        .await?;
        return Ok(());
    }
    let rows: Vec<Vec<Val>> = items
        .iter()
        .map(|(u, m, cat)| {
            vec![
                Val::Text(day.to_owned()),
                Val::Int(*u),
                Val::Int(*m),
                Val::Text((*cat).to_owned()),
            ]
        })
        .collect();
    bulk::insert_with(
        c,
        "daily_check_items",
        &["check_day", "unit_id", "matter_id", "category"],
        &rows,
        "ON CONFLICT (check_day, matter_id, category) DO NOTHING",
    )
    .await
}

const ITEM_COLS: &str =
    "id, check_day, unit_id, matter_id, category, action, confirmed_by, confirmed_at";

fn map_item(r: &(impl GetCol + ?Sized)) -> StoreResult<CheckItemRow> {
    Ok(CheckItemRow {
        id: r.i64("id")?,
        check_day: r.text("check_day")?,
        unit_id: r.i64("unit_id")?,
        matter_id: r.i64("matter_id")?,
        category: r.text("category")?,
        action: r.text("action")?,
        confirmed_by: r.opt_i64("confirmed_by")?,
        confirmed_at: r.opt_i64("confirmed_at")?,
    })
}

/// The items of a day, optionally of one unit.
pub async fn list_items(
    c: &mut Conn,
    day: &str,
    unit: Option<i64>,
) -> StoreResult<Vec<CheckItemRow>> {
    let sql = match unit {
        Some(_) => format!(
            "SELECT {ITEM_COLS} FROM daily_check_items WHERE check_day = $1 AND unit_id = $2 ORDER BY unit_id, matter_id, category"
        ),
        None => format!(
            "SELECT {ITEM_COLS} FROM daily_check_items WHERE check_day = $1 ORDER BY unit_id, matter_id, category"
        ),
    };
    let v = crate::on!(c, c => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(day);
        if let Some(u) = unit {
            q = q.bind(u);
        }
        let rows = q.fetch_all(&mut *c).await?;
        rows.iter().map(map_item).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// Which units' items of a day to read.
#[derive(Debug, Clone, Copy)]
pub enum ItemUnits<'a> {
    All,
    /// Only these units (an empty list reads nothing).
    Only(&'a [i64]),
}

impl ItemUnits<'_> {
    /// ` AND unit_id IN (…)` with the ids formatted (integers, never user text), or nothing.
    fn clause(&self) -> Option<String> {
        match self {
            ItemUnits::All => Some(String::new()),
            ItemUnits::Only([]) => None,
            ItemUnits::Only(ids) => Some(format!(
                " AND unit_id IN ({})",
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            )),
        }
    }
}

/// The statement of [`list_items_page`] (`$1` day, `$2` limit, `$3` offset); `None` when it
/// reads nothing.
pub fn items_page_sql(units: ItemUnits<'_>) -> Option<String> {
    let clause = units.clause()?;
    Some(format!(
        "SELECT {ITEM_COLS} FROM daily_check_items WHERE check_day = $1{clause} \
         ORDER BY unit_id, matter_id, category LIMIT $2 OFFSET $3"
    ))
}

/// The statement of [`unit_counts`] (`$1` day); `None` when it reads nothing.
pub fn unit_counts_sql(units: ItemUnits<'_>) -> Option<String> {
    let clause = units.clause()?;
    Some(format!(
        "SELECT unit_id, COUNT(*), COUNT(confirmed_at) FROM daily_check_items \
         WHERE check_day = $1{clause} GROUP BY unit_id ORDER BY unit_id"
    ))
}

/// One page of a day's items of `units`, in list order (unit, matter, category), on the
/// `(check_day, unit_id)` index: at 10^6 matters a day holds 780,000 items, so no page reads
/// them all.
pub async fn list_items_page(
    c: &mut Conn,
    day: &str,
    units: ItemUnits<'_>,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<CheckItemRow>> {
    let Some(sql) = items_page_sql(units) else {
        return Ok(Vec::new());
    };
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(day).bind(limit).bind(offset)
            .fetch_all(&mut *c).await?;
        rows.iter().map(map_item).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// Per unit with items on `day`: `(unit_id, items, confirmed)`, by unit id.
pub async fn unit_counts(
    c: &mut Conn,
    day: &str,
    units: ItemUnits<'_>,
) -> StoreResult<Vec<(i64, i64, i64)>> {
    let Some(sql) = unit_counts_sql(units) else {
        return Ok(Vec::new());
    };
    let v: Vec<(i64, i64, i64)> = crate::on!(c, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(day).fetch_all(&mut *c).await?);
    Ok(v)
}

pub async fn get_item(c: &mut Conn, id: i64) -> StoreResult<CheckItemRow> {
    let sql = format!("SELECT {ITEM_COLS} FROM daily_check_items WHERE id = $1");
    let v = crate::on!(c, c => match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *c).await? {
        Some(r) => map_item(&r)?,
        None => return Err(StoreError::NotFound(format!("check item {id}"))),
    });
    Ok(v)
}

/// 已清查: record who confirmed the item and what was done (已跟进/已催办/已上报).
pub async fn confirm_item(
    c: &mut Conn,
    id: i64,
    by: Option<i64>,
    action: &str,
    at_ms: i64,
) -> StoreResult<()> {
    let n = crate::on!(c, c => sqlx::query(
        "UPDATE daily_check_items SET confirmed_by = $1, confirmed_at = $2, action = $3 WHERE id = $4 AND confirmed_at IS NULL")
        .bind(by).bind(at_ms).bind(action).bind(id).execute(&mut *c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::Conflict("daily_check_items.confirmed".into()));
    }
    Ok(())
}

/// 周小结 (unit_id `None` = department-wide).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeeklyRow {
    pub id: i64,
    pub week_key: String,
    pub unit_id: Option<i64>,
    /// The facts the system drafted (JSON), never edited.
    pub draft: String,
    /// The text people edit, starting from the draft.
    pub body: String,
    pub status: String,
    pub submitted_by: Option<i64>,
    pub submitted_at: Option<i64>,
    pub approved_by: Option<i64>,
    pub approved_at: Option<i64>,
    pub updated_at: i64,
}

const WEEKLY_COLS: &str = "id, week_key, unit_id, draft, body, status, submitted_by, submitted_at, approved_by, approved_at, updated_at";

fn map_weekly(r: &(impl GetCol + ?Sized)) -> StoreResult<WeeklyRow> {
    Ok(WeeklyRow {
        id: r.i64("id")?,
        week_key: r.text("week_key")?,
        unit_id: r.opt_i64("unit_id")?,
        draft: r.text("draft")?,
        body: r.text("body")?,
        status: r.text("status")?,
        submitted_by: r.opt_i64("submitted_by")?,
        submitted_at: r.opt_i64("submitted_at")?,
        approved_by: r.opt_i64("approved_by")?,
        approved_at: r.opt_i64("approved_at")?,
        updated_at: r.i64("updated_at")?,
    })
}

pub async fn list_weekly(c: &mut Conn, week_key: &str) -> StoreResult<Vec<WeeklyRow>> {
    let sql = format!(
        "SELECT {WEEKLY_COLS} FROM weekly_summaries WHERE week_key = $1 ORDER BY COALESCE(unit_id, 0)"
    );
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(week_key).fetch_all(&mut *c).await?;
        rows.iter().map(map_weekly).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

pub async fn get_weekly(c: &mut Conn, id: i64) -> StoreResult<WeeklyRow> {
    let sql = format!("SELECT {WEEKLY_COLS} FROM weekly_summaries WHERE id = $1");
    let v = crate::on!(c, c => match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *c).await? {
        Some(r) => map_weekly(&r)?,
        None => return Err(StoreError::NotFound(format!("weekly summary {id}"))),
    });
    Ok(v)
}

/// Write the draft of a week and unit. An untouched draft (status `draft`, body equal to the old
/// draft) is replaced whole; an edited or submitted one only gets the new facts.
pub async fn upsert_weekly_draft(
    c: &mut Conn,
    week_key: &str,
    unit_id: Option<i64>,
    draft: &str,
    body: &str,
    now_ms: i64,
) -> StoreResult<()> {
    let existing = list_weekly(c, week_key)
        .await?
        .into_iter()
        .find(|w| w.unit_id == unit_id);
    match existing {
        Some(w) => {
            let new_body = if w.status == "draft" {
                body
            } else {
                w.body.as_str()
            };
            crate::on!(c, c => sqlx::query("UPDATE weekly_summaries SET draft = $1, body = $2, updated_at = $3 WHERE id = $4")
                .bind(draft).bind(new_body).bind(now_ms).bind(w.id).execute(&mut *c).await?.rows_affected());
        }
        None => {
            crate::on!(c, c => sqlx::query(
                "INSERT INTO weekly_summaries (week_key, unit_id, draft, body, status, updated_at) VALUES ($1, $2, $3, $4, 'draft', $5)")
                .bind(week_key).bind(unit_id).bind(draft).bind(body).bind(now_ms).execute(&mut *c).await?.rows_affected());
        }
    }
    Ok(())
}

/// Save the editable columns of a summary.
pub async fn save_weekly(c: &mut Conn, w: &WeeklyRow) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "UPDATE weekly_summaries SET body = $1, status = $2, submitted_by = $3, submitted_at = $4,
            approved_by = $5, approved_at = $6, updated_at = $7 WHERE id = $8")
        .bind(&w.body).bind(&w.status).bind(w.submitted_by).bind(w.submitted_at).bind(w.approved_by)
        .bind(w.approved_at).bind(w.updated_at).bind(w.id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Freeze a month. A month is frozen once: a second insert is a conflict.
pub async fn insert_snapshot(
    c: &mut Conn,
    month_key: &str,
    as_of: &str,
    data: &str,
    now_ms: i64,
) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "INSERT INTO monthly_snapshots (month_key, as_of, data, created_at) VALUES ($1, $2, $3, $4)")
        .bind(month_key).bind(as_of).bind(data).bind(now_ms).execute(&mut *c).await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => StoreError::Conflict("monthly_snapshots.month_key".into()),
            other => other,
        })?.rows_affected());
    Ok(())
}

/// Remove a snapshot (only for an explicit `--replay`).
pub async fn delete_snapshot(c: &mut Conn, month_key: &str) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("DELETE FROM monthly_snapshots WHERE month_key = $1 AND bulletin_id IS NULL")
        .bind(month_key).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// `(as_of, data JSON, bulletin id)` of a frozen month.
pub async fn find_snapshot(
    c: &mut Conn,
    month_key: &str,
) -> StoreResult<Option<(String, String, Option<i64>)>> {
    let v = crate::on!(c, c => match sqlx::query("SELECT as_of, data, bulletin_id FROM monthly_snapshots WHERE month_key = $1")
        .bind(month_key).fetch_optional(&mut *c).await? {
        Some(r) => Some((r.text("as_of")?, r.text("data")?, r.opt_i64("bulletin_id")?)),
        None => None,
    });
    Ok(v)
}

pub async fn link_bulletin(c: &mut Conn, month_key: &str, bulletin_id: i64) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("UPDATE monthly_snapshots SET bulletin_id = $1 WHERE month_key = $2")
        .bind(bulletin_id).bind(month_key).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Whether a year is closed (归零, read-only).
pub async fn year_closed(c: &mut Conn, year: i64) -> StoreResult<bool> {
    let n: i64 = crate::on!(c, c => sqlx::query_scalar("SELECT COUNT(*) FROM year_closes WHERE year = $1")
        .bind(year).fetch_one(&mut *c).await?);
    Ok(n > 0)
}

pub async fn insert_year_close(
    c: &mut Conn,
    year: i64,
    by: Option<i64>,
    now_ms: i64,
    report: &str,
) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("INSERT INTO year_closes (year, closed_by, closed_at, report) VALUES ($1, $2, $3, $4)")
        .bind(year).bind(by).bind(now_ms).bind(report).execute(&mut *c).await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => StoreError::Conflict("year_closes.year".into()),
            other => other,
        })?.rows_affected());
    Ok(())
}

pub async fn find_year_close(c: &mut Conn, year: i64) -> StoreResult<Option<String>> {
    let v: Option<String> = crate::on!(c, c => sqlx::query_scalar("SELECT report FROM year_closes WHERE year = $1")
        .bind(year).fetch_optional(&mut *c).await?);
    Ok(v)
}

/// When the first cadence run of any kind started (unix ms): the scheduler's birth, from which a
/// kind that never ran yet is caught up.
pub async fn first_run_at(c: &mut Conn) -> StoreResult<Option<i64>> {
    let v: Option<i64> = crate::on!(c, c => sqlx::query_scalar("SELECT MIN(started_at) FROM cadence_runs")
        .fetch_one(&mut *c).await?);
    Ok(v)
}
