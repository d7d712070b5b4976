-- info: DatasetStore::info. One dataset's info.
--
-- $1 = id uuid
--
-- Returns 0 or 1 row: the info columns (DatasetInfo). No row: DatasetError::NotFound.
-- Guards: read only; the bars themselves are not read.
-- Index: datasets_pkey (id).
SELECT id, name, description, bars, start_ts, end_ts, created_at
FROM datasets WHERE id = $1;
