//! Email (邮件): render a notification as a UTF-8 multipart message (plain text + simple HTML, both
//! base64, Chinese subject RFC 2047-encoded by lettre) and send it over SMTP with STARTTLS,
//! implicit TLS, or plain (for a relay on localhost).

use std::fmt;
use std::time::{Duration, SystemTime};

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::{Failure, SendError};
use crate::message::{Notification, one_line};
use crate::sender::Receipt;

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connect, then `STARTTLS` (required, not opportunistic); usually port 587.
    StartTls,
    /// TLS from the first byte (SMTPS); usually port 465.
    ImplicitTls,
    /// No TLS at all. Credentials are refused unless the host is loopback.
    Plain,
}

/// SMTP settings. `Debug` hides the password.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Sender, e.g. `台账系统 <taizhang@example.gov.cn>`.
    pub from: String,
    pub timeout: Duration,
    /// EHLO name; defaults to this machine's host name.
    pub hello_name: Option<String>,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Sends email through one configured SMTP server (a new connection per message).
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    now: fn() -> SystemTime,
}

fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl SmtpSender {
    pub fn new(config: &SmtpConfig) -> Result<SmtpSender, SendError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| SendError::config(format!("sender address: {e}")))?;
        let mut builder = match config.security {
            SmtpSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                    .map_err(|e| SendError::config(format!("SMTP TLS: {e}")))?
            }
            SmtpSecurity::ImplicitTls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)
                .map_err(|e| SendError::config(format!("SMTP TLS: {e}")))?,
            SmtpSecurity::Plain => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            }
        }
        .port(config.port)
        .timeout(Some(config.timeout));
        if let Some(name) = &config.hello_name {
            builder = builder.hello_name(ClientId::Domain(name.clone()));
        }
        if let Some(user) = &config.username {
            if config.security == SmtpSecurity::Plain && !is_loopback_host(&config.host) {
                return Err(SendError::config(
                    "SMTP credentials are only sent over TLS (or to localhost)",
                ));
            }
            let password = config.password.clone().unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(SmtpSender {
            transport: builder.build(),
            from,
            now: SystemTime::now,
        })
    }

    /// Fixes the `Date:` header (tests).
    pub fn with_clock(mut self, now: fn() -> SystemTime) -> SmtpSender {
        self.now = now;
        self
    }

    /// Sends `n` to one mailbox. `key` is the outbox delivery key; it determines the Message-ID.
    pub async fn send_to(
        &self,
        to: &str,
        key: &str,
        n: &Notification,
    ) -> Result<Receipt, SendError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| SendError::Permanent(Failure::Address(format!("{to}: {e}"))))?;
        let message = render_email(&self.from, &to, key, n, (self.now)())?;
        let response = self.transport.send(message).await.map_err(smtp_error)?;
        let text = response.message().next().unwrap_or_default();
        Ok(Receipt {
            detail: format!("{} {}", response.code(), one_line(text)),
        })
    }
}

fn smtp_error(e: lettre::transport::smtp::Error) -> SendError {
    let text = one_line(&e.to_string());
    if e.is_timeout() {
        SendError::Retryable(Failure::Timeout)
    } else if e.is_permanent() || e.is_tls() || e.is_client() {
        SendError::Permanent(Failure::Smtp(text))
    } else {
        // 4xx answers, refused or dropped connections, garbled answers.
        SendError::Retryable(Failure::Smtp(text))
    }
}

/// Builds the message: `[台账]【交办】标题` subject, text and HTML alternatives, a Message-ID derived
/// from `key` so a resend after a crash carries the same id.
pub fn render_email(
    from: &Mailbox,
    to: &Mailbox,
    key: &str,
    n: &Notification,
    date: SystemTime,
) -> Result<Message, SendError> {
    let id_hash = hex::encode(taizhang_domain::crypto::sha256(key.as_bytes()));
    let domain = from.email.domain();
    let text = format!(
        "{}\n\n{}\n\n— 台账（本邮件由系统自动发送，请勿直接回复）\n",
        n.heading(),
        n.plain_text()
    );
    let plain = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .header(ContentTransferEncoding::Base64)
        .body(text);
    let html = SinglePart::builder()
        .header(ContentType::TEXT_HTML)
        .header(ContentTransferEncoding::Base64)
        .body(html_body(n));
    Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(format!("[台账]{}", n.heading()))
        .message_id(Some(format!("<{}@{domain}>", &id_hash[..32])))
        .date(date)
        .multipart(MultiPart::alternative().singlepart(plain).singlepart(html))
        .map_err(|e| SendError::config(format!("email: {e}")))
}

fn html_body(n: &Notification) -> String {
    let heading = escape_html(&n.heading());
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{heading}</title></head>\n\
         <body style=\"font-family:sans-serif;line-height:1.6\">\n<h2>{heading}</h2>\n<p>"
    );
    let lines: Vec<String> = n.body.trim_end().lines().map(escape_html).collect();
    out.push_str(&lines.join("<br>\n"));
    out.push_str("</p>\n");
    if let Some(number) = &n.matter_number {
        out.push_str(&format!("<p>台账编号：{}</p>\n", escape_html(number)));
    }
    if let Some(link) = &n.link {
        let link_html = escape_html(link);
        if link.starts_with("https://") || link.starts_with("http://") {
            out.push_str(&format!("<p><a href=\"{link_html}\">查看详情</a></p>\n"));
        } else {
            out.push_str(&format!("<p>{link_html}</p>\n"));
        }
    }
    out.push_str("<hr><p style=\"color:#888\">本邮件由台账系统自动发送，请勿直接回复。</p>\n</body></html>\n");
    out
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::EventKind;

    #[test]
    fn html_escapes_user_text_and_refuses_script_links() {
        let n = Notification {
            event: EventKind::Assigned,
            title: "<script>alert(1)</script>".into(),
            body: "a & b\n\"c\"".into(),
            link: Some("javascript:alert(1)".into()),
            matter_number: None,
        };
        let html = html_body(&n);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("a &amp; b<br>\n&quot;c&quot;"), "{html}");
        assert!(!html.contains("href=\"javascript"), "{html}");
    }

    #[test]
    fn credentials_over_plain_smtp_are_refused_except_to_localhost() {
        let mut config = SmtpConfig {
            host: "mail.example.gov.cn".into(),
            port: 25,
            security: SmtpSecurity::Plain,
            username: Some("u".into()),
            password: Some("p".into()),
            from: "台账 <tz@example.gov.cn>".into(),
            timeout: Duration::from_secs(5),
            hello_name: None,
        };
        assert!(SmtpSender::new(&config).is_err());
        config.host = "127.0.0.1".into();
        assert!(SmtpSender::new(&config).is_ok());
        assert!(!format!("{config:?}").contains("\"p\""));
    }
}
