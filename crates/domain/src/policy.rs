//! Access policy (访问控制策略), decided in one place: roles, scopes, security labels.
//!
//! Every handler, list, search, export and statistics query asks [`authorize`] or
//! [`list_scope`]; nothing else decides. The policy fails closed: an unknown combination,
//! a missing target or a label above the actor's clearance is a denial.
//!
//! Choices recorded here:
//! - 三权分立: no account holds two of 系统管理员 / 安全管理员 / 审计管理员, and an admin role is
//!   never combined with a business role, so an administrator cannot approve their own grants
//!   or read the ledger through a business role. 纪检监察 is held alone as well, so the
//!   discipline inspector stays independent and provably read-only.
//! - 部领导 see everything but decide (approve, extension, stop, completion review) only for
//!   matters whose lead unit they are 分管领导 of; the weekly summary is department-wide, so
//!   they approve it without a target.
//! - Security labels (安全标记, 等保 访问控制 g) apply to every action, including admin ones.
//! - 分解 (DecomposeMatter, 子事项): 督查室 on any matter; a 处室负责人 / 联络员 on matters its
//!   subtree leads — the unit that holds a matter breaks it down (分解落实). The use case asks
//!   twice, on the parent and on the sub-matter, so a unit can only task units of its own
//!   subtree; tasking another department stays with 督查室 (立项、交办).

use std::collections::BTreeSet;

/// A role (角色). An account may hold several business roles, or exactly one admin role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// 部领导/部务会成员 — sees everything, decides for the units they lead.
    DeptLeader,
    /// 督查专员 — the supervision office: creates, assigns, reviews, escalates; all matters.
    Supervisor,
    /// 处室负责人 — signs for and reports on its own unit's (subtree's) matters.
    UnitHead,
    /// 经办人 — the person doing the work; own unit's matters.
    Handler,
    /// 下级单位联络员 — like a unit head, for a lower-level unit's subtree.
    Liaison,
    /// 纪检监察 — reads everything incl. the audit trail, writes nothing.
    Inspector,
    /// 系统管理员 — people, units, settings, calendar, tokens, backups; no audit trail.
    SysAdmin,
    /// 安全管理员 — grants, policies and labels.
    SecAdmin,
    /// 审计管理员 — reads the audit trail, nothing else.
    AuditAdmin,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::DeptLeader,
        Role::Supervisor,
        Role::UnitHead,
        Role::Handler,
        Role::Liaison,
        Role::Inspector,
        Role::SysAdmin,
        Role::SecAdmin,
        Role::AuditAdmin,
    ];

    /// Stable storage code.
    pub fn code(self) -> &'static str {
        match self {
            Role::DeptLeader => "dept_leader",
            Role::Supervisor => "supervisor",
            Role::UnitHead => "unit_head",
            Role::Handler => "handler",
            Role::Liaison => "liaison",
            Role::Inspector => "inspector",
            Role::SysAdmin => "sys_admin",
            Role::SecAdmin => "sec_admin",
            Role::AuditAdmin => "audit_admin",
        }
    }

    /// Parses a storage code.
    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// 中文名称.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::DeptLeader => "部领导",
            Role::Supervisor => "督查专员",
            Role::UnitHead => "处室负责人",
            Role::Handler => "经办人",
            Role::Liaison => "下级单位联络员",
            Role::Inspector => "纪检监察",
            Role::SysAdmin => "系统管理员",
            Role::SecAdmin => "安全管理员",
            Role::AuditAdmin => "审计管理员",
        }
    }

    /// One of the three separated admin roles (三员).
    pub fn is_admin_role(self) -> bool {
        matches!(self, Role::SysAdmin | Role::SecAdmin | Role::AuditAdmin)
    }
}

/// Why a set of roles cannot be granted to one account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("三权分立：同一账号不能同时担任{}和{}", .0.label_zh(), .1.label_zh())]
    AdminRolesCombined(Role, Role),
    #[error("管理员角色（{}）不能与业务角色（{}）兼任", .0.label_zh(), .1.label_zh())]
    AdminWithBusinessRole(Role, Role),
    #[error("纪检监察角色须独立，不能与{}兼任", .0.label_zh())]
    InspectorWithOtherRole(Role),
}

/// Checks a role set at grant time (and again, fail-closed, in [`authorize`]).
pub fn check_role_combination(roles: &[Role]) -> Result<(), PolicyError> {
    let set: BTreeSet<Role> = roles.iter().copied().collect();
    let mut admins = set.iter().copied().filter(|r| r.is_admin_role());
    let mut business = set.iter().copied().filter(|r| !r.is_admin_role());
    if let Some(admin) = admins.next() {
        if let Some(second) = admins.next() {
            return Err(PolicyError::AdminRolesCombined(admin, second));
        }
        if let Some(b) = business.next() {
            return Err(PolicyError::AdminWithBusinessRole(admin, b));
        }
    }
    if set.contains(&Role::Inspector)
        && let Some(other) = set.iter().copied().find(|r| *r != Role::Inspector)
    {
        return Err(PolicyError::InspectorWithOtherRole(other));
    }
    Ok(())
}

/// How far a grant reaches, relative to the actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Matters the actor is a named handler (经办人) of.
    Own,
    /// Matters of the actor's own unit.
    Unit,
    /// Matters of the actor's unit or any unit below it.
    Subtree,
    /// Matters of the units the actor is 分管领导 of.
    Led,
    /// Everything.
    All,
}

/// Security label (安全标记) on a record; a person's clearance is the highest label they may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    /// 普通
    Normal,
    /// 敏感
    Sensitive,
    /// 核心
    Core,
}

impl Label {
    pub const ALL: [Label; 3] = [Label::Normal, Label::Sensitive, Label::Core];

    /// Stable storage code.
    pub fn code(self) -> &'static str {
        match self {
            Label::Normal => "normal",
            Label::Sensitive => "sensitive",
            Label::Core => "core",
        }
    }

    /// Parses a storage code.
    pub fn parse(code: &str) -> Option<Label> {
        Label::ALL.into_iter().find(|l| l.code() == code)
    }

    /// 中文名称.
    pub fn label_zh(self) -> &'static str {
        match self {
            Label::Normal => "普通",
            Label::Sensitive => "敏感",
            Label::Core => "核心",
        }
    }
}

/// Everything a person can ask to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    ViewMatter,
    ListMatters,
    CreateMatter,
    EditMatter,
    /// 分解: create a 子事项 under a running matter.
    DecomposeMatter,
    SubmitMatter,
    /// 立项审核/交办
    ApproveMatter,
    /// 签收
    SignFor,
    ReportProgress,
    ReviewProgress,
    RequestExtension,
    DecideExtension,
    RequestStop,
    DecideStop,
    ReportCompletion,
    ReviewCompletion,
    /// 销号
    CloseOut,
    Reopen,
    /// 催办
    Urge,
    /// 督办单
    IssueNotice,
    /// 通报
    IssueBulletin,
    AnswerNotice,
    ConfirmDailyCheck,
    EditWeeklySummary,
    ApproveWeeklySummary,
    /// Weekly, monthly and annual reports and statistics.
    ViewReports,
    RunCadence,
    CloseYear,
    ExportLedger,
    ImportLedger,
    ViewAuditTrail,
    ManageUnits,
    ManagePeople,
    /// Roles and labels.
    ManageGrants,
    ManageSettings,
    ManageCalendar,
    ManageTokens,
    Backup,
}

impl Action {
    pub const ALL: [Action; 38] = [
        Action::ViewMatter,
        Action::ListMatters,
        Action::CreateMatter,
        Action::EditMatter,
        Action::DecomposeMatter,
        Action::SubmitMatter,
        Action::ApproveMatter,
        Action::SignFor,
        Action::ReportProgress,
        Action::ReviewProgress,
        Action::RequestExtension,
        Action::DecideExtension,
        Action::RequestStop,
        Action::DecideStop,
        Action::ReportCompletion,
        Action::ReviewCompletion,
        Action::CloseOut,
        Action::Reopen,
        Action::Urge,
        Action::IssueNotice,
        Action::IssueBulletin,
        Action::AnswerNotice,
        Action::ConfirmDailyCheck,
        Action::EditWeeklySummary,
        Action::ApproveWeeklySummary,
        Action::ViewReports,
        Action::RunCadence,
        Action::CloseYear,
        Action::ExportLedger,
        Action::ImportLedger,
        Action::ViewAuditTrail,
        Action::ManageUnits,
        Action::ManagePeople,
        Action::ManageGrants,
        Action::ManageSettings,
        Action::ManageCalendar,
        Action::ManageTokens,
        Action::Backup,
    ];

    /// Changes state (anything but viewing, listing, reporting, exporting, reading the audit).
    pub fn is_write(self) -> bool {
        !matches!(
            self,
            Action::ViewMatter
                | Action::ListMatters
                | Action::ViewReports
                | Action::ExportLedger
                | Action::ViewAuditTrail
        )
    }

    /// Ledger business (as opposed to administration and the audit trail).
    pub fn is_business(self) -> bool {
        !matches!(
            self,
            Action::ViewAuditTrail
                | Action::ManageUnits
                | Action::ManagePeople
                | Action::ManageGrants
                | Action::ManageSettings
                | Action::ManageCalendar
                | Action::ManageTokens
                | Action::Backup
        )
    }

    /// Acts on one matter, so a [`Target`] is mandatory.
    pub fn needs_target(self) -> bool {
        matches!(
            self,
            Action::ViewMatter
                | Action::EditMatter
                | Action::DecomposeMatter
                | Action::SubmitMatter
                | Action::ApproveMatter
                | Action::SignFor
                | Action::ReportProgress
                | Action::ReviewProgress
                | Action::RequestExtension
                | Action::DecideExtension
                | Action::RequestStop
                | Action::DecideStop
                | Action::ReportCompletion
                | Action::ReviewCompletion
                | Action::CloseOut
                | Action::Reopen
                | Action::Urge
                | Action::IssueNotice
                | Action::AnswerNotice
                | Action::ConfirmDailyCheck
        )
    }

    /// Reads many matters; without a target the query is filtered by [`list_scope`].
    pub fn is_listing(self) -> bool {
        matches!(
            self,
            Action::ListMatters | Action::ViewReports | Action::ExportLedger
        )
    }
}

/// The person asking, as loaded by the application layer for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub person_id: i64,
    pub unit_id: i64,
    pub roles: Vec<Role>,
    /// Highest [`Label`] this person may see.
    pub clearance: Label,
    /// The actor's unit and every unit below it (the own unit counts even if missing here).
    pub subtree: BTreeSet<i64>,
    /// Units this person is 分管领导 of, already expanded to include their subtrees.
    pub led_units: BTreeSet<i64>,
}

impl Actor {
    fn in_subtree(&self, unit: i64) -> bool {
        unit == self.unit_id || self.subtree.contains(&unit)
    }
}

/// The matter (or unit-level object) acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// 牵头单位 — the lead unit; `None` for objects that belong to no unit.
    pub owner_unit: Option<i64>,
    /// 协办单位.
    pub assisting_units: Vec<i64>,
    /// Named 经办人 (person ids).
    pub handler_ids: Vec<i64>,
    pub label: Label,
}

/// Why access was refused. Map [`DenyReason::OutOfScope`] to 404 so ids cannot be probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenyReason {
    /// The account holds a forbidden role combination.
    InvalidRoleCombination,
    /// The account has no role.
    NoRole,
    /// The target's label is above the actor's clearance.
    LabelAboveClearance,
    /// No role of the actor may do this action at all.
    NotPermitted,
    /// A role may do this action, but not on this target.
    OutOfScope,
    /// The action needs a target and none was given.
    TargetRequired,
}

impl DenyReason {
    /// 中文说明.
    pub fn label_zh(self) -> &'static str {
        match self {
            DenyReason::InvalidRoleCombination => "账号角色组合不合规",
            DenyReason::NoRole => "账号未分配角色",
            DenyReason::LabelAboveClearance => "密级高于本人权限",
            DenyReason::NotPermitted => "无此操作权限",
            DenyReason::OutOfScope => "不在本人管辖范围",
            DenyReason::TargetRequired => "缺少操作对象",
        }
    }
}

/// The outcome of [`authorize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    Deny(DenyReason),
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// One permission: a scope, and whether 协办 (assisting) participation counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Grant {
    scope: Scope,
    assisting: bool,
}

const NONE: &[Grant] = &[];
const ALL: &[Grant] = &[Grant {
    scope: Scope::All,
    assisting: true,
}];
const SUBTREE_ANY: &[Grant] = &[Grant {
    scope: Scope::Subtree,
    assisting: true,
}];
const SUBTREE_LEAD: &[Grant] = &[Grant {
    scope: Scope::Subtree,
    assisting: false,
}];
const LED_LEAD: &[Grant] = &[Grant {
    scope: Scope::Led,
    assisting: false,
}];
const UNIT_ANY: &[Grant] = &[Grant {
    scope: Scope::Unit,
    assisting: true,
}];
const UNIT_ANY_OR_OWN: &[Grant] = &[
    Grant {
        scope: Scope::Unit,
        assisting: true,
    },
    Grant {
        scope: Scope::Own,
        assisting: true,
    },
];

/// The permission matrix: what `role` may do with `action`, and how far.
fn grants(role: Role, action: Action) -> &'static [Grant] {
    use Action as A;
    match role {
        Role::Supervisor if action.is_business() => ALL,
        Role::Supervisor => NONE,
        Role::DeptLeader => match action {
            A::ViewMatter | A::ListMatters | A::ViewReports | A::ExportLedger => ALL,
            A::ApproveWeeklySummary => ALL,
            A::ApproveMatter | A::DecideExtension | A::DecideStop | A::ReviewCompletion => LED_LEAD,
            _ => NONE,
        },
        Role::UnitHead | Role::Liaison => match action {
            A::ViewMatter | A::ListMatters | A::ViewReports | A::ExportLedger => SUBTREE_ANY,
            A::ReportProgress | A::ConfirmDailyCheck => SUBTREE_ANY,
            A::SignFor
            | A::RequestExtension
            | A::RequestStop
            | A::ReportCompletion
            | A::EditWeeklySummary
            | A::AnswerNotice
            | A::DecomposeMatter => SUBTREE_LEAD,
            _ => NONE,
        },
        Role::Handler => match action {
            A::ViewMatter | A::ReportProgress | A::ConfirmDailyCheck => UNIT_ANY_OR_OWN,
            A::ListMatters => UNIT_ANY,
            _ => NONE,
        },
        Role::Inspector if !action.is_write() => ALL,
        Role::Inspector => NONE,
        Role::AuditAdmin if action == A::ViewAuditTrail => ALL,
        Role::AuditAdmin => NONE,
        Role::SysAdmin => match action {
            A::ManageUnits
            | A::ManagePeople
            | A::ManageSettings
            | A::ManageCalendar
            | A::ManageTokens
            | A::Backup => ALL,
            _ => NONE,
        },
        Role::SecAdmin if action == A::ManageGrants => ALL,
        Role::SecAdmin => NONE,
    }
}

fn grant_covers(actor: &Actor, grant: Grant, target: &Target) -> bool {
    let reaches = |pred: &dyn Fn(i64) -> bool| {
        target.owner_unit.is_some_and(pred)
            || (grant.assisting && target.assisting_units.iter().any(|&u| pred(u)))
    };
    match grant.scope {
        Scope::All => true,
        Scope::Own => target.handler_ids.contains(&actor.person_id),
        Scope::Unit => reaches(&|u| u == actor.unit_id),
        Scope::Subtree => reaches(&|u| actor.in_subtree(u)),
        Scope::Led => reaches(&|u| actor.led_units.contains(&u)),
    }
}

/// May `actor` do `action` (on `target`, if the action is about one object)?
pub fn authorize(actor: &Actor, action: Action, target: Option<&Target>) -> Decision {
    if check_role_combination(&actor.roles).is_err() {
        return Decision::Deny(DenyReason::InvalidRoleCombination);
    }
    if actor.roles.is_empty() {
        return Decision::Deny(DenyReason::NoRole);
    }
    if let Some(t) = target
        && t.label > actor.clearance
    {
        return Decision::Deny(DenyReason::LabelAboveClearance);
    }
    let mut granted = actor
        .roles
        .iter()
        .flat_map(|&r| grants(r, action))
        .peekable();
    if granted.peek().is_none() {
        return Decision::Deny(DenyReason::NotPermitted);
    }
    let allowed = match target {
        Some(t) => granted.any(|g| grant_covers(actor, *g, t)),
        None if action.needs_target() => return Decision::Deny(DenyReason::TargetRequired),
        // Listing without a target: the query is narrowed by `list_scope`.
        None if action.is_listing() => true,
        // Other global actions without a target need an unrestricted grant.
        None => granted.any(|g| g.scope == Scope::All),
    };
    if allowed {
        Decision::Allow
    } else if target.is_none() {
        Decision::Deny(DenyReason::TargetRequired)
    } else {
        Decision::Deny(DenyReason::OutOfScope)
    }
}

/// Which matters a list, search, export or statistics query may include.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListScope {
    All,
    /// Matters whose lead or an assisting unit is one of these (sorted, deduplicated).
    Units(Vec<i64>),
    Nothing,
}

impl ListScope {
    /// Whether a matter falls inside this scope (ignoring labels).
    pub fn includes(&self, target: &Target) -> bool {
        match self {
            ListScope::All => true,
            ListScope::Nothing => false,
            ListScope::Units(units) => {
                let hit = |u: &i64| units.binary_search(u).is_ok();
                target.owner_unit.as_ref().is_some_and(hit)
                    || target.assisting_units.iter().any(hit)
            }
        }
    }
}

/// The unit filter for `action` as a query. Exact for listing actions (ListMatters,
/// ViewReports, ExportLedger). For single-matter actions it is a superset (lead-only grants
/// and `Own` grants are widened/ignored), so authorize each row as well.
/// Queries must also filter `label <= actor.clearance`; [`list_filter`] returns both.
pub fn list_scope(actor: &Actor, action: Action) -> ListScope {
    if check_role_combination(&actor.roles).is_err() {
        return ListScope::Nothing;
    }
    let mut units = BTreeSet::new();
    for grant in actor.roles.iter().flat_map(|&r| grants(r, action)) {
        match grant.scope {
            Scope::All => return ListScope::All,
            Scope::Own => {}
            Scope::Unit => {
                units.insert(actor.unit_id);
            }
            Scope::Subtree => {
                units.insert(actor.unit_id);
                units.extend(actor.subtree.iter().copied());
            }
            Scope::Led => units.extend(actor.led_units.iter().copied()),
        }
    }
    if units.is_empty() {
        ListScope::Nothing
    } else {
        ListScope::Units(units.into_iter().collect())
    }
}

/// A complete query filter: unit scope plus the label ceiling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    pub scope: ListScope,
    pub max_label: Label,
}

/// [`list_scope`] together with the actor's clearance.
pub fn list_filter(actor: &Actor, action: Action) -> ListFilter {
    ListFilter {
        scope: list_scope(actor, action),
        max_label: actor.clearance,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "policy_tests.rs"]
mod tests;
