-- 0004 ledger import (issue 6): which imported ledger row a matter came from, so importing the
-- same file again updates the matter instead of creating a duplicate. `import_key` is the
-- importer's stable row key (sheet + title + lead unit), unique per ledger year. The texts the
-- ledger has no column for (存在问题, 下步打算, 完成情况 as written) are kept for the export.
CREATE TABLE matter_imports (
    matter_id    BIGINT PRIMARY KEY REFERENCES matters(id),
    year         BIGINT NOT NULL,
    import_key   TEXT NOT NULL,
    file_name    TEXT NOT NULL DEFAULT '',
    sheet        TEXT NOT NULL DEFAULT '',
    row_no       BIGINT NOT NULL DEFAULT 0,
    problems     TEXT NOT NULL DEFAULT '',
    next_steps   TEXT NOT NULL DEFAULT '',
    status_text  TEXT NOT NULL DEFAULT '',
    imported_at  BIGINT NOT NULL,
    UNIQUE (year, import_key)
);
