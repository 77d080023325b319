//! Notifications (issue 7): [`enqueue`] writes the in-app inbox lines and the outbox rows of an
//! event inside the caller's transaction, so a notification exists exactly when its event
//! committed; the ledger hooks ([`on_matter_step`], [`on_daily_check`], [`on_cadence_ready`])
//! decide who hears what. Also the inbox, targets, preferences and delivery-log use cases.
//! Sending is the outbox worker's job (`taizhang-jobs`), through `taizhang-notify`.

use serde::Serialize;
use taizhang_domain::policy::Action;
use taizhang_notify::{
    AllowList, Channel, EventKind, Notification, PreferenceOverrides, Preferences,
    validate_outbound_url,
};
use taizhang_store::Conn;
use taizhang_store::matters::{self as store_matters, MatterRow};
use taizhang_store::outbox::{self as store_out, InboxRow, OutboxRow, TargetRow};

use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// Setting (one entry per line) that lets administrators allow internal webhook hosts or ranges.
pub const ALLOW_LIST_SETTING: &str = "notify.allow_list";

/// Who hears about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Recipient {
    /// A person: inbox, their mailbox and their own targets.
    Person(i64),
    /// A unit: the unit's group robots and mailboxes.
    Unit(i64),
}

fn channel_of(kind: &str) -> Option<Channel> {
    Some(match kind {
        "email" => Channel::Email,
        "wecom" => Channel::WeCom,
        "dingtalk" => Channel::DingTalk,
        "feishu" => Channel::Feishu,
        "generic" => Channel::Generic,
        _ => return None,
    })
}

async fn overrides(c: &mut Conn, scope: &str, id: i64) -> AppResult<Option<PreferenceOverrides>> {
    Ok(store_out::find_prefs(c, scope, id)
        .await?
        .and_then(|j| serde_json::from_str(&j).ok()))
}

async fn prefs_for(c: &mut Conn, unit: Option<i64>, person: Option<i64>) -> AppResult<Preferences> {
    let system = overrides(c, "system", 0).await?;
    let base = Preferences::resolve(&Preferences::default(), system.as_ref(), None);
    let u = match unit {
        Some(u) => overrides(c, "unit", u).await?,
        None => None,
    };
    let p = match person {
        Some(p) => overrides(c, "person", p).await?,
        None => None,
    };
    Ok(Preferences::resolve(&base, u.as_ref(), p.as_ref()))
}

fn new_key() -> String {
    let b: [u8; 16] = rand::random();
    format!("tzd_{}", hex::encode(b))
}

struct Out<'a> {
    n: &'a Notification,
    payload: &'a str,
    matter_id: Option<i64>,
    now: i64,
}

async fn queue(
    c: &mut Conn,
    o: &Out<'_>,
    prefs: &Preferences,
    who: (Option<i64>, Option<i64>),
    channel: Channel,
    target: Option<i64>,
    address: &str,
) -> AppResult<()> {
    if !prefs.wants(o.n.event, channel) {
        return Ok(());
    }
    let digest = prefs.defers_to_digest(o.n.event, channel);
    let row = OutboxRow {
        id: 0,
        delivery_key: new_key(),
        event_kind: o.n.event.as_str().into(),
        person_id: who.0,
        unit_id: who.1,
        matter_id: o.matter_id,
        channel: channel.as_str().into(),
        target_id: target,
        address: address.into(),
        payload: o.payload.into(),
        status: if digest { "digest" } else { "pending" }.into(),
        attempts: 0,
        next_attempt_at: prefs.next_allowed_ms(o.n.event, o.now),
        created_at: o.now,
        sent_at: None,
        last_error: String::new(),
    };
    store_out::insert_outbox(c, &row).await?;
    Ok(())
}

/// Write `n` for `to` inside the caller's transaction: an inbox line per person, and an outbox
/// row per wanted channel and target (deferred past quiet hours, or held for the digest).
pub async fn enqueue(
    app: &App,
    c: &mut Conn,
    to: &[Recipient],
    n: &Notification,
    matter_id: Option<i64>,
) -> AppResult<()> {
    let now = app.clock.now_ms();
    let payload =
        serde_json::to_string(n).map_err(|e| AppError::Internal(format!("notification: {e}")))?;
    let o = Out {
        n,
        payload: &payload,
        matter_id,
        now,
    };
    let mut seen = std::collections::BTreeSet::new();
    for r in to {
        if !seen.insert(*r) {
            continue;
        }
        match *r {
            Recipient::Person(p) => {
                let Some(person) = taizhang_store::people::find_person(c, p).await? else {
                    continue;
                };
                if person.disabled {
                    continue;
                }
                let prefs = prefs_for(c, Some(person.unit_id), Some(p)).await?;
                let line = InboxRow {
                    id: 0,
                    person_id: p,
                    event_kind: n.event.as_str().into(),
                    title: n.title.clone(),
                    body: n.body.clone(),
                    link: n.link.clone(),
                    matter_id,
                    created_at: now,
                    read_at: None,
                };
                store_out::insert_inbox(c, &line).await?;
                if person.email.contains('@') {
                    queue(
                        c,
                        &o,
                        &prefs,
                        (Some(p), None),
                        Channel::Email,
                        None,
                        &person.email,
                    )
                    .await?;
                }
                for t in store_out::targets_for(c, None, Some(p)).await? {
                    if let Some(ch) = channel_of(&t.kind) {
                        let addr = if ch == Channel::Email {
                            t.address.as_str()
                        } else {
                            ""
                        };
                        queue(c, &o, &prefs, (Some(p), None), ch, Some(t.id), addr).await?;
                    }
                }
            }
            Recipient::Unit(u) => {
                let prefs = prefs_for(c, Some(u), None).await?;
                for t in store_out::targets_for(c, Some(u), None).await? {
                    if let Some(ch) = channel_of(&t.kind) {
                        let addr = if ch == Channel::Email {
                            t.address.as_str()
                        } else {
                            ""
                        };
                        queue(c, &o, &prefs, (None, Some(u)), ch, Some(t.id), addr).await?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn matter_note(event: EventKind, m: &MatterRow, body: String) -> Notification {
    Notification {
        event,
        title: m.title.clone(),
        body,
        link: Some(format!("/matters/{}", m.id)),
        matter_number: Some(m.number.clone()),
    }
}

/// The ledger hook in `Step::finish`: the steps people must hear about, to the lead unit and the
/// handlers (交办, 进展被退回, 延期审批结果, 督办单下发).
pub async fn on_matter_step(
    app: &App,
    c: &mut Conn,
    m: &MatterRow,
    kind: &str,
    note: &str,
) -> AppResult<()> {
    let (event, body) = match kind {
        "approve" => (
            EventKind::Assigned,
            format!(
                "事项已交办，办理时限：{}",
                m.deadline.as_deref().unwrap_or("无")
            ),
        ),
        "return_progress" => (EventKind::ReportReturned, format!("进展报告被退回：{note}")),
        "approve_extension" | "reject_extension" => (
            EventKind::ExtensionDecided,
            if kind == "approve_extension" {
                format!("延期申请已批准：{note}")
            } else {
                format!("延期申请未获批准：{note}")
            },
        ),
        "issue_notice" => (EventKind::NoticeIssued, format!("已下发督办单：{note}")),
        _ => return Ok(()),
    };
    let mut to = vec![Recipient::Unit(m.lead_unit_id)];
    to.extend(
        store_matters::handlers(c, m.id)
            .await?
            .into_iter()
            .map(Recipient::Person),
    );
    enqueue(app, c, &to, &matter_note(event, m, body), Some(m.id)).await
}

/// The daily-check hook: each unit with items hears that its list is ready; handlers and the
/// lead unit of a matter hear about it on the day it falls due, enters the 临期 window or becomes
/// overdue (not every day after).
pub async fn on_daily_check(
    app: &App,
    c: &mut Conn,
    day: &str,
    items: &[(i64, i64, &'static str)],
    fresh: &[(i64, i64, &'static str)],
) -> AppResult<()> {
    let mut units = std::collections::BTreeMap::<i64, usize>::new();
    for (unit, _, _) in items {
        *units.entry(*unit).or_default() += 1;
    }
    // Per matter only when it crosses a line today; every day's full list goes to the unit.
    for (unit, matter_id, cat) in fresh {
        let event = match *cat {
            "overdue" => EventKind::Overdue,
            "due_soon" | "due_today" => EventKind::DueSoon,
            _ => continue,
        };
        let m = store_matters::get(c, *matter_id).await?;
        let mut to = vec![Recipient::Unit(*unit)];
        to.extend(
            store_matters::handlers(c, m.id)
                .await?
                .into_iter()
                .map(Recipient::Person),
        );
        let body = format!("办理时限：{}", m.deadline.as_deref().unwrap_or("无"));
        enqueue(app, c, &to, &matter_note(event, &m, body), Some(m.id)).await?;
    }
    for (unit, n) in units {
        let note = Notification {
            event: EventKind::DailyCheckReady,
            title: format!("{day} 日清查"),
            body: format!("本单位今日清查共 {n} 项，请及时处理。"),
            link: Some(format!("/cadence/daily?day={day}")),
            matter_number: None,
        };
        enqueue(app, c, &[Recipient::Unit(unit)], &note, None).await?;
    }
    Ok(())
}

/// The weekly and monthly hook: units hear that the summary or stock-take is ready.
pub async fn on_cadence_ready(
    app: &App,
    c: &mut Conn,
    event: EventKind,
    period: &str,
    units: &[i64],
    link: &str,
) -> AppResult<()> {
    let title = match event {
        EventKind::WeeklyReady => format!("{period} 周小结已生成"),
        _ => format!("{period} 月盘点已生成"),
    };
    let note = Notification {
        event,
        title,
        body: "请查看并确认。".into(),
        link: Some(link.to_owned()),
        matter_number: None,
    };
    let to: Vec<Recipient> = units.iter().map(|u| Recipient::Unit(*u)).collect();
    enqueue(app, c, &to, &note, None).await
}

fn person(who: &Caller) -> AppResult<i64> {
    who.person_id
        .ok_or_else(|| AppError::rule("person_required", "此操作须由具体人员执行"))
}

/// `who`'s inbox, newest first; `before` pages by id.
pub async fn inbox(
    app: &App,
    who: &Caller,
    unread_only: bool,
    before: Option<i64>,
    limit: i64,
) -> AppResult<Vec<InboxRow>> {
    let p = person(who)?;
    let mut c = app.store.read().await?;
    Ok(store_out::list_inbox(&mut c, p, unread_only, before, limit.clamp(1, 200)).await?)
}

/// How many unread lines `who` has (the badge in the page header).
pub async fn unread_count(app: &App, who: &Caller) -> AppResult<i64> {
    let Some(p) = who.person_id else {
        return Ok(0);
    };
    let mut c = app.store.read().await?;
    Ok(store_out::count_unread(&mut c, p).await?)
}

/// Mark one of `who`'s lines read (404 for anyone else's).
pub async fn mark_read(app: &App, who: &Caller, id: i64) -> AppResult<()> {
    let p = person(who)?;
    let mut c = app.store.begin().await?;
    if !store_out::mark_read(&mut c, p, id, app.clock.now_ms()).await? {
        return Err(AppError::NotFound("通知".into()));
    }
    c.commit().await?;
    Ok(())
}

/// A target as an administrator enters it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTarget {
    pub scope: String,
    pub scope_id: i64,
    pub kind: String,
    pub address: String,
    pub secret: Option<String>,
}

async fn allow_list(c: &mut Conn) -> AppResult<AllowList> {
    let raw = crate::settings_value(c, ALLOW_LIST_SETTING)
        .await?
        .unwrap_or_default();
    let entries: Vec<&str> = raw
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    AllowList::parse(&entries).map_err(|e| AppError::Internal(format!("allow list: {e}")))
}

/// The SSRF allow-list the webhook sender must use (administrator setting).
pub async fn current_allow_list(app: &App) -> AppResult<AllowList> {
    let mut c = app.store.read().await?;
    allow_list(&mut c).await
}

fn check_target(t: &NewTarget, allow: &AllowList) -> AppResult<()> {
    if !matches!(t.scope.as_str(), "unit" | "person") {
        return Err(AppError::invalid(
            "scope",
            "unknown_code",
            "范围应为 unit 或 person",
        ));
    }
    match t.kind.as_str() {
        "email" => {
            let ok = t.address.len() <= 254
                && t.address.contains('@')
                && !t
                    .address
                    .chars()
                    .any(|ch| ch.is_control() || ch.is_whitespace());
            if !ok {
                return Err(AppError::invalid("address", "email", "邮箱地址无效"));
            }
        }
        "wecom" | "dingtalk" | "feishu" | "generic" => {
            validate_outbound_url(&t.address, allow)
                .map_err(|e| AppError::invalid("address", e.code(), e.to_string()))?;
            if t.kind == "generic" && t.secret.as_deref().is_none_or(str::is_empty) {
                return Err(AppError::invalid(
                    "secret",
                    "secret_required",
                    "通用 Webhook 须设置签名密钥",
                ));
            }
        }
        _ => return Err(AppError::invalid("kind", "unknown_code", "未知的通知渠道")),
    }
    Ok(())
}

/// Add a webhook robot or mailbox (系统管理员); URLs are SSRF-checked before anything is saved.
pub async fn save_target(app: &App, who: &Caller, t: NewTarget) -> AppResult<i64> {
    who.require(Action::ManageSettings, None)?;
    let mut c = app.store.begin().await?;
    check_target(&t, &allow_list(&mut c).await?)?;
    let now = app.clock.now_ms();
    let row = TargetRow {
        id: 0,
        scope: t.scope,
        scope_id: t.scope_id,
        kind: t.kind,
        address: t.address,
        secret: t.secret.filter(|s| !s.is_empty()),
        enabled: true,
    };
    let id = store_out::insert_target(&mut c, &row, now).await?;
    let detail = format!("{} {}={} kind={}", id, row.scope, row.scope_id, row.kind);
    audit::append(
        app,
        &mut c,
        who,
        Event::ok("notify.target", "notify_target", id, detail),
    )
    .await?;
    c.commit().await?;
    Ok(id)
}

/// Set a unit's, a person's or the system's (`system`, 0) preference overrides.
pub async fn set_prefs(
    app: &App,
    who: &Caller,
    scope: &str,
    scope_id: i64,
    prefs: &PreferenceOverrides,
) -> AppResult<()> {
    let own = scope == "person" && who.person_id == Some(scope_id);
    if !own {
        who.require(Action::ManageSettings, None)?;
    }
    if !matches!(scope, "system" | "unit" | "person") {
        return Err(AppError::invalid(
            "scope",
            "unknown_code",
            "范围应为 system、unit 或 person",
        ));
    }
    let json = serde_json::to_string(prefs).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut c = app.store.begin().await?;
    store_out::put_prefs(&mut c, scope, scope_id, &json, app.clock.now_ms()).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok("notify.prefs", scope, scope_id, json),
    )
    .await?;
    c.commit().await?;
    Ok(())
}

/// The delivery log and the configured targets, for administrators.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryLog {
    pub deliveries: Vec<OutboxRow>,
    pub targets: Vec<TargetRow>,
}

pub async fn delivery_log(app: &App, who: &Caller, limit: i64) -> AppResult<DeliveryLog> {
    if who.require(Action::ManageSettings, None).is_err() {
        who.require(Action::ManageGrants, None)?;
    }
    let mut c = app.store.read().await?;
    Ok(DeliveryLog {
        deliveries: store_out::list_outbox(&mut c, limit.clamp(1, 1000)).await?,
        targets: store_out::list_targets(&mut c).await?,
    })
}
