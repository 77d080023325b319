-- 一日一清查 at 10^6 matters: the daily list is a derived record that only the daily check writes,
-- from matters and units it has just read (matters and units are never deleted; units retire).
-- The per-row foreign-key probes on matter_id and unit_id go (see the PostgreSQL twin for the
-- measured cost); confirmed_by (written one row at a time by a person) keeps its check.
-- SQLite cannot drop a constraint, so the table is rebuilt with the same columns and indexes.
CREATE TABLE daily_check_items_new (
    id            INTEGER PRIMARY KEY,
    check_day     TEXT NOT NULL,
    unit_id       BIGINT NOT NULL,
    matter_id     BIGINT NOT NULL,
    category      TEXT NOT NULL,
    action        TEXT NOT NULL DEFAULT '',
    confirmed_by  BIGINT REFERENCES people(id),
    confirmed_at  BIGINT,
    UNIQUE (check_day, matter_id, category)
);
INSERT INTO daily_check_items_new (id, check_day, unit_id, matter_id, category, action, confirmed_by, confirmed_at)
    SELECT id, check_day, unit_id, matter_id, category, action, confirmed_by, confirmed_at FROM daily_check_items;
DROP TABLE daily_check_items;
ALTER TABLE daily_check_items_new RENAME TO daily_check_items;
CREATE INDEX daily_check_items_unit ON daily_check_items(check_day, unit_id);
