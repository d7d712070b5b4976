-- get: StrategyStore::get. One version of a strategy with its source; the newest when $2 is
--   NULL.
--
-- $1 = id       uuid
-- $2 = version  integer  or NULL for the newest
--
-- Returns zero or one row: id, version, name, content_hash, created_at, source.
-- Guards: read only.
-- Index: strategies_pkey (id, version): one row, or the id's versions read backwards.
SELECT id, version, name, content_hash, created_at, source
FROM strategies
WHERE id = $1 AND ($2::integer IS NULL OR version = $2)
ORDER BY version DESC
LIMIT 1;
