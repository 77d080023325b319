//! Login, lockout, sessions, CSRF, redirects, headers: security.md §4.1/§4.6 on the real router.

use axum::http::StatusCode;
use taizhang_testkit::TestDb;

use crate::support::{DEMO_PASSWORD, TestApp};

#[tokio::test]
async fn unknown_user_and_wrong_password_get_identical_answers() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut b = t.browser();
        let a = b
            .post_form(
                "/login",
                &[
                    ("username", "ducha"),
                    ("password", "wrong-password-1"),
                    ("next", "/desk"),
                ],
            )
            .await;
        let c = b
            .post_form(
                "/login",
                &[
                    ("username", "nosuchuser"),
                    ("password", "wrong-password-1"),
                    ("next", "/desk"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(c.status, a.status);
        let strip = |s: &str| {
            s.replace("value=\"ducha\"", "")
                .replace("value=\"nosuchuser\"", "")
        };
        assert_eq!(strip(&a.body), strip(&c.body), "{}", t.db.backend());
    }
}

#[tokio::test]
async fn the_session_cookie_is_host_prefixed_secure_httponly_and_samesite() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut b = t.browser();
    let r = b
        .post_form(
            "/login",
            &[
                ("username", "ducha"),
                ("password", DEMO_PASSWORD),
                ("next", "/desk"),
            ],
        )
        .await;
    let sc = r
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(sc.starts_with("__Host-tz_session="), "{sc}");
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(sc.contains(flag), "{flag} missing in {sc}");
    }
    let desk = b.get("/desk").await;
    assert_eq!(desk.status, StatusCode::OK);
    assert_eq!(desk.headers.get("cache-control").unwrap(), "no-store");
    for h in [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "x-request-id",
    ] {
        assert!(desk.headers.contains_key(h), "{h} missing");
    }
    assert!(
        !desk
            .headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("unsafe-inline")
    );
}

#[tokio::test]
async fn variants_of_a_username_do_not_open_another_account() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    // `ＤＵＣＨＡ` and `Ducha` normalize to `ducha` (one account); `ducha\u{200b}` is refused.
    for (name, ok) in [
        ("Ducha", true),
        ("ＤＵＣＨＡ", true),
        ("ducha\u{200b}", false),
        (" ducha", false),
    ] {
        let mut b = t.browser();
        let r = b
            .post_form(
                "/login",
                &[
                    ("username", name),
                    ("password", DEMO_PASSWORD),
                    ("next", "/desk"),
                ],
            )
            .await;
        assert_eq!(
            r.status == StatusCode::SEE_OTHER,
            ok,
            "{name:?}: {}",
            r.status
        );
    }
    let mut b = t.browser();
    let huge = "x".repeat(1 << 20);
    let r = b
        .post_form(
            "/login",
            &[
                ("username", "ducha"),
                ("password", &huge),
                ("next", "/desk"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_open_redirect_in_next_is_neutralized() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let mut b = t.browser();
        let r = b
            .post_form(
                "/login",
                &[
                    ("username", "ducha"),
                    ("password", DEMO_PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.location(), "/desk", "{next}");
    }
    let mut b = t.browser();
    let r = b
        .post_form(
            "/login",
            &[
                ("username", "ducha"),
                ("password", DEMO_PASSWORD),
                ("next", "/admin/tokens"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/admin/tokens");
}

#[tokio::test]
async fn fifty_concurrent_wrong_passwords_lock_the_account_with_an_exact_counter() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let mut b = t.browser();
            tasks.push(tokio::spawn(async move {
                b.post_form(
                    "/login",
                    &[
                        ("username", "jingban1"),
                        ("password", "wrong-password-x"),
                        ("next", "/desk"),
                    ],
                )
                .await
                .status
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), StatusCode::UNAUTHORIZED);
        }
        let mut c = t.app.store.read().await.unwrap();
        let p = taizhang_store::people::find_by_username(&mut c, "jingban1")
            .await
            .unwrap()
            .unwrap();
        assert!(p.locked_until.is_some(), "{}: not locked", t.db.backend());
        // Every evaluated wrong password was counted exactly once: the counter equals the number
        // of audited "wrong credentials" denials for this account.
        let q = taizhang_store::audit::AuditQuery {
            object_id: Some(p.id.to_string()),
            limit: 500,
            ..Default::default()
        };
        let rows = taizhang_store::audit::search(&mut c, &q).await.unwrap();
        let wrong = rows
            .iter()
            .filter(|r| r.detail.starts_with("wrong credentials"))
            .count() as i64;
        assert_eq!(p.failed_logins, wrong, "{}", t.db.backend());
        assert!(wrong >= 5);
        drop(c);
        // The right password is refused while locked.
        let mut b = t.browser();
        let r = b
            .post_form(
                "/login",
                &[
                    ("username", "jingban1"),
                    ("password", DEMO_PASSWORD),
                    ("next", "/desk"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        // 30 minutes later it works again.
        t.clock.advance_ms(31 * 60_000);
        let r = b
            .post_form(
                "/login",
                &[
                    ("username", "jingban1"),
                    ("password", DEMO_PASSWORD),
                    ("next", "/desk"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn a_forged_x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut b = t.browser();
    let req = axum::http::Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", "10.9.9.9")
        .body(axum::body::Body::from(
            "username=ducha&password=nope-nope-nope&next=%2Fdesk",
        ))
        .unwrap();
    b.send(req).await;
    let mut c = t.app.store.read().await.unwrap();
    let rows = taizhang_store::audit::search(
        &mut c,
        &taizhang_store::audit::AuditQuery {
            action: Some("auth.login".into()),
            limit: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(rows[0].source_ip, "127.0.0.1");
}

#[tokio::test]
async fn idle_and_absolute_timeouts_are_enforced_by_the_server() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut b = t.login("ducha").await;
    t.clock.advance_ms(29 * 60_000 + 59_000);
    assert_eq!(
        b.get("/desk").await.status,
        StatusCode::OK,
        "29:59 idle is still fine"
    );
    t.clock.advance_ms(30 * 60_000 + 1_000);
    let r = b.get("/desk").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "30:01 idle ends the session"
    );
    assert!(r.location().starts_with("/login"));
    // Absolute: active every 20 minutes, still ends after 12 hours.
    let mut b = t.login("ducha").await;
    for _ in 0..35 {
        t.clock.advance_ms(20 * 60_000);
        assert_eq!(b.get("/desk").await.status, StatusCode::OK);
    }
    t.clock.advance_ms(20 * 60_000);
    assert_eq!(b.get("/desk").await.status, StatusCode::OK);
    t.clock.advance_ms(20 * 60_000);
    assert_eq!(
        b.get("/desk").await.status,
        StatusCode::SEE_OTHER,
        "past 12 h"
    );
}

#[tokio::test]
async fn logout_and_password_change_end_the_session_and_csrf_is_required() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut b = t.login("chuzhang1").await;
    let old_cookie = b.cookie.clone();
    // Without the token: refused.
    let r = b.post_form("/logout", &[("csrf", "forged")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Cross-site origin: refused even with the token.
    b.get("/desk").await;
    let csrf = b.csrf.clone().unwrap();
    let req = axum::http::Request::post("/logout")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .body(axum::body::Body::from(format!("csrf={csrf}")))
        .unwrap();
    assert_eq!(b.send(req).await.status, StatusCode::FORBIDDEN);
    let r = b.post_csrf("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    b.cookie = old_cookie;
    assert_eq!(
        b.get("/desk").await.status,
        StatusCode::SEE_OTHER,
        "the old cookie is dead"
    );
    // Password change ends every session of the person.
    let mut one = t.login("chuzhang1").await;
    let mut two = t.login("chuzhang1").await;
    one.get("/account/password").await;
    let r = one
        .post_csrf(
            "/account/password",
            &[
                ("old", DEMO_PASSWORD),
                ("new", "Zhang-Chu-2026-new"),
                ("confirm", "Zhang-Chu-2026-new"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(two.get("/desk").await.status, StatusCode::SEE_OTHER);
    // The old password is now history and cannot be reused.
    let mut three = t.browser();
    three
        .post_form(
            "/login",
            &[
                ("username", "chuzhang1"),
                ("password", "Zhang-Chu-2026-new"),
                ("next", "/desk"),
            ],
        )
        .await;
    three.get("/account/password").await;
    let r = three
        .post_csrf(
            "/account/password",
            &[
                ("old", "Zhang-Chu-2026-new"),
                ("new", DEMO_PASSWORD),
                ("confirm", DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("最近 5 次"));
}

#[tokio::test]
async fn a_fresh_install_has_no_working_default_credential() {
    let t = TestApp::new(TestDb::sqlite(), false).await;
    let pw = taizhang_app::org::bootstrap_admin(&t.app)
        .await
        .unwrap()
        .unwrap();
    for guess in [
        "admin",
        "admin123",
        "123456",
        "password",
        "Admin@123",
        "taizhang",
    ] {
        let mut b = t.browser();
        let r = b
            .post_form(
                "/login",
                &[
                    ("username", "admin"),
                    ("password", guess),
                    ("next", "/desk"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{guess}");
    }
    // Those guesses locked the account; 31 minutes later the one-time password works but leads
    // to TOTP enrolment (admin role), and nothing else.
    t.clock.advance_ms(31 * 60_000);
    let mut b = t.browser();
    let r = b
        .post_form(
            "/login",
            &[("username", "admin"), ("password", &pw), ("next", "/admin")],
        )
        .await;
    assert_eq!(r.location(), "/account/totp", "{} {}", r.status, r.body);
    let r = b.get("/admin").await;
    assert_eq!(
        r.location(),
        "/account/totp",
        "no half-open access to admin pages"
    );
    // A second bootstrap does nothing.
    assert!(
        taizhang_app::org::bootstrap_admin(&t.app)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_admin_enrols_totp_then_must_change_the_initial_password() {
    let t = TestApp::new(TestDb::sqlite(), false).await;
    let pw = taizhang_app::org::bootstrap_admin(&t.app)
        .await
        .unwrap()
        .unwrap();
    let mut b = t.browser();
    b.post_form(
        "/login",
        &[("username", "admin"), ("password", &pw), ("next", "/admin")],
    )
    .await;
    let page = b.get("/account/totp").await;
    let i = page.body.find("class=\"secret\">").unwrap() + 15;
    let secret = &page.body[i..i + page.body[i..].find('<').unwrap()];
    let secret = taizhang_domain::totp::TotpSecret::from_base32(secret).unwrap();
    let now_s = (t.clock.as_ref() as &dyn taizhang_app::Clock).now_ms() as u64 / 1000;
    let r = b.post_csrf("/account/totp", &[("code", "000000")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = b
        .post_csrf("/account/totp", &[("code", &secret.code_at(now_s))])
        .await;
    assert_eq!(r.location(), "/account/next");
    let r = b.get("/account/next").await;
    assert_eq!(
        r.location(),
        "/account/password",
        "initial password must be changed"
    );
    b.get("/account/password").await;
    let r = b
        .post_csrf(
            "/account/password",
            &[
                ("old", &pw),
                ("new", "Ledger-Strong-2026!"),
                ("confirm", "Ledger-Strong-2026!"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Next login needs the code; a replayed code is refused.
    t.clock.advance_ms(60_000);
    let now_s = (t.clock.as_ref() as &dyn taizhang_app::Clock).now_ms() as u64 / 1000;
    let code = secret.code_at(now_s);
    let mut c = t.browser();
    let r = c
        .post_form(
            "/login",
            &[
                ("username", "admin"),
                ("password", "Ledger-Strong-2026!"),
                ("totp", &code),
                ("next", "/admin"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/admin");
    assert_eq!(c.get("/admin").await.status, StatusCode::OK);
    let mut d = t.browser();
    let r = d
        .post_form(
            "/login",
            &[
                ("username", "admin"),
                ("password", "Ledger-Strong-2026!"),
                ("totp", &code),
                ("next", "/admin"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "replayed TOTP step");
}

#[tokio::test]
async fn the_json_login_refuses_unknown_fields_and_returns_a_csrf_token() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut b = t.browser();
    let r = b
        .post_json(
            "/api/v1/auth/login",
            r#"{"username":"ducha","password":"x","role":"admin"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = b
        .post_json(
            "/api/v1/auth/login",
            &format!(r#"{{"username":"ducha","password":"{DEMO_PASSWORD}"}}"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("csrf_token"));
    let me = b.get("/api/v1/me").await;
    assert!(me.body.contains("\"username\":\"ducha\""), "{}", me.body);
}

#[tokio::test]
async fn probing_other_units_ids_raises_an_audited_security_alert() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut b = t.login("jinan").await;
    let mut refused = 0;
    for id in 1..=60 {
        let r = b.get(&format!("/matters/{id}")).await;
        if r.status == StatusCode::NOT_FOUND || r.status == StatusCode::FORBIDDEN {
            refused += 1;
        }
    }
    assert!(refused >= 20, "only {refused} refusals");
    let mut c = t.app.store.read().await.unwrap();
    let q = taizhang_store::audit::AuditQuery {
        action: Some("security.alert".into()),
        limit: 10,
        ..Default::default()
    };
    let alerts = taizhang_store::audit::search(&mut c, &q).await.unwrap();
    assert_eq!(alerts.len(), 1, "one alert per burst");
    assert_eq!(alerts[0].actor_name, "jinan");
}
