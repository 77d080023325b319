//! Notifications over the API: the webhook and mailbox targets (系统管理员: list, create, read,
//! update, delete, send a test), the caller's own preferences (GET/PUT), and the delivery log
//! (系统管理员, 安全管理员). Secrets are write-only; a robot URL is answered as a hint only,
//! because its key or access token is part of it.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use taizhang_app::AppError;
use taizhang_app::notify::{
    self, DeliveryQuery, MyPrefs, NewTarget, SecretChange, TargetChange, TargetView,
};
use taizhang_notify::{EventKind, Notification, PreferenceOverrides, Preferences, QuietHours};
use taizhang_store::outbox::OutboxRow;
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiJson, ApiQuery, PathId};
use super::types::{Done, ErrorBody};
use super::{error_response, json_ok};
use crate::AppState;
use crate::notify_pages::{channel_code, hhmm, parse_channel, parse_hhmm};
use crate::session::Api;

/// How the newest delivery to a target went.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastDeliveryOut {
    pub id: i64,
    pub event_kind: String,
    /// `pending`, `sending`, `sent`, `failed` or `digest`.
    pub status: String,
    pub attempts: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub next_attempt_at: i64,
    pub last_error: String,
}

/// A webhook robot or mailbox. The secret is never answered, only whether one is set.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetOut {
    pub id: i64,
    /// `unit` or `person`.
    pub scope: String,
    pub scope_id: i64,
    /// `wecom`, `dingtalk`, `feishu`, `generic` or `email`.
    pub kind: String,
    /// The mailbox, or the URL's origin and last four characters.
    pub address_hint: String,
    pub has_secret: bool,
    pub enabled: bool,
    pub last_delivery: Option<LastDeliveryOut>,
}

impl From<TargetView> for TargetOut {
    fn from(t: TargetView) -> TargetOut {
        TargetOut {
            id: t.id,
            scope: t.scope,
            scope_id: t.scope_id,
            kind: t.kind,
            address_hint: t.address_hint,
            has_secret: t.has_secret,
            enabled: t.enabled,
            last_delivery: t.last.map(|l| LastDeliveryOut {
                id: l.id,
                event_kind: l.event_kind,
                status: l.status,
                attempts: l.attempts,
                created_at: l.created_at,
                sent_at: l.sent_at,
                next_attempt_at: l.next_attempt_at,
                last_error: l.last_error,
            }),
        }
    }
}

/// A new target. Webhook URLs are SSRF-checked (`url_blocked_address`, `url_internal_host`, …).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetIn {
    /// `unit` or `person`.
    pub scope: String,
    pub scope_id: i64,
    /// `wecom`, `dingtalk`, `feishu`, `generic` or `email`.
    pub kind: String,
    /// The robot URL or the mailbox.
    pub address: String,
    /// Signing secret (required for `generic`; optional 加签 for DingTalk and Feishu).
    #[serde(default)]
    pub secret: Option<String>,
}

/// A change of a target (its scope stays). Absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetUpdateIn {
    #[serde(default)]
    pub kind: Option<String>,
    /// A new URL or mailbox (required when the kind changes).
    #[serde(default)]
    pub address: Option<String>,
    /// A new secret.
    #[serde(default)]
    pub secret: Option<String>,
    /// Remove the stored secret.
    #[serde(default)]
    pub clear_secret: bool,
    #[serde(default)]
    pub enabled: Option<bool>,
}

fn target_response(r: Result<TargetView, AppError>, status: StatusCode) -> Response {
    match r {
        Ok(t) => (status, axum::Json(TargetOut::from(t))).into_response(),
        Err(e) => error_response(&e),
    }
}

/// Every target with its newest delivery (系统管理员).
#[utoipa::path(get, path = "/api/v1/notify/targets", tag = "notify",
    responses((status = 200, body = Vec<TargetOut>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_targets(State(st): State<AppState>, Api(who): Api) -> Response {
    match notify::list_targets(&st.app, &who).await {
        Ok(v) => json_ok(&v.into_iter().map(TargetOut::from).collect::<Vec<_>>()),
        Err(e) => error_response(&e),
    }
}

/// Add a target (系统管理员).
#[utoipa::path(post, path = "/api/v1/notify/targets", tag = "notify", request_body = TargetIn,
    responses((status = 201, body = TargetOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_target(
    State(st): State<AppState>,
    Api(who): Api,
    body: ApiJson<TargetIn>,
) -> Response {
    let b = body.value;
    let t = NewTarget {
        scope: b.scope,
        scope_id: b.scope_id,
        kind: b.kind,
        address: b.address.trim().to_owned(),
        secret: b.secret.filter(|s| !s.is_empty()),
    };
    match notify::save_target(&st.app, &who, t).await {
        Ok(id) => target_response(
            notify::get_target(&st.app, &who, id).await,
            StatusCode::CREATED,
        ),
        Err(e) => error_response(&e),
    }
}

/// One target (系统管理员).
#[utoipa::path(get, path = "/api/v1/notify/targets/{id}", tag = "notify",
    params(("id" = i64, Path, description = "Target id")),
    responses((status = 200, body = TargetOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_target(State(st): State<AppState>, Api(who): Api, PathId(id): PathId) -> Response {
    target_response(notify::get_target(&st.app, &who, id).await, StatusCode::OK)
}

/// Change a target (系统管理员); a new URL is SSRF-checked.
#[utoipa::path(put, path = "/api/v1/notify/targets/{id}", tag = "notify",
    request_body = TargetUpdateIn, params(("id" = i64, Path, description = "Target id")),
    responses((status = 200, body = TargetOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_target(
    State(st): State<AppState>,
    Api(who): Api,
    PathId(id): PathId,
    body: ApiJson<TargetUpdateIn>,
) -> Response {
    let b = body.value;
    let current = match notify::get_target(&st.app, &who, id).await {
        Ok(t) => t,
        Err(e) => return error_response(&e),
    };
    let secret = match (b.clear_secret, b.secret) {
        (true, _) => SecretChange::Clear,
        (false, Some(s)) if !s.is_empty() => SecretChange::Set(s),
        _ => SecretChange::Keep,
    };
    let ch = TargetChange {
        kind: b.kind.unwrap_or(current.kind),
        address: b.address.filter(|a| !a.trim().is_empty()),
        secret,
        enabled: b.enabled.unwrap_or(current.enabled),
    };
    match notify::update_target(&st.app, &who, id, ch).await {
        Ok(()) => target_response(notify::get_target(&st.app, &who, id).await, StatusCode::OK),
        Err(e) => error_response(&e),
    }
}

/// Remove a target (系统管理员); its past deliveries stay in the log.
#[utoipa::path(delete, path = "/api/v1/notify/targets/{id}", tag = "notify",
    params(("id" = i64, Path, description = "Target id")),
    responses((status = 200, body = Done), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_target(
    State(st): State<AppState>,
    Api(who): Api,
    PathId(id): PathId,
) -> Response {
    match notify::delete_target(&st.app, &who, id).await {
        Ok(()) => json_ok(&Done {
            id: Some(id),
            number: None,
        }),
        Err(e) => error_response(&e),
    }
}

/// Queue a test message to a target (系统管理员); `id` of the answer is its delivery-log id.
#[utoipa::path(post, path = "/api/v1/notify/targets/{id}/test", tag = "notify",
    params(("id" = i64, Path, description = "Target id")),
    responses((status = 200, body = Done), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn test_target(
    State(st): State<AppState>,
    Api(who): Api,
    PathId(id): PathId,
) -> Response {
    match notify::send_test(&st.app, &who, id).await {
        Ok(out) => json_ok(&Done {
            id: Some(out),
            number: None,
        }),
        Err(e) => error_response(&e),
    }
}

/// Quiet hours in China time; `start == end` is refused.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietOut {
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`.
    pub end: String,
    /// 已超期 and 督办单下发 are sent even inside the window.
    pub urgent_bypass: bool,
}

/// Preferences as they apply: channels by event code (`inbox` is always among them).
#[derive(Debug, Serialize, ToSchema)]
pub struct PrefsView {
    /// Event code → channel codes (`inbox`, `email`, `wecom`, `dingtalk`, `feishu`, `generic`).
    pub channels: BTreeMap<String, Vec<String>>,
    /// `null`: no quiet hours.
    pub quiet_hours: Option<QuietOut>,
    pub daily_digest: bool,
}

/// The caller's own changes; what is absent comes from the unit and system defaults.
#[derive(Debug, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PrefsIn {
    /// Event code → channel codes, for the events the caller decides themselves.
    #[serde(default)]
    pub channels: BTreeMap<String, Vec<String>>,
    /// `inherit` (default), `off` or `on` (then `quiet_hours` is required).
    #[serde(default)]
    pub quiet_mode: Option<String>,
    #[serde(default)]
    pub quiet_hours: Option<QuietOut>,
    /// `null`: inherit.
    #[serde(default)]
    pub daily_digest: Option<bool>,
}

/// The caller's notification settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrefsOut {
    pub effective: PrefsView,
    /// Without the caller's own changes (unit and system defaults).
    pub inherited: PrefsView,
    pub overrides: PrefsIn,
    /// The events one may choose channels for, with their Chinese names.
    pub events: BTreeMap<String, String>,
    /// The mailbox email goes to (empty: none on file).
    pub email: String,
}

fn quiet_out(q: &QuietHours) -> QuietOut {
    QuietOut {
        start: hhmm(q.start),
        end: hhmm(q.end),
        urgent_bypass: q.urgent_bypass,
    }
}

fn codes(set: &BTreeSet<taizhang_notify::Channel>) -> Vec<String> {
    set.iter().map(|c| channel_code(*c).to_owned()).collect()
}

fn view(p: &Preferences) -> PrefsView {
    PrefsView {
        channels: notify::preference_events()
            .into_iter()
            .map(|k| (k.as_str().to_owned(), codes(&p.channels_for(k))))
            .collect(),
        quiet_hours: p.quiet_hours.as_ref().map(quiet_out),
        daily_digest: p.daily_digest,
    }
}

fn prefs_out(p: MyPrefs) -> PrefsOut {
    let o = &p.overrides;
    PrefsOut {
        effective: view(&p.effective),
        inherited: view(&p.inherited),
        overrides: PrefsIn {
            channels: o
                .channels
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), codes(v)))
                .collect(),
            quiet_mode: Some(
                match o.quiet_hours {
                    None => "inherit",
                    Some(None) => "off",
                    Some(Some(_)) => "on",
                }
                .to_owned(),
            ),
            quiet_hours: o.quiet_hours.flatten().as_ref().map(quiet_out),
            daily_digest: o.daily_digest,
        },
        events: notify::preference_events()
            .into_iter()
            .map(|k| (k.as_str().to_owned(), k.label().to_owned()))
            .collect(),
        email: p.email,
    }
}

fn overrides_of(b: PrefsIn) -> Result<PreferenceOverrides, AppError> {
    let events = notify::preference_events();
    let mut channels = BTreeMap::new();
    for (k, list) in b.channels {
        let kind = EventKind::parse(&k)
            .filter(|e| events.contains(e))
            .ok_or_else(|| {
                AppError::invalid("channels", "unknown_event", format!("未知的事件「{k}」"))
            })?;
        let mut set = BTreeSet::from([taizhang_notify::Channel::Inbox]);
        for c in list {
            set.insert(parse_channel(&c).ok_or_else(|| {
                AppError::invalid(
                    "channels",
                    "unknown_channel",
                    format!(
                        "未知的渠道「{c}」（应为 inbox、email、wecom、dingtalk、feishu、generic）"
                    ),
                )
            })?);
        }
        channels.insert(kind, set);
    }
    let quiet_hours = match (b.quiet_mode.as_deref().unwrap_or("inherit"), b.quiet_hours) {
        ("inherit", None) => None,
        ("off", None) => Some(None),
        ("on", Some(q)) => {
            let start = parse_hhmm("quiet_hours.start", &q.start)?;
            let end = parse_hhmm("quiet_hours.end", &q.end)?;
            if start == end {
                return Err(AppError::invalid(
                    "quiet_hours",
                    "quiet_empty",
                    "免打扰的开始和结束时间不能相同",
                ));
            }
            Some(Some(QuietHours {
                start,
                end,
                urgent_bypass: q.urgent_bypass,
            }))
        }
        _ => {
            return Err(AppError::invalid(
                "quiet_mode",
                "quiet_mode",
                "quiet_mode 应为 inherit、off 或 on；为 on 时须给出 quiet_hours，其余情况不能给出",
            ));
        }
    };
    Ok(PreferenceOverrides {
        channels,
        quiet_hours,
        daily_digest: b.daily_digest,
    })
}

/// The caller's notification settings.
#[utoipa::path(get, path = "/api/v1/notify/prefs", tag = "notify",
    responses((status = 200, body = PrefsOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn my_prefs(State(st): State<AppState>, Api(who): Api) -> Response {
    match notify::my_prefs(&st.app, &who).await {
        Ok(p) => json_ok(&prefs_out(p)),
        Err(e) => error_response(&e),
    }
}

/// Replace the caller's own changes (`{}` goes back to the defaults).
#[utoipa::path(put, path = "/api/v1/notify/prefs", tag = "notify", request_body = PrefsIn,
    responses((status = 200, body = PrefsOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_my_prefs(
    State(st): State<AppState>,
    Api(who): Api,
    body: ApiJson<PrefsIn>,
) -> Response {
    let prefs = match overrides_of(body.value) {
        Ok(p) => p,
        Err(e) => return error_response(&e),
    };
    if let Err(e) = notify::set_my_prefs(&st.app, &who, &prefs).await {
        return error_response(&e);
    }
    match notify::my_prefs(&st.app, &who).await {
        Ok(p) => json_ok(&prefs_out(p)),
        Err(e) => error_response(&e),
    }
}

/// `?status=failed&target_id=3&before=ID&limit=N`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// `pending`, `sending`, `sent`, `failed` or `digest`.
    status: Option<String>,
    target_id: Option<i64>,
    /// Deliveries older than this id (paging).
    before: Option<i64>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// One delivery of the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    pub id: i64,
    pub event_kind: String,
    pub title: String,
    pub person_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub matter_id: Option<i64>,
    pub channel: String,
    pub target_id: Option<i64>,
    /// The mailbox for email; empty for webhooks.
    pub address: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub last_error: String,
}

/// A page of the delivery log; `next_before` continues it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryOut>,
    pub next_before: Option<i64>,
}

fn delivery_out(o: OutboxRow) -> DeliveryOut {
    let title = serde_json::from_str::<Notification>(&o.payload)
        .map_or_else(|_| String::new(), |n| n.title);
    let address = if o.channel == "email" {
        o.address
    } else {
        String::new()
    };
    DeliveryOut {
        id: o.id,
        event_kind: o.event_kind,
        title,
        person_id: o.person_id,
        unit_id: o.unit_id,
        matter_id: o.matter_id,
        channel: o.channel,
        target_id: o.target_id,
        address,
        status: o.status,
        attempts: o.attempts,
        next_attempt_at: o.next_attempt_at,
        created_at: o.created_at,
        sent_at: o.sent_at,
        last_error: o.last_error,
    }
}

/// The delivery log, newest first (系统管理员, 安全管理员).
#[utoipa::path(get, path = "/api/v1/notify/deliveries", tag = "notify", params(DeliveryParams),
    responses((status = 200, body = DeliveryPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn deliveries(
    State(st): State<AppState>,
    Api(who): Api,
    ApiQuery(p): ApiQuery<DeliveryParams>,
) -> Response {
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        let e = AppError::invalid("limit", "limit_out_of_range", "limit 须为 1–200");
        return error_response(&e);
    }
    let q = DeliveryQuery {
        status: p.status,
        target_id: p.target_id,
        before: p.before,
        limit,
    };
    match notify::deliveries(&st.app, &who, &q).await {
        Ok(rows) => {
            let next_before = (i64::try_from(rows.len()).unwrap_or(i64::MAX) >= limit)
                .then(|| rows.last().map(|r| r.id))
                .flatten();
            json_ok(&DeliveryPage {
                items: rows.into_iter().map(delivery_out).collect(),
                next_before,
            })
        }
        Err(e) => error_response(&e),
    }
}
