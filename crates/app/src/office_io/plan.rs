//! The dry run: every parsed matter becomes a [`RowPlan`] (create, update, unchanged or refused,
//! with the reason) and, when it can be applied, a [`Prepared`] input. Nothing is written here;
//! the plan reads the unit tree, the people, the calendar and the stored import keys once.
//!
//! Decisions (documented in the import page and `taizhang import --help`):
//! - A new matter enters the ledger as already 交办 and 签收 (办理中) on the import day: the
//!   sheet records work under way. 完成情况 maps 已办结/已完成 → 已办结, 已销号 → 已销号,
//!   中止/终止 → 已中止, 未启动/待签收 → 已交办; anything else → 办理中.
//! - An update never changes the status (the workflow owns it after the first import); a
//!   different 完成情况 is reported as a note.
//! - Two lead units in one cell: the first leads, the others become 配合单位 (noted).
//! - A past deadline is accepted (the matter is simply overdue); an empty one is refused.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::civil::Date;
use serde::Serialize;
use taizhang_domain::calendar::WorkCalendar;
use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::matter::{MatterTitle, SourceCategory};
use taizhang_office::{ImportedMatter, ParsedDeadline, ParsedWorkbook};
use taizhang_store::matters::{self as store_matters, MatterRow};
use taizhang_store::{Conn, cadences, imports, ledger as store_ledger};

use super::names::Directory;
use crate::AppResult;
use crate::ledger::matters::{DeadlineInput, NewMatter, NewMilestone};

/// What applying a row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowAction {
    Create,
    Update,
    /// Already imported and nothing differs.
    Unchanged,
    Refused,
}

impl RowAction {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Create => "新建",
            Self::Update => "更新",
            Self::Unchanged => "无变化",
            Self::Refused => "拒绝",
        }
    }
}

/// One matter of the file in the dry-run report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowPlan {
    pub sheet: String,
    /// 1-based first row, as Excel shows it.
    pub row: u32,
    pub title: String,
    pub action: RowAction,
    pub action_label: String,
    /// The existing matter (update / unchanged).
    pub matter_id: Option<i64>,
    pub number: Option<String>,
    pub lead_unit: String,
    pub deadline: String,
    pub milestones: usize,
    pub no_fixed_deadline: bool,
    /// 说明: mapped status, changed fields, renumbering…
    pub notes: Vec<String>,
    /// Why the row is refused.
    pub reason: Option<String>,
}

/// Everything needed to apply one row.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub input: NewMatter,
    pub year: i16,
    pub key: String,
    pub keep_number: Option<String>,
    pub status: MatterStatus,
    pub progress_text: String,
    pub existing: Option<MatterRow>,
    pub source: ImportedMatter,
}

pub(crate) struct Planned {
    pub plan: RowPlan,
    pub prepared: Option<Prepared>,
}

/// 完成情况 as written → the status a new matter starts in.
pub(crate) fn initial_status(text: &str) -> MatterStatus {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let has = |w: &str| t.contains(w);
    if has("未完成") || has("未办结") || has("未销号") {
        MatterStatus::InProgress
    } else if has("销号") {
        MatterStatus::Closed
    } else if has("办结") || has("完成") {
        MatterStatus::Completed
    } else if has("中止") || has("终止") || has("取消") {
        MatterStatus::Stopped
    } else if has("未启动") || has("未开始") || has("待签收") {
        MatterStatus::Assigned
    } else {
        MatterStatus::InProgress
    }
}

/// Reads shared by every row of one plan.
pub(crate) struct Context<'a> {
    pub dir: &'a Directory,
    pub cal: &'a WorkCalendar,
    pub today: Date,
    pub keys: HashMap<(i64, String), i64>,
    pub closed: BTreeMap<i64, bool>,
    pub numbers: HashSet<(i64, String)>,
    pub seen: HashMap<String, u32>,
    pub sheet_years: HashMap<String, Option<i16>>,
    pub default_year: Option<i16>,
    /// Read ahead of planning (see [`prefetch`]): stored matters by (year, number), the rows
    /// of every matter a row may update, and their 配合单位 and milestones.
    pub ahead: Ahead,
}

/// What [`prefetch`] read for a whole workbook, so planning a row needs no query.
#[derive(Default)]
pub(crate) struct Ahead {
    by_number: HashMap<(i64, String), i64>,
    rows: HashMap<i64, MatterRow>,
    assisting: HashMap<i64, Vec<i64>>,
    milestones: HashMap<i64, Vec<(String, String)>>,
}

/// The year a row belongs to: its sheet's year, the workbook's, its deadline's, or this year.
fn year_of(ctx: &Context<'_>, m: &ImportedMatter) -> i16 {
    ctx.sheet_years
        .get(&m.sheet)
        .copied()
        .flatten()
        .or(ctx.default_year)
        .or(m.deadline.date().map(|d| d.year()))
        .unwrap_or(ctx.today.year())
}

/// Read, in a few batched queries, everything the rows of `parsed` are matched against: the
/// numbers they carry, the matters their import keys or numbers point at, and those matters'
/// 配合单位 and milestones (10,000 rows used to cost about 30,000 single-row queries).
async fn prefetch(c: &mut Conn, ctx: &mut Context<'_>, parsed: &ParsedWorkbook) -> AppResult<()> {
    let mut numbers: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let mut ids: Vec<i64> = Vec::new();
    for m in &parsed.matters {
        let y = i64::from(year_of(ctx, m));
        if let Some(n) = m.number.as_ref().filter(|n| !n.trim().is_empty()) {
            numbers.entry(y).or_default().push(n.clone());
        }
        if let Some(id) = ctx.keys.get(&(y, m.source_key.clone())) {
            ids.push(*id);
        }
    }
    let mut ahead = Ahead::default();
    for (y, mut list) in numbers {
        list.sort_unstable();
        list.dedup();
        for chunk in list.chunks(500) {
            for (id, number) in imports::matters_with_numbers(c, y, chunk).await? {
                ids.push(id);
                ahead.by_number.insert((y, number), id);
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    for row in store_matters::rows_of(c, &ids).await? {
        ahead.rows.insert(row.id, row);
    }
    for chunk in ids.chunks(500) {
        for (m, u) in store_matters::assisting_units_of(c, chunk).await? {
            ahead.assisting.entry(m).or_default().push(u);
        }
        for ms in store_ledger::milestones_of(c, chunk).await? {
            ahead
                .milestones
                .entry(ms.matter_id)
                .or_default()
                .push((ms.title, ms.due_on));
        }
    }
    for v in ahead.assisting.values_mut() {
        v.sort_unstable();
    }
    ctx.ahead = ahead;
    Ok(())
}

impl Context<'_> {
    async fn year_closed(&mut self, c: &mut Conn, year: i64) -> AppResult<bool> {
        if let Some(v) = self.closed.get(&year) {
            return Ok(*v);
        }
        let v = cadences::year_closed(c, year).await?;
        self.closed.insert(year, v);
        Ok(v)
    }
}

/// Plans every matter of `parsed` (reads only).
pub(crate) async fn plan_all(
    c: &mut Conn,
    ctx: &mut Context<'_>,
    parsed: &ParsedWorkbook,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> AppResult<Vec<Planned>> {
    prefetch(c, ctx, parsed).await?;
    let mut out = Vec::with_capacity(parsed.matters.len());
    let total = parsed.matters.len();
    for (i, m) in parsed.matters.iter().enumerate() {
        out.push(plan_one(c, ctx, m).await?);
        if (i + 1) % 200 == 0 || i + 1 == total {
            progress(i + 1, total);
        }
    }
    Ok(out)
}

fn refused(base: RowPlan, reasons: Vec<String>) -> Planned {
    Planned {
        plan: RowPlan {
            action: RowAction::Refused,
            action_label: RowAction::Refused.label_zh().into(),
            reason: Some(reasons.join("；")),
            ..base
        },
        prepared: None,
    }
}

async fn plan_one(c: &mut Conn, ctx: &mut Context<'_>, m: &ImportedMatter) -> AppResult<Planned> {
    let mut notes = Vec::new();
    let mut reasons = Vec::new();
    let year = year_of(ctx, m);
    let deadline_text = match &m.deadline {
        ParsedDeadline::Date { date, .. } => date.to_string(),
        ParsedDeadline::NoFixed { text } => text.clone(),
        ParsedDeadline::Missing => String::new(),
    };
    let base = RowPlan {
        sheet: m.sheet.clone(),
        row: m.row,
        title: m.title.clone(),
        action: RowAction::Create,
        action_label: RowAction::Create.label_zh().into(),
        matter_id: None,
        number: m.number.clone(),
        lead_unit: m.lead_unit_names.join("、"),
        deadline: deadline_text,
        milestones: m.milestones.iter().filter(|x| x.date.is_some()).count(),
        no_fixed_deadline: matches!(m.deadline, ParsedDeadline::NoFixed { .. }),
        notes: Vec::new(),
        reason: None,
    };
    let dup_key = format!("{year}\u{1f}{}", m.source_key);
    if let Some(first) = ctx.seen.get(&dup_key) {
        let why = format!("与第 {first} 行重复（同一工作表中事项名称和牵头单位相同）");
        return Ok(refused(base, vec![why]));
    }
    ctx.seen.insert(dup_key, m.row);

    // Units and leader.
    let mut lead = None;
    let mut assisting = Vec::new();
    if m.lead_unit_names.is_empty() {
        reasons.push("缺少牵头单位".to_owned());
    }
    for (i, name) in m.lead_unit_names.iter().enumerate() {
        match ctx.dir.unit("牵头单位", name) {
            Ok(id) if i == 0 => lead = Some(id),
            Ok(id) => assisting.push(id),
            Err(e) => reasons.push(e),
        }
    }
    if m.lead_unit_names.len() > 1 {
        notes.push(format!(
            "牵头单位写了{}个，以「{}」为牵头单位，其余列为配合单位",
            m.lead_unit_names.len(),
            m.lead_unit_names[0]
        ));
    }
    for name in &m.assisting_unit_names {
        match ctx.dir.unit("配合单位", name) {
            Ok(id) => assisting.push(id),
            Err(e) => reasons.push(e),
        }
    }
    assisting.sort_unstable();
    assisting.dedup();
    assisting.retain(|u| Some(*u) != lead);
    let leader = match m.lead_leader_name.trim() {
        "" => None,
        name => match ctx.dir.leader(name) {
            Ok(id) => Some(id),
            Err(e) => {
                reasons.push(e);
                None
            }
        },
    };

    // Deadline, milestones and texts.
    let deadline = match &m.deadline {
        ParsedDeadline::Date {
            date,
            end_of_period,
        } => {
            if let Err(e) = ctx.cal.next_workday_on_or_after(*date) {
                reasons.push(format!("完成时限 {date} 超出日历范围：{e}"));
            }
            if *end_of_period {
                notes.push(format!("完成时限按期末计为 {date}"));
            }
            if *date < ctx.today {
                notes.push("完成时限已过".to_owned());
            }
            DeadlineInput::Date(date.to_string())
        }
        ParsedDeadline::NoFixed { text } => {
            notes.push(format!("「{text}」：无固定完成时限"));
            DeadlineInput::None
        }
        ParsedDeadline::Missing => {
            reasons.push("完成时限为空（长期事项请填写“长期坚持”）".to_owned());
            DeadlineInput::None
        }
    };
    let mut milestones = Vec::new();
    for ms in &m.milestones {
        match ms.date {
            Some(d) => {
                if let Err(e) = MatterTitle::parse(&ms.title) {
                    reasons.push(format!("节点「{}」：{e}", ms.title));
                }
                milestones.push(NewMilestone {
                    title: ms.title.clone(),
                    due_on: d.to_string(),
                    owner_id: None,
                });
            }
            None => notes.push(format!("节点「{}」没有日期，未导入", ms.title)),
        }
    }
    for (what, text) in [
        ("具体要求", &m.requirements),
        ("进展情况", &m.progress_text),
        ("备注", &m.remarks),
    ] {
        if text.chars().count() > crate::ledger::TEXT_MAX_CHARS {
            reasons.push(format!("{what}超过{}个字", crate::ledger::TEXT_MAX_CHARS));
        }
    }
    let (source_category, source_doc) = match SourceCategory::parse(&m.source) {
        Ok(s) => (s.code().to_owned(), String::new()),
        Err(_) => ("other".to_owned(), m.source.clone()),
    };
    let mut input = NewMatter::basic(&m.title, lead.unwrap_or(0), deadline);
    input.content = m.requirements.clone();
    input.source_category = source_category;
    input.source_doc = source_doc;
    input.lead_leader_id = leader;
    input.assisting_unit_ids = assisting;
    input.feedback_cycle = m.feedback_cycle.map_or_else(|| "none".into(), |c| c.code());
    input.remarks = m.remarks.clone();
    input.milestones = milestones;

    // Create or update?
    let y = i64::from(year);
    let mut existing = ctx
        .keys
        .get(&(y, m.source_key.clone()))
        .and_then(|id| ctx.ahead.rows.get(id))
        .cloned();
    if existing.is_none()
        && let Some(n) = &m.number
        && let Some(row) = ctx
            .ahead
            .by_number
            .get(&(y, n.clone()))
            .and_then(|id| ctx.ahead.rows.get(id))
    {
        let row = row.clone();
        if taizhang_office::normalize_name(&row.title) == taizhang_office::normalize_name(&m.title)
        {
            notes.push(format!("按编号「{n}」匹配到已有事项"));
            existing = Some(row);
        }
    }
    if ctx.year_closed(c, y).await? {
        reasons.push(format!("{year}年度已归零，不能导入或修改该年度事项"));
    }
    if !reasons.is_empty() {
        return Ok(refused(base, reasons));
    }
    let status = initial_status(&m.status_text);
    let mut plan = base;
    let mut keep_number = None;
    match &existing {
        Some(row) => {
            let changed = changes(&ctx.ahead, row, &input, &m.progress_text);
            plan.matter_id = Some(row.id);
            plan.number = Some(row.number.clone());
            plan.action = if changed.is_empty() {
                RowAction::Unchanged
            } else {
                notes.push(format!("将更新：{}", changed.join("、")));
                RowAction::Update
            };
            if !m.status_text.trim().is_empty() && row.status != status.as_str() {
                notes.push(format!(
                    "完成情况「{}」未改变系统中的办理状态（以系统流程为准）",
                    m.status_text.trim()
                ));
            }
        }
        None => {
            if let Some(n) = m.number.as_ref().filter(|n| !n.trim().is_empty()) {
                let free = !ctx.numbers.contains(&(y, n.clone()))
                    && !ctx.ahead.by_number.contains_key(&(y, n.clone()));
                if free {
                    keep_number = Some(n.clone());
                    ctx.numbers.insert((y, n.clone()));
                } else {
                    notes.push(format!("原编号「{n}」已被占用，将重新编号"));
                    plan.number = None;
                }
            }
            notes.push(format!("导入后状态：{}", status.label_zh()));
        }
    }
    plan.action_label = plan.action.label_zh().into();
    plan.notes = notes;
    Ok(Planned {
        plan,
        prepared: Some(Prepared {
            input,
            year,
            key: m.source_key.clone(),
            keep_number,
            status,
            progress_text: m.progress_text.clone(),
            existing,
            source: m.clone(),
        }),
    })
}

/// Names of the fields an update would change.
fn changes(ahead: &Ahead, row: &MatterRow, input: &NewMatter, progress: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let deadline = match &input.deadline {
        DeadlineInput::Date(d) => Some(d.clone()),
        _ => None,
    };
    if row.content != input.content.trim() {
        out.push("具体要求");
    }
    if row.source_category != input.source_category || row.source_doc != input.source_doc.trim() {
        out.push("任务来源");
    }
    if row.lead_leader_id != input.lead_leader_id {
        out.push("牵头领导");
    }
    if row.lead_unit_id != input.lead_unit_id {
        out.push("牵头单位");
    }
    if row.deadline != deadline {
        out.push("完成时限");
    }
    if row.feedback_cycle != input.feedback_cycle {
        out.push("反馈周期");
    }
    if row.remarks != input.remarks.trim() {
        out.push("备注");
    }
    if !progress.trim().is_empty() && row.latest_progress != progress.trim() {
        out.push("进展情况");
    }
    let assisting = ahead.assisting.get(&row.id).map_or(&[][..], Vec::as_slice);
    if assisting != input.assisting_unit_ids.as_slice() {
        out.push("配合单位");
    }
    let have = ahead.milestones.get(&row.id).map_or(&[][..], Vec::as_slice);
    let want: Vec<(String, String)> = input
        .milestones
        .iter()
        .map(|m| (m.title.clone(), m.due_on.clone()))
        .collect();
    if have != want.as_slice() {
        out.push("细化时间节点");
    }
    out
}

/// Row refusals of the plan (name matching, validation) as the office crate reports them.
pub(crate) fn refusals(planned: &[Planned]) -> Vec<taizhang_office::RowRefusal> {
    planned
        .iter()
        .filter_map(|p| {
            p.plan.reason.as_ref().map(|r| taizhang_office::RowRefusal {
                sheet: p.plan.sheet.clone(),
                row: p.plan.row,
                reason: r.clone(),
            })
        })
        .collect()
}
