//! Time comes from a [`Clock`], so tests can move it (session timeouts, lockouts, cadences).
//! All dates are in Asia/Shanghai (UTC+8, no daylight saving).

use std::sync::atomic::{AtomicI64, Ordering};

use jiff::civil::Date;
use jiff::tz::{Offset, TimeZone};

pub trait Clock: Send + Sync {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> i64;

    /// Today's date in China.
    fn today(&self) -> Date {
        date_of_ms(self.now_ms())
    }
}

/// The China offset; fixed, because China has no daylight saving time.
pub fn china() -> TimeZone {
    TimeZone::fixed(Offset::constant(8))
}

/// The China date of a unix-millisecond instant.
pub fn date_of_ms(ms: i64) -> Date {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.to_zoned_datetime(china()).date(),
        Err(_) => Date::constant(1970, 1, 1),
    }
}

/// `YYYY-MM-DD HH:MM` in China time, for display.
pub fn format_ms(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts
            .to_zoned_datetime(china())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => String::new(),
    }
}

/// The instant a China date starts, in unix milliseconds.
pub fn start_of_day_ms(d: Date) -> i64 {
    d.to_zoned_datetime(china())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }
}

/// A clock tests set and advance.
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    pub fn at_ms(ms: i64) -> FixedClock {
        FixedClock(AtomicI64::new(ms))
    }

    /// 09:00 China time on the given date.
    pub fn at_date(d: Date) -> FixedClock {
        FixedClock::at_ms(start_of_day_ms(d) + 9 * 3_600_000)
    }

    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set_ms(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
