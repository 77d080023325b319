//! 佐证材料 in the browser, as the lead unit's 处室负责人: a PNG tied to the progress report and a
//! PDF on the matter uploaded through the file picker, a file whose extension lies about its
//! content refused with a way back, both previews opened in new tabs, a download saved under its
//! Chinese name with the bytes uploaded, and a wrong file withdrawn with a reason.

use serde_json::json;
use taizhang_app::ledger::attachments::samples;

use crate::harness::Run;

const PNG_NAME: &str = "问题清单截图.png";
const PDF_NAME: &str = "问题清单（初稿）.pdf";
const WRONG_NAME: &str = "错传的文件.txt";
const FORM: &str = "#attachment-upload";

/// The id of the attachment row showing `name`.
async fn row_of(r: &Run, name: &str) -> i64 {
    let v =
        r.c.execute(
            "return Array.from(document.querySelectorAll('#attachments tr.attachment'))
               .filter(tr => tr.cells[0].textContent.includes(arguments[0]))
               .map(tr => Number(tr.dataset.attachment))[0] || null;",
            vec![json!(name)],
        )
        .await
        .unwrap();
    v.as_i64()
        .unwrap_or_else(|| panic!("no attachment row for {name}"))
}

/// Choose `path`, optionally tie it to the newest progress report, and upload it.
async fn upload(r: &Run, path: &std::path::Path, to_report: bool) {
    r.choose_file(&format!("{FORM} input[type=file]"), path)
        .await;
    if to_report {
        let first = r
            .js("return document.querySelector('#attachment-upload select[name=report_id] option[value]:not([value=\"\"])').value;")
            .await;
        r.select(
            &format!("{FORM} select[name=report_id]"),
            first.as_str().unwrap(),
        )
        .await;
    }
    r.click_nav(&format!("{FORM} button[type=submit]")).await;
}

/// chuzhang1 (logged in) works the 佐证材料 of matter `id`.
pub async fn attach_preview_download_withdraw(r: &Run, id: i64) {
    r.goto(&format!("/matters/{id}")).await;
    assert_eq!(r.text("#no-attachments").await, "尚无佐证材料。");
    let png_bytes = samples::png_bars(&[30, 60, 90], 120, 60);
    let pdf_bytes = samples::pdf(&["Problem list (draft)", "Taizhang e2e"]);
    let png = r.file_to_upload(PNG_NAME, &png_bytes);
    let pdf = r.file_to_upload(PDF_NAME, &pdf_bytes);
    let wrong = r.file_to_upload(WRONG_NAME, "本文件系误传，应予撤回。".as_bytes());
    let liar = r.file_to_upload("伪装成图片的文档.png", &pdf_bytes);

    upload(r, &png, true).await;
    upload(r, &pdf, false).await;
    let table = r.text("#attachments").await;
    for want in [PNG_NAME, "PNG 图片", PDF_NAME, "PDF 文档", "的进展"] {
        assert!(
            table.contains(want),
            "the evidence table lacks {want}: {table}"
        );
    }

    // A PDF named .png is refused in words, with a way back to the matter.
    r.choose_file(&format!("{FORM} input[type=file]"), &liar)
        .await;
    r.click_nav_allowing(
        &format!("{FORM} button[type=submit]"),
        Some("status of 422"),
    )
    .await;
    let refusal = r.text("#attachment-error").await;
    assert!(
        refusal.contains("扩展名与内容不符") && refusal.contains("伪装成图片的文档.png"),
        "{refusal}"
    );
    r.shot("17-attachment-refused").await;
    r.click_nav("#attachment-error a[href$='#attachments']")
        .await;
    assert_eq!(r.path().await, format!("/matters/{id}"));

    // Previews: the image and the PDF open in new tabs.
    let (png_id, pdf_id) = (row_of(r, PNG_NAME).await, row_of(r, PDF_NAME).await);
    let home = r
        .click_into_new_tab(&format!("[data-preview='{png_id}']"))
        .await;
    let size = r
        .js("var i = document.querySelector('img'); return i ? [i.naturalWidth, i.naturalHeight] : null;")
        .await;
    assert_eq!(
        size,
        json!([120, 60]),
        "the image preview shows the picture"
    );
    r.shot("18-preview-image").await;
    r.back_to_tab(home).await;
    let home = r
        .click_into_new_tab(&format!("[data-preview='{pdf_id}']"))
        .await;
    assert_eq!(
        r.js("return document.contentType;").await,
        json!("application/pdf")
    );
    // Chromium's viewer draws the page a moment after the document has loaded (out of
    // process: nothing in this document tells when), so the screenshot waits a little.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    r.shot("19-preview-pdf").await;
    r.back_to_tab(home).await;

    // A download keeps the Chinese name and the bytes.
    r.click(&format!("[data-download='{pdf_id}']")).await;
    assert_eq!(r.downloaded(PDF_NAME).await, pdf_bytes);
    r.no_console_errors("download").await;

    // A wrong upload withdrawn with a reason: struck through, no download, kept on record.
    upload(r, &wrong, false).await;
    let wrong_id = row_of(r, WRONG_NAME).await;
    r.fill(
        &format!("tr[data-attachment='{wrong_id}'] input[name=reason]"),
        "上传错了文件",
    )
    .await;
    r.click_nav(&format!("[data-remove='{wrong_id}']")).await;
    let row = r.text(&format!("tr[data-attachment='{wrong_id}']")).await;
    assert!(row.contains("已撤回"), "{row}");
    assert_eq!(r.count(&format!("[data-download='{wrong_id}']")).await, 0);
    assert!(r.text("#attachments").await.contains("撤回：上传错了文件"));
    assert_eq!(r.text("#attachments h2 .badge").await, "2");
    let timeline = r.text("#timeline").await;
    assert!(timeline.contains("上传佐证材料") && timeline.contains("撤回佐证材料"));
    r.shot("20-attachments").await;
    r.phone_shot("21-phone-attachments", Some("#attachments"))
        .await;
}
