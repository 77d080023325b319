-- 0001 foundation: settings, organization, people, access, sessions, audit trail.
-- Portable SQL: BIGINT/TEXT/BOOLEAN, timestamps as unix milliseconds, dates as 'YYYY-MM-DD' text.
-- The PostgreSQL file of the same name differs only in identity columns.

CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- 单位: the provincial department, its 处室, lower-level 组织部 and their divisions.
CREATE TABLE units (
    id          INTEGER PRIMARY KEY,
    parent_id   BIGINT REFERENCES units(id),
    name        TEXT NOT NULL,
    short_name  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('department', 'division', 'lower_department', 'lower_division')),
    sort_order  BIGINT NOT NULL DEFAULT 0,
    leader_id   BIGINT,
    retired_at  BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX units_parent ON units(parent_id);
CREATE UNIQUE INDEX units_name_active ON units(name) WHERE retired_at IS NULL;

-- History of renames, moves and retirements, so a unit never loses its past.
CREATE TABLE unit_events (
    id          INTEGER PRIMARY KEY,
    unit_id     BIGINT NOT NULL REFERENCES units(id),
    at_ms       BIGINT NOT NULL,
    actor_id    BIGINT,
    kind        TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT
);
CREATE INDEX unit_events_unit ON unit_events(unit_id);

CREATE TABLE people (
    id                    INTEGER PRIMARY KEY,
    username              TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    unit_id               BIGINT NOT NULL REFERENCES units(id),
    position              TEXT NOT NULL DEFAULT '',
    email                 TEXT NOT NULL DEFAULT '',
    clearance             TEXT NOT NULL DEFAULT 'normal' CHECK (clearance IN ('normal', 'sensitive', 'core')),
    password_hash         TEXT,
    password_changed_at   BIGINT,
    must_change_password  BOOLEAN NOT NULL DEFAULT TRUE,
    failed_logins         BIGINT NOT NULL DEFAULT 0,
    locked_until          BIGINT,
    totp_secret           TEXT,
    totp_last_step        BIGINT,
    totp_pending          TEXT,
    disabled              BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at            BIGINT,
    last_login_at         BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX people_unit ON people(unit_id);

CREATE TABLE password_history (
    id          INTEGER PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES people(id),
    hash        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX password_history_person ON password_history(person_id);

-- Roles a person holds; the three admin roles are never combined (checked by the app).
CREATE TABLE person_roles (
    person_id   BIGINT NOT NULL REFERENCES people(id),
    role        TEXT NOT NULL,
    granted_by  BIGINT,
    granted_at  BIGINT NOT NULL,
    PRIMARY KEY (person_id, role)
);

CREATE TABLE sessions (
    token_hash      TEXT PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES people(id),
    csrf_token      TEXT NOT NULL,
    second_factor   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    source_ip       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_person ON sessions(person_id);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    person_id     BIGINT NOT NULL REFERENCES people(id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    revoked_at    BIGINT,
    last_used_at  BIGINT
);
CREATE INDEX api_tokens_person ON api_tokens(person_id);

-- The audit trail: append-only, chained with HMAC-SM3 (key outside the database).
CREATE TABLE audit_log (
    seq            BIGINT PRIMARY KEY,
    at_ms          BIGINT NOT NULL,
    actor_id       BIGINT,
    actor_name     TEXT NOT NULL,
    role           TEXT NOT NULL,
    source_ip      TEXT NOT NULL,
    action         TEXT NOT NULL,
    object_type    TEXT NOT NULL,
    object_id      TEXT NOT NULL,
    result         TEXT NOT NULL,
    request_id     TEXT NOT NULL,
    detail         TEXT NOT NULL,
    detail_digest  TEXT NOT NULL,
    mac            TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at_ms);
CREATE INDEX audit_log_actor ON audit_log(actor_id, at_ms);
CREATE INDEX audit_log_object ON audit_log(object_type, object_id);

-- One row: the head of the chain. Appending locks it (UPDATE ... RETURNING), which serializes
-- appenders on PostgreSQL too, so the chain never forks.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    mac  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- SM2-signed checkpoints of the chain head, so truncation is detected too.
CREATE TABLE audit_checkpoints (
    seq        BIGINT PRIMARY KEY,
    at_ms      BIGINT NOT NULL,
    mac        TEXT NOT NULL,
    signature  TEXT NOT NULL
);

-- Working-day calendar overrides (法定节假日 and 调休上班) and the years whose notice is loaded.
CREATE TABLE calendar_overrides (
    day     TEXT PRIMARY KEY,
    kind    TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name    TEXT NOT NULL,
    notice  TEXT NOT NULL
);
CREATE TABLE calendar_years (
    year    BIGINT PRIMARY KEY,
    notice  TEXT NOT NULL
);

-- Cadence runs: idempotent per (kind, period); a row is claimed before running, so several
-- app nodes on one database run each period once.
CREATE TABLE cadence_runs (
    kind         TEXT NOT NULL,
    period_key   TEXT NOT NULL,
    node         TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT,
    status       TEXT NOT NULL,
    summary      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kind, period_key)
);
