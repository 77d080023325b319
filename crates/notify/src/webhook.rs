//! Webhook transport: SSRF-check and pin the URL, render and sign, POST once with reqwest (rustls,
//! no proxy, no redirects, short timeouts), and judge the answer per channel.

use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;

use crate::error::{Failure, SendError};
use crate::message::Notification;
use crate::render::{WebhookKind, WebhookTarget, render_webhook};
use crate::sender::Receipt;
use crate::ssrf::{AllowList, Resolver, SystemResolver, validate_outbound_url};

/// Unix milliseconds; injectable so tests and the app's `Clock` decide the signing time.
pub type NowMs = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Timeouts and limits for webhook calls.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub connect_timeout: Duration,
    /// Whole request, connect to last byte.
    pub timeout: Duration,
    /// Response bodies are read up to this many bytes (robots answer with a few dozen).
    pub max_response_bytes: usize,
    pub user_agent: String,
}

impl Default for WebhookConfig {
    fn default() -> WebhookConfig {
        WebhookConfig {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            max_response_bytes: 64 * 1024,
            user_agent: "Taizhang-Notify/1".to_owned(),
        }
    }
}

/// Posts notifications to webhooks. Holds the allow-list, the resolver, the TLS configuration
/// (ring provider, operating-system trust store) and the clock used for signatures.
pub struct WebhookSender {
    allow: AllowList,
    resolver: Arc<dyn Resolver>,
    tls: rustls::ClientConfig,
    config: WebhookConfig,
    now_ms: NowMs,
}

impl WebhookSender {
    /// System resolver, system clock, default timeouts.
    pub fn new(allow: AllowList) -> Result<WebhookSender, SendError> {
        Ok(WebhookSender {
            allow,
            resolver: Arc::new(SystemResolver),
            tls: tls_config()?,
            config: WebhookConfig::default(),
            now_ms: Arc::new(|| jiff::Timestamp::now().as_millisecond()),
        })
    }

    pub fn with_resolver(mut self, resolver: Arc<dyn Resolver>) -> WebhookSender {
        self.resolver = resolver;
        self
    }

    pub fn with_clock(mut self, now_ms: NowMs) -> WebhookSender {
        self.now_ms = now_ms;
        self
    }

    pub fn with_config(mut self, config: WebhookConfig) -> WebhookSender {
        self.config = config;
        self
    }

    /// Delivers `n` to `target` once. `key` is the outbox delivery key (stable across retries).
    pub async fn post(
        &self,
        target: &WebhookTarget,
        key: &str,
        n: &Notification,
    ) -> Result<Receipt, SendError> {
        let pinned = validate_outbound_url(&target.url, &self.allow)
            .map_err(SendError::ssrf)?
            .pin(&self.allow, self.resolver.as_ref())
            .await
            .map_err(SendError::ssrf)?;
        let request = render_webhook(
            target.kind,
            target.format,
            pinned.url(),
            target.secret.as_deref(),
            key,
            n,
            (self.now_ms)(),
        )
        .map_err(|e| SendError::config(e.to_string()))?;

        let mut builder = reqwest::Client::builder()
            .redirect(Policy::none())
            .no_proxy()
            .connect_timeout(self.config.connect_timeout)
            .timeout(self.config.timeout)
            .user_agent(self.config.user_agent.clone())
            .pool_max_idle_per_host(0)
            .tls_backend_preconfigured(self.tls.clone())
            // Whatever name the client asks for, it gets the checked address or nothing.
            .dns_resolver(Arc::new(PinnedResolve {
                name: pinned.host_name().map(str::to_owned),
                addr: pinned.addr(),
            }));
        if let Some(name) = pinned.host_name() {
            builder = builder.resolve(name, pinned.addr());
        }
        let client = builder
            .build()
            .map_err(|e| SendError::config(error_text(&e)))?;

        let mut call = client.post(request.url.clone()).body(request.body);
        for (name, value) in &request.headers {
            call = call.header(*name, value);
        }
        let mut response = call.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            let room = self.config.max_response_bytes.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if room <= chunk.len() {
                break;
            }
        }
        judge_response(target.kind, status, &body)
    }
}

/// A reqwest resolver that knows exactly one name and one address.
struct PinnedResolve {
    name: Option<String>,
    addr: std::net::SocketAddr,
}

impl Resolve for PinnedResolve {
    fn resolve(&self, name: Name) -> Resolving {
        let hit = self
            .name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_str()));
        let addr = self.addr;
        Box::pin(async move {
            if hit {
                let addrs: Addrs = Box::new(std::iter::once(addr));
                Ok(addrs)
            } else {
                Err("host name was not checked by the SSRF guard".into())
            }
        })
    }
}

/// rustls with the ring provider and the operating system's trust store (so an internal CA
/// installed on the server is honoured).
fn tls_config() -> Result<rustls::ClientConfig, SendError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| SendError::config(format!("TLS trust store: {e}")))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SendError::config(format!("TLS: {e}")))?
        // "dangerous" is rustls's name for any custom verifier; this one is the platform verifier.
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Network-level failures: a timeout or refused connection may pass; a malformed request will not.
fn transport_error(e: reqwest::Error) -> SendError {
    if e.is_timeout() {
        SendError::Retryable(Failure::Timeout)
    } else if e.is_builder() {
        SendError::config(error_text(&e))
    } else if e.is_connect() {
        SendError::Retryable(Failure::Connect(error_text(&e)))
    } else {
        SendError::Retryable(Failure::BadResponse(error_text(&e)))
    }
}

/// The error and its causes, without the URL (which may hold a robot token).
fn error_text(e: &reqwest::Error) -> String {
    let mut text = WithoutUrl(e).to_string();
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        text.push_str(": ");
        text.push_str(&err.to_string());
        source = err.source();
    }
    text
}

struct WithoutUrl<'a>(&'a reqwest::Error);

impl std::fmt::Display for WithoutUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.0.is_timeout() {
            "timed out"
        } else if self.0.is_connect() {
            "could not connect"
        } else if self.0.is_builder() {
            "could not build the request"
        } else if self.0.is_body() || self.0.is_decode() {
            "could not read the response"
        } else {
            "request failed"
        };
        f.write_str(kind)
    }
}

/// Rate limits and "system busy" codes worth retrying, per the vendors' error-code tables:
/// WeCom −1 系统繁忙, 45009 调用频率超限, 45033 并发超限; DingTalk −1 系统繁忙, 130101 发送太快,
/// 90030 调用次数超限; Feishu 11232 频率限制. Every other non-zero code (bad key, 加签 mismatch,
/// keyword missing, IP not allowed, robot removed, malformed message) needs a person.
fn retryable_code(kind: WebhookKind, code: i64) -> bool {
    match kind {
        WebhookKind::WeCom => matches!(code, -1 | 45009 | 45033),
        WebhookKind::DingTalk => matches!(code, -1 | 130_101 | 90030),
        WebhookKind::Feishu => matches!(code, 11232),
        WebhookKind::Generic => false,
    }
}

/// Decides what an HTTP answer means. 2xx then the channel's own code: WeCom/DingTalk `errcode`,
/// Feishu `code` (or the older `StatusCode`), generic nothing more. 3xx is a refused redirect;
/// 408, 425, 429 and 5xx are retryable; other statuses are permanent.
pub fn judge_response(kind: WebhookKind, status: u16, body: &[u8]) -> Result<Receipt, SendError> {
    if (300..400).contains(&status) {
        return Err(SendError::Permanent(Failure::Redirect(status)));
    }
    if matches!(status, 408 | 425 | 429) || status >= 500 {
        return Err(SendError::Retryable(Failure::Status(status)));
    }
    if !(200..300).contains(&status) {
        return Err(SendError::Permanent(Failure::Status(status)));
    }
    let (code_field, message_field) = match kind {
        WebhookKind::Generic => {
            return Ok(Receipt {
                detail: format!("HTTP {status}"),
            });
        }
        WebhookKind::WeCom | WebhookKind::DingTalk => ("errcode", "errmsg"),
        WebhookKind::Feishu => ("code", "msg"),
    };
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
        SendError::Permanent(Failure::BadResponse(format!(
            "HTTP {status} without a JSON answer"
        )))
    })?;
    let code = json
        .get(code_field)
        .or_else(|| json.get("StatusCode"))
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| {
            SendError::Permanent(Failure::BadResponse(format!(
                "no {code_field} in the answer"
            )))
        })?;
    if code == 0 {
        return Ok(Receipt {
            detail: format!("HTTP {status}, {code_field} 0"),
        });
    }
    let message = json
        .get(message_field)
        .or_else(|| json.get("StatusMessage"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    let failure = Failure::Rejected { code, message };
    if retryable_code(kind, code) {
        Err(SendError::Retryable(failure))
    } else {
        Err(SendError::Permanent(failure))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_are_classified() {
        let k = WebhookKind::Generic;
        assert!(judge_response(k, 204, b"").is_ok());
        assert!(judge_response(k, 500, b"").unwrap_err().is_retryable());
        assert!(judge_response(k, 503, b"").unwrap_err().is_retryable());
        assert!(judge_response(k, 429, b"").unwrap_err().is_retryable());
        assert!(!judge_response(k, 404, b"").unwrap_err().is_retryable());
        assert_eq!(
            judge_response(k, 302, b""),
            Err(SendError::Permanent(Failure::Redirect(302)))
        );
    }

    #[test]
    fn channel_codes_are_classified() {
        let ok = br#"{"errcode":0,"errmsg":"ok"}"#;
        assert!(judge_response(WebhookKind::WeCom, 200, ok).is_ok());
        let busy = br#"{"errcode":45009,"errmsg":"api freq out of limit"}"#;
        assert!(
            judge_response(WebhookKind::WeCom, 200, busy)
                .unwrap_err()
                .is_retryable()
        );
        let bad_key = br#"{"errcode":93000,"errmsg":"invalid webhook url"}"#;
        assert!(
            !judge_response(WebhookKind::WeCom, 200, bad_key)
                .unwrap_err()
                .is_retryable()
        );
        let fast = br#"{"errcode":130101,"errmsg":"send too fast"}"#;
        assert!(
            judge_response(WebhookKind::DingTalk, 200, fast)
                .unwrap_err()
                .is_retryable()
        );
        let sign = br#"{"errcode":310000,"errmsg":"sign not match"}"#;
        assert!(
            !judge_response(WebhookKind::DingTalk, 200, sign)
                .unwrap_err()
                .is_retryable()
        );
        let fs_ok = br#"{"code":0,"msg":"success","data":{}}"#;
        assert!(judge_response(WebhookKind::Feishu, 200, fs_ok).is_ok());
        let fs_old = br#"{"StatusCode":0,"StatusMessage":"success"}"#;
        assert!(judge_response(WebhookKind::Feishu, 200, fs_old).is_ok());
        let fs_sign = br#"{"code":19021,"msg":"sign match fail"}"#;
        assert!(
            !judge_response(WebhookKind::Feishu, 200, fs_sign)
                .unwrap_err()
                .is_retryable()
        );
        let fs_rate = br#"{"code":11232,"msg":"frequency limited"}"#;
        assert!(
            judge_response(WebhookKind::Feishu, 200, fs_rate)
                .unwrap_err()
                .is_retryable()
        );
        assert!(
            !judge_response(WebhookKind::WeCom, 200, b"<html>")
                .unwrap_err()
                .is_retryable()
        );
    }
}
