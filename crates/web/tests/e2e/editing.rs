//! 修改台账 and 子事项 in the browser, as 督查专员: the edit form with the deadline locked once the
//! matter is assigned; a save from a second tab still holding the old version refused, with what
//! was typed kept; a 子事项 whose deadline may not pass its parent's, listed on the parent.

use crate::TITLE;
use crate::harness::Run;

const CONTENT: &str = "对照年度选育管用计划逐项督查，形成问题清单并督促整改；每周五报送进展。";
const STALE_TITLE: &str = "端到端：这次修改基于旧版本";
const SUB_TITLE: &str = "端到端子事项：市县两级年轻干部台账核查";

/// ducha (logged in) edits assigned matter `id` in one tab while a second tab holds the form as
/// it was.
pub async fn edit_with_a_stale_tab(r: &Run, id: i64) {
    r.goto(&format!("/matters/{id}")).await;
    r.click_nav("[data-action=edit]").await;
    assert_eq!(r.path().await, format!("/matters/{id}/edit"));
    assert!(r.text("h1").await.starts_with("编辑事项"));
    let locked = r.text("#deadline-locked").await;
    assert!(locked.contains("申请延期"), "{locked}");
    assert_eq!(r.value("#f-title").await, TITLE);
    r.shot("11-edit-matter").await;
    r.phone_shot("12-phone-edit-matter", None).await;

    // A second tab of the same person reads the form now, before the first tab saves.
    let first = r.open_in_new_tab(&format!("/matters/{id}/edit")).await;
    let second = r.c.window().await.unwrap();
    r.c.switch_to_window(first.clone()).await.unwrap();
    r.fill("#f-content", CONTENT).await;
    r.click_nav("#edit-submit").await;
    assert_eq!(r.path().await, format!("/matters/{id}"));
    assert_eq!(r.text("header.matter-head .content-text").await, CONTENT);
    assert!(r.text("#timeline").await.contains("修改台账"));

    r.c.switch_to_window(second).await.unwrap();
    r.fill("#f-title", STALE_TITLE).await;
    r.click_nav_allowing("#edit-submit", Some("status of 422"))
        .await;
    let err = r.text(".form-panel .flash.error").await;
    assert!(err.contains("已被他人修改"), "{err}");
    assert_eq!(
        r.value("#f-title").await,
        STALE_TITLE,
        "the typed title stays"
    );
    r.shot("13-edit-stale").await;
    r.back_to_tab(first).await;
    r.goto(&format!("/matters/{id}")).await;
    assert_eq!(
        r.text("#matter-title").await,
        TITLE,
        "the stale save changed nothing"
    );
}

/// ducha breaks matter `id` down: a deadline after the parent's is refused (the form kept),
/// then the 子事项 is saved and the parent lists it.
pub async fn break_down(r: &Run, id: i64) {
    r.goto(&format!("/matters/{id}")).await;
    r.click_nav("[data-action=new_sub]").await;
    assert!(r.text("h1").await.contains("新建子事项"));
    let info = r.text("#parent-info").await;
    assert!(info.contains(TITLE), "{info}");
    let parent_deadline = r.value("#f-deadline-date").await;
    assert!(parent_deadline.starts_with("2026-04"), "{parent_deadline}");
    r.fill("#f-title", SUB_TITLE).await;
    r.set("#f-deadline-date", "2026-12-31").await;
    r.click_nav_allowing("#create-submit", Some("status of 422"))
        .await;
    let err = r.text("#e-deadline").await;
    assert!(err.contains("不能晚于父事项"), "{err}");
    assert_eq!(
        r.value("#f-title").await,
        SUB_TITLE,
        "the typed title stays"
    );
    r.shot("14-sub-matter-refused").await;
    r.set("#f-deadline-date", &parent_deadline).await;
    r.click_nav("#create-submit").await;
    assert_eq!(r.text("#matter-title").await, SUB_TITLE);
    let link = r.text("#parent-link").await;
    assert!(
        link.starts_with("子事项，父事项") && link.contains(TITLE),
        "{link}"
    );
    r.shot("15-sub-matter").await;
    r.click_nav("#parent-link a").await;
    let kids = r.text("#children").await;
    assert!(kids.contains(SUB_TITLE) && kids.contains("草稿"), "{kids}");
    r.shot("16-parent-with-children").await;
}
