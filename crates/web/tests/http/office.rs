//! 导入 / 导出 over HTTP: upload (multipart) → dry run → apply, a refused file applying nothing,
//! and the export downloads with their attachment headers.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use taizhang_app::Caller;
use taizhang_app::ledger::list::{MatterQuery, list_matters};
use taizhang_testkit::TestDb;

use crate::support::{Browser, Resp, TestApp};

const BOUNDARY: &str = "----taizhangtestboundary";

/// POST /import as multipart with this browser's CSRF token.
async fn upload(b: &mut Browser, name: &str, data: &[u8]) -> Resp {
    if b.csrf.is_none() {
        b.get("/import").await;
    }
    let csrf = b.csrf.clone().unwrap_or_default();
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let req = Request::post("/import")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap();
    b.send(req).await
}

/// The stash token in the dry-run page's form actions.
fn token(body: &str) -> String {
    let i = body.find("/import/").expect("a form action with the token") + 8;
    body[i..i + 32].to_owned()
}

async fn matters(t: &TestApp) -> i64 {
    list_matters(&t.app, &Caller::system("t"), &MatterQuery::default())
        .await
        .unwrap()
        .total
}

#[tokio::test]
async fn an_upload_is_dry_run_first_and_applied_only_on_confirmation() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let before = matters(&t).await;
        let mut b = t.login("ducha").await;
        let page = b.get("/import").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("enctype=\"multipart/form-data\""));

        let csv = "事项名称,牵头单位,配合单位,完成时限\n网页导入测试事项,干部一处,人才处,2026年6月30日\n长期网页事项,组织一处,,长期坚持\n";
        let r = upload(&mut b, "台账.csv", csv.as_bytes()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("id=\"import-ready\""), "{}", r.body);
        assert!(r.body.contains("网页导入测试事项") && r.body.contains("新建"));
        assert_eq!(matters(&t).await, before, "a dry run writes nothing");

        let tok = token(&r.body);
        let again = b
            .post_csrf(&format!("/import/{tok}/check"), &[("m0_0", "title")])
            .await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        let done = b.post_csrf(&format!("/import/{tok}/apply"), &[]).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert!(done.body.contains("id=\"import-done\""), "{}", done.body);
        assert_eq!(matters(&t).await, before + 2);
        // The kept file is gone once applied.
        let gone = b.post_csrf(&format!("/import/{tok}/apply"), &[]).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_file_with_a_refused_row_names_it_and_applies_nothing() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let before = matters(&t).await;
        let mut b = t.login("ducha").await;
        let csv = "事项名称,牵头单位,完成时限\n好的事项,干部一处,2026年6月30日\n坏的事项,干部一室,2026年6月30日\n";
        let r = upload(&mut b, "台账.csv", csv.as_bytes()).await;
        assert!(r.body.contains("id=\"refused\""), "{}", r.body);
        assert!(
            r.body.contains("干部一处？") || r.body.contains("是否为"),
            "{}",
            r.body
        );
        assert!(!r.body.contains("id=\"apply\""), "no apply button");
        let tok = token(&r.body);
        let forced = b.post_csrf(&format!("/import/{tok}/apply"), &[]).await;
        assert_eq!(forced.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(forced.body.contains("整个文件未导入"));
        assert_eq!(matters(&t).await, before);
        let wrong = upload(&mut b, "台账.xlsx", csv.as_bytes()).await;
        assert_eq!(
            wrong.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            wrong.body
        );
        assert!(wrong.body.contains("id=\"import-error\""));
    }
}

#[tokio::test]
async fn only_the_supervision_office_may_import_and_a_bad_csrf_is_refused() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut h = t.login("chuzhang1").await;
        let csv = "事项名称,牵头单位,完成时限\n越权事项,干部一处,2026年6月30日\n";
        let r = upload(&mut h, "台账.csv", csv.as_bytes()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let mut b = t.login("ducha").await;
        b.get("/import").await;
        b.csrf = Some("forged".into());
        let r = upload(&mut b, "台账.csv", csv.as_bytes()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn the_export_downloads_carry_attachment_headers_and_the_ledgers_filters() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut b = t.login("ducha").await;
        let x = b.get("/matters/export.xlsx?year=2026").await;
        assert_eq!(x.status, StatusCode::OK);
        let cd = x.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(cd.starts_with("attachment;"), "{cd}");
        assert!(
            cd.contains("filename*=UTF-8''2026%E5%B9%B4%E5%BA%A6"),
            "{cd}"
        );
        assert!(
            x.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .contains("spreadsheetml")
        );
        assert!(x.body.starts_with("PK"));

        let c = b.get("/matters/export.csv?q=%E5%B9%B2%E9%83%A8").await;
        assert_eq!(c.status, StatusCode::OK);
        assert!(c.body.starts_with('\u{feff}'), "BOM for Excel");
        let len = c.headers[header::CONTENT_LENGTH].to_str().unwrap();
        assert_eq!(len, c.body.len().to_string(), "streamed with its length");
        let lines = c.body.matches("\r\n").count();
        let q = MatterQuery {
            q: Some("干部".into()),
            ..Default::default()
        };
        let who = taizhang_app::caller::load_caller_by_username(&t.app, "ducha")
            .await
            .unwrap();
        let n = list_matters(&t.app, &who, &q).await.unwrap().total;
        assert!(
            i64::try_from(lines).unwrap() > n,
            "header + {n} rows at least"
        );
        let bad = b.get("/reports/monthly.docx?month=2026-03").await;
        assert_eq!(bad.status, StatusCode::NOT_FOUND, "no snapshot yet");
    }
}
