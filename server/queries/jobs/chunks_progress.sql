-- chunks_progress: JobStore::chunk_progress. Where a fanned-out optimization stands: its chunks
-- by state and the runs they have done (a finished chunk counts all its runs, a running one
-- its reported fraction).
--
-- $1 = parent_id uuid
--
-- Returns one row: chunks, succeeded, failed, cancelled (bigint), runs_done (bigint), and the
--   first failed chunk's error (text, NULL when none failed).
-- Guards: read only.
-- Index: jobs_chunk_idx (parent_id, chunk_index).
SELECT count(*) AS chunks,
    count(*) FILTER (WHERE state = 'SUCCEEDED') AS succeeded,
    count(*) FILTER (WHERE state = 'FAILED') AS failed,
    count(*) FILTER (WHERE state = 'CANCELLED') AS cancelled,
    coalesce(sum(CASE WHEN state = 'SUCCEEDED' THEN runs
        ELSE floor(coalesce(progress, 0) * runs) END), 0)::bigint AS runs_done,
    (array_agg(error ORDER BY chunk_index) FILTER (WHERE state = 'FAILED'))[1] AS error
FROM (
    SELECT state, progress, error, chunk_index,
        (args->>'end')::bigint - (args->>'start')::bigint AS runs
    FROM jobs WHERE parent_id = $1
) c;
