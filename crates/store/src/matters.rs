//! 督办事项 (ledger matters, 一事一台账): the row, its units and handlers, numbering, saving with
//! an optimistic version check, the filtered list query, and the streaming scan of running
//! matters used by the daily check.

use futures::TryStreamExt;
use serde::Serialize;

use crate::{Conn, GetCol, StoreError, StoreResult};

/// One matter as stored. Derived facts (light, days left, overdue) are never columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatterRow {
    pub id: i64,
    pub year: i64,
    pub seq: i64,
    pub number: String,
    pub title: String,
    pub content: String,
    pub source_category: String,
    pub source_doc: String,
    pub lead_leader_id: Option<i64>,
    pub lead_unit_id: i64,
    /// `date`, `workdays`, `calendar_days` or `none`.
    pub deadline_kind: String,
    /// N for `workdays` / `calendar_days`.
    pub deadline_workdays: Option<i64>,
    pub deadline: Option<String>,
    pub original_deadline: Option<String>,
    pub urgency: String,
    pub major: bool,
    pub feedback_cycle: String,
    pub status: String,
    pub progress: Option<i64>,
    pub label: String,
    pub parent_id: Option<i64>,
    pub carried_from_id: Option<i64>,
    pub remarks: String,
    pub latest_progress: String,
    pub completion_note: String,
    pub assigned_on: Option<String>,
    pub signed_on: Option<String>,
    pub completed_on: Option<String>,
    pub closed_on: Option<String>,
    pub lookback_on: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_update_on: Option<String>,
    pub version: i64,
}

pub const COLS: &str = "m.id, m.year, m.seq, m.number, m.title, m.content, m.source_category, m.source_doc, \
    m.lead_leader_id, m.lead_unit_id, m.deadline_kind, m.deadline_workdays, m.deadline, m.original_deadline, \
    m.urgency, m.major, m.feedback_cycle, m.status, m.progress, m.label, m.parent_id, m.carried_from_id, \
    m.remarks, m.latest_progress, m.completion_note, m.assigned_on, m.signed_on, m.completed_on, m.closed_on, \
    m.lookback_on, m.created_by, m.created_at, m.updated_at, m.last_update_on, m.version";

pub fn map(r: &(impl GetCol + ?Sized)) -> StoreResult<MatterRow> {
    Ok(MatterRow {
        id: r.i64("id")?,
        year: r.i64("year")?,
        seq: r.i64("seq")?,
        number: r.text("number")?,
        title: r.text("title")?,
        content: r.text("content")?,
        source_category: r.text("source_category")?,
        source_doc: r.text("source_doc")?,
        lead_leader_id: r.opt_i64("lead_leader_id")?,
        lead_unit_id: r.i64("lead_unit_id")?,
        deadline_kind: r.text("deadline_kind")?,
        deadline_workdays: r.opt_i64("deadline_workdays")?,
        deadline: r.opt_text("deadline")?,
        original_deadline: r.opt_text("original_deadline")?,
        urgency: r.text("urgency")?,
        major: r.flag("major")?,
        feedback_cycle: r.text("feedback_cycle")?,
        status: r.text("status")?,
        progress: r.opt_i64("progress")?,
        label: r.text("label")?,
        parent_id: r.opt_i64("parent_id")?,
        carried_from_id: r.opt_i64("carried_from_id")?,
        remarks: r.text("remarks")?,
        latest_progress: r.text("latest_progress")?,
        completion_note: r.text("completion_note")?,
        assigned_on: r.opt_text("assigned_on")?,
        signed_on: r.opt_text("signed_on")?,
        completed_on: r.opt_text("completed_on")?,
        closed_on: r.opt_text("closed_on")?,
        lookback_on: r.opt_text("lookback_on")?,
        created_by: r.opt_i64("created_by")?,
        created_at: r.i64("created_at")?,
        updated_at: r.i64("updated_at")?,
        last_update_on: r.opt_text("last_update_on")?,
        version: r.i64("version")?,
    })
}

/// A positional query argument for dynamically built SQL, typed so NULLs bind on PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Arg {
    Int(i64),
    Text(String),
}

/// Bind every [`Arg`] onto a query (expanded per backend inside `on!`).
#[macro_export]
#[doc(hidden)]
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args.iter() {
            q = match a {
                $crate::matters::Arg::Int(v) => q.bind(*v),
                $crate::matters::Arg::Text(s) => q.bind(s.clone()),
            };
        }
        q
    }};
}

/// The next free 序号 of a year. The `UNIQUE (year, seq)` and `UNIQUE (year, number)`
/// constraints, not this read, guarantee uniqueness: a racing insert fails with a conflict.
pub async fn next_seq(c: &mut Conn, year: i64) -> StoreResult<i64> {
    let n: i64 = crate::on!(c, c => sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM matters WHERE year = $1")
        .bind(year).fetch_one(&mut *c).await?);
    Ok(n)
}

/// Insert a matter (its `id` and `version` are ignored); returns the new id.
pub async fn insert(c: &mut Conn, m: &MatterRow) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO matters (year, seq, number, title, content, source_category, source_doc, lead_leader_id,
            lead_unit_id, deadline_kind, deadline_workdays, deadline, original_deadline, urgency, major,
            feedback_cycle, status, progress, label, parent_id, carried_from_id, remarks, latest_progress,
            completion_note, assigned_on, signed_on, completed_on, closed_on, lookback_on, created_by,
            created_at, updated_at, last_update_on, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
            $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, 1) RETURNING id")
        .bind(m.year).bind(m.seq).bind(&m.number).bind(&m.title).bind(&m.content)
        .bind(&m.source_category).bind(&m.source_doc).bind(m.lead_leader_id).bind(m.lead_unit_id)
        .bind(&m.deadline_kind).bind(m.deadline_workdays).bind(&m.deadline).bind(&m.original_deadline)
        .bind(&m.urgency).bind(m.major).bind(&m.feedback_cycle).bind(&m.status).bind(m.progress)
        .bind(&m.label).bind(m.parent_id).bind(m.carried_from_id).bind(&m.remarks)
        .bind(&m.latest_progress).bind(&m.completion_note).bind(&m.assigned_on).bind(&m.signed_on)
        .bind(&m.completed_on).bind(&m.closed_on).bind(&m.lookback_on).bind(m.created_by)
        .bind(m.created_at).bind(m.updated_at).bind(&m.last_update_on)
        .fetch_one(&mut *c).await.map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(what) if what.contains("number") || what.contains("seq") || what.contains("UNIQUE") =>
                StoreError::Conflict("matters.number".into()),
            other => other,
        })?);
    Ok(id)
}

/// Save every mutable column of `m` if nobody changed the row since it was read
/// (`m.version`); otherwise a [`StoreError::Conflict`].
pub async fn save(c: &mut Conn, m: &MatterRow) -> StoreResult<()> {
    let n = crate::on!(c, c => sqlx::query(
        "UPDATE matters SET title = $1, content = $2, source_category = $3, source_doc = $4,
            lead_leader_id = $5, lead_unit_id = $6, deadline_kind = $7, deadline_workdays = $8,
            deadline = $9, original_deadline = $10, urgency = $11, major = $12, feedback_cycle = $13,
            status = $14, progress = $15, label = $16, remarks = $17, latest_progress = $18,
            completion_note = $19, assigned_on = $20, signed_on = $21, completed_on = $22,
            closed_on = $23, lookback_on = $24, updated_at = $25, last_update_on = $26,
            version = version + 1
         WHERE id = $27 AND version = $28")
        .bind(&m.title).bind(&m.content).bind(&m.source_category).bind(&m.source_doc)
        .bind(m.lead_leader_id).bind(m.lead_unit_id).bind(&m.deadline_kind).bind(m.deadline_workdays)
        .bind(&m.deadline).bind(&m.original_deadline).bind(&m.urgency).bind(m.major)
        .bind(&m.feedback_cycle).bind(&m.status).bind(m.progress).bind(&m.label).bind(&m.remarks)
        .bind(&m.latest_progress).bind(&m.completion_note).bind(&m.assigned_on).bind(&m.signed_on)
        .bind(&m.completed_on).bind(&m.closed_on).bind(&m.lookback_on).bind(m.updated_at)
        .bind(&m.last_update_on).bind(m.id).bind(m.version)
        .execute(&mut *c).await?.rows_affected());
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict("matters.version".into()))
    }
}

pub async fn find(c: &mut Conn, id: i64) -> StoreResult<Option<MatterRow>> {
    let sql = format!("SELECT {COLS} FROM matters m WHERE m.id = $1");
    let rows = crate::sync_read::bounded_rows(c, &sql, &[Arg::Int(id)], |r| map(r)).await?;
    Ok(rows.into_iter().next())
}

pub async fn get(c: &mut Conn, id: i64) -> StoreResult<MatterRow> {
    find(c, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("matter {id}")))
}

/// Matters carried over from `id` (结转至).
pub async fn carried_to(c: &mut Conn, id: i64) -> StoreResult<Vec<(i64, String)>> {
    crate::sync_read::bounded_rows(
        c,
        "SELECT id, number FROM matters WHERE carried_from_id = $1 ORDER BY id",
        &[Arg::Int(id)],
        |r| Ok((r.i64("id")?, r.text("number")?)),
    )
    .await
}

/// 配合单位 of a matter.
pub async fn assisting_units(c: &mut Conn, id: i64) -> StoreResult<Vec<i64>> {
    let v = crate::on!(c, c => sqlx::query_scalar("SELECT unit_id FROM matter_units WHERE matter_id = $1 ORDER BY unit_id")
        .bind(id).fetch_all(&mut *c).await?);
    Ok(v)
}

/// 承办人 of a matter.
pub async fn handlers(c: &mut Conn, id: i64) -> StoreResult<Vec<i64>> {
    let v = crate::on!(c, c => sqlx::query_scalar("SELECT person_id FROM matter_handlers WHERE matter_id = $1 ORDER BY person_id")
        .bind(id).fetch_all(&mut *c).await?);
    Ok(v)
}

/// `(matter_id, person_id)` of the 承办人 of these matters, by matter then person, in chunked
/// `IN` lists.
pub async fn handlers_of(c: &mut Conn, ids: &[i64]) -> StoreResult<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        // Integers formatted here, never user text.
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let sql = format!(
            "SELECT matter_id, person_id FROM matter_handlers WHERE matter_id IN ({}) \
             ORDER BY matter_id, person_id",
            list.join(",")
        );
        let rows: Vec<(i64, i64)> = crate::on!(c, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .persistent(false).fetch_all(&mut *c).await?);
        out.extend(rows);
    }
    Ok(out)
}

/// 配合单位 and 承办人 of a matter in one query: ([`assisting_units`], [`handlers`]).
pub async fn parties(c: &mut Conn, id: i64) -> StoreResult<(Vec<i64>, Vec<i64>)> {
    let rows: Vec<(i64, i64)> = crate::sync_read::bounded_rows(
        c,
        "SELECT CAST(0 AS BIGINT) AS k, unit_id AS v FROM matter_units WHERE matter_id = $1 \
         UNION ALL SELECT CAST(1 AS BIGINT) AS k, person_id AS v FROM matter_handlers WHERE matter_id = $1 \
         ORDER BY k, v",
        &[Arg::Int(id)],
        |r| Ok((r.i64("k")?, r.i64("v")?)),
    )
    .await?;
    let (units, people): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(k, _)| *k == 0);
    Ok((
        units.into_iter().map(|(_, v)| v).collect(),
        people.into_iter().map(|(_, v)| v).collect(),
    ))
}

pub async fn add_assisting_unit(c: &mut Conn, id: i64, unit_id: i64) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("INSERT INTO matter_units (matter_id, unit_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(id).bind(unit_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn add_handler(c: &mut Conn, id: i64, person_id: i64) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("INSERT INTO matter_handlers (matter_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(id).bind(person_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Run a `SELECT {COLS} FROM matters m WHERE …` built by the caller from allow-listed pieces,
/// with its arguments bound positionally.
pub async fn query_rows(c: &mut Conn, sql: String, args: &[Arg]) -> StoreResult<Vec<MatterRow>> {
    query_rows_with(c, sql, args, true).await
}

/// [`query_rows`] for a statement that will not come again (it names its ids: `m.id IN (1,2,…)`):
/// no connection keeps it prepared. Kept, an export's hundred 1,000-id statements held 12 MB on
/// each read connection.
pub async fn query_rows_once(
    c: &mut Conn,
    sql: String,
    args: &[Arg],
) -> StoreResult<Vec<MatterRow>> {
    query_rows_with(c, sql, args, false).await
}

/// [`query_rows`]; `persistent: false` for a statement that will not come again.
async fn query_rows_with(
    c: &mut Conn,
    sql: String,
    args: &[Arg],
    persistent: bool,
) -> StoreResult<Vec<MatterRow>> {
    match c.exec().await? {
        // One packed value instead of a worker hand-off per row (see `packed::json_rows`).
        crate::conn::Exec::Sqlite(c) => {
            crate::packed::json_rows(c, &sql, col_names(), args, persistent, |r| map(r)).await
        }
        crate::conn::Exec::Pg(c) => {
            let q = crate::bind_args!(
                sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(persistent),
                args
            );
            let rows = q.fetch_all(&mut *c).await?;
            rows.iter().map(map).collect()
        }
    }
}

/// [`query_rows`] for a statement whose rows are bounded (a page with its `LIMIT`): on a SQLite
/// read connection it runs on this thread (see `sync_read`); a whole-ledger read belongs in
/// [`query_rows`].
pub async fn query_page(c: &mut Conn, sql: &str, args: &[Arg]) -> StoreResult<Vec<MatterRow>> {
    if c.sync().is_some() {
        return crate::sync_read::bounded_rows(c, sql, args, |r| map(r)).await;
    }
    query_rows(c, sql.to_owned(), args).await
}

/// The result column names of [`COLS`] (`m.id` → `id`).
fn col_names() -> &'static [&'static str] {
    static NAMES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        COLS.split(',')
            .map(|c| c.trim().trim_start_matches("m."))
            .collect()
    });
    &NAMES
}

/// The matters with these ids (any order; unknown ids are skipped), a few hundred per query.
pub async fn rows_of(c: &mut Conn, ids: &[i64]) -> StoreResult<Vec<MatterRow>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        // Integers formatted here, never user text.
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let sql = format!(
            "SELECT {COLS} FROM matters m WHERE m.id IN ({})",
            list.join(",")
        );
        // One chunk is a bounded read; many are a pass over the ledger (see `query_page`). The
        // statement names its ids, so no connection keeps it prepared.
        out.extend(if ids.len() <= 500 && c.sync().is_some() {
            crate::sync_read::bounded_rows_once(c, &sql, &[], |r| map(r)).await?
        } else {
            query_rows_with(c, sql, &[], false).await?
        });
    }
    Ok(out)
}

/// [`rows_of`] keyed by id, for ids in any order and with repeats (the callers' lists of items,
/// notifications and pages name a matter more than once).
pub async fn rows_by_id(
    c: &mut Conn,
    ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, MatterRow>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    Ok(rows_of(c, &ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect())
}

/// Run a `SELECT m.id FROM matters m WHERE …` built by the caller: the ids, in the query's order.
pub async fn query_ids(c: &mut Conn, sql: String, args: &[Arg]) -> StoreResult<Vec<i64>> {
    let v: Vec<i64> = crate::on!(c, c => {
        let q = crate::bind_args!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), args);
        q.fetch_all(&mut *c).await?
    });
    Ok(v)
}

/// A scalar `COUNT(*)` built by the caller. On a SQLite read connection a count is kept until
/// the database changes (see `sync_read::KeptInts`).
pub async fn query_count(c: &mut Conn, sql: String, args: &[Arg]) -> StoreResult<i64> {
    crate::sync_read::count(c, &sql, args).await
}

/// The few columns the daily check and the desk need about a running matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningFacts {
    pub id: i64,
    pub year: i64,
    pub lead_unit_id: i64,
    pub status: String,
    pub deadline: Option<String>,
    pub assigned_on: Option<String>,
    pub last_update_on: Option<String>,
    pub feedback_cycle: String,
}

/// Stream every matter whose status is in `statuses` (optionally only `lead_unit_id IN units`)
/// through `f`, one row at a time, so a million matters never sit in memory together.
pub async fn for_each_running(
    c: &mut Conn,
    statuses: &[&str],
    units: Option<&[i64]>,
    mut f: impl FnMut(RunningFacts),
) -> StoreResult<()> {
    let mut args: Vec<Arg> = statuses
        .iter()
        .map(|s| Arg::Text((*s).to_owned()))
        .collect();
    let mut sql = format!(
        "SELECT id, year, lead_unit_id, status, deadline, assigned_on, last_update_on, feedback_cycle
         FROM matters WHERE status IN ({})",
        placeholders(1, statuses.len())
    );
    if let Some(units) = units {
        if units.is_empty() {
            return Ok(());
        }
        sql.push_str(&format!(
            " AND lead_unit_id IN ({})",
            placeholders(args.len() + 1, units.len())
        ));
        args.extend(units.iter().map(|u| Arg::Int(*u)));
    }
    if !c.is_postgres() {
        return crate::packed::running_sqlite(c, statuses, units, &mut f).await;
    }
    crate::on!(c, c => {
        let q = crate::bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql)), args);
        let mut rows = q.fetch(&mut *c);
        while let Some(r) = rows.try_next().await? {
            f(RunningFacts {
                id: r.i64("id")?,
                year: r.i64("year")?,
                lead_unit_id: r.i64("lead_unit_id")?,
                status: r.text("status")?,
                deadline: r.opt_text("deadline")?,
                assigned_on: r.opt_text("assigned_on")?,
                last_update_on: r.opt_text("last_update_on")?,
                feedback_cycle: r.text("feedback_cycle")?,
            });
        }
    });
    Ok(())
}

/// `$from, $from+1, …` (`n` placeholders) for an `IN (…)` list.
pub fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Counts of matters of one year grouped by `column` (allow-listed by the caller) and status.
pub async fn count_by(
    c: &mut Conn,
    year: i64,
    column: &str,
) -> StoreResult<Vec<(String, String, i64)>> {
    let col = match column {
        "lead_unit_id" | "lead_leader_id" | "source_category" => column,
        _ => return Err(StoreError::Other(format!("cannot group by {column}"))),
    };
    let sql = format!(
        "SELECT COALESCE(CAST({col} AS TEXT), '') AS k, status, COUNT(*) AS n FROM matters
         WHERE year = $1 GROUP BY {col}, status ORDER BY 1, 2"
    );
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(year).fetch_all(&mut *c).await?;
        rows.iter().map(|r| Ok((r.text("k")?, r.text("status")?, r.i64("n")?))).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// 配合单位 of many matters at once (one query for a whole page): (matter_id, unit_id) pairs.
pub async fn assisting_units_of(c: &mut Conn, ids: &[i64]) -> StoreResult<Vec<(i64, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    // Ids are integers formatted by us, never user text.
    let sql = format!(
        "SELECT matter_id, unit_id FROM matter_units WHERE matter_id IN ({}) ORDER BY matter_id, unit_id",
        list.join(",")
    );
    let pair = |r: &dyn GetCol| Ok((r.i64("matter_id")?, r.i64("unit_id")?));
    // A page's ids are a bounded read, on a SQLite read connection without a thread hand-off;
    // an export's chunks of 1,000 stay on sqlx with the rest of its pass.
    if ids.len() <= crate::sync_read::BOUNDED_IDS {
        return crate::sync_read::bounded_rows_once(c, &sql, &[], pair).await;
    }
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false).fetch_all(&mut *c).await?;
        rows.iter().map(|r| pair(r)).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// The id of the matter with this number (编号), if any (numbers are unique per year).
pub async fn find_id_by_number(c: &mut Conn, number: &str) -> StoreResult<Option<i64>> {
    let v: Option<i64> = crate::on!(c, c => sqlx::query_scalar("SELECT id FROM matters WHERE number = $1 ORDER BY year DESC LIMIT 1")
        .bind(number).fetch_optional(&mut *c).await?);
    Ok(v)
}

/// Set a matter's sensitivity label (普通/敏感/核心).
pub async fn set_label(c: &mut Conn, id: i64, label: &str, now_ms: i64) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("UPDATE matters SET label = $1, updated_at = $2, version = version + 1 WHERE id = $3")
        .bind(label).bind(now_ms).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// The first column of every row of a query built by the caller, as text.
pub async fn query_texts(c: &mut Conn, sql: String) -> StoreResult<Vec<String>> {
    let v: Vec<String> = crate::on!(c, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *c).await?);
    Ok(v)
}

/// `N` integer columns of the one row of a query built by the caller (several counts in one
/// pass).
pub async fn query_counts<const N: usize>(
    c: &mut Conn,
    sql: String,
    args: &[Arg],
) -> StoreResult<[i64; N]> {
    use sqlx::Row;
    let mut out = [0i64; N];
    crate::on!(c, c => {
        let q = crate::bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql)), args);
        let row = q.fetch_one(&mut *c).await?;
        for (i, v) in out.iter_mut().enumerate() {
            *v = row.try_get::<i64, _>(i)?;
        }
    });
    Ok(out)
}

/// What the light of a matter depends on (the list's light filter over many matters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LightFacts {
    pub id: i64,
    pub status: String,
    pub deadline: Option<String>,
    pub assigned_on: Option<String>,
    pub progress: Option<i64>,
    pub source_category: String,
}

/// Stream the rows of `SELECT m.id, m.status, m.deadline, m.assigned_on, m.progress,
/// m.source_category …` built by the caller through `f`, one at a time.
pub async fn for_each_light_facts(
    c: &mut Conn,
    sql: String,
    args: &[Arg],
    mut f: impl FnMut(LightFacts),
) -> StoreResult<()> {
    crate::on!(c, c => {
        let q = crate::bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql)), args);
        let mut rows = q.fetch(&mut *c);
        while let Some(r) = rows.try_next().await? {
            f(LightFacts {
                id: r.i64("id")?,
                status: r.text("status")?,
                deadline: r.opt_text("deadline")?,
                assigned_on: r.opt_text("assigned_on")?,
                progress: r.opt_i64("progress")?,
                source_category: r.text("source_category")?,
            });
        }
    });
    Ok(())
}
