//! 台账查询: the filtered, scoped, paged matter list (with 2-character Chinese text search via
//! escaped LIKE) and a person's desk counts (待签收, 待反馈, 待审核, 即将到期, 已超期).

use serde::Serialize;
use taizhang_domain::daily_check::{CheckCategory, classify};
use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::light::Light;
use taizhang_domain::matter::{SourceCategory, Urgency};
use taizhang_domain::policy::{self, Action, Label, ListScope, Role};
use taizhang_store::matters::{self as store_matters, Arg, COLS, placeholders};

use super::matters::{MatterView, view};
use super::{domain_error, parse_date, rules, today};
use crate::{App, AppError, AppResult, Caller};

/// Filters of the ledger list; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatterQuery {
    pub year: Option<i64>,
    /// Lead or assisting unit.
    pub unit_id: Option<i64>,
    pub leader_id: Option<i64>,
    pub source: Option<String>,
    /// Status codes (any of).
    pub statuses: Vec<String>,
    /// `green`, `yellow`, `red`, `grey` (derived, filtered after the query).
    pub light: Option<String>,
    pub urgency: Option<String>,
    pub overdue: bool,
    /// Text in title, content, latest progress or number.
    pub q: Option<String>,
    /// Deadline range `YYYY-MM-DD`.
    pub deadline_from: Option<String>,
    pub deadline_to: Option<String>,
    /// One of [`SORTS`]; default `deadline`.
    pub sort: Option<String>,
    pub desc: bool,
    /// 1-based.
    pub page: u32,
    /// 1..=200, default 50.
    pub per_page: u32,
    /// Only the 子事项 of this matter.
    pub parent_id: Option<i64>,
    /// Only top-level matters (no 子事项).
    pub top_only: bool,
}

/// The deadline sort key: no fixed deadline sorts last. Indexed as written, by
/// `matters_deadline_key` and `matters_status_deadline_key` (migration 0007).
const DEADLINE_KEY: &str = "COALESCE(m.deadline, '9999-12-31')";

/// Sort keys the list accepts, and the SQL of their columns.
pub const SORTS: &[(&str, &[&str])] = &[
    ("deadline", &[DEADLINE_KEY]),
    ("number", &["m.year", "m.seq"]),
    ("updated", &["m.updated_at"]),
    ("created", &["m.created_at"]),
    (
        "urgency",
        &["CASE m.urgency WHEN 'extra' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END"],
    ),
];

/// One page of the list.
#[derive(Debug, Clone, Serialize)]
pub struct MatterPage {
    pub rows: Vec<MatterView>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// Statuses during which the lead unit holds the matter (the deadline runs).
pub const HELD: &[&str] = &[
    "assigned",
    "in_progress",
    "extension_pending",
    "stop_pending",
];

/// `%`, `_` and `\` escaped for `LIKE … ESCAPE '\'`.
pub fn like_pattern(q: &str) -> String {
    let mut out = String::from("%");
    for ch in q.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

struct Where {
    sql: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    fn next(&self) -> usize {
        self.args.len() + 1
    }
    fn push(&mut self, clause: impl FnOnce(usize) -> String, arg: Arg) {
        let n = self.next();
        self.sql.push(clause(n));
        self.args.push(arg);
    }
}

/// The scope and label part of every list query for `who` and `action`. `statuses` (from
/// [`listed_statuses`]) narrow the lead units' matters inside the scope's id set: a 处长's
/// open matters are then read from `matters_lead_unit (lead_unit_id, status)` alone, instead of
/// every matter of the unit each looked up for its status (195 → 96 rows for one unit at 10^5).
fn scope_clause(w: &mut Where, who: &Caller, action: Action, statuses: &[&str]) {
    if who.is_system() {
        return;
    }
    let filter = policy::list_filter(&who.actor, action);
    match filter.scope {
        ListScope::All => {}
        ListScope::Nothing => w.sql.push("1 = 0".into()),
        ListScope::Units(units) => {
            let from = w.next();
            let ph = placeholders(from, units.len());
            let narrowed = if statuses.is_empty() {
                String::new()
            } else {
                format!(" AND ms.status IN ({})", quoted(statuses))
            };
            w.sql.push(format!(
                // One id set from two indexes (`matters_lead_unit`, `matter_units_unit`) rather
                // than a correlated EXISTS (38 ms at 100,000 matters on SQLite) or an OR of the two
                // (PostgreSQL cannot combine an OR with a subquery through indexes and scanned
                // the whole table in parallel: 31 ms for a 处长's first page; 11 ms this way,
                // SQLite unchanged at ≈ 13 ms).
                "m.id IN (SELECT ms.id FROM matters ms WHERE ms.lead_unit_id IN ({ph}){narrowed} \
                 UNION ALL SELECT mu.matter_id FROM matter_units mu WHERE mu.unit_id IN ({ph}))"
            ));
            w.args.extend(units.into_iter().map(Arg::Int));
        }
    }
    let labels: Vec<&str> = Label::ALL
        .iter()
        .filter(|l| **l <= filter.max_label)
        .map(|l| l.code())
        .collect();
    if labels.len() == Label::ALL.len() {
        // Cleared for every label: no clause, so counts stay on covering indexes.
        return;
    }
    let from = w.next();
    w.sql
        .push(format!("m.label IN ({})", placeholders(from, labels.len())));
    w.args
        .extend(labels.into_iter().map(|l| Arg::Text(l.to_owned())));
}

fn filter_clauses(w: &mut Where, q: &MatterQuery, today: jiff::civil::Date) -> AppResult<()> {
    if let Some(y) = q.year {
        w.push(|n| format!("m.year = ${n}"), Arg::Int(y));
    }
    if let Some(u) = q.unit_id {
        // One id set from two indexes, as for the scope: with an OR of the lead unit and a
        // subquery PostgreSQL scanned the whole table (31 ms at 10^5 matters).
        w.push(
            |n| {
                format!(
                    "m.id IN (SELECT mu1.id FROM matters mu1 WHERE mu1.lead_unit_id = ${n} \
                     UNION ALL SELECT mu2.matter_id FROM matter_units mu2 WHERE mu2.unit_id = ${n})"
                )
            },
            Arg::Int(u),
        );
    }
    if let Some(l) = q.leader_id {
        w.push(|n| format!("m.lead_leader_id = ${n}"), Arg::Int(l));
    }
    if let Some(s) = &q.source {
        let code = SourceCategory::parse(s)
            .map_err(|e| domain_error("source", e))?
            .code();
        w.push(
            |n| format!("m.source_category = ${n}"),
            Arg::Text(code.into()),
        );
    }
    if let Some(u) = &q.urgency {
        let code = Urgency::parse(u)
            .map_err(|e| domain_error("urgency", e))?
            .code();
        w.push(|n| format!("m.urgency = ${n}"), Arg::Text(code.into()));
    }
    if !q.statuses.is_empty() {
        let codes = q
            .statuses
            .iter()
            .map(|s| MatterStatus::parse(s).map(|s| s.as_str().to_owned()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| AppError::invalid("status", "unknown_code", "未知的办理状态"))?;
        let from = w.next();
        w.sql
            .push(format!("m.status IN ({})", placeholders(from, codes.len())));
        w.args.extend(codes.into_iter().map(Arg::Text));
    }
    if q.overdue {
        // Literals, not parameters: both are server constants (a `Date` prints as YYYY-MM-DD).
        // SQLite re-prepares a statement whose bound range value its STAT4 statistics looked at
        // on every run; without parameters the overdue list keeps its prepared plan.
        w.sql.push(format!("m.deadline < '{today}'"));
        w.sql.push(format!("m.status IN ({})", quoted(HELD)));
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let text = super::bounded("q", text)?;
        w.push(
            |n| format!("(m.title LIKE ${n} ESCAPE '\\' OR m.content LIKE ${n} ESCAPE '\\' OR m.latest_progress LIKE ${n} ESCAPE '\\' OR m.number LIKE ${n} ESCAPE '\\')"),
            Arg::Text(like_pattern(&text)),
        );
    }
    if let Some(d) = &q.deadline_from {
        let d = parse_date("deadline_from", d)?;
        w.push(|n| format!("m.deadline >= ${n}"), Arg::Text(d.to_string()));
    }
    if let Some(d) = &q.deadline_to {
        let d = parse_date("deadline_to", d)?;
        w.push(|n| format!("m.deadline <= ${n}"), Arg::Text(d.to_string()));
    }
    // 子事项: both on the `matters_parent` index.
    if let Some(p) = q.parent_id {
        w.push(|n| format!("m.parent_id = ${n}"), Arg::Int(p));
    }
    if q.top_only {
        w.sql.push("m.parent_id IS NULL".into());
    }
    Ok(())
}

/// The ledger list for `who`: only matters their scope and clearance allow.
pub async fn list_matters(app: &App, who: &Caller, q: &MatterQuery) -> AppResult<MatterPage> {
    let (rows, total, _) = list_inner(app, who, q, Mode::Counted).await?;
    Ok(MatterPage {
        rows,
        total: total.unwrap_or_default(),
        page: q.page.max(1),
        per_page: per_page_of(q),
    })
}

/// One page of the list without its total: the rows and whether more follow.
#[derive(Debug, Clone, Serialize)]
pub struct MatterSlice {
    pub rows: Vec<MatterView>,
    /// Matters follow this page (read as one row past it, not by counting).
    pub more: bool,
}

/// [`list_matters`] without the count (the API's default: counting every match cost more than
/// reading the page itself — 17,000 overdue matters at 100,000).
pub async fn list_slice(app: &App, who: &Caller, q: &MatterQuery) -> AppResult<MatterSlice> {
    let (rows, _, more) = list_inner(app, who, q, Mode::Slice).await?;
    Ok(MatterSlice { rows, more })
}

/// Every matter the query selects for `who`, without paging (exports): one query, no count.
pub async fn list_all_matters(
    app: &App,
    who: &Caller,
    q: &MatterQuery,
) -> AppResult<Vec<MatterView>> {
    Ok(list_inner(app, who, q, Mode::All).await?.0)
}

/// The ids of every matter [`list_all_matters`] would return, in list order, for reading the rows
/// a chunk at a time ([`ListedIds::views`]): an export of any size never holds all the rows.
pub async fn list_all_ids(app: &App, who: &Caller, q: &MatterQuery) -> AppResult<ListedIds> {
    let (mut c, s) = list_sql(app, who, q).await?;
    let sql = all_ids_sql(&s.where_sql, &ordered_sql(s.order, s.dir));
    let ids = store_matters::query_ids(&mut c, sql, &s.w.args).await?;
    Ok(ListedIds { ids, sql: s })
}

/// Ids in list order from [`list_all_ids`], with what reading their rows needs.
pub struct ListedIds {
    /// With a light filter, a superset: [`ListedIds::views`] applies the exact light.
    pub ids: Vec<i64>,
    sql: ListSql,
}

impl ListedIds {
    /// The views of `ids` (a chunk of [`ListedIds::ids`]) in that order, read with the list's own
    /// conditions (scope, labels, filters), so a matter that stopped matching since is left out,
    /// and the exact light filter applied.
    pub async fn views(
        &self,
        c: &mut taizhang_store::Conn,
        ids: &[i64],
    ) -> AppResult<Vec<MatterView>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let s = &self.sql;
        // Integers formatted here, never user text.
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let sql = format!(
            "SELECT {COLS} FROM matters m WHERE {} AND m.id IN ({})",
            s.where_sql,
            list.join(",")
        );
        let mut by_id: std::collections::HashMap<i64, store_matters::MatterRow> =
            store_matters::query_rows_once(c, sql, &s.w.args)
                .await?
                .into_iter()
                .map(|m| (m.id, m))
                .collect();
        Ok(ids
            .iter()
            .filter_map(|id| by_id.remove(id))
            .map(|m| view(&s.cal, &s.r, s.today, m))
            .filter(|v| s.light.is_none_or(|l| v.light == l))
            .collect())
    }
}

/// The list query for `who` and `q` without its paging: conditions, order, and what the views
/// need (calendar, thresholds, today, the exact light filter).
struct ListSql {
    w: Where,
    where_sql: String,
    order: &'static [&'static str],
    dir: &'static str,
    light: Option<Light>,
    cal: std::sync::Arc<taizhang_domain::calendar::WorkCalendar>,
    r: super::LedgerRules,
    today: jiff::civil::Date,
}

async fn list_sql(
    app: &App,
    who: &Caller,
    q: &MatterQuery,
) -> AppResult<(taizhang_store::Conn, ListSql)> {
    who.require(Action::ListMatters, None)?;
    let today = today(app);
    let mut w = Where {
        sql: Vec::new(),
        args: Vec::new(),
    };
    scope_clause(&mut w, who, Action::ListMatters, &listed_statuses(q));
    filter_clauses(&mut w, q, today)?;
    let light = match &q.light {
        Some(l) => Some(
            Light::parse(l)
                .ok_or_else(|| AppError::invalid("light", "unknown_code", "未知的预警色"))?,
        ),
        None => None,
    };
    let mut c = app.store.read().await?;
    let (cal, r) = super::calendar_and_rules(app, &mut c).await?;
    if let Some(l) = light {
        light_prefilter(&mut w, &cal, &r, l, today);
    }
    let order = SORTS
        .iter()
        .find(|(k, _)| Some(*k) == q.sort.as_deref().or(Some("deadline")))
        .map(|(_, sql)| *sql)
        .ok_or_else(|| AppError::invalid("sort", "unknown_sort", "不支持的排序"))?;
    let dir = if q.desc { "DESC" } else { "ASC" };
    let where_sql = if w.sql.is_empty() {
        "1 = 1".to_owned()
    } else {
        w.sql.join(" AND ")
    };
    let s = ListSql {
        w,
        where_sql,
        order,
        dir,
        light,
        cal,
        r,
        today,
    };
    Ok((c, s))
}

/// What [`list_inner`] reads: a page with its total, a page and whether more follow, or all.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Counted,
    Slice,
    All,
}

fn per_page_of(q: &MatterQuery) -> u32 {
    if q.per_page == 0 {
        50
    } else {
        q.per_page.min(200)
    }
}

/// Rows of the page (or all rows), the total when counted, and whether rows follow the page.
async fn list_inner(
    app: &App,
    who: &Caller,
    q: &MatterQuery,
    mode: Mode,
) -> AppResult<(Vec<MatterView>, Option<i64>, bool)> {
    let (mut c, s) = list_sql(app, who, q).await?;
    let ListSql {
        w,
        where_sql,
        order,
        dir,
        light,
        cal,
        r,
        today,
    } = s;
    let per_page = per_page_of(q);
    let ordered = ordered_sql(order, dir);
    let base = format!("SELECT {COLS} FROM matters m WHERE {where_sql} {ordered}");
    let offset = offset_of(q);
    if mode == Mode::All {
        let rows: Vec<MatterView> = store_matters::query_rows(&mut c, base, &w.args)
            .await?
            .into_iter()
            .map(|m| view(&cal, &r, today, m))
            .filter(|v| light.is_none_or(|l| v.light == l))
            .collect();
        let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        return Ok((rows, Some(total), false));
    }
    if let Some(light) = light {
        // The light is derived, so every candidate the SQL prefilter leaves is lit here — from
        // the few columns the light needs, in list order; whole rows are read for the page only
        // (reading whole rows of 40,000 red candidates at 10^5 matters took 1 s and 560 MB).
        let facts = light_facts_sql(&where_sql, order, dir);
        let mut hits: Vec<i64> = Vec::new();
        store_matters::for_each_light_facts(&mut c, facts, &w.args, |f| {
            if super::matters::light_of(&cal, &r, today, &f) == light {
                hits.push(f.id);
            }
        })
        .await?;
        let total = i64::try_from(hits.len()).unwrap_or(i64::MAX);
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let more = hits.len() > skip.saturating_add(per_page as usize);
        let page: Vec<i64> = hits
            .into_iter()
            .skip(skip)
            .take(per_page as usize)
            .collect();
        let mut by_id = store_matters::rows_by_id(&mut c, &page).await?;
        let rows = page
            .iter()
            .filter_map(|id| by_id.remove(id))
            .map(|m| view(&cal, &r, today, m))
            .collect();
        return Ok((rows, Some(total), more));
    }
    let total = if mode == Mode::Counted {
        Some(store_matters::query_count(&mut c, count_sql(&where_sql), &w.args).await?)
    } else {
        None
    };
    let sql = page_sql(q, &where_sql, order, dir, total.is_some());
    let mut rows: Vec<MatterView> = store_matters::query_page(&mut c, &sql, &w.args)
        .await?
        .into_iter()
        .map(|m| view(&cal, &r, today, m))
        .collect();
    let more = match total {
        Some(t) => offset + i64::try_from(rows.len()).unwrap_or(0) < t,
        None => rows.len() > per_page as usize,
    };
    rows.truncate(per_page as usize);
    Ok((rows, total, more))
}

/// `ORDER BY` of the list: every column of the sort key, then the id, all in `dir` (`number`
/// is `m.year, m.seq`: descending by number is descending by year too).
fn ordered_sql(order: &[&str], dir: &str) -> String {
    let keys: Vec<String> = order.iter().map(|k| format!("{k} {dir}")).collect();
    format!("ORDER BY {}, m.id {dir}", keys.join(", "))
}

/// The deadline sort key written so that no index matches it (same values: `deadline || ''`
/// is the deadline, NULL stays NULL). The light filter reads every candidate in list order;
/// given the key's own index, SQLite walked all of it in order with a table lookup per entry
/// (`light=red` at 10^5 matters: 367 ms) instead of reading the candidates by status and
/// sorting them (213 ms).
const DEADLINE_KEY_UNINDEXED: &str = "COALESCE(m.deadline || '', '9999-12-31')";

/// The row offset of the page `q` asks for.
fn offset_of(q: &MatterQuery) -> i64 {
    i64::from(q.page.max(1) - 1) * i64::from(per_page_of(q))
}

/// The total of a counted list.
fn count_sql(where_sql: &str) -> String {
    format!("SELECT COUNT(*) FROM matters m WHERE {where_sql}")
}

/// Every id of the list in list order (exports).
fn all_ids_sql(where_sql: &str, ordered: &str) -> String {
    format!("SELECT m.id FROM matters m WHERE {where_sql} {ordered}")
}

/// The columns the light of every candidate of a light-filtered list needs, in list order.
fn light_facts_sql(where_sql: &str, order: &[&str], dir: &str) -> String {
    let order = if order == [DEADLINE_KEY] {
        &[DEADLINE_KEY_UNINDEXED]
    } else {
        order
    };
    let ordered = ordered_sql(order, dir);
    format!(
        "SELECT m.id, m.status, m.deadline, m.assigned_on, m.progress, m.source_category \
         FROM matters m WHERE {where_sql} {ordered}"
    )
}

/// The rows of one page: with its total counted, the page; otherwise one row past it, which
/// tells whether more follow.
fn page_sql(q: &MatterQuery, where_sql: &str, order: &[&str], dir: &str, counted: bool) -> String {
    let per_page = per_page_of(q);
    let take = if counted { per_page } else { per_page + 1 };
    // The page's ids and sort keys first, on the narrowest index the conditions allow, then only
    // those rows, joined by primary key and put in order by the keys the ids came with: sorting
    // whole rows read every matching matter's text columns (17,000 for the overdue list), and
    // `m.id IN (ids) ORDER BY …` still sorted the page's whole rows on their own columns (the
    // overdue page: 330 → 200 µs in SQLite at 10^5 matters).
    let (ids, keys) = page_ids_sql(q, where_sql, order, dir, take, offset_of(q));
    let by: Vec<String> = (1..=keys)
        .map(|k| format!("p.k{k} {dir}"))
        .chain(std::iter::once(format!("p.id {dir}")))
        .collect();
    format!(
        "SELECT {COLS} FROM ({ids}) p JOIN matters m ON m.id = p.id ORDER BY {}",
        by.join(", ")
    )
}

/// One statement a list runs, as the list builds it, with its arguments.
pub(crate) struct Statement {
    /// What it reads: `count`, `page`, `light facts` or `export ids`.
    pub(crate) what: &'static str,
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
}

/// The statements the list runs on `matters` for `who` and `q` (`taizhang bench explain`):
/// [`list_matters`] (`Counted`), [`list_slice`] (`Slice`) or [`list_all_ids`] (`All`). With a
/// light filter, the page and count come from the light facts (and the page's rows by id).
pub(crate) async fn statements(
    app: &App,
    who: &Caller,
    q: &MatterQuery,
    mode: Mode,
) -> AppResult<Vec<Statement>> {
    let (_c, s) = list_sql(app, who, q).await?;
    let ordered = ordered_sql(s.order, s.dir);
    let one = |what: &'static str, sql: String| Statement {
        what,
        sql,
        args: s.w.args.clone(),
    };
    Ok(match mode {
        Mode::All => vec![one("export ids", all_ids_sql(&s.where_sql, &ordered))],
        _ if s.light.is_some() => vec![one(
            "light facts",
            light_facts_sql(&s.where_sql, s.order, s.dir),
        )],
        Mode::Counted => vec![
            one("count", count_sql(&s.where_sql)),
            one("page", page_sql(q, &s.where_sql, s.order, s.dir, true)),
        ],
        Mode::Slice => vec![one(
            "page",
            page_sql(q, &s.where_sql, s.order, s.dir, false),
        )],
    })
}

/// The ids of one page in list order (`order`, `dir`), as `id` with the sort keys `k1`, `k2`…;
/// returns the query and how many keys it carries.
///
/// Sorted by deadline with the statuses known, the page is a merge of one short run per status,
/// each read in order from an index and cut at `offset + take`: every row has one status, so the
/// runs are disjoint and the first `offset + take` of the whole list are among them. With the
/// deadline bounded (overdue, or a deadline range: never NULL, so the sort key's COALESCE changes
/// nothing) a run reads `matters_status_deadline` (status, deadline); otherwise, for two or more
/// statuses (the desk's 待审核), `matters_status_deadline_key` (status, sort key, id). The overdue
/// list reads 4 × 51 index entries instead of sorting all 17,000 overdue matters. Otherwise: one
/// sorted query (a single status walks `matters_status_deadline_key`, no filter at all
/// `matters_deadline_key`).
fn page_ids_sql(
    q: &MatterQuery,
    where_sql: &str,
    order: &[&str],
    dir: &str,
    take: u32,
    offset: i64,
) -> (String, usize) {
    let ordered = ordered_sql(order, dir);
    let by_deadline = q.sort.as_deref().unwrap_or("deadline") == "deadline";
    let bounded = q.overdue || q.deadline_from.is_some() || q.deadline_to.is_some();
    let statuses = listed_statuses(q);
    if !by_deadline || statuses.is_empty() || (!bounded && statuses.len() == 1) {
        let keys: String = order
            .iter()
            .enumerate()
            .map(|(i, k)| format!(", {k} AS k{}", i + 1))
            .collect();
        return (
            format!(
                "SELECT m.id AS id{keys} FROM matters m WHERE {where_sql} {ordered} \
                 LIMIT {take} OFFSET {offset}"
            ),
            order.len(),
        );
    }
    let key = if bounded { "m.deadline" } else { DEADLINE_KEY };
    let run_len = i64::from(take).saturating_add(offset);
    let runs: Vec<String> = statuses
        .iter()
        .map(|s| {
            format!(
                "SELECT r.id, r.d FROM (SELECT m.id AS id, {key} AS d FROM matters m \
                 WHERE {where_sql} AND m.status = '{s}' \
                 ORDER BY {key} {dir}, m.id {dir} LIMIT {run_len}) r"
            )
        })
        .collect();
    (
        format!(
            "SELECT u.id AS id, u.d AS k1 FROM ({}) u ORDER BY u.d {dir}, u.id {dir} \
             LIMIT {take} OFFSET {offset}",
            runs.join(" UNION ALL ")
        ),
        1,
    )
}

/// The statuses a list is limited to (its `status` filter, narrowed to [`HELD`] by `overdue`),
/// sorted, as stored; empty when the list does not name them. Codes are checked by
/// `filter_clauses` (an unknown one fails the list); these are server constants, never user text.
fn listed_statuses(q: &MatterQuery) -> Vec<&'static str> {
    let mut statuses: Vec<&'static str> = q
        .statuses
        .iter()
        .filter_map(|s| MatterStatus::parse(s).map(MatterStatus::as_str))
        .collect();
    if q.overdue {
        statuses = if statuses.is_empty() {
            HELD.to_vec()
        } else {
            statuses.retain(|s| HELD.contains(s));
            statuses
        };
    }
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

/// Statuses whose light is always grey (not started, or finished).
const GREY: &[&str] = &[
    "draft",
    "pending_approval",
    "completed",
    "closed",
    "stopped",
    "carried_over",
];

/// Status codes (server constants, never user text) as an SQL list: `'a', 'b'`.
pub(super) fn quoted(v: &[&str]) -> String {
    v.iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A superset of the matters that can show light `l` today, in SQL, so the exact (calendar-based)
/// light is computed for a few rows instead of the whole ledger: red needs an overdue deadline or
/// a reported progress (序时 lag); yellow needs a deadline within the window or a progress. With
/// thresholds per 任务来源 the window is the widest of any category, so the superset holds for
/// every category and the exact light (with the matter's own row) decides afterwards.
fn light_prefilter(
    w: &mut Where,
    cal: &taizhang_domain::calendar::WorkCalendar,
    rules: &super::LedgerRules,
    l: Light,
    today: jiff::civil::Date,
) {
    match l {
        Light::Grey => w.sql.push(format!("m.status IN ({})", quoted(GREY))),
        Light::Green => w.sql.push(format!("m.status NOT IN ({})", quoted(GREY))),
        Light::Red | Light::Yellow => {
            let window = rules.light.max_window();
            let edge = if l == Light::Red {
                today
            } else {
                cal.add_workdays(today, window).unwrap_or(today)
            };
            w.sql.push(format!("m.status IN ({})", quoted(HELD)));
            let op = if l == Light::Red { "<" } else { "<=" };
            w.push(
                |n| format!("(m.deadline {op} ${n} OR m.progress IS NOT NULL)"),
                Arg::Text(edge.to_string()),
            );
        }
    }
}

/// A person's desk (工作台) counts.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DeskCounts {
    /// 待签收
    pub to_sign: i64,
    /// 待反馈 (a report cycle missed)
    pub to_report: i64,
    /// 待审核 (立项、办结、延期、中止 awaiting a decision) — for reviewers.
    pub to_review: i64,
    /// 即将到期 (today or within the 临期 window)
    pub due_soon: i64,
    /// 已超期
    pub overdue: i64,
}

/// Desk counts over the matters led by units in `who`'s scope, by classifying every running
/// matter as the daily check does: the definition that [`super::desk::desk_counts`] (what the
/// desk shows, in one SQL pass) is checked against on every day of the month replay.
pub async fn desk_counts(app: &App, who: &Caller) -> AppResult<DeskCounts> {
    who.require(Action::ListMatters, None)?;
    let units: Option<Vec<i64>> = if who.is_system() {
        None
    } else {
        match policy::list_scope(&who.actor, Action::ListMatters) {
            ListScope::All => None,
            ListScope::Units(u) => Some(u),
            ListScope::Nothing => Some(Vec::new()),
        }
    };
    let today = today(app);
    let mut c = app.store.read().await?;
    let cal = super::calendar::load_cached(app, &mut c).await?;
    let r = rules();
    let mut d = DeskCounts::default();
    let running: Vec<&str> = MatterStatus::ALL
        .iter()
        .filter(|s| s.is_running())
        .map(|s| s.as_str())
        .collect();
    let reviewer =
        who.is_system() || who.has_role(Role::Supervisor) || who.has_role(Role::DeptLeader);
    store_matters::for_each_running(&mut c, &running, units.as_deref(), |f| {
        let facts = super::daily::facts_of(&cal, today, &f);
        for cat in classify(&cal, &r.check, today, &facts) {
            match cat {
                CheckCategory::DueToday | CheckCategory::DueSoon => d.due_soon += 1,
                CheckCategory::Overdue => d.overdue += 1,
                CheckCategory::ReportMissed => d.to_report += 1,
                _ => {}
            }
        }
        match facts.status {
            MatterStatus::Assigned => d.to_sign += 1,
            MatterStatus::CompletionPending
            | MatterStatus::ExtensionPending
            | MatterStatus::StopPending
                if reviewer =>
            {
                d.to_review += 1
            }
            _ => {}
        }
    })
    .await?;
    if reviewer {
        store_matters::for_each_running(&mut c, &["pending_approval"], units.as_deref(), |_| {
            d.to_review += 1
        })
        .await?;
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_of_a_sort_key_takes_the_direction() {
        let number = SORTS.iter().find(|(k, _)| *k == "number").map(|(_, s)| *s);
        assert_eq!(
            ordered_sql(number.unwrap_or_default(), "DESC"),
            "ORDER BY m.year DESC, m.seq DESC, m.id DESC"
        );
        // The deadline key is one column, whatever commas its SQL holds.
        assert_eq!(
            ordered_sql(&[DEADLINE_KEY], "ASC"),
            "ORDER BY COALESCE(m.deadline, '9999-12-31') ASC, m.id ASC"
        );
        assert_eq!(
            light_facts_sql("1 = 1", &[DEADLINE_KEY], "DESC"),
            "SELECT m.id, m.status, m.deadline, m.assigned_on, m.progress, m.source_category \
             FROM matters m WHERE 1 = 1 ORDER BY COALESCE(m.deadline || '', '9999-12-31') DESC, m.id DESC"
        );
    }
}
