//! The Store: SQLite and PostgreSQL behind one interface.
//!
//! Every query is written once in portable SQL with `$1…$N` placeholders (both sqlx drivers accept
//! them) and run on either backend through the [`on!`] macro, which expands the body once per
//! backend. Timestamps are unix milliseconds (`BIGINT`), dates are `YYYY-MM-DD` text, flags are
//! `BOOLEAN`. Only `bin` picks a backend, by URL scheme.

/// Run `$body` with `$c` bound to the backend connection of `$conn` (a [`Conn`]), expanded once
/// per backend so the same portable SQL serves SQLite and PostgreSQL.
#[doc(hidden)]
#[macro_export]
macro_rules! on {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn.exec().await? {
            $crate::conn::Exec::Sqlite($c) => $body,
            $crate::conn::Exec::Pg($c) => $body,
        }
    };
}

mod backup;
pub mod conn;
mod error;
mod migrate;
mod packed;
mod row;
mod sync_read;

pub mod attachments;
pub mod audit;
pub mod bulk;
pub mod cadence;
pub mod cadences;
pub mod calendar;
pub mod escalation;
pub mod explain;
pub mod imports;
pub mod ledger;
pub mod matter_parts;
pub mod matters;
pub mod org;
pub mod outbox;
pub mod people;
pub mod settings;

pub use backup::{BackupSummary, NOT_BACKED_UP, TABLES};
pub use conn::{Backend, Conn, Store, redact_url};
pub use error::{StoreError, StoreResult};
pub use row::GetCol;
