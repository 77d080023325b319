//! Webhook deliveries to receivers on 127.0.0.1 (reached through an explicit allow-list entry, the
//! administrator's path): payloads, signatures, error classification, redirects and pinning.

use std::sync::Arc;
use std::time::Duration;

use taizhang_notify::sign::verify_generic_signature;
use taizhang_notify::{
    Address, AllowList, Delivery, Failure, SendError, Sender, Transports, WebhookConfig,
    WebhookKind, WebhookSender, WebhookTarget,
};

use crate::support::{
    FakeResolver, b64, closed_port, hmac_sha256, receiver, sample, silent_listener,
};

const NOW_MS: i64 = 1_700_000_000_123;

fn sender(allow: &[&str]) -> WebhookSender {
    WebhookSender::new(AllowList::parse(allow).unwrap())
        .unwrap()
        .with_resolver(Arc::new(FakeResolver::default()))
        .with_clock(Arc::new(|| NOW_MS))
}

fn target(kind: WebhookKind, url: String, secret: Option<&str>) -> WebhookTarget {
    WebhookTarget::new(kind, url, secret.map(str::to_owned))
}

#[tokio::test]
async fn wecom_robot_gets_markdown_and_errcode_zero_is_success() {
    let (addr, mut seen) = receiver(200, r#"{"errcode":0,"errmsg":"ok"}"#, None).await;
    let url = format!("http://{addr}/cgi-bin/webhook/send?key=robot-key");
    let receipt = sender(&["127.0.0.1"])
        .post(&target(WebhookKind::WeCom, url, None), "d-1", &sample())
        .await
        .unwrap();
    assert_eq!(receipt.detail, "HTTP 200, errcode 0");
    let got = seen.recv().await.unwrap();
    assert_eq!(got.query()["key"], "robot-key");
    let json = got.json();
    assert_eq!(json["msgtype"], "markdown");
    let content = json["markdown"]["content"].as_str().unwrap();
    assert!(
        content.starts_with("### 【交办】关于开展专项督查的通知"),
        "{content}"
    );
    assert!(
        content.contains("请于 3 月 10 日前报送整改进展。"),
        "{content}"
    );
    assert!(content.contains("> 台账编号：DB-2026-0042"), "{content}");
    assert!(content.contains("[查看详情](https://taizhang.example.gov.cn/matters/42)"));
}

#[tokio::test]
async fn dingtalk_robot_gets_a_signed_url_that_verifies() {
    let (addr, mut seen) = receiver(200, r#"{"errcode":0,"errmsg":"ok"}"#, None).await;
    let url = format!("http://{addr}/robot/send?access_token=tok123");
    let secret = "SEC0123456789abcdef";
    sender(&["127.0.0.1"])
        .post(
            &target(WebhookKind::DingTalk, url, Some(secret)),
            "d-2",
            &sample(),
        )
        .await
        .unwrap();
    let got = seen.recv().await.unwrap();
    let query = got.query();
    assert_eq!(query["access_token"], "tok123");
    assert_eq!(query["timestamp"], NOW_MS.to_string());
    let expected = b64(&hmac_sha256(
        secret.as_bytes(),
        format!("{NOW_MS}\n{secret}").as_bytes(),
    ));
    assert_eq!(query["sign"], expected);
    // Base64 '+', '/' and '=' must travel percent-encoded in the raw query.
    let raw = got.uri.query().unwrap();
    let raw_sign = raw.split('&').find(|p| p.starts_with("sign=")).unwrap();
    assert!(
        !raw_sign["sign=".len()..].contains(['+', '/', '=']),
        "{raw_sign}"
    );
    let json = got.json();
    assert_eq!(json["msgtype"], "markdown");
    assert_eq!(json["markdown"]["title"], "【交办】关于开展专项督查的通知");
}

#[tokio::test]
async fn feishu_bot_gets_a_signed_post_that_verifies() {
    let (addr, mut seen) = receiver(200, r#"{"code":0,"msg":"success","data":{}}"#, None).await;
    let url = format!("http://{addr}/open-apis/bot/v2/hook/abc");
    let secret = "feishu-secret";
    let receipt = sender(&["127.0.0.1"])
        .post(
            &target(WebhookKind::Feishu, url, Some(secret)),
            "d-3",
            &sample(),
        )
        .await
        .unwrap();
    assert_eq!(receipt.detail, "HTTP 200, code 0");
    let json = seen.recv().await.unwrap().json();
    let ts = NOW_MS / 1000;
    assert_eq!(json["timestamp"], ts.to_string());
    let expected = b64(&hmac_sha256(format!("{ts}\n{secret}").as_bytes(), b""));
    assert_eq!(json["sign"], expected);
    assert_eq!(json["msg_type"], "post");
    let post = &json["content"]["post"]["zh_cn"];
    assert_eq!(post["title"], "【交办】关于开展专项督查的通知");
    assert_eq!(
        post["content"][0][0]["text"],
        "请于 3 月 10 日前报送整改进展。"
    );
    let link = post["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0]["tag"] == "a")
        .unwrap();
    assert_eq!(
        link[0]["href"],
        "https://taizhang.example.gov.cn/matters/42"
    );
}

#[tokio::test]
async fn generic_receiver_gets_json_signed_over_the_raw_body() {
    let (addr, mut seen) = receiver(204, "", None).await;
    let secret = "generic-secret";
    let receipt = sender(&["127.0.0.1/32"])
        .post(
            &target(
                WebhookKind::Generic,
                format!("http://{addr}/hooks/taizhang"),
                Some(secret),
            ),
            "outbox-7",
            &sample(),
        )
        .await
        .unwrap();
    assert_eq!(receipt.detail, "HTTP 204");
    let got = seen.recv().await.unwrap();
    let signature = got.header("x-taizhang-signature");
    assert_eq!(
        signature,
        format!(
            "sha256={}",
            hex::encode(hmac_sha256(secret.as_bytes(), &got.body))
        )
    );
    assert!(verify_generic_signature(secret, &got.body, signature));
    assert_eq!(
        got.header("x-taizhang-timestamp"),
        (NOW_MS / 1000).to_string()
    );
    assert_eq!(got.header("x-taizhang-event"), "assigned");
    assert_eq!(got.header("x-taizhang-delivery"), "outbox-7");
    assert!(got.header("content-type").starts_with("application/json"));
    let json = got.json();
    assert_eq!(json["id"], "outbox-7");
    assert_eq!(json["event"], "assigned");
    assert_eq!(json["event_label"], "交办");
    assert_eq!(json["title"], "关于开展专项督查的通知");
    assert_eq!(json["matter_number"], "DB-2026-0042");
    assert_eq!(json["timestamp"], NOW_MS / 1000);
}

#[tokio::test]
async fn a_500_from_the_receiver_is_retryable() {
    let (addr, _seen) = receiver(500, "oops", None).await;
    let err = sender(&["127.0.0.1"])
        .post(
            &target(WebhookKind::Generic, format!("http://{addr}/"), Some("s")),
            "k",
            &sample(),
        )
        .await
        .unwrap_err();
    assert_eq!(err, SendError::Retryable(Failure::Status(500)));
}

#[tokio::test]
async fn robot_error_codes_are_permanent_or_retryable_per_channel() {
    let cases = [
        (
            WebhookKind::WeCom,
            r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#,
            false,
        ),
        (
            WebhookKind::WeCom,
            r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#,
            true,
        ),
        (
            WebhookKind::DingTalk,
            r#"{"errcode":310000,"errmsg":"sign not match"}"#,
            false,
        ),
        (
            WebhookKind::DingTalk,
            r#"{"errcode":130101,"errmsg":"send too fast"}"#,
            true,
        ),
        (
            WebhookKind::Feishu,
            r#"{"code":19021,"msg":"sign match fail"}"#,
            false,
        ),
        (
            WebhookKind::Feishu,
            r#"{"code":11232,"msg":"frequency limited"}"#,
            true,
        ),
    ];
    for (kind, answer, retryable) in cases {
        let (addr, _seen) = receiver(200, answer, None).await;
        let err = sender(&["127.0.0.1"])
            .post(
                &target(kind, format!("http://{addr}/"), Some("s")),
                "k",
                &sample(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.is_retryable(), retryable, "{kind:?} {answer}: {err}");
        assert!(matches!(err.failure(), Failure::Rejected { .. }), "{err}");
    }
}

#[tokio::test]
async fn a_redirect_to_the_metadata_service_is_not_followed() {
    let (addr, mut seen) =
        receiver(302, "", Some("http://169.254.169.254/latest/meta-data/")).await;
    let err = sender(&["127.0.0.1"])
        .post(
            &target(WebhookKind::Generic, format!("http://{addr}/"), Some("s")),
            "k",
            &sample(),
        )
        .await
        .unwrap_err();
    assert_eq!(err, SendError::Permanent(Failure::Redirect(302)));
    assert!(seen.recv().await.is_some());
    assert!(
        seen.try_recv().is_err(),
        "exactly one request, to the receiver only"
    );
}

#[tokio::test]
async fn loopback_without_an_allow_list_entry_is_refused_before_connecting() {
    let (addr, mut seen) = receiver(200, "", None).await;
    let err = sender(&[])
        .post(
            &target(WebhookKind::Generic, format!("http://{addr}/"), Some("s")),
            "k",
            &sample(),
        )
        .await
        .unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(err.failure().code(), "url_blocked_address");
    assert!(seen.try_recv().is_err(), "the receiver saw nothing");
}

#[tokio::test]
async fn a_refused_connection_and_a_timeout_are_retryable() {
    let port = closed_port().await;
    let err = sender(&["127.0.0.1"])
        .post(
            &target(
                WebhookKind::Generic,
                format!("http://127.0.0.1:{port}/"),
                Some("s"),
            ),
            "k",
            &sample(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, SendError::Retryable(Failure::Connect(_))),
        "{err}"
    );

    let (addr, _held) = silent_listener().await;
    let quick = WebhookConfig {
        timeout: Duration::from_millis(200),
        ..WebhookConfig::default()
    };
    let err = sender(&["127.0.0.1"])
        .with_config(quick)
        .post(
            &target(WebhookKind::Generic, format!("http://{addr}/"), Some("s")),
            "k",
            &sample(),
        )
        .await
        .unwrap_err();
    assert_eq!(err, SendError::Retryable(Failure::Timeout));
}

#[tokio::test]
async fn the_connection_goes_to_the_pinned_address_and_dns_is_asked_once() {
    // First answer: the receiver (allowed by name). Any later answer would be the metadata service.
    let resolver = Arc::new(FakeResolver::sequence(&[
        &["127.0.0.1"],
        &["169.254.169.254"],
    ]));
    let (addr, mut seen) = receiver(200, r#"{"errcode":0}"#, None).await;
    let sender = WebhookSender::new(AllowList::parse(&["hooks.taizhang.test"]).unwrap())
        .unwrap()
        .with_resolver(resolver.clone())
        .with_clock(Arc::new(|| NOW_MS));
    let url = format!("http://hooks.taizhang.test:{}/send?key=k", addr.port());
    sender
        .post(
            &target(WebhookKind::WeCom, url.clone(), None),
            "k",
            &sample(),
        )
        .await
        .unwrap();
    assert_eq!(
        resolver.calls(),
        1,
        "resolved once; the HTTP client used the pinned address"
    );
    let got = seen.recv().await.unwrap();
    assert_eq!(
        got.header("host"),
        format!("hooks.taizhang.test:{}", addr.port())
    );

    // The next delivery resolves again, sees the rebound answer, and refuses before connecting.
    let err = sender
        .post(&target(WebhookKind::WeCom, url, None), "k", &sample())
        .await
        .unwrap_err();
    assert_eq!(err.failure().code(), "url_blocked_address");
    assert!(seen.try_recv().is_err());
}

#[tokio::test]
async fn transports_route_by_address_and_report_a_missing_smtp_server() {
    let (addr, mut seen) = receiver(200, r#"{"code":0}"#, None).await;
    let transports: Arc<dyn Sender> = Arc::new(Transports::new(None, sender(&["127.0.0.1"])));
    let delivery = Delivery {
        key: "row-1".into(),
        notification: sample(),
        address: Address::Webhook(target(WebhookKind::Feishu, format!("http://{addr}/"), None)),
    };
    transports.send(&delivery).await.unwrap();
    assert!(seen.recv().await.is_some());
    let email = Delivery {
        address: Address::Email {
            to: "a@example.gov.cn".into(),
        },
        ..delivery
    };
    assert_eq!(
        transports.send(&email).await.unwrap_err(),
        SendError::Permanent(Failure::NoTransport("email"))
    );
}

#[tokio::test]
async fn error_messages_never_contain_the_robot_token() {
    let port = closed_port().await;
    let url = format!("http://127.0.0.1:{port}/robot/send?access_token=TOPSECRET");
    let err = sender(&["127.0.0.1"])
        .post(
            &target(WebhookKind::DingTalk, url, Some("SECRETSIGN")),
            "k",
            &sample(),
        )
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains("TOPSECRET") && !text.contains("SECRETSIGN"),
        "{text}"
    );
}
