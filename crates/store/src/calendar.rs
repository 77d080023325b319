//! Stored calendar overrides (法定节假日 / 调休上班) and the years whose notice is loaded.

use crate::{Conn, GetCol, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideRow {
    pub day: String,
    /// `holiday` or `workday`.
    pub kind: String,
    pub name: String,
    pub notice: String,
}

pub async fn list_overrides(c: &mut Conn) -> StoreResult<Vec<OverrideRow>> {
    let v = crate::on!(c, c => {
        let rows = sqlx::query("SELECT day, kind, name, notice FROM calendar_overrides ORDER BY day").fetch_all(&mut *c).await?;
        rows.iter().map(|r| Ok(OverrideRow { day: r.text("day")?, kind: r.text("kind")?, name: r.text("name")?, notice: r.text("notice")? }))
            .collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

pub async fn list_years(c: &mut Conn) -> StoreResult<Vec<(i64, String)>> {
    let v = crate::on!(c, c => {
        let rows = sqlx::query("SELECT year, notice FROM calendar_years ORDER BY year").fetch_all(&mut *c).await?;
        rows.iter().map(|r| Ok((r.i64("year")?, r.text("notice")?))).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

pub async fn upsert_override(c: &mut Conn, o: &OverrideRow) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "INSERT INTO calendar_overrides (day, kind, name, notice) VALUES ($1, $2, $3, $4)
         ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name, notice = excluded.notice")
        .bind(&o.day).bind(&o.kind).bind(&o.name).bind(&o.notice).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn delete_override(c: &mut Conn, day: &str) -> StoreResult<bool> {
    let n = crate::on!(c, c => sqlx::query("DELETE FROM calendar_overrides WHERE day = $1")
        .bind(day).execute(&mut *c).await?.rows_affected());
    Ok(n > 0)
}

pub async fn upsert_year(c: &mut Conn, year: i64, notice: &str) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "INSERT INTO calendar_years (year, notice) VALUES ($1, $2) ON CONFLICT (year) DO UPDATE SET notice = excluded.notice")
        .bind(year).bind(notice).execute(&mut *c).await?.rows_affected());
    Ok(())
}
