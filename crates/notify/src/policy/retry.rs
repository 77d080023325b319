//! 重试退避 — when to try a failed delivery again, and when to give up.

use std::time::Duration;

/// Delays after the 1st, 2nd, … failed attempt; after the last one the delivery is abandoned.
/// Each delay is spread by ±`jitter` (a fraction) using a random number the caller supplies, so
/// many deliveries failing together do not all come back in the same second.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySchedule {
    delays_ms: Vec<i64>,
    jitter: f64,
}

impl Default for RetrySchedule {
    /// 1 min, 5 min, 30 min, 2 h, 6 h, then give up (6 attempts in all); ±20 % jitter.
    fn default() -> RetrySchedule {
        RetrySchedule::new(
            &[
                Duration::from_secs(60),
                Duration::from_secs(5 * 60),
                Duration::from_secs(30 * 60),
                Duration::from_secs(2 * 3600),
                Duration::from_secs(6 * 3600),
            ],
            0.2,
        )
    }
}

impl RetrySchedule {
    /// `jitter` is clamped to 0..=0.5.
    pub fn new(delays: &[Duration], jitter: f64) -> RetrySchedule {
        let delays_ms = delays
            .iter()
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .collect();
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 0.5)
        } else {
            0.0
        };
        RetrySchedule { delays_ms, jitter }
    }

    /// Total attempts before giving up (the first try plus one per delay).
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays_ms.len()).map_or(u32::MAX, |n| n.saturating_add(1))
    }

    /// When to try again after `attempts_made` failed attempts (1 after the first failure), or
    /// `None` to give up. `unit_random` is uniform in `[0, 1)` from the caller's RNG; 0.5 means
    /// "no jitter".
    pub fn next_attempt_ms(
        &self,
        attempts_made: u32,
        now_ms: i64,
        unit_random: f64,
    ) -> Option<i64> {
        let index = usize::try_from(attempts_made.checked_sub(1)?).ok()?;
        let base = *self.delays_ms.get(index)?;
        let u = if unit_random.is_finite() {
            unit_random.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let factor = 1.0 + self.jitter * (2.0 * u - 1.0);
        // Precision loss is irrelevant at these magnitudes (hours in milliseconds).
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let delay = (base as f64 * factor).round() as i64;
        Some(now_ms.saturating_add(delay.max(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn default_schedule_is_one_five_thirty_minutes_two_and_six_hours_then_gives_up() {
        let s = RetrySchedule::default();
        let at = |n| s.next_attempt_ms(n, 0, 0.5);
        assert_eq!(at(1), Some(MIN));
        assert_eq!(at(2), Some(5 * MIN));
        assert_eq!(at(3), Some(30 * MIN));
        assert_eq!(at(4), Some(120 * MIN));
        assert_eq!(at(5), Some(360 * MIN));
        assert_eq!(at(6), None);
        assert_eq!(at(0), None);
        assert_eq!(s.max_attempts(), 6);
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let s = RetrySchedule::default();
        assert_eq!(s.next_attempt_ms(1, 1000, 0.0), Some(1000 + 48_000));
        assert_eq!(s.next_attempt_ms(1, 1000, 1.0), Some(1000 + 72_000));
        assert_eq!(s.next_attempt_ms(1, 1000, f64::NAN), Some(1000 + MIN));
        assert_eq!(s.next_attempt_ms(1, 1000, 7.0), Some(1000 + 72_000));
    }
}
