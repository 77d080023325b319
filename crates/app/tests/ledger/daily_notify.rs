//! The daily check's notifications (issue 7 events from issue 4's cadence): a matter that crosses
//! a line today (due today, first day overdue) reaches its unit's targets and its handlers'
//! inboxes and targets, each person's and unit's preferences applied; every unit with items gets
//! its 日清查 note. Written as one batch, so this checks the batch against what one-by-one
//! notification did.

use jiff::civil::date;
use taizhang_app::Caller;
use taizhang_app::ledger::daily::run_daily_check;
use taizhang_app::ledger::flow;
use taizhang_app::notify::{self, DeliveryQuery, NewTarget};
use taizhang_notify::{Channel, EventKind, PreferenceOverrides};
use taizhang_testkit::TestDb;

use crate::support::Env;

#[tokio::test]
async fn matters_crossing_a_line_notify_units_and_handlers_with_their_preferences() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let sys = Caller::system("test");
        let ducha = env.who("ducha").await;
        let chuzhang = env.who("chuzhang1").await;
        let jingban = env.who("jingban1").await;
        let unit = env.unit_of("chuzhang1").await;
        let due_today = env.new_matter("今日到期事项", "2026-03-10").await;
        let overdue = env.new_matter("首日超期事项", "2026-03-09").await;
        let later = env.new_matter("远期事项", "2026-06-30").await;
        for id in [due_today, overdue, later] {
            flow::submit_matter(app, &ducha, id).await.unwrap();
            flow::approve_matter(app, &ducha, id).await.unwrap();
            flow::sign_for(app, &chuzhang, id).await.unwrap();
        }
        let target = |scope: &str, scope_id: i64, address: &str| NewTarget {
            scope: scope.into(),
            scope_id,
            kind: "email".into(),
            address: address.into(),
            secret: None,
        };
        let unit_box =
            notify::save_target(app, &sys, target("unit", unit, "ganbu1@example.gov.cn"))
                .await
                .unwrap();
        let person = jingban.person_id.unwrap();
        let own_box = notify::save_target(
            app,
            &sys,
            target("person", person, "jingban1@example.gov.cn"),
        )
        .await
        .unwrap();
        // 经办人 wants overdue notices in the inbox only.
        let mut mine = PreferenceOverrides::default();
        mine.channels
            .insert(EventKind::Overdue, [Channel::Inbox].into_iter().collect());
        notify::set_my_prefs(app, &jingban, &mine).await.unwrap();

        env.set_day(date(2026, 3, 10));
        let s = run_daily_check(app, &sys, date(2026, 3, 10)).await.unwrap();
        assert!(s.items >= 2, "{b}: {s:?}");

        let inbox = notify::inbox(app, &jingban, false, None, 200)
            .await
            .unwrap();
        let mut lines: Vec<(String, Option<i64>)> = inbox
            .iter()
            .filter(|l| l.event_kind != EventKind::Assigned.as_str())
            .map(|l| (l.event_kind.clone(), l.matter_id))
            .collect();
        lines.sort();
        let mut want = vec![
            (EventKind::DueSoon.as_str().to_owned(), Some(due_today)),
            (EventKind::Overdue.as_str().to_owned(), Some(overdue)),
        ];
        want.sort();
        assert_eq!(lines, want, "{b}: the handler hears of both, once each");

        let sent = async |t: i64| {
            let q = DeliveryQuery {
                status: None,
                target_id: Some(t),
                before: None,
                limit: 200,
            };
            let mut v: Vec<(String, Option<i64>)> = notify::deliveries(app, &sys, &q)
                .await
                .unwrap()
                .into_iter()
                .map(|o| (o.event_kind, o.matter_id))
                .collect();
            v.sort();
            v
        };
        let mut unit_want = vec![
            (EventKind::DueSoon.as_str().to_owned(), Some(due_today)),
            (EventKind::Overdue.as_str().to_owned(), Some(overdue)),
            (EventKind::DailyCheckReady.as_str().to_owned(), None),
        ];
        unit_want.sort();
        assert_eq!(sent(unit_box).await, unit_want, "{b}: the unit's mailbox");
        assert_eq!(
            sent(own_box).await,
            vec![(EventKind::DueSoon.as_str().to_owned(), Some(due_today))],
            "{b}: the person's own mailbox, without the overdue notice they turned off"
        );
    }
}
