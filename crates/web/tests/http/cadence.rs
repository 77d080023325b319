//! The cadence pages on the real router: 日清查, 周小结, 月盘点, 年度归零, the calendar admin and
//! the English switch.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use taizhang_app::caller::load_caller_by_username;
use taizhang_app::ledger::{calendar, daily, monthly, weekly, year};
use taizhang_testkit::TestDb;

use crate::support::{TestApp, admin_login};

const TODAY: &str = "2026-03-16";

fn day(s: &str) -> jiff::civil::Date {
    s.parse().unwrap()
}

/// The ids of the confirm forms on a check-list page.
fn confirm_ids(body: &str) -> Vec<i64> {
    body.match_indices("action=\"/checks/")
        .filter_map(|(i, _)| {
            let rest = &body[i + 16..];
            let end = rest.find('/')?;
            rest[..end].parse().ok()
        })
        .collect()
}

#[tokio::test]
async fn every_cadence_page_renders_for_the_roles_that_may_see_it() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    for user in ["ducha", "chuzhang1", "buzhang", "jijian", "jinan"] {
        let mut b = t.login(user).await;
        for path in ["/checks", "/weekly", "/monthly", "/year-close"] {
            let r = b.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "{user} {path}: {}", r.body);
            assert!(r.body.contains("/static/cadence.css"), "{user} {path}");
        }
    }
    // 经办人 has no report rights: the use case refuses, and the refusal is a page, not a 500.
    let mut b = t.login("jingban1").await;
    assert_eq!(b.get("/monthly").await.status, StatusCode::FORBIDDEN);
    assert!(
        !b.get("/monthly").await.body.contains("href=\"/monthly\""),
        "not in 经办人's nav"
    );
    // The navigation now shows the cadence pages to a supervisor.
    let mut b = t.login("ducha").await;
    let r = b.get("/checks").await;
    for label in ["日清查", "周小结", "月盘点", "年度归零"] {
        assert!(r.body.contains(&format!(">{label}</a>")), "{label}");
    }
}

#[tokio::test]
async fn confirming_a_check_item_marks_it_with_who_and_when() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut b = t.login("ducha").await;
    let r = b.post_csrf("/checks/run", &[("day", TODAY)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = b.get("/checks").await;
    assert!(page.body.contains("class=\"btn small confirm-check\""));
    let id = *confirm_ids(&page.body).first().expect("a check item");
    let form = format!(
        "csrf={}&action=checked&day={TODAY}",
        b.csrf.clone().unwrap()
    );
    let req = Request::post(format!("/checks/{id}/confirm"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("hx-request", "true")
        .body(Body::from(form))
        .unwrap();
    let r = b.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.starts_with(&format!("<tr id=\"check-{id}\"")),
        "{}",
        r.body
    );
    assert!(r.body.contains("✓ 已清查"));
    assert!(
        !r.body.contains("confirm-check"),
        "no button on a confirmed row"
    );
    let ducha = load_caller_by_username(&t.app, "ducha").await.unwrap();
    let items = daily::daily_check_list(&t.app, &ducha, day(TODAY), None)
        .await
        .unwrap();
    let item = items.iter().find(|i| i.id == id).unwrap();
    assert_eq!(item.confirmed_by, ducha.person_id);
    assert!(r.body.contains(&ducha.display_name));
    // Confirming twice is refused, not a 500.
    let again = b
        .post_csrf(&format!("/checks/{id}/confirm"), &[("day", TODAY)])
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_inspector_sees_the_data_but_no_button_that_changes_anything() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut d = t.login("ducha").await;
    d.post_csrf("/checks/run", &[("day", TODAY)]).await;
    d.post_csrf("/monthly/snapshot", &[("month", "2026-03")])
        .await;
    d.post_csrf("/weekly/run", &[("week", "2026-W11")]).await;
    let mut j = t.login("jijian").await;
    let checks = j.get("/checks").await;
    assert!(!confirm_ids(&d.get("/checks").await.body).is_empty());
    assert!(checks.body.contains("cad-table"), "jijian sees the items");
    let weekly = j.get("/weekly?week=2026-W11").await;
    let monthly = j.get("/monthly?month=2026-03").await;
    let year = j.get("/year-close").await;
    assert!(monthly.body.contains("id=\"chart-by-unit\""));
    for page in [&checks, &weekly, &monthly, &year] {
        assert_eq!(page.status, StatusCode::OK);
        for write in [
            "confirm-check",
            "action=\"/checks/run\"",
            "action=\"/weekly/run\"",
            "action=\"/monthly/snapshot\"",
            "action=\"/monthly/bulletin\"",
            "method=\"post\" action=\"/year-close\"",
        ] {
            assert!(!page.body.contains(write), "jijian sees {write}");
        }
    }
}

#[tokio::test]
async fn a_weekly_summary_is_drafted_edited_submitted_and_approved() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut d = t.login("ducha").await;
    let r = d.post_csrf("/weekly/run", &[("week", "2026-W11")]).await;
    assert_eq!(r.location(), "/weekly?week=2026-W11", "{}", r.body);
    let ducha = load_caller_by_username(&t.app, "ducha").await.unwrap();
    let list = weekly::list_weekly_summaries(&t.app, &ducha, "2026-W11")
        .await
        .unwrap();
    let whole = list.iter().find(|v| v.row.unit_id.is_none()).unwrap();
    let id = whole.row.id;
    let page = d.get("/weekly?week=2026-W11").await;
    assert!(page.body.contains(&format!("href=\"/weekly/{id}\"")));
    assert!(page.body.contains("全部门"));
    let r = d
        .post_csrf(
            &format!("/weekly/{id}/edit"),
            &[("body", "本周小结：经修改。")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = d.post_csrf(&format!("/weekly/{id}/submit"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Submitted: the text can no longer be edited, and the supervisor's page has no edit form.
    let shown = d.get(&format!("/weekly/{id}")).await;
    assert!(shown.body.contains("本周小结：经修改。"));
    assert!(
        !shown
            .body
            .contains(&format!("action=\"/weekly/{id}/edit\""))
    );
    let mut l = t.login("buzhang").await;
    let shown = l.get(&format!("/weekly/{id}")).await;
    assert!(
        shown.body.contains("value=\"approve\""),
        "部领导 may approve"
    );
    let r = l
        .post_csrf(&format!("/weekly/{id}/approve"), &[("decision", "approve")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = weekly::get_weekly_summary(&t.app, &ducha, id)
        .await
        .unwrap();
    assert_eq!(after.row.status, "approved");
    assert!(
        l.get(&format!("/weekly/{id}"))
            .await
            .body
            .contains("已通过")
    );
}

#[tokio::test]
async fn the_monthly_dashboard_shows_the_numbers_of_the_snapshot() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut b = t.login("ducha").await;
    let before = b.get("/monthly").await;
    assert!(before.body.contains("action=\"/monthly/snapshot\""));
    let r = b
        .post_csrf("/monthly/snapshot", &[("month", "2026-03")])
        .await;
    assert_eq!(r.location(), "/monthly?month=2026-03", "{}", r.body);
    let ducha = load_caller_by_username(&t.app, "ducha").await.unwrap();
    let snap = monthly::get_monthly_snapshot(&t.app, &ducha, "2026-03")
        .await
        .unwrap()
        .unwrap();
    let page = b.get("/monthly").await;
    assert!(
        page.body
            .contains(&format!("id=\"kpi-total\">{}<", snap.total))
    );
    assert!(
        page.body
            .contains(&format!("id=\"kpi-overdue\">{}<", snap.overdue))
    );
    assert!(page.body.contains("id=\"chart-by-unit\""));
    assert!(
        page.body
            .contains("data-src=\"/monthly/data.json?month=2026-03\"")
    );
    let data = b.get("/monthly/data.json?month=2026-03").await;
    let v: serde_json::Value = serde_json::from_str(&data.body).unwrap();
    assert_eq!(
        v["units"]["names"].as_array().unwrap().len(),
        snap.by_unit.len()
    );
    let lights: i64 = v["lights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["value"].as_i64().unwrap())
        .sum();
    assert_eq!(lights, snap.total);
    // Units only: no person's name appears in the chart data.
    for user in ["ducha", "chuzhang1", "jingban1", "buzhang"] {
        let p = load_caller_by_username(&t.app, user).await.unwrap();
        assert!(!data.body.contains(&p.display_name), "{user} in chart data");
    }
    let print = b.get("/monthly/print?month=2026-03").await;
    assert!(print.body.contains("print-view") && print.body.contains("/static/print.js"));
    let r = b
        .post_csrf("/monthly/bulletin", &[("month", "2026-03")])
        .await;
    assert!(
        r.location().starts_with("/monthly?month=2026-03&issued="),
        "{}",
        r.body
    );
    assert!(b.get(r.location()).await.body.contains("通报（第"));
}

#[tokio::test]
async fn the_year_close_is_refused_with_the_open_matters_listed() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let ducha = load_caller_by_username(&t.app, "ducha").await.unwrap();
    let open = year::open_matters_of_year(&t.app, &ducha, 2026)
        .await
        .unwrap();
    assert!(!open.is_empty());
    let mut b = t.login("ducha").await;
    let page = b.get("/year-close?year=2026").await;
    assert!(page.body.contains("执行年度归零"));
    let r = b.post_csrf("/year-close", &[("year", "2026")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"year-close-error\""));
    assert!(r.body.contains("id=\"open-matters\""));
    for m in open.iter().take(5) {
        assert!(r.body.contains(&m.number), "{} listed", m.number);
    }
    assert!(
        year::year_report(&t.app, &ducha, 2026)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_english_switch_changes_the_navigation_labels() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let mut b = t.login("ducha").await;
    let zh = b.get("/monthly").await;
    assert!(zh.body.contains("<html lang=\"zh-CN\">"));
    assert!(zh.body.contains(">月盘点</a>") && zh.body.contains("href=\"/lang?to=en\""));
    // The switch sets the cookie and goes back to the page it was clicked on.
    let mut anon = t.browser();
    let req = Request::get("/lang?to=en")
        .header(
            header::REFERER,
            "https://taizhang.test/monthly?month=2026-03",
        )
        .body(Body::empty())
        .unwrap();
    let r = anon.send(req).await;
    assert_eq!(r.location(), "/monthly?month=2026-03");
    let set = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set.starts_with("tz_lang=en;"), "{set}");
    b.cookie = Some(format!("{}; tz_lang=en", b.cookie.clone().unwrap()));
    let en = b.get("/monthly").await;
    assert!(en.body.contains("<html lang=\"en\">"));
    for label in [
        "Desk",
        "Daily check",
        "Weekly summary",
        "Monthly stock-take",
        "Log out",
    ] {
        assert!(en.body.contains(label), "{label}");
    }
    assert!(!en.body.contains(">月盘点</a>"));
    assert!(en.body.contains("href=\"/lang?to=zh\""));
}

#[tokio::test]
async fn a_day_set_in_the_calendar_admin_is_reflected_by_add_workdays() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let (next, _) = calendar::add_workdays(&t.app, day(TODAY), 1).await.unwrap();
    assert_eq!(next, day("2026-03-17"));
    let mut b = admin_login(&t, "admin").await;
    let page = b.get("/admin/calendar?year=2026").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("2026-02-17"), "春节 listed");
    assert!(!page.body.contains("id=\"provisional\""));
    assert!(
        b.get("/admin/calendar?year=2027")
            .await
            .body
            .contains("id=\"provisional\"")
    );
    let r = b
        .post_csrf(
            "/admin/calendar/day",
            &[
                ("date", "2026-03-17"),
                ("kind", "holiday"),
                ("name", "测试调休"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/admin/calendar?year=2026", "{}", r.body);
    let (next, _) = calendar::add_workdays(&t.app, day(TODAY), 1).await.unwrap();
    assert_eq!(next, day("2026-03-18"));
    // A bad date comes back with what was typed.
    let r = b
        .post_csrf(
            "/admin/calendar/day",
            &[
                ("date", "2026-13-40"),
                ("kind", "holiday"),
                ("name", "错日期"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("value=\"错日期\""));
    let r = b
        .post_csrf("/admin/calendar/clear", &[("date", "2026-03-17")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (next, _) = calendar::add_workdays(&t.app, day(TODAY), 1).await.unwrap();
    assert_eq!(next, day("2026-03-17"));
    // Other roles never reach the page.
    let mut d = t.login("ducha").await;
    assert_eq!(d.get("/admin/calendar").await.status, StatusCode::FORBIDDEN);
}
