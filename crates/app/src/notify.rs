//! Notifications (issue 7): [`enqueue`] writes the in-app inbox lines and the outbox rows of an
//! event inside the caller's transaction, so a notification exists exactly when its event
//! committed; the ledger hooks ([`on_matter_step`], [`on_daily_check`], [`on_cadence_ready`])
//! decide who hears what. Also the inbox, targets, preferences and delivery-log use cases.
//! Sending is the outbox worker's job (`taizhang-jobs`), through `taizhang-notify`.

use std::collections::HashMap;

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
    Batch::new(0).prefs(c, unit, person).await
}

fn new_key() -> String {
    let b: [u8; 16] = rand::random();
    format!("tzd_{}", hex::encode(b))
}

/// What a notification needs to know about a person.
#[derive(Clone)]
struct Addressee {
    unit_id: i64,
    email: String,
    disabled: bool,
}

/// Notifications written together in one transaction: each person, preference override and
/// target is read once however many notifications name it, and the inbox and outbox lines are
/// inserted in multi-row statements by [`Batch::flush`]. [`enqueue`] is a batch of one; the
/// daily check writes ten thousand notifications as one batch after [`Batch::preload`].
struct Batch {
    now: i64,
    /// Overrides by (scope, id), `None` when none is stored.
    overrides: HashMap<(&'static str, i64), Option<PreferenceOverrides>>,
    /// Every stored override is in `overrides` (a missing key has none).
    all_overrides: bool,
    people: HashMap<i64, Option<Addressee>>,
    /// Enabled targets by (unit, person) asked.
    targets: HashMap<(Option<i64>, Option<i64>), Vec<TargetRow>>,
    /// Every enabled target, when preloaded.
    all_targets: Option<Vec<TargetRow>>,
    inbox: Vec<InboxRow>,
    outbox: Vec<OutboxRow>,
}

impl Batch {
    fn new(now: i64) -> Batch {
        Batch {
            now,
            overrides: HashMap::new(),
            all_overrides: false,
            people: HashMap::new(),
            targets: HashMap::new(),
            all_targets: None,
            inbox: Vec::new(),
            outbox: Vec::new(),
        }
    }

    /// Read every override and enabled target, and these people, in a few queries.
    async fn preload(&mut self, c: &mut Conn, people: &[i64]) -> AppResult<()> {
        for (scope, id, json) in store_out::all_prefs(c).await? {
            let scope = match scope.as_str() {
                "system" => "system",
                "unit" => "unit",
                "person" => "person",
                _ => continue,
            };
            self.overrides
                .insert((scope, id), serde_json::from_str(&json).ok());
        }
        self.all_overrides = true;
        self.all_targets = Some(store_out::enabled_targets(c).await?);
        for &id in people {
            self.people.insert(id, None);
        }
        for p in taizhang_store::people::people_by_ids(c, people).await? {
            self.people.insert(p.id, Some(addressee(&p)));
        }
        Ok(())
    }

    async fn override_of(
        &mut self,
        c: &mut Conn,
        scope: &'static str,
        id: i64,
    ) -> AppResult<Option<PreferenceOverrides>> {
        if let Some(v) = self.overrides.get(&(scope, id)) {
            return Ok(v.clone());
        }
        if self.all_overrides {
            return Ok(None);
        }
        let v = overrides(c, scope, id).await?;
        self.overrides.insert((scope, id), v.clone());
        Ok(v)
    }

    /// System defaults, then the unit's overrides, then the person's.
    async fn prefs(
        &mut self,
        c: &mut Conn,
        unit: Option<i64>,
        person: Option<i64>,
    ) -> AppResult<Preferences> {
        let system = self.override_of(c, "system", 0).await?;
        let base = Preferences::resolve(&Preferences::default(), system.as_ref(), None);
        let u = match unit {
            Some(u) => self.override_of(c, "unit", u).await?,
            None => None,
        };
        let p = match person {
            Some(p) => self.override_of(c, "person", p).await?,
            None => None,
        };
        Ok(Preferences::resolve(&base, u.as_ref(), p.as_ref()))
    }

    async fn person(&mut self, c: &mut Conn, id: i64) -> AppResult<Option<Addressee>> {
        if let Some(p) = self.people.get(&id) {
            return Ok(p.clone());
        }
        let p = taizhang_store::people::find_person(c, id)
            .await?
            .map(|p| addressee(&p));
        self.people.insert(id, p.clone());
        Ok(p)
    }

    /// Enabled targets of this unit or this person, in id order.
    async fn targets(
        &mut self,
        c: &mut Conn,
        unit: Option<i64>,
        person: Option<i64>,
    ) -> AppResult<Vec<TargetRow>> {
        if let Some(all) = &self.all_targets {
            return Ok(all
                .iter()
                .filter(|t| {
                    (t.scope == "unit" && Some(t.scope_id) == unit)
                        || (t.scope == "person" && Some(t.scope_id) == person)
                })
                .cloned()
                .collect());
        }
        if let Some(v) = self.targets.get(&(unit, person)) {
            return Ok(v.clone());
        }
        let v = store_out::targets_for(c, unit, person).await?;
        self.targets.insert((unit, person), v.clone());
        Ok(v)
    }

    /// An outbox row for one channel, unless the preferences turn it off.
    fn queue(
        &mut self,
        o: &Out<'_>,
        prefs: &Preferences,
        who: (Option<i64>, Option<i64>),
        channel: Channel,
        target: Option<i64>,
        address: &str,
    ) {
        if !prefs.wants(o.n.event, channel) {
            return;
        }
        let digest = prefs.defers_to_digest(o.n.event, channel);
        self.outbox.push(OutboxRow {
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
            next_attempt_at: prefs.next_allowed_ms(o.n.event, self.now),
            created_at: self.now,
            sent_at: None,
            last_error: String::new(),
        });
    }

    /// The inbox lines and outbox rows of `n` for `to`.
    async fn add(
        &mut self,
        c: &mut Conn,
        to: &[Recipient],
        n: &Notification,
        matter_id: Option<i64>,
    ) -> AppResult<()> {
        let payload = serde_json::to_string(n)
            .map_err(|e| AppError::Internal(format!("notification: {e}")))?;
        let o = Out {
            n,
            payload: &payload,
            matter_id,
        };
        let mut seen = std::collections::BTreeSet::new();
        for r in to {
            if !seen.insert(*r) {
                continue;
            }
            match *r {
                Recipient::Person(p) => {
                    let Some(person) = self.person(c, p).await? else {
                        continue;
                    };
                    if person.disabled {
                        continue;
                    }
                    let prefs = self.prefs(c, Some(person.unit_id), Some(p)).await?;
                    self.inbox.push(InboxRow {
                        id: 0,
                        person_id: p,
                        event_kind: n.event.as_str().into(),
                        title: n.title.clone(),
                        body: n.body.clone(),
                        link: n.link.clone(),
                        matter_id,
                        created_at: self.now,
                        read_at: None,
                    });
                    if person.email.contains('@') {
                        self.queue(
                            &o,
                            &prefs,
                            (Some(p), None),
                            Channel::Email,
                            None,
                            &person.email,
                        );
                    }
                    for t in self.targets(c, None, Some(p)).await? {
                        if let Some(ch) = channel_of(&t.kind) {
                            let addr = if ch == Channel::Email {
                                t.address.as_str()
                            } else {
                                ""
                            };
                            self.queue(&o, &prefs, (Some(p), None), ch, Some(t.id), addr);
                        }
                    }
                }
                Recipient::Unit(u) => {
                    let prefs = self.prefs(c, Some(u), None).await?;
                    for t in self.targets(c, Some(u), None).await? {
                        if let Some(ch) = channel_of(&t.kind) {
                            let addr = if ch == Channel::Email {
                                t.address.as_str()
                            } else {
                                ""
                            };
                            self.queue(&o, &prefs, (None, Some(u)), ch, Some(t.id), addr);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Insert everything added, in multi-row statements.
    async fn flush(self, c: &mut Conn) -> AppResult<()> {
        store_out::insert_inbox_many(c, &self.inbox).await?;
        store_out::insert_outbox_many(c, &self.outbox).await?;
        Ok(())
    }
}

fn addressee(p: &taizhang_store::people::Person) -> Addressee {
    Addressee {
        unit_id: p.unit_id,
        email: p.email.clone(),
        disabled: p.disabled,
    }
}

struct Out<'a> {
    n: &'a Notification,
    payload: &'a str,
    matter_id: Option<i64>,
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
    let mut batch = Batch::new(app.clock.now_ms());
    batch.add(c, to, n, matter_id).await?;
    batch.flush(c).await
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
    // Thousands of matters cross a line on one day at 10^6 matters: their rows, handlers,
    // people, preferences and targets are read in a few queries and written as one batch.
    let mut ids: Vec<i64> = fresh.iter().map(|(_, m, _)| *m).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = store_matters::rows_by_id(c, &ids).await?;
    let mut handlers: HashMap<i64, Vec<i64>> = HashMap::new();
    for (m, p) in store_matters::handlers_of(c, &ids).await? {
        handlers.entry(m).or_default().push(p);
    }
    let mut people: Vec<i64> = handlers.values().flatten().copied().collect();
    people.sort_unstable();
    people.dedup();
    let mut batch = Batch::new(app.clock.now_ms());
    batch.preload(c, &people).await?;
    for (unit, matter_id, cat) in fresh {
        let event = match *cat {
            "overdue" => EventKind::Overdue,
            "due_soon" | "due_today" => EventKind::DueSoon,
            _ => continue,
        };
        let Some(m) = rows.get(matter_id) else {
            continue;
        };
        let mut to = vec![Recipient::Unit(*unit)];
        to.extend(
            handlers
                .get(matter_id)
                .into_iter()
                .flatten()
                .map(|p| Recipient::Person(*p)),
        );
        let body = format!("办理时限：{}", m.deadline.as_deref().unwrap_or("无"));
        batch
            .add(c, &to, &matter_note(event, m, body), Some(m.id))
            .await?;
    }
    for (unit, n) in units {
        let note = Notification {
            event: EventKind::DailyCheckReady,
            title: format!("{day} 日清查"),
            body: format!("本单位今日清查共 {n} 项，请及时处理。"),
            link: Some(format!("/cadence/daily?day={day}")),
            matter_number: None,
        };
        batch.add(c, &[Recipient::Unit(unit)], &note, None).await?;
    }
    batch.flush(c).await
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
                .map_err(|e| AppError::invalid("address", e.code(), ssrf_message(&e)))?;
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

// --- notifications administration: targets page, delivery log, personal settings ---

/// The kinds of target an administrator can configure, with their Chinese names.
pub const TARGET_KINDS: &[(&str, &str)] = &[
    ("wecom", "企业微信机器人"),
    ("dingtalk", "钉钉机器人"),
    ("feishu", "飞书机器人"),
    ("generic", "通用 Webhook（HMAC 签名）"),
    ("email", "邮箱"),
];

/// The states of a delivery, with their Chinese names.
pub const DELIVERY_STATUSES: &[(&str, &str)] = &[
    ("pending", "待发送"),
    ("sending", "发送中"),
    ("sent", "已发送"),
    ("failed", "失败"),
    ("digest", "待汇总"),
];

/// The events a person chooses channels for (the digest and the test message are not events).
pub fn preference_events() -> Vec<EventKind> {
    EventKind::ALL
        .into_iter()
        .filter(|k| !matches!(k, EventKind::Digest | EventKind::Test))
        .collect()
}

fn range_zh(r: taizhang_notify::ssrf::BlockedRange) -> &'static str {
    use taizhang_notify::ssrf::BlockedRange as B;
    match r {
        B::Unspecified => "未指定地址（0.0.0.0）",
        B::Loopback => "本机回环",
        B::Private => "内网私有",
        B::SharedAddress => "运营商共享",
        B::LinkLocal => "链路本地（含云主机元数据服务）",
        B::UniqueLocal => "IPv6 唯一本地",
        B::SiteLocal => "IPv6 站点本地",
        B::Multicast => "组播",
        B::Broadcast => "广播",
        B::Documentation => "文档示例保留",
        B::Benchmarking => "测试保留",
        B::Reserved => "保留",
    }
}

/// Why a webhook URL is refused, in words an administrator can act on.
pub fn ssrf_message(e: &taizhang_notify::SsrfError) -> String {
    use taizhang_notify::SsrfError as E;
    const WHY: &str = "为防止服务器端请求伪造（SSRF），系统不向内部地址发送；确需使用内网接收端，请在通知允许清单中登记该主机";
    match e {
        E::InvalidUrl => "网址格式无效（不能含空格、反斜杠或控制字符）".into(),
        E::SchemeNotAllowed(s) => format!("只允许 http 或 https 网址，不能使用「{s}」"),
        E::UserInfo => "网址中不能包含用户名或密码".into(),
        E::MissingHost => "网址缺少主机名".into(),
        E::InternalName(h) => format!("主机名「{h}」是内部名称。{WHY}"),
        E::BlockedAddress { ip, range } => {
            format!("地址 {ip} 属于{}地址段。{WHY}", range_zh(*range))
        }
        E::Unresolvable { host, reason } => format!("无法解析主机「{host}」：{reason}"),
        E::NoAddresses(h) => format!("主机「{h}」没有可用的地址"),
        E::InvalidAllowEntry(x) => format!("允许清单条目「{x}」无效"),
    }
}

/// What of an address may be shown: a mailbox in full; of a URL only its origin and last four
/// characters, because the key or access token of a WeCom/DingTalk/Feishu robot is in the URL.
pub fn address_hint(kind: &str, address: &str) -> String {
    if kind == "email" {
        return address.to_owned();
    }
    let Some((scheme, rest)) = address.split_once("://") else {
        return "（无效网址）".into();
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = format!("{scheme}://{}", &rest[..host_end]);
    if rest[host_end..].trim_end_matches('/').is_empty() {
        return origin;
    }
    let chars: Vec<char> = rest[host_end..].chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("{origin}/…{tail}")
}

/// The newest delivery to a target (for the targets page).
#[derive(Debug, Clone, Serialize)]
pub struct LastDelivery {
    pub id: i64,
    pub event_kind: String,
    pub status: String,
    pub attempts: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub next_attempt_at: i64,
    pub last_error: String,
}

/// A target as administrators see it: the secret never leaves the server, the URL is hinted.
#[derive(Debug, Clone, Serialize)]
pub struct TargetView {
    pub id: i64,
    pub scope: String,
    pub scope_id: i64,
    pub kind: String,
    pub address_hint: String,
    pub has_secret: bool,
    pub enabled: bool,
    pub last: Option<LastDelivery>,
}

fn view_of(t: &TargetRow, last: Option<&OutboxRow>) -> TargetView {
    TargetView {
        id: t.id,
        scope: t.scope.clone(),
        scope_id: t.scope_id,
        kind: t.kind.clone(),
        address_hint: address_hint(&t.kind, &t.address),
        has_secret: t.secret.as_deref().is_some_and(|s| !s.is_empty()),
        enabled: t.enabled,
        last: last.map(|o| LastDelivery {
            id: o.id,
            event_kind: o.event_kind.clone(),
            status: o.status.clone(),
            attempts: o.attempts,
            created_at: o.created_at,
            sent_at: o.sent_at,
            next_attempt_at: o.next_attempt_at,
            last_error: o.last_error.clone(),
        }),
    }
}

/// Every configured target with its newest delivery (系统管理员).
pub async fn list_targets(app: &App, who: &Caller) -> AppResult<Vec<TargetView>> {
    who.require(Action::ManageSettings, None)?;
    let mut c = app.store.read().await?;
    let last = store_out::last_delivery_per_target(&mut c).await?;
    Ok(store_out::list_targets(&mut c)
        .await?
        .iter()
        .map(|t| view_of(t, last.iter().find(|o| o.target_id == Some(t.id))))
        .collect())
}

/// One target (系统管理员); 404 when there is none.
pub async fn get_target(app: &App, who: &Caller, id: i64) -> AppResult<TargetView> {
    who.require(Action::ManageSettings, None)?;
    let mut c = app.store.read().await?;
    let t = store_out::find_target(&mut c, id)
        .await?
        .ok_or_else(|| AppError::NotFound("通知渠道".into()))?;
    let last = store_out::list_outbox_page(&mut c, "", id, None, 1).await?;
    Ok(view_of(&t, last.first()))
}

/// What happens to a target's secret on an edit: the secret is write-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretChange {
    Keep,
    Set(String),
    Clear,
}

/// An edit of a target; its scope (unit or person) stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetChange {
    pub kind: String,
    /// `None` keeps the stored address (the form does not show a robot's URL back).
    pub address: Option<String>,
    pub secret: SecretChange,
    pub enabled: bool,
}

/// Change a target (系统管理员): the new URL is SSRF-checked like a new one.
pub async fn update_target(app: &App, who: &Caller, id: i64, ch: TargetChange) -> AppResult<()> {
    who.require(Action::ManageSettings, None)?;
    let mut c = app.store.begin().await?;
    let mut t = store_out::find_target(&mut c, id)
        .await?
        .ok_or_else(|| AppError::NotFound("通知渠道".into()))?;
    let kind_changed = t.kind != ch.kind;
    t.kind = ch.kind;
    if let Some(a) = ch.address.filter(|a| !a.trim().is_empty()) {
        t.address = a.trim().to_owned();
    } else if kind_changed {
        return Err(AppError::invalid(
            "address",
            "address_required",
            "更换渠道类型时须重新填写地址",
        ));
    }
    match ch.secret {
        SecretChange::Keep => {}
        SecretChange::Set(s) if !s.is_empty() => t.secret = Some(s),
        SecretChange::Set(_) | SecretChange::Clear => t.secret = None,
    }
    t.enabled = ch.enabled;
    let check = NewTarget {
        scope: t.scope.clone(),
        scope_id: t.scope_id,
        kind: t.kind.clone(),
        address: t.address.clone(),
        secret: t.secret.clone(),
    };
    check_target(&check, &allow_list(&mut c).await?)?;
    store_out::update_target(&mut c, &t, app.clock.now_ms()).await?;
    let detail = format!("{id} kind={} enabled={}", t.kind, t.enabled);
    audit::append(
        app,
        &mut c,
        who,
        Event::ok("notify.target_update", "notify_target", id, detail),
    )
    .await?;
    c.commit().await?;
    Ok(())
}

/// Switch a target on or off (系统管理员); a disabled target's queued deliveries are not sent.
pub async fn set_target_enabled(app: &App, who: &Caller, id: i64, enabled: bool) -> AppResult<()> {
    who.require(Action::ManageSettings, None)?;
    let mut c = app.store.begin().await?;
    if !store_out::set_target_enabled(&mut c, id, enabled, app.clock.now_ms()).await? {
        return Err(AppError::NotFound("通知渠道".into()));
    }
    let action = if enabled {
        "notify.target_enable"
    } else {
        "notify.target_disable"
    };
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(action, "notify_target", id, String::new()),
    )
    .await?;
    c.commit().await?;
    Ok(())
}

/// Remove a target (系统管理员); its past deliveries stay in the log.
pub async fn delete_target(app: &App, who: &Caller, id: i64) -> AppResult<()> {
    who.require(Action::ManageSettings, None)?;
    let mut c = app.store.begin().await?;
    if !store_out::delete_target(&mut c, id).await? {
        return Err(AppError::NotFound("通知渠道".into()));
    }
    audit::append(
        app,
        &mut c,
        who,
        Event::ok("notify.target_delete", "notify_target", id, String::new()),
    )
    .await?;
    c.commit().await?;
    Ok(())
}

/// 发送测试: queue a test message to one target, due now (quiet hours and preferences do not
/// apply). The outbox worker sends it; its outcome is in the delivery log. Returns its id there.
pub async fn send_test(app: &App, who: &Caller, id: i64) -> AppResult<i64> {
    who.require(Action::ManageSettings, None)?;
    let mut c = app.store.begin().await?;
    let t = store_out::find_target(&mut c, id)
        .await?
        .ok_or_else(|| AppError::NotFound("通知渠道".into()))?;
    if !t.enabled {
        return Err(AppError::rule(
            "target_disabled",
            "该通知渠道已停用，请先启用再发送测试",
        ));
    }
    let now = app.clock.now_ms();
    let n = Notification {
        event: EventKind::Test,
        title: "通知渠道测试".into(),
        body: format!(
            "这是台账系统于 {} 发出的测试消息，收到即表示该通知渠道配置正确。",
            crate::clock::format_ms(now)
        ),
        link: None,
        matter_number: None,
    };
    let payload =
        serde_json::to_string(&n).map_err(|e| AppError::Internal(format!("notification: {e}")))?;
    let key = new_key();
    let row = OutboxRow {
        id: 0,
        delivery_key: key.clone(),
        event_kind: EventKind::Test.as_str().into(),
        person_id: (t.scope == "person").then_some(t.scope_id),
        unit_id: (t.scope == "unit").then_some(t.scope_id),
        matter_id: None,
        channel: t.kind.clone(),
        target_id: Some(t.id),
        address: if t.kind == "email" {
            t.address.clone()
        } else {
            String::new()
        },
        payload,
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
        sent_at: None,
        last_error: String::new(),
    };
    store_out::insert_outbox(&mut c, &row).await?;
    let out_id = store_out::outbox_id_by_key(&mut c, &key)
        .await?
        .ok_or_else(|| AppError::Internal("test delivery not queued".into()))?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "notify.target_test",
            "notify_target",
            id,
            format!("outbox={out_id}"),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(out_id)
}

/// A page of the delivery log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryQuery {
    /// A code of [`DELIVERY_STATUSES`]; `None` for all.
    pub status: Option<String>,
    pub target_id: Option<i64>,
    /// Deliveries older than this id (keyset paging).
    pub before: Option<i64>,
    /// 1–200.
    pub limit: i64,
}

/// The delivery log, newest first, filtered (系统管理员 or 安全管理员).
pub async fn deliveries(app: &App, who: &Caller, q: &DeliveryQuery) -> AppResult<Vec<OutboxRow>> {
    if who.require(Action::ManageSettings, None).is_err() {
        who.require(Action::ManageGrants, None)?;
    }
    let status = q.status.as_deref().unwrap_or("");
    if !status.is_empty() && !DELIVERY_STATUSES.iter().any(|(c, _)| *c == status) {
        return Err(AppError::invalid(
            "status",
            "unknown_code",
            "投递状态应为 pending、sending、sent、failed 或 digest",
        ));
    }
    let mut c = app.store.read().await?;
    Ok(store_out::list_outbox_page(
        &mut c,
        status,
        q.target_id.unwrap_or(0),
        q.before,
        q.limit.clamp(1, 200),
    )
    .await?)
}

/// One person's notification settings: what applies now, what they changed themselves, and
/// what they would get without their own changes (system and unit defaults).
#[derive(Debug, Clone, Serialize)]
pub struct MyPrefs {
    pub effective: Preferences,
    pub overrides: PreferenceOverrides,
    pub inherited: Preferences,
    /// The mailbox email goes to (empty: none on file, so no email is sent).
    pub email: String,
    /// Robots and mailboxes configured for this person by an administrator.
    pub own_targets: usize,
}

/// `who`'s own notification settings.
pub async fn my_prefs(app: &App, who: &Caller) -> AppResult<MyPrefs> {
    let p = person(who)?;
    let mut c = app.store.read().await?;
    let me = taizhang_store::people::find_person(&mut c, p).await?;
    let unit = me.as_ref().map_or(who.unit_id, |x| x.unit_id);
    let inherited = prefs_for(&mut c, Some(unit), None).await?;
    let overrides = overrides(&mut c, "person", p).await?.unwrap_or_default();
    let effective = Preferences::resolve(&inherited, None, Some(&overrides));
    let own_targets = store_out::targets_for(&mut c, None, Some(p)).await?.len();
    Ok(MyPrefs {
        effective,
        overrides,
        inherited,
        email: me.map(|x| x.email).unwrap_or_default(),
        own_targets,
    })
}

/// Replace `who`'s own overrides (an empty value goes back to the unit and system defaults).
pub async fn set_my_prefs(app: &App, who: &Caller, prefs: &PreferenceOverrides) -> AppResult<()> {
    let p = person(who)?;
    set_prefs(app, who, "person", p, prefs).await
}
