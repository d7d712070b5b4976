-- request_cancel: JobStore::request_cancel. QUEUED -> CANCELLED at once; RUNNING -> flagged
-- (the handler stops at its next progress report).
--
-- $1 = id uuid
--
-- Returns 0 or 1 row: the job's status columns (JobStatus) after the request. No row means the
--   job is missing or already terminal; the caller then reads status.sql to tell which.
-- Guards: state IN ('QUEUED', 'RUNNING'): a terminal job is never changed. The CASEs read the
--   row's old state, so only a QUEUED job ends here; a RUNNING one keeps its lease.
--   Its chunks (if it was fanned out) get the same treatment in the same statement.
-- Index: jobs_pkey (id); jobs_chunk_idx (parent_id, chunk_index) for the chunks.
-- Locks: the job's and its live chunks' rows, in id order.
WITH locked AS MATERIALIZED (
    -- The job and its live chunks, locked in id order before anything changes, as every
    -- statement that writes several jobs does (pulse.sql, complete_batch.sql): two of them can
    -- then never wait on each other (a worker's pulse holds chunk rows too).
    SELECT id FROM jobs
    WHERE (id = $1 OR parent_id = $1) AND state IN ('QUEUED', 'RUNNING')
    ORDER BY id
    FOR NO KEY UPDATE
), chunks AS (
    -- A fanned-out optimization's chunks are cancelled with it, in the same statement.
    UPDATE jobs SET cancel_requested = true,
        state = CASE WHEN state = 'QUEUED' THEN 'CANCELLED' ELSE state END,
        finished_at = CASE WHEN state = 'QUEUED' THEN now() ELSE finished_at END
    WHERE parent_id = $1 AND state IN ('QUEUED', 'RUNNING') AND id IN (SELECT id FROM locked))
UPDATE jobs SET cancel_requested = true,
    state = CASE WHEN state = 'QUEUED' THEN 'CANCELLED' ELSE state END,
    finished_at = CASE WHEN state = 'QUEUED' THEN now() ELSE finished_at END
WHERE id = $1 AND state IN ('QUEUED', 'RUNNING') AND id IN (SELECT id FROM locked)
RETURNING id, kind, state, progress, progress_message, eta_seconds, rate_per_second, error,
    attempt, max_attempts, cancel_requested, log_path, created_at, started_at, finished_at,
    heartbeat_at;
