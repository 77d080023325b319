//! Integration tests of taizhang-notify: SSRF catalogue, webhook receivers and an SMTP sink, all on
//! 127.0.0.1 or a fake resolver; nothing here reaches a private or metadata address.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod email;
mod ssrf;
mod support;
mod webhook;
