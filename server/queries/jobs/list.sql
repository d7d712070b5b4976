-- list: JobStore::list, the page. Jobs newest first, optionally filtered.
--
-- $1 = state  text     JobState, or NULL for every state
-- $2 = kind   text     JobKind, or NULL for every kind
-- $3 = limit  bigint   page size
-- $4 = offset bigint   rows to skip
--
-- Returns up to $3 rows: the jobs' status columns (JobStatus).
-- Guards: read only. id breaks ties between equal created_at, so pages never overlap.
-- Index: jobs_created_idx (created_at DESC, id), read in order (ties on created_at are sorted
--   by id DESC on top, an incremental sort); the filters apply to the rows read.
SELECT id, kind, state, progress, progress_message, eta_seconds, rate_per_second, error,
    attempt, max_attempts, cancel_requested, log_path, created_at, started_at, finished_at,
    heartbeat_at
FROM jobs
WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2)
ORDER BY created_at DESC, id DESC
LIMIT $3 OFFSET $4;
