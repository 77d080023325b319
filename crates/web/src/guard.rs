//! Intrusion signals kept in memory on each node (等保 入侵防范 f): a burst of refused accesses by
//! one person raises an audited alert, and an address that keeps failing to log in is throttled.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Refusals by one person within [`WINDOW_MS`] that raise an alert (IDOR probing).
pub const DENIALS_FOR_ALERT: usize = 20;
/// Failed logins from one address within [`LOGIN_WINDOW_MS`] before that address is refused.
pub const LOGIN_FAILURES_PER_ADDRESS: usize = 100;
const WINDOW_MS: i64 = 60_000;
const LOGIN_WINDOW_MS: i64 = 10 * 60_000;

#[derive(Default)]
pub struct Guard {
    denials: Mutex<HashMap<i64, VecDeque<i64>>>,
    alerted_at: Mutex<HashMap<i64, i64>>,
    logins: Mutex<HashMap<String, VecDeque<i64>>>,
}

fn prune(q: &mut VecDeque<i64>, now: i64, window: i64) {
    while q.front().is_some_and(|t| now - *t > window) {
        q.pop_front();
    }
}

impl Guard {
    /// Count a refusal; true when this one completes a burst that has not been alerted yet.
    pub fn note_denial(&self, person: i64, now_ms: i64) -> bool {
        let Ok(mut map) = self.denials.lock() else {
            return false;
        };
        let q = map.entry(person).or_default();
        q.push_back(now_ms);
        prune(q, now_ms, WINDOW_MS);
        if q.len() < DENIALS_FOR_ALERT {
            return false;
        }
        let Ok(mut alerted) = self.alerted_at.lock() else {
            return false;
        };
        match alerted.get(&person) {
            Some(t) if now_ms - *t <= WINDOW_MS => false,
            _ => {
                alerted.insert(person, now_ms);
                true
            }
        }
    }

    /// Whether this address has failed too often recently to be allowed another attempt.
    pub fn login_blocked(&self, ip: &str, now_ms: i64) -> bool {
        let Ok(mut map) = self.logins.lock() else {
            return false;
        };
        match map.get_mut(ip) {
            Some(q) => {
                prune(q, now_ms, LOGIN_WINDOW_MS);
                q.len() >= LOGIN_FAILURES_PER_ADDRESS
            }
            None => false,
        }
    }

    pub fn note_login_failure(&self, ip: &str, now_ms: i64) {
        if let Ok(mut map) = self.logins.lock() {
            let q = map.entry(ip.to_owned()).or_default();
            q.push_back(now_ms);
            prune(q, now_ms, LOGIN_WINDOW_MS);
            if map.len() > 100_000 {
                map.retain(|_, q| q.back().is_some_and(|t| now_ms - *t <= LOGIN_WINDOW_MS));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_refusals_in_a_minute_alert_once() {
        let g = Guard::default();
        let alerts: usize = (0..45)
            .map(|i| usize::from(g.note_denial(7, 1_000 + i * 1_000)))
            .sum();
        assert_eq!(alerts, 1);
        // A new burst after the window alerts again.
        let later: usize = (0..20)
            .map(|i| usize::from(g.note_denial(7, 500_000 + i)))
            .sum();
        assert_eq!(later, 1);
    }

    #[test]
    fn slow_refusals_never_alert() {
        let g = Guard::default();
        assert!((0..100).all(|i| !g.note_denial(7, i * 10_000)));
    }

    #[test]
    fn an_address_is_throttled_after_a_hundred_failures_and_released_later() {
        let g = Guard::default();
        for i in 0..100 {
            assert!(!g.login_blocked("10.1.1.1", i));
            g.note_login_failure("10.1.1.1", i);
        }
        assert!(g.login_blocked("10.1.1.1", 200));
        assert!(!g.login_blocked("10.1.1.2", 200));
        assert!(!g.login_blocked("10.1.1.1", 200 + LOGIN_WINDOW_MS + 1));
    }
}
