//! Which steps a person may take on a matter now (the buttons of the matter page): the policy
//! decision for the action on the matter's target, and the lifecycle state that allows the step.
//! The use cases check both again when the step is taken; this only decides what to offer.

use serde::Serialize;
use taizhang_domain::lifecycle::{self, MatterStatus as S, Transition as T};
use taizhang_domain::policy::{Action, Label, Target};

use super::matters::MatterDetail;
use crate::Caller;

/// One step offered on the matter page.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MatterAction {
    /// Stable code used in URLs (`/matters/{id}/act/{code}`).
    pub code: &'static str,
    /// Button label.
    pub label: &'static str,
    /// The policy action the use case asks for.
    #[serde(skip)]
    pub policy: Action,
    #[serde(skip)]
    state_ok: fn(S) -> bool,
}

fn allows(s: S, t: T) -> bool {
    lifecycle::allowed(s).contains(&t)
}

macro_rules! step {
    ($code:literal, $label:literal, $policy:ident, $ok:expr) => {
        MatterAction {
            code: $code,
            label: $label,
            policy: Action::$policy,
            state_ok: $ok,
        }
    };
}

/// Every step, in the order of the loop.
pub const ACTIONS: &[MatterAction] = &[
    step!("submit", "提交审核", SubmitMatter, |s| allows(
        s,
        T::Submit
    )),
    step!("approve", "批准立项并交办", ApproveMatter, |s| {
        allows(s, T::Approve)
    }),
    step!("reject", "驳回立项", ApproveMatter, |s| allows(
        s,
        T::Reject
    )),
    step!("sign_for", "签收", SignFor, |s| allows(s, T::SignFor)),
    step!("return_assignment", "退回交办", SignFor, |s| allows(
        s,
        T::ReturnAssignment
    )),
    step!("report_progress", "报进展", ReportProgress, |s| matches!(
        s,
        S::InProgress | S::ExtensionPending | S::StopPending
    )),
    step!("request_extension", "申请延期", RequestExtension, |s| {
        allows(s, T::RequestExtension)
    }),
    step!("decide_extension", "审批延期", DecideExtension, |s| {
        allows(s, T::ApproveExtension)
    }),
    step!("report_completion", "报办结", ReportCompletion, |s| {
        allows(s, T::ReportCompletion)
    }),
    step!("review_completion", "审核办结", ReviewCompletion, |s| {
        allows(s, T::ApproveCompletion)
    }),
    step!("urge", "催办", Urge, S::is_running),
    step!("issue_notice", "发督办单", IssueNotice, S::is_running),
    step!("close_out", "销号", CloseOut, |s| allows(s, T::CloseOut)),
    step!("review_effect", "问效", CloseOut, |s| matches!(
        s,
        S::Completed | S::Closed
    )),
    step!("reopen", "回头看", Reopen, |s| allows(s, T::Reopen)),
    step!("request_stop", "申请中止", RequestStop, |s| allows(
        s,
        T::RequestStop
    )),
    step!("decide_stop", "审批中止", DecideStop, |s| allows(
        s,
        T::ApproveStop
    )),
    step!("carry_over", "结转", CloseYear, |s| allows(
        s,
        T::CarryOver
    )),
    // --- 修改台账 and 子事项: pages of their own (`/matters/{id}/edit`, `/matters/new?parent=`) ---
    step!("edit", "编辑", EditMatter, super::edit::editable),
    step!(
        "new_sub",
        "新建子事项",
        DecomposeMatter,
        super::submatters::decomposable
    ),
];

/// The step with this code.
pub fn find(code: &str) -> Option<&'static MatterAction> {
    ACTIONS.iter().find(|a| a.code == code)
}

/// The policy target of a matter as read (the same one the use cases build).
pub fn target_of_detail(d: &MatterDetail) -> Target {
    Target {
        owner_unit: Some(d.matter.row.lead_unit_id),
        assisting_units: d.assisting_unit_ids.clone(),
        handler_ids: d.handler_ids.clone(),
        label: Label::parse(&d.matter.row.label).unwrap_or(Label::Core),
    }
}

impl MatterAction {
    /// Whether `who` may take this step on `d` now.
    pub fn offered(&self, who: &Caller, d: &MatterDetail) -> bool {
        let Some(status) = S::parse(&d.matter.row.status) else {
            return false;
        };
        (self.state_ok)(status)
            && match self.code {
                // The creator of a draft may edit it too; a 子事项 is not broken down again.
                "edit" => super::edit::may_edit(who, d),
                "new_sub" if d.matter.row.parent_id.is_some() => false,
                _ => who
                    .decide(self.policy, Some(&target_of_detail(d)))
                    .is_allowed(),
            }
    }
}

impl MatterAction {
    /// Whether `who` may take this step on a matter in `status` with policy target `target`
    /// (for lists, where the whole record is not loaded).
    pub fn offered_on(&self, who: &Caller, status: S, target: &Target) -> bool {
        (self.state_ok)(status) && who.decide(self.policy, Some(target)).is_allowed()
    }
}

/// The steps `who` may take on `d` in its current state, and no others.
pub fn actions_for(who: &Caller, d: &MatterDetail) -> Vec<&'static MatterAction> {
    ACTIONS.iter().filter(|a| a.offered(who, d)).collect()
}
