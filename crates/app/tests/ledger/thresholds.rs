//! 按类别配置预警阈值: a category's own row changes its lights (and only its own), the list's
//! light filter stays exact with the widest window, a second node sees the change at once, bad
//! rows are refused and change nothing, and only an administrator may change them (audited).

use jiff::civil::date;
use taizhang_app::ledger::list::{MatterQuery, list_matters};
use taizhang_app::ledger::matters::{DeadlineInput, NewMatter};
use taizhang_app::ledger::thresholds::{set_thresholds, thresholds};
use taizhang_app::ledger::{create_matter, flow, get_matter};
use taizhang_app::{App, AppError, AppSettings, Caller};
use taizhang_domain::light::{Light, LightRules, LightTable};
use taizhang_domain::matter::SourceCategory;
use taizhang_store::Store;
use taizhang_testkit::TestDb;

use crate::support::{Env, code};

fn rules(n: u32, yellow: u8, red: u8) -> LightRules {
    LightRules {
        yellow_within_workdays: n,
        lag_yellow_points: yellow,
        lag_red_points: red,
    }
}

async fn light_of(app: &App, who: &Caller, id: i64) -> Light {
    get_matter(app, who, id).await.unwrap().matter.light
}

async fn yellow_ids(app: &App, who: &Caller) -> Vec<i64> {
    let q = MatterQuery {
        light: Some("yellow".into()),
        per_page: 200,
        ..Default::default()
    };
    list_matters(app, who, &q)
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(|v| v.row.id)
        .collect()
}

#[tokio::test]
async fn a_category_row_changes_its_lights_on_every_node_and_the_light_filter_stays_exact() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let admin = env.who("admin").await;
        let unit = env.unit_of("chuzhang1").await;
        // A second application node on the same database, its caches warmed first.
        let store2 = Store::connect(&db.url).await.unwrap();
        let node2 = App::new(store2, env.clock.clone(), AppSettings::for_tests());
        let mk = |t: &str, source: &str| {
            let mut m = NewMatter::basic(t, unit, DeadlineInput::Date("2026-03-13".into()));
            m.source_category = source.into();
            m
        };
        let instructed = create_matter(app, &ducha, mk("领导批示事项", "leader_instruction"))
            .await
            .unwrap();
        let other = create_matter(app, &ducha, mk("其他来源事项", "other"))
            .await
            .unwrap();
        for id in [instructed, other] {
            flow::submit_matter(app, &ducha, id).await.unwrap();
            flow::approve_matter(app, &ducha, id).await.unwrap();
        }
        // 2026-03-02 → 03-13: 9 working days left; green with the default window of 3.
        assert_eq!(
            light_of(&node2, &ducha, instructed).await,
            Light::Green,
            "{b}"
        );
        assert!(yellow_ids(&node2, &ducha).await.is_empty(), "{b}");

        let mut t = LightTable::default();
        t.set(SourceCategory::LeaderInstruction, Some(rules(10, 5, 20)));
        let changed = set_thresholds(app, &admin, t).await.unwrap();
        assert_eq!(changed.len(), 1, "{b}: {changed:?}");
        assert_eq!(thresholds(&node2, &ducha).await.unwrap(), t, "{b}");
        // Node 2 sees the change at its next request; only the category with its own row moves.
        assert_eq!(
            light_of(&node2, &ducha, instructed).await,
            Light::Yellow,
            "{b}"
        );
        assert_eq!(light_of(&node2, &ducha, other).await, Light::Green, "{b}");
        assert_eq!(yellow_ids(&node2, &ducha).await, [instructed], "{b}");
        assert_eq!(yellow_ids(app, &ducha).await, [instructed], "{b}");

        // Back to the defaults.
        set_thresholds(app, &admin, LightTable::default())
            .await
            .unwrap();
        assert_eq!(
            light_of(&node2, &ducha, instructed).await,
            Light::Green,
            "{b}"
        );
        let mut c = app.store.read().await.unwrap();
        let q = taizhang_store::audit::AuditQuery {
            action: Some("settings.light_thresholds".into()),
            limit: 10,
            ..Default::default()
        };
        let rows = taizhang_store::audit::search(&mut c, &q).await.unwrap();
        assert_eq!(rows.len(), 2, "{b}");
        assert!(
            rows.iter()
                .any(|r| r.detail.contains("leader_instruction 默认→10/5/20")),
            "{b}"
        );
    }
}

#[tokio::test]
async fn bad_threshold_rows_are_refused_and_only_an_administrator_changes_them() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let admin = env.who("admin").await;
        let ducha = env.who("ducha").await;
        let mut good = LightTable::default();
        good.set(SourceCategory::MeetingDecision, Some(rules(5, 10, 30)));
        set_thresholds(app, &admin, good).await.unwrap();
        let cases = [
            (rules(3, 30, 30), "threshold_lag_order"),
            (rules(3, 40, 30), "threshold_lag_order"),
            (rules(3, 10, 101), "threshold_lag_range"),
            (rules(251, 10, 30), "threshold_window"),
        ];
        for (row, want) in cases {
            let mut t = good;
            t.set(SourceCategory::PublicDemand, Some(row));
            match set_thresholds(app, &admin, t).await {
                Err(AppError::Invalid { code, field, .. }) => {
                    assert_eq!(code, want, "{b}");
                    assert!(
                        field.unwrap_or_default().starts_with("public_demand_"),
                        "{b}"
                    );
                }
                other => panic!("{b}: {other:?}"),
            }
            let t = LightTable::new(row);
            assert_eq!(
                code(set_thresholds(app, &admin, t).await),
                want,
                "{b}: default row"
            );
            assert_eq!(
                thresholds(app, &admin).await.unwrap(),
                good,
                "{b}: nothing changed"
            );
        }
        // N = 0 (only the deadline day is yellow) is a valid row.
        let mut zero = good;
        zero.set(SourceCategory::Other, Some(rules(0, 0, 1)));
        set_thresholds(app, &admin, zero).await.unwrap();
        // The supervision office reads them but does not change them.
        assert_eq!(thresholds(app, &ducha).await.unwrap(), zero, "{b}");
        assert!(
            matches!(
                set_thresholds(app, &ducha, good).await,
                Err(AppError::Forbidden)
            ),
            "{b}"
        );
        assert_eq!(thresholds(app, &admin).await.unwrap(), zero, "{b}");
    }
}
