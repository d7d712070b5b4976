-- rescue_stuck: JobStore::rescue_stuck. RUNNING jobs that stopped heartbeating, or that a dead
-- node left behind, go back to QUEUED, or end FAILED (out of attempts) or CANCELLED.
--
-- $1 = lease_timeout float8   seconds of silence after which a run counts as dead
-- $2 = dead_node     text     a node whose every run is dead (start-up recovery), or NULL
--
-- Returns one row per rescued job: (id, state), the new state.
-- Guards: only RUNNING rows; FOR NO KEY UPDATE SKIP LOCKED, so a row another statement holds (a
--   completing or cancelling run) is left for the next pass. The node name is matched with =,
--   never LIKE. A pending cancel request wins (CANCELLED); attempt < max_attempts requeues;
--   otherwise FAILED with an error that says why.
-- Index: a partial index over the RUNNING jobs only, so the scan is bounded by the running
--   jobs however many finished ones the table holds: jobs_running_heartbeat_idx (heartbeat_at)
--   or jobs_active_idx (state). The OR with node_id keeps heartbeat_at from being an index
--   condition, so both arms are filters on those rows (EXPLAIN on 100k jobs, generic plan:
--   Index Scan using jobs_active_idx, Index Cond: state = 'RUNNING').
WITH stuck AS (
    SELECT id FROM jobs
    WHERE state = 'RUNNING'
        AND (heartbeat_at < now() - make_interval(secs => $1) OR node_id = $2::text)
    FOR NO KEY UPDATE SKIP LOCKED),
decided AS (
    SELECT j.id, CASE WHEN j.cancel_requested THEN 'CANCELLED'
        WHEN j.attempt < j.max_attempts THEN 'QUEUED' ELSE 'FAILED' END AS next
    FROM jobs j JOIN stuck USING (id))
UPDATE jobs j SET state = d.next, lease = NULL, worker_id = NULL, run_after = now(),
    eta_seconds = NULL, rate_per_second = NULL,
    finished_at = CASE WHEN d.next = 'QUEUED' THEN NULL ELSE now() END,
    error = CASE WHEN d.next = 'FAILED' THEN format(
        'the worker stopped responding (no heartbeat for over %s s) on attempt %s of %s; giving up',
        $1, j.attempt, j.max_attempts) ELSE j.error END
FROM decided d WHERE j.id = d.id
RETURNING j.id, j.state;
