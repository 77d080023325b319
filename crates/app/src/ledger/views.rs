//! 常用视图: a person's saved ledger filters (name + `/matters` query string), kept without a
//! schema change in the settings table under `ledger.views.{person_id}` as a JSON list.
//!
//! A saved query string is re-validated on save: only the ledger's filter and sort parameters
//! are kept (in a fixed order, empty values and `page` dropped, anything unknown dropped), and a
//! known parameter with a malformed value is refused.

use serde::{Deserialize, Serialize};
use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::light::Light;
use taizhang_domain::matter::{SourceCategory, Urgency};
use taizhang_domain::policy::Action;
use taizhang_store::Conn;

use super::{parse_date, person_of};
use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// Most views one person keeps.
pub const MAX_VIEWS: usize = 20;
/// Longest view name, in characters.
pub const NAME_MAX_CHARS: usize = 30;
/// Longest search text kept in a view, in characters.
const Q_MAX_CHARS: usize = 100;

/// The `/matters` query-string parameters a view keeps, in the order they are written
/// (the filters of [`super::list::MatterQuery`] plus sort; never `page`).
pub const FILTER_KEYS: &[&str] = &[
    "q", "year", "unit", "leader", "source", "status", "light", "urgency", "from", "to", "overdue",
    "top", "parent", "sort", "desc",
];

/// One saved view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    pub name: String,
    /// The query string without `?` (already validated).
    pub query: String,
}

fn key_of(person_id: i64) -> String {
    format!("ledger.views.{person_id}")
}

async fn load(c: &mut Conn, key: &str) -> AppResult<Vec<SavedView>> {
    match taizhang_store::settings::find(c, key).await? {
        None => Ok(Vec::new()),
        Some(raw) => serde_json::from_str(&raw)
            .map_err(|e| AppError::Internal(format!("setting {key} is malformed: {e}"))),
    }
}

async fn store(app: &App, c: &mut Conn, key: &str, views: &[SavedView]) -> AppResult<()> {
    let raw = serde_json::to_string(views)
        .map_err(|e| AppError::Internal(format!("encoding views: {e}")))?;
    taizhang_store::settings::put(c, key, &raw, app.clock.now_ms()).await?;
    Ok(())
}

/// A view name: trimmed, 1–30 characters, no control characters.
fn clean_name(name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() {
        return Err(AppError::invalid(
            "name",
            "view_name_empty",
            "请填写视图名称",
        ));
    }
    if n.chars().count() > NAME_MAX_CHARS {
        return Err(AppError::invalid(
            "name",
            "view_name_too_long",
            format!("视图名称不能超过{NAME_MAX_CHARS}个字"),
        ));
    }
    if n.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            "view_name_control_char",
            "视图名称不能包含控制字符",
        ));
    }
    Ok(n.to_owned())
}

fn bad(key: &str, value: &str) -> AppError {
    AppError::invalid(
        "query",
        "view_query",
        format!("视图条件「{key}={value}」无效"),
    )
}

/// Whether `value` is acceptable for the filter parameter `key`.
fn value_ok(key: &str, value: &str) -> bool {
    let id = |v: &str| v.parse::<i64>().is_ok_and(|n| n > 0);
    match key {
        "q" => value.chars().count() <= Q_MAX_CHARS && !value.chars().any(char::is_control),
        "year" => value
            .parse::<i64>()
            .is_ok_and(|y| (2000..=2100).contains(&y)),
        "unit" | "leader" | "parent" => id(value),
        "source" => SourceCategory::parse(value).is_ok(),
        "status" => MatterStatus::parse(value).is_some(),
        "light" => Light::parse(value).is_some(),
        "urgency" => Urgency::parse(value).is_ok(),
        "from" | "to" => parse_date(key, value).is_ok(),
        "overdue" | "top" | "desc" => value == "1",
        "sort" => super::list::SORTS.iter().any(|(k, _)| *k == value),
        _ => false,
    }
}

/// The query string `raw` (with or without a leading `?`) reduced to the known filter
/// parameters in [`FILTER_KEYS`] order; the first of repeated parameters wins. A known parameter
/// with a malformed value is refused with code `view_query`.
pub fn normalize_query(raw: &str) -> AppResult<String> {
    let raw = raw.trim();
    let raw = raw.strip_prefix('?').unwrap_or(raw);
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for key in FILTER_KEYS {
        let Some((_, v)) = pairs.iter().find(|(k, _)| k == key) else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        if !value_ok(key, v) {
            return Err(bad(key, v));
        }
        ser.append_pair(key, v);
    }
    Ok(ser.finish())
}

/// `who`'s saved views, in the order they were saved.
pub async fn list_views(app: &App, who: &Caller) -> AppResult<Vec<SavedView>> {
    who.require(Action::ListMatters, None)?;
    let Some(person) = who.person_id else {
        return Ok(Vec::new());
    };
    let mut c = app.store.read().await?;
    load(&mut c, &key_of(person)).await
}

/// Save the filters `query` under `name` for `who`. Refused (code `view_name_taken`) when the
/// name is in use, (`view_limit`) beyond [`MAX_VIEWS`]. Returns the view as stored.
pub async fn save_view(app: &App, who: &Caller, name: &str, query: &str) -> AppResult<SavedView> {
    who.require(Action::ListMatters, None)?;
    let person = person_of(who)?;
    let view = SavedView {
        name: clean_name(name)?,
        query: normalize_query(query)?,
    };
    let key = key_of(person);
    let mut c = app.store.begin().await?;
    // The audit record first: it takes the audit head's row lock, so concurrent saves of the
    // same list are serialized before it is read (a refusal below rolls the record back).
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "ledger.view.save",
            "setting",
            &key,
            format!("name={} query={}", view.name, view.query),
        ),
    )
    .await?;
    let mut views = load(&mut c, &key).await?;
    if views.iter().any(|v| v.name == view.name) {
        return Err(AppError::invalid(
            "name",
            "view_name_taken",
            format!("已有名为「{}」的视图，请换一个名称", view.name),
        ));
    }
    if views.len() >= MAX_VIEWS {
        return Err(AppError::invalid(
            "name",
            "view_limit",
            format!("最多保存{MAX_VIEWS}个视图，请先删除不用的视图"),
        ));
    }
    views.push(view.clone());
    store(app, &mut c, &key, &views).await?;
    c.commit().await?;
    Ok(view)
}

/// Delete `who`'s view `name` (refused with code `view_not_found` when there is none).
pub async fn delete_view(app: &App, who: &Caller, name: &str) -> AppResult<()> {
    who.require(Action::ListMatters, None)?;
    let person = person_of(who)?;
    let name = name.trim();
    let key = key_of(person);
    let mut c = app.store.begin().await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "ledger.view.delete",
            "setting",
            &key,
            format!("name={name}"),
        ),
    )
    .await?;
    let mut views = load(&mut c, &key).await?;
    let before = views.len();
    views.retain(|v| v.name != name);
    if views.len() == before {
        return Err(AppError::invalid(
            "name",
            "view_not_found",
            format!("没有名为「{name}」的视图"),
        ));
    }
    store(app, &mut c, &key, &views).await?;
    c.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_keeps_known_filters_in_order_and_drops_the_rest() {
        let q = normalize_query("?page=3&status=in_progress&evil=1&q=%E8%B6%85%E6%9C%9F&overdue=1&unit=&sort=number&desc=1")
            .unwrap();
        assert_eq!(
            q,
            "q=%E8%B6%85%E6%9C%9F&status=in_progress&overdue=1&sort=number&desc=1"
        );
        assert_eq!(normalize_query("").unwrap(), "");
        assert!(normalize_query("sort=drop_table").is_err());
        assert!(normalize_query("year=abc").is_err());
        assert!(normalize_query("from=2026-13-01").is_err());
    }

    #[test]
    fn names_are_bounded() {
        assert!(clean_name("  ").is_err());
        assert!(clean_name(&"超".repeat(31)).is_err());
        assert_eq!(clean_name(" 本处超期事项 ").unwrap(), "本处超期事项");
    }
}
