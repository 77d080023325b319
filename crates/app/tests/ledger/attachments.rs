//! 佐证材料 on both backends: upload and download, dedupe by content, the size and type rules
//! (by content, not by name), who may read, upload and withdraw, and the trail every change
//! leaves on the timeline and in the audit log.

use jiff::civil::date;
use taizhang_app::AppError;
use taizhang_app::ledger::attachments::{
    self as att, FileKind, get_attachment, list_attachments, remove_attachment, samples,
    upload_attachment,
};
use taizhang_app::ledger::progress::{self, ProgressInput};
use taizhang_app::ledger::{flow, get_matter};
use taizhang_store::audit::{self as store_audit, AuditQuery};
use taizhang_testkit::TestDb;

use crate::support::{Env, code};

/// A matter of 干部一处, assigned and signed for (办理中).
async fn running(env: &Env, title: &str) -> i64 {
    let ducha = env.who("ducha").await;
    let chuzhang = env.who("chuzhang1").await;
    let id = env.new_matter(title, "2026-03-20").await;
    flow::submit_matter(&env.app, &ducha, id).await.unwrap();
    flow::approve_matter(&env.app, &ducha, id).await.unwrap();
    flow::sign_for(&env.app, &chuzhang, id).await.unwrap();
    id
}

fn exe_bytes() -> Vec<u8> {
    let mut exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
    exe.resize(0x100, 0);
    exe[0x3C] = 0x80;
    exe[0x80..0x84].copy_from_slice(b"PE\0\0");
    exe
}

async fn audit_actions(env: &Env, action: &str) -> Vec<store_audit::AuditRow> {
    let mut c = env.app.store.read().await.unwrap();
    store_audit::search(
        &mut c,
        &AuditQuery {
            action: Some(action.into()),
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn an_upload_round_trips_and_the_same_bytes_are_stored_once() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let jingban = env.who("jingban1").await;
        let ducha = env.who("ducha").await;
        let id = running(&env, "佐证材料往返").await;
        let pdf = samples::pdf(&["Meeting minutes", "2026-03-02"]);

        let a1 = upload_attachment(app, &jingban, id, None, "会议纪要（第1次）.pdf", &pdf)
            .await
            .unwrap();
        let got = get_attachment(app, &ducha, a1).await.unwrap();
        assert_eq!(got.bytes, pdf, "{b}: the bytes come back unchanged");
        assert_eq!(got.row.filename, "会议纪要（第1次）.pdf", "{b}");
        assert_eq!(got.row.media_type, "application/pdf", "{b}");
        assert_eq!(got.kind, Some(FileKind::Pdf), "{b}");
        assert!(got.previewable(), "{b}");
        assert_eq!(got.row.uploaded_by, jingban.person_id.unwrap(), "{b}");

        // The same bytes under another name, by someone else: a second upload, one blob.
        let a2 = upload_attachment(app, &ducha, id, None, "纪要副本", &pdf)
            .await
            .unwrap();
        assert_ne!(a1, a2);
        let mut c = app.store.read().await.unwrap();
        assert_eq!(
            taizhang_store::attachments::blob_count(&mut c)
                .await
                .unwrap(),
            1,
            "{b}: deduplicated by SHA-256"
        );
        drop(c);
        let list = list_attachments(app, &jingban, id).await.unwrap();
        let names: Vec<&str> = list.items.iter().map(|i| i.row.filename.as_str()).collect();
        assert_eq!(names, ["会议纪要（第1次）.pdf", "纪要副本.pdf"], "{b}");
        assert!(list.can_upload, "{b}");
        assert_eq!(list.max_bytes, att::DEFAULT_MAX_BYTES);

        // A PNG and a UTF-8 CSV are accepted too, with the type from the content.
        let png = samples::png_bars(&[40, 70, 90], 48, 24);
        let a3 = upload_attachment(app, &jingban, id, None, "现场照片.png", &png)
            .await
            .unwrap();
        assert_eq!(
            get_attachment(app, &jingban, a3).await.unwrap().kind,
            Some(FileKind::Png)
        );
        let csv = "序号,事项,进展\n1,培训,已完成\n".as_bytes();
        let a4 = upload_attachment(app, &jingban, id, None, "统计表.csv", csv)
            .await
            .unwrap();
        assert_eq!(
            get_attachment(app, &jingban, a4)
                .await
                .unwrap()
                .row
                .media_type,
            "text/csv"
        );

        // Every upload is on the timeline and in the audit trail.
        let d = get_matter(app, &ducha, id).await.unwrap();
        let ups = d
            .events
            .iter()
            .filter(|e| e.kind == "attachment_upload")
            .count();
        assert_eq!(ups, 4, "{b}");
        let audited = audit_actions(&env, "attachment.upload").await;
        assert_eq!(audited.len(), 4, "{b}");
        assert!(
            audited.iter().any(|r| r.detail.contains("dedup=true")),
            "{b}"
        );
    }
}

#[tokio::test]
async fn files_are_judged_by_content_and_refused_with_the_rule() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let jingban = env.who("jingban1").await;
        let admin = env.who("admin").await;
        let id = running(&env, "类型与大小").await;
        let up = |name: &'static str, bytes: Vec<u8>| {
            let jingban = jingban.clone();
            async move { upload_attachment(app, &jingban, id, None, name, &bytes).await }
        };

        assert_eq!(
            code(up("空文件.pdf", Vec::new()).await),
            "file_empty",
            "{b}"
        );
        assert_eq!(code(up("报告.pdf", exe_bytes()).await), "executable", "{b}");
        assert_eq!(
            code(up("setup.exe", exe_bytes()).await),
            "executable",
            "{b}"
        );
        let png = samples::png_bars(&[50], 8, 8);
        let e = up("报告.pdf", png.clone()).await.unwrap_err();
        match &e {
            AppError::Invalid { code, message, .. } => {
                assert_eq!(code, "extension_mismatch", "{b}");
                assert!(
                    message.contains(".pdf") && message.contains("PNG"),
                    "{b}: the message names the rule: {message}"
                );
            }
            other => panic!("{b}: {other:?}"),
        }
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(1)</script></svg>";
        assert_eq!(
            code(up("图.svg", svg.to_vec()).await),
            "script_carrier",
            "{b}"
        );
        assert_eq!(
            code(up("图.png", svg.to_vec()).await),
            "script_carrier",
            "{b}"
        );
        let html = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>";
        assert_eq!(
            code(up("说明.html", html.to_vec()).await),
            "script_carrier",
            "{b}"
        );
        assert_eq!(
            code(up("说明.txt", html.to_vec()).await),
            "script_carrier",
            "{b}"
        );
        assert_eq!(
            code(up("归档.gz", b"\x1f\x8b\x08\0\0\0\0\0\0\x03abc".to_vec()).await),
            "archive",
            "{b}"
        );

        // The size limit: default 20 MiB, lowered by the setting (系统管理员 only).
        assert!(matches!(
            att::set_max_bytes(app, &jingban, 2048).await,
            Err(AppError::Forbidden)
        ));
        assert_eq!(
            code(att::set_max_bytes(app, &admin, 1 << 30).await),
            "out_of_range"
        );
        att::set_max_bytes(app, &admin, 2048).await.unwrap();
        assert_eq!(att::max_bytes(app).await.unwrap(), 2048);
        let big = "统计".repeat(1000).into_bytes();
        let e = up("大文件.txt", big).await.unwrap_err();
        match &e {
            AppError::Invalid { code, message, .. } => {
                assert_eq!(code, "file_too_large", "{b}");
                assert!(message.contains("2.0 KB"), "{b}: {message}");
            }
            other => panic!("{b}: {other:?}"),
        }
        up("小文件.txt", b"ok".to_vec()).await.unwrap();

        // Nothing refused was stored.
        let list = list_attachments(app, &jingban, id).await.unwrap();
        assert_eq!(list.items.len(), 1, "{b}");
        assert_eq!(list.max_bytes, 2048);
        assert_eq!(audit_actions(&env, "settings.attachments").await.len(), 1);
    }
}

#[tokio::test]
async fn only_those_who_may_see_read_and_only_those_who_work_on_it_upload() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let jingban = env.who("jingban1").await;
        let jijian = env.who("jijian").await;
        let jinan = env.who("jinan").await;
        let buzhang = env.who("buzhang").await;
        let id = running(&env, "谁能看").await;
        let other = running(&env, "另一件事项").await;
        let pdf = samples::pdf(&["evidence"]);
        let a = upload_attachment(app, &jingban, id, None, "证明.pdf", &pdf)
            .await
            .unwrap();

        // Out of scope: answered exactly like a missing attachment or matter.
        for r in [
            get_attachment(app, &jinan, a).await.map(drop),
            list_attachments(app, &jinan, id).await.map(drop),
            upload_attachment(app, &jinan, id, None, "x.pdf", &pdf)
                .await
                .map(drop),
            remove_attachment(app, &jinan, a, "").await.map(drop),
        ] {
            assert!(matches!(r, Err(AppError::NotFound(_))), "{b}: {r:?}");
        }
        assert!(matches!(
            get_attachment(app, &jingban, 999_999).await,
            Err(AppError::NotFound(_))
        ));

        // 纪检监察 reads everything and writes nothing.
        assert_eq!(
            get_attachment(app, &jijian, a).await.unwrap().bytes,
            pdf,
            "{b}"
        );
        let l = list_attachments(app, &jijian, id).await.unwrap();
        assert!(!l.can_upload && !l.items[0].removable, "{b}");
        assert!(matches!(
            upload_attachment(app, &jijian, id, None, "x.pdf", &pdf).await,
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            remove_attachment(app, &jijian, a, "").await,
            Err(AppError::Forbidden)
        ));
        // 部领导 read but do not upload.
        assert!(get_attachment(app, &buzhang, a).await.is_ok());
        assert!(matches!(
            upload_attachment(app, &buzhang, id, None, "x.pdf", &pdf).await,
            Err(AppError::Forbidden)
        ));

        // A 进展反馈 of another matter cannot be used through this one.
        let chuzhang = env.who("chuzhang1").await;
        let rid_other = progress::report_progress(
            app,
            &chuzhang,
            other,
            ProgressInput {
                body: "另一件的进展".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(matches!(
            upload_attachment(app, &jingban, id, Some(rid_other), "x.pdf", &pdf).await,
            Err(AppError::NotFound(_))
        ));
        let rid = progress::report_progress(
            app,
            &chuzhang,
            id,
            ProgressInput {
                body: "本期进展".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let ar = upload_attachment(app, &chuzhang, id, Some(rid), "进展佐证.pdf", &pdf)
            .await
            .unwrap();
        let of_report = att::list_report_attachments(app, &jijian, rid)
            .await
            .unwrap();
        assert_eq!(of_report.len(), 1, "{b}");
        assert_eq!(of_report[0].row.id, ar);
        assert_eq!(of_report[0].row.report_id, Some(rid));
    }
}

#[tokio::test]
async fn withdrawing_is_for_the_uploader_or_the_office_and_is_audited() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let jingban = env.who("jingban1").await;
        let chuzhang = env.who("chuzhang1").await;
        let ducha = env.who("ducha").await;
        let jijian = env.who("jijian").await;
        let id = running(&env, "撤回").await;
        let pdf = samples::pdf(&["withdraw me"]);
        let a = upload_attachment(app, &jingban, id, None, "错传的文件.pdf", &pdf)
            .await
            .unwrap();
        let a2 = upload_attachment(app, &jingban, id, None, "第二份.pdf", &samples::pdf(&["2"]))
            .await
            .unwrap();

        // Someone else of the same unit may see it but not withdraw it.
        assert!(matches!(
            remove_attachment(app, &chuzhang, a, "").await,
            Err(AppError::Forbidden)
        ));
        remove_attachment(app, &jingban, a, "上传错了")
            .await
            .unwrap();
        assert_eq!(
            code(remove_attachment(app, &jingban, a, "").await),
            "already_removed",
            "{b}"
        );
        // The row and the bytes stay: the office and 纪检监察 can still read the withdrawn file;
        // the others see it listed as withdrawn, not downloadable.
        assert_eq!(
            get_attachment(app, &jijian, a).await.unwrap().bytes,
            pdf,
            "{b}"
        );
        assert!(get_attachment(app, &ducha, a).await.is_ok());
        assert!(matches!(
            get_attachment(app, &chuzhang, a).await,
            Err(AppError::NotFound(_))
        ));
        let l = list_attachments(app, &chuzhang, id).await.unwrap();
        let w = l.items.iter().find(|i| i.row.id == a).unwrap();
        assert!(
            w.row.removed_at.is_some() && !w.downloadable && !w.removable,
            "{b}"
        );
        assert_eq!(w.row.removed_reason, "上传错了");
        // 督查室 may withdraw anyone's.
        remove_attachment(app, &ducha, a2, "").await.unwrap();

        let d = get_matter(app, &ducha, id).await.unwrap();
        let notes: Vec<&str> = d
            .events
            .iter()
            .filter(|e| e.kind == "attachment_remove")
            .map(|e| e.note.as_str())
            .collect();
        assert_eq!(notes, ["错传的文件.pdf（上传错了）", "第二份.pdf"], "{b}");
        let audited = audit_actions(&env, "attachment.remove").await;
        assert_eq!(audited.len(), 2, "{b}");
        let who: Vec<&str> = audited.iter().map(|r| r.actor_name.as_str()).collect();
        assert!(
            who.contains(&"jingban1") && who.contains(&"ducha"),
            "{b}: {who:?}"
        );
        assert!(audited.iter().all(|r| r.result == "ok"));
        assert!(
            taizhang_app::audit::verify(app).await.unwrap().is_ok(),
            "{b}: the chain still verifies"
        );
    }
}

#[tokio::test]
async fn a_closed_matter_or_year_is_read_only() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let jingban = env.who("jingban1").await;
        let chuzhang = env.who("chuzhang1").await;
        let ducha = env.who("ducha").await;
        let pdf = samples::pdf(&["closed"]);

        let id = running(&env, "将销号").await;
        let a = upload_attachment(app, &jingban, id, None, "办结依据.pdf", &pdf)
            .await
            .unwrap();
        flow::report_completion(app, &chuzhang, id, "文件已印发")
            .await
            .unwrap();
        flow::review_completion(app, &ducha, id, true, "")
            .await
            .unwrap();
        flow::close_out(app, &ducha, id).await.unwrap();
        assert_eq!(
            code(upload_attachment(app, &jingban, id, None, "迟到.pdf", &pdf).await),
            "matter_closed",
            "{b}"
        );
        assert_eq!(
            code(remove_attachment(app, &ducha, a, "").await),
            "matter_closed"
        );
        // Still readable.
        assert!(get_attachment(app, &jingban, a).await.is_ok());
        assert!(
            !list_attachments(app, &jingban, id)
                .await
                .unwrap()
                .can_upload
        );

        let open = running(&env, "年度已归零").await;
        let mut c = app.store.begin().await.unwrap();
        taizhang_store::cadences::insert_year_close(&mut c, 2026, None, 1, "{}")
            .await
            .unwrap();
        c.commit().await.unwrap();
        assert_eq!(
            code(upload_attachment(app, &jingban, open, None, "x.pdf", &pdf).await),
            "year_closed",
            "{b}"
        );
    }
}
