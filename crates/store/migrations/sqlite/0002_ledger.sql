-- 0002 the 11710 ledger: matters (一事一台账), their units, milestones, timeline, progress reports,
-- extensions, 催办, 督办单, 通报, attachments, daily checks, weekly summaries, monthly snapshots,
-- year close and effect reviews.

CREATE TABLE matters (
    id                  INTEGER PRIMARY KEY,
    year                BIGINT NOT NULL,
    seq                 BIGINT NOT NULL,
    number              TEXT NOT NULL,
    title               TEXT NOT NULL,
    content             TEXT NOT NULL DEFAULT '',
    source_category     TEXT NOT NULL,
    source_doc          TEXT NOT NULL DEFAULT '',
    lead_leader_id      BIGINT REFERENCES people(id),
    lead_unit_id        BIGINT NOT NULL REFERENCES units(id),
    deadline_kind       TEXT NOT NULL CHECK (deadline_kind IN ('date', 'workdays', 'calendar_days', 'none')),
    deadline_workdays   BIGINT,
    deadline            TEXT,
    original_deadline   TEXT,
    urgency             TEXT NOT NULL DEFAULT 'normal',
    major               BOOLEAN NOT NULL DEFAULT FALSE,
    feedback_cycle      TEXT NOT NULL DEFAULT 'none',
    status              TEXT NOT NULL,
    progress            BIGINT,
    label               TEXT NOT NULL DEFAULT 'normal',
    parent_id           BIGINT REFERENCES matters(id),
    carried_from_id     BIGINT REFERENCES matters(id),
    remarks             TEXT NOT NULL DEFAULT '',
    latest_progress     TEXT NOT NULL DEFAULT '',
    completion_note     TEXT NOT NULL DEFAULT '',
    assigned_on         TEXT,
    signed_on           TEXT,
    completed_on        TEXT,
    closed_on           TEXT,
    lookback_on         TEXT,
    created_by          BIGINT REFERENCES people(id),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    last_update_on      TEXT,
    version             BIGINT NOT NULL DEFAULT 1,
    UNIQUE (year, seq),
    UNIQUE (year, number)
);
CREATE INDEX matters_status_deadline ON matters(status, deadline);
CREATE INDEX matters_lead_unit ON matters(lead_unit_id, status);
CREATE INDEX matters_year ON matters(year, status);
CREATE INDEX matters_leader ON matters(lead_leader_id);
CREATE INDEX matters_parent ON matters(parent_id);
CREATE INDEX matters_carried_from ON matters(carried_from_id);

-- 配合单位 (assisting units) and 承办人 (handlers).
CREATE TABLE matter_units (
    matter_id   BIGINT NOT NULL REFERENCES matters(id),
    unit_id     BIGINT NOT NULL REFERENCES units(id),
    PRIMARY KEY (matter_id, unit_id)
);
CREATE INDEX matter_units_unit ON matter_units(unit_id);
CREATE TABLE matter_handlers (
    matter_id   BIGINT NOT NULL REFERENCES matters(id),
    person_id   BIGINT NOT NULL REFERENCES people(id),
    PRIMARY KEY (matter_id, person_id)
);
CREATE INDEX matter_handlers_person ON matter_handlers(person_id);

-- 节点 (milestones).
CREATE TABLE milestones (
    id          INTEGER PRIMARY KEY,
    matter_id   BIGINT NOT NULL REFERENCES matters(id),
    position    BIGINT NOT NULL,
    title       TEXT NOT NULL,
    due_on      TEXT NOT NULL,
    owner_id    BIGINT REFERENCES people(id),
    done_on     TEXT
);
CREATE INDEX milestones_matter ON milestones(matter_id);

-- The timeline: every step, stamped who/when/what.
CREATE TABLE matter_events (
    id           INTEGER PRIMARY KEY,
    matter_id    BIGINT NOT NULL REFERENCES matters(id),
    at_ms        BIGINT NOT NULL,
    on_day       TEXT NOT NULL,
    actor_id     BIGINT REFERENCES people(id),
    kind         TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT,
    note         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX matter_events_matter ON matter_events(matter_id, at_ms);
CREATE INDEX matter_events_day ON matter_events(on_day);

-- 进展反馈 (progress reports); contributions come from assisting units.
CREATE TABLE progress_reports (
    id              INTEGER PRIMARY KEY,
    matter_id       BIGINT NOT NULL REFERENCES matters(id),
    unit_id         BIGINT NOT NULL REFERENCES units(id),
    reporter_id     BIGINT NOT NULL REFERENCES people(id),
    due_on          TEXT,
    submitted_at    BIGINT NOT NULL,
    submitted_on    TEXT NOT NULL,
    progress        BIGINT,
    body            TEXT NOT NULL,
    problems        TEXT NOT NULL DEFAULT '',
    coordination    TEXT NOT NULL DEFAULT '',
    next_steps      TEXT NOT NULL DEFAULT '',
    contribution    BOOLEAN NOT NULL DEFAULT FALSE,
    status          TEXT NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'accepted', 'returned')),
    review_note     TEXT NOT NULL DEFAULT '',
    reviewed_by     BIGINT REFERENCES people(id),
    reviewed_at     BIGINT
);
CREATE INDEX progress_reports_matter ON progress_reports(matter_id, submitted_at);
CREATE INDEX progress_reports_day ON progress_reports(submitted_on);

-- 延期申请 with its approval chain.
CREATE TABLE extensions (
    id                 INTEGER PRIMARY KEY,
    matter_id          BIGINT NOT NULL REFERENCES matters(id),
    requested_by       BIGINT NOT NULL REFERENCES people(id),
    requested_on       TEXT NOT NULL,
    reason             TEXT NOT NULL,
    current_progress   TEXT NOT NULL DEFAULT '',
    old_deadline       TEXT,
    proposed_deadline  TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by         BIGINT REFERENCES people(id),
    decided_on         TEXT,
    new_deadline       TEXT,
    basis              TEXT NOT NULL DEFAULT ''
);
CREATE INDEX extensions_matter ON extensions(matter_id);

-- 催办 (chases).
CREATE TABLE urges (
    id          INTEGER PRIMARY KEY,
    matter_id   BIGINT NOT NULL REFERENCES matters(id),
    at_ms       BIGINT NOT NULL,
    on_day      TEXT NOT NULL,
    by_id       BIGINT REFERENCES people(id),
    method      TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX urges_matter ON urges(matter_id);

-- 督办单 (blue/yellow/red supervision notices).
CREATE TABLE notices (
    id            INTEGER PRIMARY KEY,
    matter_id     BIGINT NOT NULL REFERENCES matters(id),
    year          BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    number        TEXT NOT NULL UNIQUE,
    color         TEXT NOT NULL CHECK (color IN ('blue', 'yellow', 'red')),
    unit_id       BIGINT NOT NULL REFERENCES units(id),
    reason        TEXT NOT NULL,
    requirement   TEXT NOT NULL,
    due_on        TEXT NOT NULL,
    signer_id     BIGINT NOT NULL REFERENCES people(id),
    issued_on     TEXT NOT NULL,
    reply         TEXT,
    replied_by    BIGINT REFERENCES people(id),
    replied_on    TEXT,
    UNIQUE (year, seq)
);
CREATE INDEX notices_matter ON notices(matter_id);

-- 通报 (numbered bulletins, 期号).
CREATE TABLE bulletins (
    id          INTEGER PRIMARY KEY,
    year        BIGINT NOT NULL,
    issue_no    BIGINT NOT NULL,
    title       TEXT NOT NULL,
    period_key  TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    issued_by   BIGINT NOT NULL REFERENCES people(id),
    issued_on   TEXT NOT NULL,
    UNIQUE (year, issue_no)
);

-- 佐证材料: content-addressed blobs; names users give are metadata only.
CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    matter_id     BIGINT NOT NULL REFERENCES matters(id),
    report_id     BIGINT REFERENCES progress_reports(id),
    sha256        TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    media_type    TEXT NOT NULL,
    filename      TEXT NOT NULL,
    uploaded_by   BIGINT NOT NULL REFERENCES people(id),
    uploaded_at   BIGINT NOT NULL
);
CREATE INDEX attachments_matter ON attachments(matter_id);

-- 一日一清查: the recorded daily list, per matter and category, with confirmation (已清查).
CREATE TABLE daily_check_items (
    id            INTEGER PRIMARY KEY,
    check_day     TEXT NOT NULL,
    unit_id       BIGINT NOT NULL REFERENCES units(id),
    matter_id     BIGINT NOT NULL REFERENCES matters(id),
    category      TEXT NOT NULL,
    action        TEXT NOT NULL DEFAULT '',
    confirmed_by  BIGINT REFERENCES people(id),
    confirmed_at  BIGINT,
    UNIQUE (check_day, matter_id, category)
);
CREATE INDEX daily_check_items_unit ON daily_check_items(check_day, unit_id);

-- 一周一小结: per unit (unit_id set) and department-wide (unit_id NULL) summaries.
CREATE TABLE weekly_summaries (
    id            INTEGER PRIMARY KEY,
    week_key      TEXT NOT NULL,
    unit_id       BIGINT REFERENCES units(id),
    draft         TEXT NOT NULL,
    body          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'returned')),
    submitted_by  BIGINT REFERENCES people(id),
    submitted_at  BIGINT,
    approved_by   BIGINT REFERENCES people(id),
    approved_at   BIGINT,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX weekly_summaries_key ON weekly_summaries(week_key, COALESCE(unit_id, 0));

-- 一月一盘点: frozen snapshots.
CREATE TABLE monthly_snapshots (
    month_key     TEXT PRIMARY KEY,
    as_of         TEXT NOT NULL,
    data          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    bulletin_id   BIGINT REFERENCES bulletins(id)
);

-- 一年一归零.
CREATE TABLE year_closes (
    year        BIGINT PRIMARY KEY,
    closed_by   BIGINT REFERENCES people(id),
    closed_at   BIGINT NOT NULL,
    report      TEXT NOT NULL
);

-- 跟踪问效: effect reviews after 办结.
CREATE TABLE effect_reviews (
    id            INTEGER PRIMARY KEY,
    matter_id     BIGINT NOT NULL REFERENCES matters(id),
    rating        TEXT NOT NULL,
    evidence      TEXT NOT NULL DEFAULT '',
    comment       TEXT NOT NULL DEFAULT '',
    reviewer_id   BIGINT NOT NULL REFERENCES people(id),
    reviewed_on   TEXT NOT NULL,
    lookback_on   TEXT
);
CREATE INDEX effect_reviews_matter ON effect_reviews(matter_id);
