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
