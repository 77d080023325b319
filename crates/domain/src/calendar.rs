//! Working-day calendar (工作日): weekday rule plus dated 休/班 overrides from the 国务院办公厅 notices.
//!
//! Rules (domain.md §6.1):
//! - A day is a working day when an override says so (班, 调休上班) or, absent an override,
//!   when it is Monday–Friday; a 休 override makes any day a rest day.
//! - “N个工作日内” counts N working days starting the day *after* the start ([`WorkCalendar::add_workdays`]).
//! - “N日内” counts calendar days and rolls a rest-day result forward ([`WorkCalendar::add_calendar_days_rolled`]).
//! - A year whose notice is not loaded is *provisional*: dates in it follow the weekday rule
//!   only and callers must flag them ([`WorkCalendar::is_provisional`]); nothing is guessed.
//! - Supported range is 2000-01-01 ..= 2099-12-31.
//!
//! Counting ([`WorkCalendar::workdays_between`]) is O(log n) in the number of overrides: whole
//! weeks are counted arithmetically and a prefix sum over the overrides corrects the result.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use jiff::civil::{Date, Weekday, date};
use serde::{Deserialize, Serialize};

/// First date the calendar accepts.
pub const MIN_DATE: Date = date(2000, 1, 1);
/// Last date the calendar accepts.
pub const MAX_DATE: Date = date(2099, 12, 31);

/// Errors from calendar arithmetic and calendar import.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The date (given or computed) is outside 2000-01-01 ..= 2099-12-31.
    #[error("日期 {date} 超出日历支持范围（2000-01-01 至 2099-12-31）")]
    OutOfRange { date: Date },
    /// The month number is not 1..=12.
    #[error("月份 {month} 无效（应为 1–12）")]
    InvalidMonth { month: i8 },
    /// The month has fewer than `n` working days (or `n` is 0).
    #[error("{year}年{month}月没有第{n}个工作日")]
    NoSuchWorkday { year: i16, month: i8, n: u32 },
    /// A line of an imported calendar file is malformed.
    #[error("日历文件第{line}行：{reason}")]
    BadLine { line: usize, reason: String },
}

/// 休 / 班: whether an override declares a rest day or a make-up working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideKind {
    /// 休 — statutory holiday (法定节假日) or bridged rest day.
    Holiday,
    /// 班 — 调休上班 / 补班: a weekend day declared a working day.
    MakeupWorkday,
}

impl OverrideKind {
    /// Stable code used in files and the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::Holiday => "holiday",
            Self::MakeupWorkday => "workday",
        }
    }

    /// 休 / 班.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Holiday => "休",
            Self::MakeupWorkday => "班",
        }
    }

    /// Accepts `休`/`holiday` and `班`/`workday` (also `makeup_workday`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "休" | "holiday" => Some(Self::Holiday),
            "班" | "workday" | "makeup_workday" => Some(Self::MakeupWorkday),
            _ => None,
        }
    }
}

/// One dated override (日历调整) with the holiday name and the notice that declared it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayOverride {
    pub date: Date,
    pub kind: OverrideKind,
    /// Holiday name, e.g. 春节.
    pub name: String,
    /// Basis, e.g. 国办发明电〔2024〕12号.
    pub notice: String,
}

/// The working-day calendar: overrides plus the years whose official notice is loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    overrides: BTreeMap<Date, DayOverride>,
    published: BTreeSet<i16>,
    /// Prefix sums of the working-day corrections: (day number, cumulative delta).
    index: Vec<(i32, i64)>,
}

const NOTICE_2024: &str = "国办发明电〔2023〕7号";
const NOTICE_2025: &str = "国办发明电〔2024〕12号";
const NOTICE_2026: &str = "国务院办公厅关于2026年部分节假日安排的通知（2025-11-04）";

/// (name, notice, first rest day, last rest day, make-up workdays) per holiday, domain.md §6.2.
type OfficialRow = (&'static str, &'static str, Date, Date, &'static [Date]);

#[rustfmt::skip]
const OFFICIAL: &[OfficialRow] = &[
    ("元旦", NOTICE_2024, date(2024, 1, 1), date(2024, 1, 1), &[]),
    ("春节", NOTICE_2024, date(2024, 2, 10), date(2024, 2, 17), &[date(2024, 2, 4), date(2024, 2, 18)]),
    ("清明节", NOTICE_2024, date(2024, 4, 4), date(2024, 4, 6), &[date(2024, 4, 7)]),
    ("劳动节", NOTICE_2024, date(2024, 5, 1), date(2024, 5, 5), &[date(2024, 4, 28), date(2024, 5, 11)]),
    ("端午节", NOTICE_2024, date(2024, 6, 10), date(2024, 6, 10), &[]),
    ("中秋节", NOTICE_2024, date(2024, 9, 15), date(2024, 9, 17), &[date(2024, 9, 14)]),
    ("国庆节", NOTICE_2024, date(2024, 10, 1), date(2024, 10, 7), &[date(2024, 9, 29), date(2024, 10, 12)]),
    ("元旦", NOTICE_2025, date(2025, 1, 1), date(2025, 1, 1), &[]),
    ("春节", NOTICE_2025, date(2025, 1, 28), date(2025, 2, 4), &[date(2025, 1, 26), date(2025, 2, 8)]),
    ("清明节", NOTICE_2025, date(2025, 4, 4), date(2025, 4, 6), &[]),
    ("劳动节", NOTICE_2025, date(2025, 5, 1), date(2025, 5, 5), &[date(2025, 4, 27)]),
    ("端午节", NOTICE_2025, date(2025, 5, 31), date(2025, 6, 2), &[]),
    ("国庆节、中秋节", NOTICE_2025, date(2025, 10, 1), date(2025, 10, 8), &[date(2025, 9, 28), date(2025, 10, 11)]),
    ("元旦", NOTICE_2026, date(2026, 1, 1), date(2026, 1, 3), &[date(2026, 1, 4)]),
    ("春节", NOTICE_2026, date(2026, 2, 15), date(2026, 2, 23), &[date(2026, 2, 14), date(2026, 2, 28)]),
    ("清明节", NOTICE_2026, date(2026, 4, 4), date(2026, 4, 6), &[]),
    ("劳动节", NOTICE_2026, date(2026, 5, 1), date(2026, 5, 5), &[date(2026, 5, 9)]),
    ("端午节", NOTICE_2026, date(2026, 6, 19), date(2026, 6, 21), &[]),
    ("中秋节", NOTICE_2026, date(2026, 9, 25), date(2026, 9, 27), &[]),
    ("国庆节", NOTICE_2026, date(2026, 10, 1), date(2026, 10, 7), &[date(2026, 9, 20), date(2026, 10, 10)]),
];

impl WorkCalendar {
    /// A calendar from explicit overrides and the years whose notice is loaded.
    pub fn new(
        overrides: impl IntoIterator<Item = DayOverride>,
        published_years: impl IntoIterator<Item = i16>,
    ) -> Self {
        let mut cal = Self {
            overrides: overrides.into_iter().map(|o| (o.date, o)).collect(),
            published: published_years.into_iter().collect(),
            index: Vec::new(),
        };
        cal.reindex();
        cal
    }

    /// The official calendar: 2024, 2025 and 2026 as published (domain.md §6.2).
    pub fn official() -> Self {
        Self::new(Self::official_overrides(), [2024, 2025, 2026])
    }

    /// Every 休 and 班 day of the loaded official notices, in date order.
    pub fn official_overrides() -> Vec<DayOverride> {
        let mut out = Vec::new();
        for &(name, notice, first, last, makeups) in OFFICIAL {
            let mut d = first;
            while d <= last {
                out.push(DayOverride {
                    date: d,
                    kind: OverrideKind::Holiday,
                    name: name.into(),
                    notice: notice.into(),
                });
                match d.tomorrow() {
                    Ok(next) => d = next,
                    Err(_) => break,
                }
            }
            for &m in makeups {
                out.push(DayOverride {
                    date: m,
                    kind: OverrideKind::MakeupWorkday,
                    name: name.into(),
                    notice: notice.into(),
                });
            }
        }
        out.sort_by_key(|o| o.date);
        out
    }

    /// All overrides in date order.
    pub fn overrides(&self) -> impl Iterator<Item = &DayOverride> {
        self.overrides.values()
    }

    /// The override for one date, if any.
    pub fn override_on(&self, d: Date) -> Option<&DayOverride> {
        self.overrides.get(&d)
    }

    /// Years whose official notice is loaded.
    pub fn published_years(&self) -> &BTreeSet<i16> {
        &self.published
    }

    /// Builder form of [`Self::set_override`].
    pub fn with_override(mut self, o: DayOverride) -> Result<Self, CalendarError> {
        self.set_override(o)?;
        Ok(self)
    }

    /// Adds or replaces the override for `o.date` (admin edit).
    pub fn set_override(&mut self, o: DayOverride) -> Result<(), CalendarError> {
        check_range(o.date)?;
        self.overrides.insert(o.date, o);
        self.reindex();
        Ok(())
    }

    /// Removes the override for `d` (admin edit); returns what was there.
    pub fn remove_override(&mut self, d: Date) -> Option<DayOverride> {
        let removed = self.overrides.remove(&d);
        if removed.is_some() {
            self.reindex();
        }
        removed
    }

    /// Marks a year's notice as loaded (its dates are no longer provisional).
    pub fn mark_published(&mut self, year: i16) {
        self.published.insert(year);
    }

    /// Imports a notice file: replaces all overrides of every year present in `overrides`
    /// and marks those years published.
    pub fn import(&mut self, overrides: Vec<DayOverride>) -> Result<(), CalendarError> {
        for o in &overrides {
            check_range(o.date)?;
        }
        let years: BTreeSet<i16> = overrides.iter().map(|o| o.date.year()).collect();
        self.overrides.retain(|d, _| !years.contains(&d.year()));
        self.overrides
            .extend(overrides.into_iter().map(|o| (o.date, o)));
        self.published.extend(years);
        self.reindex();
        Ok(())
    }

    fn reindex(&mut self) {
        let mut cum = 0i64;
        self.index = self
            .overrides
            .values()
            .filter_map(|o| {
                let weekend = is_weekend(o.date);
                let delta = match o.kind {
                    OverrideKind::Holiday if !weekend => -1,
                    OverrideKind::MakeupWorkday if weekend => 1,
                    _ => return None,
                };
                cum += delta;
                Some((day_number(o.date), cum))
            })
            .collect();
    }

    /// Sum of corrections for override days with number ≤ `n`.
    fn correction_upto(&self, n: i32) -> i64 {
        let i = self.index.partition_point(|&(d, _)| d <= n);
        if i == 0 { 0 } else { self.index[i - 1].1 }
    }

    /// 工作日: the override wins; otherwise Monday–Friday.
    pub fn is_workday(&self, d: Date) -> bool {
        match self.overrides.get(&d) {
            Some(o) => o.kind == OverrideKind::MakeupWorkday,
            None => !is_weekend(d),
        }
    }

    /// True when `d`'s year has no published notice: the answer for it follows the weekday
    /// rule only and must be shown as provisional (日历未发布).
    pub fn is_provisional(&self, d: Date) -> bool {
        !self.published.contains(&d.year())
    }

    /// True when any year from `from` to `to` lacks a published notice, so a count or a
    /// deadline computed across that span is provisional.
    pub fn span_is_provisional(&self, from: Date, to: Date) -> bool {
        let (a, b) = if from <= to { (from, to) } else { (to, from) };
        (a.year()..=b.year()).any(|y| !self.published.contains(&y))
    }

    /// `d` itself if it is a working day, else the next working day.
    pub fn next_workday_on_or_after(&self, d: Date) -> Result<Date, CalendarError> {
        check_range(d)?;
        let mut cur = d;
        while !self.is_workday(cur) {
            cur = next_day(cur)?;
        }
        Ok(cur)
    }

    /// The latest working day on or before `d`.
    pub fn prev_workday_on_or_before(&self, d: Date) -> Result<Date, CalendarError> {
        check_range(d)?;
        let mut cur = d;
        while !self.is_workday(cur) {
            cur = prev_day(cur)?;
        }
        Ok(cur)
    }

    /// “N个工作日内”: the N-th working day counted from the day after `start`.
    /// With `n == 0`, `start` rolled forward to a working day.
    pub fn add_workdays(&self, start: Date, n: u32) -> Result<Date, CalendarError> {
        check_range(start)?;
        if n == 0 {
            return self.next_workday_on_or_after(start);
        }
        let mut cur = start;
        let mut left = n;
        // Jump whole weeks while far away; a jump never overshoots because it is taken only
        // when the counted working days stay below what is left.
        while left > 10 {
            let weeks = i64::from(left / 7).max(1);
            let target = add_days(cur, weeks * 7)?;
            let got = self.workdays_between(cur, target);
            if got >= i64::from(left) || got <= 0 {
                break;
            }
            // `got` is in 1..left, so it fits in u32.
            left -= u32::try_from(got).unwrap_or(left);
            cur = target;
        }
        loop {
            cur = next_day(cur)?;
            if self.is_workday(cur) {
                left -= 1;
                if left == 0 {
                    return Ok(cur);
                }
            }
        }
    }

    /// “N日内”: `start + n` calendar days, rolled forward to a working day.
    pub fn add_calendar_days_rolled(&self, start: Date, n: u32) -> Result<Date, CalendarError> {
        check_range(start)?;
        let end = add_days(start, i64::from(n))?;
        self.next_workday_on_or_after(end)
    }

    /// Signed count of working days in (from, to]; negative when `to < from`
    /// (then −count in (to, from]). Used for 剩余工作日 and “overdue by N working days”.
    pub fn workdays_between(&self, from: Date, to: Date) -> i64 {
        let (a, b) = (day_number(from), day_number(to));
        weekdays_upto(b) - weekdays_upto(a) + self.correction_upto(b) - self.correction_upto(a)
    }

    /// The `n`-th (1-based) working day of a month, e.g. 每月第5个工作日.
    pub fn nth_workday_of_month(
        &self,
        year: i16,
        month: i8,
        n: u32,
    ) -> Result<Date, CalendarError> {
        if !(1..=12).contains(&month) {
            return Err(CalendarError::InvalidMonth { month });
        }
        let first =
            Date::new(year, month, 1).map_err(|_| CalendarError::OutOfRange { date: MIN_DATE })?;
        check_range(first)?;
        let none = CalendarError::NoSuchWorkday { year, month, n };
        if n == 0 {
            return Err(none);
        }
        let mut count = 0;
        let mut d = first;
        while d.month() == month {
            if self.is_workday(d) {
                count += 1;
                if count == n {
                    return Ok(d);
                }
            }
            if d == MAX_DATE {
                break;
            }
            d = next_day(d)?;
        }
        Err(none)
    }

    /// Serializes the overrides in the import format (`date,kind,name,notice`, kind 休/班).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("date,kind,name,notice\n");
        for o in self.overrides.values() {
            out.push_str(&format!(
                "{},{},{},{}\n",
                o.date,
                o.kind.label_zh(),
                o.name,
                o.notice
            ));
        }
        out
    }
}

/// Parses the calendar import format: `date,kind,name,notice` per line, kind `休`/`holiday` or
/// `班`/`workday`; `#` comments, blank lines and an optional header line are skipped.
/// The notice field is the rest of the line and may contain commas.
pub fn parse_overrides_csv(text: &str) -> Result<Vec<DayOverride>, CalendarError> {
    let mut out: Vec<DayOverride> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim().trim_start_matches('\u{feff}');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut fields = trimmed.splitn(4, ',').map(str::trim);
        let date_field = fields.next().unwrap_or_default();
        if out.is_empty()
            && seen.is_empty()
            && (date_field.eq_ignore_ascii_case("date") || date_field == "日期")
        {
            continue;
        }
        let bad = |reason: String| CalendarError::BadLine { line, reason };
        let d: Date = date_field
            .parse()
            .map_err(|_| bad(format!("日期「{date_field}」不是 YYYY-MM-DD")))?;
        check_range(d).map_err(|e| bad(e.to_string()))?;
        let kind_field = fields.next().unwrap_or_default();
        let kind = OverrideKind::parse(kind_field)
            .ok_or_else(|| bad(format!("类型「{kind_field}」应为 休/holiday 或 班/workday")))?;
        if !seen.insert(d) {
            return Err(bad(format!("日期 {d} 重复")));
        }
        let name = fields.next().unwrap_or_default().to_owned();
        let notice = fields.next().unwrap_or_default().to_owned();
        out.push(DayOverride {
            date: d,
            kind,
            name,
            notice,
        });
    }
    out.sort_by_key(|o| o.date);
    Ok(out)
}

impl fmt::Display for OverrideKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_zh())
    }
}

fn check_range(d: Date) -> Result<(), CalendarError> {
    if d < MIN_DATE || d > MAX_DATE {
        Err(CalendarError::OutOfRange { date: d })
    } else {
        Ok(())
    }
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn next_day(d: Date) -> Result<Date, CalendarError> {
    let n = d
        .tomorrow()
        .map_err(|_| CalendarError::OutOfRange { date: d })?;
    check_range(n)?;
    Ok(n)
}

fn prev_day(d: Date) -> Result<Date, CalendarError> {
    let p = d
        .yesterday()
        .map_err(|_| CalendarError::OutOfRange { date: d })?;
    check_range(p)?;
    Ok(p)
}

/// `d + days`, kept inside the supported range.
pub(crate) fn add_days(d: Date, days: i64) -> Result<Date, CalendarError> {
    // Beyond ±100 years the result is out of range anyway; refuse before asking jiff.
    if days.abs() > 40_000 {
        return Err(CalendarError::OutOfRange {
            date: if days > 0 { MAX_DATE } else { MIN_DATE },
        });
    }
    let r = d
        .checked_add(jiff::Span::new().days(days))
        .map_err(|_| CalendarError::OutOfRange { date: d })?;
    check_range(r)?;
    Ok(r)
}

/// Days since 1970-01-01 (proleptic Gregorian; H. Hinnant's `days_from_civil`).
pub(crate) fn day_number(d: Date) -> i32 {
    let m = i32::from(d.month());
    let y = i32::from(d.year()) - i32::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i32::from(d.day()) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Cumulative count of Monday–Friday days up to day number `n` (relative to Monday 1969-12-29).
fn weekdays_upto(n: i32) -> i64 {
    let k = i64::from(n) + 3 + 1;
    k.div_euclid(7) * 5 + k.rem_euclid(7).min(5)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cal() -> WorkCalendar {
        WorkCalendar::official()
    }

    fn span(first: Date, last: Date) -> Vec<Date> {
        let mut v = Vec::new();
        let mut d = first;
        while d <= last {
            v.push(d);
            d = d.tomorrow().unwrap();
        }
        v
    }

    #[test]
    fn every_official_rest_day_and_makeup_day_of_2024_to_2026_is_right() {
        let c = cal();
        let rest: &[(Date, Date)] = &[
            (date(2024, 1, 1), date(2024, 1, 1)),
            (date(2024, 2, 10), date(2024, 2, 17)),
            (date(2024, 4, 4), date(2024, 4, 6)),
            (date(2024, 5, 1), date(2024, 5, 5)),
            (date(2024, 6, 10), date(2024, 6, 10)),
            (date(2024, 9, 15), date(2024, 9, 17)),
            (date(2024, 10, 1), date(2024, 10, 7)),
            (date(2025, 1, 1), date(2025, 1, 1)),
            (date(2025, 1, 28), date(2025, 2, 4)),
            (date(2025, 4, 4), date(2025, 4, 6)),
            (date(2025, 5, 1), date(2025, 5, 5)),
            (date(2025, 5, 31), date(2025, 6, 2)),
            (date(2025, 10, 1), date(2025, 10, 8)),
            (date(2026, 1, 1), date(2026, 1, 3)),
            (date(2026, 2, 15), date(2026, 2, 23)),
            (date(2026, 4, 4), date(2026, 4, 6)),
            (date(2026, 5, 1), date(2026, 5, 5)),
            (date(2026, 6, 19), date(2026, 6, 21)),
            (date(2026, 9, 25), date(2026, 9, 27)),
            (date(2026, 10, 1), date(2026, 10, 7)),
        ];
        let makeup = [
            date(2024, 2, 4),
            date(2024, 2, 18),
            date(2024, 4, 7),
            date(2024, 4, 28),
            date(2024, 5, 11),
            date(2024, 9, 14),
            date(2024, 9, 29),
            date(2024, 10, 12),
            date(2025, 1, 26),
            date(2025, 2, 8),
            date(2025, 4, 27),
            date(2025, 9, 28),
            date(2025, 10, 11),
            date(2026, 1, 4),
            date(2026, 2, 14),
            date(2026, 2, 28),
            date(2026, 5, 9),
            date(2026, 9, 20),
            date(2026, 10, 10),
        ];
        let rest_days: BTreeSet<Date> = rest.iter().flat_map(|&(a, b)| span(a, b)).collect();
        let makeup_days: BTreeSet<Date> = makeup.into_iter().collect();
        // Day by day over the three published years: the table is the only deviation from Mon–Fri.
        for d in span(date(2024, 1, 1), date(2026, 12, 31)) {
            let expected = if rest_days.contains(&d) {
                false
            } else if makeup_days.contains(&d) {
                true
            } else {
                !is_weekend(d)
            };
            assert_eq!(c.is_workday(d), expected, "{d}");
            assert!(!c.is_provisional(d));
        }
        assert!(
            c.is_workday(date(2024, 2, 9)),
            "2024 除夕 is officially a workday"
        );
        assert_eq!(c.overrides().count(), rest_days.len() + makeup_days.len());
    }

    #[test]
    fn three_working_days_from_2026_02_12_cross_the_spring_festival() {
        assert_eq!(
            cal().add_workdays(date(2026, 2, 12), 3).unwrap(),
            date(2026, 2, 24)
        );
    }

    #[test]
    fn zero_working_days_rolls_a_rest_day_forward() {
        let c = cal();
        assert_eq!(
            c.add_workdays(date(2026, 2, 15), 0).unwrap(),
            date(2026, 2, 24)
        );
        assert_eq!(
            c.add_workdays(date(2026, 2, 13), 0).unwrap(),
            date(2026, 2, 13)
        );
    }

    #[test]
    fn calendar_days_landing_on_a_holiday_roll_forward() {
        let c = cal();
        assert_eq!(
            c.add_calendar_days_rolled(date(2025, 9, 24), 7).unwrap(),
            date(2025, 10, 9)
        );
        assert_eq!(
            c.add_calendar_days_rolled(date(2026, 3, 2), 3).unwrap(),
            date(2026, 3, 5)
        );
    }

    #[test]
    fn years_without_a_notice_are_provisional() {
        let c = cal();
        assert!(c.is_provisional(date(2027, 1, 4)));
        assert!(c.is_provisional(date(2023, 12, 29)));
        assert!(
            c.is_workday(date(2027, 1, 1)),
            "weekday rule only, nothing guessed"
        );
    }

    #[test]
    fn dates_outside_the_supported_range_are_refused() {
        let c = cal();
        assert_eq!(
            c.add_workdays(date(1999, 12, 31), 1),
            Err(CalendarError::OutOfRange {
                date: date(1999, 12, 31)
            })
        );
        assert!(matches!(
            c.add_workdays(date(2099, 12, 30), 5),
            Err(CalendarError::OutOfRange { .. })
        ));
        assert!(c.add_workdays(date(2026, 1, 5), u32::MAX).is_err());
    }

    #[test]
    fn workdays_between_is_signed() {
        let c = cal();
        assert_eq!(c.workdays_between(date(2026, 2, 12), date(2026, 2, 24)), 3);
        assert_eq!(c.workdays_between(date(2026, 2, 24), date(2026, 2, 12)), -3);
        assert_eq!(c.workdays_between(date(2026, 3, 2), date(2026, 3, 2)), 0);
    }

    #[test]
    fn nth_workday_of_month_skips_holidays_and_counts_makeup_days() {
        let c = cal();
        assert_eq!(
            c.nth_workday_of_month(2026, 2, 1).unwrap(),
            date(2026, 2, 2)
        );
        assert_eq!(
            c.nth_workday_of_month(2025, 10, 1).unwrap(),
            date(2025, 10, 9)
        );
        assert_eq!(
            c.nth_workday_of_month(2026, 1, 1).unwrap(),
            date(2026, 1, 4)
        );
        assert!(matches!(
            c.nth_workday_of_month(2026, 2, 25),
            Err(CalendarError::NoSuchWorkday { .. })
        ));
        assert!(matches!(
            c.nth_workday_of_month(2026, 13, 1),
            Err(CalendarError::InvalidMonth { .. })
        ));
    }

    #[test]
    fn csv_round_trips_and_marks_years_published() {
        let text = cal().to_csv();
        let parsed = parse_overrides_csv(&text).unwrap();
        assert_eq!(parsed, WorkCalendar::official_overrides());
        let mut c = WorkCalendar::default();
        c.import(parsed).unwrap();
        assert_eq!(c, cal());
    }

    #[test]
    fn csv_accepts_english_kinds_comments_and_commas_in_the_notice() {
        let text = "# 2027\n\n2027-01-01,holiday,元旦,国办发明电〔2026〕1号, 附件\n2027-01-09,workday,元旦,x\n";
        let v = parse_overrides_csv(text).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].notice, "国办发明电〔2026〕1号, 附件");
        assert_eq!(v[1].kind, OverrideKind::MakeupWorkday);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err =
            parse_overrides_csv("date,kind,name,notice\n2027-01-01,休,元旦,n\n2027-13-01,休,x,y\n")
                .unwrap_err();
        assert!(
            matches!(err, CalendarError::BadLine { line: 3, .. }),
            "{err}"
        );
        let err = parse_overrides_csv("2027-01-01,放假,元旦,n").unwrap_err();
        assert!(matches!(err, CalendarError::BadLine { line: 1, .. }));
        let err = parse_overrides_csv("2027-01-01,休,a,b\n2027-01-01,班,a,b").unwrap_err();
        assert!(matches!(err, CalendarError::BadLine { line: 2, .. }));
    }

    #[test]
    fn admin_edits_change_the_count() {
        let mut c = cal();
        let d = date(2026, 3, 4);
        c.set_override(DayOverride {
            date: d,
            kind: OverrideKind::Holiday,
            name: "x".into(),
            notice: "y".into(),
        })
        .unwrap();
        assert!(!c.is_workday(d));
        assert_eq!(c.workdays_between(date(2026, 3, 2), date(2026, 3, 6)), 3);
        c.remove_override(d);
        assert_eq!(c.workdays_between(date(2026, 3, 2), date(2026, 3, 6)), 4);
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (0i64..(365 * 6)).prop_map(|k| add_days(date(2023, 1, 1), k).unwrap())
    }

    fn naive_between(c: &WorkCalendar, from: Date, to: Date) -> i64 {
        let (lo, hi, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut n = 0;
        let mut d = lo;
        while d < hi {
            d = d.tomorrow().unwrap();
            if c.is_workday(d) {
                n += 1;
            }
        }
        sign * n
    }

    proptest! {
        #[test]
        fn add_workdays_lands_on_a_later_workday_exactly_n_away(start in any_date(), n in 1u32..400) {
            let c = cal();
            let end = c.add_workdays(start, n).unwrap();
            prop_assert!(c.is_workday(end));
            prop_assert!(end > start);
            prop_assert_eq!(c.workdays_between(start, end), i64::from(n));
            prop_assert_eq!(naive_between(&c, start, end), i64::from(n));
        }

        #[test]
        fn add_workdays_is_monotonic_in_n(start in any_date(), n in 0u32..200) {
            let c = cal();
            let (a, b) = (c.add_workdays(start, n).unwrap(), c.add_workdays(start, n + 1).unwrap());
            // From a rest day, 0 (rolled forward) and 1 land on the same working day.
            if n == 0 {
                prop_assert!(a <= b);
            } else {
                prop_assert!(a < b);
            }
        }

        #[test]
        fn workdays_between_matches_counting_day_by_day(a in any_date(), b in any_date()) {
            let c = cal();
            prop_assert_eq!(c.workdays_between(a, b), naive_between(&c, a, b));
        }
    }
}
