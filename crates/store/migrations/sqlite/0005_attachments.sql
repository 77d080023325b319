-- 0005 佐证材料 (attachments): the bytes themselves, content-addressed by SHA-256, in the database
-- so that several stateless app nodes on one PostgreSQL all see them and backups include them.
-- The same bytes uploaded twice are stored once; each upload is its own `attachments` row (who,
-- when, which matter or 进展反馈, the name the user gave). Withdrawing an attachment keeps the
-- row and the bytes and only marks it (removed_at/removed_by/removed_reason), so the audit trail
-- and the timeline still point at what was there.
CREATE TABLE attachment_blobs (
    sha256      TEXT PRIMARY KEY,
    size_bytes  BIGINT NOT NULL,
    media_type  TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);

ALTER TABLE attachments ADD COLUMN removed_at BIGINT;
ALTER TABLE attachments ADD COLUMN removed_by BIGINT REFERENCES people(id);
ALTER TABLE attachments ADD COLUMN removed_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX attachments_report ON attachments(report_id);
CREATE INDEX attachments_sha256 ON attachments(sha256);
