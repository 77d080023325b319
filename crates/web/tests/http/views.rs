//! 常用视图 over HTTP on both backends: saving the current filters under a name (unknown and
//! paging parameters dropped), the link on the ledger page, duplicate names and bad input refused
//! in Chinese, deleting, and views being per person (and not writable by 纪检监察).

use axum::http::StatusCode;
use taizhang_testkit::TestDb;

use crate::support::TestApp;

/// The `href` of the saved-view link named `name` (HTML-escaped as on the page), if shown.
fn view_link(body: &str, name: &str) -> Option<String> {
    let tail = format!("\">{name}</a>");
    let end = body.find(&tail)?;
    let start = body[..end].rfind("class=\"tag blue saved-view\" href=\"")?;
    Some(body[start + 34..end].to_owned())
}

#[tokio::test]
async fn a_view_is_saved_shown_refused_when_duplicate_deleted_and_private() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut head = t.login("chuzhang1").await;
        let page = head.get("/matters").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("id=\"save-view\""), "{}", page.body);

        // Save: page and unknown parameters are dropped, the rest kept in a fixed order.
        let r = head
            .post_csrf(
                "/matters/views",
                &[
                    ("name", "本处超期事项"),
                    (
                        "query",
                        "?overdue=1&page=3&evil=x&status=in_progress&sort=deadline&desc=1",
                    ),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let saved = "status=in_progress&overdue=1&sort=deadline&desc=1";
        assert_eq!(r.location(), format!("/matters?{saved}"));
        let page = head.get("/matters").await;
        assert_eq!(
            view_link(&page.body, "本处超期事项").as_deref(),
            Some(format!("/matters?{}", saved.replace('&', "&amp;")).as_str()),
            "{}",
            page.body
        );
        assert!(!page.body.contains("evil") && !page.body.contains("page=3"));
        // Opening it is just the ledger with those filters.
        let opened = head.get(&format!("/matters?{saved}")).await;
        assert_eq!(opened.status, StatusCode::OK);
        assert!(opened.body.contains("name=\"query\" value=\""));

        // The same name again is refused with the reason, and nothing is added.
        let r = head
            .post_csrf(
                "/matters/views",
                &[("name", " 本处超期事项 "), ("query", "status=assigned")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body.contains("已有名为「本处超期事项」的视图"),
            "{}",
            r.body
        );
        assert_eq!(r.body.matches("class=\"tag blue saved-view\"").count(), 1);
        // Bad names and malformed known parameters are refused too.
        for (name, query, says) in [
            ("", "status=assigned", "请填写视图名称"),
            (&*"长".repeat(31), "status=assigned", "不能超过30个字"),
            ("坏排序", "sort=drop_table", "视图条件"),
        ] {
            let r = head
                .post_csrf("/matters/views", &[("name", name), ("query", query)])
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
            assert!(r.body.contains(says), "{name}: {}", r.body);
        }
        // Without the CSRF token nothing is saved.
        let r = head
            .post_form(
                "/matters/views",
                &[("name", "无令牌"), ("query", "status=assigned")],
            )
            .await;
        assert_ne!(r.status, StatusCode::SEE_OTHER);
        assert!(view_link(&head.get("/matters").await.body, "无令牌").is_none());

        // Another person does not see it.
        let mut other = t.login("chuzhang2").await;
        let page = other.get("/matters").await;
        assert!(view_link(&page.body, "本处超期事项").is_none());
        let r = other
            .post_csrf("/matters/views/delete", &[("name", "本处超期事项")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body.contains("没有名为「本处超期事项」的视图"),
            "{}",
            r.body
        );

        // 纪检监察 can filter but not save.
        let mut inspector = t.login("jijian").await;
        let page = inspector.get("/matters?overdue=1").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("id=\"save-view\""));
        let r = inspector
            .post_csrf(
                "/matters/views",
                &[("name", "只读"), ("query", "overdue=1")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

        // Delete.
        let r = head
            .post_csrf("/matters/views/delete", &[("name", "本处超期事项")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/matters");
        let page = head.get("/matters").await;
        assert!(view_link(&page.body, "本处超期事项").is_none());
        assert!(page.body.contains("暂无"));
    }
}

#[tokio::test]
async fn at_most_twenty_views_are_kept_per_person() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut head = t.login("chuzhang1").await;
        for i in 1..=20 {
            let name = format!("视图{i}");
            let r = head
                .post_csrf("/matters/views", &[("name", &name), ("query", "")])
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
            assert_eq!(r.location(), "/matters");
        }
        let r = head
            .post_csrf("/matters/views", &[("name", "视图21"), ("query", "")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("最多保存20个视图"), "{}", r.body);
    }
}
