//! Validated fields of a 督办事项 (ledger matter) and the [`DomainError`] they produce.
//!
//! Parse, don't validate: input becomes one of these types at the edge and stays valid.

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, WorkCalendar};
use crate::lifecycle::TransitionError;

/// Longest title accepted, in characters.
pub const TITLE_MAX_CHARS: usize = 200;

/// Errors of the ledger domain. Each variant names the rule that was broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("事项名称不能为空")]
    TitleEmpty,
    #[error("事项名称不能超过{max}个字（当前{chars}个字）")]
    TitleTooLong { chars: usize, max: usize },
    #[error("事项名称不能包含控制字符")]
    TitleControlChar,
    #[error("办理时限 {deadline} 早于交办日期 {start}")]
    DeadlineBeforeStart { start: Date, deadline: Date },
    #[error("延期须在办理时限 {deadline} 之前申请")]
    ExtensionAfterDeadline { deadline: Date },
    #[error("进度 {0}% 无效（应为 0–100）")]
    ProgressOutOfRange(u8),
    #[error("未知的{what}代码「{code}」")]
    UnknownCode { what: &'static str, code: String },
    #[error("编号格式「{0}」必须包含 {{seq}}")]
    NumberPatternWithoutSeq(String),
    #[error("编号格式「{pattern}」含未知占位符「{placeholder}」（可用 {{year}}、{{seq}}）")]
    NumberPatternUnknownPlaceholder {
        pattern: String,
        placeholder: String,
    },
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

/// 事项名称: trimmed, 1..=200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MatterTitle(String);

impl MatterTitle {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(DomainError::TitleEmpty);
        }
        // A char is at most 4 bytes: a longer string cannot fit, whatever it holds.
        if t.len() > TITLE_MAX_CHARS * 4 {
            return Err(DomainError::TitleTooLong {
                chars: t.chars().count(),
                max: TITLE_MAX_CHARS,
            });
        }
        let chars = t.chars().count();
        if chars > TITLE_MAX_CHARS {
            return Err(DomainError::TitleTooLong {
                chars,
                max: TITLE_MAX_CHARS,
            });
        }
        if t.chars().any(char::is_control) {
            return Err(DomainError::TitleControlChar);
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MatterTitle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for MatterTitle {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<MatterTitle> for String {
    fn from(t: MatterTitle) -> Self {
        t.0
    }
}

/// Defines a code-carrying enum with `code`, `parse`, `label_zh`, `ALL` and serde by code.
macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($(#[$vm:meta])* $v:ident = $code:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $code)] $v,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// Stable code stored in the database.
            pub fn code(self) -> &'static str {
                match self { $($name::$v => $code,)+ }
            }

            /// Chinese label.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$v => $label,)+ }
            }

            /// Accepts the code or the Chinese label.
            pub fn parse(s: &str) -> Result<Self, DomainError> {
                let s = s.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code() == s || v.label_zh() == s)
                    .ok_or_else(|| DomainError::UnknownCode { what: $what, code: s.to_owned() })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.label_zh())
            }
        }
    };
}

coded_enum!(
    /// 紧急程度 (urgency).
    Urgency, "紧急程度" {
        /// 特急 — 随到随办.
        Extra = "extra", "特急";
        /// 加急
        Urgent = "urgent", "加急";
        /// 普通
        Normal = "normal", "普通";
    }
);

coded_enum!(
    /// 任务来源 (where the matter came from).
    SourceCategory, "任务来源" {
        SuperiorDocument = "superior_document", "上级文件";
        LeaderInstruction = "leader_instruction", "领导批示";
        MeetingDecision = "meeting_decision", "会议议定";
        OralAssignment = "oral_assignment", "口头交办";
        AnnualKeyWork = "annual_key_work", "年度重点工作";
        PublicDemand = "public_demand", "群众诉求";
        PetitionOpinion = "petition_opinion", "信访舆情";
        OwnResearch = "own_research", "本单位研究";
        FourContacts = "four_contacts", "四个联系";
        FirstTopic = "first_topic", "第一议题";
        Other = "other", "其他";
    }
);

coded_enum!(
    /// 节点状态 of a milestone (节点), derived by [`MilestoneStatus::derive`].
    MilestoneStatus, "节点状态" {
        NotStarted = "not_started", "未开始";
        InProgress = "in_progress", "进行中";
        Done = "done", "已完成";
        Overdue = "overdue", "已逾期";
    }
);

impl MilestoneStatus {
    /// Done when finished; overdue when `today` is past `due`; in progress once started.
    pub fn derive(started: bool, done_on: Option<Date>, due: Date, today: Date) -> Self {
        match done_on {
            Some(_) => Self::Done,
            None if today > due => Self::Overdue,
            None if started => Self::InProgress,
            None => Self::NotStarted,
        }
    }
}

/// 办理时限 as entered: a date, “N个工作日内” or “N日内”.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineSpec {
    /// A fixed date (kept as given).
    Date(Date),
    /// N个工作日内, counted from the day after 交办.
    WorkingDays(u32),
    /// N日内, calendar days, rolled forward to a working day.
    CalendarDays(u32),
}

impl DeadlineSpec {
    /// The deadline date for a matter assigned on `assigned_on`.
    pub fn resolve(self, cal: &WorkCalendar, assigned_on: Date) -> Result<Date, DomainError> {
        match self {
            Self::Date(d) if d < assigned_on => Err(DomainError::DeadlineBeforeStart {
                start: assigned_on,
                deadline: d,
            }),
            Self::Date(d) => Ok(d),
            Self::WorkingDays(n) => Ok(cal.add_workdays(assigned_on, n)?),
            Self::CalendarDays(n) => Ok(cal.add_calendar_days_rolled(assigned_on, n)?),
        }
    }
}

/// 延期 must be requested before the deadline passes (on the deadline day is still in time).
pub fn ensure_extension_in_time(today: Date, deadline: Date) -> Result<(), DomainError> {
    if today > deadline {
        Err(DomainError::ExtensionAfterDeadline { deadline })
    } else {
        Ok(())
    }
}

/// 办理进度, percent 0..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Progress(u8);

impl Progress {
    pub fn new(p: u8) -> Result<Self, DomainError> {
        if p <= 100 {
            Ok(Self(p))
        } else {
            Err(DomainError::ProgressOutOfRange(p))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Progress {
    type Error = DomainError;
    fn try_from(p: u8) -> Result<Self, Self::Error> {
        Self::new(p)
    }
}

impl From<Progress> for u8 {
    fn from(p: Progress) -> Self {
        p.0
    }
}

/// 编号格式, e.g. `督〔{year}〕{seq}号`; must contain `{seq}`, may contain `{year}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPattern(String);

impl NumberPattern {
    pub fn parse(pattern: &str) -> Result<Self, DomainError> {
        let mut rest = pattern;
        let mut has_seq = false;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let close =
                after
                    .find('}')
                    .ok_or_else(|| DomainError::NumberPatternUnknownPlaceholder {
                        pattern: pattern.to_owned(),
                        placeholder: after.to_owned(),
                    })?;
            match &after[..close] {
                "seq" => has_seq = true,
                "year" => {}
                other => {
                    return Err(DomainError::NumberPatternUnknownPlaceholder {
                        pattern: pattern.to_owned(),
                        placeholder: other.to_owned(),
                    });
                }
            }
            rest = &after[close + 1..];
        }
        if has_seq {
            Ok(Self(pattern.to_owned()))
        } else {
            Err(DomainError::NumberPatternWithoutSeq(pattern.to_owned()))
        }
    }

    /// `督〔{year}〕{seq}号` with (2026, 15) → `督〔2026〕15号`.
    pub fn format(&self, year: i16, seq: u32) -> MatterNumber {
        MatterNumber(
            self.0
                .replace("{year}", &year.to_string())
                .replace("{seq}", &seq.to_string()),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 统一编号 of a matter, e.g. 督〔2026〕15号.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MatterNumber(String);

impl MatterNumber {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MatterNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(
            MatterTitle::parse("  落实第一议题  ").unwrap().as_str(),
            "落实第一议题"
        );
        assert_eq!(MatterTitle::parse("   "), Err(DomainError::TitleEmpty));
        assert!(MatterTitle::parse(&"字".repeat(200)).is_ok());
        assert_eq!(
            MatterTitle::parse(&"字".repeat(201)),
            Err(DomainError::TitleTooLong {
                chars: 201,
                max: 200
            })
        );
        assert_eq!(
            MatterTitle::parse("a\u{0}b"),
            Err(DomainError::TitleControlChar)
        );
    }

    #[test]
    fn a_200_kb_title_is_refused_with_the_rule() {
        let err = MatterTitle::parse(&"x".repeat(200 * 1024)).unwrap_err();
        assert!(matches!(
            err,
            DomainError::TitleTooLong {
                chars: 204_800,
                max: 200
            }
        ));
        assert!(err.to_string().contains("200"));
    }

    #[test]
    fn codes_and_labels_parse() {
        assert_eq!(Urgency::parse("特急"), Ok(Urgency::Extra));
        assert_eq!(
            SourceCategory::parse("four_contacts"),
            Ok(SourceCategory::FourContacts)
        );
        assert_eq!(SourceCategory::ALL.len(), 11);
        assert!(matches!(
            Urgency::parse("很急"),
            Err(DomainError::UnknownCode { .. })
        ));
        assert_eq!(
            serde_json::to_string(&Urgency::Urgent).unwrap(),
            "\"urgent\""
        );
    }

    #[test]
    fn deadline_before_assignment_is_refused() {
        let cal = WorkCalendar::official();
        let start = date(2026, 3, 10);
        assert_eq!(
            DeadlineSpec::Date(date(2026, 3, 9)).resolve(&cal, start),
            Err(DomainError::DeadlineBeforeStart {
                start,
                deadline: date(2026, 3, 9)
            })
        );
        assert_eq!(
            DeadlineSpec::WorkingDays(3).resolve(&cal, date(2026, 2, 12)),
            Ok(date(2026, 2, 24))
        );
        assert_eq!(
            DeadlineSpec::CalendarDays(5).resolve(&cal, date(2026, 3, 2)),
            Ok(date(2026, 3, 9))
        );
    }

    #[test]
    fn extension_after_deadline_is_refused() {
        let d = date(2026, 3, 10);
        assert!(ensure_extension_in_time(d, d).is_ok());
        assert_eq!(
            ensure_extension_in_time(date(2026, 3, 11), d),
            Err(DomainError::ExtensionAfterDeadline { deadline: d })
        );
    }

    #[test]
    fn matter_numbers_follow_the_pattern() {
        let p = NumberPattern::parse("督〔{year}〕{seq}号").unwrap();
        assert_eq!(p.format(2026, 15).as_str(), "督〔2026〕15号");
        assert!(matches!(
            NumberPattern::parse("督〔{year}〕号"),
            Err(DomainError::NumberPatternWithoutSeq(_))
        ));
        assert!(matches!(
            NumberPattern::parse("督{yr}{seq}"),
            Err(DomainError::NumberPatternUnknownPlaceholder { .. })
        ));
        assert!(NumberPattern::parse("督{seq").is_err());
    }

    #[test]
    fn progress_is_a_percentage() {
        assert_eq!(Progress::new(100).unwrap().get(), 100);
        assert_eq!(
            Progress::new(101),
            Err(DomainError::ProgressOutOfRange(101))
        );
    }

    #[test]
    fn milestones_are_overdue_only_when_unfinished_past_due() {
        let due = date(2026, 3, 10);
        assert_eq!(
            MilestoneStatus::derive(true, None, due, date(2026, 3, 11)),
            MilestoneStatus::Overdue
        );
        assert_eq!(
            MilestoneStatus::derive(true, Some(due), due, date(2026, 3, 11)),
            MilestoneStatus::Done
        );
        assert_eq!(
            MilestoneStatus::derive(false, None, due, due),
            MilestoneStatus::NotStarted
        );
    }
}
