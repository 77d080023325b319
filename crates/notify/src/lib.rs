//! Taizhang (台账) notifications at the transport level: the message model, per-channel rendering
//! and signing (WeCom 企业微信, DingTalk 钉钉, Feishu 飞书, generic signed JSON, email), the SSRF guard
//! for outbound URLs, the senders, and the pure delivery policy an outbox needs.
//!
//! The outbox itself (rows written in the event's transaction, leasing, the delivery log) lives in
//! the app; it hands each due row to a [`Sender`] and files the [`Receipt`] or [`SendError`].

pub mod email;
pub mod error;
pub mod message;
pub mod policy;
pub mod render;
pub mod sender;
pub mod sign;
pub mod ssrf;
pub mod webhook;

pub use email::{SmtpConfig, SmtpSecurity, SmtpSender};
pub use error::{Failure, SendError};
pub use message::{Channel, EventKind, Notification};
pub use policy::{PreferenceOverrides, Preferences, QuietHours, RetrySchedule};
pub use render::{ChatFormat, WebhookKind, WebhookTarget};
pub use sender::{Address, Delivery, Receipt, Sender, Transports};
pub use ssrf::{
    AllowList, PinnedUrl, Resolver, SsrfError, SystemResolver, ValidatedUrl, validate_outbound_url,
};
pub use webhook::{WebhookConfig, WebhookSender};
