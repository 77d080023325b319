//! 督办升级阶梯: 提醒 → 催办 → 督办单 (蓝 → 黄 → 红) → 通报. The system *proposes* the next
//! step; a person issues it (domain.md §2.3).
//!
//! Rules of [`propose`], in order:
//! 1. Grey or Green light → nothing.
//! 2. A 督办单 whose response limit passed unanswered → the next colour, or 通报 after red.
//!    (Notices carry their own limits, so the 催办 interval does not apply.)
//! 3. A 督办单 still within its limit → nothing (wait for the response).
//! 4. Yellow (approaching or lagging) → 提醒.
//! 5. Red: within `min_urge_interval_workdays` of the last 催办 → nothing (S[39]).
//! 6. Red: once enough 催办 were sent (`urges_before_notice`, or `urges_before_notice_major`
//!    for major or 特急 matters) → the first 督办单: blue, or yellow for major / 特急 matters
//!    (三明 S[17]: “may start at orange/red for urgent/major matters”), or red when overdue by
//!    at least `red_notice_overdue_workdays`.
//! 7. Red otherwise → 催办.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::WorkCalendar;
use crate::light::Light;
use crate::matter::Urgency;

/// 督办单 colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeColor {
    /// 蓝色督办单 — reminder.
    Blue,
    /// 黄色督办单 — warning with a time limit.
    Yellow,
    /// 红色督办单 — serious warning with a time limit.
    Red,
}

impl NoticeColor {
    pub fn code(self) -> &'static str {
        match self {
            Self::Blue => "blue",
            Self::Yellow => "yellow",
            Self::Red => "red",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Self::Blue, Self::Yellow, Self::Red]
            .into_iter()
            .find(|c| c.code() == code)
    }

    /// 蓝色督办单 / 黄色督办单 / 红色督办单.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Blue => "蓝色督办单",
            Self::Yellow => "黄色督办单",
            Self::Red => "红色督办单",
        }
    }

    /// The next colour up, `None` after red.
    pub fn next(self) -> Option<Self> {
        match self {
            Self::Blue => Some(Self::Yellow),
            Self::Yellow => Some(Self::Red),
            Self::Red => None,
        }
    }
}

/// One rung of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step", content = "color")]
pub enum EscalationStep {
    /// 提醒
    Remind,
    /// 催办
    Urge,
    /// 督办单
    Notice(NoticeColor),
    /// 通报
    Bulletin,
}

impl EscalationStep {
    /// `remind`, `urge`, `notice_blue`, `notice_yellow`, `notice_red`, `bulletin`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Remind => "remind",
            Self::Urge => "urge",
            Self::Notice(NoticeColor::Blue) => "notice_blue",
            Self::Notice(NoticeColor::Yellow) => "notice_yellow",
            Self::Notice(NoticeColor::Red) => "notice_red",
            Self::Bulletin => "bulletin",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Remind => "提醒",
            Self::Urge => "催办",
            Self::Notice(c) => c.label_zh(),
            Self::Bulletin => "通报",
        }
    }
}

/// What is known about a matter when proposing the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscalationFacts {
    pub light: Light,
    /// Working days past the deadline (≤ 0 when not overdue).
    pub overdue_workdays: i64,
    pub urges_sent: u32,
    pub last_urge_on: Option<Date>,
    pub highest_notice: Option<NoticeColor>,
    /// The highest 督办单 is past its response limit without an answer.
    pub notice_unanswered_past_limit: bool,
    /// 重大事项
    pub major: bool,
    pub urgency: Urgency,
}

/// Ladder thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationRules {
    /// Minimum working days between two 催办 (default 2).
    pub min_urge_interval_workdays: u32,
    /// 催办 sent before the first 督办单 (default 2).
    pub urges_before_notice: u32,
    /// Same for major or 特急 matters (default 1).
    pub urges_before_notice_major: u32,
    /// Overdue by at least this many working days → the first 督办单 is red (default 10).
    pub red_notice_overdue_workdays: i64,
}

impl Default for EscalationRules {
    fn default() -> Self {
        Self {
            min_urge_interval_workdays: 2,
            urges_before_notice: 2,
            urges_before_notice_major: 1,
            red_notice_overdue_workdays: 10,
        }
    }
}

/// The next step to propose today, if any (rules in the module doc).
pub fn propose(
    facts: &EscalationFacts,
    today: Date,
    cal: &WorkCalendar,
    rules: &EscalationRules,
) -> Option<EscalationStep> {
    if matches!(facts.light, Light::Grey | Light::Green) {
        return None;
    }
    if let Some(color) = facts.highest_notice {
        if !facts.notice_unanswered_past_limit {
            return None;
        }
        return Some(
            color
                .next()
                .map_or(EscalationStep::Bulletin, EscalationStep::Notice),
        );
    }
    if facts.light == Light::Yellow {
        return Some(EscalationStep::Remind);
    }
    if let Some(last) = facts.last_urge_on
        && cal.workdays_between(last, today) < i64::from(rules.min_urge_interval_workdays)
    {
        return None;
    }
    let weighty = facts.major || facts.urgency == Urgency::Extra;
    let needed = if weighty {
        rules.urges_before_notice_major
    } else {
        rules.urges_before_notice
    };
    if facts.urges_sent < needed {
        return Some(EscalationStep::Urge);
    }
    let color = if facts.overdue_workdays >= rules.red_notice_overdue_workdays {
        NoticeColor::Red
    } else if weighty {
        NoticeColor::Yellow
    } else {
        NoticeColor::Blue
    };
    Some(EscalationStep::Notice(color))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn red(urges: u32, last: Option<Date>) -> EscalationFacts {
        EscalationFacts {
            light: Light::Red,
            overdue_workdays: 2,
            urges_sent: urges,
            last_urge_on: last,
            highest_notice: None,
            notice_unanswered_past_limit: false,
            major: false,
            urgency: Urgency::Normal,
        }
    }

    fn go(f: &EscalationFacts, today: Date) -> Option<EscalationStep> {
        propose(
            f,
            today,
            &WorkCalendar::official(),
            &EscalationRules::default(),
        )
    }

    #[test]
    fn green_matters_get_nothing_and_yellow_ones_a_reminder() {
        let mut f = red(0, None);
        f.light = Light::Green;
        assert_eq!(go(&f, date(2026, 3, 2)), None);
        f.light = Light::Yellow;
        assert_eq!(go(&f, date(2026, 3, 2)), Some(EscalationStep::Remind));
    }

    #[test]
    fn a_second_urge_waits_two_working_days() {
        let f = red(1, Some(date(2026, 2, 13)));
        // 02-14 (班) is one working day later; the holiday does not count.
        assert_eq!(go(&f, date(2026, 2, 14)), None);
        assert_eq!(go(&f, date(2026, 2, 23)), None);
        assert_eq!(go(&f, date(2026, 2, 24)), Some(EscalationStep::Urge));
    }

    #[test]
    fn after_two_urges_a_blue_notice_is_proposed() {
        let f = red(2, Some(date(2026, 3, 2)));
        assert_eq!(
            go(&f, date(2026, 3, 4)),
            Some(EscalationStep::Notice(NoticeColor::Blue))
        );
    }

    #[test]
    fn major_or_extra_urgent_matters_start_at_a_yellow_notice() {
        let mut f = red(1, Some(date(2026, 3, 2)));
        f.major = true;
        assert_eq!(
            go(&f, date(2026, 3, 4)),
            Some(EscalationStep::Notice(NoticeColor::Yellow))
        );
        f.major = false;
        f.urgency = Urgency::Extra;
        assert_eq!(
            go(&f, date(2026, 3, 4)),
            Some(EscalationStep::Notice(NoticeColor::Yellow))
        );
        f.overdue_workdays = 12;
        assert_eq!(
            go(&f, date(2026, 3, 4)),
            Some(EscalationStep::Notice(NoticeColor::Red))
        );
    }

    #[test]
    fn unanswered_notices_climb_to_a_bulletin() {
        let mut f = red(3, None);
        f.highest_notice = Some(NoticeColor::Blue);
        assert_eq!(
            go(&f, date(2026, 3, 4)),
            None,
            "still within the notice's limit"
        );
        f.notice_unanswered_past_limit = true;
        assert_eq!(
            go(&f, date(2026, 3, 4)),
            Some(EscalationStep::Notice(NoticeColor::Yellow))
        );
        f.highest_notice = Some(NoticeColor::Red);
        assert_eq!(go(&f, date(2026, 3, 4)), Some(EscalationStep::Bulletin));
    }

    #[test]
    fn labels_and_codes() {
        assert_eq!(
            EscalationStep::Notice(NoticeColor::Red).label_zh(),
            "红色督办单"
        );
        assert_eq!(EscalationStep::Urge.code(), "urge");
        assert_eq!(NoticeColor::parse("yellow"), Some(NoticeColor::Yellow));
    }
}
