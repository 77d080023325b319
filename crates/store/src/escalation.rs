//! The escalation ladder's records: 催办 (urges), 督办单 (notices), 通报 (bulletins), and the
//! 跟踪问效 effect reviews that close the loop.

use serde::Serialize;

use crate::matters::Arg;
use crate::{Conn, GetCol, StoreError, StoreResult};

/// 催办.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrgeRow {
    pub id: i64,
    pub matter_id: i64,
    pub at_ms: i64,
    pub on_day: String,
    pub by_id: Option<i64>,
    pub method: String,
    pub note: String,
}

pub async fn insert_urge(c: &mut Conn, u: &UrgeRow) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO urges (matter_id, at_ms, on_day, by_id, method, note) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(u.matter_id).bind(u.at_ms).bind(&u.on_day).bind(u.by_id).bind(&u.method).bind(&u.note)
        .fetch_one(&mut *c).await?);
    Ok(id)
}

pub async fn list_urges(c: &mut Conn, matter_id: i64) -> StoreResult<Vec<UrgeRow>> {
    crate::sync_read::bounded_rows(
        c,
        "SELECT id, matter_id, at_ms, on_day, by_id, method, note FROM urges \
         WHERE matter_id = $1 ORDER BY at_ms, id",
        &[Arg::Int(matter_id)],
        |r| {
            Ok(UrgeRow {
                id: r.i64("id")?,
                matter_id: r.i64("matter_id")?,
                at_ms: r.i64("at_ms")?,
                on_day: r.text("on_day")?,
                by_id: r.opt_i64("by_id")?,
                method: r.text("method")?,
                note: r.text("note")?,
            })
        },
    )
    .await
}

/// 督办单.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeRow {
    pub id: i64,
    pub matter_id: i64,
    pub year: i64,
    pub seq: i64,
    pub number: String,
    pub color: String,
    pub unit_id: i64,
    pub reason: String,
    pub requirement: String,
    pub due_on: String,
    pub signer_id: i64,
    pub issued_on: String,
    pub reply: Option<String>,
    pub replied_by: Option<i64>,
    pub replied_on: Option<String>,
}

const NOTICE_COLS: &str = "id, matter_id, year, seq, number, color, unit_id, reason, requirement, due_on, \
    signer_id, issued_on, reply, replied_by, replied_on";

fn map_notice(r: &(impl GetCol + ?Sized)) -> StoreResult<NoticeRow> {
    Ok(NoticeRow {
        id: r.i64("id")?,
        matter_id: r.i64("matter_id")?,
        year: r.i64("year")?,
        seq: r.i64("seq")?,
        number: r.text("number")?,
        color: r.text("color")?,
        unit_id: r.i64("unit_id")?,
        reason: r.text("reason")?,
        requirement: r.text("requirement")?,
        due_on: r.text("due_on")?,
        signer_id: r.i64("signer_id")?,
        issued_on: r.text("issued_on")?,
        reply: r.opt_text("reply")?,
        replied_by: r.opt_i64("replied_by")?,
        replied_on: r.opt_text("replied_on")?,
    })
}

pub async fn next_notice_seq(c: &mut Conn, year: i64) -> StoreResult<i64> {
    let n: i64 = crate::on!(c, c => sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM notices WHERE year = $1").bind(year).fetch_one(&mut *c).await?);
    Ok(n)
}

pub async fn insert_notice(c: &mut Conn, n: &NoticeRow) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO notices (matter_id, year, seq, number, color, unit_id, reason, requirement, due_on,
            signer_id, issued_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
        .bind(n.matter_id).bind(n.year).bind(n.seq).bind(&n.number).bind(&n.color).bind(n.unit_id)
        .bind(&n.reason).bind(&n.requirement).bind(&n.due_on).bind(n.signer_id).bind(&n.issued_on)
        .fetch_one(&mut *c).await?);
    Ok(id)
}

pub async fn get_notice(c: &mut Conn, id: i64) -> StoreResult<NoticeRow> {
    let sql = format!("SELECT {NOTICE_COLS} FROM notices WHERE id = $1");
    let v = crate::on!(c, c => match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *c).await? {
        Some(r) => map_notice(&r)?,
        None => return Err(StoreError::NotFound(format!("notice {id}"))),
    });
    Ok(v)
}

pub async fn list_notices(c: &mut Conn, matter_id: i64) -> StoreResult<Vec<NoticeRow>> {
    let sql = format!("SELECT {NOTICE_COLS} FROM notices WHERE matter_id = $1 ORDER BY id");
    crate::sync_read::bounded_rows(c, &sql, &[Arg::Int(matter_id)], |r| map_notice(r)).await
}

pub async fn answer_notice(
    c: &mut Conn,
    id: i64,
    reply: &str,
    by: Option<i64>,
    on_day: &str,
) -> StoreResult<()> {
    let n = crate::on!(c, c => sqlx::query(
        "UPDATE notices SET reply = $1, replied_by = $2, replied_on = $3 WHERE id = $4 AND reply IS NULL")
        .bind(reply).bind(by).bind(on_day).bind(id).execute(&mut *c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::Conflict("notices.reply".into()));
    }
    Ok(())
}

/// The statement of [`notices_for_units`] (`$1` replied since, `$2` limit); `None` when it reads
/// nothing.
pub fn notices_for_units_sql(units: Option<&[i64]>) -> Option<String> {
    let unit_filter = match units {
        None => String::new(),
        Some([]) => return None,
        Some(ids) => {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            format!(" AND unit_id IN ({})", list.join(", "))
        }
    };
    Some(format!(
        "SELECT {NOTICE_COLS} FROM notices WHERE (reply IS NULL OR replied_on >= $1){unit_filter} \
         ORDER BY CASE WHEN reply IS NULL THEN 0 ELSE 1 END, CASE WHEN reply IS NULL THEN due_on END, \
         replied_on DESC, id DESC LIMIT $2"
    ))
}

/// 督办单 addressed to these units (`None`: any unit), unanswered ones first by time limit,
/// then answered ones replied on or after `replied_since` (`YYYY-MM-DD`), newest first.
pub async fn notices_for_units(
    c: &mut Conn,
    units: Option<&[i64]>,
    replied_since: &str,
    limit: i64,
) -> StoreResult<Vec<NoticeRow>> {
    let Some(sql) = notices_for_units_sql(units) else {
        return Ok(Vec::new());
    };
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(replied_since).bind(limit)
            .fetch_all(&mut *c).await?;
        rows.iter().map(map_notice).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// 督办单 issued on days `from ..= to`, counted by colour.
pub async fn count_notices_by_color(
    c: &mut Conn,
    from: &str,
    to: &str,
) -> StoreResult<Vec<(String, i64)>> {
    let v = crate::on!(c, c => {
        let rows = sqlx::query("SELECT color, COUNT(*) AS n FROM notices WHERE issued_on >= $1 AND issued_on <= $2
            GROUP BY color ORDER BY color").bind(from).bind(to).fetch_all(&mut *c).await?;
        rows.iter().map(|r| Ok((r.text("color")?, r.i64("n")?))).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// 通报.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulletinRow {
    pub id: i64,
    pub year: i64,
    pub issue_no: i64,
    pub title: String,
    pub period_key: String,
    pub body: String,
    pub issued_by: i64,
    pub issued_on: String,
}

pub async fn next_issue_no(c: &mut Conn, year: i64) -> StoreResult<i64> {
    let n: i64 = crate::on!(c, c => sqlx::query_scalar(
        "SELECT COALESCE(MAX(issue_no), 0) + 1 FROM bulletins WHERE year = $1").bind(year).fetch_one(&mut *c).await?);
    Ok(n)
}

pub async fn insert_bulletin(c: &mut Conn, b: &BulletinRow) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO bulletins (year, issue_no, title, period_key, body, issued_by, issued_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(b.year).bind(b.issue_no).bind(&b.title).bind(&b.period_key).bind(&b.body)
        .bind(b.issued_by).bind(&b.issued_on).fetch_one(&mut *c).await?);
    Ok(id)
}

pub async fn list_bulletins(c: &mut Conn, year: i64) -> StoreResult<Vec<BulletinRow>> {
    let v = crate::on!(c, c => {
        let rows = sqlx::query("SELECT id, year, issue_no, title, period_key, body, issued_by, issued_on
            FROM bulletins WHERE year = $1 ORDER BY issue_no").bind(year).fetch_all(&mut *c).await?;
        rows.iter().map(|r| Ok(BulletinRow {
            id: r.i64("id")?, year: r.i64("year")?, issue_no: r.i64("issue_no")?, title: r.text("title")?,
            period_key: r.text("period_key")?, body: r.text("body")?, issued_by: r.i64("issued_by")?,
            issued_on: r.text("issued_on")?,
        })).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// 问效 record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectRow {
    pub id: i64,
    pub matter_id: i64,
    pub rating: String,
    pub evidence: String,
    pub comment: String,
    pub reviewer_id: i64,
    pub reviewed_on: String,
    pub lookback_on: Option<String>,
}

pub async fn insert_effect(c: &mut Conn, e: &EffectRow) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO effect_reviews (matter_id, rating, evidence, comment, reviewer_id, reviewed_on, lookback_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(e.matter_id).bind(&e.rating).bind(&e.evidence).bind(&e.comment).bind(e.reviewer_id)
        .bind(&e.reviewed_on).bind(&e.lookback_on).fetch_one(&mut *c).await?);
    Ok(id)
}

pub async fn list_effects(c: &mut Conn, matter_id: i64) -> StoreResult<Vec<EffectRow>> {
    crate::sync_read::bounded_rows(
        c,
        "SELECT id, matter_id, rating, evidence, comment, reviewer_id, reviewed_on, lookback_on \
         FROM effect_reviews WHERE matter_id = $1 ORDER BY id",
        &[Arg::Int(matter_id)],
        |r| {
            Ok(EffectRow {
                id: r.i64("id")?,
                matter_id: r.i64("matter_id")?,
                rating: r.text("rating")?,
                evidence: r.text("evidence")?,
                comment: r.text("comment")?,
                reviewer_id: r.i64("reviewer_id")?,
                reviewed_on: r.text("reviewed_on")?,
                lookback_on: r.opt_text("lookback_on")?,
            })
        },
    )
    .await
}
