//! Delivery errors, classified for the outbox: [`SendError::Retryable`] (try again on the backoff
//! schedule) or [`SendError::Permanent`] (give up and show it in the delivery log).
//!
//! Messages never contain webhook URLs or secrets: WeCom and DingTalk URLs carry credentials.

use crate::ssrf::SsrfError;

/// What went wrong, without the retry verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("outbound URL refused: {0}")]
    Ssrf(#[from] SsrfError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("timed out")]
    Timeout,
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("redirect (HTTP {0}) not followed")]
    Redirect(u16),
    #[error("refused by the receiver: code {code}: {message}")]
    Rejected { code: i64, message: String },
    #[error("unreadable response: {0}")]
    BadResponse(String),
    #[error("invalid email address: {0}")]
    Address(String),
    #[error("SMTP: {0}")]
    Smtp(String),
    #[error("no transport configured for {0}")]
    NoTransport(&'static str),
}

impl Failure {
    /// Stable code for the delivery log.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Ssrf(e) => e.code(),
            Failure::Config(_) => "config",
            Failure::Timeout => "timeout",
            Failure::Connect(_) => "connect",
            Failure::Status(_) => "http_status",
            Failure::Redirect(_) => "redirect",
            Failure::Rejected { .. } => "rejected",
            Failure::BadResponse(_) => "bad_response",
            Failure::Address(_) => "bad_address",
            Failure::Smtp(_) => "smtp",
            Failure::NoTransport(_) => "no_transport",
        }
    }
}

/// A failed delivery and whether it is worth trying again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Temporary: network trouble, timeouts, 5xx, 429, rate limits, SMTP 4xx.
    #[error("temporary failure: {0}")]
    Retryable(Failure),
    /// Needs a person: bad configuration, refused URL, wrong signature, 4xx, SMTP 5xx.
    #[error("permanent failure: {0}")]
    Permanent(Failure),
}

impl SendError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::Retryable(_))
    }

    pub fn failure(&self) -> &Failure {
        match self {
            SendError::Retryable(f) | SendError::Permanent(f) => f,
        }
    }

    /// An SSRF refusal: retryable only for DNS trouble.
    pub(crate) fn ssrf(e: SsrfError) -> SendError {
        if e.is_retryable() {
            SendError::Retryable(Failure::Ssrf(e))
        } else {
            SendError::Permanent(Failure::Ssrf(e))
        }
    }

    pub(crate) fn config(msg: impl Into<String>) -> SendError {
        SendError::Permanent(Failure::Config(msg.into()))
    }
}
