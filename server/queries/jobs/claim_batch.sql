-- claim_batch: JobStore::claim_batch. Takes up to one runnable job per idle worker at once (one
-- statement, one commit): the worker pool's claim.
--
-- $1 = worker_ids text[] the idle workers, `<instance>:<n>` (unique per process); at most
--                        one job each, the i-th claimed job to the i-th worker
-- $2 = node_id    text   RUNBOARD_NODE_ID, which start-up recovery matches exactly
--
-- Returns 0 to cardinality($1) rows: ClaimedJob (id, kind, args, lease, attempt, max_attempts,
--   checkpoint) and the worker_id it went to.
-- Guards: only a QUEUED job that is due (run_after <= now()) and has no cancel request.
--   FOR NO KEY UPDATE SKIP LOCKED inside the CTE: concurrent claimers never get the same row, and the
--   planner cannot update more rows than the LIMIT. Every claim issues a fresh lease and
--   counts an attempt.
-- Index: jobs_claimable_idx (priority DESC, run_after, created_at) WHERE state = 'QUEUED',
--   read in order, so the scan ends after cardinality($1) due rows.
WITH next AS (
    SELECT id FROM jobs
    WHERE state = 'QUEUED' AND run_after <= now() AND NOT cancel_requested
    ORDER BY priority DESC, run_after, created_at
    LIMIT cardinality($1::text[])
    FOR NO KEY UPDATE SKIP LOCKED),
numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM next)
UPDATE jobs j SET state = 'RUNNING', lease = gen_random_uuid(), worker_id = ($1::text[])[numbered.n],
    node_id = $2, attempt = j.attempt + 1, started_at = COALESCE(j.started_at, now()),
    heartbeat_at = now(), eta_seconds = NULL, rate_per_second = NULL
FROM numbered WHERE j.id = numbered.id
RETURNING j.id, j.kind, j.args, j.lease, j.attempt, j.max_attempts, j.checkpoint, j.worker_id;
