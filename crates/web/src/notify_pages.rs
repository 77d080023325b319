//! Notification pages: 通知渠道 (the webhook robots and mailboxes of units and people, with a
//! 发送测试 whose outcome comes from the delivery log; 系统管理员), 投递记录 (the outbox, filtered by
//! status, paged; 系统管理员 and 安全管理员), and each user's own 通知设置 (which events by which
//! channel, quiet hours, daily digest). A secret is write-only: the pages say 已设置, never show it.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::Time;
use serde::Deserialize;
use serde_json::{Value, json};
use taizhang_app::identity::SessionInfo;
use taizhang_app::notify::{
    self, DELIVERY_STATUSES, DeliveryQuery, NewTarget, SecretChange, TARGET_KINDS, TargetChange,
};
use taizhang_app::{AppError, org};
use taizhang_domain::policy::Role;
use taizhang_notify::{Channel, EventKind, Notification, PreferenceOverrides, QuietHours};
use taizhang_store::outbox::OutboxRow;

use crate::AppState;
use crate::admin_pages::RawForm;
use crate::ctx::PageCtx;
use crate::error::{denied_page, page_error};
use crate::ledger_names::Names;
use crate::session::{Web, csrf_ok};

/// Rows per page of the delivery log.
pub const LOG_PAGE: i64 = 50;

/// The webhook channels a person switches together as 「Webhook」.
pub const WEBHOOK_CHANNELS: [Channel; 4] = [
    Channel::WeCom,
    Channel::DingTalk,
    Channel::Feishu,
    Channel::Generic,
];

/// A channel's stable code (`inbox`, `email`, `wecom`, …).
pub fn channel_code(c: Channel) -> &'static str {
    c.as_str()
}

/// A channel from its stable code.
pub fn parse_channel(code: &str) -> Option<Channel> {
    [
        Channel::Inbox,
        Channel::Email,
        Channel::WeCom,
        Channel::DingTalk,
        Channel::Feishu,
        Channel::Generic,
    ]
    .into_iter()
    .find(|c| c.as_str() == code)
}

/// `HH:MM` (00:00–23:59) as a time of day.
pub fn parse_hhmm(field: &str, s: &str) -> Result<Time, AppError> {
    let bad = || AppError::invalid(field, "time", format!("时间「{s}」格式无效（应为 HH:MM）"));
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let (h, m) = (
        h.parse::<i8>().map_err(|_| bad())?,
        m.parse::<i8>().map_err(|_| bad())?,
    );
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

pub fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn kind_label(kind: &str) -> &'static str {
    TARGET_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("未知", |(_, l)| *l)
}

fn status_label(status: &str) -> &'static str {
    DELIVERY_STATUSES
        .iter()
        .find(|(k, _)| *k == status)
        .map_or("未知", |(_, l)| *l)
}

fn event_label(code: &str) -> &'static str {
    EventKind::parse(code).map_or("其他", EventKind::label)
}

fn channel_label(code: &str) -> &'static str {
    match code {
        "inbox" => "站内信",
        "email" => "邮件",
        "wecom" => "企业微信",
        "dingtalk" => "钉钉",
        "feishu" => "飞书",
        "generic" => "通用 Webhook",
        _ => "其他",
    }
}

fn scope_name(n: &Names, scope: &str, id: i64) -> String {
    if scope == "person" {
        n.person(Some(id))
    } else {
        n.unit(id)
    }
}

type Fields = BTreeMap<String, String>;

/// A target form after `error`: the named field, the message, what was typed (never the
/// secret or the CSRF token) and the status (422 on a refusal).
fn refused_form(
    error: Option<&AppError>,
    typed: &Fields,
) -> (Option<String>, Option<String>, Fields, StatusCode) {
    let (field, message) = crate::error::form_error(error);
    let mut values = typed.clone();
    values.remove("secret");
    values.remove("csrf");
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (field, message, values, status)
}

fn field<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).map_or("", String::as_str)
}

fn form_of(s: &SessionInfo, form: &RawForm) -> Option<Fields> {
    let f: Fields = form.pairs().into_iter().collect();
    csrf_ok(s, field(&f, "csrf")).then_some(f)
}

// --- 通知渠道 ---

#[derive(Debug, Default, Deserialize)]
pub struct TargetsQuery {
    /// The delivery id of a test just queued.
    #[serde(default)]
    tested: Option<i64>,
    #[serde(default)]
    saved: Option<i64>,
}

async fn targets_page(
    st: &AppState,
    s: &SessionInfo,
    flash: Option<String>,
    error: Option<&AppError>,
    typed: &Fields,
) -> Response {
    let targets = match notify::list_targets(&st.app, &s.caller).await {
        Ok(t) => t,
        Err(e) => return denied_page(st, &s.caller, "/admin/notify", &e).await,
    };
    let n = match Names::load(&st.app).await {
        Ok(n) => n,
        Err(e) => return page_error(st, &e),
    };
    let people = org::list_people(&st.app, &s.caller)
        .await
        .unwrap_or_default();
    let rows: Vec<Value> = targets
        .iter()
        .map(|t| {
            let mut v = json!(t);
            v["owner"] = json!(scope_name(&n, &t.scope, t.scope_id));
            v["kind_label"] = json!(kind_label(&t.kind));
            if let Some(l) = &t.last {
                v["last"]["status_label"] = json!(status_label(&l.status));
                v["last"]["event_label"] = json!(event_label(&l.event_kind));
            }
            v
        })
        .collect();
    let (err_field, err_msg, values, status) = refused_form(error, typed);
    let people: Vec<Value> = people
        .iter()
        .filter(|p| !p.disabled)
        .map(|p| json!({"id": p.id, "label": format!("{}（{}）", p.display_name, p.username)}))
        .collect();
    st.templates.render_status(
        status,
        "admin/notify.html",
        json!({
            "page": PageCtx::new(s, "/admin"), "targets": rows, "kinds": TARGET_KINDS,
            "units": n.units.opts, "people": people, "flash": flash,
            "err_field": err_field, "err_msg": err_msg, "values": values,
        }),
    )
}

/// `GET /admin/notify`: the targets, how their last delivery went, and the form for a new one.
pub async fn targets(
    State(st): State<AppState>,
    Web(s): Web,
    Query(q): Query<TargetsQuery>,
) -> Response {
    let flash = match (q.tested, q.saved) {
        (Some(id), _) => Some(format!(
            "测试消息已加入发送队列（投递记录 #{id}），发送结果见下表「最近投递」，稍候刷新本页查看。"
        )),
        (None, Some(_)) => Some("已保存。".to_owned()),
        _ => None,
    };
    targets_page(&st, &s, flash, None, &Fields::new()).await
}

/// `POST /admin/notify/targets`: a new target (the URL is SSRF-checked before it is saved).
pub async fn create_target(State(st): State<AppState>, Web(s): Web, form: RawForm) -> Response {
    let Some(f) = form_of(&s, &form) else {
        return page_error(&st, &AppError::Forbidden);
    };
    let scope = field(&f, "scope");
    let owner = if scope == "person" {
        field(&f, "person_id")
    } else {
        field(&f, "unit_id")
    };
    let result = match owner.trim().parse::<i64>() {
        Ok(scope_id) => {
            let t = NewTarget {
                scope: scope.to_owned(),
                scope_id,
                kind: field(&f, "kind").to_owned(),
                address: field(&f, "address").trim().to_owned(),
                secret: Some(field(&f, "secret").to_owned()).filter(|s| !s.is_empty()),
            };
            notify::save_target(&st.app, &s.caller, t).await
        }
        Err(_) => Err(AppError::invalid(
            "scope_id",
            "required",
            "请选择接收的单位或人员",
        )),
    };
    match result {
        Ok(id) => Redirect::to(&format!("/admin/notify?saved={id}")).into_response(),
        Err(e @ AppError::Invalid { .. }) => targets_page(&st, &s, None, Some(&e), &f).await,
        Err(e) => denied_page(&st, &s.caller, "/admin/notify/targets", &e).await,
    }
}

async fn edit_page(
    st: &AppState,
    s: &SessionInfo,
    id: i64,
    error: Option<&AppError>,
    typed: &Fields,
) -> Response {
    let t = match notify::get_target(&st.app, &s.caller, id).await {
        Ok(t) => t,
        Err(e) => return denied_page(st, &s.caller, "/admin/notify/targets", &e).await,
    };
    let n = match Names::load(&st.app).await {
        Ok(n) => n,
        Err(e) => return page_error(st, &e),
    };
    let (err_field, err_msg, values, status) = refused_form(error, typed);
    st.templates.render_status(
        status,
        "admin/notify_target.html",
        json!({
            "page": PageCtx::new(s, "/admin"), "t": t, "kinds": TARGET_KINDS,
            "owner": scope_name(&n, &t.scope, t.scope_id), "kind_label": kind_label(&t.kind),
            "err_field": err_field, "err_msg": err_msg, "values": values,
            "typed": !typed.is_empty(),
        }),
    )
}

/// `GET /admin/notify/targets/{id}`: edit one target.
pub async fn edit_target(State(st): State<AppState>, Web(s): Web, Path(id): Path<i64>) -> Response {
    edit_page(&st, &s, id, None, &Fields::new()).await
}

/// `POST /admin/notify/targets/{id}`: save an edit; an empty address or secret keeps the stored one.
pub async fn update_target(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    form: RawForm,
) -> Response {
    let Some(f) = form_of(&s, &form) else {
        return page_error(&st, &AppError::Forbidden);
    };
    let secret = if field(&f, "clear_secret") == "1" {
        SecretChange::Clear
    } else if field(&f, "secret").is_empty() {
        SecretChange::Keep
    } else {
        SecretChange::Set(field(&f, "secret").to_owned())
    };
    let ch = TargetChange {
        kind: field(&f, "kind").to_owned(),
        address: Some(field(&f, "address").trim().to_owned()).filter(|a| !a.is_empty()),
        secret,
        enabled: field(&f, "enabled") == "1",
    };
    match notify::update_target(&st.app, &s.caller, id, ch).await {
        Ok(()) => Redirect::to(&format!("/admin/notify?saved={id}")).into_response(),
        Err(e @ AppError::Invalid { .. }) => edit_page(&st, &s, id, Some(&e), &f).await,
        Err(e) => denied_page(&st, &s.caller, "/admin/notify/targets", &e).await,
    }
}

async fn switch(st: AppState, s: SessionInfo, id: i64, form: RawForm, on: bool) -> Response {
    if form_of(&s, &form).is_none() {
        return page_error(&st, &AppError::Forbidden);
    }
    match notify::set_target_enabled(&st.app, &s.caller, id, on).await {
        Ok(()) => Redirect::to(&format!("/admin/notify?saved={id}")).into_response(),
        Err(e) => denied_page(&st, &s.caller, "/admin/notify/targets", &e).await,
    }
}

/// `POST /admin/notify/targets/{id}/enable`.
pub async fn enable_target(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    form: RawForm,
) -> Response {
    switch(st, s, id, form, true).await
}

/// `POST /admin/notify/targets/{id}/disable`.
pub async fn disable_target(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    form: RawForm,
) -> Response {
    switch(st, s, id, form, false).await
}

/// `POST /admin/notify/targets/{id}/test`: queue a test message; the page shows its outcome.
pub async fn test_target(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    form: RawForm,
) -> Response {
    if form_of(&s, &form).is_none() {
        return page_error(&st, &AppError::Forbidden);
    }
    match notify::send_test(&st.app, &s.caller, id).await {
        Ok(out) => Redirect::to(&format!("/admin/notify?tested={out}")).into_response(),
        Err(e @ AppError::Invalid { .. }) => {
            targets_page(&st, &s, None, Some(&e), &Fields::new()).await
        }
        Err(e) => denied_page(&st, &s.caller, "/admin/notify/targets/test", &e).await,
    }
}

// --- 投递记录 ---

#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    before: String,
}

fn title_of(o: &OutboxRow) -> String {
    serde_json::from_str::<Notification>(&o.payload).map_or_else(|_| String::new(), |n| n.title)
}

/// `GET /admin/deliveries`: the outbox, newest first: status, attempts, last error, next retry.
pub async fn deliveries(
    State(st): State<AppState>,
    Web(s): Web,
    Query(q): Query<LogQuery>,
) -> Response {
    let status = q.status.trim();
    let query = DeliveryQuery {
        status: Some(status.to_owned()).filter(|s| !s.is_empty()),
        target_id: q.target.trim().parse().ok(),
        before: q.before.trim().parse().ok(),
        limit: LOG_PAGE,
    };
    let (rows, error) = match notify::deliveries(&st.app, &s.caller, &query).await {
        Ok(r) => (r, None),
        Err(e @ AppError::Invalid { .. }) => (Vec::new(), Some(e.to_string())),
        Err(e) => return denied_page(&st, &s.caller, "/admin/deliveries", &e).await,
    };
    let n = match Names::load(&st.app).await {
        Ok(n) => n,
        Err(e) => return page_error(&st, &e),
    };
    let next = (i64::try_from(rows.len()).unwrap_or(i64::MAX) >= LOG_PAGE)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let view: Vec<Value> = rows
        .iter()
        .map(|o| {
            let to = match (o.person_id, o.unit_id) {
                (Some(p), _) => n.person(Some(p)),
                (None, Some(u)) => n.unit(u),
                _ => String::new(),
            };
            json!({
                "id": o.id, "created_at": o.created_at, "event": event_label(&o.event_kind),
                "title": title_of(o), "channel": channel_label(&o.channel), "to": to,
                "address": if o.channel == "email" { o.address.as_str() } else { "" },
                "target_id": o.target_id,
                "status": o.status, "status_label": status_label(&o.status), "attempts": o.attempts,
                "last_error": o.last_error, "sent_at": o.sent_at,
                "next_at": (o.status == "pending").then_some(o.next_attempt_at),
                "matter_id": o.matter_id,
            })
        })
        .collect();
    st.templates.render(
        "admin/deliveries.html",
        json!({
            "page": PageCtx::new(&s, "/admin"), "rows": view, "statuses": DELIVERY_STATUSES,
            "status": status, "target": q.target.trim(), "next": next, "error": error,
            "first_page": query.before.is_none(),
        }),
    )
}

// --- 通知设置 (each user) ---

/// The events and their current channels as the page shows them.
fn prefs_rows(p: &notify::MyPrefs) -> Vec<Value> {
    notify::preference_events()
        .into_iter()
        .map(|k| {
            let set = p.effective.channels_for(k);
            json!({
                "code": k.as_str(), "label": k.label(), "urgent": k.is_urgent(),
                "email": set.contains(&Channel::Email),
                "webhook": WEBHOOK_CHANNELS.iter().any(|c| set.contains(c)),
                "own": p.overrides.channels.contains_key(&k),
            })
        })
        .collect()
}

/// The settings form as it was submitted (shown again, as typed, after a refusal).
fn typed_prefs(ctx: &mut Value, f: &[(String, String)]) {
    let has = |k: &str, v: &str| f.iter().any(|(a, b)| a == k && b == v);
    let get = |k: &str| {
        f.iter()
            .find(|(a, _)| a == k)
            .map_or("", |(_, b)| b.as_str())
    };
    if let Some(rows) = ctx["rows"].as_array_mut() {
        for row in rows {
            let key = format!("ch_{}", row["code"].as_str().unwrap_or(""));
            row["email"] = json!(has(&key, "email"));
            row["webhook"] = json!(has(&key, "webhook"));
        }
    }
    ctx["quiet_on"] = json!(get("quiet_on") == "1");
    ctx["quiet_start"] = json!(get("quiet_start"));
    ctx["quiet_end"] = json!(get("quiet_end"));
    ctx["urgent_bypass"] = json!(get("urgent_bypass") == "1");
    ctx["digest"] = json!(get("digest") == "1");
}

/// The 通知设置 page: the stored settings, or with `typed` the form as submitted.
async fn prefs_page(
    st: &AppState,
    s: &SessionInfo,
    flash: Option<&str>,
    error: Option<&AppError>,
    typed: Option<&[(String, String)]>,
) -> Response {
    let p = match notify::my_prefs(&st.app, &s.caller).await {
        Ok(p) => p,
        Err(e) => return denied_page(st, &s.caller, "/account/notifications", &e).await,
    };
    let q = p.effective.quiet_hours;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut ctx = json!({
        "page": PageCtx::new(s, "/account"), "rows": prefs_rows(&p),
        "quiet_on": q.is_some_and(|q| q.start != q.end),
        "quiet_start": hhmm(q.map_or(QuietHours::default().start, |q| q.start)),
        "quiet_end": hhmm(q.map_or(QuietHours::default().end, |q| q.end)),
        "urgent_bypass": q.is_none_or(|q| q.urgent_bypass),
        "digest": p.effective.daily_digest,
        "customised": p.overrides != PreferenceOverrides::default(),
        "email": p.email, "own_targets": p.own_targets,
        "can_save": !s.caller.has_role(Role::Inspector),
        "flash": flash, "error": error.map(ToString::to_string),
    });
    if let Some(f) = typed {
        typed_prefs(&mut ctx, f);
    }
    st.templates
        .render_status(status, "account_notifications.html", ctx)
}

/// The overrides a submitted settings form asks for: every event explicitly, quiet hours, digest.
fn overrides_of(f: &[(String, String)]) -> Result<PreferenceOverrides, AppError> {
    let has = |k: &str, v: &str| f.iter().any(|(a, b)| a == k && b == v);
    let get = |k: &str| {
        f.iter()
            .find(|(a, _)| a == k)
            .map_or("", |(_, b)| b.as_str())
    };
    let mut channels = BTreeMap::new();
    for k in notify::preference_events() {
        let key = format!("ch_{}", k.as_str());
        let mut set = BTreeSet::from([Channel::Inbox]);
        if has(&key, "email") {
            set.insert(Channel::Email);
        }
        if has(&key, "webhook") {
            set.extend(WEBHOOK_CHANNELS);
        }
        channels.insert(k, set);
    }
    let quiet = if get("quiet_on") == "1" {
        let start = parse_hhmm("quiet_start", get("quiet_start"))?;
        let end = parse_hhmm("quiet_end", get("quiet_end"))?;
        if start == end {
            return Err(AppError::invalid(
                "quiet_end",
                "quiet_empty",
                "免打扰的开始和结束时间不能相同",
            ));
        }
        Some(QuietHours {
            start,
            end,
            urgent_bypass: get("urgent_bypass") == "1",
        })
    } else {
        None
    };
    Ok(PreferenceOverrides {
        channels,
        quiet_hours: Some(quiet),
        daily_digest: Some(get("digest") == "1"),
    })
}

/// `POST /account/notifications`: save my settings, or (`reset=1`) go back to the defaults.
pub async fn save_my_prefs(State(st): State<AppState>, Web(s): Web, form: RawForm) -> Response {
    let pairs = form.pairs();
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    if !csrf_ok(&s, csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let reset = pairs.iter().any(|(k, v)| k == "reset" && v == "1");
    let prefs = if reset {
        Ok(PreferenceOverrides::default())
    } else {
        overrides_of(&pairs)
    };
    let r = match prefs {
        Ok(p) => notify::set_my_prefs(&st.app, &s.caller, &p).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Redirect::to("/account/notifications?saved=1").into_response(),
        Err(e @ AppError::Invalid { .. }) => {
            prefs_page(&st, &s, None, Some(&e), Some(pairs.as_slice())).await
        }
        Err(e) => denied_page(&st, &s.caller, "/account/notifications", &e).await,
    }
}

/// `GET /account/notifications?saved=1` shows a confirmation.
#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: String,
}

/// `GET /account/notifications`, with the confirmation after a save.
pub async fn my_prefs_page(
    State(st): State<AppState>,
    Web(s): Web,
    Query(q): Query<SavedQuery>,
) -> Response {
    let flash = (q.saved == "1").then_some("通知设置已保存。");
    prefs_page(&st, &s, flash, None, None).await
}
