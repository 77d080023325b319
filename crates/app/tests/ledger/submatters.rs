//! 子事项: breaking a running matter down (督查室, or the lead unit within its own subtree), what a
//! sub-matter inherits, the deadline ceiling, the depth limit, the parent's 报办结 waiting for its
//! children, 结转 carrying the children along, and the list filters — with every refusal
//! changing nothing.

use jiff::civil::date;
use taizhang_app::ledger::edit::{MatterEdit, edit_matter};
use taizhang_app::ledger::flow::{self, ExtensionRequest};
use taizhang_app::ledger::list::{MatterQuery, list_matters};
use taizhang_app::ledger::matters::{DeadlineInput, NewMatter};
use taizhang_app::ledger::{create_matter, get_matter};
use taizhang_app::{App, AppError, Caller};
use taizhang_testkit::TestDb;

use crate::support::{Env, code};

/// A running (已交办, then 签收 by `signer` when given) matter led by `unit`, deadline `deadline`.
async fn running(env: &Env, title: &str, unit: i64, deadline: &str, signer: Option<&str>) -> i64 {
    let ducha = env.who("ducha").await;
    let mut m = NewMatter::basic(title, unit, DeadlineInput::Date(deadline.into()));
    m.source_category = "leader_instruction".into();
    m.source_doc = "部长批示〔2026〕7号".into();
    m.lead_leader_id = env.who("buzhang").await.person_id;
    let id = create_matter(&env.app, &ducha, m).await.unwrap();
    flow::submit_matter(&env.app, &ducha, id).await.unwrap();
    flow::approve_matter(&env.app, &ducha, id).await.unwrap();
    if let Some(s) = signer {
        flow::sign_for(&env.app, &env.who(s).await, id)
            .await
            .unwrap();
    }
    id
}

fn sub(title: &str, parent: i64, unit: i64, deadline: &str) -> NewMatter {
    NewMatter::sub(title, parent, unit, DeadlineInput::Date(deadline.into()))
}

async fn children(app: &App, who: &Caller, id: i64) -> Vec<String> {
    get_matter(app, who, id)
        .await
        .unwrap()
        .children
        .into_iter()
        .map(|k| k.row.number)
        .collect()
}

/// Take a matter from 草稿 to 已办结.
async fn finish(env: &Env, id: i64, head: &str) {
    let ducha = env.who("ducha").await;
    let head = env.who(head).await;
    flow::submit_matter(&env.app, &ducha, id).await.unwrap();
    flow::approve_matter(&env.app, &ducha, id).await.unwrap();
    flow::sign_for(&env.app, &head, id).await.unwrap();
    flow::report_completion(&env.app, &head, id, "已完成")
        .await
        .unwrap();
    flow::review_completion(&env.app, &ducha, id, true, "")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_running_matter_is_broken_down_and_the_sub_matter_inherits() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let unit1 = env.unit_of("chuzhang1").await;
        let unit2 = env.unit_of("chuzhang2").await;
        let pid = running(&env, "年度干部培训计划", unit1, "2026-06-30", None).await;
        let kid = create_matter(app, &ducha, sub("第一批培训班", pid, unit2, "2026-04-30"))
            .await
            .unwrap();
        let parent = get_matter(app, &ducha, pid).await.unwrap();
        let k = get_matter(app, &ducha, kid).await.unwrap();
        let m = &k.matter.row;
        assert_eq!(m.parent_id, Some(pid), "{b}");
        assert_eq!(m.year, parent.matter.row.year, "{b}");
        assert_eq!(m.source_category, "leader_instruction", "{b}: inherited");
        assert_eq!(m.source_doc, "部长批示〔2026〕7号", "{b}: inherited");
        assert_eq!(m.lead_leader_id, parent.matter.row.lead_leader_id, "{b}");
        assert_eq!(m.status, "draft", "{b}");
        let p = k.parent.clone().unwrap();
        assert_eq!(
            (p.id, p.number.as_str(), p.title.as_deref()),
            (
                pid,
                parent.matter.row.number.as_str(),
                Some("年度干部培训计划")
            ),
            "{b}"
        );
        assert_eq!(parent.children.len(), 1, "{b}");
        assert_eq!(parent.children[0].row.id, kid, "{b}");
        // The actions: 新建子事项 on the parent, not on the sub-matter.
        let codes = |d: &taizhang_app::ledger::MatterDetail| -> Vec<&str> {
            taizhang_app::ledger::actions::actions_for(&ducha, d)
                .iter()
                .map(|a| a.code)
                .collect()
        };
        assert!(codes(&parent).contains(&"new_sub"), "{b}");
        assert!(!codes(&k).contains(&"new_sub"), "{b}");
        assert!(codes(&k).contains(&"edit"), "{b}");

        // The list: only the children of the parent; only top-level matters.
        let q = MatterQuery {
            parent_id: Some(pid),
            ..Default::default()
        };
        let page = list_matters(app, &ducha, &q).await.unwrap();
        assert_eq!(
            page.rows.iter().map(|v| v.row.id).collect::<Vec<_>>(),
            [kid],
            "{b}"
        );
        let q = MatterQuery {
            top_only: true,
            ..Default::default()
        };
        let page = list_matters(app, &ducha, &q).await.unwrap();
        assert!(page.rows.iter().all(|v| v.row.parent_id.is_none()), "{b}");
        assert!(page.rows.iter().any(|v| v.row.id == pid), "{b}");
    }
}

#[tokio::test]
async fn a_unit_breaks_down_its_own_matter_within_its_subtree_only() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let jinan = env.who("jinan").await;
        let lixia = env.unit_of("lixia").await;
        let qingdao = env.unit_of("qingdao").await;
        let pid = running(
            &env,
            "基层党建示范点建设",
            jinan.unit_id,
            "2026-06-30",
            Some("jinan"),
        )
        .await;
        // Into its own subtree: allowed; the liaison may edit its own draft.
        let kid = create_matter(app, &jinan, sub("历下区示范点", pid, lixia, "2026-05-29"))
            .await
            .unwrap();
        edit_matter(
            app,
            &jinan,
            kid,
            1,
            MatterEdit {
                title: Some("历下区示范点建设".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        // Another city, or a matter of another unit: refused, nothing created.
        let r = create_matter(app, &jinan, sub("青岛示范点", pid, qingdao, "2026-05-29")).await;
        assert!(
            matches!(r, Err(AppError::NotFound(_) | AppError::Forbidden)),
            "{b}: {r:?}"
        );
        let unit1 = env.unit_of("chuzhang1").await;
        let other = running(&env, "干部一处的事项", unit1, "2026-06-30", None).await;
        let r = create_matter(app, &jinan, sub("越权分解", other, lixia, "2026-05-29")).await;
        assert!(matches!(r, Err(AppError::NotFound(_))), "{b}: {r:?}");
        let worker = env.who("jingban1").await;
        let r = create_matter(app, &worker, sub("经办人分解", other, unit1, "2026-05-29")).await;
        assert!(
            matches!(r, Err(AppError::NotFound(_) | AppError::Forbidden)),
            "{b}: {r:?}"
        );
        assert_eq!(children(app, &ducha, pid).await.len(), 1, "{b}");
        assert!(children(app, &ducha, other).await.is_empty(), "{b}");
        // Once 督查室 has assigned it, the liaison no longer edits it.
        flow::submit_matter(app, &ducha, kid).await.unwrap();
        flow::approve_matter(app, &ducha, kid).await.unwrap();
        let v = get_matter(app, &ducha, kid)
            .await
            .unwrap()
            .matter
            .row
            .version;
        let r = edit_matter(
            app,
            &jinan,
            kid,
            v,
            MatterEdit {
                title: Some("再改".into()),
                ..Default::default()
            },
        )
        .await;
        assert!(matches!(r, Err(AppError::Forbidden)), "{b}: {r:?}");
    }
}

#[tokio::test]
async fn sub_matters_are_refused_too_deep_under_a_parent_not_running_or_due_later() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let unit1 = env.unit_of("chuzhang1").await;
        let pid = running(&env, "父事项", unit1, "2026-04-30", None).await;
        let kid = create_matter(app, &ducha, sub("子事项", pid, unit1, "2026-04-10"))
            .await
            .unwrap();
        let draft = env.new_matter("草稿事项", "2026-04-30").await;
        let count = || async {
            let mut c = app.store.read().await.unwrap();
            taizhang_store::matters::query_count(
                &mut c,
                "SELECT COUNT(*) FROM matters m".into(),
                &[],
            )
            .await
            .unwrap()
        };
        let before = count().await;
        let cases = [
            (sub("孙事项", kid, unit1, "2026-04-01"), "depth_limit"),
            (
                sub("草稿下的子事项", draft, unit1, "2026-04-01"),
                "parent_not_running",
            ),
            (
                sub("晚于父事项", pid, unit1, "2026-05-08"),
                "deadline_after_parent",
            ),
            (
                NewMatter::sub("没有时限", pid, unit1, DeadlineInput::None),
                "deadline_after_parent",
            ),
            (
                NewMatter::sub("工作日数过长", pid, unit1, DeadlineInput::WorkingDays(60)),
                "deadline_after_parent",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(code(create_matter(app, &ducha, input).await), want, "{b}");
        }
        let r = create_matter(app, &ducha, sub("无此父事项", 999_999, unit1, "2026-04-01")).await;
        assert!(matches!(r, Err(AppError::NotFound(_))), "{b}: {r:?}");
        assert_eq!(count().await, before, "{b}: nothing created");
        // A 子事项 may not be edited past its parent's deadline either.
        let r = edit_matter(
            app,
            &ducha,
            kid,
            1,
            MatterEdit {
                deadline: Some(DeadlineInput::Date("2026-05-20".into())),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(code(r), "deadline_after_parent", "{b}");
        // A 子事项 assigned later with N working days: checked again at 交办.
        let late = create_matter(
            app,
            &ducha,
            NewMatter::sub("交办时再查", pid, unit1, DeadlineInput::WorkingDays(30)),
        )
        .await
        .unwrap();
        flow::submit_matter(app, &ducha, late).await.unwrap();
        env.set_day(date(2026, 4, 1));
        assert_eq!(
            code(flow::approve_matter(app, &ducha, late).await),
            "deadline_after_parent",
            "{b}"
        );
        assert_eq!(
            get_matter(app, &ducha, late)
                .await
                .unwrap()
                .matter
                .row
                .status,
            "pending_approval",
            "{b}"
        );
        // 延期 of a 子事项 past its parent's deadline is not approved.
        flow::submit_matter(app, &ducha, kid).await.unwrap();
        flow::approve_matter(app, &ducha, kid).await.unwrap();
        let head = env.who("chuzhang1").await;
        flow::sign_for(app, &head, kid).await.unwrap();
        let ext = ExtensionRequest {
            reason: "等待批复".into(),
            current_progress: String::new(),
            proposed_deadline: "2026-05-15".into(),
        };
        flow::request_extension(app, &head, kid, ext).await.unwrap();
        assert_eq!(
            code(flow::decide_extension(app, &ducha, kid, true, None, "同意").await),
            "deadline_after_parent",
            "{b}"
        );
        flow::decide_extension(
            app,
            &ducha,
            kid,
            true,
            Some("2026-04-30"),
            "同意至父事项时限",
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn the_parent_reports_completion_only_after_its_sub_matters() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let head = env.who("chuzhang1").await;
        let unit1 = head.unit_id;
        let pid = running(
            &env,
            "等子事项办结的父事项",
            unit1,
            "2026-06-30",
            Some("chuzhang1"),
        )
        .await;
        let open = create_matter(app, &ducha, sub("进行中的子事项", pid, unit1, "2026-05-29"))
            .await
            .unwrap();
        let _draft = create_matter(app, &ducha, sub("只是草稿", pid, unit1, "2026-05-29"))
            .await
            .unwrap();
        flow::submit_matter(app, &ducha, open).await.unwrap();
        flow::approve_matter(app, &ducha, open).await.unwrap();
        let open_number = get_matter(app, &ducha, open)
            .await
            .unwrap()
            .matter
            .row
            .number;
        let before = get_matter(app, &ducha, pid).await.unwrap();
        match flow::report_completion(app, &head, pid, "已完成").await {
            Err(AppError::Invalid { code, message, .. }) => {
                assert_eq!(code, "children_open", "{b}");
                assert!(message.contains(&open_number), "{b}: {message}");
                assert!(
                    !message.contains("只是草稿"),
                    "{b}: a draft does not hold: {message}"
                );
            }
            other => panic!("{b}: {other:?}"),
        }
        let after = get_matter(app, &ducha, pid).await.unwrap();
        assert_eq!(
            (
                after.matter.row.status.as_str(),
                after.matter.row.version,
                after.events.len()
            ),
            (
                before.matter.row.status.as_str(),
                before.matter.row.version,
                before.events.len()
            ),
            "{b}: nothing changed"
        );
        flow::sign_for(app, &head, open).await.unwrap();
        flow::report_completion(app, &head, open, "已完成")
            .await
            .unwrap();
        flow::review_completion(app, &ducha, open, true, "")
            .await
            .unwrap();
        flow::report_completion(app, &head, pid, "子事项均已办结")
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn carrying_a_parent_over_takes_its_open_sub_matters_along_and_the_year_closes() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 12, 1), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let unit1 = env.unit_of("chuzhang1").await;
        let pid = running(&env, "跨年度父事项", unit1, "2026-12-31", Some("chuzhang1")).await;
        let open = create_matter(app, &ducha, sub("未完成子事项", pid, unit1, "2026-12-25"))
            .await
            .unwrap();
        flow::submit_matter(app, &ducha, open).await.unwrap();
        flow::approve_matter(app, &ducha, open).await.unwrap();
        let done = create_matter(app, &ducha, sub("已完成子事项", pid, unit1, "2026-12-25"))
            .await
            .unwrap();
        finish(&env, done, "chuzhang1").await;
        flow::close_out(app, &ducha, done).await.unwrap();

        // A sub-matter alone goes with its parent.
        let v = get_matter(app, &ducha, open)
            .await
            .unwrap()
            .matter
            .row
            .version;
        assert_eq!(
            code(flow::carry_over(app, &ducha, open, "跨年").await),
            "carry_with_parent",
            "{b}"
        );
        assert_eq!(
            get_matter(app, &ducha, open)
                .await
                .unwrap()
                .matter
                .row
                .version,
            v,
            "{b}: nothing changed"
        );

        let new_pid = flow::carry_over(app, &ducha, pid, "跨年度实施")
            .await
            .unwrap();
        let np = get_matter(app, &ducha, new_pid).await.unwrap();
        assert_eq!(np.matter.row.year, 2027, "{b}");
        assert_eq!(
            np.children.len(),
            1,
            "{b}: only the open sub-matter goes along"
        );
        let nk = &np.children[0].row;
        assert_eq!(
            (
                nk.year,
                nk.carried_from_id,
                nk.status.as_str(),
                nk.title.as_str()
            ),
            (2027, Some(open), "assigned", "未完成子事项"),
            "{b}"
        );
        let old = get_matter(app, &ducha, open).await.unwrap();
        assert_eq!(old.matter.row.status, "carried_over", "{b}");
        assert_eq!(old.events.last().unwrap().kind, "carry_over", "{b}");
        assert_eq!(
            get_matter(app, &ducha, done)
                .await
                .unwrap()
                .matter
                .row
                .status,
            "closed",
            "{b}"
        );
        // Every matter of 2026 has ended: the year closes.
        let report = taizhang_app::ledger::year::close_year(app, &Caller::system("test"), 2026)
            .await
            .unwrap();
        assert_eq!((report.carried_over, report.closed), (2, 1), "{b}");
    }
}
