//! Test doubles: a fake resolver (no network), webhook receivers and an SMTP sink on 127.0.0.1.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use futures::future::BoxFuture;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use taizhang_notify::{EventKind, Notification, Resolver};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// HMAC-SHA256 straight from the `hmac` crate, independent of the crate under test.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn sample() -> Notification {
    Notification {
        event: EventKind::Assigned,
        title: "关于开展专项督查的通知".into(),
        body: "请于 3 月 10 日前报送整改进展。\n联系人：王五".into(),
        link: Some("https://taizhang.example.gov.cn/matters/42".into()),
        matter_number: Some("DB-2026-0042".into()),
    }
}

/// Answers from a table, or in sequence; counts calls. Never touches the network.
#[derive(Default)]
pub struct FakeResolver {
    table: HashMap<String, Vec<IpAddr>>,
    sequence: Mutex<VecDeque<Vec<IpAddr>>>,
    pub calls: AtomicUsize,
}

impl FakeResolver {
    pub fn with(entries: &[(&str, &[&str])]) -> FakeResolver {
        let table = entries
            .iter()
            .map(|(host, ips)| {
                (
                    host.to_string(),
                    ips.iter().map(|ip| ip.parse().unwrap()).collect(),
                )
            })
            .collect();
        FakeResolver {
            table,
            ..FakeResolver::default()
        }
    }

    /// Each lookup of any name takes the next answer.
    pub fn sequence(answers: &[&[&str]]) -> FakeResolver {
        let answers = answers
            .iter()
            .map(|ips| ips.iter().map(|ip| ip.parse().unwrap()).collect())
            .collect();
        FakeResolver {
            sequence: Mutex::new(answers),
            ..FakeResolver::default()
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Resolver for FakeResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        _port: u16,
    ) -> BoxFuture<'a, std::io::Result<Vec<IpAddr>>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = match self.table.get(host) {
            Some(ips) => Some(ips.clone()),
            None => self.sequence.lock().unwrap().pop_front(),
        };
        Box::pin(async move {
            answer.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such host"))
        })
    }
}

/// What a webhook receiver saw.
#[derive(Debug)]
pub struct Captured {
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Captured {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn query(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).unwrap().to_str().unwrap()
    }
}

/// An HTTP receiver on 127.0.0.1 answering every request with `status`, `answer` and optionally a
/// `Location`. Returns its address and the stream of captured requests.
pub async fn receiver(
    status: u16,
    answer: &'static str,
    location: Option<&'static str>,
) -> (SocketAddr, mpsc::UnboundedReceiver<Captured>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let tx = tx.clone();
        async move {
            tx.send(Captured { uri, headers, body }).unwrap();
            let mut out = HeaderMap::new();
            out.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
            if let Some(loc) = location {
                out.insert(header::LOCATION, loc.parse().unwrap());
            }
            (StatusCode::from_u16(status).unwrap(), out, answer)
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, rx)
}

/// A listener that accepts and never answers (for timeouts).
pub async fn silent_listener() -> (SocketAddr, Arc<Mutex<Vec<tokio::net::TcpStream>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            keep.lock().unwrap().push(stream);
        }
    });
    (addr, held)
}

/// A port on 127.0.0.1 with nothing listening.
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// One SMTP conversation as the sink saw it.
#[derive(Debug, Default)]
pub struct SmtpSession {
    pub ehlo: String,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: String,
}

/// A minimal SMTP server on 127.0.0.1 for one connection: EHLO/HELO, MAIL, RCPT (answered with
/// `rcpt_reply`), DATA, RSET, NOOP, QUIT; no TLS, no AUTH.
pub async fn smtp_sink(rcpt_reply: &'static str) -> (u16, oneshot::Receiver<SmtpSession>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        let mut session = SmtpSession::default();
        write
            .write_all(b"220 sink.test ESMTP ready\r\n")
            .await
            .unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                break;
            }
            let command = line.trim_end().to_owned();
            let upper = command.to_ascii_uppercase();
            let reply: &str = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                session.ehlo = command;
                "250-sink.test\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                session.mail_from = command;
                "250 2.1.0 OK\r\n"
            } else if upper.starts_with("RCPT TO:") {
                session.rcpt_to.push(command);
                rcpt_reply
            } else if upper == "DATA" {
                write
                    .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                    .await
                    .unwrap();
                loop {
                    line.clear();
                    if read.read_line(&mut line).await.unwrap_or(0) == 0 || line == ".\r\n" {
                        break;
                    }
                    session.data.push_str(&line);
                }
                "250 2.0.0 queued as TZ42\r\n"
            } else if upper == "QUIT" {
                write.write_all(b"221 2.0.0 bye\r\n").await.unwrap();
                break;
            } else if upper == "RSET" || upper == "NOOP" {
                "250 2.0.0 OK\r\n"
            } else {
                "502 5.5.2 not implemented\r\n"
            };
            write.write_all(reply.as_bytes()).await.unwrap();
        }
        let _ = tx.send(session);
    });
    (port, rx)
}
