//! 按类别配置预警阈值: the light thresholds (临期 window N, 序时 lag points for yellow and red)
//! per 任务来源, with a default row for categories without their own.
//!
//! Stored as one JSON value in the settings table (`ledger.light_thresholds`; absent = the
//! documented defaults of domain.md §2.3), and cached in [`App`] keyed by that value itself: every
//! use reads the one row (a primary-key lookup) and reuses the parsed table while the text is
//! unchanged, so an edit on one node is seen by every node at its next request, with no bus.
//! Lights stay derived at read time; only the thresholds they are derived with come from here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use taizhang_domain::light::{LightRules, LightTable, ThresholdError};
use taizhang_domain::matter::SourceCategory;
use taizhang_domain::policy::Action;
use taizhang_store::Conn;

use super::LedgerRules;
use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// The settings key holding the thresholds.
pub const SETTING_KEY: &str = "ledger.light_thresholds";

/// The stored shape: `{"default": {…}, "categories": {"leader_instruction": {…}}}`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    default: LightRules,
    #[serde(default)]
    categories: BTreeMap<String, LightRules>,
}

/// The table in a stored value. A value that does not parse (hand-edited) is refused.
pub fn decode(raw: &str) -> Result<LightTable, String> {
    let s: Stored = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let mut t = LightTable::new(s.default);
    for (code, rules) in s.categories {
        let c = SourceCategory::parse(&code).map_err(|e| e.to_string())?;
        t.set(c, Some(rules));
    }
    Ok(t)
}

/// The stored value of a table (categories without their own row are left out).
pub fn encode(t: &LightTable) -> String {
    let s = Stored {
        default: t.default,
        categories: SourceCategory::ALL
            .iter()
            .filter_map(|c| t.own(*c).map(|r| (c.code().to_owned(), r)))
            .collect(),
    };
    serde_json::to_string(&s).unwrap_or_default()
}

/// The ledger rules in force on this connection: the cached ones while the stored thresholds
/// are unchanged (one small query), else parsed afresh.
pub async fn rules_in(app: &App, c: &mut Conn) -> AppResult<LedgerRules> {
    let raw = taizhang_store::settings::find(c, SETTING_KEY)
        .await?
        .unwrap_or_default();
    Ok(rules_for(app, raw))
}

/// The ledger rules for the stored thresholds' text `raw` (empty when unset), cached by it.
pub(crate) fn rules_for(app: &App, raw: String) -> LedgerRules {
    if let Ok(guard) = app.caches.ledger_rules.read()
        && let Some((k, r)) = guard.as_ref()
        && *k == raw
    {
        return *r;
    }
    let mut rules = super::rules();
    if !raw.is_empty() {
        match decode(&raw) {
            Ok(t) if t.validate().is_ok() => rules.light = t,
            _ => tracing::warn!(
                key = SETTING_KEY,
                "stored light thresholds are unreadable; using the defaults"
            ),
        }
    }
    if let Ok(mut guard) = app.caches.ledger_rules.write() {
        *guard = Some((raw, rules));
    }
    rules
}

/// The thresholds for `who`: administrators (to edit them) and everyone who reads the ledger
/// (to know what a light means).
pub async fn thresholds(app: &App, who: &Caller) -> AppResult<LightTable> {
    if !who.decide(Action::ManageSettings, None).is_allowed() {
        who.require(Action::ListMatters, None)?;
    }
    let mut c = app.store.read().await?;
    Ok(rules_in(app, &mut c).await?.light)
}

/// The form field of a refused row (`{key}_n`, `{key}_yellow`, `{key}_red`).
fn refusal(category: Option<SourceCategory>, e: &ThresholdError) -> AppError {
    let key = category.map_or("default", |c| c.code());
    let label = category.map_or("默认", |c| c.label_zh());
    let (suffix, code) = match e {
        ThresholdError::WindowTooLong { .. } => ("n", "threshold_window"),
        ThresholdError::LagAbove100(_) => ("red", "threshold_lag_range"),
        ThresholdError::YellowNotBelowRed { .. } => ("yellow", "threshold_lag_order"),
    };
    AppError::invalid(&format!("{key}_{suffix}"), code, format!("{label}：{e}"))
}

fn row_text(r: Option<LightRules>) -> String {
    r.map_or_else(
        || "默认".into(),
        |r| {
            format!(
                "{}/{}/{}",
                r.yellow_within_workdays, r.lag_yellow_points, r.lag_red_points
            )
        },
    )
}

/// What changed between two tables, for the audit record: `key old→new` per changed row.
fn changes(old: &LightTable, new: &LightTable) -> Vec<String> {
    let mut out = Vec::new();
    if old.default != new.default {
        out.push(format!(
            "default {}→{}",
            row_text(Some(old.default)),
            row_text(Some(new.default))
        ));
    }
    for c in SourceCategory::ALL {
        if old.own(*c) != new.own(*c) {
            out.push(format!(
                "{} {}→{}",
                c.code(),
                row_text(old.own(*c)),
                row_text(new.own(*c))
            ));
        }
    }
    out
}

/// Replace the thresholds (系统管理员). Validated row by row (N ≤ 250 working days, yellow lag <
/// red lag ≤ 100 points); the change and its audit record commit together. Returns the changed
/// rows (empty: nothing to do, nothing written).
pub async fn set_thresholds(app: &App, who: &Caller, table: LightTable) -> AppResult<Vec<String>> {
    who.require(Action::ManageSettings, None)?;
    table.validate().map_err(|(c, e)| refusal(c, &e))?;
    let mut c = app.store.begin().await?;
    let old = rules_in(app, &mut c).await?.light;
    let changed = changes(&old, &table);
    if changed.is_empty() {
        return Ok(changed);
    }
    taizhang_store::settings::put(&mut c, SETTING_KEY, &encode(&table), app.clock.now_ms()).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "settings.light_thresholds",
            "setting",
            SETTING_KEY,
            changed.join("; "),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(changed)
}
