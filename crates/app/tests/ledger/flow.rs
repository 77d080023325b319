//! The closed loop 建立台账 → 督办落实 → 定期报告 → 跟踪问效, step by step, by the people who
//! do each step; every step is on the timeline and in the audit trail.

use jiff::civil::date;
use taizhang_app::ledger::escalation::{EffectInput, NoticeInput};
use taizhang_app::ledger::flow::ExtensionRequest;
use taizhang_app::ledger::progress::ProgressInput;
use taizhang_app::ledger::{escalation, flow, get_matter, progress};
use taizhang_domain::light::Light;
use taizhang_testkit::TestDb;

use crate::support::{Env, code};

#[tokio::test]
async fn a_matter_runs_the_whole_loop_and_every_step_is_stamped() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 2, 12), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let chuzhang = env.who("chuzhang1").await;
        let jingban = env.who("jingban1").await;
        let id = env.new_matter("干部教育培训规划落实", "2026-03-20").await;
        let d = get_matter(app, &ducha, id).await.unwrap();
        assert_eq!(d.matter.row.number, "督〔2026〕1号", "{b}");
        assert_eq!(d.matter.light, Light::Grey, "{b}: a draft has no light");

        flow::submit_matter(app, &ducha, id).await.unwrap();
        flow::approve_matter(app, &ducha, id).await.unwrap();
        flow::sign_for(app, &chuzhang, id).await.unwrap();
        let rid = progress::report_progress(
            app,
            &jingban,
            id,
            ProgressInput {
                body: "方案已起草".into(),
                progress: Some(30),
                coordination: "需财政保障".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        progress::review_progress(app, &ducha, rid, true, "")
            .await
            .unwrap();
        let ext = ExtensionRequest {
            reason: "需多部门会签".into(),
            current_progress: "方案已起草".into(),
            proposed_deadline: "2026-04-10".into(),
        };
        flow::request_extension(app, &chuzhang, id, ext)
            .await
            .unwrap();
        flow::decide_extension(app, &ducha, id, true, None, "部长批示同意")
            .await
            .unwrap();
        escalation::urge(app, &ducha, id, "电话", "请加快")
            .await
            .unwrap();
        assert_eq!(
            code(escalation::urge(app, &ducha, id, "电话", "再催").await),
            "urge_too_soon",
            "{b}"
        );
        let (nid, number) = escalation::issue_notice(
            app,
            &ducha,
            id,
            NoticeInput {
                color: "blue".into(),
                reason: "进度滞后".into(),
                requirement: "书面说明".into(),
                due_on: "2026-02-27".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(number, "督办〔2026〕1号", "{b}");
        escalation::answer_notice(app, &chuzhang, nid, "已召开专题会推进")
            .await
            .unwrap();
        flow::report_completion(app, &chuzhang, id, "规划已印发")
            .await
            .unwrap();
        flow::review_completion(app, &ducha, id, true, "")
            .await
            .unwrap();
        escalation::review_effect(
            app,
            &ducha,
            id,
            EffectInput {
                rating: "good".into(),
                evidence: "印发文件".into(),
                comment: "".into(),
                lookback_on: Some("2026-06-30".into()),
            },
        )
        .await
        .unwrap();
        flow::close_out(app, &ducha, id).await.unwrap();
        flow::reopen(app, &ducha, id, "回头看发现培训未覆盖县级")
            .await
            .unwrap();

        let d = get_matter(app, &ducha, id).await.unwrap();
        assert_eq!(d.matter.row.status, "in_progress", "{b}");
        assert_eq!(
            d.matter.row.original_deadline.as_deref(),
            Some("2026-03-20"),
            "{b}: the original deadline is kept"
        );
        assert_eq!(d.matter.row.deadline.as_deref(), Some("2026-04-10"), "{b}");
        assert_eq!(d.matter.row.latest_progress, "方案已起草", "{b}");
        let kinds: Vec<&str> = d.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "create",
                "submit",
                "approve",
                "sign_for",
                "report_progress",
                "accept_progress",
                "request_extension",
                "approve_extension",
                "urge",
                "issue_notice",
                "answer_notice",
                "report_completion",
                "approve_completion",
                "review_effect",
                "close_out",
                "reopen"
            ],
            "{b}"
        );
        assert!(
            d.events.iter().all(|e| e.actor_id.is_some()),
            "{b}: every step names who"
        );
        assert_eq!(
            (
                d.reports.len(),
                d.extensions.len(),
                d.urges.len(),
                d.notices.len(),
                d.effects.len()
            ),
            (1, 1, 1, 1, 1),
            "{b}"
        );
        assert_eq!(d.extensions[0].status, "approved", "{b}");
        assert_eq!(
            d.notices[0].reply.as_deref(),
            Some("已召开专题会推进"),
            "{b}"
        );
        assert!(
            taizhang_app::audit::verify(app).await.unwrap().is_ok(),
            "{b}: the audit chain holds"
        );
    }
}

#[tokio::test]
async fn a_deadline_in_working_days_is_resolved_at_assignment_over_the_spring_festival() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 2, 12), false).await;
        let ducha = env.who("ducha").await;
        let unit = env.unit_of("chuzhang1").await;
        let m = taizhang_app::ledger::NewMatter::basic(
            "春节前交办事项",
            unit,
            taizhang_app::ledger::matters::DeadlineInput::WorkingDays(3),
        );
        let id = taizhang_app::ledger::create_matter(&env.app, &ducha, m)
            .await
            .unwrap();
        flow::submit_matter(&env.app, &ducha, id).await.unwrap();
        flow::approve_matter(&env.app, &ducha, id).await.unwrap();
        let d = get_matter(&env.app, &ducha, id).await.unwrap();
        assert_eq!(
            d.matter.row.deadline.as_deref(),
            Some("2026-02-24"),
            "{}: 02-13, 02-14 班, 02-24",
            env.backend
        );
        assert_eq!(d.matter.light, Light::Yellow, "{}", env.backend);
    }
}

#[tokio::test]
async fn carrying_over_continues_the_matter_in_the_next_year_with_a_link() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 12, 28), false).await;
        let ducha = env.who("ducha").await;
        let id = env.new_matter("跨年事项", "2027-01-20").await;
        flow::submit_matter(&env.app, &ducha, id).await.unwrap();
        flow::approve_matter(&env.app, &ducha, id).await.unwrap();
        let new_id = flow::carry_over(&env.app, &ducha, id, "跨年度实施")
            .await
            .unwrap();
        let old = get_matter(&env.app, &ducha, id).await.unwrap();
        let new = get_matter(&env.app, &ducha, new_id).await.unwrap();
        assert_eq!(old.matter.row.status, "carried_over", "{}", env.backend);
        assert_eq!(new.matter.row.year, 2027, "{}", env.backend);
        assert_eq!(new.matter.row.number, "督〔2027〕1号", "{}", env.backend);
        assert_eq!(new.matter.row.carried_from_id, Some(id), "{}", env.backend);
        assert_eq!(new.matter.row.status, "assigned", "{}", env.backend);
        assert_eq!(
            old.carried_to,
            vec![(new_id, "督〔2027〕1号".to_owned())],
            "{}",
            env.backend
        );
    }
}
