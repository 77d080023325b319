//! Email through an SMTP sink on 127.0.0.1: envelope, headers (Chinese subject properly encoded),
//! both MIME parts, and the classification of SMTP failures.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use taizhang_notify::{Failure, SendError, SmtpConfig, SmtpSecurity, SmtpSender};

use crate::support::{closed_port, sample, smtp_sink};

fn config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::Plain,
        username: None,
        password: None,
        from: "台账系统 <taizhang@example.gov.cn>".into(),
        timeout: Duration::from_secs(5),
        hello_name: Some("taizhang.test".into()),
    }
}

/// Header block, unfolded, as (lowercase name, value) pairs.
fn headers(data: &str) -> Vec<(String, String)> {
    let head = data
        .split("\r\n\r\n")
        .next()
        .unwrap()
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ");
    head.split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned()))
        .collect()
}

fn header<'a>(all: &'a [(String, String)], name: &str) -> &'a str {
    &all.iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .1
}

/// Decodes RFC 2047 `=?utf-8?b?…?=` words (the only form lettre emits for non-ASCII).
fn decode_words(value: &str) -> String {
    let mut bytes = Vec::new();
    for token in value.split_whitespace() {
        let lower = token.to_ascii_lowercase();
        if lower.starts_with("=?utf-8?b?") && lower.ends_with("?=") {
            bytes.extend(STANDARD.decode(&token[10..token.len() - 2]).unwrap());
        } else {
            if !bytes.is_empty() {
                bytes.push(b' ');
            }
            bytes.extend(token.as_bytes());
        }
    }
    String::from_utf8(bytes).unwrap()
}

/// The decoded base64 bodies of all parts, with their Content-Type lines.
fn parts(data: &str) -> Vec<(String, String)> {
    data.split("\r\n--")
        .filter_map(|part| {
            let (head, body) = part.split_once("\r\n\r\n")?;
            let content_type = head
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("content-type:"))?
                .to_owned();
            if !head
                .to_ascii_lowercase()
                .contains("content-transfer-encoding: base64")
            {
                return None;
            }
            let b64: String = body.split("\r\n").take_while(|l| !l.is_empty()).collect();
            let decoded = String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap();
            Some((content_type, decoded))
        })
        .collect()
}

#[tokio::test]
async fn a_chinese_email_reaches_the_sink_with_proper_headers_and_both_parts() {
    let (port, session) = smtp_sink("250 2.1.5 OK\r\n").await;
    let sender = SmtpSender::new(&config(port)).unwrap().with_clock(|| {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_772_409_600) // 2026-03-02 00:00 UTC
    });
    let receipt = sender
        .send_to("张三 <zhangsan@example.gov.cn>", "outbox-42", &sample())
        .await
        .unwrap();
    assert!(receipt.detail.starts_with("250"), "{}", receipt.detail);

    let session = session.await.unwrap();
    assert_eq!(session.ehlo, "EHLO taizhang.test");
    assert!(
        session.mail_from.contains("<taizhang@example.gov.cn>"),
        "{}",
        session.mail_from
    );
    assert_eq!(session.rcpt_to.len(), 1);
    assert!(session.rcpt_to[0].contains("<zhangsan@example.gov.cn>"));

    let data = &session.data;
    assert!(data.is_ascii(), "headers and bodies are 7-bit on the wire");
    let all = headers(data);
    assert_eq!(
        decode_words(header(&all, "subject")),
        "[台账]【交办】关于开展专项督查的通知"
    );
    assert!(
        header(&all, "subject")
            .to_ascii_lowercase()
            .starts_with("=?utf-8?b?")
    );
    assert_eq!(
        decode_words(header(&all, "from")),
        "台账系统 <taizhang@example.gov.cn>"
    );
    assert_eq!(
        decode_words(header(&all, "to")),
        "张三 <zhangsan@example.gov.cn>"
    );
    assert!(
        header(&all, "date").contains("2 Mar 2026"),
        "{}",
        header(&all, "date")
    );
    assert_eq!(header(&all, "mime-version"), "1.0");
    assert!(header(&all, "content-type").starts_with("multipart/alternative"));
    let hash = hex::encode(Sha256::digest(b"outbox-42"));
    assert_eq!(
        header(&all, "message-id"),
        format!("<{}@example.gov.cn>", &hash[..32])
    );

    let parts = parts(data);
    assert_eq!(parts.len(), 2, "{data}");
    let (text_type, text) = &parts[0];
    assert!(
        text_type
            .to_ascii_lowercase()
            .contains("text/plain; charset=utf-8")
    );
    assert!(
        text.starts_with(
            "【交办】关于开展专项督查的通知\r\n\r\n请于 3 月 10 日前报送整改进展。\r\n联系人：王五"
        ),
        "{text:?}"
    );
    assert!(text.contains("台账编号：DB-2026-0042"));
    assert!(text.contains("查看详情：https://taizhang.example.gov.cn/matters/42"));
    let (html_type, html) = &parts[1];
    assert!(
        html_type
            .to_ascii_lowercase()
            .contains("text/html; charset=utf-8")
    );
    assert!(html.contains("<h2>【交办】关于开展专项督查的通知</h2>"));
    assert!(html.contains("请于 3 月 10 日前报送整改进展。<br>\r\n联系人：王五"));
    assert!(html.contains("<a href=\"https://taizhang.example.gov.cn/matters/42\">查看详情</a>"));
}

#[tokio::test]
async fn a_temporary_smtp_refusal_is_retryable() {
    let (port, _session) = smtp_sink("451 4.3.0 try again later\r\n").await;
    let err = SmtpSender::new(&config(port))
        .unwrap()
        .send_to("a@example.gov.cn", "k", &sample())
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn a_permanent_smtp_refusal_is_permanent() {
    let (port, _session) = smtp_sink("550 5.1.1 no such user\r\n").await;
    let err = SmtpSender::new(&config(port))
        .unwrap()
        .send_to("nobody@example.gov.cn", "k", &sample())
        .await
        .unwrap_err();
    assert!(
        matches!(err, SendError::Permanent(Failure::Smtp(_))),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_retryable() {
    let port = closed_port().await;
    let err = SmtpSender::new(&config(port))
        .unwrap()
        .send_to("a@example.gov.cn", "k", &sample())
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn a_malformed_recipient_is_permanent_and_nothing_is_sent() {
    let sender = SmtpSender::new(&config(closed_port().await)).unwrap();
    let err = sender
        .send_to("not an address", "k", &sample())
        .await
        .unwrap_err();
    assert!(
        matches!(err, SendError::Permanent(Failure::Address(_))),
        "{err}"
    );
    let injected = sender
        .send_to("a@example.gov.cn\r\nBcc: b@example.gov.cn", "k", &sample())
        .await
        .unwrap_err();
    assert!(!injected.is_retryable(), "{injected}");
}

#[tokio::test]
async fn starttls_is_required_not_opportunistic() {
    // The sink does not offer STARTTLS, so nothing may be sent in the clear.
    let (port, session) = smtp_sink("250 2.1.5 OK\r\n").await;
    let starttls = SmtpConfig {
        security: SmtpSecurity::StartTls,
        ..config(port)
    };
    let err = SmtpSender::new(&starttls)
        .unwrap()
        .send_to("a@example.gov.cn", "k", &sample())
        .await
        .unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    let session = session.await.unwrap();
    assert!(
        session.mail_from.is_empty() && session.data.is_empty(),
        "{session:?}"
    );
}
