//! The records around a matter: the timeline (matter_events), 节点 (milestones), 进展反馈
//! (progress reports), 延期 (extensions), 催办 (urges), 督办单 (notices), 通报 (bulletins) and
//! 问效 (effect reviews).

use serde::Serialize;

use crate::matters::Arg;
use crate::{Conn, GetCol, StoreError, StoreResult};

/// One step of a matter's history: who, when, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRow {
    pub id: i64,
    pub matter_id: i64,
    pub at_ms: i64,
    pub on_day: String,
    pub actor_id: Option<i64>,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: String,
}

pub async fn insert_event(c: &mut Conn, e: &EventRow) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO matter_events (matter_id, at_ms, on_day, actor_id, kind, from_status, to_status, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
        .bind(e.matter_id).bind(e.at_ms).bind(&e.on_day).bind(e.actor_id).bind(&e.kind)
        .bind(&e.from_status).bind(&e.to_status).bind(&e.note).fetch_one(&mut *c).await?);
    Ok(id)
}

const EVENT_COLS: &str =
    "id, matter_id, at_ms, on_day, actor_id, kind, from_status, to_status, note";

fn map_event(r: &(impl GetCol + ?Sized)) -> StoreResult<EventRow> {
    Ok(EventRow {
        id: r.i64("id")?,
        matter_id: r.i64("matter_id")?,
        at_ms: r.i64("at_ms")?,
        on_day: r.text("on_day")?,
        actor_id: r.opt_i64("actor_id")?,
        kind: r.text("kind")?,
        from_status: r.opt_text("from_status")?,
        to_status: r.opt_text("to_status")?,
        note: r.text("note")?,
    })
}

/// The statement of [`list_events`] (`$1` matter).
pub fn events_sql() -> String {
    format!("SELECT {EVENT_COLS} FROM matter_events WHERE matter_id = $1 ORDER BY at_ms, id")
}

/// The statement of [`events_between`] (`$1`, `$2` days).
pub fn events_between_sql() -> String {
    format!(
        "SELECT {EVENT_COLS} FROM matter_events WHERE on_day >= $1 AND on_day <= $2 ORDER BY at_ms, id"
    )
}

pub async fn list_events(c: &mut Conn, matter_id: i64) -> StoreResult<Vec<EventRow>> {
    let sql = events_sql();
    crate::sync_read::bounded_rows(c, &sql, &[Arg::Int(matter_id)], |r| map_event(r)).await
}

/// Events of every matter whose lead unit is given, on days `from ..= to` (weekly summary).
pub async fn events_between(c: &mut Conn, from: &str, to: &str) -> StoreResult<Vec<EventRow>> {
    let sql = events_between_sql();
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).fetch_all(&mut *c).await?;
        rows.iter().map(map_event).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// 节点.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MilestoneRow {
    pub id: i64,
    pub matter_id: i64,
    pub position: i64,
    pub title: String,
    pub due_on: String,
    pub owner_id: Option<i64>,
    pub done_on: Option<String>,
}

pub async fn insert_milestone(c: &mut Conn, m: &MilestoneRow) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO milestones (matter_id, position, title, due_on, owner_id, done_on)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(m.matter_id).bind(m.position).bind(&m.title).bind(&m.due_on).bind(m.owner_id)
        .bind(&m.done_on).fetch_one(&mut *c).await?);
    Ok(id)
}

fn map_milestone(r: &(impl GetCol + ?Sized)) -> StoreResult<MilestoneRow> {
    Ok(MilestoneRow {
        id: r.i64("id")?,
        matter_id: r.i64("matter_id")?,
        position: r.i64("position")?,
        title: r.text("title")?,
        due_on: r.text("due_on")?,
        owner_id: r.opt_i64("owner_id")?,
        done_on: r.opt_text("done_on")?,
    })
}

/// Milestones of many matters at once, ordered by matter then position.
pub async fn milestones_of(c: &mut Conn, ids: &[i64]) -> StoreResult<Vec<MilestoneRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    // Integers formatted here, never user text.
    let sql = format!(
        "SELECT id, matter_id, position, title, due_on, owner_id, done_on FROM milestones WHERE matter_id IN ({}) ORDER BY matter_id, position, id",
        list.join(",")
    );
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false).fetch_all(&mut *c).await?;
        rows.iter().map(map_milestone).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// The statement of [`list_milestones`] (`$1` matter).
pub const MILESTONES_SQL: &str =
    "SELECT id, matter_id, position, title, due_on, owner_id, done_on FROM milestones
            WHERE matter_id = $1 ORDER BY position, id";

pub async fn list_milestones(c: &mut Conn, matter_id: i64) -> StoreResult<Vec<MilestoneRow>> {
    crate::sync_read::bounded_rows(c, MILESTONES_SQL, &[Arg::Int(matter_id)], |r| {
        map_milestone(r)
    })
    .await
}

pub async fn set_milestone_done(c: &mut Conn, id: i64, done_on: Option<&str>) -> StoreResult<()> {
    let n = crate::on!(c, c => sqlx::query("UPDATE milestones SET done_on = $1 WHERE id = $2")
        .bind(done_on).bind(id).execute(&mut *c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound(format!("milestone {id}")));
    }
    Ok(())
}

/// 进展反馈.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportRow {
    pub id: i64,
    pub matter_id: i64,
    pub unit_id: i64,
    pub reporter_id: i64,
    pub due_on: Option<String>,
    pub submitted_at: i64,
    pub submitted_on: String,
    pub progress: Option<i64>,
    pub body: String,
    pub problems: String,
    pub coordination: String,
    pub next_steps: String,
    /// A 配合单位's contribution rather than the lead unit's report.
    pub contribution: bool,
    pub status: String,
    pub review_note: String,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<i64>,
}

const REPORT_COLS: &str = "id, matter_id, unit_id, reporter_id, due_on, submitted_at, submitted_on, progress, body, \
    problems, coordination, next_steps, contribution, status, review_note, reviewed_by, reviewed_at";

fn map_report(r: &(impl GetCol + ?Sized)) -> StoreResult<ReportRow> {
    Ok(ReportRow {
        id: r.i64("id")?,
        matter_id: r.i64("matter_id")?,
        unit_id: r.i64("unit_id")?,
        reporter_id: r.i64("reporter_id")?,
        due_on: r.opt_text("due_on")?,
        submitted_at: r.i64("submitted_at")?,
        submitted_on: r.text("submitted_on")?,
        progress: r.opt_i64("progress")?,
        body: r.text("body")?,
        problems: r.text("problems")?,
        coordination: r.text("coordination")?,
        next_steps: r.text("next_steps")?,
        contribution: r.flag("contribution")?,
        status: r.text("status")?,
        review_note: r.text("review_note")?,
        reviewed_by: r.opt_i64("reviewed_by")?,
        reviewed_at: r.opt_i64("reviewed_at")?,
    })
}

pub async fn insert_report(c: &mut Conn, p: &ReportRow) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO progress_reports (matter_id, unit_id, reporter_id, due_on, submitted_at, submitted_on,
            progress, body, problems, coordination, next_steps, contribution, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'submitted') RETURNING id")
        .bind(p.matter_id).bind(p.unit_id).bind(p.reporter_id).bind(&p.due_on).bind(p.submitted_at)
        .bind(&p.submitted_on).bind(p.progress).bind(&p.body).bind(&p.problems).bind(&p.coordination)
        .bind(&p.next_steps).bind(p.contribution).fetch_one(&mut *c).await?);
    Ok(id)
}

pub async fn get_report(c: &mut Conn, id: i64) -> StoreResult<ReportRow> {
    let sql = format!("SELECT {REPORT_COLS} FROM progress_reports WHERE id = $1");
    let v = crate::on!(c, c => match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *c).await? {
        Some(r) => map_report(&r)?,
        None => return Err(StoreError::NotFound(format!("report {id}"))),
    });
    Ok(v)
}

/// The statement of [`list_reports`] (`$1` matter).
pub fn reports_sql() -> String {
    format!(
        "SELECT {REPORT_COLS} FROM progress_reports WHERE matter_id = $1 ORDER BY submitted_at, id"
    )
}

/// The statement of [`reports_between`] (`$1`, `$2` days).
pub fn reports_between_sql() -> String {
    format!(
        "SELECT {REPORT_COLS} FROM progress_reports WHERE submitted_on >= $1 AND submitted_on <= $2 ORDER BY submitted_at, id"
    )
}

pub async fn list_reports(c: &mut Conn, matter_id: i64) -> StoreResult<Vec<ReportRow>> {
    let sql = reports_sql();
    crate::sync_read::bounded_rows(c, &sql, &[Arg::Int(matter_id)], |r| map_report(r)).await
}

/// Reports submitted on days `from ..= to` (weekly summary).
pub async fn reports_between(c: &mut Conn, from: &str, to: &str) -> StoreResult<Vec<ReportRow>> {
    let sql = reports_between_sql();
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).fetch_all(&mut *c).await?;
        rows.iter().map(map_report).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

pub async fn review_report(
    c: &mut Conn,
    id: i64,
    status: &str,
    note: &str,
    by: Option<i64>,
    at_ms: i64,
) -> StoreResult<()> {
    let n = crate::on!(c, c => sqlx::query(
        "UPDATE progress_reports SET status = $1, review_note = $2, reviewed_by = $3, reviewed_at = $4
         WHERE id = $5 AND status = 'submitted'")
        .bind(status).bind(note).bind(by).bind(at_ms).bind(id).execute(&mut *c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::Conflict("progress_reports.status".into()));
    }
    Ok(())
}

/// 延期申请.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtensionRow {
    pub id: i64,
    pub matter_id: i64,
    pub requested_by: i64,
    pub requested_on: String,
    pub reason: String,
    pub current_progress: String,
    pub old_deadline: Option<String>,
    pub proposed_deadline: String,
    pub status: String,
    pub decided_by: Option<i64>,
    pub decided_on: Option<String>,
    pub new_deadline: Option<String>,
    pub basis: String,
}

const EXT_COLS: &str = "id, matter_id, requested_by, requested_on, reason, current_progress, old_deadline, \
    proposed_deadline, status, decided_by, decided_on, new_deadline, basis";

fn map_ext(r: &(impl GetCol + ?Sized)) -> StoreResult<ExtensionRow> {
    Ok(ExtensionRow {
        id: r.i64("id")?,
        matter_id: r.i64("matter_id")?,
        requested_by: r.i64("requested_by")?,
        requested_on: r.text("requested_on")?,
        reason: r.text("reason")?,
        current_progress: r.text("current_progress")?,
        old_deadline: r.opt_text("old_deadline")?,
        proposed_deadline: r.text("proposed_deadline")?,
        status: r.text("status")?,
        decided_by: r.opt_i64("decided_by")?,
        decided_on: r.opt_text("decided_on")?,
        new_deadline: r.opt_text("new_deadline")?,
        basis: r.text("basis")?,
    })
}

pub async fn insert_extension(c: &mut Conn, e: &ExtensionRow) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO extensions (matter_id, requested_by, requested_on, reason, current_progress, old_deadline,
            proposed_deadline, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') RETURNING id")
        .bind(e.matter_id).bind(e.requested_by).bind(&e.requested_on).bind(&e.reason)
        .bind(&e.current_progress).bind(&e.old_deadline).bind(&e.proposed_deadline)
        .fetch_one(&mut *c).await?);
    Ok(id)
}

pub async fn list_extensions(c: &mut Conn, matter_id: i64) -> StoreResult<Vec<ExtensionRow>> {
    let sql = format!("SELECT {EXT_COLS} FROM extensions WHERE matter_id = $1 ORDER BY id");
    crate::sync_read::bounded_rows(c, &sql, &[Arg::Int(matter_id)], |r| map_ext(r)).await
}

/// Record the decision on the pending extension of a matter.
pub async fn decide_extension(c: &mut Conn, e: &ExtensionRow) -> StoreResult<()> {
    let n = crate::on!(c, c => sqlx::query(
        "UPDATE extensions SET status = $1, decided_by = $2, decided_on = $3, new_deadline = $4, basis = $5
         WHERE id = $6 AND status = 'pending'")
        .bind(&e.status).bind(e.decided_by).bind(&e.decided_on).bind(&e.new_deadline).bind(&e.basis)
        .bind(e.id).execute(&mut *c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::Conflict("extensions.status".into()));
    }
    Ok(())
}

/// Approved extensions decided on days `from ..= to` (monthly stock-take).
pub async fn count_extensions_granted(c: &mut Conn, from: &str, to: &str) -> StoreResult<i64> {
    let n: i64 = crate::on!(c, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM extensions WHERE status = 'approved' AND decided_on >= $1 AND decided_on <= $2")
        .bind(from).bind(to).fetch_one(&mut *c).await?);
    Ok(n)
}
