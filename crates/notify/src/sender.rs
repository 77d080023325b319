//! The transport seam: a [`Delivery`] (outbox key, notification, address) goes to a [`Sender`], which
//! answers with a [`Receipt`] or a classified [`SendError`]. [`Transports`] routes to SMTP or webhooks.

use std::fmt;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::email::SmtpSender;
use crate::error::{Failure, SendError};
use crate::message::{Channel, Notification};
use crate::render::{WebhookKind, WebhookTarget};
use crate::webhook::WebhookSender;

/// Where one delivery goes.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Address {
    /// One mailbox, `name@example.gov.cn` or `张三 <name@example.gov.cn>`.
    Email { to: String },
    /// A robot or receiver URL.
    Webhook(WebhookTarget),
}

impl Address {
    pub fn channel(&self) -> Channel {
        match self {
            Address::Email { .. } => Channel::Email,
            Address::Webhook(t) => match t.kind {
                WebhookKind::WeCom => Channel::WeCom,
                WebhookKind::DingTalk => Channel::DingTalk,
                WebhookKind::Feishu => Channel::Feishu,
                WebhookKind::Generic => Channel::Generic,
            },
        }
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Email { to } => f.debug_struct("Email").field("to", to).finish(),
            Address::Webhook(t) => t.fmt(f),
        }
    }
}

/// One row of the outbox, as the transport sees it. `key` is stable across retries: it becomes the
/// generic webhook's `X-Taizhang-Delivery` header and the email's `Message-ID`, so receivers can
/// drop a duplicate if a crash makes the outbox send twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub key: String,
    pub notification: Notification,
    pub address: Address,
}

/// Proof of acceptance, for the delivery log (e.g. `HTTP 200, errcode 0`, `250 OK`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub detail: String,
}

/// Something that delivers. Object-safe, so the app can hold an `Arc<dyn Sender>` and tests a fake.
pub trait Sender: Send + Sync {
    fn send<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<Receipt, SendError>>;
}

/// The real transports: email (if SMTP is configured) and webhooks.
pub struct Transports {
    email: Option<SmtpSender>,
    webhook: WebhookSender,
}

impl Transports {
    pub fn new(email: Option<SmtpSender>, webhook: WebhookSender) -> Transports {
        Transports { email, webhook }
    }
}

impl Sender for Transports {
    fn send<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            match &delivery.address {
                Address::Email { to } => match &self.email {
                    Some(smtp) => {
                        smtp.send_to(to, &delivery.key, &delivery.notification)
                            .await
                    }
                    None => Err(SendError::Permanent(Failure::NoTransport("email"))),
                },
                Address::Webhook(target) => {
                    self.webhook
                        .post(target, &delivery.key, &delivery.notification)
                        .await
                }
            }
        })
    }
}

impl Sender for WebhookSender {
    fn send<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            match &delivery.address {
                Address::Webhook(target) => {
                    self.post(target, &delivery.key, &delivery.notification)
                        .await
                }
                Address::Email { .. } => Err(SendError::Permanent(Failure::NoTransport("email"))),
            }
        })
    }
}

impl Sender for SmtpSender {
    fn send<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<Receipt, SendError>> {
        Box::pin(async move {
            match &delivery.address {
                Address::Email { to } => {
                    self.send_to(to, &delivery.key, &delivery.notification)
                        .await
                }
                Address::Webhook(_) => Err(SendError::Permanent(Failure::NoTransport("webhook"))),
            }
        })
    }
}
