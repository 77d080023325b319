//! The record-level steps of the loop in the browser: 督查专员 退回 a 进展反馈 (a reason is
//! required: refused without one, next to the report) and 采纳 the next one; 督办单 sent to the
//! lead unit and answered in writing, one on the matter page and one from the 工作台 panel; a
//! 节点 marked 完成 with a note.

use serde_json::Value;

use crate::harness::Run;

const RETURN_NOTE: &str = "进展过于笼统，请列明已完成的具体工作";
const DESK_REPLY: &str = "已补充节点安排，3月20日前印发问题清单。";
const PAGE_REPLY: &str = "滞后原因是省委文件尚未印发，已逐项列出整改时限。";
const MS_NOTE: &str = "问题清单已于3月16日形成初稿";

/// ducha (logged in): 退回 the submitted 进展反馈 of matter `id`, then two 督办单 to its lead
/// unit. Returns the ids of the 督办单, oldest first.
pub async fn return_report_and_issue_notices(r: &Run, id: i64) -> Vec<i64> {
    r.goto(&format!("/matters/{id}")).await;
    let form = "#reports .review-form";
    r.click_nav_allowing(
        &format!("{form} button[value=return]"),
        Some("status of 422"),
    )
    .await;
    let err = r.text("#reports #inline-error").await;
    assert!(err.contains("请填写理由"), "{err}");
    r.fill(&format!("{form} textarea"), RETURN_NOTE).await;
    r.click_nav(&format!("{form} button[value=return]")).await;
    let report = r.text("#reports .record").await;
    assert!(
        report.contains("已退回") && report.contains(RETURN_NOTE),
        "{report}"
    );
    assert_eq!(r.count(form).await, 0, "a reviewed report offers no review");
    let timeline = r.text("#timeline").await;
    assert!(
        timeline.contains(RETURN_NOTE),
        "the reason for returning is on the timeline: {timeline}"
    );
    r.shot("22-report-returned").await;

    for (color, reason) in [("yellow", "进展滞后于序时进度"), ("blue", "请补充节点安排")]
    {
        r.click_nav("[data-action=issue_notice]").await;
        r.select("#f-color", color).await;
        r.fill("#f-reason", reason).await;
        r.set("#f-due_on", "2026-03-20").await;
        r.submit_step(id).await;
    }
    let escalation = r.text("#escalation").await;
    assert_eq!(escalation.matches("尚未回复").count(), 2, "{escalation}");
    let ids = r
        .js("return Array.from(document.querySelectorAll('#escalation [id^=notice-]')).map(e => Number(e.id.slice(7)));")
        .await;
    let ids: Vec<i64> = ids
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    ids
}

/// chuzhang1 (logged in): answer one 督办单 from the 工作台 and the other on the matter page,
/// report progress again, and mark the 节点 done with a note.
pub async fn answer_report_and_finish_a_milestone(r: &Run, id: i64, notices: &[i64]) {
    r.goto("/desk").await;
    let card = format!("#desk-notice-{}", notices[1]);
    assert!(r.text(&card).await.contains("请补充节点安排"));
    r.fill(&format!("{card} textarea[name=reply]"), DESK_REPLY)
        .await;
    r.shot("23-desk-notices").await;
    r.click_nav(&format!("{card} button[type=submit]")).await;
    assert_eq!(r.path().await, "/desk");
    let answered = r.text(&card).await;
    assert!(
        answered.contains("书面回复（") && answered.contains(DESK_REPLY),
        "{answered}"
    );

    r.goto(&format!("/matters/{id}")).await;
    let notice = format!("#notice-{}", notices[0]);
    r.fill(&format!("{notice} textarea[name=reply]"), PAGE_REPLY)
        .await;
    r.click_nav(&format!("{notice} button[type=submit]")).await;
    let escalation = r.text("#escalation").await;
    assert!(
        escalation.contains(PAGE_REPLY) && escalation.contains(DESK_REPLY),
        "{escalation}"
    );
    assert!(!escalation.contains("尚未回复"), "{escalation}");
    assert_eq!(r.count("#escalation .answer-form").await, 0);

    r.click_nav("[data-action=report_progress]").await;
    r.fill("#f-body", "已列明完成事项：问题清单初稿、整改台账模板。")
        .await;
    r.fill("#f-progress", "60").await;
    r.submit_step(id).await;

    r.click("#milestones summary[data-loop=milestone_done]")
        .await;
    r.fill("#milestones textarea[name=note]", MS_NOTE).await;
    r.click_nav("#milestones form button[type=submit]").await;
    let ms = r.text("#milestones").await;
    assert!(
        ms.contains("已完成 2026-03-16") && ms.contains(MS_NOTE),
        "{ms}"
    );
    assert_eq!(r.count("#milestones summary[data-loop]").await, 0);
    r.shot("24-notices-answered-milestone-done").await;
}

/// ducha (logged in): 采纳 the newest 进展反馈 of matter `id`.
pub async fn accept_report(r: &Run, id: i64) {
    r.goto(&format!("/matters/{id}")).await;
    r.fill("#reports .review-form textarea", "已列明具体工作，予以采纳")
        .await;
    r.click_nav("#reports .review-form button[value=accept]")
        .await;
    let newest = r.text("#reports .record").await;
    assert!(
        newest.contains("已审核") && newest.contains("采纳：已列明具体工作"),
        "{newest}"
    );
    assert_eq!(r.count("#reports .review-form").await, 0);
    r.shot("25-report-accepted").await;
}
