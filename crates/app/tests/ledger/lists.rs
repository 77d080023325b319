//! The ledger list (filters, 2-character search, scope, derived lights, paging), the desk counts
//! and the calendar.

use jiff::civil::date;
use taizhang_app::Caller;
use taizhang_app::ledger::calendar;
use taizhang_app::ledger::list::{MatterQuery, desk_counts, list_matters};
use taizhang_domain::calendar::WorkCalendar;
use taizhang_testkit::TestDb;

use crate::support::Env;

#[tokio::test]
async fn the_list_filters_searches_and_stays_inside_the_callers_scope() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 16), true).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let all = list_matters(app, &ducha, &MatterQuery::default())
            .await
            .unwrap();
        assert_eq!(all.total, 300, "{b}");
        assert_eq!(all.rows.len(), 50, "{b}: default page");

        let q = |s: &str| MatterQuery {
            q: Some(s.into()),
            per_page: 200,
            ..Default::default()
        };
        let hits = list_matters(app, &ducha, &q("干部")).await.unwrap();
        assert!(
            hits.total > 0
                && hits.rows.iter().all(|r| r.row.title.contains("干部")
                    || r.row.content.contains("干部")
                    || r.row.latest_progress.contains("干部")
                    || r.row.number.contains("干部")),
            "{b}"
        );
        assert_eq!(
            list_matters(app, &ducha, &q("%")).await.unwrap().total,
            0,
            "{b}: % is a literal"
        );
        assert_eq!(
            list_matters(app, &ducha, &q("_")).await.unwrap().total,
            0,
            "{b}: _ is a literal"
        );

        let overdue = list_matters(
            app,
            &ducha,
            &MatterQuery {
                overdue: true,
                per_page: 200,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            overdue.total > 0 && overdue.rows.iter().all(|r| r.overdue),
            "{b}"
        );
        let red = list_matters(
            app,
            &ducha,
            &MatterQuery {
                light: Some("red".into()),
                per_page: 200,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            red.total >= overdue.total,
            "{b}: every overdue matter is red"
        );

        let jinan = env.who("jinan").await;
        let theirs = list_matters(
            app,
            &jinan,
            &MatterQuery {
                per_page: 200,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(theirs.total < all.total, "{b}");
        let allowed = [jinan.unit_id];
        for r in &theirs.rows {
            let d = taizhang_app::ledger::get_matter(app, &jinan, r.row.id)
                .await
                .unwrap();
            assert!(
                allowed.contains(&r.row.lead_unit_id)
                    || d.assisting_unit_ids
                        .iter()
                        .any(|u| allowed.contains(u) || jinan.actor.subtree.contains(u))
                    || jinan.actor.subtree.contains(&r.row.lead_unit_id),
                "{b}"
            );
        }

        let by_deadline = list_matters(
            app,
            &ducha,
            &MatterQuery {
                statuses: vec!["in_progress".into()],
                sort: Some("deadline".into()),
                per_page: 200,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let deadlines: Vec<_> = by_deadline
            .rows
            .iter()
            .map(|r| r.row.deadline.clone())
            .collect();
        let mut sorted = deadlines.clone();
        sorted.sort();
        assert_eq!(deadlines, sorted, "{b}");
        // Descending by number is descending by year, then by 序号 within the year.
        let by_number = list_matters(
            app,
            &ducha,
            &MatterQuery {
                sort: Some("number".into()),
                desc: true,
                per_page: 200,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let numbers: Vec<(i64, i64)> = by_number
            .rows
            .iter()
            .map(|r| (r.row.year, r.row.seq))
            .collect();
        let mut want = numbers.clone();
        want.sort_unstable_by(|a, b| b.cmp(a));
        assert!(numbers.len() > 1, "{b}");
        assert_eq!(numbers, want, "{b}");
        assert!(
            list_matters(
                app,
                &ducha,
                &MatterQuery {
                    sort: Some("title; DROP TABLE matters".into()),
                    ..Default::default()
                }
            )
            .await
            .is_err(),
            "{b}"
        );

        let desk = desk_counts(app, &ducha).await.unwrap();
        assert_eq!(desk.overdue, overdue.total, "{b}");
        let assigned = list_matters(
            app,
            &ducha,
            &MatterQuery {
                statuses: vec!["assigned".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(desk.to_sign, assigned.total, "{b}");
    }
}

#[tokio::test]
async fn the_stored_calendar_is_the_official_table_and_counts_working_days() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 16), false).await;
        let (app, b) = (&env.app, env.backend);
        calendar::seed_official(app, &Caller::system("test"))
            .await
            .unwrap();
        let loaded = calendar::current(app).await.unwrap();
        assert_eq!(loaded, WorkCalendar::official(), "{b}");
        let (d, provisional) = calendar::add_workdays(app, date(2026, 2, 12), 3)
            .await
            .unwrap();
        assert_eq!((d, provisional), (date(2026, 2, 24), false), "{b}");
        let (_, provisional) = calendar::add_workdays(app, date(2026, 12, 28), 10)
            .await
            .unwrap();
        assert!(provisional, "{b}: 2027 is not published yet");
        calendar::import(
            app,
            &Caller::system("test"),
            "date,kind,name,notice\n2027-01-01,休,元旦,测试通知\n",
        )
        .await
        .unwrap();
        let (lines, published) = calendar::list_year(app, 2027).await.unwrap();
        assert!(published && lines.len() == 1, "{b}");
        let admin = env.who("jingban1").await;
        assert!(
            calendar::import(app, &admin, "2027-01-02,休,x,y\n")
                .await
                .is_err(),
            "{b}: only an administrator edits the calendar"
        );
    }
}

#[tokio::test]
async fn each_light_filter_returns_exactly_the_matters_of_that_light() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 16), true).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let mut everything = Vec::new();
        for page in 1..=2 {
            let p = list_matters(
                app,
                &ducha,
                &MatterQuery {
                    per_page: 200,
                    page,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            everything.extend(p.rows);
        }
        assert_eq!(everything.len(), 300, "{b}");
        for light in ["red", "yellow", "green", "grey"] {
            let got = list_matters(
                app,
                &ducha,
                &MatterQuery {
                    light: Some(light.into()),
                    per_page: 200,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            let want: Vec<i64> = everything
                .iter()
                .filter(|v| v.light.code() == light)
                .map(|v| v.row.id)
                .collect();
            assert_eq!(got.total as usize, want.len(), "{b}: {light}");
            let mut ids: Vec<i64> = got.rows.iter().map(|v| v.row.id).collect();
            let mut want_sorted = want.clone();
            ids.sort_unstable();
            want_sorted.sort_unstable();
            if want.len() <= 200 {
                assert_eq!(ids, want_sorted, "{b}: {light}");
            }
            // Pages of 7 cut the lit list in list order.
            let mut paged = Vec::new();
            for page in 1.. {
                let p = list_matters(
                    app,
                    &ducha,
                    &MatterQuery {
                        light: Some(light.into()),
                        per_page: 7,
                        page,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
                if p.rows.is_empty() {
                    break;
                }
                assert!(p.rows.iter().all(|v| v.light.code() == light), "{b}");
                paged.extend(p.rows.iter().map(|v| v.row.id));
            }
            assert_eq!(paged, want, "{b}: {light} pages in list order");
        }
    }
}

#[tokio::test]
async fn a_sensitive_matter_is_hidden_below_its_clearance_and_every_read_is_audited() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 16), true).await;
        let (app, b) = (&env.app, env.backend);
        let chu = env.who("chuzhang1").await;
        let mine = list_matters(
            app,
            &chu,
            &MatterQuery {
                per_page: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let id = mine.rows[0].row.id;
        let mut c = app.store.begin().await.unwrap();
        async {
            Ok::<_, taizhang_store::StoreError>(taizhang_store::on!(c, c => sqlx::query(
                "UPDATE matters SET label = 'sensitive' WHERE id = $1")
                .bind(id).execute(&mut *c).await?.rows_affected()))
        }
        .await
        .unwrap();
        c.commit().await.unwrap();
        // 处室负责人 (clearance 普通) no longer sees it, through the list or by id.
        assert!(
            taizhang_app::ledger::get_matter(app, &chu, id)
                .await
                .is_err(),
            "{b}"
        );
        let after = list_matters(
            app,
            &chu,
            &MatterQuery {
                per_page: 200,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(after.rows.iter().all(|v| v.row.id != id), "{b}");
        // 督查专员 (核心) reads it, and the read is in the audit trail.
        let ducha = env.who("ducha").await;
        taizhang_app::ledger::get_matter(app, &ducha, id)
            .await
            .unwrap();
        let mut r = app.store.read().await.unwrap();
        let q = taizhang_store::audit::AuditQuery {
            action: Some("matter.read_restricted".into()),
            object_id: Some(id.to_string()),
            limit: 10,
            ..Default::default()
        };
        assert_eq!(
            taizhang_store::audit::search(&mut r, &q)
                .await
                .unwrap()
                .len(),
            1,
            "{b}"
        );
    }
}

#[tokio::test]
async fn only_the_security_admin_sets_a_matter_label_and_it_takes_effect_everywhere() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 16), true).await;
        let (app, b) = (&env.app, env.backend);
        let chu = env.who("chuzhang1").await;
        let first = list_matters(
            app,
            &chu,
            &MatterQuery {
                per_page: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let (id, number) = (first.rows[0].row.id, first.rows[0].row.number.clone());
        for who in ["ducha", "jijian", "chuzhang1", "admin"] {
            let c = env.who(who).await;
            assert!(
                taizhang_app::org::set_matter_label(app, &c, &number, "core")
                    .await
                    .is_err(),
                "{b}: {who} may not label"
            );
        }
        let anquan = env.who("anquan").await;
        assert!(
            taizhang_app::org::set_matter_label(app, &anquan, "督〔1999〕1号", "core")
                .await
                .is_err(),
            "{b}: unknown number"
        );
        assert!(
            taizhang_app::org::set_matter_label(app, &anquan, &number, "secret")
                .await
                .is_err(),
            "{b}: unknown label"
        );
        assert_eq!(
            taizhang_app::org::set_matter_label(app, &anquan, &number, "core")
                .await
                .unwrap(),
            id
        );
        assert!(
            taizhang_app::ledger::get_matter(app, &chu, id)
                .await
                .is_err(),
            "{b}: 普通 clearance no longer sees it"
        );
        let all = list_matters(
            app,
            &chu,
            &MatterQuery {
                per_page: 200,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(all.rows.iter().all(|v| v.row.id != id), "{b}");
    }
}

#[tokio::test]
async fn pages_read_by_deadline_are_the_whole_sorted_list_cut_in_pages() {
    use taizhang_app::ledger::list::{list_all_matters, list_slice};
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 16), true).await;
        let (app, b) = (&env.app, env.backend);
        for who in ["ducha", "chuzhang1"] {
            let who = env.who(who).await;
            let queries = [
                MatterQuery {
                    overdue: true,
                    ..Default::default()
                },
                MatterQuery {
                    overdue: true,
                    desc: true,
                    ..Default::default()
                },
                MatterQuery {
                    overdue: true,
                    statuses: vec!["in_progress".into(), "completed".into()],
                    ..Default::default()
                },
                MatterQuery {
                    statuses: vec!["in_progress".into(), "assigned".into()],
                    deadline_to: Some("2026-06-30".into()),
                    desc: true,
                    ..Default::default()
                },
                MatterQuery {
                    statuses: vec!["in_progress".into()],
                    ..Default::default()
                },
                // Unbounded, several statuses: runs on the sort key, NULL deadlines last.
                MatterQuery {
                    statuses: vec![
                        "in_progress".into(),
                        "assigned".into(),
                        "completed".into(),
                        "draft".into(),
                    ],
                    ..Default::default()
                },
                MatterQuery {
                    statuses: vec!["in_progress".into(), "assigned".into(), "draft".into()],
                    desc: true,
                    ..Default::default()
                },
                MatterQuery::default(),
            ];
            for q in queries {
                let whole: Vec<i64> = list_all_matters(app, &who, &q)
                    .await
                    .unwrap()
                    .iter()
                    .map(|v| v.row.id)
                    .collect();
                let (mut paged, mut counted) = (Vec::new(), Vec::new());
                for page in 1.. {
                    let q = MatterQuery {
                        page,
                        per_page: 7,
                        ..q.clone()
                    };
                    let slice = list_slice(app, &who, &q).await.unwrap();
                    let full = list_matters(app, &who, &q).await.unwrap();
                    assert_eq!(full.total, whole.len() as i64, "{b} {q:?}");
                    paged.extend(slice.rows.iter().map(|v| v.row.id));
                    counted.extend(full.rows.iter().map(|v| v.row.id));
                    if !slice.more {
                        break;
                    }
                }
                assert_eq!(paged, whole, "{b} {q:?}");
                assert_eq!(counted, whole, "{b} {q:?}");
            }
        }
        // The unit filter (lead or assisting unit, one id set from two indexes) selects exactly
        // the matters that name the unit in either role, in list order.
        let ducha = env.who("ducha").await;
        let every = list_all_matters(app, &ducha, &MatterQuery::default())
            .await
            .unwrap();
        let mut c = app.store.read().await.unwrap();
        let pairs = taizhang_store::matters::assisting_units_of(
            &mut c,
            &every.iter().map(|v| v.row.id).collect::<Vec<_>>(),
        )
        .await
        .unwrap();
        drop(c);
        let assisted: Vec<i64> = pairs.iter().map(|(_, u)| *u).collect();
        let mut units: Vec<i64> = every.iter().map(|v| v.row.lead_unit_id).collect();
        units.extend(assisted);
        units.sort_unstable();
        units.dedup();
        for u in units {
            let expected: Vec<i64> = every
                .iter()
                .filter(|v| v.row.lead_unit_id == u || pairs.contains(&(v.row.id, u)))
                .map(|v| v.row.id)
                .collect();
            let q = MatterQuery {
                unit_id: Some(u),
                ..Default::default()
            };
            let got: Vec<i64> = list_all_matters(app, &ducha, &q)
                .await
                .unwrap()
                .iter()
                .map(|v| v.row.id)
                .collect();
            assert_eq!(got, expected, "{b}: unit {u}");
            let page = list_matters(app, &ducha, &q).await.unwrap();
            assert_eq!(page.total, expected.len() as i64, "{b}: unit {u}");
        }
    }
}
