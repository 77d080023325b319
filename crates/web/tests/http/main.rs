//! The HTTP test binary: the real router in-process, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod api;
mod attachments;
mod cadence;
mod closed_loop;
mod identity;
mod ledger;
mod ledger_config;
mod matrix;
mod notify_admin;
mod office;
mod outbox;
mod views;
