-- in_use: DatasetStore::delete. How many QUEUED or RUNNING jobs name a dataset.
--
-- $1 = id uuid
--
-- Returns one row: the count.
-- Guards: read only.
-- Index: jobs_active_idx (state), then a filter on args->>'dataset_id'.
SELECT count(*) FROM jobs
WHERE state IN ('QUEUED', 'RUNNING') AND args->>'dataset_id' = $1::text;
