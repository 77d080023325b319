//! 修改台账, 子事项 and 预警阈值 over HTTP on both backends: the edit form (prefilled, locked
//! fields, kept input on refusal, stale version), the 新建子事项 flow from the parent page to the
//! ledger list, the thresholds admin page, and the JSON API (`PATCH` with If-Match or version,
//! `parent_id`, children in the matter, the thresholds endpoint).

use axum::http::{Method, StatusCode, header};
use serde_json::json;
use taizhang_app::caller::load_caller_by_username;
use taizhang_app::ledger::matters::DeadlineInput;
use taizhang_app::ledger::{NewMatter, create_matter, flow, get_matter};
use taizhang_testkit::TestDb;

use crate::support::{Browser, Resp, TestApp, admin_login, call, code_of, json_of, token};

/// A matter of 干部一处 (deadline 2026-04-30) by ducha; assigned (and signed) when asked.
async fn matter(t: &TestApp, title: &str, assign: bool, sign: bool) -> i64 {
    let ducha = load_caller_by_username(&t.app, "ducha").await.unwrap();
    let head = load_caller_by_username(&t.app, "chuzhang1").await.unwrap();
    let mut input = NewMatter::basic(
        title,
        head.unit_id,
        DeadlineInput::Date("2026-04-30".into()),
    );
    input.source_category = "meeting_decision".into();
    input.content = "原始事项内容".into();
    let id = create_matter(&t.app, &ducha, input).await.unwrap();
    if assign {
        flow::submit_matter(&t.app, &ducha, id).await.unwrap();
        flow::approve_matter(&t.app, &ducha, id).await.unwrap();
    }
    if sign {
        flow::sign_for(&t.app, &head, id).await.unwrap();
    }
    id
}

fn offered(body: &str) -> Vec<String> {
    body.split("data-action=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// The value of the `<input name=…>` in a page.
fn input_value(body: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    body.split(&key)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("")
        .to_owned()
}

/// The edit form's fields as they are on the page, with `changes` applied.
fn form_of<'a>(body: &str, changes: &[(&'a str, &'a str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = [
        "version",
        "title",
        "source_doc",
        "deadline_date",
        "deadline_days",
    ]
    .iter()
    .map(|k| ((*k).to_owned(), input_value(body, k)))
    .collect();
    let lead = body
        .split("name=\"lead_unit_id\"")
        .nth(1)
        .and_then(|s| s.split("\" selected").next())
        .and_then(|s| s.rsplit("value=\"").next())
        .unwrap_or("")
        .to_owned();
    out.push(("lead_unit_id".into(), lead));
    for (k, v) in [
        ("content", "原始事项内容"),
        ("source_category", "meeting_decision"),
        ("deadline_mode", "date"),
        ("deadline_date", "2026-04-30"),
        ("urgency", "normal"),
        ("feedback_cycle", "none"),
    ] {
        out.retain(|(n, _)| n != k);
        out.push((k.into(), v.into()));
    }
    for (k, v) in changes {
        out.retain(|(n, _)| n != k);
        out.push(((*k).to_owned(), (*v).to_owned()));
    }
    out
}

async fn post_pairs(b: &mut Browser, path: &str, pairs: &[(String, String)]) -> Resp {
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post_csrf(path, &refs).await
}

#[tokio::test]
async fn the_edit_form_is_prefilled_saves_keeps_input_on_refusal_and_locks_after_assignment() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let id = matter(&t, "页面编辑事项", false, false).await;
        let path = format!("/matters/{id}");
        let mut ducha = t.login("ducha").await;
        let page = ducha.get(&path).await;
        assert!(
            offered(&page.body).contains(&"edit".to_owned()),
            "{}",
            page.body
        );
        let r = ducha.get(&format!("{path}/act/edit")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), format!("{path}/edit"));
        let form = ducha.get(&format!("{path}/edit")).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert!(form.body.contains("id=\"edit-matter-form\""));
        assert_eq!(input_value(&form.body, "title"), "页面编辑事项");
        assert_eq!(input_value(&form.body, "version"), "1");
        assert!(form.body.contains("原始事项内容"));
        assert!(form.body.contains("id=\"handlers-picker\""));

        // A refused save keeps everything typed, next to the error.
        let bad = form_of(&form.body, &[("title", " "), ("remarks", "保留的备注")]);
        let r = post_pairs(&mut ducha, &format!("{path}/edit"), &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("id=\"e-title\"") && r.body.contains("保留的备注"));

        let ok = form_of(
            &form.body,
            &[("title", "页面编辑后的事项"), ("remarks", "新备注")],
        );
        let r = post_pairs(&mut ducha, &format!("{path}/edit"), &ok).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = ducha.get(&path).await;
        assert!(page.body.contains("页面编辑后的事项") && page.body.contains("修改台账"));

        // The same (now stale) form again: refused, nothing changed.
        let stale = form_of(&form.body, &[("title", "过期的修改")]);
        let r = post_pairs(&mut ducha, &format!("{path}/edit"), &stale).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("刷新后重试"));
        assert!(!ducha.get(&path).await.body.contains("过期的修改"));

        // Others: the unit head is refused (audited), another city sees nothing.
        let mut head = t.login("chuzhang1").await;
        assert!(!offered(&head.get(&path).await.body).contains(&"edit".to_owned()));
        assert_eq!(
            head.get(&format!("{path}/edit")).await.status,
            StatusCode::FORBIDDEN
        );
        let mut jinan = t.login("jinan").await;
        assert_eq!(
            jinan.get(&format!("{path}/edit")).await.status,
            StatusCode::NOT_FOUND
        );

        // Once assigned: the deadline is read-only on the form and in the use case.
        let ducha_c = load_caller_by_username(&t.app, "ducha").await.unwrap();
        flow::submit_matter(&t.app, &ducha_c, id).await.unwrap();
        flow::approve_matter(&t.app, &ducha_c, id).await.unwrap();
        let form = ducha.get(&format!("{path}/edit")).await;
        assert!(form.body.contains("id=\"deadline-locked\"") && form.body.contains("申请延期"));
        let d = get_matter(&t.app, &ducha_c, id).await.unwrap();
        let ok = form_of(&form.body, &[("title", "交办后改名")]);
        let r = post_pairs(&mut ducha, &format!("{path}/edit"), &ok).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let after = get_matter(&t.app, &ducha_c, id).await.unwrap();
        assert_eq!(after.matter.row.title, "交办后改名");
        assert_eq!(after.matter.row.deadline, d.matter.row.deadline);
    }
}

#[tokio::test]
async fn a_sub_matter_is_created_from_its_parent_and_shown_under_it() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let pid = matter(&t, "可分解的父事项", true, true).await;
        let ppath = format!("/matters/{pid}");
        let mut head = t.login("chuzhang1").await;
        assert!(offered(&head.get(&ppath).await.body).contains(&"new_sub".to_owned()));
        let r = head.get(&format!("{ppath}/act/new_sub")).await;
        assert_eq!(r.location(), format!("/matters/new?parent={pid}"));
        let form = head.get(&format!("/matters/new?parent={pid}")).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert!(form.body.contains("id=\"parent-info\"") && form.body.contains("2026-04-30"));
        assert!(form.body.contains("value=\"meeting_decision\" selected"));
        let unit = input_value(&form.body, "parent_id");
        assert_eq!(unit, pid.to_string());
        let lead = load_caller_by_username(&t.app, "chuzhang1")
            .await
            .unwrap()
            .unit_id
            .to_string();
        let fields = |title: &'static str, due: &'static str| {
            vec![
                ("parent_id".to_owned(), pid.to_string()),
                ("title".to_owned(), title.to_owned()),
                ("lead_unit_id".to_owned(), lead.clone()),
                ("source_category".to_owned(), "meeting_decision".to_owned()),
                ("deadline_mode".to_owned(), "date".to_owned()),
                ("deadline_date".to_owned(), due.to_owned()),
                ("urgency".to_owned(), "normal".to_owned()),
                ("feedback_cycle".to_owned(), "none".to_owned()),
            ]
        };
        // Later than the parent: refused on the form, what was typed kept.
        let r = post_pairs(
            &mut head,
            "/matters/new",
            &fields("太晚的子事项", "2026-05-20"),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("不能晚于父事项") && r.body.contains("太晚的子事项"));
        let r = post_pairs(
            &mut head,
            "/matters/new",
            &fields("分解出的子事项", "2026-04-20"),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let kid_path = r.location().to_owned();
        let kid = head.get(&kid_path).await;
        assert!(kid.body.contains("id=\"parent-link\"") && kid.body.contains("可分解的父事项"));
        assert!(!offered(&kid.body).contains(&"new_sub".to_owned()));
        let parent = head.get(&ppath).await;
        assert!(parent.body.contains("id=\"children\"") && parent.body.contains("分解出的子事项"));

        // The ledger: the parent says it has a sub-matter; the filters select either.
        let mut ducha = t.login("ducha").await;
        let list = ducha.get("/matters?q=%E5%AD%90%E4%BA%8B%E9%A1%B9").await;
        assert_eq!(list.status, StatusCode::OK);
        let list = ducha.get("/matters?q=%E7%88%B6%E4%BA%8B%E9%A1%B9").await;
        assert!(list.body.contains("含1个子事项"), "{}", list.body);
        let list = ducha.get(&format!("/matters?parent={pid}")).await;
        assert!(list.body.contains("分解出的子事项") && !list.body.contains(">可分解的父事项<"));
        let list = ducha.get("/matters?top=1&q=%E5%88%86%E8%A7%A3").await;
        assert!(list.body.contains("可分解的父事项") && !list.body.contains("分解出的子事项"));
        // On one page, the sub-matter sits right under its parent.
        let list = ducha.get("/matters?q=%E5%88%86%E8%A7%A3&sort=number").await;
        let (p, k) = (
            list.body.find("可分解的父事项").unwrap(),
            list.body.find("分解出的子事项").unwrap(),
        );
        assert!(p < k && list.body.contains("class=\"row-"), "parent first");
        assert!(list.body.contains(" nested\""), "indented");

        // A handler may not break it down.
        let mut worker = t.login("jingban1").await;
        assert_eq!(
            worker
                .get(&format!("/matters/new?parent={pid}"))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn the_thresholds_page_saves_refuses_bad_rows_with_the_input_kept_and_is_for_administrators()
{
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut b = admin_login(&t, "admin").await;
        let page = b.get("/admin/thresholds").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body.contains("领导批示") && page.body.contains("name=\"default_n\" value=\"3\"")
        );
        assert!(b.get("/admin").await.body.contains("/admin/thresholds"));
        let mut good: Vec<(&str, &str)> = vec![
            ("default_n", "3"),
            ("default_yellow", "10"),
            ("default_red", "30"),
            ("leader_instruction_own", "1"),
            ("leader_instruction_n", "7"),
            ("leader_instruction_yellow", "5"),
            ("leader_instruction_red", "25"),
        ];
        let r = b.post_csrf("/admin/thresholds", &good).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = b.get("/admin/thresholds?saved=1").await;
        assert!(page.body.contains("id=\"saved\""));
        assert!(
            page.body
                .contains("name=\"leader_instruction_n\" value=\"7\"")
        );
        let admin_c = load_caller_by_username(&t.app, "admin").await.unwrap();
        let table = taizhang_app::ledger::thresholds::thresholds(&t.app, &admin_c)
            .await
            .unwrap();
        assert_eq!(
            table.for_code("leader_instruction").yellow_within_workdays,
            7
        );
        assert_eq!(table.for_code("other").yellow_within_workdays, 3);

        // Yellow lag not below red: 422, the row as typed, the field marked.
        good.retain(|(k, _)| *k != "leader_instruction_yellow");
        good.push(("leader_instruction_yellow", "40"));
        let r = b.post_csrf("/admin/thresholds", &good).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("id=\"e-leader_instruction_yellow\"") && r.body.contains("须小于"));
        assert!(
            r.body
                .contains("name=\"leader_instruction_yellow\" value=\"40\"")
        );
        let r = b
            .post_csrf(
                "/admin/thresholds",
                &[
                    ("default_n", "-1"),
                    ("default_yellow", "1"),
                    ("default_red", "2"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let table2 = taizhang_app::ledger::thresholds::thresholds(&t.app, &admin_c)
            .await
            .unwrap();
        assert_eq!(table2, table, "nothing changed");

        let mut ducha = t.login("ducha").await;
        assert_eq!(
            ducha.get("/admin/thresholds").await.status,
            StatusCode::FORBIDDEN
        );
        let r = ducha.post_csrf("/admin/thresholds", &good).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn the_api_patches_with_if_match_or_version_creates_sub_matters_and_sets_thresholds() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let mut b = t.browser();
        let tok = token(&t, "ducha").await;
        let id = matter(&t, "接口修改事项", false, false).await;
        let path = format!("/api/v1/matters/{id}");
        let r = call(&mut b, Method::GET, &path, &tok, None, &[]).await;
        let etag = r.headers[header::ETAG].to_str().unwrap().to_owned();
        assert_eq!(json_of(&r)["matter"]["version"], 1);
        assert!(
            json_of(&r)["actions"]
                .as_array()
                .unwrap()
                .contains(&json!("edit"))
        );

        let body = r#"{"title":"接口改名"}"#;
        let r = call(&mut b, Method::PATCH, &path, &tok, Some(body), &[]).await;
        assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED, "{}", r.body);
        let r = call(
            &mut b,
            Method::PATCH,
            &path,
            &tok,
            Some(body),
            &[("If-Match", &etag)],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(json_of(&r)["version"], 2);
        assert_eq!(json_of(&r)["changed"], json!(["事项名称"]));
        assert!(r.headers.contains_key(header::ETAG));
        // Stale: the old ETag (412) or the old version (409); nothing changes.
        let again = r#"{"title":"过期的接口修改"}"#;
        let r = call(
            &mut b,
            Method::PATCH,
            &path,
            &tok,
            Some(again),
            &[("If-Match", &etag)],
        )
        .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.body);
        let stale = r#"{"version":1,"title":"过期的接口修改"}"#;
        let r = call(&mut b, Method::PATCH, &path, &tok, Some(stale), &[]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        let r = call(
            &mut b,
            Method::PATCH,
            &path,
            &tok,
            Some(r#"{"version":2,"title":""}"#),
            &[],
        )
        .await;
        assert_eq!(
            (r.status, code_of(&r).as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "title_empty")
        );
        let r = call(
            &mut b,
            Method::PATCH,
            &path,
            &tok,
            Some(r#"{"version":2,"colour":"red"}"#),
            &[],
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown fields are refused"
        );
        let r = call(&mut b, Method::GET, &path, &tok, None, &[]).await;
        assert_eq!(json_of(&r)["matter"]["title"], "接口改名");
        assert_eq!(json_of(&r)["matter"]["version"], 2);
        // A head of unit may not patch; another city does not even see it.
        let head = token(&t, "chuzhang1").await;
        let r = call(
            &mut b,
            Method::PATCH,
            &path,
            &head,
            Some(r#"{"version":2,"title":"x"}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let jinan = token(&t, "jinan").await;
        let r = call(
            &mut b,
            Method::PATCH,
            &path,
            &jinan,
            Some(r#"{"version":2,"title":"x"}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

        // Assigned: the deadline is locked.
        let ducha = load_caller_by_username(&t.app, "ducha").await.unwrap();
        flow::submit_matter(&t.app, &ducha, id).await.unwrap();
        flow::approve_matter(&t.app, &ducha, id).await.unwrap();
        let v = get_matter(&t.app, &ducha, id)
            .await
            .unwrap()
            .matter
            .row
            .version;
        let body = format!(r#"{{"version":{v},"deadline":"2026-06-30"}}"#);
        let r = call(&mut b, Method::PATCH, &path, &tok, Some(&body), &[]).await;
        assert_eq!(code_of(&r), "deadline_locked", "{}", r.body);

        // 子事项 through POST /api/v1/matters with parent_id; the parent lists it.
        let lead = json_of(&call(&mut b, Method::GET, &path, &tok, None, &[]).await)["matter"]["lead_unit_id"]
            .as_i64()
            .unwrap();
        let body = json!({"title": "接口子事项", "lead_unit_id": lead, "parent_id": id, "deadline": "2026-04-15"});
        let r = call(
            &mut b,
            Method::POST,
            "/api/v1/matters",
            &tok,
            Some(&body.to_string()),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let kid = json_of(&r)["id"].as_i64().unwrap();
        let p = json_of(&call(&mut b, Method::GET, &path, &tok, None, &[]).await);
        assert_eq!(p["children"][0]["id"], kid);
        assert_eq!(p["children"][0]["light"], "grey");
        let k = json_of(
            &call(
                &mut b,
                Method::GET,
                &format!("/api/v1/matters/{kid}"),
                &tok,
                None,
                &[],
            )
            .await,
        );
        assert_eq!(k["parent"]["id"], id);
        assert_eq!(
            k["matter"]["source_category"], "meeting_decision",
            "inherited"
        );
        let list = format!("/api/v1/matters?parent={id}&with_total=true");
        let l = json_of(&call(&mut b, Method::GET, &list, &tok, None, &[]).await);
        assert_eq!(
            (l["total"].clone(), l["items"][0]["id"].clone()),
            (json!(1), json!(kid))
        );
        let body = json!({"title": "孙事项", "lead_unit_id": lead, "parent_id": kid, "deadline": "2026-04-10"});
        let r = call(
            &mut b,
            Method::POST,
            "/api/v1/matters",
            &tok,
            Some(&body.to_string()),
            &[],
        )
        .await;
        assert_eq!(code_of(&r), "depth_limit", "{}", r.body);

        // Thresholds: everyone reads, the administrator replaces.
        let path = "/api/v1/settings/light-thresholds";
        let r = call(&mut b, Method::GET, path, &tok, None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(json_of(&r)["default"]["yellow_within_workdays"], 3);
        let body = json!({"default": {"yellow_within_workdays": 4, "lag_yellow_points": 10, "lag_red_points": 30},
            "categories": {"leader_instruction": {"yellow_within_workdays": 8, "lag_yellow_points": 5, "lag_red_points": 20}}});
        let r = call(
            &mut b,
            Method::PUT,
            path,
            &tok,
            Some(&body.to_string()),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let admin = token(&t, "admin").await;
        let r = call(
            &mut b,
            Method::PUT,
            path,
            &admin,
            Some(&body.to_string()),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let out = json_of(&r);
        assert_eq!(out["default"]["yellow_within_workdays"], 4);
        let li = out["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["category"] == "leader_instruction")
            .unwrap()
            .clone();
        assert_eq!(
            (
                li["own"].clone(),
                li["rules"]["yellow_within_workdays"].clone()
            ),
            (json!(true), json!(8))
        );
        let bad = json!({"default": {"yellow_within_workdays": 4, "lag_yellow_points": 30, "lag_red_points": 30}});
        let r = call(
            &mut b,
            Method::PUT,
            path,
            &admin,
            Some(&bad.to_string()),
            &[],
        )
        .await;
        assert_eq!(code_of(&r), "threshold_lag_order", "{}", r.body);
        let bad = json!({"default": {"yellow_within_workdays": 4, "lag_yellow_points": 1, "lag_red_points": 2},
            "categories": {"no_such": {"yellow_within_workdays": 1, "lag_yellow_points": 1, "lag_red_points": 2}}});
        let r = call(
            &mut b,
            Method::PUT,
            path,
            &admin,
            Some(&bad.to_string()),
            &[],
        )
        .await;
        assert_eq!(code_of(&r), "unknown_code", "{}", r.body);
        let bad = json!({"default": {"yellow_within_workdays": -1, "lag_yellow_points": 1, "lag_red_points": 2}});
        let r = call(
            &mut b,
            Method::PUT,
            path,
            &admin,
            Some(&bad.to_string()),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let r = call(&mut b, Method::GET, path, &tok, None, &[]).await;
        assert_eq!(
            json_of(&r)["default"]["yellow_within_workdays"],
            4,
            "refusals changed nothing"
        );
    }
}
