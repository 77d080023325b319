//! The JSON shapes of `/api/v1`, with their OpenAPI schemas. Dates are `YYYY-MM-DD` strings,
//! instants unix milliseconds. Request bodies refuse unknown fields.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use taizhang_app::ledger::MatterView;
use taizhang_store::ledger::EventRow;
use utoipa::ToSchema;

/// One error; `code` is stable, `field` names the input at fault when there is one.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    pub code: String,
    pub field: Option<String>,
    pub detail: String,
}

/// Every error answer: `{"errors":[{"code","field","detail"}]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub errors: Vec<ApiError>,
}

/// A matter with the facts derived at read time (light, days left, overdue).
#[derive(Debug, Serialize, ToSchema)]
pub struct MatterOut {
    pub id: i64,
    pub year: i64,
    pub number: String,
    pub title: String,
    pub content: String,
    pub source_category: String,
    pub source_doc: String,
    pub lead_leader_id: Option<i64>,
    pub lead_unit_id: i64,
    /// `date`, `workdays`, `calendar_days` or `none`.
    pub deadline_kind: String,
    pub deadline_workdays: Option<i64>,
    pub deadline: Option<String>,
    pub original_deadline: Option<String>,
    pub urgency: String,
    pub major: bool,
    pub feedback_cycle: String,
    pub status: String,
    pub status_label: String,
    pub progress: Option<i64>,
    pub label: String,
    pub parent_id: Option<i64>,
    pub carried_from_id: Option<i64>,
    pub remarks: String,
    pub latest_progress: String,
    pub assigned_on: Option<String>,
    pub signed_on: Option<String>,
    pub completed_on: Option<String>,
    pub closed_on: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
    /// `green`, `yellow`, `red` or `grey`.
    pub light: String,
    pub days_left: Option<i64>,
    pub overdue: bool,
    pub provisional: bool,
}

impl From<MatterView> for MatterOut {
    fn from(v: MatterView) -> MatterOut {
        let light = v.light.code().to_owned();
        let m = v.row;
        MatterOut {
            id: m.id,
            year: m.year,
            number: m.number,
            title: m.title,
            content: m.content,
            source_category: m.source_category,
            source_doc: m.source_doc,
            lead_leader_id: m.lead_leader_id,
            lead_unit_id: m.lead_unit_id,
            deadline_kind: m.deadline_kind,
            deadline_workdays: m.deadline_workdays,
            deadline: m.deadline,
            original_deadline: m.original_deadline,
            urgency: m.urgency,
            major: m.major,
            feedback_cycle: m.feedback_cycle,
            status: m.status,
            status_label: v.status_label,
            progress: m.progress,
            label: m.label,
            parent_id: m.parent_id,
            carried_from_id: m.carried_from_id,
            remarks: m.remarks,
            latest_progress: m.latest_progress,
            assigned_on: m.assigned_on,
            signed_on: m.signed_on,
            completed_on: m.completed_on,
            closed_on: m.closed_on,
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
            light,
            days_left: v.days_left,
            overdue: v.overdue,
            provisional: v.provisional,
        }
    }
}

/// One page of matters. `next_cursor` is opaque; `total` only with `with_total=true`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatterList {
    pub items: Vec<MatterOut>,
    pub next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

/// One step of the timeline: who, when, what.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEvent {
    pub id: i64,
    pub at_ms: i64,
    pub on_day: String,
    pub actor_id: Option<i64>,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: String,
}

impl From<EventRow> for TimelineEvent {
    fn from(e: EventRow) -> TimelineEvent {
        TimelineEvent {
            id: e.id,
            at_ms: e.at_ms,
            on_day: e.on_day,
            actor_id: e.actor_id,
            kind: e.kind,
            from_status: e.from_status,
            to_status: e.to_status,
            note: e.note,
        }
    }
}

/// A matter with its whole record (一事一台账). Send the response's `ETag` back in `If-Match`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatterDetailOut {
    pub matter: MatterOut,
    pub assisting_unit_ids: Vec<i64>,
    pub handler_ids: Vec<i64>,
    pub timeline: Vec<TimelineEvent>,
    #[schema(value_type = Vec<Object>)]
    pub milestones: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub reports: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub extensions: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub urges: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub notices: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub effects: Vec<Value>,
    /// Step codes `who` may take now.
    pub actions: Vec<String>,
    /// 父事项 of a 子事项 (`title` only when the caller may open it).
    pub parent: Option<ParentOut>,
    /// 子事项 within the caller's clearance, in number order, with their lights.
    pub children: Vec<MatterOut>,
}

/// The parent of a 子事项.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParentOut {
    pub id: i64,
    pub number: String,
    pub title: Option<String>,
}

/// The result of a step: the id it created (report, extension, notice…) if any.
#[derive(Debug, Serialize, ToSchema)]
pub struct Done {
    pub id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// A 节点 entered with the matter.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneIn {
    pub title: String,
    /// `YYYY-MM-DD`.
    pub due_on: String,
    #[serde(default)]
    pub owner_id: Option<i64>,
}

/// 立项. Deadline: exactly one of `deadline` (date), `deadline_workdays`, `deadline_days`, or none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMatterIn {
    pub title: String,
    pub lead_unit_id: i64,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub source_category: Option<String>,
    #[serde(default)]
    pub source_doc: String,
    #[serde(default)]
    pub lead_leader_id: Option<i64>,
    #[serde(default)]
    pub assisting_unit_ids: Vec<i64>,
    #[serde(default)]
    pub handler_ids: Vec<i64>,
    #[serde(default)]
    pub deadline: Option<String>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub deadline_workdays: Option<u32>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub deadline_days: Option<u32>,
    #[serde(default)]
    pub urgency: Option<String>,
    #[serde(default)]
    pub major: bool,
    #[serde(default)]
    pub feedback_cycle: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    /// Create a 子事项 of this running matter: year, 任务来源, 来源文件 and 牵头领导 are inherited
    /// unless given; the deadline may not be later than the parent's; two levels at most.
    #[serde(default)]
    pub parent_id: Option<i64>,
    #[serde(default)]
    pub remarks: String,
    #[serde(default)]
    pub milestones: Vec<MilestoneIn>,
}

/// The id of what was created.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// A reason (驳回、退回、申请中止、回头看、结转).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonIn {
    pub reason: String,
}

/// 报进展.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressIn {
    pub body: String,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub progress: Option<u8>,
    #[serde(default)]
    pub problems: String,
    #[serde(default)]
    pub coordination: String,
    #[serde(default)]
    pub next_steps: String,
}

/// 申请延期.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionIn {
    pub reason: String,
    #[serde(default)]
    pub current_progress: String,
    /// `YYYY-MM-DD`.
    pub proposed_deadline: String,
}

/// A decision (延期、中止、办结、进展审核、周小结).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    pub approve: bool,
    /// Required when refusing.
    #[serde(default)]
    pub note: String,
    /// 延期: the granted deadline (default: the one asked for).
    #[serde(default)]
    pub new_deadline: Option<String>,
}

/// 报办结.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionIn {
    pub basis: String,
}

/// 催办.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UrgeIn {
    /// e.g. `phone`, `message`, `visit`, `written`.
    pub method: String,
    #[serde(default)]
    pub note: String,
}

/// 督办单.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeIn {
    /// `blue`, `yellow` or `red`.
    pub color: String,
    pub reason: String,
    #[serde(default)]
    pub requirement: String,
    /// `YYYY-MM-DD`.
    pub due_on: String,
}

/// 书面说明 answering a 督办单.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyIn {
    pub reply: String,
}

/// 问效.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EffectIn {
    pub rating: String,
    #[serde(default)]
    pub evidence: String,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub lookback_on: Option<String>,
}

/// A day to run a cadence for (`YYYY-MM-DD`; default today).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DayIn {
    #[serde(default)]
    pub day: Option<String>,
}

/// A period key: `2026-W12` or `2026-03`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodIn {
    pub period: String,
}

/// A ledger year.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YearIn {
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i64,
}

/// A generic JSON object answer (reports, snapshots, lists) whose shape follows the use case.
#[derive(Debug, Serialize, ToSchema)]
pub struct Payload {
    /// An object or a list, as the use case answers.
    pub data: Value,
}

/// The date `days` working days after `start`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkdaysOut {
    pub start: String,
    pub days: u32,
    pub date: String,
    /// The result lies in a year whose holiday notice is not loaded.
    pub provisional: bool,
}

/// Unread inbox lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountOut {
    pub unread: i64,
}

/// One inbox line.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxOut {
    pub id: i64,
    pub event_kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub matter_id: Option<i64>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// A unit of the organization tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitOut {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub short_name: String,
    pub kind: String,
    pub leader_id: Option<i64>,
    pub retired: bool,
}

/// A person (administrators).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonOut {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    pub position: String,
    pub roles: Vec<String>,
    pub disabled: bool,
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeOut {
    pub person_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    pub roles: Vec<String>,
}

/// JSON login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub totp: Option<String>,
}

/// After a JSON login: the next step and the CSRF token for unsafe calls with the cookie.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginOut {
    pub person_id: i64,
    pub next: String,
    pub csrf_token: String,
}
