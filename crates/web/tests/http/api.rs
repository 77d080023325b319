//! The JSON API (issue 7) on both backends: bearer tokens, the matter list with filters and
//! cursor paging, Idempotency-Key, ETag/If-Match, the bad-input catalogue, 纪检监察 refused on
//! every write, and the OpenAPI description covering every `/api/v1` route.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use taizhang_app::Caller;
use taizhang_app::identity::revoke_token;
use taizhang_testkit::TestDb;
use taizhang_web::routes::table;

use crate::support::{Browser, TestApp, call, code_of, json_of, token};

async fn a_unit(b: &mut Browser, tok: &str) -> i64 {
    let r = call(b, Method::GET, "/api/v1/units", tok, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    json_of(&r)[0]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn bearer_tokens_work_until_revoked_or_expired() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut b = t.browser();
        let tok = token(&t, "ducha").await;
        let r = call(&mut b, Method::GET, "/api/v1/me", &tok, None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(json_of(&r)["username"], "ducha");
        let r = call(&mut b, Method::GET, "/api/v1/me", "tz_forged", None, &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(code_of(&r), "unauthenticated");
        // Expired after 30 days.
        t.clock.advance_ms(31 * 86_400_000);
        let r = call(&mut b, Method::GET, "/api/v1/me", &tok, None, &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        // Revoked.
        let tok2 = token(&t, "ducha").await;
        let mut c = t.app.store.read().await.unwrap();
        let tokens = taizhang_store::people::list_tokens(&mut c, None)
            .await
            .unwrap();
        drop(c);
        let id = tokens.iter().map(|t| t.id).max().unwrap();
        revoke_token(&t.app, &Caller::system("test"), id)
            .await
            .unwrap();
        let r = call(&mut b, Method::GET, "/api/v1/me", &tok2, None, &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn the_matter_list_filters_sorts_and_pages_with_an_opaque_cursor() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut b = t.browser();
        let tok = token(&t, "ducha").await;
        let r = call(
            &mut b,
            Method::GET,
            "/api/v1/matters?with_total=true&limit=1",
            &tok,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let total = json_of(&r)["total"].as_i64().unwrap();
        assert!(total >= 3, "demo has matters: {total}");
        // Walk every page of 2 by cursor: each matter once.
        let mut seen = std::collections::BTreeSet::new();
        let mut path = "/api/v1/matters?limit=2&sort=-deadline".to_owned();
        loop {
            let r = call(&mut b, Method::GET, &path, &tok, None, &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            let v = json_of(&r);
            for m in v["items"].as_array().unwrap() {
                assert!(seen.insert(m["id"].as_i64().unwrap()));
            }
            match v["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/matters?limit=2&sort=-deadline&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(i64::try_from(seen.len()).unwrap(), total);
        for (q, status) in [
            ("overdue=true&with_total=true", StatusCode::OK),
            ("status=in_progress,assigned", StatusCode::OK),
            ("light=red", StatusCode::OK),
            ("q=%25", StatusCode::OK),
            ("q=_", StatusCode::OK),
            ("due_before=2026-12-31&year=2026", StatusCode::OK),
            ("sort=deadline", StatusCode::OK),
            ("limit=1000000", StatusCode::UNPROCESSABLE_ENTITY),
            ("limit=0", StatusCode::UNPROCESSABLE_ENTITY),
            ("page=-1", StatusCode::BAD_REQUEST),
            (
                "sort=name;drop%20table%20matters",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            ("sort=-deadline%20desc", StatusCode::UNPROCESSABLE_ENTITY),
            ("status=nope", StatusCode::UNPROCESSABLE_ENTITY),
            ("light=purple", StatusCode::UNPROCESSABLE_ENTITY),
            ("due_before=2026-02-30", StatusCode::UNPROCESSABLE_ENTITY),
            ("limit=9223372036854775808", StatusCode::BAD_REQUEST),
            ("cursor=AAAA", StatusCode::BAD_REQUEST),
            ("unit=abc", StatusCode::BAD_REQUEST),
        ] {
            let r = call(
                &mut b,
                Method::GET,
                &format!("/api/v1/matters?{q}"),
                &tok,
                None,
                &[],
            )
            .await;
            assert_eq!(r.status, status, "{q}: {}", r.body);
        }
        // `%` is a literal: nothing in the demo contains it.
        let r = call(
            &mut b,
            Method::GET,
            "/api/v1/matters?q=%25&with_total=true",
            &tok,
            None,
            &[],
        )
        .await;
        assert_eq!(json_of(&r)["total"], 0);
    }
}

#[tokio::test]
async fn bad_input_gets_a_stable_4xx_and_changes_nothing() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut b = t.browser();
        let tok = token(&t, "ducha").await;
        let before = t.app.store.row_counts().await.unwrap();
        let big = format!("{{\"title\":\"{}\"}}", "a".repeat(10 * 1024 * 1024));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let cases: Vec<(String, StatusCode, &str)> = vec![
            (big, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            (deep, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            (
                format!(
                    "{{\"title\":{}1{}}}",
                    "[".repeat(10_000),
                    "]".repeat(10_000)
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
            ),
            (
                r#"{"title":"\ud800","lead_unit_id":1}"#.into(),
                StatusCode::BAD_REQUEST,
                "bad_json",
            ),
            (
                r#"{"title":"x","lead_unit_id":1,"evil":1}"#.into(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
            ),
            (
                r#"{"title":"x","lead_unit_id":9223372036854775808}"#.into(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
            ),
            ("{".into(), StatusCode::BAD_REQUEST, "bad_json"),
            (
                r#"{"title":"","lead_unit_id":1}"#.into(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "title_empty",
            ),
            (
                r#"{"title":"x","lead_unit_id":1,"deadline":"9999-12-31"}"#.into(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "date_out_of_range",
            ),
        ];
        for (body, status, code) in cases {
            let r = call(
                &mut b,
                Method::POST,
                "/api/v1/matters",
                &tok,
                Some(&body),
                &[],
            )
            .await;
            assert_eq!(r.status, status, "{}", &body[..body.len().min(60)]);
            assert_eq!(code_of(&r), code, "{}", r.body);
        }
        let r = b
            .send(
                Request::post("/api/v1/matters")
                    .header(header::AUTHORIZATION, format!("Bearer {tok}"))
                    .header(header::CONTENT_TYPE, "text/plain")
                    .body(Body::from("{}"))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let r = call(&mut b, Method::GET, "/api/v1/matters/abc", &tok, None, &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = call(&mut b, Method::GET, "/api/v1/matters/-1", &tok, None, &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let after = t.app.store.row_counts().await.unwrap();
        for (table, n) in &before {
            if !table.starts_with("audit") && table != "api_tokens" {
                assert_eq!(after.get(table), Some(n), "{table} changed");
            }
        }
    }
}

#[tokio::test]
async fn an_idempotency_key_makes_a_create_safe_to_retry() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut b = t.browser();
        let tok = token(&t, "ducha").await;
        let unit = a_unit(&mut b, &tok).await;
        let body = json!({"title": "API 立项测试", "lead_unit_id": unit, "deadline": "2026-06-30"})
            .to_string();
        let key = [("Idempotency-Key", "k-1")];
        let r1 = call(
            &mut b,
            Method::POST,
            "/api/v1/matters",
            &tok,
            Some(&body),
            &key,
        )
        .await;
        assert_eq!(r1.status, StatusCode::CREATED, "{}", r1.body);
        let r2 = call(
            &mut b,
            Method::POST,
            "/api/v1/matters",
            &tok,
            Some(&body),
            &key,
        )
        .await;
        assert_eq!(r2.status, StatusCode::CREATED);
        assert_eq!(r1.body, r2.body);
        let other = json!({"title": "另一个", "lead_unit_id": unit}).to_string();
        let r3 = call(
            &mut b,
            Method::POST,
            "/api/v1/matters",
            &tok,
            Some(&other),
            &key,
        )
        .await;
        assert_eq!(r3.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(code_of(&r3), "idempotency_mismatch");
        let r = call(
            &mut b,
            Method::GET,
            "/api/v1/matters?q=API%20立项测试&with_total=true",
            &tok,
            None,
            &[],
        )
        .await;
        assert_eq!(json_of(&r)["total"], 1, "{}", r.body);
    }
}

#[tokio::test]
async fn a_stale_if_match_is_refused_with_412_and_changes_nothing() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut b = t.browser();
        let tok = token(&t, "ducha").await;
        let unit = a_unit(&mut b, &tok).await;
        let body = json!({"title": "ETag 测试", "lead_unit_id": unit, "deadline": "2026-06-30"})
            .to_string();
        let r = call(
            &mut b,
            Method::POST,
            "/api/v1/matters",
            &tok,
            Some(&body),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = json_of(&r)["id"].as_i64().unwrap();
        let path = format!("/api/v1/matters/{id}");
        let r = call(&mut b, Method::GET, &path, &tok, None, &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        let etag = r.headers[header::ETAG].to_str().unwrap().to_owned();
        assert_eq!(json_of(&r)["timeline"][0]["kind"], "create");
        let r = call(
            &mut b,
            Method::GET,
            &path,
            &tok,
            None,
            &[("If-None-Match", &etag)],
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_MODIFIED);
        let submit = format!("{path}/submit");
        let r = call(
            &mut b,
            Method::POST,
            &submit,
            &tok,
            None,
            &[("If-Match", "\"stale\"")],
        )
        .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
        assert_eq!(code_of(&r), "precondition_failed");
        let r = call(&mut b, Method::GET, &path, &tok, None, &[]).await;
        assert_eq!(json_of(&r)["matter"]["status"], "draft");
        let r = call(
            &mut b,
            Method::POST,
            &submit,
            &tok,
            None,
            &[("If-Match", &etag)],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let new_tag = r.headers[header::ETAG].to_str().unwrap().to_owned();
        assert_ne!(new_tag, etag);
        // The old tag is stale now.
        let r = call(
            &mut b,
            Method::POST,
            &format!("{path}/approve"),
            &tok,
            None,
            &[("If-Match", &etag)],
        )
        .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    }
}

#[tokio::test]
async fn the_inspector_is_refused_on_every_api_write() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut b = t.browser();
        let tok = token(&t, "jijian").await;
        let before = t.app.store.row_counts().await.unwrap();
        for e in table().iter().filter(|e| {
            e.is_write() && e.path.starts_with("/api/v1/") && e.path != "/api/v1/auth/login"
        }) {
            let path = e.path.replace("{id}", "1");
            let r = call(&mut b, e.method.clone(), &path, &tok, Some("{}"), &[]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
            assert_eq!(code_of(&r), "forbidden");
        }
        let after = t.app.store.row_counts().await.unwrap();
        for (table, n) in &before {
            if !table.starts_with("audit") && table != "api_tokens" {
                assert_eq!(after.get(table), Some(n), "纪检监察 changed {table}");
            }
        }
    }
}

#[tokio::test]
async fn the_openapi_description_covers_every_api_route_and_the_docs_are_served() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut b = t.browser();
    let r = b.get("/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let spec = json_of(&r);
    assert_eq!(spec["openapi"], "3.1.0");
    for e in table().iter().filter(|e| e.path.starts_with("/api/v1/")) {
        let m = e.method.as_str().to_lowercase();
        assert!(
            spec["paths"][e.path][&m].is_object(),
            "{} {} is not documented",
            e.method,
            e.path
        );
    }
    let r = b.get("/api/docs/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("swagger"),
        "{}",
        &r.body[..r.body.len().min(200)]
    );
    let r = b.get("/api/docs/swagger-initializer.js").await;
    assert!(r.body.contains("/api/openapi.json"));
}

#[tokio::test]
async fn the_daily_check_list_pages_by_limit_and_offset() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut b = t.browser();
        let tok = token(&t, "ducha").await;
        let day = "2026-03-16";
        let r = call(
            &mut b,
            Method::POST,
            "/api/v1/daily-checks",
            &tok,
            Some(&json!({ "day": day }).to_string()),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let get = async |b: &mut Browser, q: &str| {
            let r = call(
                b,
                Method::GET,
                &format!("/api/v1/daily-checks?day={day}{q}"),
                &tok,
                None,
                &[],
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            json_of(&r)["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        };
        let all = get(&mut b, "").await;
        assert!(all.len() >= 3, "the demo has check items: {all:?}");
        let mut paged = Vec::new();
        for offset in (0..all.len() + 2).step_by(2) {
            paged.extend(get(&mut b, &format!("&limit=2&offset={offset}")).await);
        }
        assert_eq!(paged, all, "pages of 2 give every item once, in order");
        for (bad, status) in [
            ("&limit=0", StatusCode::UNPROCESSABLE_ENTITY),
            ("&limit=5001", StatusCode::UNPROCESSABLE_ENTITY),
            ("&offset=-1", StatusCode::BAD_REQUEST),
        ] {
            let path = format!("/api/v1/daily-checks?day={day}{bad}");
            let r = call(&mut b, Method::GET, &path, &tok, None, &[]).await;
            assert_eq!(r.status, status, "{bad}: {}", r.body);
            assert!(!code_of(&r).is_empty(), "{bad}: {}", r.body);
        }
    }
}
