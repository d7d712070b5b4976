-- list: DatasetStore::list. Every dataset's info, newest first.
--
-- No parameters.
--
-- Returns every dataset: the info columns (DatasetInfo); the bars themselves are not read.
-- Guards: read only.
-- Index: none; a scan and sort of datasets (a handful of rows).
SELECT id, name, description, bars, start_ts, end_ts, created_at
FROM datasets ORDER BY created_at DESC, name;
