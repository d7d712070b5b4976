-- chunks_list: JobStore::list_chunks, for /api/job_chunks. A job's chunks in grid order.
--
-- $1 = parent_id uuid
-- $2 = limit     bigint   most chunks returned (a job has at most MAX_CHUNKS)
--
-- Returns up to $2 rows: chunk_index, state, start and end (bigint, the runs' range), attempt,
--   node_id (the node that ran it last), progress, started_at, finished_at.
-- Guards: read only.
-- Index: jobs_chunk_idx (parent_id, chunk_index), read in order.
SELECT chunk_index, state, (args->>'start')::bigint AS start, (args->>'end')::bigint AS "end",
    attempt, node_id, progress, started_at, finished_at
FROM jobs
WHERE parent_id = $1
ORDER BY chunk_index
LIMIT $2;
