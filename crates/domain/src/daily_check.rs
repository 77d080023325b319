//! 一日一清查: which check-list categories one matter falls into today (domain.md §2.1).
//!
//! Only running matters (已交办 … 待审核办结) are checked. Per matter, [`classify`] does at
//! most four O(log n) calendar counts and allocates only when something is found, so a
//! million matters take well under a second.
//!
//! - 今日到期 / 临期 / 已超期 apply while the unit holds the matter (已交办, 办理中, 延期待批,
//!   中止待批); 待审核办结 never counts as overdue. 临期 = 1..=`due_soon_workdays` working days left.
//! - 未签收: still 已交办 more than `sign_for_within_workdays` working days after 交办.
//! - 超M日无更新: 办理中 or 延期待批 with more than `no_update_workdays` working days since the
//!   last update (or since 交办 when there was none).
//! - 延期待批: status 延期待批.
//! - 反馈逾期: the caller found the last due progress report missing.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::WorkCalendar;
use crate::lifecycle::MatterStatus;

/// A 清查 category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckCategory {
    /// 今日到期
    DueToday,
    /// 临期
    DueSoon,
    /// 已超期
    Overdue,
    /// 未签收 (签收逾期)
    NotSignedFor,
    /// 超期无更新
    NoUpdate,
    /// 延期待批
    ExtensionPending,
    /// 反馈逾期
    ReportMissed,
}

impl CheckCategory {
    pub const ALL: [CheckCategory; 7] = [
        Self::DueToday,
        Self::DueSoon,
        Self::Overdue,
        Self::NotSignedFor,
        Self::NoUpdate,
        Self::ExtensionPending,
        Self::ReportMissed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::DueToday => "due_today",
            Self::DueSoon => "due_soon",
            Self::Overdue => "overdue",
            Self::NotSignedFor => "not_signed_for",
            Self::NoUpdate => "no_update",
            Self::ExtensionPending => "extension_pending",
            Self::ReportMissed => "report_missed",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::DueToday => "今日到期",
            Self::DueSoon => "临期",
            Self::Overdue => "已超期",
            Self::NotSignedFor => "未签收",
            Self::NoUpdate => "超期无更新",
            Self::ExtensionPending => "延期待批",
            Self::ReportMissed => "反馈逾期",
        }
    }
}

/// Thresholds of the daily check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRules {
    /// 临期 window in working days (default 3).
    pub due_soon_workdays: u32,
    /// 签收 expected within this many working days of 交办 (default 2).
    pub sign_for_within_workdays: u32,
    /// 无更新 after this many working days (default 10).
    pub no_update_workdays: u32,
}

impl Default for CheckRules {
    fn default() -> Self {
        Self {
            due_soon_workdays: 3,
            sign_for_within_workdays: 2,
            no_update_workdays: 10,
        }
    }
}

/// What the check needs to know about one matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatterFacts {
    pub status: MatterStatus,
    pub deadline: Option<Date>,
    pub assigned_on: Option<Date>,
    pub last_update_on: Option<Date>,
    pub last_report_due_missed: bool,
}

/// The categories `facts` falls into on `today`, in [`CheckCategory::ALL`] order.
pub fn classify(
    cal: &WorkCalendar,
    rules: &CheckRules,
    today: Date,
    facts: &MatterFacts,
) -> Vec<CheckCategory> {
    use MatterStatus as S;
    let mut out = Vec::new();
    if !facts.status.is_running() {
        return out;
    }
    let held = matches!(
        facts.status,
        S::Assigned | S::InProgress | S::ExtensionPending | S::StopPending
    );
    if held && let Some(deadline) = facts.deadline {
        if today > deadline {
            out.push(CheckCategory::Overdue);
        } else if today == deadline {
            out.push(CheckCategory::DueToday);
        } else if cal.workdays_between(today, deadline) <= i64::from(rules.due_soon_workdays) {
            out.push(CheckCategory::DueSoon);
        }
    }
    if facts.status == S::Assigned
        && let Some(assigned) = facts.assigned_on
        && cal.workdays_between(assigned, today) > i64::from(rules.sign_for_within_workdays)
    {
        out.push(CheckCategory::NotSignedFor);
    }
    if matches!(facts.status, S::InProgress | S::ExtensionPending)
        && let Some(last) = facts.last_update_on.or(facts.assigned_on)
        && cal.workdays_between(last, today) > i64::from(rules.no_update_workdays)
    {
        out.push(CheckCategory::NoUpdate);
    }
    if facts.status == S::ExtensionPending {
        out.push(CheckCategory::ExtensionPending);
    }
    if facts.last_report_due_missed {
        out.push(CheckCategory::ReportMissed);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn facts(status: MatterStatus, deadline: Option<Date>) -> MatterFacts {
        MatterFacts {
            status,
            deadline,
            assigned_on: None,
            last_update_on: None,
            last_report_due_missed: false,
        }
    }

    fn check(today: Date, f: &MatterFacts) -> Vec<CheckCategory> {
        classify(&WorkCalendar::official(), &CheckRules::default(), today, f)
    }

    use CheckCategory as C;
    use MatterStatus as S;

    #[test]
    fn deadline_categories_follow_working_days() {
        let f = facts(S::InProgress, Some(date(2026, 2, 25)));
        assert_eq!(check(date(2026, 2, 25), &f), vec![C::DueToday]);
        assert_eq!(check(date(2026, 2, 26), &f), vec![C::Overdue]);
        assert_eq!(
            check(date(2026, 2, 13), &f),
            vec![C::DueSoon],
            "02-14 班, 02-24, 02-25"
        );
        assert_eq!(check(date(2026, 2, 12), &f), vec![]);
    }

    #[test]
    fn a_matter_awaiting_completion_review_is_never_overdue() {
        let f = facts(S::CompletionPending, Some(date(2026, 2, 25)));
        assert_eq!(check(date(2026, 3, 25), &f), vec![]);
    }

    #[test]
    fn finished_matters_are_not_checked() {
        let mut f = facts(S::Closed, Some(date(2026, 2, 25)));
        f.last_report_due_missed = true;
        assert_eq!(check(date(2026, 3, 25), &f), vec![]);
    }

    #[test]
    fn an_assignment_unsigned_after_two_working_days_is_flagged() {
        let mut f = facts(S::Assigned, None);
        f.assigned_on = Some(date(2026, 3, 2));
        assert_eq!(check(date(2026, 3, 4), &f), vec![]);
        assert_eq!(check(date(2026, 3, 5), &f), vec![C::NotSignedFor]);
    }

    #[test]
    fn ten_quiet_working_days_mean_no_update() {
        let mut f = facts(S::ExtensionPending, None);
        f.assigned_on = Some(date(2026, 1, 5));
        f.last_update_on = Some(date(2026, 3, 2));
        f.last_report_due_missed = true;
        assert_eq!(
            check(date(2026, 3, 16), &f),
            vec![C::ExtensionPending, C::ReportMissed]
        );
        assert_eq!(
            check(date(2026, 3, 17), &f),
            vec![C::NoUpdate, C::ExtensionPending, C::ReportMissed]
        );
    }

    #[test]
    fn repeated_classification_gives_the_same_answer() {
        let cal = WorkCalendar::official();
        let rules = CheckRules::default();
        let today = date(2026, 3, 16);
        let mut f = facts(S::InProgress, Some(date(2026, 3, 18)));
        f.last_update_on = Some(date(2026, 1, 5));
        let mut n = 0usize;
        for _ in 0..100_000 {
            n += classify(&cal, &rules, today, &f).len();
        }
        assert_eq!(n, 200_000);
    }
}
