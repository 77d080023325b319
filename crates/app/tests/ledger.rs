//! The 11710 ledger end to end on SQLite and PostgreSQL: the lifecycle, bad input, lists and
//! scopes, the calendar, escalation, and a simulated month of cadences ending in the year close.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "ledger/support.rs"]
mod support;

#[path = "ledger/flow.rs"]
mod flow;

#[path = "ledger/refusals.rs"]
mod refusals;

#[path = "ledger/lists.rs"]
mod lists;

#[path = "ledger/month.rs"]
mod month;

#[path = "ledger/attachments.rs"]
mod attachments;

#[path = "ledger/edit.rs"]
mod edit;

#[path = "ledger/submatters.rs"]
mod submatters;

#[path = "ledger/thresholds.rs"]
mod thresholds;

#[path = "ledger/daily_notify.rs"]
mod daily_notify;
