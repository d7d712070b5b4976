-- count_active: JobStore::enqueue_capped, step 2 of 3 (under enqueue_lock).
--
-- No parameters.
--
-- Returns one row: the number of QUEUED + RUNNING jobs (bigint), compared with the cap; chunks
--   of fanned-out optimizations are not counted (their parent is).
-- Guards: read only.
-- Index: jobs_active_idx (state) WHERE state IN ('QUEUED', 'RUNNING'): the count reads only
--   the active jobs, however many finished ones the table holds.
SELECT count(*) FROM jobs WHERE state IN ('QUEUED', 'RUNNING') AND parent_id IS NULL;
