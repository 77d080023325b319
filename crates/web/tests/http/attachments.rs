//! 佐证材料 over HTTP on both backends: the matter page's multipart upload (CSRF in the body),
//! the list, download and preview headers (sniffed type, nosniff, a Chinese file name in
//! `filename*`, a sandboxing CSP), withdrawal, 纪检监察 read-only, out of scope as 404, and an
//! oversize file refused with a clear 413 — through the page and through the API, whatever its
//! size — and the upload routes' longer time limit (a slow upload passes, a stalled one is cut).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use futures::StreamExt;
use http_body_util::BodyExt;
use serde_json::Value;
use taizhang_app::Caller;
use taizhang_app::identity::create_token;
use taizhang_app::ledger::attachments::{samples, set_max_bytes};
use taizhang_app::ledger::matters::{DeadlineInput, NewMatter};
use taizhang_app::ledger::{create_matter, flow};
use taizhang_testkit::TestDb;
use taizhang_web::HttpLimits;
use tower::ServiceExt;

use crate::support::{Browser, TestApp};

const BOUNDARY: &str = "----taizhangattachmentboundary";

/// An answer with its raw bytes (downloads are binary).
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Raw {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
    fn header(&self, name: header::HeaderName) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}

/// Send `req` as browser `b` (its cookie, its address) and keep the body's bytes.
async fn raw(t: &TestApp, b: &Browser, req: Request<Body>) -> Raw {
    raw_on(&t.router, b, req).await
}

/// [`raw`] through another router of the same app (other time limits).
async fn raw_on(router: &axum::Router, b: &Browser, mut req: Request<Body>) -> Raw {
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(b.peer));
    if let Some(c) = &b.cookie {
        req.headers_mut().insert(header::COOKIE, c.parse().unwrap());
    }
    req.headers_mut()
        .insert(header::HOST, "taizhang.test".parse().unwrap());
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Raw {
        status,
        headers,
        bytes,
    }
}

/// A multipart body: text fields, then one file.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, data)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn multipart_request(method: Method, path: &str, body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap()
}

/// Upload through the matter page's form (fetching the page first for its CSRF token).
async fn page_upload(t: &TestApp, b: &mut Browser, id: i64, name: &str, data: &[u8]) -> Raw {
    if b.csrf.is_none() {
        b.get(&format!("/matters/{id}")).await;
    }
    let csrf = b.csrf.clone().unwrap_or_default();
    let body = multipart(&[("csrf", &csrf)], Some((name, data)));
    raw(
        t,
        b,
        multipart_request(Method::POST, &format!("/matters/{id}/attachments"), body),
    )
    .await
}

/// A matter of 干部一处 assigned and signed for (办理中), with 经办人 jingban1.
async fn running(t: &TestApp, title: &str) -> i64 {
    let load = |u: &'static str| taizhang_app::caller::load_caller_by_username(&t.app, u);
    let ducha = load("ducha").await.unwrap();
    let chuzhang = load("chuzhang1").await.unwrap();
    let jingban = load("jingban1").await.unwrap();
    let mut m = NewMatter::basic(
        title,
        chuzhang.unit_id,
        DeadlineInput::Date("2026-04-30".into()),
    );
    m.handler_ids = vec![jingban.person_id.unwrap()];
    let id = create_matter(&t.app, &ducha, m).await.unwrap();
    flow::submit_matter(&t.app, &ducha, id).await.unwrap();
    flow::approve_matter(&t.app, &ducha, id).await.unwrap();
    flow::sign_for(&t.app, &chuzhang, id).await.unwrap();
    id
}

/// The id of the attachment named `name` in the matter page's 佐证材料 table.
async fn attachment_id(b: &mut Browser, matter: i64, name: &str) -> i64 {
    let page = b.get(&format!("/matters/{matter}")).await;
    let start = page.body.find("id=\"attachments\"").expect("the section");
    let section = &page.body[start..];
    let at = section
        .find(name)
        .unwrap_or_else(|| panic!("{name} is not listed: {section}"));
    let before = &section[..at];
    let key = "data-attachment=\"";
    let i = before.rfind(key).expect("a row") + key.len();
    let end = before[i..].find('"').unwrap();
    before[i..i + end].parse().unwrap()
}

#[tokio::test]
async fn the_matter_page_uploads_lists_downloads_previews_and_withdraws_evidence() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let be = t.db.backend();
        let id = running(&t, "佐证材料网页").await;
        let mut jb = t.login("jingban1").await;
        let page = jb.get(&format!("/matters/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{be}");
        assert!(page.body.contains("id=\"attachments\""), "{be}");
        assert!(
            page.body.contains("enctype=\"multipart/form-data\""),
            "{be}"
        );

        let pdf = samples::pdf(&["Rectification report"]);
        let name = "整改报告（终稿）.pdf";
        let r = page_upload(&t, &mut jb, id, name, &pdf).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{be}: {}", r.text());
        assert_eq!(
            r.header(header::LOCATION),
            format!("/matters/{id}#attachments")
        );
        let aid = attachment_id(&mut jb, id, name).await;
        let page = jb.get(&format!("/matters/{id}")).await;
        assert!(page.body.contains("PDF 文档"), "{be}");
        assert!(
            page.body.contains(&format!("/attachments/{aid}?inline=1")),
            "{be}"
        );
        assert!(page.body.contains("上传佐证材料"), "{be}: on the timeline");

        // The download: the exact bytes, the sniffed type, never sniffed again, never a page.
        let d = raw(
            &t,
            &jb,
            Request::get(format!("/attachments/{aid}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(d.status, StatusCode::OK, "{be}");
        assert_eq!(d.bytes, pdf, "{be}");
        assert_eq!(d.header(header::CONTENT_TYPE), "application/pdf");
        assert_eq!(d.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        let disp = d.header(header::CONTENT_DISPOSITION);
        assert!(disp.starts_with("attachment;"), "{disp}");
        assert!(
            disp.contains("filename*=UTF-8''%E6%95%B4%E6%94%B9%E6%8A%A5%E5%91%8A%EF%BC%88%E7%BB%88%E7%A8%BF%EF%BC%89.pdf"),
            "{disp}"
        );
        let csp = d.header(header::CONTENT_SECURITY_POLICY);
        assert!(
            csp.contains("default-src 'none'") && csp.contains("sandbox"),
            "{csp}"
        );
        // The preview opens a PDF inline (Chromium's viewer will not run sandboxed).
        let p = raw(
            &t,
            &jb,
            Request::get(format!("/attachments/{aid}?inline=1"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(p.header(header::CONTENT_DISPOSITION).starts_with("inline;"));
        assert!(
            p.header(header::CONTENT_SECURITY_POLICY)
                .contains("default-src 'none'")
        );
        // An image preview stays sandboxed.
        let png = samples::png_bars(&[20, 80], 32, 16);
        page_upload(&t, &mut jb, id, "现场照片", &png).await;
        let pid = attachment_id(&mut jb, id, "现场照片.png").await;
        let p = raw(
            &t,
            &jb,
            Request::get(format!("/attachments/{pid}?inline=1"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(p.header(header::CONTENT_TYPE), "image/png");
        assert!(p.header(header::CONTENT_DISPOSITION).starts_with("inline;"));
        assert!(
            p.header(header::CONTENT_SECURITY_POLICY)
                .contains("sandbox")
        );
        // Text is never shown inline, whatever is asked.
        page_upload(
            &t,
            &mut jb,
            id,
            "说明.txt",
            "说明：<b>不是网页</b>".as_bytes(),
        )
        .await;
        let tid = attachment_id(&mut jb, id, "说明.txt").await;
        let p = raw(
            &t,
            &jb,
            Request::get(format!("/attachments/{tid}?inline=1"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(p.header(header::CONTENT_TYPE), "text/plain; charset=utf-8");
        assert!(
            p.header(header::CONTENT_DISPOSITION)
                .starts_with("attachment;")
        );

        // Refused files name the rule; nothing is stored.
        let exe = {
            let mut e = b"MZ\x90\0".to_vec();
            e.resize(0x100, 0);
            e[0x3C] = 0x80;
            e[0x80..0x84].copy_from_slice(b"PE\0\0");
            e
        };
        let r = page_upload(&t, &mut jb, id, "报告.pdf", &exe).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{be}");
        assert!(r.text().contains("可执行"), "{}", r.text());
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        let r = page_upload(&t, &mut jb, id, "图.svg", svg).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{be}");
        assert!(r.text().contains("SVG"), "{}", r.text());
        let r = page_upload(&t, &mut jb, id, "照片.pdf", &png).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("扩展名与内容不符"), "{}", r.text());
        // A forged CSRF token is refused.
        let saved = jb.csrf.replace("forged".into());
        let r = page_upload(&t, &mut jb, id, "x.txt", b"x").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{be}");
        jb.csrf = saved;

        // 纪检监察 downloads but cannot upload; out of scope is 404.
        let mut jj = t.login("jijian").await;
        let r = page_upload(&t, &mut jj, id, "x.txt", b"x").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{be}");
        let d = raw(
            &t,
            &jj,
            Request::get(format!("/attachments/{aid}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(d.status, StatusCode::OK);
        let page = jj.get(&format!("/matters/{id}")).await;
        assert!(
            !page.body.contains("id=\"attachment-upload\""),
            "{be}: no form"
        );
        let jn = t.login("jinan").await;
        let d = raw(
            &t,
            &jn,
            Request::get(format!("/attachments/{aid}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(d.status, StatusCode::NOT_FOUND, "{be}");

        // Withdraw: back to the matter, listed as withdrawn, no longer downloadable by the unit.
        let r = jb
            .post_csrf(
                &format!("/attachments/{aid}/remove"),
                &[("reason", "传错版本")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{be}: {}", r.body);
        let page = jb.get(&format!("/matters/{id}")).await;
        assert!(
            page.body.contains("已撤回") && page.body.contains("传错版本"),
            "{be}"
        );
        let d = raw(
            &t,
            &jb,
            Request::get(format!("/attachments/{aid}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(d.status, StatusCode::NOT_FOUND, "{be}");
        let r = jb
            .post_csrf(&format!("/attachments/{aid}/remove"), &[])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{be}");
    }
}

#[tokio::test]
async fn an_oversize_file_is_refused_with_a_clear_413() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let be = t.db.backend();
        let id = running(&t, "大文件").await;
        let admin = taizhang_app::caller::load_caller_by_username(&t.app, "admin")
            .await
            .unwrap();
        set_max_bytes(&t.app, &admin, 4096).await.unwrap();
        let mut jb = t.login("jingban1").await;
        let big = "台账".repeat(2000).into_bytes();
        let r = page_upload(&t, &mut jb, id, "大文件.txt", &big).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{be}");
        assert!(
            r.text().contains("文件过大，单个附件不超过 4 KB"),
            "{be}: {}",
            r.text()
        );
        // A declared length far over the limit is refused before any of it is kept.
        let csrf = jb.csrf.clone().unwrap();
        let body = multipart(&[("csrf", &csrf)], Some(("大.txt", &vec![b'a'; 600 << 10])));
        let mut req = multipart_request(
            Method::POST,
            &format!("/matters/{id}/attachments"),
            body.clone(),
        );
        req.headers_mut().insert(
            header::CONTENT_LENGTH,
            body.len().to_string().parse().unwrap(),
        );
        let r = raw(&t, &jb, req).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{be}");
        assert!(r.text().contains("单个附件不超过 4 KB"), "{}", r.text());

        // The API answers the same rule as JSON.
        let tok = create_token(&t.app, &Caller::system("test"), "jingban1", "t", Some(30))
            .await
            .unwrap();
        let mut req = multipart_request(
            Method::POST,
            &format!("/api/v1/matters/{id}/attachments"),
            multipart(&[], Some(("大文件.txt", &big))),
        );
        req.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {tok}").parse().unwrap(),
        );
        let r = raw(&t, &t.browser(), req).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{be}");
        let e = &r.json()["errors"][0];
        assert_eq!(e["code"], "file_too_large", "{be}");
        assert_eq!(e["field"], "file", "{be}");
        assert_eq!(e["detail"], "文件过大，单个附件不超过 4 KB", "{be}");
        let list =
            taizhang_app::ledger::attachments::list_attachments(&t.app, &Caller::system("t"), id)
                .await
                .unwrap();
        assert!(list.items.is_empty(), "{be}: nothing stored");
    }
}

/// A body of `len` bytes of `a` in 1 MiB pieces, counting what the server reads.
fn counted_body(len: usize, read: Arc<AtomicUsize>) -> Body {
    let pieces = (0..len.div_ceil(1 << 20)).map(move |i| {
        let n = (len - i * (1 << 20)).min(1 << 20);
        read.fetch_add(n, Ordering::SeqCst);
        Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'a'; n]))
    });
    Body::from_stream(futures::stream::iter(pieces))
}

/// A request with a declared length, as a browser or an API client sends a file.
fn declared(path: &str, len: usize, body: Body) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::CONTENT_LENGTH, len.to_string())
        .body(body)
        .unwrap()
}

#[tokio::test]
async fn a_30_mb_scan_gets_the_page_and_the_api_gets_json_never_a_bare_413() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let be = t.db.backend();
        let id = running(&t, "超大扫描件").await;
        let mut jb = t.login("jingban1").await;
        jb.get(&format!("/matters/{id}")).await;
        let big = 30 << 20;
        // The browser sends the whole file before it reads the answer: the body is read and
        // thrown away, then the page says why, with the way back to the matter.
        let read = Arc::new(AtomicUsize::new(0));
        let path = format!("/matters/{id}/attachments");
        let r = raw(
            &t,
            &jb,
            declared(&path, big, counted_body(big, read.clone())),
        )
        .await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{be}");
        assert!(
            r.header(header::CONTENT_TYPE).starts_with("text/html"),
            "{be}"
        );
        let page = r.text();
        assert!(
            page.contains("文件过大，单个附件不超过 20 MB"),
            "{be}: {page}"
        );
        assert!(page.contains(&format!("/matters/{id}#attachments")), "{be}");
        assert_eq!(read.load(Ordering::SeqCst), big, "{be}: drained");
        // The matter page carries the limit for the check before sending.
        let show = jb.get(&format!("/matters/{id}")).await;
        assert!(
            show.body
                .contains(&format!("data-max-bytes=\"{}\"", 20 << 20)),
            "{be}"
        );

        // The API: JSON, field `file`.
        let tok = create_token(&t.app, &Caller::system("test"), "jingban1", "t", Some(30))
            .await
            .unwrap();
        let api = format!("/api/v1/matters/{id}/attachments");
        let mut req = declared(&api, big, counted_body(big, Arc::new(AtomicUsize::new(0))));
        req.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {tok}").parse().unwrap(),
        );
        let r = raw(&t, &t.browser(), req).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{be}");
        let e = &r.json()["errors"][0];
        assert_eq!(e["code"], "file_too_large", "{be}: {}", r.text());
        assert_eq!(e["field"], "file", "{be}");
        assert_eq!(e["detail"], "文件过大，单个附件不超过 20 MB", "{be}");

        // A client that waits for `100 Continue` is answered without sending the file.
        let read = Arc::new(AtomicUsize::new(0));
        let mut req = declared(&api, big, counted_body(big, read.clone()));
        req.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {tok}").parse().unwrap(),
        );
        req.headers_mut()
            .insert(header::EXPECT, "100-continue".parse().unwrap());
        let r = raw(&t, &t.browser(), req).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{be}");
        assert_eq!(read.load(Ordering::SeqCst), 0, "{be}: nothing read");
        let list =
            taizhang_app::ledger::attachments::list_attachments(&t.app, &Caller::system("t"), id)
                .await
                .unwrap();
        assert!(list.items.is_empty(), "{be}: nothing stored");
    }
}

#[tokio::test]
async fn the_upload_limit_follows_the_setting_and_a_raised_limit_is_honoured() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let id = running(&t, "上限跟随设置").await;
    let admin = taizhang_app::caller::load_caller_by_username(&t.app, "admin")
        .await
        .unwrap();
    let ceiling = taizhang_app::ledger::attachments::MAX_BYTES_CEILING;
    set_max_bytes(&t.app, &admin, ceiling).await.unwrap();
    let mut jb = t.login("jingban1").await;
    jb.get(&format!("/matters/{id}")).await;
    let csrf = jb.csrf.clone().unwrap();
    // About 23 MiB of text: over the 20 MiB default, under the raised limit; sent with its
    // length, as a browser does.
    let text = "台账佐证材料\n".repeat((23 << 20) / 19).into_bytes();
    let body = multipart(&[("csrf", &csrf)], Some(("大文本.txt", &text)));
    let len = body.len();
    let r = raw(
        &t,
        &jb,
        declared(&format!("/matters/{id}/attachments"), len, Body::from(body)),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // Down to 1 MB: the same file is now refused in the page's words.
    set_max_bytes(&t.app, &admin, 1 << 20).await.unwrap();
    let body = multipart(&[("csrf", &csrf)], Some(("大文本2.txt", &text)));
    let len = body.len();
    let r = raw(
        &t,
        &jb,
        declared(&format!("/matters/{id}/attachments"), len, Body::from(body)),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().contains("单个附件不超过 1 MB"), "{}", r.text());
}

#[test]
fn uploads_and_downloads_get_the_transfer_limits_and_the_rest_the_ordinary_ones() {
    use taizhang_web::routes::{Transfer, table};
    let of = |m: Method, p: &str| {
        table()
            .into_iter()
            .find(|e| e.method == m && e.path == p)
            .unwrap_or_else(|| panic!("{m} {p} is not a route"))
            .transfer()
    };
    assert_eq!(
        of(Method::POST, "/matters/{id}/attachments"),
        Transfer::Upload
    );
    assert_eq!(
        of(Method::POST, "/api/v1/matters/{id}/attachments"),
        Transfer::Upload
    );
    assert_eq!(of(Method::POST, "/import"), Transfer::Upload);
    assert_eq!(of(Method::GET, "/matters/export.xlsx"), Transfer::Download);
    assert_eq!(of(Method::GET, "/reports/annual.xlsx"), Transfer::Download);
    assert_eq!(of(Method::GET, "/attachments/{id}"), Transfer::Download);
    assert_eq!(
        of(Method::GET, "/api/v1/matters/{id}/attachments"),
        Transfer::Ordinary
    );
    assert_eq!(of(Method::POST, "/login"), Transfer::Ordinary);
    assert_eq!(of(Method::GET, "/matters"), Transfer::Ordinary);
}

/// A body that sends `head`, waits `pause` (forever when `None`), then sends `tail`.
fn paused_body(head: Vec<u8>, pause: Option<Duration>, tail: Vec<u8>) -> Body {
    let parts = futures::stream::iter([head, tail])
        .enumerate()
        .then(move |(i, part)| async move {
            if i == 1 {
                match pause {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending::<()>().await,
                }
            }
            Ok::<_, std::io::Error>(axum::body::Bytes::from(part))
        });
    Body::from_stream(parts)
}

#[tokio::test]
async fn a_slow_upload_outlasts_the_request_timeout_and_a_stalled_one_is_cut_off() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let id = running(&t, "慢速上传").await;
    let limits = HttpLimits {
        request_timeout: Duration::from_millis(200),
        transfer_timeout: Duration::from_millis(2000),
    };
    let router = t.router_with(limits);
    let mut jb = t.login("jingban1").await;
    jb.get(&format!("/matters/{id}")).await;
    let csrf = jb.csrf.clone().unwrap();
    let path = format!("/matters/{id}/attachments");
    let upload = |pause| {
        let body = multipart(
            &[("csrf", &csrf)],
            Some(("慢.txt", "县里的网慢".as_bytes())),
        );
        let (head, tail) = body.split_at(body.len() / 2);
        let mut req = multipart_request(Method::POST, &path, Vec::new());
        *req.body_mut() = paused_body(head.to_vec(), pause, tail.to_vec());
        req
    };

    // An ordinary form that stops sending: cut at the request timeout.
    let started = std::time::Instant::now();
    let login = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(paused_body(b"username=a".to_vec(), None, Vec::new()))
        .unwrap();
    let r = raw_on(&router, &t.browser(), login).await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() < Duration::from_millis(1500));

    // An upload pausing longer than that goes through.
    let r = raw_on(&router, &jb, upload(Some(Duration::from_millis(600)))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // One that stalls is still cut off, at the transfer timeout.
    let started = std::time::Instant::now();
    let r = raw_on(&router, &jb, upload(None)).await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() >= Duration::from_millis(2000));
    let list =
        taizhang_app::ledger::attachments::list_attachments(&t.app, &Caller::system("t"), id)
            .await
            .unwrap();
    assert_eq!(list.items.len(), 1, "only the slow one is stored");
}

#[tokio::test]
async fn the_api_lists_uploads_downloads_and_withdraws_attachments() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let be = t.db.backend();
        let id = running(&t, "接口佐证材料").await;
        let tok = |u: &'static str| {
            let app = t.app.clone();
            async move {
                create_token(&app, &Caller::system("test"), u, "t", Some(30))
                    .await
                    .unwrap()
            }
        };
        let (head, jj, jn) = (
            tok("chuzhang1").await,
            tok("jijian").await,
            tok("jinan").await,
        );
        let call = |method: Method, path: String, tok: String, body: Option<Vec<u8>>| {
            let t = &t;
            async move {
                let mut req = match body {
                    Some(b) => multipart_request(method, &path, b),
                    None => Request::builder()
                        .method(method)
                        .uri(&path)
                        .body(Body::empty())
                        .unwrap(),
                };
                req.headers_mut().insert(
                    header::AUTHORIZATION,
                    format!("Bearer {tok}").parse().unwrap(),
                );
                raw(t, &t.browser(), req).await
            }
        };
        let list_path = format!("/api/v1/matters/{id}/attachments");
        let pdf = samples::pdf(&["api"]);
        let r = call(
            Method::POST,
            list_path.clone(),
            head.clone(),
            Some(multipart(&[], Some(("会议纪要", &pdf)))),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{be}: {}", r.text());
        let aid = r.json()["id"].as_i64().unwrap();

        let r = call(Method::GET, list_path.clone(), jj.clone(), None).await;
        assert_eq!(r.status, StatusCode::OK, "{be}: {}", r.text());
        let v = r.json();
        assert_eq!(v["items"][0]["filename"], "会议纪要.pdf");
        assert_eq!(v["items"][0]["media_type"], "application/pdf");
        assert_eq!(v["can_upload"], false, "{be}: 纪检监察 reads only");
        assert_eq!(v["max_bytes"], 20 << 20);

        let r = call(
            Method::GET,
            format!("/api/v1/attachments/{aid}"),
            jj.clone(),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.bytes, pdf);
        assert_eq!(r.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert!(
            r.header(header::CONTENT_DISPOSITION)
                .contains("filename*=UTF-8''%E4%BC%9A%E8%AE%AE%E7%BA%AA%E8%A6%81.pdf")
        );
        let r = call(
            Method::GET,
            format!("/api/v1/attachments/{aid}"),
            jn.clone(),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{be}: out of scope");
        assert_eq!(r.json()["errors"][0]["code"], "not_found");
        let mut c = t.app.store.read().await.unwrap();
        let denied = taizhang_store::audit::search(
            &mut c,
            &taizhang_store::audit::AuditQuery {
                actor_name: Some("jinan".into()),
                result: Some("denied".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        drop(c);
        assert!(
            denied
                .iter()
                .any(|r| r.detail.contains("/api/v1/attachments/")
                    || r.object_id.contains("/api/v1/attachments/")),
            "{be}: the probe is audited: {denied:?}"
        );

        // Bad requests get a 4xx with a stable code.
        let r = call(
            Method::POST,
            list_path.clone(),
            head.clone(),
            Some(multipart(&[("report_id", "abc")], Some(("a.txt", b"x")))),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["errors"][0]["code"], "report_id");
        let r = call(
            Method::POST,
            list_path.clone(),
            head.clone(),
            Some(multipart(&[], None)),
        )
        .await;
        assert_eq!(r.json()["errors"][0]["code"], "file_required");
        let mut req = Request::post(&list_path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
        req.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {head}").parse().unwrap(),
        );
        let r = raw(&t, &t.browser(), req).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{be}");
        let r = call(
            Method::POST,
            list_path.clone(),
            head.clone(),
            Some(multipart(&[], Some(("run.pdf", b"#!/bin/sh\necho hi\n")))),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["errors"][0]["code"], "executable");

        // Withdraw: 纪检监察 refused by the route table, the uploader's unit head allowed once.
        let del = format!("/api/v1/attachments/{aid}?reason=%E9%87%8D%E5%A4%8D");
        let r = call(Method::DELETE, del.clone(), jj.clone(), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{be}");
        let r = call(Method::DELETE, del.clone(), head.clone(), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{be}: {}", r.text());
        let r = call(Method::DELETE, del.clone(), head.clone(), None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["errors"][0]["code"], "already_removed");
        let r = call(Method::GET, list_path.clone(), head.clone(), None).await;
        assert_eq!(r.json()["items"][0]["removed_reason"], "重复", "{be}");
    }
}

#[tokio::test]
async fn the_demo_carries_evidence_files_that_open() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut c = t.app.store.read().await.unwrap();
    let n = taizhang_store::attachments::blob_count(&mut c)
        .await
        .unwrap();
    drop(c);
    assert!(n >= 3, "the demo stores a few evidence files ({n})");
    let jj = t.login("jijian").await;
    let d = raw(
        &t,
        &jj,
        Request::get("/attachments/1").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    assert!(d.bytes.starts_with(b"%PDF-") || d.bytes.starts_with(b"\x89PNG"));
}
