-- 0003 notifications and the JSON API (issue 7).
--
-- notify_inbox: the in-app inbox (站内信), written in the event's transaction.
-- notify_outbox: one row per outbound delivery (person or unit × channel × target), written in the
--   event's transaction; the worker claims due rows, sends them and files the outcome. The
--   delivery_key is stable across retries (X-Taizhang-Delivery / Message-ID) so receivers can
--   drop a duplicate; `sending` rows whose lease ran out are claimed again.
-- notify_attempts: the delivery log (every attempt and its outcome), shown to administrators.
-- notify_targets: webhook robots and mailboxes configured by administrators for a unit or person.
-- notify_prefs: per-unit and per-person preference overrides (JSON of PreferenceOverrides).
-- api_idempotency: Idempotency-Key of API creates: the same key and body answer the same response.
CREATE TABLE notify_inbox (
    id          INTEGER PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES people(id),
    event_kind  TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    link        TEXT,
    matter_id   BIGINT,
    created_at  BIGINT NOT NULL,
    read_at     BIGINT
);
CREATE INDEX notify_inbox_person ON notify_inbox(person_id, read_at);

CREATE TABLE notify_targets (
    id          INTEGER PRIMARY KEY,
    scope       TEXT NOT NULL CHECK (scope IN ('unit', 'person')),
    scope_id    BIGINT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('email', 'wecom', 'dingtalk', 'feishu', 'generic')),
    address     TEXT NOT NULL,
    secret      TEXT,
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX notify_targets_scope ON notify_targets(scope, scope_id);

CREATE TABLE notify_prefs (
    scope       TEXT NOT NULL CHECK (scope IN ('system', 'unit', 'person')),
    scope_id    BIGINT NOT NULL,
    prefs       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (scope, scope_id)
);

CREATE TABLE notify_outbox (
    id              INTEGER PRIMARY KEY,
    delivery_key    TEXT NOT NULL UNIQUE,
    event_kind      TEXT NOT NULL,
    person_id       BIGINT,
    unit_id         BIGINT,
    matter_id       BIGINT,
    channel         TEXT NOT NULL,
    target_id       BIGINT,
    address         TEXT NOT NULL DEFAULT '',
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'digest')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notify_outbox_due ON notify_outbox(status, next_attempt_at);

CREATE TABLE notify_attempts (
    id          INTEGER PRIMARY KEY,
    outbox_id   BIGINT NOT NULL REFERENCES notify_outbox(id),
    attempt     BIGINT NOT NULL,
    at_ms       BIGINT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notify_attempts_outbox ON notify_attempts(outbox_id);

CREATE TABLE api_idempotency (
    person_id     BIGINT NOT NULL,
    key_hash      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        BIGINT NOT NULL,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (person_id, key_hash)
);
