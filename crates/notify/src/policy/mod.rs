//! Delivery policy for the outbox, all pure: retry backoff ([`RetrySchedule`]), quiet hours
//! ([`QuietHours`], 免打扰时段), preferences per person and unit ([`Preferences`]) and the daily digest
//! ([`digest`]). Times are unix milliseconds and China time (UTC+8, no daylight saving).

mod digest;
mod prefs;
mod quiet;
mod retry;

pub use digest::{build_digest, group_for_digest};
pub use prefs::{PreferenceOverrides, Preferences};
pub use quiet::QuietHours;
pub use retry::RetrySchedule;
