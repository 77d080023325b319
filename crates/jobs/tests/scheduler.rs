//! The cadence scheduler on both backends: a period runs once (also with two nodes at the same
//! time), missed periods are caught up after downtime, and a period can be replayed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use jiff::civil::date;
use taizhang_app::{App, AppSettings, FixedClock};
use taizhang_jobs::{Kind, Outcome};
use taizhang_store::Store;
use taizhang_testkit::TestDb;

async fn node(url: &str, name: &str, clock: Arc<FixedClock>) -> App {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let mut settings = AppSettings::for_tests();
    settings.node_name = name.into();
    App::new(store, clock, settings)
}

fn ran(v: &[Outcome]) -> Vec<String> {
    v.iter()
        .filter_map(|o| match o {
            Outcome::Ran { period, .. } => Some(period.clone()),
            Outcome::AlreadyClaimed { .. } => None,
        })
        .collect()
}

#[tokio::test]
async fn a_period_runs_once_and_a_replay_runs_it_again() {
    for db in TestDb::both().await {
        let clock = Arc::new(FixedClock::at_date(date(2026, 3, 2)));
        let app = node(&db.url, "a", clock).await;
        taizhang_app::demo::load(&app, "Demo#Pass2026x")
            .await
            .unwrap();
        let d = date(2026, 3, 2);
        assert!(matches!(
            taizhang_jobs::run(&app, Kind::DailyCheck, d, false)
                .await
                .unwrap(),
            Outcome::Ran { .. }
        ));
        assert_eq!(
            taizhang_jobs::run(&app, Kind::DailyCheck, d, false)
                .await
                .unwrap(),
            Outcome::AlreadyClaimed {
                period: "2026-03-02".into()
            },
            "{}",
            db.backend()
        );
        assert!(matches!(
            taizhang_jobs::run(&app, Kind::DailyCheck, d, true)
                .await
                .unwrap(),
            Outcome::Ran { .. }
        ));
        assert!(matches!(
            taizhang_jobs::run(&app, Kind::MonthlyStocktake, d, false)
                .await
                .unwrap(),
            Outcome::Ran { .. }
        ));
        assert!(
            matches!(
                taizhang_jobs::run(&app, Kind::MonthlyStocktake, d, true)
                    .await
                    .unwrap(),
                Outcome::Ran { .. }
            ),
            "{}: a month can be retaken",
            db.backend()
        );
        let err = taizhang_jobs::close_year(&app, 2026, false)
            .await
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("督〔2026〕"),
            "{}: {err:#}",
            db.backend()
        );
        let again = taizhang_jobs::close_year(&app, 2026, false)
            .await
            .unwrap_err();
        assert!(
            format!("{again:#}").contains("督〔2026〕"),
            "{}: a refused close releases its claim",
            db.backend()
        );
    }
}

#[tokio::test]
async fn missed_periods_are_caught_up_in_order_after_downtime() {
    for db in TestDb::both().await {
        let clock = Arc::new(FixedClock::at_date(date(2026, 3, 2)));
        let app = node(&db.url, "a", clock.clone()).await;
        taizhang_app::demo::load(&app, "Demo#Pass2026x")
            .await
            .unwrap();
        assert_eq!(
            ran(&taizhang_jobs::tick(&app, date(2026, 3, 2)).await.unwrap()),
            ["2026-03-02"],
            "{}",
            db.backend()
        );
        let after = ran(&taizhang_jobs::tick(&app, date(2026, 3, 13)).await.unwrap());
        let days: Vec<String> = (3..=13).map(|d| format!("2026-03-{d:02}")).collect();
        let mut expected = days.clone();
        expected.extend(["2026-W10".to_owned(), "2026-W11".to_owned()]);
        assert_eq!(after, expected, "{}", db.backend());
        assert!(
            taizhang_jobs::tick(&app, date(2026, 3, 13))
                .await
                .unwrap()
                .is_empty(),
            "{}",
            db.backend()
        );
        let month_end = ran(&taizhang_jobs::tick(&app, date(2026, 3, 31)).await.unwrap());
        assert!(
            month_end.contains(&"2026-03".to_owned()),
            "{}: {month_end:?}",
            db.backend()
        );
    }
}

#[tokio::test]
async fn two_nodes_ticking_together_run_each_period_once() {
    for db in TestDb::both().await {
        let clock = Arc::new(FixedClock::at_date(date(2026, 3, 2)));
        let a = node(&db.url, "a", clock.clone()).await;
        let b = node(&db.url, "b", clock.clone()).await;
        taizhang_app::demo::load(&a, "Demo#Pass2026x")
            .await
            .unwrap();
        taizhang_jobs::tick(&a, date(2026, 3, 2)).await.unwrap();
        let (ra, rb) = tokio::join!(
            taizhang_jobs::tick(&a, date(2026, 3, 6)),
            taizhang_jobs::tick(&b, date(2026, 3, 6))
        );
        let mut all = ran(&ra.unwrap());
        all.extend(ran(&rb.unwrap()));
        all.sort();
        assert_eq!(
            all,
            [
                "2026-03-03",
                "2026-03-04",
                "2026-03-05",
                "2026-03-06",
                "2026-W10"
            ],
            "{}",
            db.backend()
        );
    }
}
