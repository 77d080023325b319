//! 红黄绿灯 (traffic-light warning): derived at read time from dates, status and progress,
//! never stored (domain.md §2.3).
//!
//! Rules, in order:
//! 1. 已办结 / terminal statuses, and 草稿 / 待审核立项 (the clock has not started) → Grey.
//! 2. 待审核办结 → Green: the unit has reported; the clock is on the reviewer, not overdue.
//! 3. Past the deadline (today > deadline) → Red.
//! 4. Lag behind 序时进度 (expected − reported) above `lag_red_points` → Red.
//! 5. Deadline within `yellow_within_workdays` working days (including today), or lag of at
//!    least `lag_yellow_points` → Yellow (西安 ≤3 days; 银川 10–30 points).
//! 6. Otherwise Green (also when there is no deadline and no lag to measure).
//!
//! Every function here is a handful of O(log n) calendar look-ups.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::WorkCalendar;
use crate::lifecycle::MatterStatus;
use crate::matter::SourceCategory;

/// 预警色.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    /// 绿灯 — on track.
    Green,
    /// 黄灯 — approaching the deadline or lagging.
    Yellow,
    /// 红灯 — overdue or far behind.
    Red,
    /// 灰 — not running (finished, closed or not yet assigned).
    Grey,
}

impl Light {
    pub fn code(self) -> &'static str {
        match self {
            Self::Green => "green",
            Self::Yellow => "yellow",
            Self::Red => "red",
            Self::Grey => "grey",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Self::Green, Self::Yellow, Self::Red, Self::Grey]
            .into_iter()
            .find(|l| l.code() == code)
    }

    /// 绿 / 黄 / 红 / 灰.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Green => "绿",
            Self::Yellow => "黄",
            Self::Red => "红",
            Self::Grey => "灰",
        }
    }
}

/// Thresholds of the light rules (one row of a [`LightTable`]: per 任务来源, or the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LightRules {
    /// Yellow when the deadline is within this many working days (default 3).
    pub yellow_within_workdays: u32,
    /// Yellow when at least this many points behind 序时进度 (default 10).
    pub lag_yellow_points: u8,
    /// Red when more than this many points behind 序时进度 (default 30).
    pub lag_red_points: u8,
}

impl Default for LightRules {
    fn default() -> Self {
        Self {
            yellow_within_workdays: 3,
            lag_yellow_points: 10,
            lag_red_points: 30,
        }
    }
}

impl LightRules {
    /// Longest 临期 window accepted, in working days (about a working year).
    pub const MAX_WINDOW: u32 = 250;

    /// Check a threshold row: `0 ≤ N ≤ 250` working days, `yellow lag < red lag ≤ 100` points.
    pub fn validate(&self) -> Result<(), ThresholdError> {
        if self.yellow_within_workdays > Self::MAX_WINDOW {
            return Err(ThresholdError::WindowTooLong {
                n: self.yellow_within_workdays,
                max: Self::MAX_WINDOW,
            });
        }
        if self.lag_red_points > 100 {
            return Err(ThresholdError::LagAbove100(self.lag_red_points));
        }
        if self.lag_yellow_points >= self.lag_red_points {
            return Err(ThresholdError::YellowNotBelowRed {
                yellow: self.lag_yellow_points,
                red: self.lag_red_points,
            });
        }
        Ok(())
    }
}

/// Why a row of warning thresholds was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error("临期预警天数 {n} 超出范围（0–{max} 个工作日）")]
    WindowTooLong { n: u32, max: u32 },
    #[error("红灯滞后点数 {0} 超出范围（不能超过 100）")]
    LagAbove100(u8),
    #[error("黄灯滞后点数（{yellow}）须小于红灯滞后点数（{red}）")]
    YellowNotBelowRed { yellow: u8, red: u8 },
}

/// Number of 任务来源 categories (one optional threshold row each).
const CATEGORIES: usize = SourceCategory::ALL.len();

/// 按类别配置的预警阈值: a default row, and an optional row per 任务来源 that overrides it.
/// `Copy` (a fixed array, no allocation), so a request holds it by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LightTable {
    pub default: LightRules,
    by_category: [Option<LightRules>; CATEGORIES],
}

impl LightTable {
    /// Every category on `default`.
    pub fn new(default: LightRules) -> Self {
        Self {
            default,
            by_category: [None; CATEGORIES],
        }
    }

    fn index(category: SourceCategory) -> usize {
        SourceCategory::ALL
            .iter()
            .position(|c| *c == category)
            .unwrap_or(0)
    }

    /// Give `category` its own row (`None`: back to the default).
    pub fn set(&mut self, category: SourceCategory, rules: Option<LightRules>) {
        self.by_category[Self::index(category)] = rules;
    }

    /// The category's own row, if it has one.
    pub fn own(&self, category: SourceCategory) -> Option<LightRules> {
        self.by_category[Self::index(category)]
    }

    /// The rules in force for a stored 任务来源 code (unknown codes get the default).
    pub fn for_code(&self, code: &str) -> LightRules {
        SourceCategory::ALL
            .iter()
            .position(|c| c.code() == code)
            .and_then(|i| self.by_category[i])
            .unwrap_or(self.default)
    }

    /// The widest 临期 window of any row: a SQL prefilter using it is a superset for every
    /// category, and the exact light is computed afterwards.
    pub fn max_window(&self) -> u32 {
        self.by_category
            .iter()
            .flatten()
            .map(|r| r.yellow_within_workdays)
            .fold(self.default.yellow_within_workdays, u32::max)
    }

    /// Check every row.
    pub fn validate(&self) -> Result<(), (Option<SourceCategory>, ThresholdError)> {
        self.default.validate().map_err(|e| (None, e))?;
        for (c, r) in SourceCategory::ALL.iter().zip(self.by_category.iter()) {
            if let Some(r) = r {
                r.validate().map_err(|e| (Some(*c), e))?;
            }
        }
        Ok(())
    }
}

/// 序时进度: share of working days elapsed between `start` and `deadline`, 0..=100.
/// `None` when the span has no working day (nothing to be proportional to).
pub fn expected_progress(
    cal: &WorkCalendar,
    start: Date,
    deadline: Date,
    today: Date,
) -> Option<u8> {
    let total = cal.workdays_between(start, deadline);
    if total <= 0 {
        return None;
    }
    let elapsed = cal.workdays_between(start, today).clamp(0, total);
    u8::try_from(elapsed * 100 / total).ok()
}

/// 剩余工作日: working days from `today` to `deadline`; 0 on the deadline, negative when overdue.
pub fn days_left(cal: &WorkCalendar, today: Date, deadline: Date) -> i64 {
    cal.workdays_between(today, deadline)
}

/// The warning colour of one matter.
pub fn light(
    cal: &WorkCalendar,
    rules: &LightRules,
    status: MatterStatus,
    today: Date,
    deadline: Option<Date>,
    start: Option<Date>,
    reported_progress: Option<u8>,
) -> Light {
    use MatterStatus as S;
    match status {
        S::Draft | S::PendingApproval | S::Completed => return Light::Grey,
        s if s.is_terminal() => return Light::Grey,
        S::CompletionPending => return Light::Green,
        _ => {}
    }
    let Some(deadline) = deadline else {
        return Light::Green;
    };
    if today > deadline {
        return Light::Red;
    }
    let lag = match (start, reported_progress) {
        (Some(start), Some(reported)) => expected_progress(cal, start, deadline, today)
            .map(|expected| i16::from(expected) - i16::from(reported.min(100))),
        _ => None,
    };
    if lag.is_some_and(|l| l > i16::from(rules.lag_red_points)) {
        return Light::Red;
    }
    if days_left(cal, today, deadline) <= i64::from(rules.yellow_within_workdays)
        || lag.is_some_and(|l| l >= i16::from(rules.lag_yellow_points))
    {
        return Light::Yellow;
    }
    Light::Green
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn lit(
        status: MatterStatus,
        today: Date,
        deadline: Option<Date>,
        start: Option<Date>,
        p: Option<u8>,
    ) -> Light {
        light(
            &WorkCalendar::official(),
            &LightRules::default(),
            status,
            today,
            deadline,
            start,
            p,
        )
    }

    const IP: MatterStatus = MatterStatus::InProgress;

    #[test]
    fn finished_and_unassigned_matters_are_grey() {
        let d = Some(date(2026, 3, 1));
        for s in [
            MatterStatus::Completed,
            MatterStatus::Closed,
            MatterStatus::Stopped,
            MatterStatus::Draft,
        ] {
            assert_eq!(lit(s, date(2026, 4, 1), d, None, None), Light::Grey);
        }
    }

    #[test]
    fn an_overdue_matter_is_red_unless_awaiting_completion_review() {
        let d = Some(date(2026, 3, 10));
        assert_eq!(lit(IP, date(2026, 3, 11), d, None, None), Light::Red);
        assert_eq!(
            lit(
                MatterStatus::ExtensionPending,
                date(2026, 3, 11),
                d,
                None,
                None
            ),
            Light::Red
        );
        assert_eq!(
            lit(
                MatterStatus::CompletionPending,
                date(2026, 3, 11),
                d,
                None,
                None
            ),
            Light::Green
        );
    }

    #[test]
    fn three_working_days_before_the_deadline_turns_yellow() {
        // Deadline 2026-02-25 (Wed); 02-13 has 02-14 (班), 02-24, 02-25 left → 3 → yellow.
        let d = Some(date(2026, 2, 25));
        assert_eq!(lit(IP, date(2026, 2, 13), d, None, None), Light::Yellow);
        assert_eq!(lit(IP, date(2026, 2, 12), d, None, None), Light::Green);
        assert_eq!(lit(IP, date(2026, 2, 25), d, None, None), Light::Yellow);
    }

    #[test]
    fn lagging_behind_schedule_turns_yellow_then_red() {
        let (start, deadline) = (Some(date(2026, 3, 2)), Some(date(2026, 5, 29)));
        let today = date(2026, 4, 15);
        let expected = expected_progress(
            &WorkCalendar::official(),
            date(2026, 3, 2),
            date(2026, 5, 29),
            today,
        )
        .unwrap();
        assert_eq!(expected, 50);
        assert_eq!(lit(IP, today, deadline, start, Some(45)), Light::Green);
        assert_eq!(lit(IP, today, deadline, start, Some(40)), Light::Yellow);
        assert_eq!(lit(IP, today, deadline, start, Some(20)), Light::Yellow);
        assert_eq!(lit(IP, today, deadline, start, Some(19)), Light::Red);
        assert_eq!(lit(IP, today, None, start, Some(0)), Light::Green);
    }

    #[test]
    fn threshold_rows_are_validated() {
        assert!(LightRules::default().validate().is_ok());
        let r = |n, y, red| LightRules {
            yellow_within_workdays: n,
            lag_yellow_points: y,
            lag_red_points: red,
        };
        assert!(r(0, 0, 1).validate().is_ok());
        assert!(r(3, 30, 30).validate().is_err());
        assert!(r(3, 40, 30).validate().is_err());
        assert!(r(3, 10, 101).validate().is_err());
        assert!(r(251, 10, 30).validate().is_err());
    }

    #[test]
    fn a_category_row_overrides_the_default_and_widens_the_prefilter() {
        let mut t = LightTable::default();
        assert_eq!(t.for_code("leader_instruction"), LightRules::default());
        assert_eq!(t.max_window(), 3);
        let own = LightRules {
            yellow_within_workdays: 10,
            lag_yellow_points: 5,
            lag_red_points: 20,
        };
        t.set(SourceCategory::LeaderInstruction, Some(own));
        assert_eq!(t.for_code("leader_instruction"), own);
        assert_eq!(t.for_code("other"), LightRules::default());
        assert_eq!(t.for_code("no_such_code"), LightRules::default());
        assert_eq!(t.max_window(), 10);
        // Deadline 2026-02-25: 4 working days left on 2026-02-12 — yellow only with the row.
        let cal = WorkCalendar::official();
        let d = Some(date(2026, 2, 25));
        let today = date(2026, 2, 12);
        let l = |r: &LightRules| light(&cal, r, IP, today, d, None, None);
        assert_eq!(l(&t.for_code("other")), Light::Green);
        assert_eq!(l(&t.for_code("leader_instruction")), Light::Yellow);
        t.set(SourceCategory::LeaderInstruction, None);
        assert_eq!(t.own(SourceCategory::LeaderInstruction), None);
    }

    #[test]
    fn days_left_is_negative_when_overdue() {
        let cal = WorkCalendar::official();
        assert_eq!(days_left(&cal, date(2026, 2, 24), date(2026, 2, 12)), -3);
        assert_eq!(days_left(&cal, date(2026, 2, 12), date(2026, 2, 12)), 0);
    }

    #[test]
    fn lights_over_a_span_of_deadlines_include_reds_for_the_overdue() {
        let cal = WorkCalendar::official();
        let rules = LightRules::default();
        let mut reds = 0;
        for i in 0..1000i64 {
            let deadline = date(2024, 1, 1)
                .checked_add(jiff::Span::new().days(i))
                .unwrap();
            let l = light(
                &cal,
                &rules,
                IP,
                date(2025, 6, 1),
                Some(deadline),
                Some(date(2024, 1, 1)),
                Some(30),
            );
            reds += usize::from(l == Light::Red);
        }
        assert!(reds > 0);
    }
}
