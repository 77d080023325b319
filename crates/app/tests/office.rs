//! Excel and Word wired to the ledger, on SQLite and PostgreSQL: the import dry run, the
//! all-or-nothing apply, re-import as update, name matching with suggestions, the export →
//! import round trip, and the report downloads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "ledger/support.rs"]
#[allow(dead_code)]
mod support;

use std::io::Read;

use jiff::civil::date;
use taizhang_app::Caller;
use taizhang_app::ledger::list::{MatterQuery, list_matters};
use taizhang_app::office_io::{
    ExportFormat, ImportOptions, ReportFormat, RowAction, export_ledger, import_ledger,
};
use taizhang_testkit::TestDb;

use support::Env;

const HEADER: &str = "序号,事项名称,具体要求,任务来源,牵头领导,牵头单位,配合单位,完成时限,细化时间节点,进展情况,完成情况,备注";

/// A CSV ledger: one line per `(title, unit, deadline, milestones)`.
fn ledger_csv(rows: &[(&str, &str, &str, &str)]) -> Vec<u8> {
    let mut s = String::from("\u{feff}");
    s.push_str(HEADER);
    s.push_str("\r\n");
    for (i, (title, unit, deadline, ms)) in rows.iter().enumerate() {
        s.push_str(&format!(
            "{},{title},按要求推进,会议议定,王宇,{unit},干部二处、人才处,{deadline},\"{ms}\",正在推进,办理中,\r\n",
            i + 1
        ));
    }
    s.into_bytes()
}

fn standard() -> Vec<u8> {
    ledger_csv(&[
        (
            "完善年轻干部选育机制",
            "干部一处",
            "2026年6月30日",
            "2026-04-30 完成调研\n2026-06-15 形成制度稿",
        ),
        ("推进人才飞地建设", "人才工作处", "2026.9.30", ""),
        ("加强党员教育管理", "组织一处", "长期坚持", ""),
    ])
}

async fn total(env: &Env) -> i64 {
    list_matters(&env.app, &Caller::system("t"), &MatterQuery::default())
        .await
        .unwrap()
        .total
}

#[tokio::test]
async fn a_dry_run_changes_nothing_and_applying_creates_the_matters_and_milestones() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 16), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let opts = ImportOptions::default();
        let dry = import_ledger(app, &ducha, &standard(), "台账.csv", &opts, None, true)
            .await
            .unwrap();
        assert!(!dry.applied, "{b}");
        assert_eq!((dry.summary.matters, dry.summary.milestones), (3, 2), "{b}");
        assert_eq!(dry.summary.no_fixed_deadline, 1, "{b}");
        assert!(
            dry.summary.refused.is_empty(),
            "{b}: {:?}",
            dry.summary.refused
        );
        assert!(
            dry.rows.iter().all(|r| r.action == RowAction::Create),
            "{b}"
        );
        assert_eq!(total(&env).await, 0, "{b}: a dry run writes nothing");

        let done = import_ledger(app, &ducha, &standard(), "台账.csv", &opts, None, false)
            .await
            .unwrap();
        assert!(done.applied, "{b}");
        assert_eq!(done.created, 3, "{b}");
        let page = list_matters(app, &ducha, &MatterQuery::default())
            .await
            .unwrap();
        assert_eq!(page.total, 3, "{b}");
        let first = page
            .rows
            .iter()
            .find(|r| r.row.title == "完善年轻干部选育机制")
            .unwrap();
        assert_eq!(first.row.status, "in_progress", "{b}");
        assert_eq!(first.row.deadline.as_deref(), Some("2026-06-30"), "{b}");
        assert_eq!(first.row.latest_progress, "正在推进", "{b}");
        let detail = taizhang_app::ledger::get_matter(app, &ducha, first.row.id)
            .await
            .unwrap();
        assert_eq!(detail.milestones.len(), 2, "{b}");
        assert_eq!(detail.assisting_unit_ids.len(), 2, "{b}");
        assert!(detail.events.iter().any(|e| e.kind == "import"), "{b}");
        let long = page
            .rows
            .iter()
            .find(|r| r.row.title == "加强党员教育管理")
            .unwrap();
        assert_eq!(long.row.deadline_kind, "none", "{b}");
    }
}

#[tokio::test]
async fn reimporting_the_same_file_updates_instead_of_duplicating() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 16), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let opts = ImportOptions::default();
        import_ledger(app, &ducha, &standard(), "台账.csv", &opts, None, false)
            .await
            .unwrap();
        let again = import_ledger(app, &ducha, &standard(), "台账.csv", &opts, None, false)
            .await
            .unwrap();
        assert_eq!((again.created, again.unchanged), (0, 3), "{b}");
        let changed = ledger_csv(&[(
            "完善年轻干部选育机制",
            "干部一处",
            "2026年7月31日",
            "2026-04-30 完成调研",
        )]);
        let upd = import_ledger(app, &ducha, &changed, "台账.csv", &opts, None, true)
            .await
            .unwrap();
        assert_eq!(upd.rows[0].action, RowAction::Update, "{b}");
        assert!(
            upd.rows[0].notes.iter().any(|n| n.contains("完成时限")),
            "{b}"
        );
        import_ledger(app, &ducha, &changed, "台账.csv", &opts, None, false)
            .await
            .unwrap();
        assert_eq!(total(&env).await, 3, "{b}: no duplicates");
        let q = MatterQuery {
            q: Some("选育".into()),
            ..Default::default()
        };
        let m = &list_matters(app, &ducha, &q).await.unwrap().rows[0];
        assert_eq!(m.row.deadline.as_deref(), Some("2026-07-31"), "{b}");
        let d = taizhang_app::ledger::get_matter(app, &ducha, m.row.id)
            .await
            .unwrap();
        assert_eq!(d.milestones.len(), 1, "{b}");
    }
}

#[tokio::test]
async fn a_file_with_one_bad_row_applies_nothing_and_names_the_row() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 16), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let bytes = ledger_csv(&[
            ("完善年轻干部选育机制", "干部一处", "2026年6月30日", ""),
            ("推进人才飞地建设", "人才工作处", "2026年2月30日", ""),
            ("加强党员教育管理", "组织一处", "2026年8月31日", ""),
        ]);
        let r = import_ledger(
            app,
            &ducha,
            &bytes,
            "台账.csv",
            &ImportOptions::default(),
            None,
            false,
        )
        .await
        .unwrap();
        assert!(!r.applied, "{b}");
        assert_eq!(r.summary.matters, 0, "{b}: nothing was imported");
        assert_eq!(r.summary.refused.len(), 1, "{b}");
        assert_eq!(r.summary.refused[0].row, 3, "{b}: header is row 1");
        assert!(
            r.summary.refused[0].reason.contains("2026年2月30日"),
            "{b}: {:?}",
            r.summary.refused
        );
        assert_eq!(total(&env).await, 0, "{b}");
    }
}

#[tokio::test]
async fn an_unknown_unit_or_leader_is_refused_with_suggestions_and_a_retired_unit_is_named() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 16), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let bytes = ledger_csv(&[
            ("完善年轻干部选育机制", "干部一室", "2026年6月30日", ""),
            ("推进人才飞地建设", " 人 才 工作处 ", "2026年9月30日", ""),
        ]);
        let r = import_ledger(
            app,
            &ducha,
            &bytes,
            "台账.csv",
            &ImportOptions::default(),
            None,
            true,
        )
        .await
        .unwrap();
        assert_eq!(r.summary.refused.len(), 1, "{b}: {:?}", r.summary.refused);
        let why = &r.summary.refused[0].reason;
        assert!(
            why.contains("干部一室") && why.contains("干部一处"),
            "{b}: {why}"
        );
        assert_eq!(
            r.rows[1].action,
            RowAction::Create,
            "{b}: stray spaces match"
        );
        let denied = import_ledger(
            app,
            &env.who("jingban1").await,
            &bytes,
            "台账.csv",
            &ImportOptions::default(),
            None,
            true,
        )
        .await;
        assert!(denied.is_err(), "{b}: a handler may not import");
    }
}

#[tokio::test]
async fn the_demo_ledger_round_trips_through_an_export_and_an_import() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 16), true).await;
        let b = env.backend;
        let sys = Caller::system("t");
        // Drafts not yet 交办 have relative deadlines (N个工作日内) that a ledger cannot carry.
        let q = MatterQuery {
            year: Some(2026),
            statuses: [
                "assigned",
                "in_progress",
                "extension_pending",
                "stop_pending",
            ]
            .into_iter()
            .chain(["completion_pending", "completed", "closed", "stopped"])
            .map(String::from)
            .collect(),
            ..Default::default()
        };
        let xlsx = export_ledger(&env.app, &sys, &q, ExportFormat::Xlsx)
            .await
            .unwrap();
        let before = list_matters(
            &env.app,
            &sys,
            &MatterQuery {
                per_page: 200,
                ..q.clone()
            },
        )
        .await
        .unwrap();

        let db2 = if b == "sqlite" {
            TestDb::sqlite()
        } else {
            TestDb::postgres().await.unwrap()
        };
        let fresh = Env::new(&db2, date(2026, 3, 16), false).await;
        let ducha = fresh.who("ducha").await;
        let r = import_ledger(
            &fresh.app,
            &ducha,
            &xlsx,
            "导出.xlsx",
            &ImportOptions::default(),
            None,
            false,
        )
        .await
        .unwrap();
        assert!(
            r.summary.refused.is_empty(),
            "{b}: {:?}",
            &r.summary.refused[..r.summary.refused.len().min(5)]
        );
        assert!(r.applied, "{b}");
        assert_eq!(i64::try_from(r.created).unwrap(), before.total, "{b}");
        let after = list_matters(
            &fresh.app,
            &sys,
            &MatterQuery {
                per_page: 200,
                ..q.clone()
            },
        )
        .await
        .unwrap();
        assert_eq!(after.total, before.total, "{b}");
        for m in &before.rows {
            let twin = after
                .rows
                .iter()
                .find(|a| a.row.number == m.row.number)
                .unwrap();
            // The office parser writes titles half-width (（） → ()), as it normalizes names.
            assert_eq!(
                taizhang_office::normalize_name(&twin.row.title),
                taizhang_office::normalize_name(&m.row.title),
                "{b}"
            );
            assert_eq!(twin.row.deadline, m.row.deadline, "{b}: {}", m.row.number);
            assert_eq!(twin.row.content, m.row.content, "{b}");
        }
        // Importing the export back into the source database updates nothing twice.
        let back = import_ledger(
            &env.app,
            &env.who("ducha").await,
            &xlsx,
            "导出.xlsx",
            &ImportOptions::default(),
            None,
            true,
        )
        .await
        .unwrap();
        assert_eq!(back.created, 0, "{b}: matched by 编号");
    }
}

#[tokio::test]
async fn an_export_holds_exactly_what_the_callers_list_holds() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 16), true).await;
        let b = env.backend;
        let head = env.who("chuzhang1").await;
        let q = MatterQuery::default();
        let seen = list_matters(&env.app, &head, &q).await.unwrap().total;
        let csv = export_ledger(&env.app, &head, &q, ExportFormat::Csv)
            .await
            .unwrap();
        assert!(csv.starts_with(b"\xEF\xBB\xBF"), "{b}: BOM");
        let text = String::from_utf8(csv[3..].to_vec()).unwrap();
        let mut rdr = csv_rows(&text);
        assert_eq!(i64::try_from(rdr.len()).unwrap() - 1, seen, "{b}");
        rdr.clear();
    }
}

#[tokio::test]
async fn a_streamed_export_of_thousands_of_matters_holds_the_lists_rows_in_the_lists_order() {
    use calamine::{Data, Reader, Xlsx};
    use taizhang_app::bench_seed::{SeedOptions, seed};
    use taizhang_app::ledger::list::list_all_matters;
    use taizhang_app::office_io::{export_ledger_file, export_ledger_to};

    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 6, 15), true).await;
        let b = env.backend;
        seed(
            &env.app,
            &SeedOptions {
                matters: 2_500,
                seed: 7,
                password: "Demo#Pass2026x".into(),
            },
        )
        .await
        .unwrap();
        if b == "sqlite" {
            // The SQLite bulk load does not check references as it writes (PostgreSQL does):
            // every reference it wrote holds.
            let mut c = env.app.store.begin().await.unwrap();
            let broken = async {
                Ok::<_, taizhang_store::StoreError>(taizhang_store::on!(c, c => sqlx::query(
                    "PRAGMA foreign_key_check").fetch_all(&mut *c).await?.len()))
            }
            .await
            .unwrap();
            assert_eq!(broken, 0, "{b}: rows with broken references");
        }
        let sys = Caller::system("t");
        let head = env.who("chuzhang1").await;
        let everything = MatterQuery::default();
        let red_by_number = MatterQuery {
            light: Some("red".into()),
            sort: Some("number".into()),
            desc: true,
            ..Default::default()
        };
        for (who, q, what) in [
            (&sys, &everything, "all"),
            (&head, &everything, "a unit's"),
            (&sys, &red_by_number, "red, by number, descending"),
        ] {
            let listed: Vec<(i64, String, String)> = list_all_matters(&env.app, who, q)
                .await
                .unwrap()
                .into_iter()
                .map(|v| (v.row.year, v.row.number, v.row.title))
                .collect();
            assert!(!listed.is_empty(), "{b} {what}");
            if what == "all" {
                assert!(listed.len() > 2_500, "{b}");
            }

            // CSV: one line per matter in list order.
            let (csv, rows) = export_ledger_to(&env.app, who, q, ExportFormat::Csv, Vec::new())
                .await
                .unwrap();
            assert_eq!(usize::try_from(rows).unwrap(), listed.len(), "{b} {what}");
            let mut rdr = csv::Reader::from_reader(&csv[3..]);
            let lines: Vec<(String, String)> = rdr
                .records()
                .map(|r| {
                    let r = r.unwrap();
                    (r[1].to_owned(), r[2].to_owned())
                })
                .collect();
            let want: Vec<(String, String)> = listed
                .iter()
                .map(|(_, n, t)| (n.clone(), t.clone()))
                .collect();
            assert_eq!(lines.len(), want.len(), "{b} {what}: csv rows");
            assert_eq!(lines.first(), want.first(), "{b} {what}: csv first row");
            assert_eq!(lines.last(), want.last(), "{b} {what}: csv last row");
            assert!(lines == want, "{b} {what}: csv order differs from the list");

            // xlsx: one sheet per year, in year order, each in list order.
            let mut e = export_ledger_file(&env.app, who, q, ExportFormat::Xlsx)
                .await
                .unwrap();
            assert_eq!(usize::try_from(e.rows).unwrap(), listed.len(), "{b} {what}");
            assert_eq!(e.file.metadata().unwrap().len(), e.len, "{b}");
            let mut bytes = Vec::new();
            e.file.read_to_end(&mut bytes).unwrap();
            let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
            let mut years: Vec<i64> = listed.iter().map(|(y, _, _)| *y).collect();
            years.sort_unstable();
            years.dedup();
            let names: Vec<String> = years.iter().map(|y| format!("{y}年")).collect();
            assert_eq!(book.sheet_names(), names, "{b} {what}");
            let mut total = 0;
            for (y, name) in years.iter().zip(&names) {
                let range = book.worksheet_range(name).unwrap();
                let got: Vec<(String, String)> = range
                    .rows()
                    .skip(4)
                    .map(|r| {
                        let s = |d: &Data| d.to_string();
                        (s(&r[1]), s(&r[2]))
                    })
                    .collect();
                let want: Vec<(String, String)> = listed
                    .iter()
                    .filter(|(yy, _, _)| yy == y)
                    .map(|(_, n, t)| (n.clone(), t.clone()))
                    .collect();
                assert_eq!(got.len(), want.len(), "{b} {what} {name}: rows");
                assert_eq!(got.first(), want.first(), "{b} {what} {name}: first row");
                assert_eq!(got.last(), want.last(), "{b} {what} {name}: last row");
                assert!(
                    got == want,
                    "{b} {what} {name}: order differs from the list"
                );
                total += got.len();
            }
            assert_eq!(total, listed.len(), "{b} {what}");
        }
    }
}

/// Rows of a CSV text (quoted fields may hold line breaks).
fn csv_rows(text: &str) -> Vec<String> {
    let mut rows = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in text.chars() {
        if ch == '"' {
            quoted = !quoted;
        }
        if ch == '\n' && !quoted {
            rows.push(std::mem::take(&mut cur));
        } else {
            cur.push(ch);
        }
    }
    rows
}

fn unzip_text(bytes: &[u8], part: &str) -> String {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    z.by_name(part).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[tokio::test]
async fn the_monthly_report_and_bulletin_open_and_carry_the_snapshot_figures() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 31), true).await;
        let b = env.backend;
        let sys = Caller::system("t");
        let month = taizhang_domain::period::PeriodKey::parse("2026-03").unwrap();
        let snap = taizhang_app::ledger::monthly::take_monthly_snapshot(
            &env.app,
            &sys,
            month,
            date(2026, 3, 31),
        )
        .await
        .unwrap();
        let docx = taizhang_app::office_io::monthly_report_file(
            &env.app,
            &sys,
            "2026-03",
            ReportFormat::Docx,
        )
        .await
        .unwrap();
        let body = unzip_text(&docx, "word/document.xml");
        assert!(body.contains(&snap.total.to_string()), "{b}");
        assert!(body.contains("盘点"), "{b}");
        let xlsx = taizhang_app::office_io::monthly_report_file(
            &env.app,
            &sys,
            "2026-03",
            ReportFormat::Xlsx,
        )
        .await
        .unwrap();
        assert!(
            zip::ZipArchive::new(std::io::Cursor::new(&xlsx)).is_ok(),
            "{b}"
        );
        let bulletin = taizhang_app::office_io::bulletin_docx(&env.app, &sys, "2026-03")
            .await
            .unwrap();
        assert!(
            unzip_text(&bulletin, "word/document.xml").contains("通报"),
            "{b}"
        );
        let missing =
            taizhang_app::office_io::annual_report_file(&env.app, &sys, 2026, ReportFormat::Docx)
                .await;
        assert!(missing.is_err(), "{b}: the year is not closed");
    }
}
