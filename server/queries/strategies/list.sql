-- list: StrategyStore::list, the page. The newest version of every strategy, most recently
--   saved first.
--
-- $1 = limit   bigint  page size
-- $2 = offset  bigint  rows to skip
--
-- Returns up to $1 rows: id, version, name, content_hash, created_at (StrategyInfo), never the
--   source.
-- Guards: read only. id breaks ties between equal created_at, so pages never overlap.
-- Index: strategies_pkey (id, version) for DISTINCT ON (id … version DESC); then a sort of one
--   row per strategy (a user's handful to a few thousand).
SELECT id, version, name, content_hash, created_at
FROM (
    SELECT DISTINCT ON (id) id, version, name, content_hash, created_at
    FROM strategies
    ORDER BY id, version DESC
) newest
ORDER BY created_at DESC, id DESC
LIMIT $1 OFFSET $2;
