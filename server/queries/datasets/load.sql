-- load: DatasetStore::load. One dataset's bars, column-wise.
--
-- $1 = id uuid
--
-- Returns 0 or 1 row: (ts, open, high, low, close, volume), arrays of equal length. No row:
--   DatasetError::NotFound.
-- Guards: read only.
-- Index: datasets_pkey (id).
SELECT ts, open, high, low, close, volume FROM datasets WHERE id = $1;
