//! The HTTP test binary: the real router in-process, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod api;
mod cadence;
mod identity;
mod ledger;
mod matrix;
mod office;
mod outbox;
