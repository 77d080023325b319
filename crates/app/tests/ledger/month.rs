//! Done when (issue 4): on the demo data, the cadences replayed day by day over March 2026 give
//! daily lists, weekly drafts and a monthly snapshot whose numbers match the matters; the year
//! close refuses while matters are open and succeeds once each is closed, stopped or carried.

use std::collections::BTreeSet;

use jiff::civil::{Date, date};
use taizhang_app::ledger::daily::{
    confirm_check_item, daily_check_line, daily_check_list, daily_check_page, run_daily_check,
};
use taizhang_app::ledger::list::{HELD, MatterQuery, list_matters};
use taizhang_app::ledger::progress::ProgressInput;
use taizhang_app::ledger::{flow, monthly, progress, weekly, year};
use taizhang_app::{App, Caller};
use taizhang_domain::period::PeriodKey;
use taizhang_testkit::TestDb;

use crate::support::{Env, code};

async fn total(app: &App, q: MatterQuery) -> i64 {
    list_matters(app, &Caller::system("test"), &q)
        .await
        .unwrap()
        .total
}

fn statuses(s: &[&str]) -> MatterQuery {
    MatterQuery {
        statuses: s.iter().map(|s| (*s).to_owned()).collect(),
        per_page: 200,
        ..Default::default()
    }
}

/// The day's work of 干部一处: sign for one matter, report on one, complete one.
async fn work(env: &Env, unit: i64, moved: &mut BTreeSet<i64>, completed: &mut BTreeSet<i64>) {
    let app = &env.app;
    let (chuzhang, jingban, ducha) = (
        env.who("chuzhang1").await,
        env.who("jingban1").await,
        env.who("ducha").await,
    );
    let mine = |s: &str| MatterQuery {
        unit_id: Some(unit),
        ..statuses(&[s])
    };
    let rows = async |q: MatterQuery| list_matters(app, &chuzhang, &q).await.unwrap().rows;
    if let Some(m) = rows(mine("assigned"))
        .await
        .into_iter()
        .find(|m| m.row.lead_unit_id == unit)
    {
        flow::sign_for(app, &chuzhang, m.row.id).await.unwrap();
    }
    let running: Vec<_> = rows(mine("in_progress"))
        .await
        .into_iter()
        .filter(|m| m.row.lead_unit_id == unit)
        .collect();
    if let Some(m) = running.first() {
        progress::report_progress(
            app,
            &jingban,
            m.row.id,
            ProgressInput {
                body: "本周推进".into(),
                progress: Some(60),
                coordination: "需协调".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        moved.insert(m.row.id);
    }
    if let Some(m) = running.get(1) {
        flow::report_completion(app, &chuzhang, m.row.id, "已落实")
            .await
            .unwrap();
        flow::review_completion(app, &ducha, m.row.id, true, "")
            .await
            .unwrap();
        completed.insert(m.row.id);
    }
}

async fn check_day(env: &Env, d: Date, unit: i64) {
    let (app, b) = (&env.app, env.backend);
    let sys = Caller::system("test");
    let s = run_daily_check(app, &sys, d).await.unwrap();
    let items = daily_check_list(app, &sys, d, None).await.unwrap();
    if !s.workday {
        assert!(
            items.is_empty(),
            "{b} {d}: nothing is checked on a rest day"
        );
        return;
    }
    assert_eq!(items.len(), s.items, "{b} {d}");
    let count =
        |cat: &str| i64::try_from(items.iter().filter(|i| i.category == cat).count()).unwrap();
    assert_eq!(
        count("overdue"),
        total(
            app,
            MatterQuery {
                overdue: true,
                ..Default::default()
            }
        )
        .await,
        "{b} {d}: overdue"
    );
    assert_eq!(
        count("extension_pending"),
        total(app, statuses(&["extension_pending"])).await,
        "{b} {d}"
    );
    assert!(
        count("not_signed_for") <= total(app, statuses(&["assigned"])).await,
        "{b} {d}"
    );
    let chuzhang = env.who("chuzhang1").await;
    let theirs = daily_check_list(app, &chuzhang, d, Some(unit))
        .await
        .unwrap();
    assert!(theirs.iter().all(|i| i.unit_id == unit), "{b} {d}");
    pages_match_the_list(env, d, &items, &theirs).await;
    let desk = taizhang_app::ledger::desk::desk_counts(app, &env.who("ducha").await)
        .await
        .unwrap();
    assert_eq!(desk.overdue, count("overdue"), "{b} {d}: desk overdue");
    assert_eq!(
        desk.to_report,
        count("report_missed"),
        "{b} {d}: desk 待反馈"
    );
    assert_eq!(
        desk.due_soon,
        count("due_soon") + count("due_today"),
        "{b} {d}: desk 即将到期"
    );
    for who in ["ducha", "chuzhang1", "jingban1", "buzhang"] {
        let Ok(caller) = taizhang_app::caller::load_caller_by_username(app, who).await else {
            continue;
        };
        assert_eq!(
            taizhang_app::ledger::desk::desk_counts(app, &caller)
                .await
                .unwrap(),
            taizhang_app::ledger::list::desk_counts(app, &caller)
                .await
                .unwrap(),
            "{b} {d} {who}: the desk's SQL counts are the classification's"
        );
    }
    if let Some(first) = theirs.iter().find(|i| i.confirmed_at.is_none()) {
        confirm_check_item(app, &env.who("jingban1").await, first.id, "followed_up")
            .await
            .unwrap();
        assert_eq!(
            code(confirm_check_item(app, &chuzhang, first.id, "").await),
            "already_confirmed",
            "{b}"
        );
    }
    let again = run_daily_check(app, &sys, d).await.unwrap();
    assert_eq!(
        again.items, s.items,
        "{b} {d}: a replay gives the same list"
    );
}

#[tokio::test]
async fn a_month_of_cadences_matches_the_matters_and_the_year_closes_clean() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 1), true).await;
        let (app, b) = (&env.app, env.backend);
        let sys = Caller::system("test");
        let unit = env.unit_of("chuzhang1").await;
        let cal = taizhang_app::ledger::calendar::current(app).await.unwrap();
        let (mut moved, mut completed) = (BTreeSet::new(), BTreeSet::new());
        let mut d = date(2026, 3, 2);
        while d <= date(2026, 3, 31) {
            env.set_day(d);
            if cal.is_workday(d) {
                work(&env, unit, &mut moved, &mut completed).await;
            }
            check_day(&env, d, unit).await;
            let week = PeriodKey::week_of(d);
            if d == cal
                .prev_workday_on_or_before(week.last_day().unwrap())
                .unwrap()
            {
                let facts = weekly::run_weekly_summary(app, &sys, week, d)
                    .await
                    .unwrap();
                let dept = facts.last().unwrap();
                let ids =
                    |l: &[weekly::Line]| l.iter().map(|x| x.matter_id).collect::<BTreeSet<_>>();
                assert_eq!(ids(&dept.moved), moved, "{b} {week}: moved");
                assert_eq!(ids(&dept.completed), completed, "{b} {week}: completed");
                let red = list_matters(
                    app,
                    &sys,
                    &MatterQuery {
                        light: Some("red".into()),
                        statuses: HELD.iter().map(|s| (*s).into()).collect(),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
                assert_eq!(
                    i64::try_from(dept.stuck.len()).unwrap(),
                    red.total,
                    "{b} {week}: stuck"
                );
                let per_unit: usize = facts[..facts.len() - 1].iter().map(|f| f.moved.len()).sum();
                assert_eq!(per_unit, dept.moved.len(), "{b} {week}");
                let drafts =
                    weekly::list_weekly_summaries(app, &env.who("ducha").await, &week.to_string())
                        .await
                        .unwrap();
                assert_eq!(drafts.len(), facts.len(), "{b} {week}");
                (moved, completed) = (BTreeSet::new(), BTreeSet::new());
            }
            d = d.tomorrow().unwrap();
        }
        let march = PeriodKey::parse("2026-03").unwrap();
        let snap = monthly::take_monthly_snapshot(app, &sys, march, date(2026, 3, 31))
            .await
            .unwrap();
        assert_eq!(
            snap.total,
            total(
                app,
                MatterQuery {
                    year: Some(2026),
                    ..Default::default()
                }
            )
            .await,
            "{b}"
        );
        for (s, n) in &snap.by_status {
            assert_eq!(*n, total(app, statuses(&[s])).await, "{b}: status {s}");
        }
        assert_eq!(
            snap.overdue,
            total(
                app,
                MatterQuery {
                    overdue: true,
                    ..Default::default()
                }
            )
            .await,
            "{b}"
        );
        let by_unit: i64 = snap.by_unit.values().flat_map(|m| m.values()).sum();
        assert_eq!(by_unit, snap.total, "{b}");
        assert!(
            snap.extensions_granted > 0 && !snap.notices_by_color.is_empty(),
            "{b}"
        );
        assert_eq!(
            code(monthly::take_monthly_snapshot(app, &sys, march, date(2026, 3, 31)).await),
            "snapshot_frozen",
            "{b}"
        );
        let ducha = env.who("ducha").await;
        let (_, issue) = monthly::bulletin_from_snapshot(app, &ducha, "2026-03")
            .await
            .unwrap();
        assert_eq!(issue, 1, "{b}: the first 通报 of the year");

        close_the_year(&env).await;
    }
}

async fn close_the_year(env: &Env) {
    let (app, b) = (&env.app, env.backend);
    let ducha = env.who("ducha").await;
    let open = year::open_matters_of_year(app, &ducha, 2026).await.unwrap();
    assert!(!open.is_empty(), "{b}");
    match year::close_year(app, &ducha, 2026).await {
        Err(taizhang_app::AppError::Invalid { code, message, .. }) => {
            assert_eq!(code, "year_open", "{b}");
            assert!(
                message.contains(&open[0].number),
                "{b}: the refusal lists the open matters"
            );
        }
        other => panic!("{b}: expected a refusal, got {other:?}"),
    }
    for (i, m) in open.iter().enumerate() {
        match (m.status.as_str(), i % 2) {
            ("completed", _) => flow::close_out(app, &ducha, m.id).await.unwrap(),
            ("in_progress", 0) => {
                flow::request_stop(app, &ducha, m.id, "年底政策调整")
                    .await
                    .unwrap();
                flow::decide_stop(app, &ducha, m.id, true, "同意")
                    .await
                    .unwrap();
            }
            _ => {
                flow::carry_over(app, &ducha, m.id, "跨年度实施")
                    .await
                    .unwrap();
            }
        }
    }
    let report = year::close_year(app, &ducha, 2026).await.unwrap();
    assert_eq!(report.total, 300, "{b}");
    assert_eq!(
        report.closed + report.stopped + report.carried_over,
        report.total,
        "{b}"
    );
    assert_eq!(
        usize::try_from(report.carried_over).unwrap(),
        report.carried.len(),
        "{b}"
    );
    let any = open[0].id;
    assert_eq!(
        code(flow::reopen(app, &ducha, any, "再看看").await),
        "year_closed",
        "{b}: the year is read-only"
    );
    assert_eq!(
        year::year_report(app, &ducha, 2026).await.unwrap(),
        Some(report),
        "{b}"
    );
}

/// The paged list (what the pages show) is the whole list cut in pages, in the same order, with
/// per-unit counts that add up; a 处长 sees only their scope, by page or by line.
async fn pages_match_the_list(
    env: &Env,
    d: Date,
    all: &[taizhang_store::cadences::CheckItemRow],
    theirs: &[taizhang_store::cadences::CheckItemRow],
) {
    let (app, b) = (&env.app, env.backend);
    let sys = Caller::system("test");
    let mut paged = Vec::new();
    for page in 1.. {
        let p = daily_check_page(app, &sys, d, None, page, 7).await.unwrap();
        assert_eq!(p.total, i64::try_from(all.len()).unwrap(), "{b} {d}");
        assert_eq!(
            p.units.iter().map(|u| u.items).sum::<i64>(),
            p.total,
            "{b} {d}"
        );
        if p.lines.is_empty() {
            break;
        }
        paged.extend(p.lines.into_iter().map(|l| l.item.id));
    }
    let ids: Vec<i64> = all.iter().map(|i| i.id).collect();
    assert_eq!(paged, ids, "{b} {d}: pages in list order, none twice");
    let chuzhang = env.who("chuzhang1").await;
    let mine = daily_check_page(app, &chuzhang, d, None, 1, 1000)
        .await
        .unwrap();
    let scope = daily_check_list(app, &chuzhang, d, None).await.unwrap();
    assert_eq!(
        mine.lines.iter().map(|l| l.item.id).collect::<Vec<_>>(),
        scope.iter().map(|i| i.id).collect::<Vec<_>>(),
        "{b} {d}"
    );
    assert!(
        theirs.iter().all(|t| scope.iter().any(|i| i.id == t.id)),
        "{b} {d}"
    );
    if let Some(other) = all.iter().find(|i| !scope.iter().any(|s| s.id == i.id)) {
        assert!(
            matches!(
                daily_check_line(app, &chuzhang, other.id).await,
                Err(taizhang_app::AppError::Forbidden)
            ),
            "{b} {d}: another unit's line is not theirs to see"
        );
    }
    if let Some(first) = all.first() {
        let l = daily_check_line(app, &sys, first.id).await.unwrap();
        assert_eq!(l.item.id, first.id, "{b} {d}");
        assert!(!l.number.is_empty(), "{b} {d}");
    }
}
