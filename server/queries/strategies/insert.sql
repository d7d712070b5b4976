-- insert: StrategyStore::save, step 3 of 3. Adds one version.
--
-- $1 = id            uuid     the name's id (a fresh v4 id for a new name)
-- $2 = version       integer  the newest version + 1 (1 for a new name)
-- $3 = name          text     the program's name, 1 to 100 characters
-- $4 = source        text     the program, at most 64 KiB
-- $5 = content_hash  text     sha256 of the source, 64 lower-case hex digits
--
-- Returns one row: id, version, name, content_hash, created_at (StrategyInfo).
-- Guards: the table's CHECKs (sizes, hash format); strategies_pkey refuses a version taken
--   twice and strategies_name_idx a second id for a name (neither can happen under save_lock).
-- Index: strategies_pkey (id, version), strategies_name_idx (version 1 only).
INSERT INTO strategies (id, version, name, source, content_hash)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, version, name, content_hash, created_at;
