//! The ledger pages (工作台, 台账, 事项, the step forms, 新建事项): they render for every demo
//! role, offer exactly the steps the role may take in the matter's state, answer a cross-unit
//! probe with an audited 404, and keep what was typed when a form is refused.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use taizhang_app::caller::load_caller_by_username;
use taizhang_app::ledger::flow;
use taizhang_app::ledger::matters::DeadlineInput;
use taizhang_app::ledger::{NewMatter, create_matter};
use taizhang_testkit::TestDb;

use crate::support::{Browser, TestApp};

const USERS: &[&str] = &[
    "buzhang",
    "ducha",
    "chuzhang1",
    "jingban1",
    "jijian",
    "jinan",
];

/// A matter of 干部一处 created by ducha, taken to `assigned` when `assign` is set.
async fn matter_of_unit_one(t: &TestApp, title: &str, assign: bool) -> i64 {
    let ducha = load_caller_by_username(&t.app, "ducha").await.unwrap();
    let head = load_caller_by_username(&t.app, "chuzhang1").await.unwrap();
    let input = NewMatter::basic(title, head.unit_id, DeadlineInput::WorkingDays(10));
    let id = create_matter(&t.app, &ducha, input).await.unwrap();
    if assign {
        flow::submit_matter(&t.app, &ducha, id).await.unwrap();
        flow::approve_matter(&t.app, &ducha, id).await.unwrap();
    }
    id
}

/// The step codes offered on a matter page.
fn offered(body: &str) -> Vec<String> {
    body.split("data-action=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_desk_ledger_and_matter_pages_render_for_every_demo_role() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let id = matter_of_unit_one(&t, "干部一处页面渲染事项", true).await;
    for user in USERS {
        let mut b = t.login(user).await;
        let r = b.get("/desk").await;
        assert_eq!(r.status, StatusCode::OK, "{user} /desk: {}", r.body);
        assert!(
            r.body.contains("待签收") && r.body.contains("今日清查"),
            "{user}"
        );
        let r = b.get("/matters").await;
        assert_eq!(r.status, StatusCode::OK, "{user} /matters: {}", r.body);
        assert!(r.body.contains("剩余工作日") && r.body.contains("最新进展"));
        let r = b.get(&format!("/matters/{id}")).await;
        let expect = if *user == "jinan" {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(r.status, expect, "{user} /matters/{id}");
    }
}

#[tokio::test]
async fn a_two_character_chinese_search_sorting_and_filters_work() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut b = t.login("ducha").await;
    let r = b
        .get("/matters?q=%E5%B9%B2%E9%83%A8&sort=number&desc=1")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("干部") && !r.body.contains("没有符合条件的事项"));
    let r = b
        .get("/matters?light=red&status=in_progress&urgency=normal")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // A sort key outside the allow-list is ignored, not passed to SQL.
    let r = b.get("/matters?sort=title%3BDROP").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = b.get("/matters?from=2026-13-40").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("格式无效"));
}

#[tokio::test]
async fn the_buttons_shown_match_the_state_and_the_role() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let id = matter_of_unit_one(&t, "按钮与状态一致事项", false).await;
    let path = format!("/matters/{id}");
    let mut ducha = t.login("ducha").await;
    assert_eq!(
        offered(&ducha.get(&path).await.body),
        ["submit", "carry_over", "edit"]
    );
    let mut head = t.login("chuzhang1").await;
    assert!(offered(&head.get(&path).await.body).is_empty());
    let r = ducha.post_csrf(&format!("{path}/act/submit"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        offered(&ducha.get(&path).await.body),
        ["approve", "reject", "carry_over", "edit"]
    );
    let r = ducha.post_csrf(&format!("{path}/act/approve"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let shown = offered(&head.get(&path).await.body);
    assert_eq!(shown, ["sign_for", "return_assignment", "new_sub"]);
    let r = head.post_csrf(&format!("{path}/act/sign_for"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let shown = offered(&head.get(&path).await.body);
    assert_eq!(
        shown,
        [
            "report_progress",
            "request_extension",
            "report_completion",
            "request_stop",
            "new_sub"
        ]
    );
    let mut worker = t.login("jingban1").await;
    assert_eq!(offered(&worker.get(&path).await.body), ["report_progress"]);
    let mut jijian = t.login("jijian").await;
    let r = jijian.get(&path).await;
    assert!(offered(&r.body).is_empty() && r.body.contains("no-actions"));
    // A step that is not offered is refused even when its URL is typed in.
    let r = head.get(&format!("{path}/act/close_out")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = head.get(&format!("{path}/act/no_such_step")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_cross_unit_probe_gets_404_and_is_audited_as_denied() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let id = matter_of_unit_one(&t, "跨单位探测事项", true).await;
    let mut jinan = t.login("jinan").await;
    for probe in [id - 1, id, id + 1] {
        let r = jinan.get(&format!("/matters/{probe}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "jinan opened {probe}");
        assert!(!r.body.contains("跨单位探测事项"));
        let r = jinan
            .get(&format!("/matters/{probe}/act/report_progress"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    let mut c = t.app.store.read().await.unwrap();
    let q = taizhang_store::audit::AuditQuery {
        actor_name: Some("jinan".into()),
        result: Some("denied".into()),
        limit: 50,
        ..Default::default()
    };
    let rows = taizhang_store::audit::search(&mut c, &q).await.unwrap();
    assert!(rows.len() >= 6, "denials audited: {}", rows.len());
}

#[tokio::test]
async fn a_refused_new_matter_form_keeps_everything_typed() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut b = t.login("ducha").await;
    assert_eq!(b.get("/matters/new").await.status, StatusCode::OK);
    let r = b
        .post_csrf(
            "/matters/new",
            &[
                ("title", "保留输入的事项名称"),
                ("content", "这里是事项内容，出错后不应丢失"),
                ("source_category", "meeting_decision"),
                ("deadline_mode", "workdays"),
                ("deadline_days", "15"),
                ("urgency", "urgent"),
                ("feedback_cycle", "weekly:5"),
                ("ms_title", "第一节点"),
                ("ms_due", "2026-04-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for kept in [
        "保留输入的事项名称",
        "这里是事项内容，出错后不应丢失",
        "value=\"15\"",
        "第一节点",
        "2026-04-01",
        "请选择牵头单位",
    ] {
        assert!(r.body.contains(kept), "lost {kept}");
    }
    assert!(r.body.contains("value=\"urgent\" selected"));
    // Others may not create matters.
    let mut head = t.login("chuzhang1").await;
    assert_eq!(head.get("/matters/new").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_refused_step_form_keeps_the_typed_values_next_to_the_error() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let id = matter_of_unit_one(&t, "延期表单事项", true).await;
    let mut head = t.login("chuzhang1").await;
    head.post_csrf(&format!("/matters/{id}/act/sign_for"), &[])
        .await;
    let path = format!("/matters/{id}/act/request_extension");
    assert_eq!(head.get(&path).await.status, StatusCode::OK);
    let r = head
        .post_csrf(
            &path,
            &[
                ("proposed_deadline", "2026-03-01"),
                ("reason", "需要等待上级文件印发"),
                ("current_progress", "已完成初稿"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("需要等待上级文件印发") && r.body.contains("已完成初稿"));
    assert!(r.body.contains("id=\"e-proposed_deadline\""));
    let r = head
        .post_csrf(
            &format!("/matters/{id}/act/report_progress"),
            &[("body", ""), ("problems", "人手不足")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("人手不足") && r.body.contains("请填写本期进展"));
}

async fn post_htmx(b: &mut Browser, path: &str) -> crate::support::Resp {
    let csrf = b.csrf.clone().unwrap();
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("hx-request", "true")
        .body(Body::from(format!("csrf={csrf}&action=checked")))
        .unwrap();
    b.send(req).await
}

#[tokio::test]
async fn todays_check_item_is_confirmed_with_one_click() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let system = taizhang_app::Caller::system("test");
    let day = jiff::civil::date(2026, 3, 16);
    taizhang_app::ledger::daily::run_daily_check(&t.app, &system, day)
        .await
        .unwrap();
    let mut head = t.login("chuzhang1").await;
    let r = head.get("/desk").await;
    let item: i64 = r
        .body
        .split("hx-post=\"/desk/checks/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .expect("a check item with a confirm button");
    let r = post_htmx(&mut head, &format!("/desk/checks/{item}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("已清查") && !r.body.contains("<html"));
    let r = post_htmx(&mut head, &format!("/desk/checks/{item}")).await;
    assert!(r.body.contains("该项已清查"));
    let mut jijian = t.login("jijian").await;
    let r = jijian.get("/desk").await;
    assert!(!r.body.contains("hx-post=\"/desk/checks/"));
}
