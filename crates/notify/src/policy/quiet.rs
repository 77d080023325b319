//! 免打扰时段 — quiet hours in China time: non-urgent deliveries wait until the window ends.

use jiff::Timestamp;
use jiff::civil::Time;
use jiff::tz::Offset;
use serde::{Deserialize, Serialize};

/// China time; fixed, China has no daylight saving.
const CHINA: Offset = Offset::constant(8);

/// A daily window `[start, end)` in China time; `start > end` wraps past midnight
/// (22:00–07:30), `start == end` means no quiet hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    pub start: Time,
    pub end: Time,
    /// Urgent events (已超期, 督办单下发) are delivered even inside the window.
    pub urgent_bypass: bool,
}

impl Default for QuietHours {
    /// 22:00–07:30, urgent events bypass.
    fn default() -> QuietHours {
        QuietHours {
            start: Time::constant(22, 0, 0, 0),
            end: Time::constant(7, 30, 0, 0),
            urgent_bypass: true,
        }
    }
}

impl QuietHours {
    /// Whether `at_ms` falls inside the window.
    pub fn contains_ms(&self, at_ms: i64) -> bool {
        let Ok(ts) = Timestamp::from_millisecond(at_ms) else {
            return false;
        };
        let t = CHINA.to_datetime(ts).time();
        match self.start.cmp(&self.end) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => self.start <= t && t < self.end,
            std::cmp::Ordering::Greater => t >= self.start || t < self.end,
        }
    }

    /// The earliest instant at or after `now_ms` when a delivery may go out: `now_ms` itself outside
    /// the window (or when `urgent` and bypass is on), otherwise the window's end.
    pub fn next_allowed_ms(&self, now_ms: i64, urgent: bool) -> i64 {
        if (urgent && self.urgent_bypass) || !self.contains_ms(now_ms) {
            return now_ms;
        }
        let Ok(ts) = Timestamp::from_millisecond(now_ms) else {
            return now_ms;
        };
        let local = CHINA.to_datetime(ts);
        // Inside a wrapping window before midnight, the end is tomorrow.
        let end_date = if self.start > self.end && local.time() >= self.start {
            local.date().tomorrow()
        } else {
            Ok(local.date())
        };
        end_date
            .and_then(|d| CHINA.to_timestamp(d.to_datetime(self.end)))
            .map_or(now_ms, |ts| ts.as_millisecond())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn ms(y: i16, mo: i8, d: i8, h: i8, mi: i8) -> i64 {
        CHINA
            .to_timestamp(date(y, mo, d).at(h, mi, 0, 0))
            .unwrap()
            .as_millisecond()
    }

    #[test]
    fn late_evening_waits_until_half_past_seven_next_morning() {
        let q = QuietHours::default();
        assert_eq!(
            q.next_allowed_ms(ms(2026, 12, 31, 23, 15), false),
            ms(2027, 1, 1, 7, 30)
        );
        assert_eq!(
            q.next_allowed_ms(ms(2026, 12, 31, 22, 0), false),
            ms(2027, 1, 1, 7, 30)
        );
    }

    #[test]
    fn early_morning_waits_until_half_past_seven_the_same_day() {
        let q = QuietHours::default();
        assert_eq!(
            q.next_allowed_ms(ms(2026, 3, 2, 3, 0), false),
            ms(2026, 3, 2, 7, 30)
        );
    }

    #[test]
    fn daytime_and_the_end_instant_itself_go_out_at_once() {
        let q = QuietHours::default();
        for t in [
            ms(2026, 3, 2, 7, 30),
            ms(2026, 3, 2, 12, 0),
            ms(2026, 3, 2, 21, 59),
        ] {
            assert_eq!(q.next_allowed_ms(t, false), t);
        }
    }

    #[test]
    fn urgent_events_bypass_only_when_allowed() {
        let mut q = QuietHours::default();
        let night = ms(2026, 3, 2, 23, 0);
        assert_eq!(q.next_allowed_ms(night, true), night);
        q.urgent_bypass = false;
        assert_eq!(q.next_allowed_ms(night, true), ms(2026, 3, 3, 7, 30));
    }

    #[test]
    fn a_window_within_one_day_and_an_empty_window_work() {
        let lunch = QuietHours {
            start: Time::constant(12, 0, 0, 0),
            end: Time::constant(13, 30, 0, 0),
            urgent_bypass: false,
        };
        assert_eq!(
            lunch.next_allowed_ms(ms(2026, 3, 2, 12, 45), false),
            ms(2026, 3, 2, 13, 30)
        );
        assert_eq!(
            lunch.next_allowed_ms(ms(2026, 3, 2, 11, 0), false),
            ms(2026, 3, 2, 11, 0)
        );
        let none = QuietHours {
            start: lunch.start,
            end: lunch.start,
            urgent_bypass: false,
        };
        assert!(!none.contains_ms(ms(2026, 3, 2, 12, 0)));
    }
}
