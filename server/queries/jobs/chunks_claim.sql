-- chunks_claim: JobStore::claim_chunk. The parent optimization takes one of its own QUEUED
-- chunks to run in its own process (so a fanned-out job progresses with a single worker).
--
-- $1 = worker_id text   the parent's worker, `<instance>:<n>`
-- $2 = node_id   text   RUNBOARD_NODE_ID
-- $3 = parent_id uuid   the parent
--
-- Returns 0 or 1 row: ClaimedJob (id, kind, args, lease, attempt, max_attempts, checkpoint).
-- Guards: as claim.sql (QUEUED, due, no cancel request; FOR NO KEY UPDATE SKIP LOCKED, so the parent
--   and other workers never take the same chunk; a fresh lease and an attempt per claim),
--   restricted to the parent's chunks.
-- Index: jobs_chunk_idx (parent_id, chunk_index): the parent's chunks in order.
WITH next AS (
    SELECT id FROM jobs
    WHERE parent_id = $3 AND state = 'QUEUED' AND run_after <= now() AND NOT cancel_requested
    ORDER BY chunk_index
    LIMIT 1
    FOR NO KEY UPDATE SKIP LOCKED)
UPDATE jobs j SET state = 'RUNNING', lease = gen_random_uuid(), worker_id = $1, node_id = $2,
    attempt = j.attempt + 1, started_at = COALESCE(j.started_at, now()),
    heartbeat_at = now(), eta_seconds = NULL, rate_per_second = NULL
FROM next WHERE j.id = next.id
RETURNING j.id, j.kind, j.args, j.lease, j.attempt, j.max_attempts, j.checkpoint;
