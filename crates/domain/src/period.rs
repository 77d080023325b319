//! Period keys (周期键) that make cadence jobs idempotent: one 清查 per day, one 小结 per ISO
//! week, one 盘点 per month, one 归零 per year.
//!
//! Text forms: `2026-03-02`, `2026-W10` (ISO 8601 week), `2026-03`, `2026`.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, ISOWeekDate, Weekday};
use serde::{Deserialize, Serialize};

/// A malformed or impossible period key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("周期「{0}」格式无效（应为 2026-03-02、2026-W10、2026-03 或 2026）")]
    Malformed(String),
    #[error("周期超出日期范围")]
    OutOfRange,
}

/// One day, ISO week, month or year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum PeriodKey {
    /// 日 (一日一清查)
    Day(Date),
    /// ISO 周 (一周一小结)
    Week { year: i16, week: i8 },
    /// 月 (一月一盘点)
    Month { year: i16, month: i8 },
    /// 年 (一年一归零)
    Year(i16),
}

impl PeriodKey {
    /// The ISO week containing `d`.
    pub fn week_of(d: Date) -> Self {
        let w = d.iso_week_date();
        Self::Week {
            year: w.year(),
            week: w.week(),
        }
    }

    /// The month containing `d`.
    pub fn month_of(d: Date) -> Self {
        Self::Month {
            year: d.year(),
            month: d.month(),
        }
    }

    /// The year containing `d`.
    pub fn year_of(d: Date) -> Self {
        Self::Year(d.year())
    }

    /// Parses any of the four text forms.
    pub fn parse(s: &str) -> Result<Self, PeriodError> {
        let bad = || PeriodError::Malformed(s.to_owned());
        let num = |t: &str| -> Result<i16, PeriodError> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse().map_err(|_| bad())
        };
        if !s.is_ascii() {
            return Err(bad());
        }
        let key = match s.len() {
            4 => Self::Year(num(s)?),
            7 if s.as_bytes()[4] == b'-' => {
                let (y, m) = (num(&s[..4])?, num(&s[5..])?);
                let month = i8::try_from(m).map_err(|_| bad())?;
                Date::new(y, month, 1).map_err(|_| bad())?;
                Self::Month { year: y, month }
            }
            8 if s.get(4..6) == Some("-W") => {
                let (y, w) = (num(&s[..4])?, num(&s[6..])?);
                let week = i8::try_from(w).map_err(|_| bad())?;
                ISOWeekDate::new(y, week, Weekday::Monday).map_err(|_| bad())?;
                Self::Week { year: y, week }
            }
            10 => Self::Day(s.parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        };
        Ok(key)
    }

    /// First day of the period.
    pub fn first_day(self) -> Result<Date, PeriodError> {
        match self {
            Self::Day(d) => Ok(d),
            Self::Week { year, week } => ISOWeekDate::new(year, week, Weekday::Monday)
                .map(|w| w.date())
                .map_err(|_| PeriodError::OutOfRange),
            Self::Month { year, month } => {
                Date::new(year, month, 1).map_err(|_| PeriodError::OutOfRange)
            }
            Self::Year(year) => Date::new(year, 1, 1).map_err(|_| PeriodError::OutOfRange),
        }
    }

    /// Last day of the period.
    pub fn last_day(self) -> Result<Date, PeriodError> {
        match self {
            Self::Day(d) => Ok(d),
            Self::Week { year, week } => ISOWeekDate::new(year, week, Weekday::Sunday)
                .map(|w| w.date())
                .map_err(|_| PeriodError::OutOfRange),
            Self::Month { .. } => self.first_day().map(|d| d.last_of_month()),
            Self::Year(year) => Date::new(year, 12, 31).map_err(|_| PeriodError::OutOfRange),
        }
    }

    /// True when `d` lies in the period.
    pub fn contains(self, d: Date) -> bool {
        match self {
            Self::Day(x) => x == d,
            Self::Week { .. } => Self::week_of(d) == self,
            Self::Month { .. } => Self::month_of(d) == self,
            Self::Year(y) => d.year() == y,
        }
    }

    /// The period of the same kind just after this one.
    pub fn next(self) -> Result<Self, PeriodError> {
        let after = self
            .last_day()?
            .tomorrow()
            .map_err(|_| PeriodError::OutOfRange)?;
        Ok(self.same_kind_at(after))
    }

    /// The period of the same kind just before this one.
    pub fn previous(self) -> Result<Self, PeriodError> {
        let before = self
            .first_day()?
            .yesterday()
            .map_err(|_| PeriodError::OutOfRange)?;
        Ok(self.same_kind_at(before))
    }

    fn same_kind_at(self, d: Date) -> Self {
        match self {
            Self::Day(_) => Self::Day(d),
            Self::Week { .. } => Self::week_of(d),
            Self::Month { .. } => Self::month_of(d),
            Self::Year(_) => Self::year_of(d),
        }
    }
}

impl fmt::Display for PeriodKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Day(d) => write!(f, "{d}"),
            Self::Week { year, week } => write!(f, "{year:04}-W{week:02}"),
            Self::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Self::Year(year) => write!(f, "{year:04}"),
        }
    }
}

impl FromStr for PeriodKey {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<PeriodKey> for String {
    fn from(p: PeriodKey) -> Self {
        p.to_string()
    }
}

impl TryFrom<String> for PeriodKey {
    type Error = PeriodError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn keys_print_in_their_canonical_form() {
        let d = date(2026, 3, 2);
        assert_eq!(PeriodKey::Day(d).to_string(), "2026-03-02");
        assert_eq!(PeriodKey::week_of(d).to_string(), "2026-W10");
        assert_eq!(PeriodKey::month_of(d).to_string(), "2026-03");
        assert_eq!(PeriodKey::year_of(d).to_string(), "2026");
    }

    #[test]
    fn iso_weeks_cross_year_boundaries() {
        assert_eq!(
            PeriodKey::week_of(date(2024, 12, 30)).to_string(),
            "2025-W01"
        );
        assert_eq!(PeriodKey::week_of(date(2027, 1, 1)).to_string(), "2026-W53");
        let w = PeriodKey::parse("2026-W53").unwrap();
        assert_eq!(w.next().unwrap().to_string(), "2027-W01");
        assert_eq!(w.first_day().unwrap(), date(2026, 12, 28));
        assert_eq!(w.last_day().unwrap(), date(2027, 1, 3));
    }

    #[test]
    fn malformed_keys_are_refused() {
        for s in [
            "",
            "26",
            "2026-13",
            "2026-W54",
            "2025-W53",
            "2026-3",
            "2026-02-30",
            "+026",
            "2026-Wx1",
            "2é-03x",
            "年年-03",
        ] {
            assert!(PeriodKey::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn months_step_across_years() {
        let m = PeriodKey::parse("2026-01").unwrap();
        assert_eq!(m.previous().unwrap().to_string(), "2025-12");
        assert_eq!(
            PeriodKey::parse("2024-02").unwrap().last_day().unwrap(),
            date(2024, 2, 29)
        );
    }

    #[test]
    fn serde_uses_the_text_form() {
        let json = serde_json::to_string(&PeriodKey::parse("2026-W10").unwrap()).unwrap();
        assert_eq!(json, "\"2026-W10\"");
        let back: PeriodKey = serde_json::from_str(&json).unwrap();
        assert_eq!(back.to_string(), "2026-W10");
    }

    proptest! {
        #[test]
        fn every_period_of_a_day_contains_it_and_round_trips(k in 0i64..40_000) {
            let d = date(2000, 1, 1).checked_add(jiff::Span::new().days(k)).unwrap();
            for p in [PeriodKey::Day(d), PeriodKey::week_of(d), PeriodKey::month_of(d), PeriodKey::year_of(d)] {
                prop_assert!(p.contains(d));
                prop_assert!(p.first_day().unwrap() <= d && d <= p.last_day().unwrap());
                prop_assert_eq!(PeriodKey::parse(&p.to_string()).unwrap(), p);
                prop_assert_eq!(p.next().unwrap().previous().unwrap(), p);
                prop_assert!(!p.next().unwrap().contains(d));
            }
        }
    }
}
