//! The closed loop's record-level steps on the pages: the lead unit's 书面回复 to a 督办单 (from
//! the matter and from the 工作台), 采纳/退回 of a 进展反馈, 完成 of a 节点, and 结转 (from the
//! matter and from the 年度归零 page). Each: offered to whom the policy allows, refused with a
//! readable Chinese message on the page, and 纪检监察 sees the records but no button and is
//! refused on POST.

use axum::http::StatusCode;
use taizhang_app::caller::load_caller_by_username;
use taizhang_app::ledger::escalation::{self, NoticeInput};
use taizhang_app::ledger::matters::{DeadlineInput, NewMilestone};
use taizhang_app::ledger::progress::{self, ProgressInput};
use taizhang_app::ledger::{NewMatter, create_matter, flow};
use taizhang_testkit::TestDb;

use crate::support::TestApp;

/// A matter of 干部一处 (chuzhang1's unit), 交办 by ducha and 签收 by chuzhang1, with one 节点.
async fn running_matter(t: &TestApp, title: &str) -> i64 {
    let ducha = load_caller_by_username(&t.app, "ducha").await.unwrap();
    let head = load_caller_by_username(&t.app, "chuzhang1").await.unwrap();
    let mut input = NewMatter::basic(title, head.unit_id, DeadlineInput::WorkingDays(20));
    input.milestones = vec![NewMilestone {
        title: "完成调研报告".into(),
        due_on: "2026-03-31".into(),
        owner_id: None,
    }];
    let id = create_matter(&t.app, &ducha, input).await.unwrap();
    flow::submit_matter(&t.app, &ducha, id).await.unwrap();
    flow::approve_matter(&t.app, &ducha, id).await.unwrap();
    flow::sign_for(&t.app, &head, id).await.unwrap();
    id
}

async fn issue(t: &TestApp, id: i64) -> (i64, String) {
    let ducha = load_caller_by_username(&t.app, "ducha").await.unwrap();
    let input = NoticeInput {
        color: "yellow".into(),
        reason: "进度明显滞后".into(),
        requirement: "三日内书面说明".into(),
        due_on: "2026-03-20".into(),
    };
    escalation::issue_notice(&t.app, &ducha, id, input)
        .await
        .unwrap()
}

fn loop_buttons(body: &str) -> Vec<String> {
    body.split("data-loop=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_lead_unit_answers_a_notice_from_the_matter_or_the_desk_and_the_office_reads_it() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let id = running_matter(&t, "督办单回复事项").await;
        let (nid, number) = issue(&t, id).await;
        let page = format!("/matters/{id}");
        let post = format!("/matters/{id}/notices/{nid}/answer");

        // The lead unit sees the notice and a reply form, on the matter and on its desk.
        let mut head = t.login("chuzhang1").await;
        let r = head.get(&page).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains(&number) && r.body.contains("进度明显滞后"));
        assert!(r.body.contains("三日内书面说明") && r.body.contains("限 2026-03-20 前回复"));
        assert_eq!(loop_buttons(&r.body), ["milestone_done", "answer_notice"]);
        let desk = head.get("/desk").await;
        assert!(desk.body.contains("id=\"notices\"") && desk.body.contains(&number));
        assert!(desk.body.contains(&post), "the desk offers the reply form");

        // 督查室 issued it: it reads, it does not answer on the page.
        let mut ducha = t.login("ducha").await;
        let r = ducha.get(&page).await;
        assert!(!loop_buttons(&r.body).contains(&"answer_notice".to_owned()));

        // 纪检监察 sees the notice, no form, and is refused on POST.
        let mut jijian = t.login("jijian").await;
        let r = jijian.get(&page).await;
        assert!(r.body.contains(&number));
        assert!(
            loop_buttons(&r.body).is_empty(),
            "{:?}",
            loop_buttons(&r.body)
        );
        let r = jijian
            .post_csrf(&post, &[("reply", "纪检监察不能回复")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // An empty reply is refused next to the form; nothing is saved.
        let r = head.post_csrf(&post, &[("reply", "  ")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("id=\"inline-error\"") && r.body.contains("请填写理由"));
        // A wrong CSRF token is refused.
        let r = head
            .post_form(&post, &[("csrf", "forged"), ("reply", "x")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // The reply from the desk goes back to the desk.
        let r = head
            .post_csrf(
                &post,
                &[("reply", "已召开专题会，下周完成调研"), ("back", "desk")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/desk#notices");

        // After the reply: shown with who and when; no form any more; a second reply is refused.
        let r = head.get(&page).await;
        assert!(r.body.contains("已召开专题会，下周完成调研"));
        assert!(r.body.contains("书面回复（") && r.body.contains("2026-03-16"));
        assert!(!loop_buttons(&r.body).contains(&"answer_notice".to_owned()));
        let r = head.post_csrf(&post, &[("reply", "再说一遍")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("该督办单已回复"), "{}", r.body);

        // 督查室 reads the reply on the matter and on its desk.
        let r = ducha.get(&page).await;
        assert!(r.body.contains("已召开专题会，下周完成调研"));
        let desk = ducha.get("/desk").await;
        assert!(
            desk.body.contains("已召开专题会，下周完成调研"),
            "{}",
            desk.body
        );
    }
}

#[tokio::test]
async fn the_office_accepts_or_returns_a_progress_report_with_a_reason() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let id = running_matter(&t, "进展审核事项").await;
        let head = load_caller_by_username(&t.app, "chuzhang1").await.unwrap();
        let mut rids = Vec::new();
        for body in ["第一期：完成摸底", "第二期：形成初稿"] {
            let input = ProgressInput {
                body: body.into(),
                ..Default::default()
            };
            rids.push(
                progress::report_progress(&t.app, &head, id, input)
                    .await
                    .unwrap(),
            );
        }
        let page = format!("/matters/{id}");
        let review = |rid: i64| format!("/matters/{id}/reports/{rid}/review");

        let mut chu = t.login("chuzhang1").await;
        let r = chu.get(&page).await;
        assert!(
            !loop_buttons(&r.body).contains(&"accept_progress".to_owned()),
            "the reporting unit does not review itself"
        );
        let mut jijian = t.login("jijian").await;
        let r = jijian.get(&page).await;
        assert!(r.body.contains("第一期：完成摸底") && loop_buttons(&r.body).is_empty());
        let r = jijian
            .post_csrf(&review(rids[0]), &[("decision", "accept")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        let mut ducha = t.login("ducha").await;
        let r = ducha.get(&page).await;
        let shown = loop_buttons(&r.body);
        assert_eq!(
            shown.iter().filter(|b| *b == "accept_progress").count(),
            2,
            "{shown:?}"
        );
        assert_eq!(shown.iter().filter(|b| *b == "return_progress").count(), 2);

        // 退回 needs a reason: refused on the page, the typed decision changes nothing.
        let r = ducha
            .post_csrf(&review(rids[0]), &[("decision", "return"), ("note", "")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("请填写理由") && r.body.contains("id=\"inline-error\""));
        let r = ducha
            .post_csrf(
                &review(rids[0]),
                &[
                    ("decision", "return"),
                    ("note", "数据口径不一致，请核实后重报"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), format!("/matters/{id}#report-{}", rids[0]));
        let r = ducha
            .post_csrf(&review(rids[1]), &[("decision", "accept")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        let r = chu.get(&page).await;
        assert!(r.body.contains("已退回") && r.body.contains("数据口径不一致，请核实后重报"));
        assert!(r.body.contains("已审核") && r.body.contains("采纳"));
        let r = ducha.get(&page).await;
        assert!(
            !loop_buttons(&r.body)
                .iter()
                .any(|b| b.ends_with("_progress")),
            "reviewed reports offer nothing"
        );
        // Reviewing again is refused with the rule's message.
        let r = ducha
            .post_csrf(&review(rids[1]), &[("decision", "accept")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("该进展已审核"));
    }
}

#[tokio::test]
async fn the_lead_unit_completes_a_milestone_with_a_note() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let id = running_matter(&t, "节点完成事项").await;
        let ducha = load_caller_by_username(&t.app, "ducha").await.unwrap();
        let d = taizhang_app::ledger::get_matter(&t.app, &ducha, id)
            .await
            .unwrap();
        let mid = d.milestones[0].row.id;
        let page = format!("/matters/{id}");
        let post = format!("/matters/{id}/milestones/{mid}/done");

        let mut jijian = t.login("jijian").await;
        let r = jijian.get(&page).await;
        assert!(r.body.contains("完成调研报告") && loop_buttons(&r.body).is_empty());
        let r = jijian.post_csrf(&post, &[("note", "x")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        let mut head = t.login("chuzhang1").await;
        assert_eq!(
            loop_buttons(&head.get(&page).await.body),
            ["milestone_done"]
        );
        let r = head.post_csrf(&post, &[("note", "报告已报部务会")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = head.get(&page).await;
        assert!(r.body.contains("已完成 2026-03-16"), "{}", r.body);
        assert!(r.body.contains("说明：报告已报部务会"));
        assert!(r.body.contains("ms-done-by"), "who completed it is shown");
        assert!(loop_buttons(&r.body).is_empty());
        let r = head.post_csrf(&post, &[("note", "")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("该节点已完成"));
    }
}

#[tokio::test]
async fn a_milestone_of_a_matter_not_yet_signed_for_cannot_be_completed() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let ducha = load_caller_by_username(&t.app, "ducha").await.unwrap();
    let head = load_caller_by_username(&t.app, "chuzhang1").await.unwrap();
    let mut input = NewMatter::basic("未签收节点事项", head.unit_id, DeadlineInput::None);
    input.milestones = vec![NewMilestone {
        title: "节点一".into(),
        due_on: "2026-04-30".into(),
        owner_id: None,
    }];
    let id = create_matter(&t.app, &ducha, input).await.unwrap();
    let d = taizhang_app::ledger::get_matter(&t.app, &ducha, id)
        .await
        .unwrap();
    let mid = d.milestones[0].row.id;
    let mut b = t.login("ducha").await;
    assert!(loop_buttons(&b.get(&format!("/matters/{id}")).await.body).is_empty());
    let r = b
        .post_csrf(&format!("/matters/{id}/milestones/{mid}/done"), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("不能完成节点"), "{}", r.body);
}

#[tokio::test]
async fn a_matter_is_carried_over_from_the_year_close_page_and_links_to_its_successor() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let id = running_matter(&t, "跨年度结转事项").await;

        // 纪检监察: the year page lists the open matter, without any step link.
        let mut jijian = t.login("jijian").await;
        let r = jijian.get("/year-close?year=2026").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("跨年度结转事项") && !r.body.contains("data-year-step"));
        let r = jijian
            .post_csrf(&format!("/matters/{id}/act/carry_over"), &[("reason", "x")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(
            !jijian
                .get(&format!("/matters/{id}"))
                .await
                .body
                .contains("data-action=\"carry_over\"")
        );

        // 督查专员: 办结 / 中止 / 结转 links per open matter.
        let mut ducha = t.login("ducha").await;
        let r = ducha.get("/year-close?year=2026").await;
        let link = format!("/matters/{id}/act/carry_over?back=year-close");
        assert!(r.body.contains(&link), "{}", r.body);
        assert!(r.body.contains("data-year-step=\"request_stop\""));
        assert!(r.body.contains("data-year-step=\"report_completion\""));
        assert!(
            ducha
                .get(&format!("/matters/{id}"))
                .await
                .body
                .contains("data-action=\"carry_over\"")
        );
        let r = ducha.get(&link).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("name=\"back\" value=\"year-close\""));
        assert!(r.body.contains("结转理由"));

        // Without a reason: refused on the form, what was typed kept.
        let post = format!("/matters/{id}/act/carry_over");
        let r = ducha
            .post_csrf(&post, &[("reason", ""), ("back", "year-close")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("请填写理由"));
        let r = ducha
            .post_csrf(&post, &[("reason", "跨年度实施"), ("back", "year-close")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/year-close?year=2026");

        // The year page links old → new; the old matter links to the new one.
        let new_id = {
            let mut c = t.app.store.read().await.unwrap();
            taizhang_store::matters::carried_to(&mut c, id)
                .await
                .unwrap()[0]
                .0
        };
        let r = ducha.get("/year-close?year=2026").await;
        assert!(r.body.contains("id=\"carried-now\""));
        assert!(r.body.contains(&format!("href=\"/matters/{new_id}\"")));
        assert!(!r.body.contains(&link), "no longer open");
        let r = ducha.get(&format!("/matters/{id}")).await;
        assert!(r.body.contains("id=\"carried-to\""));
        assert!(r.body.contains(&format!("href=\"/matters/{new_id}\"")));
        assert!(r.body.contains("已结转"));
        let r = ducha.get(&format!("/matters/{new_id}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains(&format!("href=\"/matters/{id}\"")));
        assert!(r.body.contains("完成调研报告"), "open 节点 carried along");
    }
}
