-- claim_batch: JobStore::claim_batch. Takes up to $3 runnable jobs at once (one statement, one
-- commit), for a worker pool with that many idle workers.
--
-- $1 = worker_id text   the claiming worker, `<instance>:<n>` (unique per process)
-- $2 = node_id   text   RUNBOARD_NODE_ID, which start-up recovery matches exactly
-- $3 = limit     bigint the most jobs to take
--
-- Returns 0 to $3 rows: ClaimedJob (id, kind, args, lease, attempt, max_attempts, checkpoint).
-- Guards: only a QUEUED job that is due (run_after <= now()) and has no cancel request.
--   FOR UPDATE SKIP LOCKED inside the CTE: concurrent claimers never get the same row, and the
--   planner cannot update more rows than the LIMIT. Every claim issues a fresh lease and
--   counts an attempt.
-- Index: jobs_claimable_idx (priority DESC, run_after, created_at) WHERE state = 'QUEUED',
--   read in order, so the scan ends after $3 due rows.
WITH next AS (
    SELECT id FROM jobs
    WHERE state = 'QUEUED' AND run_after <= now() AND NOT cancel_requested
    ORDER BY priority DESC, run_after, created_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED)
UPDATE jobs j SET state = 'RUNNING', lease = gen_random_uuid(), worker_id = $1, node_id = $2,
    attempt = j.attempt + 1, started_at = COALESCE(j.started_at, now()),
    heartbeat_at = now(), eta_seconds = NULL, rate_per_second = NULL
FROM next WHERE j.id = next.id
RETURNING j.id, j.kind, j.args, j.lease, j.attempt, j.max_attempts, j.checkpoint;
