//! 一周一小结: per-unit and department-wide drafts built from the week's recorded facts (推进、
//! 办结、滞后及原因、需协调、下周安排) — nobody types twice what the system knows (最多报一次) —
//! then edited, submitted and approved.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use taizhang_domain::light::Light;
use taizhang_domain::period::PeriodKey;
use taizhang_domain::policy::{self, Action, Label, ListScope, Target};
use taizhang_store::cadences::{self as store_cad, WeeklyRow};
use taizhang_store::ledger as store_ledger;
use taizhang_store::matters::{self as store_matters, Arg, COLS, MatterRow, placeholders};

use super::bounded;
use super::list::HELD;
use super::matters::view;
use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// One matter line of a summary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Line {
    pub matter_id: i64,
    pub number: String,
    pub title: String,
    pub text: String,
}

/// The facts of one week for one unit (`unit_id` None = department-wide).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct WeeklyFacts {
    pub week: String,
    pub unit_id: Option<i64>,
    /// 本周推进: matters with a progress report from the lead unit this week.
    pub moved: Vec<Line>,
    /// 本周办结: completions approved this week.
    pub completed: Vec<Line>,
    /// 滞后事项及原因: red-light matters at the end of the week, with their stated problems.
    pub stuck: Vec<Line>,
    /// 需领导协调
    pub coordination: Vec<Line>,
    /// 下周安排
    pub next_week: Vec<Line>,
}

fn line(m: &MatterRow, text: &str) -> Line {
    Line {
        matter_id: m.id,
        number: m.number.clone(),
        title: m.title.clone(),
        text: text.to_owned(),
    }
}

async fn rows_where(
    c: &mut taizhang_store::Conn,
    clause: &str,
    args: Vec<Arg>,
) -> AppResult<BTreeMap<i64, MatterRow>> {
    let sql = format!("SELECT {COLS} FROM matters m WHERE {clause}");
    Ok(store_matters::query_rows(c, sql, &args)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect())
}

/// Build the facts of `week` as of `as_of`, per lead unit plus the department-wide total.
pub async fn week_facts(app: &App, week: PeriodKey, as_of: Date) -> AppResult<Vec<WeeklyFacts>> {
    let (from, to) = match (week.first_day(), week.last_day()) {
        (Ok(a), Ok(b)) => (a.to_string(), b.to_string()),
        _ => return Err(AppError::invalid("week", "period", "周次无效")),
    };
    let mut c = app.store.read().await?;
    let cal = super::calendar::load(&mut c).await?;
    let reports = store_ledger::reports_between(&mut c, &from, &to).await?;
    let events = store_ledger::events_between(&mut c, &from, &to).await?;
    let mut ids: BTreeSet<i64> = reports.iter().map(|r| r.matter_id).collect();
    ids.extend(
        events
            .iter()
            .filter(|e| e.kind == "approve_completion")
            .map(|e| e.matter_id),
    );
    let rows = if ids.is_empty() {
        BTreeMap::new()
    } else {
        let ph = placeholders(1, ids.len());
        rows_where(
            &mut c,
            &format!("m.id IN ({ph})"),
            ids.iter().map(|i| Arg::Int(*i)).collect(),
        )
        .await?
    };
    let held = rows_where(
        &mut c,
        &format!("m.status IN ({})", placeholders(1, HELD.len())),
        HELD.iter().map(|s| Arg::Text((*s).into())).collect(),
    )
    .await?;
    let r = super::thresholds::rules_in(app, &mut c).await?;
    let week_key = week.to_string();
    let mut per: BTreeMap<i64, WeeklyFacts> = BTreeMap::new();
    fn slot<'a>(
        per: &'a mut BTreeMap<i64, WeeklyFacts>,
        week: &str,
        unit: i64,
    ) -> &'a mut WeeklyFacts {
        per.entry(unit).or_insert_with(|| WeeklyFacts {
            week: week.to_owned(),
            unit_id: Some(unit),
            ..Default::default()
        })
    }
    let mut latest: BTreeMap<i64, &store_ledger::ReportRow> = BTreeMap::new();
    for rep in reports.iter().filter(|r| !r.contribution) {
        latest.insert(rep.matter_id, rep);
    }
    for (id, rep) in &latest {
        let Some(m) = rows.get(id) else { continue };
        let f = slot(&mut per, &week_key, m.lead_unit_id);
        f.moved.push(line(m, &rep.body));
        if !rep.coordination.is_empty() {
            f.coordination.push(line(m, &rep.coordination));
        }
        if !rep.next_steps.is_empty() {
            f.next_week.push(line(m, &rep.next_steps));
        }
    }
    for e in events.iter().filter(|e| e.kind == "approve_completion") {
        if let Some(m) = rows.get(&e.matter_id) {
            slot(&mut per, &week_key, m.lead_unit_id)
                .completed
                .push(line(m, &e.note));
        }
    }
    for (id, m) in held {
        let v = view(&cal, &r, as_of, m.clone());
        if v.light == Light::Red {
            let why = latest
                .get(&id)
                .map(|r| r.problems.as_str())
                .filter(|p| !p.is_empty());
            let text = why.map_or_else(
                || format!("逾期或滞后（剩余{}个工作日）", v.days_left.unwrap_or(0)),
                str::to_owned,
            );
            slot(&mut per, &week_key, m.lead_unit_id)
                .stuck
                .push(line(&m, &text));
        }
    }
    let mut all = WeeklyFacts {
        week: week_key.clone(),
        unit_id: None,
        ..Default::default()
    };
    for f in per.values() {
        all.moved.extend(f.moved.iter().cloned());
        all.completed.extend(f.completed.iter().cloned());
        all.stuck.extend(f.stuck.iter().cloned());
        all.coordination.extend(f.coordination.iter().cloned());
        all.next_week.extend(f.next_week.iter().cloned());
    }
    let mut out: Vec<WeeklyFacts> = per.into_values().collect();
    out.push(all);
    Ok(out)
}

/// The editable text a draft starts from.
pub fn render(f: &WeeklyFacts) -> String {
    let mut s = format!(
        "{} 工作小结：本周推进{}件，办结{}件，滞后{}件，需协调{}件。\n",
        f.week,
        f.moved.len(),
        f.completed.len(),
        f.stuck.len(),
        f.coordination.len()
    );
    for (head, lines) in [
        ("本周推进", &f.moved),
        ("本周办结", &f.completed),
        ("滞后事项及原因", &f.stuck),
        ("需领导协调", &f.coordination),
        ("下周安排", &f.next_week),
    ] {
        s.push_str(&format!("\n【{head}】\n"));
        for l in lines {
            s.push_str(&format!("- {} {}：{}\n", l.number, l.title, l.text));
        }
    }
    s
}

/// Write this week's drafts (idempotent; edited summaries keep their text). Returns the facts.
pub async fn run_weekly_summary(
    app: &App,
    who: &Caller,
    week: PeriodKey,
    as_of: Date,
) -> AppResult<Vec<WeeklyFacts>> {
    who.require(Action::RunCadence, None)?;
    let facts = week_facts(app, week, as_of).await?;
    let now = app.clock.now_ms();
    let mut c = app.store.begin().await?;
    for f in &facts {
        let draft = serde_json::to_string(f).map_err(|e| AppError::Internal(e.to_string()))?;
        store_cad::upsert_weekly_draft(&mut c, &f.week, f.unit_id, &draft, &render(f), now).await?;
    }
    // --- notify (issue 7) ---
    let units: Vec<i64> = facts.iter().filter_map(|f| f.unit_id).collect();
    let link = format!("/cadence/weekly?week={week}");
    let ev = taizhang_notify::EventKind::WeeklyReady;
    crate::notify::on_cadence_ready(app, &mut c, ev, &week.to_string(), &units, &link).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "cadence.weekly_summary",
            "cadence",
            week,
            format!("drafts={}", facts.len()),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(facts)
}

/// A stored summary with its drafted facts.
#[derive(Debug, Clone, Serialize)]
pub struct WeeklyView {
    pub row: WeeklyRow,
    pub facts: WeeklyFacts,
}

fn unit_target(unit: Option<i64>) -> Option<Target> {
    unit.map(|u| Target {
        owner_unit: Some(u),
        assisting_units: Vec::new(),
        handler_ids: Vec::new(),
        label: Label::Normal,
    })
}

/// The summaries of a week that `who` may see.
pub async fn list_weekly_summaries(
    app: &App,
    who: &Caller,
    week_key: &str,
) -> AppResult<Vec<WeeklyView>> {
    who.require(Action::ViewReports, None)?;
    let scope = if who.is_system() {
        ListScope::All
    } else {
        policy::list_scope(&who.actor, Action::ViewReports)
    };
    let mut c = app.store.read().await?;
    let rows = store_cad::list_weekly(&mut c, week_key).await?;
    Ok(rows
        .into_iter()
        .filter(|w| match unit_target(w.unit_id) {
            Some(t) => scope.includes(&t),
            None => scope == ListScope::All,
        })
        .map(|row| WeeklyView {
            facts: serde_json::from_str(&row.draft).unwrap_or_default(),
            row,
        })
        .collect())
}

async fn change(
    app: &App,
    who: &Caller,
    id: i64,
    action: Action,
    f: impl FnOnce(&mut WeeklyRow) -> AppResult<()>,
) -> AppResult<()> {
    let mut c = app.store.begin().await?;
    let mut w = store_cad::get_weekly(&mut c, id).await?;
    who.require(action, unit_target(w.unit_id).as_ref())?;
    f(&mut w)?;
    w.updated_at = app.clock.now_ms();
    store_cad::save_weekly(&mut c, &w).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "weekly.change",
            "weekly_summary",
            id,
            format!("status={}", w.status),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(())
}

fn ensure_status(w: &WeeklyRow, allowed: &[&str]) -> AppResult<()> {
    if allowed.contains(&w.status.as_str()) {
        Ok(())
    } else {
        Err(AppError::rule(
            "transition",
            format!("小结处于「{}」状态，不能执行此操作", w.status),
        ))
    }
}

/// Edit the text of a draft (or a returned summary).
pub async fn edit_weekly_summary(app: &App, who: &Caller, id: i64, body: &str) -> AppResult<()> {
    let body = bounded("body", body)?;
    change(app, who, id, Action::EditWeeklySummary, |w| {
        ensure_status(w, &["draft", "returned"])?;
        w.body = body;
        Ok(())
    })
    .await
}

/// Submit a summary for approval.
pub async fn submit_weekly_summary(app: &App, who: &Caller, id: i64) -> AppResult<()> {
    let (by, now) = (who.person_id, app.clock.now_ms());
    change(app, who, id, Action::EditWeeklySummary, |w| {
        ensure_status(w, &["draft", "returned"])?;
        w.status = "submitted".into();
        w.submitted_by = by;
        w.submitted_at = Some(now);
        Ok(())
    })
    .await
}

/// Approve a submitted summary, or return it.
pub async fn approve_weekly_summary(
    app: &App,
    who: &Caller,
    id: i64,
    approve: bool,
) -> AppResult<()> {
    let (by, now) = (who.person_id, app.clock.now_ms());
    change(app, who, id, Action::ApproveWeeklySummary, |w| {
        ensure_status(w, &["submitted"])?;
        w.status = if approve { "approved" } else { "returned" }.into();
        if approve {
            w.approved_by = by;
            w.approved_at = Some(now);
        }
        Ok(())
    })
    .await
}

/// One stored summary that `who` may see (404 outside their scope).
pub async fn get_weekly_summary(app: &App, who: &Caller, id: i64) -> AppResult<WeeklyView> {
    let mut c = app.store.read().await?;
    let row = store_cad::get_weekly(&mut c, id).await?;
    match unit_target(row.unit_id) {
        Some(t) => who.require(Action::ViewReports, Some(&t))?,
        None => {
            who.require(Action::ViewReports, None)?;
            let scope = if who.is_system() {
                ListScope::All
            } else {
                policy::list_scope(&who.actor, Action::ViewReports)
            };
            if scope != ListScope::All {
                return Err(AppError::NotFound("小结".into()));
            }
        }
    }
    Ok(WeeklyView {
        facts: serde_json::from_str(&row.draft).unwrap_or_default(),
        row,
    })
}
