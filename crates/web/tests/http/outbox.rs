//! Notifications end to end (issue 7): a step taken through the API writes inbox lines and outbox
//! rows in its transaction; the worker posts them to a signed webhook receiver on 127.0.0.1; a
//! worker killed between send and commit leaves the row to be sent again with the same delivery
//! key, so the receiver keeps one notification; targets are SSRF-checked on save.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use taizhang_app::notify::{ALLOW_LIST_SETTING, NewTarget, save_target};
use taizhang_app::{Caller, ledger};
use taizhang_jobs::outbox::OutboxWorker;
use taizhang_notify::{AllowList, WebhookSender};
use taizhang_testkit::TestDb;

use crate::support::TestApp;

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A generic-webhook receiver on 127.0.0.1 that records every post.
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s2 = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |h: HeaderMap, b: Bytes| {
            let s = s2.clone();
            async move {
                s.lock().unwrap().push((h, b));
                "{\"ok\":true}"
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

fn hmac_hex(key: &str, body: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

/// A matter of unit `unit`, assigned (交办) by the system; returns its id.
async fn assigned_matter(t: &TestApp, unit: i64) -> i64 {
    let sys = Caller::system("test");
    let input = ledger::NewMatter::basic(
        "通知测试事项",
        unit,
        ledger::matters::DeadlineInput::Date("2026-06-30".into()),
    );
    let id = ledger::create_matter(&t.app, &sys, input).await.unwrap();
    ledger::flow::submit_matter(&t.app, &sys, id).await.unwrap();
    ledger::flow::approve_matter(&t.app, &sys, id)
        .await
        .unwrap();
    id
}

async fn setup(t: &TestApp, url: &str) -> i64 {
    let mut c = t.app.store.begin().await.unwrap();
    taizhang_store::settings::put(&mut c, ALLOW_LIST_SETTING, "127.0.0.1", 0)
        .await
        .unwrap();
    let unit = taizhang_store::org::list_units(&mut c).await.unwrap()[1].id;
    c.commit().await.unwrap();
    let target = NewTarget {
        scope: "unit".into(),
        scope_id: unit,
        kind: "generic".into(),
        address: url.into(),
        secret: Some("s3cret".into()),
    };
    save_target(&t.app, &Caller::system("test"), target)
        .await
        .unwrap();
    unit
}

fn worker(t: &TestApp) -> OutboxWorker {
    let allow = AllowList::parse(&["127.0.0.1"]).unwrap();
    OutboxWorker::new(t.app.clone(), Arc::new(WebhookSender::new(allow).unwrap()))
}

#[tokio::test]
async fn an_assignment_reaches_the_units_webhook_signed_and_exactly_once() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let (url, seen) = receiver().await;
        let unit = setup(&t, &url).await;
        let id = assigned_matter(&t, unit).await;
        let w = worker(&t);
        assert_eq!(w.run_once().await.unwrap(), 1);
        assert_eq!(
            w.run_once().await.unwrap(),
            0,
            "sent rows are not sent again"
        );
        let got = seen.lock().unwrap().clone();
        assert_eq!(got.len(), 1);
        let (h, body) = &got[0];
        assert_eq!(h["x-taizhang-event"], "assigned");
        assert_eq!(
            h["x-taizhang-signature"].to_str().unwrap(),
            hmac_hex("s3cret", body)
        );
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert!(v.to_string().contains("通知测试事项"), "{v}");
        assert!(v.to_string().contains(&format!("/matters/{id}")), "{v}");
        let log = taizhang_app::notify::delivery_log(&t.app, &Caller::system("t"), 10)
            .await
            .unwrap();
        assert_eq!(log.deliveries[0].status, "sent");
    }
}

#[tokio::test]
async fn a_worker_killed_between_send_and_commit_resends_with_the_same_key() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let (url, seen) = receiver().await;
        let unit = setup(&t, &url).await;
        assigned_matter(&t, unit).await;
        let w = worker(&t);
        // Claim and send, then "die" before filing the outcome.
        let rows = w.claim().await.unwrap();
        assert_eq!(rows.len(), 1);
        let d = w.delivery_of(&rows[0]).await.unwrap();
        w.sender.send(&d).await.unwrap();
        drop(rows);
        // The lease still holds: nobody sends it now.
        assert_eq!(w.run_once().await.unwrap(), 0);
        t.clock.advance_ms(w.lease_ms + 1);
        assert_eq!(w.run_once().await.unwrap(), 1);
        assert_eq!(w.run_once().await.unwrap(), 0);
        let got = seen.lock().unwrap().clone();
        assert_eq!(got.len(), 2, "sent twice on the wire");
        let keys: std::collections::BTreeSet<String> = got
            .iter()
            .map(|(h, _)| h["x-taizhang-delivery"].to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            keys.len(),
            1,
            "one delivery key: the receiver keeps one notification"
        );
        let log = taizhang_app::notify::delivery_log(&t.app, &Caller::system("t"), 10)
            .await
            .unwrap();
        assert_eq!(log.deliveries.len(), 1);
        assert_eq!(log.deliveries[0].status, "sent");
    }
}

#[tokio::test]
async fn a_failing_receiver_is_retried_on_the_schedule() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    // Nothing listens on this port: connection refused, a retryable failure.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    drop(l);
    let unit = setup(&t, &url).await;
    assigned_matter(&t, unit).await;
    let w = worker(&t);
    assert_eq!(w.run_once().await.unwrap(), 1);
    assert_eq!(w.run_once().await.unwrap(), 0, "waits for the backoff");
    let log = taizhang_app::notify::delivery_log(&t.app, &Caller::system("t"), 10)
        .await
        .unwrap();
    assert_eq!(log.deliveries[0].status, "pending");
    assert_eq!(log.deliveries[0].attempts, 1);
    t.clock.advance_ms(2 * 60_000);
    assert_eq!(w.run_once().await.unwrap(), 1);
}

#[tokio::test]
async fn webhook_targets_are_ssrf_checked_when_saved() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    for url in [
        "http://127.0.0.1:9/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://2130706433/",
        "file:///etc/passwd",
        "http://10.0.0.1/",
    ] {
        let target = NewTarget {
            scope: "unit".into(),
            scope_id: 1,
            kind: "wecom".into(),
            address: url.into(),
            secret: None,
        };
        let e = save_target(&t.app, &Caller::system("t"), target)
            .await
            .unwrap_err();
        assert!(
            matches!(e, taizhang_app::AppError::Invalid { .. }),
            "{url}: {e:?}"
        );
    }
}

#[tokio::test]
async fn the_assigned_handler_sees_it_in_the_inbox() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let sys = Caller::system("test");
    let mut c = t.app.store.read().await.unwrap();
    let p = taizhang_store::people::find_by_username(&mut c, "jingban1")
        .await
        .unwrap()
        .unwrap();
    drop(c);
    let mut input = ledger::NewMatter::basic(
        "站内信测试",
        p.unit_id,
        ledger::matters::DeadlineInput::Date("2026-06-30".into()),
    );
    input.handler_ids = vec![p.id];
    let id = ledger::create_matter(&t.app, &sys, input).await.unwrap();
    ledger::flow::submit_matter(&t.app, &sys, id).await.unwrap();
    ledger::flow::approve_matter(&t.app, &sys, id)
        .await
        .unwrap();
    let tok = taizhang_app::identity::create_token(&t.app, &sys, "jingban1", "t", None)
        .await
        .unwrap();
    let mut b = t.browser();
    let req = axum::http::Request::get("/api/v1/inbox/count")
        .header("authorization", format!("Bearer {tok}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let r = b.send(req).await;
    assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("\"unread\":1"), "{}", r.body);
}

/// One message a fake SMTP server received.
#[derive(Debug, Clone, Default)]
struct Mail {
    from: String,
    rcpt: Vec<String>,
    data: String,
}

type Mailbox = Arc<Mutex<Vec<Mail>>>;

/// A tiny SMTP server on 127.0.0.1 speaking just enough of RFC 5321 for one client:
/// EHLO/HELO, MAIL, RCPT, DATA (dot-unstuffed), RSET, NOOP, QUIT.
async fn fake_smtp() -> (u16, Mailbox) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let mailbox: Mailbox = Arc::default();
    let mb = mailbox.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = l.accept().await {
            let mb = mb.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                let mut mail = Mail::default();
                let mut line = String::new();
                w.write_all(b"220 fake.test ESMTP\r\n").await?;
                loop {
                    line.clear();
                    if r.read_line(&mut line).await? == 0 {
                        return Ok::<(), std::io::Error>(());
                    }
                    let cmd = line.trim_end().to_owned();
                    let upper = cmd.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 fake.test\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        mail.from = cmd[10..].trim().to_owned();
                        b"250 2.1.0 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        let to = cmd[8..]
                            .trim()
                            .trim_start_matches('<')
                            .trim_end_matches('>');
                        mail.rcpt.push(to.to_owned());
                        b"250 2.1.5 OK\r\n"
                    } else if upper == "DATA" {
                        w.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                        loop {
                            line.clear();
                            if r.read_line(&mut line).await? == 0 {
                                return Ok(());
                            }
                            if line == ".\r\n" {
                                break;
                            }
                            let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                            mail.data.push_str(unstuffed);
                        }
                        mb.lock().unwrap().push(std::mem::take(&mut mail));
                        b"250 2.0.0 queued as fake-1\r\n"
                    } else if upper == "QUIT" {
                        w.write_all(b"221 2.0.0 bye\r\n").await?;
                        return Ok(());
                    } else if upper == "RSET" || upper == "NOOP" {
                        b"250 2.0.0 OK\r\n"
                    } else {
                        b"502 5.5.2 not implemented\r\n"
                    };
                    w.write_all(reply).await?;
                }
            });
        }
    });
    (port, mailbox)
}

/// A header of a message, unfolded, with its RFC 2047 encoded words (`=?utf-8?b?…?=`) decoded.
fn header(data: &str, name: &str) -> Option<String> {
    use base64::Engine;
    let head = data.split("\r\n\r\n").next()?;
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let raw = unfolded.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })?;
    // Decode each encoded word; whitespace between two encoded words is dropped (RFC 2047 §6.2).
    let mut out = Vec::new();
    let mut rest = raw.as_str();
    let mut last_was_word = false;
    while !rest.is_empty() {
        match rest.find("=?") {
            Some(i) => {
                let gap = &rest[..i];
                if !(last_was_word && gap.trim().is_empty()) {
                    out.extend_from_slice(gap.as_bytes());
                }
                let word = &rest[i + 2..];
                let mut parts = word.splitn(3, '?');
                let (_charset, enc, tail) = (parts.next()?, parts.next()?, parts.next()?);
                let end = tail.find("?=")?;
                assert!(enc.eq_ignore_ascii_case("b"), "expected B encoding: {raw}");
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(&tail[..end])
                    .ok()?;
                out.extend_from_slice(&bytes);
                rest = &tail[end + 2..];
                last_was_word = true;
            }
            None => {
                out.extend_from_slice(rest.as_bytes());
                rest = "";
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The base64 parts of a MIME message, decoded.
fn base64_parts(data: &str) -> Vec<String> {
    use base64::Engine;
    let mut out = Vec::new();
    for part in data.split("Content-Transfer-Encoding: base64").skip(1) {
        let body = part.split("\r\n\r\n").nth(1).unwrap_or("");
        let b64: String = body
            .lines()
            .take_while(|l| !l.starts_with("--"))
            .collect::<Vec<_>>()
            .concat();
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
            out.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    out
}

#[tokio::test]
async fn an_assignment_email_goes_through_the_outbox_over_smtp() {
    use taizhang_notify::{SmtpConfig, SmtpSecurity, SmtpSender, Transports};
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let (port, mailbox) = fake_smtp().await;
        // The lead unit's mailbox, configured as a notification target.
        let mut c = t.app.store.read().await.unwrap();
        let unit = taizhang_store::org::list_units(&mut c).await.unwrap()[1].id;
        drop(c);
        let target = NewTarget {
            scope: "unit".into(),
            scope_id: unit,
            kind: "email".into(),
            address: "ganbu1@example.gov.cn".into(),
            secret: None,
        };
        save_target(&t.app, &Caller::system("test"), target)
            .await
            .unwrap();
        // The app's SMTP settings, pointed at the fake server (plain SMTP on loopback).
        let smtp = SmtpSender::new(&SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::Plain,
            username: None,
            password: None,
            from: "台账系统 <taizhang@example.gov.cn>".into(),
            timeout: std::time::Duration::from_secs(10),
            hello_name: Some("taizhang.test".into()),
        })
        .unwrap();
        let webhooks = WebhookSender::new(AllowList::empty()).unwrap();
        let w = OutboxWorker::new(
            t.app.clone(),
            Arc::new(Transports::new(Some(smtp), webhooks)),
        );

        // 交办 notifies the lead unit by email; the worker sends it once.
        let id = assigned_matter(&t, unit).await;
        assert_eq!(w.run_once().await.unwrap(), 1);
        assert_eq!(w.run_once().await.unwrap(), 0);
        let mails = mailbox.lock().unwrap().clone();
        assert_eq!(mails.len(), 1, "{mails:?}");
        let m = &mails[0];
        assert_eq!(m.rcpt, ["ganbu1@example.gov.cn"]);
        assert_eq!(m.from, "<taizhang@example.gov.cn>");
        assert_eq!(
            header(&m.data, "Subject").as_deref(),
            Some("[台账]【交办】通知测试事项"),
            "{}",
            m.data
        );
        assert!(
            header(&m.data, "To")
                .unwrap()
                .contains("ganbu1@example.gov.cn")
        );
        assert!(header(&m.data, "Message-ID").is_some());
        let text = base64_parts(&m.data).join("\n");
        assert!(text.contains("事项已交办"), "{text}");
        assert!(text.contains(&format!("/matters/{id}")), "{text}");

        let log = taizhang_app::notify::delivery_log(&t.app, &Caller::system("t"), 10)
            .await
            .unwrap();
        let row = log
            .deliveries
            .iter()
            .find(|d| d.channel == "email")
            .unwrap();
        assert_eq!(row.status, "sent");
        assert_eq!(row.address, "ganbu1@example.gov.cn");
    }
}
