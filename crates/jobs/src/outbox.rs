//! The notification outbox worker: claims due deliveries (leased, `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), hands each to a [`Sender`] from `taizhang-notify`, and files the outcome in the
//! delivery log: sent, retried on the [`RetrySchedule`], or given up. A worker killed between
//! send and commit leaves the row `sending`; when its lease runs out the row is sent again with
//! the same delivery key (`X-Taizhang-Delivery` / `Message-ID`), so receivers see one
//! notification. Daily digests fold held rows into one message per person.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use taizhang_app::App;
use taizhang_notify::{
    Address, ChatFormat, Delivery, EventKind, Notification, RetrySchedule, SendError, Sender,
    WebhookKind, WebhookTarget,
};
use taizhang_store::outbox::{self as store_out, OutboxRow};
use tokio::task::JoinHandle;

/// How the worker runs.
#[derive(Clone)]
pub struct OutboxWorker {
    pub app: App,
    pub sender: Arc<dyn Sender>,
    pub retry: RetrySchedule,
    /// How long a claimed row is ours before another worker may take it.
    pub lease_ms: i64,
    pub batch: i64,
}

impl OutboxWorker {
    pub fn new(app: App, sender: Arc<dyn Sender>) -> OutboxWorker {
        OutboxWorker {
            app,
            sender,
            retry: RetrySchedule::default(),
            lease_ms: 5 * 60_000,
            batch: 50,
        }
    }

    /// Claim the due rows (one short transaction).
    pub async fn claim(&self) -> anyhow::Result<Vec<OutboxRow>> {
        let now = self.app.clock.now_ms();
        let mut c = self.app.store.begin().await?;
        let rows = store_out::claim_due(&mut c, now, self.lease_ms, self.batch).await?;
        c.commit().await?;
        Ok(rows)
    }

    /// The transport's view of a claimed row (the target is read now, so a disabled or
    /// deleted target stops further sends).
    pub async fn delivery_of(&self, row: &OutboxRow) -> Result<Delivery, String> {
        let notification: Notification =
            serde_json::from_str(&row.payload).map_err(|e| format!("payload: {e}"))?;
        let address = if row.channel == "email" {
            Address::Email {
                to: row.address.clone(),
            }
        } else {
            let id = row.target_id.ok_or("no target")?;
            let mut c = self.app.store.read().await.map_err(|e| e.to_string())?;
            let t = store_out::find_target(&mut c, id)
                .await
                .map_err(|e| e.to_string())?
                .filter(|t| t.enabled)
                .ok_or("target removed or disabled")?;
            let kind = match t.kind.as_str() {
                "wecom" => WebhookKind::WeCom,
                "dingtalk" => WebhookKind::DingTalk,
                "feishu" => WebhookKind::Feishu,
                _ => WebhookKind::Generic,
            };
            Address::Webhook(WebhookTarget {
                kind,
                url: t.address,
                secret: t.secret,
                format: ChatFormat::Markdown,
            })
        };
        Ok(Delivery {
            key: row.delivery_key.clone(),
            notification,
            address,
        })
    }

    /// File the outcome of one attempt (one short transaction).
    pub async fn file(
        &self,
        row: &OutboxRow,
        result: Result<String, SendError>,
    ) -> anyhow::Result<()> {
        let now = self.app.clock.now_ms();
        let (outcome, detail, retry_at) = match result {
            Ok(receipt) => ("sent", receipt, None),
            Err(e) => {
                let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
                let retry_at = e
                    .is_retryable()
                    .then(|| self.retry.next_attempt_ms(attempts, now, rand::random()))
                    .flatten();
                let outcome = if retry_at.is_some() {
                    "retry"
                } else {
                    "failed"
                };
                (outcome, e.to_string(), retry_at)
            }
        };
        let mut c = self.app.store.begin().await?;
        store_out::finish_attempt(&mut c, row, outcome, &detail, retry_at, now).await?;
        c.commit().await?;
        Ok(())
    }

    /// Claim, send and file every due row once; returns how many were attempted.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let rows = self.claim().await.context("claim outbox rows")?;
        for row in &rows {
            let result = match self.delivery_of(row).await {
                Ok(d) => self.sender.send(&d).await.map(|r| r.detail),
                Err(why) => Err(SendError::Permanent(taizhang_notify::Failure::Config(why))),
            };
            self.file(row, result)
                .await
                .context("file outbox outcome")?;
        }
        Ok(rows.len())
    }

    /// Fold each person's held rows into one 每日汇总 queued for sending now.
    /// The worker's clock (the app's), in unix milliseconds.
    pub fn app_now_ms(&self) -> i64 {
        self.app.clock.now_ms()
    }

    pub async fn run_digest(&self) -> anyhow::Result<usize> {
        let now = self.app.clock.now_ms();
        let today = taizhang_app::ledger::today(&self.app);
        let mut c = self.app.store.begin().await?;
        let people = store_out::digest_people(&mut c).await?;
        for p in &people {
            let rows = store_out::take_digest(&mut c, *p, now).await?;
            let mut by_channel: std::collections::BTreeMap<
                (String, Option<i64>, String),
                Vec<Notification>,
            > = Default::default();
            for r in rows {
                if let Ok(n) = serde_json::from_str::<Notification>(&r.payload) {
                    by_channel
                        .entry((r.channel, r.target_id, r.address))
                        .or_default()
                        .push(n);
                }
            }
            for ((channel, target_id, address), items) in by_channel {
                let Some(n) = taizhang_notify::policy::build_digest(today, &items, Some("/inbox"))
                else {
                    continue;
                };
                let row = OutboxRow {
                    id: 0,
                    delivery_key: format!(
                        "tzd_digest_{p}_{today}_{channel}_{}",
                        target_id.unwrap_or(0)
                    ),
                    event_kind: EventKind::Digest.as_str().into(),
                    person_id: Some(*p),
                    unit_id: None,
                    matter_id: None,
                    channel,
                    target_id,
                    address,
                    payload: serde_json::to_string(&n)?,
                    status: "pending".into(),
                    attempts: 0,
                    next_attempt_at: now,
                    created_at: now,
                    sent_at: None,
                    last_error: String::new(),
                };
                store_out::insert_outbox(&mut c, &row).await?;
            }
        }
        c.commit().await?;
        Ok(people.len())
    }
}

/// Run the outbox every `every` until the task is dropped; errors are logged, never fatal.
/// The lead wires it in `serve` beside `spawn_scheduler`, with the transports from configuration.
pub fn spawn_outbox(worker: OutboxWorker, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        let mut last_digest: Option<jiff::civil::Date> = None;
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match worker.run_once().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deliveries = n, "outbox run"),
                Err(e) => tracing::error!(error = %e, "outbox run failed"),
            }
            // The daily digest (每日汇总), once a day from 08:00 China time.
            let now = worker.app_now_ms();
            let today = taizhang_app::clock::date_of_ms(now);
            let hour = (now / 3_600_000 + 8).rem_euclid(24);
            if hour >= 8 && last_digest != Some(today) {
                last_digest = Some(today);
                match worker.run_digest().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(digests = n, "daily digest sent"),
                    Err(e) => tracing::error!(error = %e, "daily digest failed"),
                }
            }
        }
    })
}
