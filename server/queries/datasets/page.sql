-- page: DatasetStore::page. One page of the datasets' info, newest first.
--
-- $1 = limit  bigint  rows per page (1..=100, checked by the caller)
-- $2 = offset bigint  rows to skip
--
-- Returns at most $1 rows: the info columns (DatasetInfo); the bars themselves are not read.
-- Guards: read only.
-- Index: none; a scan and top-N sort of datasets (one row per dataset, not per bar).
SELECT id, name, description, bars, start_ts, end_ts, created_at
FROM datasets ORDER BY created_at DESC, name
LIMIT $1 OFFSET $2;
