//! Logical backup and restore: a portable JSON-lines file, the same for both backends, so a
//! SQLite database can be restored into PostgreSQL and back. The table registry below must match
//! the migrations; a contract test compares it with the live schema.
//!
//! Both directions stream: a backup reads one consistent snapshot table by table and writes each
//! row as it comes (attachment bytes in groups of a few MB), and a restore inserts bounded batches
//! as it reads, inside one transaction that is rolled back unless the whole file arrived intact.
//! Memory stays at a few batches plus the largest single row, whatever the size of the data.
//!
//! The file: a header line `{"format":"taizhang-backup","version":1,"tables":N}`, one line per row
//! `{"t":TABLE,"r":[values in registry order]}` (tables in registry order), and an end line
//! `{"end":true,"counts":{…},"sha256":HEX}` whose digest covers every line before it.

mod read;
mod write;

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use sqlx::Row;

use crate::{Store, StoreError, StoreResult};

/// How a column is carried in the backup file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Int,
    Text,
    Flag,
    /// A reference to a row of the same table: restored as NULL first, then set, so the order of
    /// rows never trips the foreign key.
    SelfRef,
    /// Binary data (佐证材料 bytes), carried as standard base64 text.
    Bytes,
}

/// Every table, in an order that satisfies foreign keys (other than self references).
pub const TABLES: &[(&str, &[(&str, Col)])] = &[
    (
        "settings",
        &[
            ("key", Col::Text),
            ("value", Col::Text),
            ("updated_at", Col::Int),
        ],
    ),
    (
        "units",
        &[
            ("id", Col::Int),
            ("parent_id", Col::SelfRef),
            ("name", Col::Text),
            ("short_name", Col::Text),
            ("kind", Col::Text),
            ("sort_order", Col::Int),
            ("leader_id", Col::Int),
            ("retired_at", Col::Int),
            ("created_at", Col::Int),
            ("updated_at", Col::Int),
        ],
    ),
    (
        "people",
        &[
            ("id", Col::Int),
            ("username", Col::Text),
            ("display_name", Col::Text),
            ("unit_id", Col::Int),
            ("position", Col::Text),
            ("email", Col::Text),
            ("clearance", Col::Text),
            ("password_hash", Col::Text),
            ("password_changed_at", Col::Int),
            ("must_change_password", Col::Flag),
            ("failed_logins", Col::Int),
            ("locked_until", Col::Int),
            ("totp_secret", Col::Text),
            ("totp_last_step", Col::Int),
            ("totp_pending", Col::Text),
            ("disabled", Col::Flag),
            ("expires_at", Col::Int),
            ("last_login_at", Col::Int),
            ("created_at", Col::Int),
            ("updated_at", Col::Int),
        ],
    ),
    (
        "unit_events",
        &[
            ("id", Col::Int),
            ("unit_id", Col::Int),
            ("at_ms", Col::Int),
            ("actor_id", Col::Int),
            ("kind", Col::Text),
            ("old_value", Col::Text),
            ("new_value", Col::Text),
        ],
    ),
    (
        "password_history",
        &[
            ("id", Col::Int),
            ("person_id", Col::Int),
            ("hash", Col::Text),
            ("created_at", Col::Int),
        ],
    ),
    (
        "person_roles",
        &[
            ("person_id", Col::Int),
            ("role", Col::Text),
            ("granted_by", Col::Int),
            ("granted_at", Col::Int),
        ],
    ),
    (
        "api_tokens",
        &[
            ("id", Col::Int),
            ("person_id", Col::Int),
            ("name", Col::Text),
            ("token_hash", Col::Text),
            ("created_at", Col::Int),
            ("expires_at", Col::Int),
            ("revoked_at", Col::Int),
            ("last_used_at", Col::Int),
        ],
    ),
    (
        "audit_log",
        &[
            ("seq", Col::Int),
            ("at_ms", Col::Int),
            ("actor_id", Col::Int),
            ("actor_name", Col::Text),
            ("role", Col::Text),
            ("source_ip", Col::Text),
            ("action", Col::Text),
            ("object_type", Col::Text),
            ("object_id", Col::Text),
            ("result", Col::Text),
            ("request_id", Col::Text),
            ("detail", Col::Text),
            ("detail_digest", Col::Text),
            ("mac", Col::Text),
        ],
    ),
    (
        "audit_head",
        &[("id", Col::Int), ("seq", Col::Int), ("mac", Col::Text)],
    ),
    (
        "audit_checkpoints",
        &[
            ("seq", Col::Int),
            ("at_ms", Col::Int),
            ("mac", Col::Text),
            ("signature", Col::Text),
        ],
    ),
    (
        "calendar_overrides",
        &[
            ("day", Col::Text),
            ("kind", Col::Text),
            ("name", Col::Text),
            ("notice", Col::Text),
        ],
    ),
    (
        "calendar_years",
        &[("year", Col::Int), ("notice", Col::Text)],
    ),
    (
        "cadence_runs",
        &[
            ("kind", Col::Text),
            ("period_key", Col::Text),
            ("node", Col::Text),
            ("started_at", Col::Int),
            ("finished_at", Col::Int),
            ("status", Col::Text),
            ("summary", Col::Text),
        ],
    ),
    (
        "matters",
        &[
            ("id", Col::Int),
            ("year", Col::Int),
            ("seq", Col::Int),
            ("number", Col::Text),
            ("title", Col::Text),
            ("content", Col::Text),
            ("source_category", Col::Text),
            ("source_doc", Col::Text),
            ("lead_leader_id", Col::Int),
            ("lead_unit_id", Col::Int),
            ("deadline_kind", Col::Text),
            ("deadline_workdays", Col::Int),
            ("deadline", Col::Text),
            ("original_deadline", Col::Text),
            ("urgency", Col::Text),
            ("major", Col::Flag),
            ("feedback_cycle", Col::Text),
            ("status", Col::Text),
            ("progress", Col::Int),
            ("label", Col::Text),
            ("parent_id", Col::SelfRef),
            ("carried_from_id", Col::SelfRef),
            ("remarks", Col::Text),
            ("latest_progress", Col::Text),
            ("completion_note", Col::Text),
            ("assigned_on", Col::Text),
            ("signed_on", Col::Text),
            ("completed_on", Col::Text),
            ("closed_on", Col::Text),
            ("lookback_on", Col::Text),
            ("created_by", Col::Int),
            ("created_at", Col::Int),
            ("updated_at", Col::Int),
            ("last_update_on", Col::Text),
            ("version", Col::Int),
        ],
    ),
    (
        "matter_units",
        &[("matter_id", Col::Int), ("unit_id", Col::Int)],
    ),
    (
        "matter_handlers",
        &[("matter_id", Col::Int), ("person_id", Col::Int)],
    ),
    (
        "milestones",
        &[
            ("id", Col::Int),
            ("matter_id", Col::Int),
            ("position", Col::Int),
            ("title", Col::Text),
            ("due_on", Col::Text),
            ("owner_id", Col::Int),
            ("done_on", Col::Text),
        ],
    ),
    (
        "matter_events",
        &[
            ("id", Col::Int),
            ("matter_id", Col::Int),
            ("at_ms", Col::Int),
            ("on_day", Col::Text),
            ("actor_id", Col::Int),
            ("kind", Col::Text),
            ("from_status", Col::Text),
            ("to_status", Col::Text),
            ("note", Col::Text),
        ],
    ),
    (
        "progress_reports",
        &[
            ("id", Col::Int),
            ("matter_id", Col::Int),
            ("unit_id", Col::Int),
            ("reporter_id", Col::Int),
            ("due_on", Col::Text),
            ("submitted_at", Col::Int),
            ("submitted_on", Col::Text),
            ("progress", Col::Int),
            ("body", Col::Text),
            ("problems", Col::Text),
            ("coordination", Col::Text),
            ("next_steps", Col::Text),
            ("contribution", Col::Flag),
            ("status", Col::Text),
            ("review_note", Col::Text),
            ("reviewed_by", Col::Int),
            ("reviewed_at", Col::Int),
        ],
    ),
    (
        "extensions",
        &[
            ("id", Col::Int),
            ("matter_id", Col::Int),
            ("requested_by", Col::Int),
            ("requested_on", Col::Text),
            ("reason", Col::Text),
            ("current_progress", Col::Text),
            ("old_deadline", Col::Text),
            ("proposed_deadline", Col::Text),
            ("status", Col::Text),
            ("decided_by", Col::Int),
            ("decided_on", Col::Text),
            ("new_deadline", Col::Text),
            ("basis", Col::Text),
        ],
    ),
    (
        "urges",
        &[
            ("id", Col::Int),
            ("matter_id", Col::Int),
            ("at_ms", Col::Int),
            ("on_day", Col::Text),
            ("by_id", Col::Int),
            ("method", Col::Text),
            ("note", Col::Text),
        ],
    ),
    (
        "bulletins",
        &[
            ("id", Col::Int),
            ("year", Col::Int),
            ("issue_no", Col::Int),
            ("title", Col::Text),
            ("period_key", Col::Text),
            ("body", Col::Text),
            ("issued_by", Col::Int),
            ("issued_on", Col::Text),
        ],
    ),
    (
        "notices",
        &[
            ("id", Col::Int),
            ("matter_id", Col::Int),
            ("year", Col::Int),
            ("seq", Col::Int),
            ("number", Col::Text),
            ("color", Col::Text),
            ("unit_id", Col::Int),
            ("reason", Col::Text),
            ("requirement", Col::Text),
            ("due_on", Col::Text),
            ("signer_id", Col::Int),
            ("issued_on", Col::Text),
            ("reply", Col::Text),
            ("replied_by", Col::Int),
            ("replied_on", Col::Text),
        ],
    ),
    (
        "attachment_blobs",
        &[
            ("sha256", Col::Text),
            ("size_bytes", Col::Int),
            ("media_type", Col::Text),
            ("bytes", Col::Bytes),
            ("created_at", Col::Int),
        ],
    ),
    (
        "attachments",
        &[
            ("id", Col::Int),
            ("matter_id", Col::Int),
            ("report_id", Col::Int),
            ("sha256", Col::Text),
            ("size_bytes", Col::Int),
            ("media_type", Col::Text),
            ("filename", Col::Text),
            ("uploaded_by", Col::Int),
            ("uploaded_at", Col::Int),
            ("removed_at", Col::Int),
            ("removed_by", Col::Int),
            ("removed_reason", Col::Text),
        ],
    ),
    (
        "daily_check_items",
        &[
            ("id", Col::Int),
            ("check_day", Col::Text),
            ("unit_id", Col::Int),
            ("matter_id", Col::Int),
            ("category", Col::Text),
            ("action", Col::Text),
            ("confirmed_by", Col::Int),
            ("confirmed_at", Col::Int),
        ],
    ),
    (
        "weekly_summaries",
        &[
            ("id", Col::Int),
            ("week_key", Col::Text),
            ("unit_id", Col::Int),
            ("draft", Col::Text),
            ("body", Col::Text),
            ("status", Col::Text),
            ("submitted_by", Col::Int),
            ("submitted_at", Col::Int),
            ("approved_by", Col::Int),
            ("approved_at", Col::Int),
            ("updated_at", Col::Int),
        ],
    ),
    (
        "monthly_snapshots",
        &[
            ("month_key", Col::Text),
            ("as_of", Col::Text),
            ("data", Col::Text),
            ("created_at", Col::Int),
            ("bulletin_id", Col::Int),
        ],
    ),
    (
        "year_closes",
        &[
            ("year", Col::Int),
            ("closed_by", Col::Int),
            ("closed_at", Col::Int),
            ("report", Col::Text),
        ],
    ),
    (
        "effect_reviews",
        &[
            ("id", Col::Int),
            ("matter_id", Col::Int),
            ("rating", Col::Text),
            ("evidence", Col::Text),
            ("comment", Col::Text),
            ("reviewer_id", Col::Int),
            ("reviewed_on", Col::Text),
            ("lookback_on", Col::Text),
        ],
    ),
    (
        "matter_imports",
        &[
            ("matter_id", Col::Int),
            ("year", Col::Int),
            ("import_key", Col::Text),
            ("file_name", Col::Text),
            ("sheet", Col::Text),
            ("row_no", Col::Int),
            ("problems", Col::Text),
            ("next_steps", Col::Text),
            ("status_text", Col::Text),
            ("imported_at", Col::Int),
        ],
    ),
    // --- notify (issue 7) ---
    (
        "notify_inbox",
        &[
            ("id", Col::Int),
            ("person_id", Col::Int),
            ("event_kind", Col::Text),
            ("title", Col::Text),
            ("body", Col::Text),
            ("link", Col::Text),
            ("matter_id", Col::Int),
            ("created_at", Col::Int),
            ("read_at", Col::Int),
        ],
    ),
    (
        "notify_targets",
        &[
            ("id", Col::Int),
            ("scope", Col::Text),
            ("scope_id", Col::Int),
            ("kind", Col::Text),
            ("address", Col::Text),
            ("secret", Col::Text),
            ("enabled", Col::Flag),
            ("created_at", Col::Int),
            ("updated_at", Col::Int),
        ],
    ),
    (
        "notify_prefs",
        &[
            ("scope", Col::Text),
            ("scope_id", Col::Int),
            ("prefs", Col::Text),
            ("updated_at", Col::Int),
        ],
    ),
    (
        "notify_outbox",
        &[
            ("id", Col::Int),
            ("delivery_key", Col::Text),
            ("event_kind", Col::Text),
            ("person_id", Col::Int),
            ("unit_id", Col::Int),
            ("matter_id", Col::Int),
            ("channel", Col::Text),
            ("target_id", Col::Int),
            ("address", Col::Text),
            ("payload", Col::Text),
            ("status", Col::Text),
            ("attempts", Col::Int),
            ("next_attempt_at", Col::Int),
            ("lease_until", Col::Int),
            ("created_at", Col::Int),
            ("sent_at", Col::Int),
            ("last_error", Col::Text),
        ],
    ),
    (
        "notify_attempts",
        &[
            ("id", Col::Int),
            ("outbox_id", Col::Int),
            ("attempt", Col::Int),
            ("at_ms", Col::Int),
            ("outcome", Col::Text),
            ("detail", Col::Text),
        ],
    ),
    (
        "api_idempotency",
        &[
            ("person_id", Col::Int),
            ("key_hash", Col::Text),
            ("request_hash", Col::Text),
            ("status", Col::Int),
            ("body", Col::Text),
            ("created_at", Col::Int),
        ],
    ),
    // --- end notify ---
];

/// Tables deliberately left out of backups: login sessions must never come back from a file.
pub const NOT_BACKED_UP: &[&str] = &["sessions"];

/// What a backup or restore moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupSummary {
    pub counts: BTreeMap<String, u64>,
    pub sha256: String,
}

impl BackupSummary {
    pub fn total_rows(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// The first line's `format`.
const FORMAT: &str = "taizhang-backup";
/// The version written; a restore reads this one and refuses a newer one.
const VERSION: i64 = 1;

impl Store {
    /// Row counts of every table (for drills and the settings page).
    pub async fn row_counts(&self) -> StoreResult<BTreeMap<String, u64>> {
        let mut c = self.read().await?;
        let mut out = BTreeMap::new();
        for (table, _) in TABLES {
            let sql = format!("SELECT COUNT(*) AS n FROM {table}");
            let n: i64 = crate::on!(c, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *c).await?);
            out.insert((*table).to_owned(), u64::try_from(n).unwrap_or(0));
        }
        Ok(out)
    }

    /// Whether the database holds any people or matters (restore refuses a non-empty one).
    pub async fn is_empty(&self) -> StoreResult<bool> {
        let counts = self.row_counts().await?;
        Ok(counts.iter().all(|(t, n)| {
            *n == 0 || t == "audit_head" || t == "settings" || t.starts_with("calendar_")
        }))
    }

    /// Write every table to `out` as JSON lines from one consistent snapshot, row by row.
    pub async fn backup_to(&self, out: &mut dyn Write) -> StoreResult<BackupSummary> {
        write::backup(self, out).await
    }

    /// Restore a backup into this database in one transaction: all of it or nothing. The file
    /// is read as a stream and inserted in bounded batches; a damaged or altered file (digest
    /// mismatch, truncation) rolls everything back. The caller decides whether a non-empty
    /// database may be overwritten (`force`).
    pub async fn restore_from(
        &self,
        input: &mut dyn BufRead,
        force: bool,
    ) -> StoreResult<BackupSummary> {
        if !force && !self.is_empty().await? {
            return Err(StoreError::Conflict(
                "the target database is not empty; restore into an empty database or pass --force"
                    .into(),
            ));
        }
        read::restore(self, input).await
    }
}

fn io_err(e: std::io::Error) -> StoreError {
    StoreError::Other(format!("backup I/O: {e}"))
}

impl Store {
    /// Column names of every application table, read from the live schema (for the contract test
    /// that keeps [`TABLES`] honest).
    pub async fn schema_columns(&self) -> StoreResult<BTreeMap<String, Vec<String>>> {
        let mut c = self.read().await?;
        let pairs: Vec<(String, String)> = crate::on!(c, c => {
            let sql = if matches!(self.backend(), crate::Backend::Postgres) {
                "SELECT table_name AS t, column_name AS c FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'"
            } else {
                "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'"
            };
            let rows = sqlx::query(sql).fetch_all(&mut *c).await?;
            let mut v = Vec::with_capacity(rows.len());
            for r in &rows {
                v.push((r.try_get::<String, _>("t")?, r.try_get::<String, _>("c")?));
            }
            v
        });
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (t, c) in pairs {
            out.entry(t).or_default().push(c);
        }
        Ok(out)
    }
}
