//! Bad input and wrong steps: a precise refusal naming the rule, and nothing changed.

use jiff::civil::date;
use taizhang_app::AppError;
use taizhang_app::ledger::flow::{self, ExtensionRequest};
use taizhang_app::ledger::matters::{DeadlineInput, NewMatter};
use taizhang_app::ledger::{create_matter, get_matter};
use taizhang_testkit::TestDb;

use crate::support::{Env, code};

#[tokio::test]
async fn each_bad_input_is_refused_with_the_rule_and_changes_nothing() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let unit = env.unit_of("chuzhang1").await;
        let id = env.new_matter("正常事项", "2026-03-10").await;
        let before = get_matter(app, &ducha, id).await.unwrap();

        assert_eq!(
            code(flow::sign_for(app, &ducha, id).await),
            "transition",
            "{b}: a draft cannot be signed for"
        );
        assert_eq!(
            code(flow::reject_matter(app, &ducha, id, "x").await),
            "transition",
            "{b}"
        );
        let after = get_matter(app, &ducha, id).await.unwrap();
        assert_eq!(
            (after.matter.row.version, after.events.len()),
            (before.matter.row.version, before.events.len()),
            "{b}: nothing changed"
        );

        let mk = |t: &str, d: DeadlineInput| NewMatter::basic(t, unit, d);
        assert_eq!(
            code(
                create_matter(
                    app,
                    &ducha,
                    mk("早于今天", DeadlineInput::Date("2026-03-01".into()))
                )
                .await
            ),
            "deadline_before_start",
            "{b}"
        );
        assert_eq!(
            code(
                create_matter(
                    app,
                    &ducha,
                    mk("超出日历", DeadlineInput::Date("2100-01-04".into()))
                )
                .await
            ),
            "date_out_of_range",
            "{b}"
        );
        assert_eq!(
            code(
                create_matter(
                    app,
                    &ducha,
                    mk(&"长".repeat(200 * 1024), DeadlineInput::None)
                )
                .await
            ),
            "title_too_long",
            "{b}"
        );
        assert_eq!(
            code(create_matter(app, &ducha, mk("", DeadlineInput::None)).await),
            "title_empty",
            "{b}"
        );
        assert_eq!(
            code(
                create_matter(
                    app,
                    &ducha,
                    NewMatter::basic("无此单位", 999_999, DeadlineInput::None)
                )
                .await
            ),
            "unit_unknown",
            "{b}"
        );
        {
            let mut c = app.store.begin().await.unwrap();
            taizhang_store::org::update_unit(
                &mut c,
                unit,
                taizhang_store::org::UnitChange::Retire,
                None,
                1,
            )
            .await
            .unwrap();
            c.commit().await.unwrap();
        }
        assert_eq!(
            code(create_matter(app, &ducha, mk("已撤销单位", DeadlineInput::None)).await),
            "unit_retired",
            "{b}"
        );
        assert_eq!(
            code(flow::reject_matter(app, &ducha, id, "  ").await),
            "reason_required",
            "{b}"
        );
        let page = taizhang_app::ledger::list::list_matters(app, &ducha, &Default::default())
            .await
            .unwrap();
        assert_eq!(page.total, 1, "{b}: no refused matter was stored");
    }
}

#[tokio::test]
async fn an_extension_asked_after_the_deadline_is_refused() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let chuzhang = env.who("chuzhang1").await;
        let id = env.new_matter("延期事项", "2026-03-04").await;
        flow::submit_matter(app, &ducha, id).await.unwrap();
        flow::approve_matter(app, &ducha, id).await.unwrap();
        flow::sign_for(app, &chuzhang, id).await.unwrap();
        env.set_day(date(2026, 3, 5));
        let req = ExtensionRequest {
            reason: "来不及".into(),
            current_progress: String::new(),
            proposed_deadline: "2026-03-20".into(),
        };
        assert_eq!(
            code(flow::request_extension(app, &chuzhang, id, req).await),
            "extension_after_deadline",
            "{b}"
        );
        let d = get_matter(app, &ducha, id).await.unwrap();
        assert!(d.extensions.is_empty() && d.matter.overdue, "{b}");
        assert_eq!(d.matter.days_left, Some(-1), "{b}");
    }
}

#[tokio::test]
async fn people_act_only_within_their_role_and_scope() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let id = env.new_matter("干部一处事项", "2026-03-20").await;
        let ducha = env.who("ducha").await;
        flow::submit_matter(app, &ducha, id).await.unwrap();
        let jingban = env.who("jingban1").await;
        assert!(
            matches!(
                flow::approve_matter(app, &jingban, id).await,
                Err(AppError::Forbidden)
            ),
            "{b}: a handler cannot 交办"
        );
        let jinan = env.who("jinan").await;
        assert!(
            matches!(
                get_matter(app, &jinan, id).await,
                Err(AppError::NotFound(_))
            ),
            "{b}: another unit's matter reads as missing"
        );
        let jijian = env.who("jijian").await;
        assert!(
            get_matter(app, &jijian, id).await.is_ok(),
            "{b}: the inspector reads"
        );
        assert!(
            matches!(
                flow::approve_matter(app, &jijian, id).await,
                Err(AppError::Forbidden)
            ),
            "{b}: and writes nothing"
        );
    }
}
