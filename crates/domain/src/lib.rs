//! Taizhang (台账) domain: pure types and rules, no I/O, no clock of its own.
//!
//! Time always comes in as an argument; everything here is deterministic and
//! property-tested where it matters.

pub mod ids;

// The 11710 ledger: calendar, lifecycle, lights, cadences.
pub mod calendar;
pub mod daily_check;
pub mod escalation;
pub mod feedback;
pub mod lifecycle;
pub mod light;
pub mod matter;
pub mod period;

// Identity, access and audit.
pub mod audit_chain;
pub mod crypto;
pub mod password;
pub mod policy;
pub mod totp;
pub mod username;
