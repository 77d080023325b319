//! Matter lifecycle (事项状态机), domain.md §2.2: which transitions are allowed from which status.
//!
//! Choices made where §2.2 leaves room:
//! - 驳回 (Reject) returns 待审核立项 → 草稿; 退回交办 (ReturnAssignment) returns 已交办 → 待审核立项
//!   so the approver can re-assign (改派).
//! - 申请延期 and 申请中止 are only possible from 办理中 (after 签收); approval *and* rejection
//!   of an extension return to 办理中 (the new deadline is data, not a state). Rejecting a stop
//!   returns to 办理中; approving it ends in 已中止.
//! - 退回重办 returns 待审核办结 → 办理中.
//! - 已办结 is not terminal: it can be 销号 (closed out) or reopened by 回头看. 已销号 is
//!   terminal but may still be reopened by 回头看; 已中止 and 已结转 are final.
//! - 结转 is possible from every non-terminal status (including 已办结) so the year close never
//!   gets stuck.
//! - Whether a reason is present is checked by the caller ([`Transition::requires_reason`]);
//!   derived conditions (逾期, 签收逾期) are never states.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The stored status of a matter (事项状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatterStatus {
    /// 草稿
    Draft,
    /// 待审核立项
    PendingApproval,
    /// 已交办（待签收）
    Assigned,
    /// 办理中
    InProgress,
    /// 延期待批
    ExtensionPending,
    /// 中止待批
    StopPending,
    /// 待审核办结
    CompletionPending,
    /// 已办结
    Completed,
    /// 已销号
    Closed,
    /// 已中止
    Stopped,
    /// 已结转
    CarriedOver,
}

impl MatterStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [MatterStatus; 11] = [
        Self::Draft,
        Self::PendingApproval,
        Self::Assigned,
        Self::InProgress,
        Self::ExtensionPending,
        Self::StopPending,
        Self::CompletionPending,
        Self::Completed,
        Self::Closed,
        Self::Stopped,
        Self::CarriedOver,
    ];

    /// Stable snake_case code stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::PendingApproval => "pending_approval",
            Self::Assigned => "assigned",
            Self::InProgress => "in_progress",
            Self::ExtensionPending => "extension_pending",
            Self::StopPending => "stop_pending",
            Self::CompletionPending => "completion_pending",
            Self::Completed => "completed",
            Self::Closed => "closed",
            Self::Stopped => "stopped",
            Self::CarriedOver => "carried_over",
        }
    }

    /// Inverse of [`Self::as_str`].
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == code)
    }

    /// Chinese label shown to users.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Draft => "草稿",
            Self::PendingApproval => "待审核立项",
            Self::Assigned => "已交办（待签收）",
            Self::InProgress => "办理中",
            Self::ExtensionPending => "延期待批",
            Self::StopPending => "中止待批",
            Self::CompletionPending => "待审核办结",
            Self::Completed => "已办结",
            Self::Closed => "已销号",
            Self::Stopped => "已中止",
            Self::CarriedOver => "已结转",
        }
    }

    /// 已销号, 已中止, 已结转: the matter no longer counts as open (年度归零 is satisfied).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Stopped | Self::CarriedOver)
    }

    /// True while the responsible unit's clock runs: 已交办 through 待审核办结.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            Self::Assigned
                | Self::InProgress
                | Self::ExtensionPending
                | Self::StopPending
                | Self::CompletionPending
        )
    }
}

impl fmt::Display for MatterStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_zh())
    }
}

/// An action that moves a matter between statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// 提交 (for 立项 approval)
    Submit,
    /// 批准立项 — approves and assigns (交办).
    Approve,
    /// 驳回 — back to draft; needs a reason.
    Reject,
    /// 签收 — the lead unit acknowledges the assignment.
    SignFor,
    /// 退回交办 — the unit returns the assignment; needs a reason.
    ReturnAssignment,
    /// 申请延期
    RequestExtension,
    /// 批准延期
    ApproveExtension,
    /// 驳回延期
    RejectExtension,
    /// 申请中止（停办）
    RequestStop,
    /// 批准中止
    ApproveStop,
    /// 驳回中止
    RejectStop,
    /// 报办结
    ReportCompletion,
    /// 审核通过（办结）
    ApproveCompletion,
    /// 退回重办 — needs a reason.
    ReturnCompletion,
    /// 销号
    CloseOut,
    /// 回头看重新打开 — needs a reason.
    Reopen,
    /// 结转 (to next year)
    CarryOver,
}

impl Transition {
    /// Every transition.
    pub const ALL: [Transition; 17] = [
        Self::Submit,
        Self::Approve,
        Self::Reject,
        Self::SignFor,
        Self::ReturnAssignment,
        Self::RequestExtension,
        Self::ApproveExtension,
        Self::RejectExtension,
        Self::RequestStop,
        Self::ApproveStop,
        Self::RejectStop,
        Self::ReportCompletion,
        Self::ApproveCompletion,
        Self::ReturnCompletion,
        Self::CloseOut,
        Self::Reopen,
        Self::CarryOver,
    ];

    /// Stable snake_case code (history records, forms).
    pub fn code(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::SignFor => "sign_for",
            Self::ReturnAssignment => "return_assignment",
            Self::RequestExtension => "request_extension",
            Self::ApproveExtension => "approve_extension",
            Self::RejectExtension => "reject_extension",
            Self::RequestStop => "request_stop",
            Self::ApproveStop => "approve_stop",
            Self::RejectStop => "reject_stop",
            Self::ReportCompletion => "report_completion",
            Self::ApproveCompletion => "approve_completion",
            Self::ReturnCompletion => "return_completion",
            Self::CloseOut => "close_out",
            Self::Reopen => "reopen",
            Self::CarryOver => "carry_over",
        }
    }

    /// Inverse of [`Self::code`].
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Chinese label shown on buttons and in the history.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Submit => "提交",
            Self::Approve => "批准立项",
            Self::Reject => "驳回",
            Self::SignFor => "签收",
            Self::ReturnAssignment => "退回交办",
            Self::RequestExtension => "申请延期",
            Self::ApproveExtension => "批准延期",
            Self::RejectExtension => "驳回延期",
            Self::RequestStop => "申请中止",
            Self::ApproveStop => "批准中止",
            Self::RejectStop => "驳回中止",
            Self::ReportCompletion => "报办结",
            Self::ApproveCompletion => "审核通过",
            Self::ReturnCompletion => "退回重办",
            Self::CloseOut => "销号",
            Self::Reopen => "回头看重新打开",
            Self::CarryOver => "结转",
        }
    }

    /// Transitions the caller must refuse without a written reason (理由).
    pub fn requires_reason(self) -> bool {
        matches!(
            self,
            Self::Reject
                | Self::ReturnAssignment
                | Self::RequestExtension
                | Self::RejectExtension
                | Self::RequestStop
                | Self::RejectStop
                | Self::ReturnCompletion
                | Self::Reopen
        )
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_zh())
    }
}

/// The transition is not allowed from the matter's current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("事项处于「{}」状态，不能执行「{}」", from.label_zh(), transition.label_zh())]
pub struct TransitionError {
    pub from: MatterStatus,
    pub transition: Transition,
}

/// The target status of `t` from `from`, or `None` when not allowed. The single source of truth.
fn target(from: MatterStatus, t: Transition) -> Option<MatterStatus> {
    use MatterStatus as S;
    use Transition as T;
    let to = match (from, t) {
        (S::Draft, T::Submit) => S::PendingApproval,
        (S::PendingApproval, T::Approve) => S::Assigned,
        (S::PendingApproval, T::Reject) => S::Draft,
        (S::Assigned, T::SignFor) => S::InProgress,
        (S::Assigned, T::ReturnAssignment) => S::PendingApproval,
        (S::InProgress, T::RequestExtension) => S::ExtensionPending,
        (S::ExtensionPending, T::ApproveExtension | T::RejectExtension) => S::InProgress,
        (S::InProgress, T::RequestStop) => S::StopPending,
        (S::StopPending, T::ApproveStop) => S::Stopped,
        (S::StopPending, T::RejectStop) => S::InProgress,
        (S::InProgress, T::ReportCompletion) => S::CompletionPending,
        (S::CompletionPending, T::ApproveCompletion) => S::Completed,
        (S::CompletionPending, T::ReturnCompletion) => S::InProgress,
        (S::Completed, T::CloseOut) => S::Closed,
        (S::Completed | S::Closed, T::Reopen) => S::InProgress,
        (s, T::CarryOver) if !s.is_terminal() => S::CarriedOver,
        _ => return None,
    };
    Some(to)
}

/// Applies `t` to a matter in status `from`.
pub fn apply(from: MatterStatus, t: Transition) -> Result<MatterStatus, TransitionError> {
    target(from, t).ok_or(TransitionError {
        from,
        transition: t,
    })
}

/// The transitions allowed from `from`, in [`Transition::ALL`] order.
pub fn allowed(from: MatterStatus) -> Vec<Transition> {
    Transition::ALL
        .into_iter()
        .filter(|&t| target(from, t).is_some())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn any_status() -> impl Strategy<Value = MatterStatus> {
        proptest::sample::select(MatterStatus::ALL.to_vec())
    }

    fn any_transition() -> impl Strategy<Value = Transition> {
        proptest::sample::select(Transition::ALL.to_vec())
    }

    #[test]
    fn the_happy_path_runs_from_draft_to_closed() {
        use Transition::*;
        let mut s = MatterStatus::Draft;
        for t in [
            Submit,
            Approve,
            SignFor,
            ReportCompletion,
            ApproveCompletion,
            CloseOut,
        ] {
            s = apply(s, t).unwrap();
        }
        assert_eq!(s, MatterStatus::Closed);
    }

    #[test]
    fn signing_for_a_draft_is_refused_with_a_chinese_message() {
        let err = apply(MatterStatus::Draft, Transition::SignFor).unwrap_err();
        assert_eq!(err.to_string(), "事项处于「草稿」状态，不能执行「签收」");
    }

    #[test]
    fn extension_decisions_return_to_in_progress() {
        let s = apply(MatterStatus::InProgress, Transition::RequestExtension).unwrap();
        assert_eq!(s, MatterStatus::ExtensionPending);
        assert_eq!(
            apply(s, Transition::ApproveExtension),
            Ok(MatterStatus::InProgress)
        );
        assert_eq!(
            apply(s, Transition::RejectExtension),
            Ok(MatterStatus::InProgress)
        );
    }

    #[test]
    fn codes_round_trip() {
        for s in MatterStatus::ALL {
            assert_eq!(MatterStatus::parse(s.as_str()), Some(s));
        }
        for t in Transition::ALL {
            assert_eq!(Transition::parse(t.code()), Some(t));
        }
        assert_eq!(MatterStatus::parse("overdue"), None);
    }

    #[test]
    fn every_status_is_reachable_from_draft() {
        let mut seen = BTreeSet::from([MatterStatus::Draft]);
        let mut frontier = vec![MatterStatus::Draft];
        while let Some(s) = frontier.pop() {
            for t in allowed(s) {
                let next = apply(s, t).unwrap();
                if seen.insert(next) {
                    frontier.push(next);
                }
            }
        }
        assert_eq!(seen.len(), MatterStatus::ALL.len());
    }

    proptest! {
        #[test]
        fn apply_succeeds_iff_the_pair_is_allowed(s in any_status(), t in any_transition()) {
            prop_assert_eq!(apply(s, t).is_ok(), allowed(s).contains(&t));
        }

        #[test]
        fn nothing_leaves_a_terminal_state_except_reopening_a_closed_matter(s in any_status(), t in any_transition()) {
            if s.is_terminal() && apply(s, t).is_ok() {
                prop_assert_eq!((s, t), (MatterStatus::Closed, Transition::Reopen));
            }
        }

        #[test]
        fn random_walks_stay_within_known_states(ts in proptest::collection::vec(any_transition(), 0..60)) {
            let mut s = MatterStatus::Draft;
            for t in ts {
                if let Ok(next) = apply(s, t) {
                    s = next;
                }
                prop_assert_eq!(MatterStatus::parse(s.as_str()), Some(s));
            }
        }
    }
}
