//! 结转 in the browser, as 督查专员: one open matter carried over from its own page (a reason is
//! required; the new matter of next year links back), another from the 年度归零 page, which
//! lists it as carried and counts one open matter fewer.

use taizhang_app::ledger::list::{MatterQuery, list_matters};

use crate::harness::Run;

/// Two top-level 办理中 matters of 2026 in the demo ledger outside `unit` (whose 清查 the test confirms).
pub async fn two_open_matters(r: &Run, unit: i64) -> (i64, i64) {
    let ducha = taizhang_app::caller::load_caller_by_username(&r.app, "ducha")
        .await
        .unwrap();
    let q = MatterQuery {
        year: Some(2026),
        statuses: vec!["in_progress".into()],
        per_page: 50,
        page: 1,
        ..Default::default()
    };
    let page = list_matters(&r.app, &ducha, &q).await.unwrap();
    let ids: Vec<i64> = page
        .rows
        .iter()
        .filter(|v| v.row.parent_id.is_none() && v.row.lead_unit_id != unit)
        .map(|v| v.row.id)
        .take(2)
        .collect();
    assert_eq!(
        ids.len(),
        2,
        "the demo ledger has open matters to carry over"
    );
    (ids[0], ids[1])
}

/// ducha (logged in) carries `on_page` over from its page and `on_year_page` from 年度归零.
pub async fn carry_over(r: &Run, on_page: i64, on_year_page: i64) {
    r.goto(&format!("/matters/{on_page}")).await;
    r.click_nav("[data-action=carry_over]").await;
    r.click_nav_allowing("#act-submit", Some("status of 422"))
        .await;
    assert!(r.text("#e-reason").await.contains("请填写理由"));
    r.fill("#f-reason", "年内难以办结，结转下一年度继续推进")
        .await;
    r.submit_step(on_page).await;
    assert_eq!(r.text("#matter-status").await, "已结转");
    let to = r.text("#carried-to").await;
    assert!(to.starts_with("本事项已结转至下一年度"), "{to}");
    r.shot("26-carried-over").await;
    r.click_nav("#carried-to a").await;
    assert!(r.text("#carried-from").await.contains("结转自上一年度"));
    assert!(r.text("#timeline").await.contains("结转自上年"));

    r.goto("/year-close?year=2026").await;
    let open_before: usize = r.text("#open-count").await.parse().unwrap();
    let row = format!("#open-{on_year_page}");
    let number = r.text(&format!("{row} td:first-child")).await;
    r.click_nav(&format!("{row} [data-year-step=carry_over]"))
        .await;
    r.fill("#f-reason", "跨年度工作，按年度归零要求结转").await;
    r.click_nav("#act-submit").await;
    let at = r.c.current_url().await.unwrap();
    assert_eq!((at.path(), at.query()), ("/year-close", Some("year=2026")));
    let open_after: usize = r.text("#open-count").await.parse().unwrap();
    assert_eq!(open_after + 1, open_before);
    assert_eq!(r.count(&row).await, 0);
    let carried = r.text("#carried-now").await;
    assert!(carried.contains(&number), "{number} not in {carried}");
    r.js("document.getElementById('carried-now').scrollIntoView(); return null;")
        .await;
    r.shot("27-year-close-carried").await;
}
