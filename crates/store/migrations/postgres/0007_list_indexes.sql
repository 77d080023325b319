-- Indexes the query plans asked for (docs/QUERY-PLANS.md, `taizhang bench explain`, 10^5 matters).
--
-- The ledger is sorted by deadline by default, as `COALESCE(deadline, '9999-12-31'), id` (no fixed
-- deadline last). Without an index on that key every page sorted every matching matter: the
-- unfiltered 台账 7.1 ms (SQLite) / 38 ms (PostgreSQL), `status=in_progress` 4.5 / 35 ms, a text
-- search's first page 55 / 70 ms. With these two a page walks the key in order and stops after
-- 50 rows (0.3–0.9 ms on both).
CREATE INDEX matters_deadline_key ON matters (COALESCE(deadline, '9999-12-31'), id);
CREATE INDEX matters_status_deadline_key ON matters (status, COALESCE(deadline, '9999-12-31'), id);
-- The 工作台 counts of a person who sees every unit read these columns of every running matter
-- (a full table scan and a DISTINCT over table rows: 121 ms on SQLite, 105 ms on PostgreSQL);
-- from this covering index, index-only: 38 / 50 ms.
CREATE INDEX matters_desk ON matters (status, deadline, feedback_cycle, assigned_on, last_update_on);
-- The daily check lists read a day's items by unit in (unit, matter, category) order and count
-- them per unit with the confirmed ones: the old (check_day, unit_id) index made SQLite read every
-- row to count (22 ms for a day at 10^5) and pick the unique index for a unit's page (6.7 ms).
-- This one is a prefix-compatible replacement (no extra index to maintain per item).
DROP INDEX IF EXISTS daily_check_items_unit;
CREATE INDEX daily_check_items_list ON daily_check_items (check_day, unit_id, matter_id, category, confirmed_at);
-- Statistics for the new indexes: without them SQLite walked matters_status_deadline_key for a
-- 处长's open matters (2.4 ms instead of 0.8 ms through the unit's ids). `bench seed` analyzes;
-- a database that never was gets the same plans the benchmarks measure.
ANALYZE matters;
ANALYZE daily_check_items;
