//! Notifications administration on the pages and the API: 通知渠道 (SSRF refusal in words, the
//! secret write-only, 发送测试 whose outcome the page shows from the delivery log), 投递记录
//! (filter, paging), each user's 通知设置, and the same under `/api/v1/notify`. Only the roles in
//! the route table get in; 纪检监察 sees its own settings read-only and changes nothing.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::Value;
use taizhang_app::Caller;
use taizhang_app::notify::{ALLOW_LIST_SETTING, my_prefs, send_test};
use taizhang_jobs::outbox::OutboxWorker;
use taizhang_notify::{AllowList, Channel, EventKind, WebhookSender};
use taizhang_testkit::TestDb;

use crate::support::{TestApp, admin_login, call, code_of, json_of, token};

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A webhook receiver on 127.0.0.1 that records every post.
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

/// Allow 127.0.0.1 for webhooks (an administrator's allow-list entry); returns a unit id.
async fn allow_loopback(t: &TestApp) -> i64 {
    let mut c = t.app.store.begin().await.unwrap();
    taizhang_store::settings::put(&mut c, ALLOW_LIST_SETTING, "127.0.0.1", 0)
        .await
        .unwrap();
    let unit = taizhang_store::org::list_units(&mut c).await.unwrap()[1].id;
    c.commit().await.unwrap();
    unit
}

fn worker(t: &TestApp) -> OutboxWorker {
    let allow = AllowList::parse(&["127.0.0.1"]).unwrap();
    OutboxWorker::new(t.app.clone(), Arc::new(WebhookSender::new(allow).unwrap()))
}

const SECRET: &str = "s3cret-never-shown-back";

#[tokio::test]
async fn the_admin_configures_a_webhook_tests_it_and_reads_the_outcome() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let unit = allow_loopback(&t).await;
        let unit_s = unit.to_string();
        let (url, seen) = receiver().await;
        let mut admin = admin_login(&t, "admin").await;
        let r = admin.get("/admin/notify").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("尚未配置通知渠道"));
        assert!(
            admin
                .get("/admin")
                .await
                .body
                .contains("href=\"/admin/notify\"")
        );

        // An internal address is refused with a reason an administrator can act on.
        let r = admin
            .post_csrf(
                "/admin/notify/targets",
                &[
                    ("scope", "unit"),
                    ("unit_id", &unit_s),
                    ("kind", "wecom"),
                    ("address", "http://10.1.2.3/cgi-bin/webhook/send?key=abc"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("内网私有") && r.body.contains("防止服务器端请求伪造"));
        assert!(r.body.contains("10.1.2.3"), "typed URL kept");
        // A generic webhook needs its signing secret.
        let r = admin
            .post_csrf(
                "/admin/notify/targets",
                &[
                    ("scope", "unit"),
                    ("unit_id", &unit_s),
                    ("kind", "generic"),
                    ("address", &url),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("须设置签名密钥"));

        let r = admin
            .post_csrf(
                "/admin/notify/targets",
                &[
                    ("scope", "unit"),
                    ("unit_id", &unit_s),
                    ("kind", "generic"),
                    ("address", &url),
                    ("secret", SECRET),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let id: i64 = r.location().rsplit('=').next().unwrap().parse().unwrap();
        let r = admin.get("/admin/notify").await;
        assert!(r.body.contains("secret-set") && r.body.contains("已设置"));
        assert!(!r.body.contains(SECRET), "the secret is never shown back");
        assert!(r.body.contains("…hook"), "the URL is shown as a hint");
        let r = admin.get(&format!("/admin/notify/targets/{id}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains(SECRET) && r.body.contains("已设置"));

        // Edit: a blocked URL is refused; a blank secret keeps it; unticked 启用 disables.
        let edit = format!("/admin/notify/targets/{id}");
        let r = admin
            .post_csrf(
                &edit,
                &[("kind", "generic"), ("address", "http://169.254.169.254/")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("链路本地"), "{}", r.body);
        let r = admin.post_csrf(&edit, &[("kind", "generic")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = admin.get("/admin/notify").await;
        assert!(r.body.contains("已停用") && r.body.contains("secret-set"));
        let r = admin
            .post_csrf(&format!("/admin/notify/targets/{id}/test"), &[])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("请先启用"));
        let r = admin
            .post_csrf(&format!("/admin/notify/targets/{id}/enable"), &[])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);

        // 发送测试: queued, sent by the outbox worker, the outcome on the page and in the log.
        let r = admin
            .post_csrf(&format!("/admin/notify/targets/{id}/test"), &[])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(r.location().starts_with("/admin/notify?tested="));
        let r = admin.get(r.location()).await;
        assert!(r.body.contains("测试消息已加入发送队列") && r.body.contains("待发送"));
        assert_eq!(worker(&t).run_once().await.unwrap(), 1);
        let got = seen.lock().unwrap().clone();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0["x-taizhang-event"], "test");
        let r = admin.get("/admin/notify").await;
        assert!(r.body.contains("已发送"), "{}", r.body);
        let r = admin.get("/admin/deliveries").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("通知渠道测试") && r.body.contains("已发送"));
        let r = admin.get("/admin/deliveries?status=failed").await;
        assert!(r.body.contains("没有投递记录"));
        let r = admin.get("/admin/deliveries?status=bogus").await;
        assert!(r.body.contains("投递状态应为"));

        // Only 系统管理员 configures; 安全管理员 reads the log; business roles neither.
        let mut anquan = admin_login(&t, "anquan").await;
        assert_eq!(
            anquan.get("/admin/notify").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(anquan.get("/admin/deliveries").await.status, StatusCode::OK);
        let mut ducha = t.login("ducha").await;
        assert_eq!(
            ducha.get("/admin/notify").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            ducha.get("/admin/deliveries").await.status,
            StatusCode::FORBIDDEN
        );
        let mut jijian = t.login("jijian").await;
        assert_eq!(
            jijian.get("/admin/notify").await.status,
            StatusCode::FORBIDDEN
        );
        let r = jijian
            .post_csrf(&format!("/admin/notify/targets/{id}/disable"), &[])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn the_delivery_log_pages_by_fifty() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let unit = allow_loopback(&t).await;
    let target = taizhang_app::notify::NewTarget {
        scope: "unit".into(),
        scope_id: unit,
        kind: "email".into(),
        address: "ganbu1@example.gov.cn".into(),
        secret: None,
    };
    let sys = Caller::system("test");
    let id = taizhang_app::notify::save_target(&t.app, &sys, target)
        .await
        .unwrap();
    for _ in 0..55 {
        send_test(&t.app, &sys, id).await.unwrap();
    }
    let mut admin = admin_login(&t, "admin").await;
    let r = admin.get("/admin/deliveries").await;
    assert_eq!(r.body.matches("id=\"delivery-").count(), 50);
    assert!(r.body.contains("ganbu1@example.gov.cn"));
    let i = r.body.find("id=\"older\"").expect("a link to older rows");
    let href_at = r.body[..i].rfind("href=\"").unwrap() + 6;
    let href = r.body[href_at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let r = admin.get(&href).await;
    assert_eq!(r.body.matches("id=\"delivery-").count(), 5, "{href}");
    assert!(!r.body.contains("id=\"older\""));
}

#[tokio::test]
async fn each_user_sets_channels_quiet_hours_and_digest() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut b = t.login("chuzhang1").await;
        let r = b.get("/desk").await;
        assert!(
            r.body.contains("href=\"/account/notifications\""),
            "linked from the user menu"
        );
        let r = b.get("/account/notifications").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("督办单下发") && r.body.contains("id=\"prefs-save\""));
        assert!(r.body.contains("未登记邮箱"));

        let r = b
            .post_csrf(
                "/account/notifications",
                &[
                    ("ch_assigned", "email"),
                    ("ch_overdue", "email"),
                    ("ch_overdue", "webhook"),
                    ("quiet_on", "1"),
                    ("quiet_start", "21:00"),
                    ("quiet_end", "08:00"),
                    ("digest", "1"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = b.get(r.location()).await;
        assert!(r.body.contains("通知设置已保存") && r.body.contains("value=\"21:00\""));
        let me = taizhang_app::caller::load_caller_by_username(&t.app, "chuzhang1")
            .await
            .unwrap();
        let p = my_prefs(&t.app, &me).await.unwrap().effective;
        assert!(p.wants(EventKind::Assigned, Channel::Email));
        assert!(!p.wants(EventKind::DueSoon, Channel::Email));
        assert!(p.wants(EventKind::Overdue, Channel::DingTalk));
        assert!(p.daily_digest);
        let q = p.quiet_hours.unwrap();
        assert_eq!(
            (q.start.hour(), q.end.hour(), q.urgent_bypass),
            (21, 8, false)
        );

        // A bad time is refused on the page; nothing changes.
        let r = b
            .post_csrf(
                "/account/notifications",
                &[
                    ("quiet_on", "1"),
                    ("quiet_start", "25:00"),
                    ("quiet_end", "08:00"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("格式无效"));
        assert!(my_prefs(&t.app, &me).await.unwrap().effective.daily_digest);

        // Back to the defaults.
        let r = b
            .post_csrf("/account/notifications", &[("reset", "1")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let p = my_prefs(&t.app, &me).await.unwrap();
        assert_eq!(p.overrides, Default::default());
        assert!(p.effective.wants(EventKind::DueSoon, Channel::Email));

        // 纪检监察 sees its settings read-only and cannot save.
        let mut jijian = t.login("jijian").await;
        let r = jijian.get("/account/notifications").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("id=\"read-only\"") && !r.body.contains("id=\"prefs-save\""));
        let r = jijian
            .post_csrf("/account/notifications", &[("digest", "1")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn the_api_manages_targets_prefs_and_reads_the_delivery_log() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let unit = allow_loopback(&t).await;
        let (url, _seen) = receiver().await;
        let mut b = t.browser();
        let admin = token(&t, "admin").await;
        let ducha = token(&t, "ducha").await;

        let r = call(
            &mut b,
            Method::GET,
            "/api/v1/notify/targets",
            &admin,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(json_of(&r), serde_json::json!([]));
        let body = format!(
            r#"{{"scope":"unit","scope_id":{unit},"kind":"feishu","address":"http://192.168.1.9/hook"}}"#
        );
        let r = call(
            &mut b,
            Method::POST,
            "/api/v1/notify/targets",
            &admin,
            Some(&body),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(code_of(&r), "url_blocked_address");
        let body = format!(
            r#"{{"scope":"unit","scope_id":{unit},"kind":"generic","address":"{url}","secret":"{SECRET}"}}"#
        );
        let r = call(
            &mut b,
            Method::POST,
            "/api/v1/notify/targets",
            &admin,
            Some(&body),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert!(!r.body.contains(SECRET));
        let v = json_of(&r);
        assert_eq!(v["has_secret"], true);
        let id = v["id"].as_i64().unwrap();
        let one = format!("/api/v1/notify/targets/{id}");

        let r = call(
            &mut b,
            Method::PUT,
            &one,
            &admin,
            Some(r#"{"enabled":false}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(json_of(&r)["enabled"], false);
        assert_eq!(json_of(&r)["has_secret"], true);
        let r = call(
            &mut b,
            Method::POST,
            &format!("{one}/test"),
            &admin,
            None,
            &[],
        )
        .await;
        assert_eq!(code_of(&r), "target_disabled");
        let r = call(
            &mut b,
            Method::PUT,
            &one,
            &admin,
            Some(r#"{"enabled":true}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let r = call(
            &mut b,
            Method::POST,
            &format!("{one}/test"),
            &admin,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = call(
            &mut b,
            Method::GET,
            "/api/v1/notify/deliveries?status=pending",
            &admin,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v = json_of(&r);
        assert_eq!(v["items"][0]["event_kind"], "test");
        assert_eq!(v["items"][0]["target_id"], id);
        let r = call(
            &mut b,
            Method::GET,
            "/api/v1/notify/deliveries?status=nope",
            &admin,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = call(
            &mut b,
            Method::GET,
            "/api/v1/notify/deliveries?limit=0",
            &admin,
            None,
            &[],
        )
        .await;
        assert_eq!(code_of(&r), "limit_out_of_range");
        let r = call(&mut b, Method::DELETE, &one, &admin, None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = call(&mut b, Method::GET, &one, &admin, None, &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // Business roles: no targets, no log; their own preferences.
        let r = call(
            &mut b,
            Method::GET,
            "/api/v1/notify/targets",
            &ducha,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = call(
            &mut b,
            Method::GET,
            "/api/v1/notify/deliveries",
            &ducha,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = call(
            &mut b,
            Method::GET,
            "/api/v1/notify/prefs",
            &ducha,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(json_of(&r)["overrides"]["quiet_mode"], "inherit");
        let put = r#"{"channels":{"due_soon":["email"]},"quiet_mode":"off","daily_digest":true}"#;
        let r = call(
            &mut b,
            Method::PUT,
            "/api/v1/notify/prefs",
            &ducha,
            Some(put),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v = json_of(&r);
        assert_eq!(
            v["effective"]["channels"]["due_soon"],
            serde_json::json!(["inbox", "email"])
        );
        assert_eq!(v["effective"]["quiet_hours"], Value::Null);
        assert_eq!(v["effective"]["daily_digest"], true);
        assert_eq!(v["overrides"]["quiet_mode"], "off");
        let r = call(
            &mut b,
            Method::PUT,
            "/api/v1/notify/prefs",
            &ducha,
            Some(r#"{"channels":{"nope":[]}}"#),
            &[],
        )
        .await;
        assert_eq!(code_of(&r), "unknown_event");
        let r = call(
            &mut b,
            Method::PUT,
            "/api/v1/notify/prefs",
            &ducha,
            Some(r#"{"quiet_mode":"on"}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let on = r#"{"quiet_mode":"on","quiet_hours":{"start":"12:00","end":"13:30","urgent_bypass":false}}"#;
        let r = call(
            &mut b,
            Method::PUT,
            "/api/v1/notify/prefs",
            &ducha,
            Some(on),
            &[],
        )
        .await;
        assert_eq!(
            json_of(&r)["effective"]["quiet_hours"]["end"],
            "13:30",
            "{}",
            r.body
        );
        let jijian = token(&t, "jijian").await;
        let r = call(
            &mut b,
            Method::PUT,
            "/api/v1/notify/prefs",
            &jijian,
            Some("{}"),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = call(
            &mut b,
            Method::GET,
            "/api/v1/notify/prefs",
            &jijian,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
    }
}
