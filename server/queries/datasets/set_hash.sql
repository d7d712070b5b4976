-- set_hash: DatasetStore::content_hash, the backfill. Records the hash of a dataset that has
--   none yet (imported before hashes were recorded).
--
-- $1 = id           uuid
-- $2 = content_hash text   sha256 hex of the bars' canonical encoding, computed from load.sql
--
-- Returns 0 or 1 row: the stored content_hash afterwards (the first writer's, should two race).
-- Guards: COALESCE keeps a recorded hash: it is never overwritten (bars never change).
-- Index: datasets_pkey (id).
UPDATE datasets SET content_hash = COALESCE(content_hash, $2)
WHERE id = $1
RETURNING content_hash;
