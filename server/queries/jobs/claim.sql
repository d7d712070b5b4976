-- claim: JobStore::claim. Takes the next runnable job for one worker.
--
-- $1 = worker_id text   the claiming worker, `<instance>:<n>` (unique per process)
-- $2 = node_id   text   RUNBOARD_NODE_ID, which start-up recovery matches exactly
--
-- Returns 0 or 1 row: ClaimedJob (id, kind, args, lease, attempt, max_attempts, checkpoint).
-- Guards: only a QUEUED job that is due (run_after <= now()) and has no cancel request.
--   FOR NO KEY UPDATE SKIP LOCKED inside the CTE: concurrent claimers never get the same row,
--   and the planner cannot update more rows than the LIMIT. NO KEY: a job_logs or chunk
--   insert holds FOR KEY SHARE on the row (its foreign key), which FOR UPDATE would skip. Every claim issues a fresh lease and
--   counts an attempt.
-- Index: jobs_claimable_idx (priority DESC, run_after, created_at) WHERE state = 'QUEUED',
--   read in order, so the first due row ends the scan.
WITH next AS (
    SELECT id FROM jobs
    WHERE state = 'QUEUED' AND run_after <= now() AND NOT cancel_requested
    ORDER BY priority DESC, run_after, created_at
    LIMIT 1
    FOR NO KEY UPDATE SKIP LOCKED)
UPDATE jobs j SET state = 'RUNNING', lease = gen_random_uuid(), worker_id = $1, node_id = $2,
    attempt = j.attempt + 1, started_at = COALESCE(j.started_at, now()),
    heartbeat_at = now(), eta_seconds = NULL, rate_per_second = NULL
FROM next WHERE j.id = next.id
RETURNING j.id, j.kind, j.args, j.lease, j.attempt, j.max_attempts, j.checkpoint;
