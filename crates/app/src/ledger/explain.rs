//! `taizhang bench explain`: the query plans of every list and count the pages and the API run
//! on the tables that grow with the ledger, as a Markdown section for one backend.
//!
//! Every statement here is built by the code that runs it in production (the list's
//! `list::statements`, the desk's `desk::statements`, the store's `*_sql` functions), with the
//! arguments a real request would bind, so the plans cannot drift from the queries. Only the
//! arguments are picked here (a busy person, a matter with many reports, the latest check day).

use std::fmt::Write as _;

use jiff::ToSpan;
use taizhang_store::explain::{self as store_explain, Bind, PgExplain};
use taizhang_store::{
    attachments as store_att, audit as store_audit, cadences as store_cad, escalation as store_esc,
    ledger as store_ledger, matter_parts, outbox as store_out,
};

use super::list::{HELD, MatterQuery, Mode, Statement};
use super::today;
use crate::caller::load_caller_by_username;
use crate::{App, AppError, AppResult, Caller};

/// How to explain.
#[derive(Debug, Clone, Copy)]
pub struct ExplainOptions {
    /// PostgreSQL: `EXPLAIN (ANALYZE, BUFFERS, TIMING OFF)` instead of the plan alone.
    pub analyze: bool,
    /// Timed runs of each statement (after one warm-up run); 0 runs none.
    pub runs: usize,
}

impl Default for ExplainOptions {
    fn default() -> ExplainOptions {
        ExplainOptions {
            analyze: false,
            runs: 5,
        }
    }
}

/// The person whose scope is every unit (督查专员) and the one whose scope is a unit (处室负责人)
/// in the demo organization that `bench seed` scales.
const ALL_UNITS: &str = "ducha";
const ONE_UNIT: &str = "chuzhang1";

/// Tables whose size follows the ledger; their row counts head the section.
const GROWING: &[&str] = &[
    "matters",
    "matter_units",
    "matter_handlers",
    "milestones",
    "progress_reports",
    "matter_events",
    "extensions",
    "notices",
    "attachments",
    "daily_check_items",
    "notify_inbox",
    "notify_outbox",
    "audit_log",
];

/// One explained statement.
struct Query {
    /// The part of the document it belongs to.
    group: &'static str,
    title: String,
    /// Who runs it, and why.
    purpose: String,
    /// Where the statement is built.
    source: &'static str,
    sql: String,
    args: Vec<Bind>,
}

/// The Markdown section of every list and count on this database.
pub async fn document(app: &App, opts: &ExplainOptions) -> AppResult<String> {
    let all = caller(app, ALL_UNITS).await?;
    let unit = caller(app, ONE_UNIT).await?;
    let queries = collect(app, &all, &unit).await?;
    let mut c = app.store.read().await?;
    let postgres = c.is_postgres();
    let version = store_explain::server_version(&mut c).await?;
    let mut out = String::new();
    let backend = if postgres { "PostgreSQL" } else { "SQLite" };
    let _ = writeln!(out, "## {backend}\n");
    let _ = writeln!(
        out,
        "{version}. Today (the App clock): {}. Plans: {}; times: median of {} runs after a \
         warm-up, on one connection, rows fetched but not decoded.{}\n",
        today(app),
        match (postgres, opts.analyze) {
            (false, _) => "`EXPLAIN QUERY PLAN`",
            (true, false) => "`EXPLAIN (COSTS OFF)`",
            (true, true) => "`EXPLAIN (ANALYZE, COSTS OFF, BUFFERS, TIMING OFF)`",
        },
        opts.runs,
        if postgres {
            ""
        } else {
            " SQLite plans and times are the read connection's, which pages and the API use: \
             it plans each statement once, without looking at the bound values (the query \
             planner stability guarantee); where a connection that does look at them (sqlx's: \
             exports, imports, jobs) plans otherwise, that plan follows."
        }
    );
    let _ = writeln!(
        out,
        "Verdicts: **ok** — indexes only; **ok (small)** — a scan or a sort, but under {SLOW_MS} ms \
         here; **look** — over {SLOW_MS} ms. Flags: a *full scan* or *seq scan* reads the whole \
         table, a *whole-index walk* reads an index end to end (in order, so a LIMIT can stop it \
         early), a *temp B-tree* or *sort* orders rows the index did not.\n"
    );
    let _ = writeln!(out, "| table | rows |\n|---|---:|");
    for t in GROWING {
        let n = store_explain::pick_int(&mut c, &format!("SELECT COUNT(*) FROM {t}"))
            .await?
            .unwrap_or(0);
        let _ = writeln!(out, "| `{t}` | {} |", thousands(n));
    }
    let _ = writeln!(out);
    let mut summary = String::from(
        "| # | query | indexes | flags | median ms | rows |\n|---:|---|---|---|---:|---:|\n",
    );
    let mut body = String::new();
    let mut group = "";
    for (i, q) in queries.iter().enumerate() {
        let n = i + 1;
        if q.group != group {
            group = q.group;
            let _ = writeln!(body, "### {group}\n");
        }
        let pg = if opts.analyze {
            PgExplain::Analyze
        } else {
            PgExplain::Plan
        };
        let plan = store_explain::plan(&mut c, &q.sql, &q.args, pg).await?;
        // SQLite: sqlx's connections (exports, imports, jobs) plan with the bound values;
        // shown when that plan is not the reader's.
        let with_values = store_explain::plan_with_values(&mut c, &q.sql, &q.args)
            .await?
            .filter(|p| *p != plan);
        let (rows, ms) = if opts.runs > 0 {
            store_explain::time(&mut c, &q.sql, &q.args, opts.runs).await?
        } else {
            (0, Vec::new())
        };
        let median = median(&ms);
        let v = verdict(postgres, &plan, median);
        let _ = writeln!(body, "#### {n}. {}\n", q.title);
        let _ = writeln!(body, "{}  ", q.purpose);
        let _ = writeln!(body, "Built by: {}  ", q.source);
        if !q.args.is_empty() {
            let _ = writeln!(body, "Arguments: {}", show_args(&q.args));
        }
        let _ = writeln!(body, "\n```sql\n{}\n```\n", show_sql(&q.sql));
        let _ = writeln!(body, "```text\n{}\n```\n", plan.join("\n"));
        if let Some(p) = with_values {
            let _ = writeln!(
                body,
                "Planned with these values (a connection without the stability guarantee: \
                 exports, imports, jobs):\n\n```text\n{}\n```\n",
                p.join("\n")
            );
        }
        if let Some(m) = median {
            let (lo, hi) = min_max(&ms);
            let _ = writeln!(
                body,
                "Time: median {m:.2} ms (min {lo:.2}, max {hi:.2}), {rows} rows.  "
            );
        }
        let _ = writeln!(body, "Verdict: {}\n", v.line);
        let _ = writeln!(
            summary,
            "| {n} | {} | {} | {} | {} | {} |",
            q.title.replace('|', "\\|"),
            if v.indexes.is_empty() {
                "—".to_owned()
            } else {
                v.indexes.join(", ")
            },
            if v.flags.is_empty() {
                "—".to_owned()
            } else {
                v.flags.join("; ")
            },
            median.map_or("—".to_owned(), |m| format!("{m:.2}")),
            if median.is_some() {
                rows.to_string()
            } else {
                "—".to_owned()
            },
        );
    }
    let _ = writeln!(out, "### Summary ({backend})\n\n{summary}");
    out.push_str(&body);
    Ok(out)
}

async fn caller(app: &App, username: &str) -> AppResult<Caller> {
    load_caller_by_username(app, username)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => AppError::NotFound(format!(
                "用户 {username} (the explain runs as the demo accounts: fill the database with \
             `taizhang bench seed --matters N` first)"
            )),
            e => e,
        })
}

/// Every statement to explain, in document order.
async fn collect(app: &App, all: &Caller, unit: &Caller) -> AppResult<Vec<Query>> {
    let mut out = Vec::new();
    let day = today(app);
    let mut c = app.store.read().await?;
    let latest_year = store_explain::pick_int(&mut c, "SELECT MAX(year) FROM matters")
        .await?
        .unwrap_or(i64::from(day.year()));
    let busiest_unit = store_explain::pick_int(
        &mut c,
        "SELECT lead_unit_id FROM matters GROUP BY lead_unit_id ORDER BY COUNT(*) DESC, lead_unit_id LIMIT 1",
    )
    .await?
    .unwrap_or(unit.unit_id);
    drop(c);

    // ---- The ledger list -------------------------------------------------------------------
    const LIST: &str = "Ledger list (台账 page, GET /api/v1/matters, desk lists, export)";
    const LIST_SRC: &str = "`ledger::list::statements` → `count_sql`, `page_sql` / `page_ids_sql`, \
         `light_facts_sql`, `all_ids_sql` (crates/app/src/ledger/list.rs)";
    let q = |f: &dyn Fn(&mut MatterQuery)| {
        let mut q = MatterQuery {
            page: 1,
            per_page: 50,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    let soon = day.checked_add(5.days()).unwrap_or(day).to_string();
    let variants: Vec<(&Caller, String, String, MatterQuery, Mode)> = vec![
        (
            all,
            "default sort (deadline), every unit".into(),
            "台账 page without filters; `GET /api/v1/matters` (the page; the API counts only with `with_total=true`).".into(),
            q(&|_| {}),
            Mode::Counted,
        ),
        (
            all,
            "overdue, sorted by deadline".into(),
            "`GET /api/v1/matters?overdue=true&sort=deadline` (LIMIT 51, no count), with `with_total=true` the count; the desk's 已超期 list (10 rows).".into(),
            q(&|q| {
                q.overdue = true;
                q.sort = Some("deadline".into());
            }),
            Mode::Counted,
        ),
        (
            all,
            "status=in_progress, sorted by deadline".into(),
            "台账 page `?status=in_progress&sort=deadline` (the filtered ledger page of scripts/bench).".into(),
            q(&|q| {
                q.statuses = vec!["in_progress".into()];
                q.sort = Some("deadline".into());
            }),
            Mode::Counted,
        ),
        (
            unit,
            format!("one unit's scope ({ONE_UNIT}), default sort"),
            "台账 page of a 处室负责人: lead or assisting unit in scope, 普通 label only.".into(),
            q(&|_| {}),
            Mode::Counted,
        ),
        (
            unit,
            format!("a handler's open matters ({ONE_UNIT}, status=in_progress)"),
            "`GET /api/v1/matters?status=in_progress&limit=50` with a 处长's token (scripts/bench: one handler's open matters).".into(),
            q(&|q| q.statuses = vec!["in_progress".into()]),
            Mode::Slice,
        ),
        (
            all,
            "text search q=干部".into(),
            "台账 search box / `?q=`: LIKE over title, content, latest progress and number.".into(),
            q(&|q| q.q = Some("干部".into())),
            Mode::Counted,
        ),
        (
            all,
            format!("year={latest_year}"),
            "台账 `?year=` / `GET /api/v1/matters?year=`.".into(),
            q(&|q| q.year = Some(latest_year)),
            Mode::Counted,
        ),
        (
            all,
            format!("unit={busiest_unit} (lead or assisting)"),
            "台账 `?unit=` filter.".into(),
            q(&|q| q.unit_id = Some(busiest_unit)),
            Mode::Counted,
        ),
        (
            all,
            format!("due_before={soon} (deadline_to), sorted by deadline"),
            "`GET /api/v1/matters?due_before=`: a deadline bound without statuses.".into(),
            q(&|q| q.deadline_to = Some(soon.clone())),
            Mode::Slice,
        ),
        (
            all,
            format!("held statuses, deadline {day} … {soon} (即将到期)"),
            "The desk's 即将到期 list (10 rows), and the 台账 `?from=&to=` range with statuses.".into(),
            q(&|q| {
                q.statuses = HELD.iter().map(|s| (*s).to_owned()).collect();
                q.deadline_from = Some(day.to_string());
                q.deadline_to = Some(soon.clone());
                q.per_page = 10;
            }),
            Mode::Counted,
        ),
        (
            all,
            "status=assigned (待签收)".into(),
            "The desk's 待签收 list (10 rows).".into(),
            q(&|q| {
                q.statuses = vec!["assigned".into()];
                q.per_page = 10;
            }),
            Mode::Counted,
        ),
        (
            all,
            "review statuses (待审核)".into(),
            "The desk's 待审核 list of a reviewer (10 rows).".into(),
            q(&|q| {
                q.statuses = [
                    "pending_approval",
                    "extension_pending",
                    "stop_pending",
                    "completion_pending",
                ]
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
                q.per_page = 10;
            }),
            Mode::Counted,
        ),
        (
            all,
            "light=red".into(),
            "台账 `?light=red` / API `light=red`: the SQL prefilter's candidates in list order, lit in Rust; the page's rows are then read by id.".into(),
            q(&|q| q.light = Some("red".into())),
            Mode::Counted,
        ),
    ];
    let mut variants = variants;
    for (key, _) in super::list::SORTS.iter().filter(|(k, _)| *k != "deadline") {
        for desc in [false, true] {
            variants.push((
                all,
                format!("sort={key}{}", if desc { " descending" } else { "" }),
                format!(
                    "台账 sorted by {key} (`?sort={key}{}`), API `sort={}{key}`.",
                    if desc { "&desc=1" } else { "" },
                    if desc { "-" } else { "" }
                ),
                q(&|q| {
                    q.sort = Some((*key).to_owned());
                    q.desc = desc;
                }),
                Mode::Slice,
            ));
        }
    }
    variants.push((
        all,
        format!("export ids, year={latest_year}"),
        "`taizhang export ledger --year` and the 台账 download: every id in list order, rows then read 1,000 at a time by id.".into(),
        q(&|q| q.year = Some(latest_year)),
        Mode::All,
    ));
    for (who, title, purpose, mq, mode) in variants {
        for s in super::list::statements(app, who, &mq, mode).await? {
            out.push(query(
                LIST,
                format!("{title} — {}", s.what),
                &purpose,
                LIST_SRC,
                s,
            ));
        }
    }

    // ---- The desk counts -------------------------------------------------------------------
    const DESK: &str = "Desk counts (工作台)";
    const DESK_SRC: &str =
        "`ledger::desk::statements` → `desk_sql` (crates/app/src/ledger/desk.rs)";
    for who in [all, unit] {
        for s in super::desk::statements(app, who).await? {
            out.push(query(
                DESK,
                format!("{} — {}", who.name, s.what),
                "The five counts at the top of the 工作台 (待签收, 待反馈, 待审核, 即将到期, 已超期), one pass.",
                DESK_SRC,
                s,
            ));
        }
    }

    // ---- The daily check lists -------------------------------------------------------------
    const CHECKS: &str = "Daily check lists (日清查 page, desk panel, GET /api/v1/daily-checks)";
    let mut c = app.store.read().await?;
    let check_day =
        store_explain::pick_text(&mut c, "SELECT MAX(check_day) FROM daily_check_items")
            .await?
            .unwrap_or_else(|| day.to_string());
    drop(c);
    let everyone = super::daily::visible_units(all, None)?;
    let mine = super::daily::visible_units(unit, None)?;
    let one = super::daily::visible_units(all, Some(unit.unit_id))?;
    let checks: [(&str, &Option<Vec<i64>>, i64); 4] = [
        ("every unit (overview counts)", &everyone, 0),
        (ONE_UNIT, &mine, 100),
        ("one unit page (`?unit=`)", &one, 500),
        ("every unit, API page", &everyone, 1000),
    ];
    for (who, units, limit) in checks {
        let iu = super::daily::item_units(units);
        if let Some(sql) = store_cad::unit_counts_sql(iu) {
            out.push(Query {
                group: CHECKS,
                title: format!("{who} — unit counts"),
                purpose: "Per unit with items that day: items and confirmed (the overview by unit, and the total the paging needs).".into(),
                source: "`store::cadences::unit_counts_sql` (crates/store/src/cadences.rs)",
                sql,
                args: vec![Bind::Text(Some(check_day.clone()))],
            });
        }
        if limit > 0
            && let Some(sql) = store_cad::items_page_sql(iu)
        {
            out.push(Query {
                group: CHECKS,
                title: format!("{who} — first {limit} lines"),
                purpose: "One page of the day's lines in list order (unit, matter, category); 100 on the desk, 500 on the page, up to 5,000 by the API.".into(),
                source: "`store::cadences::items_page_sql` (crates/store/src/cadences.rs)",
                sql,
                args: vec![
                    Bind::Text(Some(check_day.clone())),
                    Bind::Int(Some(limit)),
                    Bind::Int(Some(0)),
                ],
            });
        }
    }

    // ---- Other lists and counts on growing tables ------------------------------------------
    const OTHER: &str = "Other lists and counts on growing tables";
    let mut c = app.store.read().await?;
    let reported = store_explain::pick_int(
        &mut c,
        "SELECT matter_id FROM progress_reports GROUP BY matter_id ORDER BY COUNT(*) DESC, matter_id LIMIT 1",
    )
    .await?
    .unwrap_or(1);
    let reader = store_explain::pick_int(
        &mut c,
        "SELECT person_id FROM notify_inbox GROUP BY person_id ORDER BY COUNT(*) DESC, person_id LIMIT 1",
    )
    .await?
    .or(all.person_id)
    .unwrap_or(1);
    let page_ids: Vec<i64> = {
        let mut ids = Vec::new();
        for s in super::list::statements(app, all, &q(&|_| {}), Mode::Slice).await? {
            if s.what == "page" {
                let sql = format!("SELECT p.id FROM ({}) p", s.sql);
                ids = taizhang_store::matters::query_ids(&mut c, sql, &s.args).await?;
            }
        }
        ids.truncate(50);
        ids
    };
    let since = day.checked_sub(30.days()).unwrap_or(day).to_string();
    let week_from = day.checked_sub(7.days()).unwrap_or(day).to_string();
    drop(c);
    let matter = || vec![Bind::Int(Some(reported))];
    out.push(Query {
        group: OTHER,
        title: format!("matter timeline: progress reports of matter {reported}"),
        purpose: "Matter page and `GET /api/v1/matters/{id}` (the matter with the most reports)."
            .into(),
        source: "`store::ledger::reports_sql` (crates/store/src/ledger.rs)",
        sql: store_ledger::reports_sql(),
        args: matter(),
    });
    out.push(Query {
        group: OTHER,
        title: format!("matter timeline: events of matter {reported}"),
        purpose: "Matter page 全程记录.".into(),
        source: "`store::ledger::events_sql` (crates/store/src/ledger.rs)",
        sql: store_ledger::events_sql(),
        args: matter(),
    });
    out.push(Query {
        group: OTHER,
        title: format!("milestones of matter {reported}"),
        purpose: "Matter page 节点.".into(),
        source: "`store::ledger::MILESTONES_SQL` (crates/store/src/ledger.rs)",
        sql: store_ledger::MILESTONES_SQL.to_owned(),
        args: matter(),
    });
    out.push(Query {
        group: OTHER,
        title: format!("佐证材料 of matter {reported}"),
        purpose: "Matter page attachments.".into(),
        source: "`store::attachments::by_matter_sql` (crates/store/src/attachments.rs)",
        sql: store_att::by_matter_sql(),
        args: matter(),
    });
    if !page_ids.is_empty() {
        out.push(Query {
            group: OTHER,
            title: format!("子事项 counts of a page ({} ids)", page_ids.len()),
            purpose: "台账 page: how many children each row has.".into(),
            source: "`store::matter_parts::child_counts_sql` (crates/store/src/matter_parts.rs)",
            sql: matter_parts::child_counts_sql(&page_ids),
            args: Vec::new(),
        });
    }
    out.push(Query {
        group: OTHER,
        title: format!("weekly summary: reports {week_from} … {day}"),
        purpose: "一周一小结 facts (job and 周小结 page).".into(),
        source: "`store::ledger::reports_between_sql` (crates/store/src/ledger.rs)",
        sql: store_ledger::reports_between_sql(),
        args: vec![
            Bind::Text(Some(week_from.clone())),
            Bind::Text(Some(day.to_string())),
        ],
    });
    out.push(Query {
        group: OTHER,
        title: format!("weekly summary: events {week_from} … {day}"),
        purpose: "一周一小结 facts.".into(),
        source: "`store::ledger::events_between_sql` (crates/store/src/ledger.rs)",
        sql: store_ledger::events_between_sql(),
        args: vec![
            Bind::Text(Some(week_from)),
            Bind::Text(Some(day.to_string())),
        ],
    });
    for (who, units) in [(all, None), (unit, Some(unit_scope(unit)))] {
        if let Some(sql) = store_esc::notices_for_units_sql(units.as_deref()) {
            out.push(Query {
                group: OTHER,
                title: format!("督办单 on the desk of {}", who.name),
                purpose: "工作台: unanswered 督办单 first, then those answered in the last 30 days (200 rows).".into(),
                source: "`store::escalation::notices_for_units_sql` (crates/store/src/escalation.rs)",
                sql,
                args: vec![Bind::Text(Some(since.clone())), Bind::Int(Some(200))],
            });
        }
    }
    out.push(Query {
        group: OTHER,
        title: format!("inbox of person {reader}, newest 50"),
        purpose:
            "通知 page and `GET /api/v1/notifications` (the person with the most notifications)."
                .into(),
        source: "`store::outbox::INBOX_SQL` (crates/store/src/outbox.rs)",
        sql: store_out::INBOX_SQL.to_owned(),
        args: vec![
            Bind::Int(Some(reader)),
            Bind::Int(Some(0)),
            Bind::Int(Some(i64::MAX)),
            Bind::Int(Some(50)),
        ],
    });
    out.push(Query {
        group: OTHER,
        title: format!("unread count of person {reader}"),
        purpose: "The unread badge on every page.".into(),
        source: "`store::outbox::UNREAD_SQL` (crates/store/src/outbox.rs)",
        sql: store_out::UNREAD_SQL.to_owned(),
        args: vec![Bind::Int(Some(reader))],
    });
    out.push(Query {
        group: OTHER,
        title: "delivery log, newest 50".into(),
        purpose: "投递记录 page (系统管理员, 安全管理员).".into(),
        source: "`store::outbox::outbox_page_sql` (crates/store/src/outbox.rs)",
        sql: store_out::outbox_page_sql(),
        args: vec![
            Bind::Text(Some(String::new())),
            Bind::Int(Some(0)),
            Bind::Int(Some(i64::MAX)),
            Bind::Int(Some(50)),
        ],
    });
    out.push(Query {
        group: OTHER,
        title: "audit trail, newest 100, no filter".into(),
        purpose: "审计记录 page (审计管理员, 纪检监察).".into(),
        source: "`store::audit::search_sql` (crates/store/src/audit.rs)",
        sql: store_audit::search_sql(),
        args: [
            Bind::Text(None),
            Bind::Text(None),
            Bind::Text(None),
            Bind::Text(None),
            Bind::Text(None),
            Bind::Int(None),
            Bind::Int(None),
            Bind::Int(None),
            Bind::Int(Some(100)),
        ]
        .to_vec(),
    });
    Ok(out)
}

/// The units whose 督办单 a caller sees on the desk (`desk_notices`' scope).
fn unit_scope(who: &Caller) -> Vec<i64> {
    match taizhang_domain::policy::list_scope(
        &who.actor,
        taizhang_domain::policy::Action::ViewMatter,
    ) {
        taizhang_domain::policy::ListScope::Units(u) => u,
        _ => vec![who.unit_id],
    }
}

fn query(
    group: &'static str,
    title: String,
    purpose: &str,
    source: &'static str,
    s: Statement,
) -> Query {
    Query {
        group,
        title,
        purpose: purpose.to_owned(),
        source,
        args: s.args.iter().map(Bind::from).collect(),
        sql: s.sql,
    }
}

/// A statement slower than this (median, milliseconds) is marked for a look.
const SLOW_MS: f64 = 10.0;

/// What a plan shows: the indexes it uses, what to look at, and the one-line verdict.
struct Verdict {
    indexes: Vec<String>,
    flags: Vec<String>,
    line: String,
}

/// Read a plan: the indexes, full scans of tables, sorts into a temporary B-tree (SQLite) or a
/// Sort node (PostgreSQL). A flag is a problem only when the statement is also slow.
fn verdict(postgres: bool, plan: &[String], median_ms: Option<f64>) -> Verdict {
    let mut indexes: Vec<String> = Vec::new();
    let mut flags: Vec<String> = Vec::new();
    let add = |v: &mut Vec<String>, s: String| {
        if !v.contains(&s) {
            v.push(s);
        }
    };
    if postgres {
        for l in plan.iter().map(|l| l.trim_start_matches([' ', '-', '>'])) {
            for key in [
                "Index Only Scan using ",
                "Index Scan using ",
                "Index Scan Backward using ",
                "Bitmap Index Scan on ",
            ] {
                if let Some(rest) = l.strip_prefix(key) {
                    let name = rest.split_whitespace().next().unwrap_or("");
                    add(&mut indexes, name.to_owned());
                }
            }
            if let Some(rest) = l
                .strip_prefix("Seq Scan on ")
                .or_else(|| l.strip_prefix("Parallel Seq Scan on "))
            {
                let t = rest.split_whitespace().next().unwrap_or("");
                add(&mut flags, format!("seq scan of {t}"));
            }
            if l.starts_with("Sort ") || l == "Sort" || l.starts_with("Sort  ") {
                add(&mut flags, "sort".to_owned());
            }
            if l.starts_with("Incremental Sort") {
                add(&mut flags, "incremental sort".to_owned());
            }
        }
    } else {
        // Names of subquery results (scanning those is not a table scan).
        let mut derived: Vec<String> = Vec::new();
        for l in plan.iter().map(|l| l.trim()) {
            for key in ["CO-ROUTINE ", "MATERIALIZE "] {
                if let Some(rest) = l.strip_prefix(key) {
                    derived.push(rest.split_whitespace().next().unwrap_or("").to_owned());
                }
            }
        }
        for l in plan.iter().map(|l| l.trim()) {
            if let Some(pos) = l.find("INDEX ") {
                let name = l[pos + 6..].split_whitespace().next().unwrap_or("");
                if !name.is_empty() && !name.chars().all(|c| c.is_ascii_digit()) {
                    add(&mut indexes, name.to_owned());
                }
            }
            if l.contains("USING INTEGER PRIMARY KEY") || l.contains("USING ROWID") {
                add(&mut indexes, "primary key".to_owned());
            }
            if let Some(rest) = l.strip_prefix("SCAN ") {
                let mut words = rest.split_whitespace();
                let t = words.next().unwrap_or("");
                let is_derived = derived.iter().any(|d| d == t) || t.starts_with('(');
                if !is_derived && !t.is_empty() {
                    if rest.contains("USING") {
                        add(&mut flags, format!("whole-index walk of {t}"));
                    } else {
                        add(&mut flags, format!("full scan of {t}"));
                    }
                }
            }
            if let Some(pos) = l.find("USE TEMP B-TREE FOR ") {
                add(&mut flags, format!("temp B-tree for {}", &l[pos + 20..]));
            }
        }
    }
    let slow = median_ms.is_some_and(|m| m > SLOW_MS);
    let mut line = String::new();
    if slow {
        line.push_str("**look** — ");
    } else if flags.is_empty() {
        line.push_str("**ok** — ");
    } else {
        line.push_str("**ok (small)** — ");
    }
    if indexes.is_empty() {
        line.push_str("no index");
    } else {
        let _ = write!(line, "uses {}", indexes.join(", "));
    }
    if !flags.is_empty() {
        let _ = write!(line, "; {}", flags.join("; "));
    }
    if let Some(m) = median_ms {
        let _ = write!(line, "; {m:.2} ms");
    }
    line.push('.');
    Verdict {
        indexes,
        flags,
        line,
    }
}

fn median(ms: &[f64]) -> Option<f64> {
    if ms.is_empty() {
        return None;
    }
    let mut v = ms.to_vec();
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

fn min_max(ms: &[f64]) -> (f64, f64) {
    let lo = ms.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

fn thousands(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) && ch != '-' {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn show_args(args: &[Bind]) -> String {
    args.iter()
        .enumerate()
        .map(|(i, a)| {
            let v = match a {
                Bind::Int(Some(v)) => v.to_string(),
                Bind::Text(Some(s)) => format!("'{s}'"),
                Bind::Int(None) | Bind::Text(None) => "NULL".to_owned(),
            };
            format!("`${}` = {v}", i + 1)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statement for reading: the matters column list abbreviated, whitespace runs folded, one
/// line per `UNION ALL` run.
fn show_sql(sql: &str) -> String {
    let sql = sql.replace(
        taizhang_store::matters::COLS,
        "m.id, m.year, … /* matters::COLS */",
    );
    let folded = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    folded.replace(" UNION ALL ", "\n  UNION ALL ")
}
