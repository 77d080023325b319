//! Notifications at rest (issue 7): the in-app inbox, the outbox with its claim/lease and
//! delivery log, webhook and mailbox targets, preference overrides, and the API's
//! Idempotency-Key records. Rows are written in the caller's transaction.

use serde::Serialize;

use crate::{Conn, GetCol, StoreResult};

/// One inbox line (站内信).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxRow {
    pub id: i64,
    pub person_id: i64,
    pub event_kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub matter_id: Option<i64>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

fn map_inbox(r: &(impl GetCol + ?Sized)) -> StoreResult<InboxRow> {
    Ok(InboxRow {
        id: r.i64("id")?,
        person_id: r.i64("person_id")?,
        event_kind: r.text("event_kind")?,
        title: r.text("title")?,
        body: r.text("body")?,
        link: r.opt_text("link")?,
        matter_id: r.opt_i64("matter_id")?,
        created_at: r.i64("created_at")?,
        read_at: r.opt_i64("read_at")?,
    })
}

pub async fn insert_inbox(c: &mut Conn, i: &InboxRow) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO notify_inbox (person_id, event_kind, title, body, link, matter_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(i.person_id).bind(&i.event_kind).bind(&i.title).bind(&i.body).bind(&i.link)
        .bind(i.matter_id).bind(i.created_at).fetch_one(&mut *c).await?);
    Ok(id)
}

/// The statement of [`list_inbox`]: `$1` person, `$2` 1 for unread only, `$3` ids below,
/// `$4` limit.
pub const INBOX_SQL: &str =
    "SELECT id, person_id, event_kind, title, body, link, matter_id, created_at, read_at
             FROM notify_inbox WHERE person_id = $1 AND ($2 = 0 OR read_at IS NULL) AND id < $3
             ORDER BY id DESC LIMIT $4";

/// The statement of [`count_unread`]: `$1` person.
pub const UNREAD_SQL: &str =
    "SELECT COUNT(*) FROM notify_inbox WHERE person_id = $1 AND read_at IS NULL";

/// A person's inbox, newest first, ids below `before` (keyset paging).
pub async fn list_inbox(
    c: &mut Conn,
    person_id: i64,
    unread_only: bool,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<InboxRow>> {
    let rows = crate::on!(c, c => {
        let rows = sqlx::query(INBOX_SQL)
            .bind(person_id).bind(i64::from(unread_only)).bind(before.unwrap_or(i64::MAX)).bind(limit)
            .fetch_all(&mut *c).await?;
        rows.iter().map(map_inbox).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(rows)
}

pub async fn count_unread(c: &mut Conn, person_id: i64) -> StoreResult<i64> {
    let n: i64 = crate::on!(c, c => sqlx::query_scalar(UNREAD_SQL)
        .bind(person_id).fetch_one(&mut *c).await?);
    Ok(n)
}

/// Mark one of the person's lines read; false when it is not theirs or does not exist.
pub async fn mark_read(c: &mut Conn, person_id: i64, id: i64, now_ms: i64) -> StoreResult<bool> {
    let n = crate::on!(c, c => sqlx::query(
        "UPDATE notify_inbox SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND person_id = $2")
        .bind(id).bind(person_id).bind(now_ms).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// A configured webhook robot or mailbox of a unit or a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetRow {
    pub id: i64,
    /// `unit` or `person`.
    pub scope: String,
    pub scope_id: i64,
    /// `email`, `wecom`, `dingtalk`, `feishu`, `generic`.
    pub kind: String,
    pub address: String,
    #[serde(skip)]
    pub secret: Option<String>,
    pub enabled: bool,
}

fn map_target(r: &(impl GetCol + ?Sized)) -> StoreResult<TargetRow> {
    Ok(TargetRow {
        id: r.i64("id")?,
        scope: r.text("scope")?,
        scope_id: r.i64("scope_id")?,
        kind: r.text("kind")?,
        address: r.text("address")?,
        secret: r.opt_text("secret")?,
        enabled: r.flag("enabled")?,
    })
}

const TARGET_COLS: &str = "id, scope, scope_id, kind, address, secret, enabled";

pub async fn insert_target(c: &mut Conn, t: &TargetRow, now_ms: i64) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO notify_targets (scope, scope_id, kind, address, secret, enabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id")
        .bind(&t.scope).bind(t.scope_id).bind(&t.kind).bind(&t.address).bind(&t.secret)
        .bind(t.enabled).bind(now_ms).fetch_one(&mut *c).await?);
    Ok(id)
}

pub async fn list_targets(c: &mut Conn) -> StoreResult<Vec<TargetRow>> {
    let sql = format!("SELECT {TARGET_COLS} FROM notify_targets ORDER BY id");
    let rows = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *c).await?;
        rows.iter().map(map_target).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(rows)
}

pub async fn find_target(c: &mut Conn, id: i64) -> StoreResult<Option<TargetRow>> {
    let sql = format!("SELECT {TARGET_COLS} FROM notify_targets WHERE id = $1");
    let row = crate::on!(c, c => {
        let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *c).await?;
        r.as_ref().map(map_target).transpose()?
    });
    Ok(row)
}

/// Enabled targets of these units and this person.
pub async fn targets_for(
    c: &mut Conn,
    unit_id: Option<i64>,
    person_id: Option<i64>,
) -> StoreResult<Vec<TargetRow>> {
    let sql = format!(
        "SELECT {TARGET_COLS} FROM notify_targets WHERE enabled = TRUE AND \
         ((scope = 'unit' AND scope_id = $1) OR (scope = 'person' AND scope_id = $2)) ORDER BY id"
    );
    let rows = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(unit_id.unwrap_or(-1))
            .bind(person_id.unwrap_or(-1)).fetch_all(&mut *c).await?;
        rows.iter().map(map_target).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(rows)
}

pub async fn set_target_enabled(
    c: &mut Conn,
    id: i64,
    enabled: bool,
    now: i64,
) -> StoreResult<bool> {
    let n = crate::on!(c, c => sqlx::query(
        "UPDATE notify_targets SET enabled = $2, updated_at = $3 WHERE id = $1")
        .bind(id).bind(enabled).bind(now).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// Change a target's kind, address, secret and switch (its scope stays). False when missing.
pub async fn update_target(c: &mut Conn, t: &TargetRow, now: i64) -> StoreResult<bool> {
    let n = crate::on!(c, c => sqlx::query(
        "UPDATE notify_targets SET kind = $2, address = $3, secret = $4, enabled = $5, updated_at = $6
         WHERE id = $1")
        .bind(t.id).bind(&t.kind).bind(&t.address).bind(&t.secret).bind(t.enabled).bind(now)
        .execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// Remove a target; its past deliveries stay in the log (by id). False when missing.
pub async fn delete_target(c: &mut Conn, id: i64) -> StoreResult<bool> {
    let n = crate::on!(c, c => sqlx::query("DELETE FROM notify_targets WHERE id = $1")
        .bind(id).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// A preference override (JSON) of `system`/0, a unit or a person.
pub async fn find_prefs(c: &mut Conn, scope: &str, scope_id: i64) -> StoreResult<Option<String>> {
    let v: Option<String> = crate::on!(c, c => sqlx::query_scalar(
        "SELECT prefs FROM notify_prefs WHERE scope = $1 AND scope_id = $2")
        .bind(scope).bind(scope_id).fetch_optional(&mut *c).await?);
    Ok(v)
}

pub async fn put_prefs(
    c: &mut Conn,
    scope: &str,
    scope_id: i64,
    json: &str,
    now: i64,
) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "INSERT INTO notify_prefs (scope, scope_id, prefs, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (scope, scope_id) DO UPDATE SET prefs = excluded.prefs, updated_at = excluded.updated_at")
        .bind(scope).bind(scope_id).bind(json).bind(now).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// One outbound delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub delivery_key: String,
    pub event_kind: String,
    pub person_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub matter_id: Option<i64>,
    pub channel: String,
    pub target_id: Option<i64>,
    /// The mailbox for email; empty for webhooks (the target holds the URL and secret).
    pub address: String,
    /// JSON of the notification.
    pub payload: String,
    /// `pending`, `sending`, `sent`, `failed`, `digest`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub last_error: String,
}

const OUTBOX_COLS: &str = "id, delivery_key, event_kind, person_id, unit_id, matter_id, channel, \
    target_id, address, payload, status, attempts, next_attempt_at, created_at, sent_at, last_error";

fn map_outbox(r: &(impl GetCol + ?Sized)) -> StoreResult<OutboxRow> {
    Ok(OutboxRow {
        id: r.i64("id")?,
        delivery_key: r.text("delivery_key")?,
        event_kind: r.text("event_kind")?,
        person_id: r.opt_i64("person_id")?,
        unit_id: r.opt_i64("unit_id")?,
        matter_id: r.opt_i64("matter_id")?,
        channel: r.text("channel")?,
        target_id: r.opt_i64("target_id")?,
        address: r.text("address")?,
        payload: r.text("payload")?,
        status: r.text("status")?,
        attempts: r.i64("attempts")?,
        next_attempt_at: r.i64("next_attempt_at")?,
        created_at: r.i64("created_at")?,
        sent_at: r.opt_i64("sent_at")?,
        last_error: r.text("last_error")?,
    })
}

/// Queue a delivery; a repeated `delivery_key` is ignored (the event was already queued).
pub async fn insert_outbox(c: &mut Conn, o: &OutboxRow) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "INSERT INTO notify_outbox (delivery_key, event_kind, person_id, unit_id, matter_id, channel,
            target_id, address, payload, status, attempts, next_attempt_at, created_at, last_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $12, '')
         ON CONFLICT (delivery_key) DO NOTHING")
        .bind(&o.delivery_key).bind(&o.event_kind).bind(o.person_id).bind(o.unit_id).bind(o.matter_id)
        .bind(&o.channel).bind(o.target_id).bind(&o.address).bind(&o.payload).bind(&o.status)
        .bind(o.next_attempt_at).bind(o.created_at).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Claim up to `limit` due deliveries for `lease_ms`: pending rows whose time has come, and
/// `sending` rows whose lease ran out (a worker died between send and commit). On PostgreSQL
/// concurrent workers skip each other's rows (`FOR UPDATE SKIP LOCKED`); SQLite has one writer.
pub async fn claim_due(
    c: &mut Conn,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> StoreResult<Vec<OutboxRow>> {
    let lock = if c.is_postgres() {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let pick = format!(
        "SELECT id FROM notify_outbox WHERE (status = 'pending' AND next_attempt_at <= $1) \
         OR (status = 'sending' AND lease_until <= $1) ORDER BY next_attempt_at, id LIMIT $2{lock}"
    );
    let ids: Vec<i64> = crate::on!(c, c => sqlx::query_scalar(sqlx::AssertSqlSafe(pick))
        .bind(now).bind(limit).fetch_all(&mut *c).await?);
    let mut out = Vec::with_capacity(ids.len());
    let sql = format!(
        "UPDATE notify_outbox SET status = 'sending', lease_until = $2, attempts = attempts + 1 \
         WHERE id = $1 RETURNING {OUTBOX_COLS}"
    );
    for id in ids {
        let row = crate::on!(c, c => {
            let r = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(id).bind(now + lease_ms)
                .fetch_one(&mut *c).await?;
            map_outbox(&r)?
        });
        out.push(row);
    }
    Ok(out)
}

/// File the outcome of an attempt: `sent`, `failed` (given up) or back to `pending` at `retry_at`.
pub async fn finish_attempt(
    c: &mut Conn,
    row: &OutboxRow,
    outcome: &str,
    detail: &str,
    retry_at: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    let status = match (outcome, retry_at) {
        ("sent", _) => "sent",
        (_, Some(_)) => "pending",
        _ => "failed",
    };
    crate::on!(c, c => sqlx::query(
        "UPDATE notify_outbox SET status = $2, next_attempt_at = COALESCE($3, next_attempt_at),
            lease_until = NULL, sent_at = CASE WHEN $2 = 'sent' THEN $4 ELSE sent_at END,
            last_error = CASE WHEN $2 = 'sent' THEN '' ELSE $5 END WHERE id = $1")
        .bind(row.id).bind(status).bind(retry_at).bind(now).bind(detail)
        .execute(&mut *c).await?.rows_affected());
    crate::on!(c, c => sqlx::query(
        "INSERT INTO notify_attempts (outbox_id, attempt, at_ms, outcome, detail) VALUES ($1, $2, $3, $4, $5)")
        .bind(row.id).bind(row.attempts).bind(now).bind(outcome).bind(detail)
        .execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Rows held for the daily digest of one person (status `digest`), and release them as sent.
pub async fn take_digest(c: &mut Conn, person_id: i64, now: i64) -> StoreResult<Vec<OutboxRow>> {
    let sql = format!(
        "UPDATE notify_outbox SET status = 'sent', sent_at = $2, last_error = 'folded into digest' \
         WHERE status = 'digest' AND person_id = $1 RETURNING {OUTBOX_COLS}"
    );
    let rows = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(person_id).bind(now).fetch_all(&mut *c).await?;
        rows.iter().map(map_outbox).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(rows)
}

/// People with deliveries waiting for their digest.
pub async fn digest_people(c: &mut Conn) -> StoreResult<Vec<i64>> {
    let ids: Vec<i64> = crate::on!(c, c => sqlx::query_scalar(
        "SELECT DISTINCT person_id FROM notify_outbox WHERE status = 'digest' AND person_id IS NOT NULL ORDER BY person_id")
        .fetch_all(&mut *c).await?);
    Ok(ids)
}

/// The delivery log: newest deliveries first.
pub async fn list_outbox(c: &mut Conn, limit: i64) -> StoreResult<Vec<OutboxRow>> {
    let sql = format!("SELECT {OUTBOX_COLS} FROM notify_outbox ORDER BY id DESC LIMIT $1");
    let rows = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(&mut *c).await?;
        rows.iter().map(map_outbox).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(rows)
}

/// The statement of [`list_outbox_page`]: `$1` status, `$2` target, `$3` ids below, `$4` limit.
pub fn outbox_page_sql() -> String {
    format!(
        "SELECT {OUTBOX_COLS} FROM notify_outbox WHERE ($1 = '' OR status = $1) \
         AND ($2 = 0 OR target_id = $2) AND id < $3 ORDER BY id DESC LIMIT $4"
    )
}

/// One page of the delivery log, newest first: `status` (empty: any), `target_id` (0: any),
/// ids below `before` (keyset paging).
pub async fn list_outbox_page(
    c: &mut Conn,
    status: &str,
    target_id: i64,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<OutboxRow>> {
    let sql = outbox_page_sql();
    let rows = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(status).bind(target_id)
            .bind(before.unwrap_or(i64::MAX)).bind(limit).fetch_all(&mut *c).await?;
        rows.iter().map(map_outbox).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(rows)
}

/// The id of the delivery queued under `key`.
pub async fn outbox_id_by_key(c: &mut Conn, key: &str) -> StoreResult<Option<i64>> {
    let id: Option<i64> = crate::on!(c, c => sqlx::query_scalar(
        "SELECT id FROM notify_outbox WHERE delivery_key = $1")
        .bind(key).fetch_optional(&mut *c).await?);
    Ok(id)
}

/// One delivery by id.
pub async fn find_outbox(c: &mut Conn, id: i64) -> StoreResult<Option<OutboxRow>> {
    let sql = format!("SELECT {OUTBOX_COLS} FROM notify_outbox WHERE id = $1");
    let row = crate::on!(c, c => {
        let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *c).await?;
        r.as_ref().map(map_outbox).transpose()?
    });
    Ok(row)
}

/// The newest delivery of each target (the targets page shows how the last one went).
pub async fn last_delivery_per_target(c: &mut Conn) -> StoreResult<Vec<OutboxRow>> {
    let sql = format!(
        "SELECT {OUTBOX_COLS} FROM notify_outbox WHERE id IN \
         (SELECT MAX(id) FROM notify_outbox WHERE target_id IS NOT NULL GROUP BY target_id) ORDER BY id"
    );
    let rows = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *c).await?;
        rows.iter().map(map_outbox).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(rows)
}

/// A stored API response for an Idempotency-Key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdemRow {
    pub request_hash: String,
    pub status: i64,
    pub body: String,
}

pub async fn find_idempotency(
    c: &mut Conn,
    person_id: i64,
    key_hash: &str,
) -> StoreResult<Option<IdemRow>> {
    let row = crate::on!(c, c => {
        let r = sqlx::query(
            "SELECT request_hash, status, body FROM api_idempotency WHERE person_id = $1 AND key_hash = $2")
            .bind(person_id).bind(key_hash).fetch_optional(&mut *c).await?;
        match r {
            Some(r) => Some(IdemRow { request_hash: r.text("request_hash")?, status: r.i64("status")?, body: r.text("body")? }),
            None => None,
        }
    });
    Ok(row)
}

pub async fn insert_idempotency(
    c: &mut Conn,
    person_id: i64,
    key_hash: &str,
    row: &IdemRow,
    now: i64,
) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "INSERT INTO api_idempotency (person_id, key_hash, request_hash, status, body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(person_id).bind(key_hash).bind(&row.request_hash).bind(row.status).bind(&row.body).bind(now)
        .execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// [`insert_inbox`] for many lines in multi-row statements (the daily check's notifications).
pub async fn insert_inbox_many(c: &mut Conn, rows: &[InboxRow]) -> StoreResult<()> {
    use crate::bulk::{self, Val};
    let vals: Vec<Vec<Val>> = rows
        .iter()
        .map(|i| {
            vec![
                Val::Int(i.person_id),
                Val::Text(i.event_kind.clone()),
                Val::Text(i.title.clone()),
                Val::Text(i.body.clone()),
                i.link.clone().into(),
                i.matter_id.into(),
                Val::Int(i.created_at),
            ]
        })
        .collect();
    bulk::insert(
        c,
        "notify_inbox",
        &[
            "person_id",
            "event_kind",
            "title",
            "body",
            "link",
            "matter_id",
            "created_at",
        ],
        &vals,
    )
    .await
}

/// [`insert_outbox`] for many deliveries in multi-row statements; repeated keys are ignored.
pub async fn insert_outbox_many(c: &mut Conn, rows: &[OutboxRow]) -> StoreResult<()> {
    use crate::bulk::{self, Val};
    let vals: Vec<Vec<Val>> = rows
        .iter()
        .map(|o| {
            vec![
                Val::Text(o.delivery_key.clone()),
                Val::Text(o.event_kind.clone()),
                o.person_id.into(),
                o.unit_id.into(),
                o.matter_id.into(),
                Val::Text(o.channel.clone()),
                o.target_id.into(),
                Val::Text(o.address.clone()),
                Val::Text(o.payload.clone()),
                Val::Text(o.status.clone()),
                Val::Int(0),
                Val::Int(o.next_attempt_at),
                Val::Int(o.created_at),
                Val::Text(String::new()),
            ]
        })
        .collect();
    bulk::insert_with(
        c,
        "notify_outbox",
        &[
            "delivery_key",
            "event_kind",
            "person_id",
            "unit_id",
            "matter_id",
            "channel",
            "target_id",
            "address",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "last_error",
        ],
        &vals,
        "ON CONFLICT (delivery_key) DO NOTHING",
    )
    .await
}

/// Every enabled target, in id order (read once for a batch of notifications).
pub async fn enabled_targets(c: &mut Conn) -> StoreResult<Vec<TargetRow>> {
    let sql = format!("SELECT {TARGET_COLS} FROM notify_targets WHERE enabled = TRUE ORDER BY id");
    let rows = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *c).await?;
        rows.iter().map(map_target).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(rows)
}

/// Every preference override as `(scope, scope_id, json)` (read once for a batch).
pub async fn all_prefs(c: &mut Conn) -> StoreResult<Vec<(String, i64, String)>> {
    let v = crate::on!(c, c => sqlx::query_as("SELECT scope, scope_id, prefs FROM notify_prefs")
        .fetch_all(&mut *c).await?);
    Ok(v)
}
