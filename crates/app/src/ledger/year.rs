//! 一年一归零: the year close is refused while any matter of the year is not terminal (listing
//! them); once each is 销号, 中止 or 结转, it records the annual reconciliation per unit and makes
//! the year read-only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::policy::Action;
use taizhang_store::cadences as store_cad;
use taizhang_store::matters::{self as store_matters, Arg, COLS, MatterRow};

use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// One unit's line of the 年度对账.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct UnitReconciliation {
    pub total: i64,
    pub closed: i64,
    pub stopped: i64,
    pub carried_over: i64,
    /// 按期办结 (completed on or before the deadline in force).
    pub on_time: i64,
}

/// The 年度归零 report.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct YearReport {
    pub year: i64,
    pub total: i64,
    pub closed: i64,
    pub stopped: i64,
    pub carried_over: i64,
    /// (old number, new number) of each carried-over matter.
    pub carried: Vec<(String, String)>,
    pub by_unit: BTreeMap<i64, UnitReconciliation>,
}

async fn year_rows(c: &mut taizhang_store::Conn, year: i64) -> AppResult<Vec<MatterRow>> {
    let sql = format!("SELECT {COLS} FROM matters m WHERE m.year = $1 ORDER BY m.seq");
    Ok(store_matters::query_rows(c, sql, &[Arg::Int(year)]).await?)
}

fn terminal(m: &MatterRow) -> bool {
    MatterStatus::parse(&m.status).is_some_and(MatterStatus::is_terminal)
}

/// The matters of `year` that still block its close.
pub async fn open_matters_of_year(app: &App, who: &Caller, year: i64) -> AppResult<Vec<MatterRow>> {
    who.require(Action::ViewReports, None)?;
    let mut c = app.store.read().await?;
    Ok(year_rows(&mut c, year)
        .await?
        .into_iter()
        .filter(|m| !terminal(m))
        .collect())
}

/// The steps of the 年度归零 page: what ends a matter in its year (办结, 中止, 结转).
pub const YEAR_STEPS: &[&str] = &[
    "report_completion",
    "review_completion",
    "close_out",
    "request_stop",
    "decide_stop",
    "carry_over",
];

/// An open matter of the year with the steps towards zero `who` may take on it now.
#[derive(Debug, Clone)]
pub struct OpenMatter {
    pub row: MatterRow,
    pub steps: Vec<&'static super::actions::MatterAction>,
}

/// [`open_matters_of_year`] with, for each, the [`YEAR_STEPS`] `who` may take now (none for
/// read-only roles, whose targets are then not even loaded).
pub async fn open_matters_with_steps(
    app: &App,
    who: &Caller,
    year: i64,
) -> AppResult<Vec<OpenMatter>> {
    let rows = open_matters_of_year(app, who, year).await?;
    let steps: Vec<&'static super::actions::MatterAction> = YEAR_STEPS
        .iter()
        .filter_map(|c| super::actions::find(c))
        .collect();
    let may_act = who.is_system()
        || steps.iter().any(|a| {
            taizhang_domain::policy::list_scope(&who.actor, a.policy)
                != taizhang_domain::policy::ListScope::Nothing
        });
    let mut c = app.store.read().await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut offered = Vec::new();
        if may_act && let Some(status) = MatterStatus::parse(&row.status) {
            let target = super::target_of(&mut c, &row).await?;
            offered = steps
                .iter()
                .copied()
                .filter(|a| a.offered_on(who, status, &target))
                .collect();
        }
        out.push(OpenMatter {
            row,
            steps: offered,
        });
    }
    Ok(out)
}

/// The matters of `year` carried over so far: (old id, old number, new id, new number).
pub async fn carried_of_year(
    app: &App,
    who: &Caller,
    year: i64,
) -> AppResult<Vec<(i64, String, i64, String)>> {
    who.require(Action::ViewReports, None)?;
    let mut c = app.store.read().await?;
    let mut out = Vec::new();
    for m in year_rows(&mut c, year).await? {
        if m.status == MatterStatus::CarriedOver.as_str() {
            for (new_id, number) in store_matters::carried_to(&mut c, m.id).await? {
                out.push((m.id, m.number.clone(), new_id, number));
            }
        }
    }
    Ok(out)
}

/// Close `year`: refused (`year_open`, listing the numbers) while any matter is open.
pub async fn close_year(app: &App, who: &Caller, year: i64) -> AppResult<YearReport> {
    who.require(Action::CloseYear, None)?;
    let mut c = app.store.begin().await?;
    if store_cad::year_closed(&mut c, year).await? {
        return Err(AppError::rule("year_closed", format!("{year}年度已归零")));
    }
    let rows = year_rows(&mut c, year).await?;
    let open: Vec<&str> = rows
        .iter()
        .filter(|m| !terminal(m))
        .map(|m| m.number.as_str())
        .collect();
    if !open.is_empty() {
        return Err(AppError::rule(
            "year_open",
            format!(
                "{year}年度尚有{}件事项未办结销号、中止或结转：{}",
                open.len(),
                open.join("、")
            ),
        ));
    }
    let mut r = YearReport {
        year,
        ..Default::default()
    };
    for m in &rows {
        let u = r.by_unit.entry(m.lead_unit_id).or_default();
        u.total += 1;
        r.total += 1;
        match m.status.as_str() {
            "closed" => {
                u.closed += 1;
                r.closed += 1;
            }
            "stopped" => {
                u.stopped += 1;
                r.stopped += 1;
            }
            _ => {
                u.carried_over += 1;
                r.carried_over += 1;
                for (_, number) in store_matters::carried_to(&mut c, m.id).await? {
                    r.carried.push((m.number.clone(), number));
                }
            }
        }
        if let (Some(fin), Some(dl)) = (m.completed_on.as_deref(), m.deadline.as_deref())
            && fin <= dl
        {
            u.on_time += 1;
        }
    }
    let report = serde_json::to_string(&r).map_err(|e| AppError::Internal(e.to_string()))?;
    store_cad::insert_year_close(&mut c, year, who.person_id, app.clock.now_ms(), &report).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "cadence.year_close",
            "year",
            year,
            format!(
                "total={} closed={} stopped={} carried={}",
                r.total, r.closed, r.stopped, r.carried_over
            ),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(r)
}

/// The stored 年度归零 report of a closed year.
pub async fn year_report(app: &App, who: &Caller, year: i64) -> AppResult<Option<YearReport>> {
    who.require(Action::ViewReports, None)?;
    let mut c = app.store.read().await?;
    match store_cad::find_year_close(&mut c, year).await? {
        Some(s) => serde_json::from_str(&s)
            .map(Some)
            .map_err(|e| AppError::Internal(e.to_string())),
        None => Ok(None),
    }
}
