-- newest_by_name: StrategyStore::save, step 2 of 3. The newest version of the strategy with
--   this name, if any.
--
-- $1 = name  text  compared case-insensitively
--
-- Returns zero or one row: id, version, name, content_hash, created_at (StrategyInfo).
-- Guards: read only (under save_lock).
-- Index: strategies_name_idx (lower(name)) WHERE version = 1 finds the id; strategies_pkey
--   (id, version) then reads its newest version backwards.
SELECT s.id, s.version, s.name, s.content_hash, s.created_at
FROM strategies s
WHERE s.id = (SELECT id FROM strategies WHERE lower(name) = lower($1) AND version = 1)
ORDER BY s.version DESC
LIMIT 1;
