//! 一月一盘点: a frozen snapshot of a year's ledger at month end — counts and shares by status,
//! unit, leader and source; on-time rate; lagging matters by unit; extensions granted and
//! 督办单 by colour in the month — from which a 通报 can be issued.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use taizhang_domain::light::Light;
use taizhang_domain::period::PeriodKey;
use taizhang_domain::policy::Action;
use taizhang_store::cadences as store_cad;
use taizhang_store::escalation as store_esc;
use taizhang_store::ledger as store_ledger;
use taizhang_store::matters::{self as store_matters, Arg, COLS};

use super::escalation::{BulletinInput, issue_bulletin};
use super::matters::view;
use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// A lagging (red-light) matter in the snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Lagging {
    pub matter_id: i64,
    pub number: String,
    pub title: String,
    pub days_left: Option<i64>,
}

/// The frozen numbers of one month.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MonthlySnapshot {
    pub month: String,
    pub as_of: String,
    pub year: i64,
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
    /// Share of the total per status, percent with one decimal.
    pub status_share: BTreeMap<String, f64>,
    /// status counts per lead unit id.
    pub by_unit: BTreeMap<i64, BTreeMap<String, i64>>,
    /// status counts per lead leader id (0 = none).
    pub by_leader: BTreeMap<i64, BTreeMap<String, i64>>,
    pub by_source: BTreeMap<String, BTreeMap<String, i64>>,
    /// Running matters past their deadline.
    pub overdue: i64,
    /// 按期办结率: completed matters finished on or before their (possibly extended) deadline,
    /// percent of completed matters with a deadline; `None` when there are none.
    pub on_time_rate: Option<f64>,
    pub lagging_by_unit: BTreeMap<i64, Vec<Lagging>>,
    pub extensions_granted: i64,
    pub notices_by_color: BTreeMap<String, i64>,
    /// Matters per light code (绿/黄/红/灰) as of the snapshot day.
    #[serde(default)]
    pub by_light: BTreeMap<String, i64>,
    /// Running matters past their deadline, per lead unit id.
    #[serde(default)]
    pub overdue_by_unit: BTreeMap<i64, i64>,
    /// 按期办结率 per lead unit id (units with completed matters that had a deadline).
    #[serde(default)]
    pub on_time_by_unit: BTreeMap<i64, f64>,
}

fn pct(n: i64, d: i64) -> f64 {
    if d == 0 {
        0.0
    } else {
        ((n as f64) * 1000.0 / (d as f64)).round() / 10.0
    }
}

/// Compute (without storing) the snapshot of `month` as of `as_of`.
pub async fn compute(app: &App, month: PeriodKey, as_of: Date) -> AppResult<MonthlySnapshot> {
    let (from, to) = match (month.first_day(), month.last_day()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return Err(AppError::invalid("month", "period", "月份无效")),
    };
    let year = i64::from(from.year());
    let mut c = app.store.read().await?;
    let cal = super::calendar::load(&mut c).await?;
    let rows = store_matters::query_rows(
        &mut c,
        format!("SELECT {COLS} FROM matters m WHERE m.year = $1 ORDER BY m.id"),
        &[Arg::Int(year)],
    )
    .await?;
    let r = super::thresholds::rules_in(app, &mut c).await?;
    let mut s = MonthlySnapshot {
        month: month.to_string(),
        as_of: as_of.to_string(),
        year,
        ..Default::default()
    };
    let (mut done, mut on_time) = (0i64, 0i64);
    let mut unit_done: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for m in rows {
        let st = m.status.clone();
        s.total += 1;
        *s.by_status.entry(st.clone()).or_default() += 1;
        *s.by_unit
            .entry(m.lead_unit_id)
            .or_default()
            .entry(st.clone())
            .or_default() += 1;
        *s.by_leader
            .entry(m.lead_leader_id.unwrap_or(0))
            .or_default()
            .entry(st.clone())
            .or_default() += 1;
        *s.by_source
            .entry(m.source_category.clone())
            .or_default()
            .entry(st.clone())
            .or_default() += 1;
        if let (Some(fin), Some(dl)) = (m.completed_on.as_deref(), m.deadline.as_deref()) {
            done += 1;
            let u = unit_done.entry(m.lead_unit_id).or_default();
            u.0 += 1;
            if fin <= dl {
                on_time += 1;
                u.1 += 1;
            }
        }
        let v = view(&cal, &r, as_of, m);
        *s.by_light.entry(v.light.code().to_owned()).or_default() += 1;
        if v.overdue {
            s.overdue += 1;
            *s.overdue_by_unit.entry(v.row.lead_unit_id).or_default() += 1;
        }
        if v.light == Light::Red {
            s.lagging_by_unit
                .entry(v.row.lead_unit_id)
                .or_default()
                .push(Lagging {
                    matter_id: v.row.id,
                    number: v.row.number.clone(),
                    title: v.row.title.clone(),
                    days_left: v.days_left,
                });
        }
    }
    s.status_share = s
        .by_status
        .iter()
        .map(|(k, n)| (k.clone(), pct(*n, s.total)))
        .collect();
    s.on_time_rate = (done > 0).then(|| pct(on_time, done));
    s.on_time_by_unit = unit_done
        .into_iter()
        .map(|(unit, (d, t))| (unit, pct(t, d)))
        .collect();
    let (f, t) = (from.to_string(), to.to_string());
    s.extensions_granted = store_ledger::count_extensions_granted(&mut c, &f, &t).await?;
    s.notices_by_color = store_esc::count_notices_by_color(&mut c, &f, &t)
        .await?
        .into_iter()
        .collect();
    Ok(s)
}

/// Freeze the snapshot of `month`. A month is frozen once (`snapshot_frozen` otherwise).
pub async fn take_monthly_snapshot(
    app: &App,
    who: &Caller,
    month: PeriodKey,
    as_of: Date,
) -> AppResult<MonthlySnapshot> {
    who.require(Action::RunCadence, None)?;
    let snap = compute(app, month, as_of).await?;
    let data = serde_json::to_string(&snap).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut c = app.store.begin().await?;
    store_cad::insert_snapshot(&mut c, &snap.month, &snap.as_of, &data, app.clock.now_ms())
        .await
        .map_err(|e| match e {
            taizhang_store::StoreError::Conflict(_) => {
                AppError::rule("snapshot_frozen", format!("{} 已盘点", snap.month))
            }
            other => other.into(),
        })?;
    // --- notify (issue 7) ---
    let units: Vec<i64> = snap.by_unit.keys().copied().collect();
    let link = format!("/cadence/monthly?month={}", snap.month);
    let ev = taizhang_notify::EventKind::MonthlyReady;
    crate::notify::on_cadence_ready(app, &mut c, ev, &snap.month, &units, &link).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "cadence.monthly_stocktake",
            "cadence",
            &snap.month,
            format!("total={}", snap.total),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(snap)
}

/// A frozen snapshot, if the month was taken.
pub async fn get_monthly_snapshot(
    app: &App,
    who: &Caller,
    month_key: &str,
) -> AppResult<Option<MonthlySnapshot>> {
    who.require(Action::ViewReports, None)?;
    let mut c = app.store.read().await?;
    match store_cad::find_snapshot(&mut c, month_key).await? {
        Some((_, data, _)) => serde_json::from_str(&data)
            .map(Some)
            .map_err(|e| AppError::Internal(e.to_string())),
        None => Ok(None),
    }
}

/// The text of a 通报 drafted from a snapshot.
pub fn bulletin_text(s: &MonthlySnapshot, unit_name: &dyn Fn(i64) -> String) -> String {
    let count = |k: &str| s.by_status.get(k).copied().unwrap_or(0);
    let finished = count("completed") + count("closed");
    let mut out = format!(
        "截至{}，{}年度督办事项共{}件，已办结{}件（占{:.1}%），逾期{}件，本月批准延期{}件。\n",
        s.as_of,
        s.year,
        s.total,
        finished,
        pct(finished, s.total),
        s.overdue,
        s.extensions_granted
    );
    if let Some(r) = s.on_time_rate {
        out.push_str(&format!("按期办结率{r:.1}%。\n"));
    }
    if !s.lagging_by_unit.is_empty() {
        out.push_str("滞后单位及事项：\n");
        for (unit, items) in &s.lagging_by_unit {
            let list: Vec<String> = items
                .iter()
                .map(|l| format!("{} {}", l.number, l.title))
                .collect();
            out.push_str(&format!(
                "- {}（{}件）：{}\n",
                unit_name(*unit),
                items.len(),
                list.join("；")
            ));
        }
    }
    out.push_str("请各单位对照问题抓紧整改，按时办结销号。\n");
    out
}

/// Issue a 通报 from a frozen month. Returns (bulletin id, 期号).
pub async fn bulletin_from_snapshot(
    app: &App,
    who: &Caller,
    month_key: &str,
) -> AppResult<(i64, i64)> {
    let snap = get_monthly_snapshot(app, who, month_key)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "month_key",
                "snapshot_missing",
                format!("{month_key} 尚未盘点"),
            )
        })?;
    let mut c = app.store.read().await?;
    let units = taizhang_store::org::list_units(&mut c).await?;
    drop(c);
    let name = |id: i64| {
        units
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| id.to_string(), |u| u.name.clone())
    };
    let body = bulletin_text(&snap, &name);
    let title = format!("{}督办事项落实情况通报", snap.month);
    issue_bulletin(
        app,
        who,
        BulletinInput {
            title,
            body,
            month_key: Some(month_key.to_owned()),
        },
    )
    .await
}

/// Unfreeze a month so it can be taken again (`jobs run --replay`); refused once a 通报 was
/// issued from it.
pub async fn forget_monthly_snapshot(app: &App, who: &Caller, month_key: &str) -> AppResult<()> {
    who.require(Action::RunCadence, None)?;
    let mut c = app.store.begin().await?;
    store_cad::delete_snapshot(&mut c, month_key).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok("cadence.monthly_replay", "cadence", month_key, ""),
    )
    .await?;
    c.commit().await?;
    Ok(())
}
