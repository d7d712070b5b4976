-- load: DatasetStore::load. One dataset's bars, packed column after column.
--
-- $1 = id uuid
--
-- Returns 0 or 1 row: (bars, packed), the six columns packed big-endian, 48 bytes a bar
--   (migration 20261129000006; unpacked by DatasetStore::load). No row:
--   DatasetError::NotFound.
-- Guards: read only.
-- Index: datasets_pkey (id).
SELECT bars, packed FROM datasets WHERE id = $1;
