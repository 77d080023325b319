//! 反馈周期 (progress-report cadence) of a matter and the due dates it produces.
//!
//! Rolling rules:
//! - 每周X: a due date on a rest day moves *back* to the previous working day, so the report
//!   still falls inside the same working week (e.g. 每周五 in a week whose Friday is 国庆 → Thursday).
//! - 每月N日前: a due date on a rest day moves *forward* to the next working day (民法典 第203条:
//!   a period ending on a holiday ends on the day after it).
//! - 每月第N个工作日前: already a working day; a month with fewer than N working days has none.
//!
//! A matter's reports are due on dates strictly after it was assigned (`since`).

use std::fmt;

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

use crate::calendar::{WorkCalendar, add_days};

/// A malformed cadence code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("反馈周期「{0}」无效（示例：none、weekly:5、monthly_day:5、monthly_workday:5）")]
pub struct FeedbackCycleError(pub String);

/// 反馈周期.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum FeedbackCycle {
    /// 无需定期反馈
    None,
    /// 每周X — `weekday` 1..=7, Monday = 1.
    Weekly { weekday: u8 },
    /// 每月N日前 — `day` 1..=28.
    MonthlyDay { day: u8 },
    /// 每月第N个工作日前 — `n` 1..=23.
    MonthlyWorkday { n: u8 },
}

const WEEKDAY_ZH: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];

impl FeedbackCycle {
    /// Stable code, e.g. `weekly:5`.
    pub fn code(self) -> String {
        match self {
            Self::None => "none".into(),
            Self::Weekly { weekday } => format!("weekly:{weekday}"),
            Self::MonthlyDay { day } => format!("monthly_day:{day}"),
            Self::MonthlyWorkday { n } => format!("monthly_workday:{n}"),
        }
    }

    /// Parses a code and checks the ranges.
    pub fn parse(code: &str) -> Result<Self, FeedbackCycleError> {
        let bad = || FeedbackCycleError(code.to_owned());
        let code = code.trim();
        if code == "none" {
            return Ok(Self::None);
        }
        let (kind, n) = code.split_once(':').ok_or_else(bad)?;
        let n: u8 = n.parse().map_err(|_| bad())?;
        match kind {
            "weekly" if (1..=7).contains(&n) => Ok(Self::Weekly { weekday: n }),
            "monthly_day" if (1..=28).contains(&n) => Ok(Self::MonthlyDay { day: n }),
            "monthly_workday" if (1..=23).contains(&n) => Ok(Self::MonthlyWorkday { n }),
            _ => Err(bad()),
        }
    }

    /// 每周五 / 每月5日前 / 每月第5个工作日前 / 无.
    pub fn label_zh(self) -> String {
        match self {
            Self::None => "无".into(),
            Self::Weekly { weekday } => {
                format!(
                    "每周{}",
                    WEEKDAY_ZH
                        .get(usize::from(weekday.max(1) - 1))
                        .unwrap_or(&"?")
                )
            }
            Self::MonthlyDay { day } => format!("每月{day}日前"),
            Self::MonthlyWorkday { n } => format!("每月第{n}个工作日前"),
        }
    }

    /// Due dates in `from ..= to`, after rolling (see the module doc). Dates the calendar
    /// cannot compute (out of range) are skipped.
    pub fn due_dates(self, cal: &WorkCalendar, from: Date, to: Date) -> Vec<Date> {
        let mut out = Vec::new();
        if from > to {
            return out;
        }
        match self {
            Self::None => {}
            Self::Weekly { weekday } => {
                let Some(wd) = i8::try_from(weekday)
                    .ok()
                    .and_then(|w| Weekday::from_monday_one_offset(w).ok())
                else {
                    return out;
                };
                // Start from the week before `from`: a due date may roll back into the range.
                let start = add_days(from, -7).unwrap_or(from);
                let shift = (wd.to_monday_one_offset() - start.weekday().to_monday_one_offset())
                    .rem_euclid(7);
                let mut nominal = add_days(start, i64::from(shift)).unwrap_or(start);
                while nominal <= to.saturating_add(jiff::Span::new().days(7)) {
                    if let Ok(d) = cal.prev_workday_on_or_before(nominal) {
                        push_in_range(&mut out, d, from, to);
                    }
                    match add_days(nominal, 7) {
                        Ok(n) => nominal = n,
                        Err(_) => break,
                    }
                }
            }
            Self::MonthlyDay { day } => {
                for first in months_around(from, to) {
                    let nominal = i8::try_from(day)
                        .ok()
                        .and_then(|d| first.with().day(d).build().ok())
                        .unwrap_or(first.last_of_month());
                    if let Ok(d) = cal.next_workday_on_or_after(nominal) {
                        push_in_range(&mut out, d, from, to);
                    }
                }
            }
            Self::MonthlyWorkday { n } => {
                for first in months_around(from, to) {
                    if let Ok(d) =
                        cal.nth_workday_of_month(first.year(), first.month(), u32::from(n))
                    {
                        push_in_range(&mut out, d, from, to);
                    }
                }
            }
        }
        out
    }

    /// The latest due date in (`since`, `today`], i.e. the report that should exist by now.
    pub fn last_due_on_or_before(
        self,
        cal: &WorkCalendar,
        since: Date,
        today: Date,
    ) -> Option<Date> {
        let window_start = add_days(today, -70).unwrap_or(since).max(since);
        self.due_dates(cal, window_start, today)
            .into_iter()
            .rev()
            .find(|&d| d > since)
    }
}

fn push_in_range(out: &mut Vec<Date>, d: Date, from: Date, to: Date) {
    if d >= from && d <= to && out.last() != Some(&d) {
        out.push(d);
    }
}

/// First days of the month before `from` through the month after `to`.
fn months_around(from: Date, to: Date) -> Vec<Date> {
    let mut out = Vec::new();
    let mut m = from
        .first_of_month()
        .saturating_sub(jiff::Span::new().months(1));
    let end = to
        .first_of_month()
        .saturating_add(jiff::Span::new().months(1));
    while m <= end {
        out.push(m);
        match m.checked_add(jiff::Span::new().months(1)) {
            Ok(n) => m = n,
            Err(_) => break,
        }
    }
    out
}

impl fmt::Display for FeedbackCycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label_zh())
    }
}

impl TryFrom<String> for FeedbackCycle {
    type Error = FeedbackCycleError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<FeedbackCycle> for String {
    fn from(c: FeedbackCycle) -> Self {
        c.code()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cal() -> WorkCalendar {
        WorkCalendar::official()
    }

    #[test]
    fn codes_and_labels() {
        for (code, label) in [
            ("none", "无"),
            ("weekly:5", "每周五"),
            ("weekly:7", "每周日"),
            ("monthly_day:5", "每月5日前"),
            ("monthly_workday:5", "每月第5个工作日前"),
        ] {
            let c = FeedbackCycle::parse(code).unwrap();
            assert_eq!(c.code(), code);
            assert_eq!(c.label_zh(), label);
        }
        for bad in [
            "weekly:0",
            "weekly:8",
            "monthly_day:29",
            "monthly_workday:0",
            "daily",
            "weekly:x",
        ] {
            assert!(FeedbackCycle::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_weekly_friday_on_a_holiday_moves_back_to_thursday() {
        // 2025-10-03 is a Friday inside 国庆; the previous working day is 09-30 (Tue).
        let due = FeedbackCycle::Weekly { weekday: 5 }.due_dates(
            &cal(),
            date(2025, 9, 22),
            date(2025, 10, 12),
        );
        assert_eq!(
            due,
            vec![date(2025, 9, 26), date(2025, 9, 30), date(2025, 10, 10)]
        );
    }

    #[test]
    fn a_monthly_day_on_a_rest_day_moves_forward() {
        // 2026-04-05 is 清明 (Sunday) → 04-07 (04-06 is also off).
        let due = FeedbackCycle::MonthlyDay { day: 5 }.due_dates(
            &cal(),
            date(2026, 3, 1),
            date(2026, 5, 31),
        );
        assert_eq!(
            due,
            vec![date(2026, 3, 5), date(2026, 4, 7), date(2026, 5, 6)]
        );
    }

    #[test]
    fn the_fifth_working_day_skips_the_spring_festival() {
        let due = FeedbackCycle::MonthlyWorkday { n: 5 }.due_dates(
            &cal(),
            date(2026, 2, 1),
            date(2026, 2, 28),
        );
        assert_eq!(due, vec![date(2026, 2, 6)]);
        let c = FeedbackCycle::MonthlyWorkday { n: 5 };
        assert_eq!(
            c.due_dates(&cal(), date(2025, 10, 1), date(2025, 10, 31)),
            vec![date(2025, 10, 14)]
        );
    }

    #[test]
    fn the_last_due_date_ignores_dates_before_assignment() {
        let c = FeedbackCycle::Weekly { weekday: 5 };
        assert_eq!(
            c.last_due_on_or_before(&cal(), date(2026, 3, 2), date(2026, 3, 12)),
            Some(date(2026, 3, 6))
        );
        assert_eq!(
            c.last_due_on_or_before(&cal(), date(2026, 3, 6), date(2026, 3, 12)),
            None
        );
        assert_eq!(
            FeedbackCycle::None.last_due_on_or_before(&cal(), date(2026, 1, 1), date(2026, 3, 12)),
            None
        );
    }
}
