//! Per-channel webhook payloads: WeCom (企业微信) group robot markdown, DingTalk (钉钉) robot markdown
//! with 加签, Feishu (飞书) rich-text post with 签名校验, and the generic signed JSON. Pure: the time and
//! the delivery key come in as arguments.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::message::{Notification, one_line, truncate_bytes};
use crate::sign;

/// Which robot or receiver a webhook URL belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookKind {
    /// 企业微信群机器人 — `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`; answers `errcode`.
    WeCom,
    /// 钉钉自定义机器人 — `https://oapi.dingtalk.com/robot/send?access_token=…`; optional 加签 secret.
    DingTalk,
    /// 飞书自定义机器人 — `https://open.feishu.cn/open-apis/bot/v2/hook/…`; optional signing secret.
    Feishu,
    /// Any HTTP receiver taking our JSON, signed with HMAC-SHA256 (secret required).
    Generic,
}

/// Message style for WeCom and DingTalk robots (Feishu always gets a rich-text `post`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatFormat {
    /// Heading, body, matter number and a 查看详情 link.
    #[default]
    Markdown,
    /// Plain text, for clients that do not render robot markdown (WeCom seen from WeChat).
    Text,
}

/// A configured webhook: where to post and the secret to sign with. The URL itself is a credential
/// for WeCom and DingTalk (its `key` / `access_token`), so `Debug` shows neither URL nor secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookTarget {
    pub kind: WebhookKind,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default)]
    pub format: ChatFormat,
}

impl WebhookTarget {
    /// A target with the default (markdown) format.
    pub fn new(kind: WebhookKind, url: impl Into<String>, secret: Option<String>) -> WebhookTarget {
        WebhookTarget {
            kind,
            url: url.into(),
            secret,
            format: ChatFormat::Markdown,
        }
    }
}

impl fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        f.debug_struct("WebhookTarget")
            .field("kind", &self.kind)
            .field("host", &host)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("format", &self.format)
            .finish()
    }
}

/// A rendered request, ready to post: final URL (DingTalk adds its signature to the query), headers
/// and the exact body bytes (the generic signature covers these bytes).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    pub url: Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl fmt::Debug for WebhookRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookRequest")
            .field("host", &self.url.host_str().unwrap_or_default())
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            )
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// Rendering fails only on configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("a generic webhook needs a signing secret")]
    MissingSecret,
    #[error("the payload could not be encoded: {0}")]
    Encode(String),
}

/// WeCom markdown `content` is limited to 4096 bytes, text `content` to 2048.
const WECOM_MAX: usize = 4096;
const WECOM_TEXT_MAX: usize = 2048;
/// DingTalk and Feishu accept about 20 000 bytes; stay well below.
const CHAT_MAX: usize = 16_000;
/// Appended to chat messages: names the sender, and serves as the keyword for robots whose
/// security setting is 自定义关键词 (configure the keyword `台账`).
const FOOTER: &str = "— 台账";

/// Renders `n` for `kind`. `now_ms` is unix milliseconds; `delivery_key` is the outbox key.
pub fn render_webhook(
    kind: WebhookKind,
    format: ChatFormat,
    url: &Url,
    secret: Option<&str>,
    delivery_key: &str,
    n: &Notification,
    now_ms: i64,
) -> Result<WebhookRequest, RenderError> {
    let secret = secret.filter(|s| !s.is_empty());
    let mut url = url.clone();
    let mut headers = vec![("Content-Type", "application/json; charset=utf-8".to_owned())];
    let body = match kind {
        WebhookKind::WeCom => match format {
            ChatFormat::Markdown => serde_json::json!({
                "msgtype": "markdown",
                "markdown": { "content": truncate_bytes(&chat_markdown(n, "###"), WECOM_MAX) },
            }),
            ChatFormat::Text => serde_json::json!({
                "msgtype": "text",
                "text": { "content": truncate_bytes(&chat_text(n), WECOM_TEXT_MAX) },
            }),
        },
        WebhookKind::DingTalk => {
            if let Some(secret) = secret {
                url.query_pairs_mut()
                    .append_pair("timestamp", &now_ms.to_string())
                    .append_pair("sign", &sign::dingtalk_sign(now_ms, secret));
            }
            match format {
                ChatFormat::Markdown => serde_json::json!({
                    "msgtype": "markdown",
                    "markdown": {
                        "title": n.heading(),
                        "text": truncate_bytes(&chat_markdown(n, "####"), CHAT_MAX),
                    },
                }),
                ChatFormat::Text => serde_json::json!({
                    "msgtype": "text",
                    "text": { "content": truncate_bytes(&chat_text(n), CHAT_MAX) },
                }),
            }
        }
        WebhookKind::Feishu => {
            let mut body = serde_json::json!({
                "msg_type": "post",
                "content": { "post": { "zh_cn": {
                    "title": n.heading(),
                    "content": feishu_paragraphs(n),
                } } },
            });
            if let (Some(secret), Some(map)) = (secret, body.as_object_mut()) {
                let ts = now_ms.div_euclid(1000);
                map.insert("timestamp".into(), ts.to_string().into());
                map.insert("sign".into(), sign::feishu_sign(ts, secret).into());
            }
            body
        }
        WebhookKind::Generic => {
            let secret = secret.ok_or(RenderError::MissingSecret)?;
            let ts = now_ms.div_euclid(1000);
            let payload = GenericPayload {
                id: delivery_key,
                event: n.event.as_str(),
                event_label: n.event.label(),
                title: &n.title,
                body: &n.body,
                link: n.link.as_deref(),
                matter_number: n.matter_number.as_deref(),
                timestamp: ts,
            };
            let raw =
                serde_json::to_vec(&payload).map_err(|e| RenderError::Encode(e.to_string()))?;
            headers.push((sign::TIMESTAMP_HEADER, ts.to_string()));
            headers.push((sign::EVENT_HEADER, n.event.as_str().to_owned()));
            headers.push((sign::DELIVERY_HEADER, one_line(delivery_key)));
            headers.push((
                sign::SIGNATURE_HEADER,
                sign::generic_signature(secret, &raw),
            ));
            return Ok(WebhookRequest {
                url,
                headers,
                body: raw,
            });
        }
    };
    let body = serde_json::to_vec(&body).map_err(|e| RenderError::Encode(e.to_string()))?;
    Ok(WebhookRequest { url, headers, body })
}

/// The generic JSON body, in a fixed field order.
#[derive(Serialize)]
struct GenericPayload<'a> {
    id: &'a str,
    event: &'a str,
    event_label: &'a str,
    title: &'a str,
    body: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    matter_number: Option<&'a str>,
    timestamp: i64,
}

/// Markdown for WeCom and DingTalk. User text is neutralised so a matter title cannot smuggle a
/// link or HTML into the group chat; only our own `link` becomes a link.
fn chat_markdown(n: &Notification, heading: &str) -> String {
    let mut out = format!("{heading} {}\n\n", neutralise(&n.heading()));
    for line in n.body.trim_end().lines() {
        out.push_str(&neutralise(line));
        out.push_str("  \n");
    }
    if let Some(number) = &n.matter_number {
        out.push_str(&format!("\n> 台账编号：{}\n", neutralise(number)));
    }
    if let Some(link) = &n.link {
        out.push_str(&format!("\n[查看详情]({})\n", markdown_url(link)));
    }
    out.push_str(&format!("\n{FOOTER}"));
    out
}

/// Plain text for robots' `text` messages (not interpreted, so no escaping).
fn chat_text(n: &Notification) -> String {
    format!("{}\n{}\n{FOOTER}", n.heading(), n.plain_text())
}

/// Feishu `post` paragraphs: text runs are not interpreted, so no escaping is needed.
fn feishu_paragraphs(n: &Notification) -> serde_json::Value {
    let mut paragraphs: Vec<serde_json::Value> = n
        .body
        .trim_end()
        .lines()
        .map(|line| serde_json::json!([{ "tag": "text", "text": line }]))
        .collect();
    if let Some(number) = &n.matter_number {
        paragraphs
            .push(serde_json::json!([{ "tag": "text", "text": format!("台账编号：{number}") }]));
    }
    if let Some(link) = &n.link {
        paragraphs.push(serde_json::json!([{ "tag": "a", "text": "查看详情", "href": link }]));
    }
    paragraphs.push(serde_json::json!([{ "tag": "text", "text": FOOTER }]));
    serde_json::Value::Array(paragraphs)
}

/// Replaces the characters that make links, images, HTML or code in chat markdown with their
/// full-width forms, which read the same in Chinese text.
fn neutralise(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '[' => '［',
            ']' => '］',
            '(' => '（',
            ')' => '）',
            '<' => '＜',
            '>' => '＞',
            '`' => '｀',
            '!' => '！',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// Percent-encodes the characters that would end a markdown link target early.
fn markdown_url(link: &str) -> String {
    link.chars()
        .map(|c| match c {
            '(' => "%28".to_owned(),
            ')' => "%29".to_owned(),
            ' ' => "%20".to_owned(),
            '<' => "%3C".to_owned(),
            '>' => "%3E".to_owned(),
            c if c.is_control() => String::new(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::EventKind;

    fn sample() -> Notification {
        Notification {
            event: EventKind::Overdue,
            title: "[点我](http://evil.example) 整改".into(),
            body: "第一行\n<b>第二行</b>".into(),
            link: Some("https://taizhang.example/matters/7 (x)".into()),
            matter_number: Some("DB-2026-0007".into()),
        }
    }

    #[test]
    fn chat_markdown_neutralises_links_smuggled_in_user_text() {
        let md = chat_markdown(&sample(), "###");
        assert!(!md.contains("](http://evil"), "{md}");
        assert!(md.contains("［点我］（http://evil.example）"), "{md}");
        assert!(md.contains("＜b＞第二行＜/b＞"), "{md}");
        assert!(
            md.contains("[查看详情](https://taizhang.example/matters/7%20%28x%29)"),
            "{md}"
        );
        assert!(md.ends_with(FOOTER));
    }

    #[test]
    fn dingtalk_without_secret_leaves_the_url_alone() {
        let url = Url::parse("https://oapi.dingtalk.com/robot/send?access_token=t").unwrap();
        let req = render_webhook(
            WebhookKind::DingTalk,
            ChatFormat::Markdown,
            &url,
            None,
            "k",
            &sample(),
            1,
        )
        .unwrap();
        assert_eq!(req.url, url);
    }

    #[test]
    fn generic_without_secret_is_refused() {
        let url = Url::parse("https://hooks.example/x").unwrap();
        let err = render_webhook(
            WebhookKind::Generic,
            ChatFormat::Markdown,
            &url,
            Some(""),
            "k",
            &sample(),
            1,
        );
        assert_eq!(err, Err(RenderError::MissingSecret));
    }

    #[test]
    fn wecom_content_stays_within_4096_bytes() {
        let mut n = sample();
        n.body = "很长的正文。".repeat(2000);
        let url = Url::parse("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k").unwrap();
        let req = render_webhook(
            WebhookKind::WeCom,
            ChatFormat::Markdown,
            &url,
            None,
            "k",
            &n,
            1,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        let content = v["markdown"]["content"].as_str().unwrap();
        assert!(content.len() <= WECOM_MAX);
    }

    #[test]
    fn text_format_sends_plain_text_to_wecom_and_dingtalk() {
        let url = Url::parse("https://robot.example/send?key=k").unwrap();
        for kind in [WebhookKind::WeCom, WebhookKind::DingTalk] {
            let req =
                render_webhook(kind, ChatFormat::Text, &url, None, "k", &sample(), 1).unwrap();
            let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
            assert_eq!(v["msgtype"], "text");
            let content = v["text"]["content"].as_str().unwrap();
            assert!(
                content.starts_with("【已超期】[点我](http://evil.example) 整改\n第一行"),
                "{content}"
            );
        }
    }

    #[test]
    fn debug_of_a_target_hides_the_url_token_and_the_secret() {
        let t = WebhookTarget::new(
            WebhookKind::DingTalk,
            "https://oapi.dingtalk.com/robot/send?access_token=TOPSECRET",
            Some("SECxyz".into()),
        );
        let shown = format!("{t:?}");
        assert!(
            !shown.contains("TOPSECRET") && !shown.contains("SECxyz"),
            "{shown}"
        );
        assert!(shown.contains("oapi.dingtalk.com"));
    }
}
