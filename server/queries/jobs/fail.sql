-- fail: JobStore::fail. RUNNING -> QUEUED (a retry after the back-off), FAILED, or CANCELLED.
--
-- $1 = id          uuid
-- $2 = lease       uuid      the run the write belongs to
-- $3 = error       text      user-safe reason, kept on the row
-- $4 = retryable   boolean   the handler asked for a retry
-- $5 = retry_after float8    back-off in seconds (used only for a retry)
--
-- Returns 0 or 1 row: (state, run_after). No row means the run is stale (StoreError::Stale).
-- Guards: state = 'RUNNING' AND lease = $2, checked in the CTE and again in the UPDATE. A
--   retry happens only while attempt < max_attempts; a pending cancel request wins over a
--   retry (CANCELLED). finished_at is stamped exactly when the new state is terminal.
-- Index: jobs_pkey (id).
WITH next AS (
    SELECT id, CASE WHEN cancel_requested AND $4 THEN 'CANCELLED'
        WHEN $4 AND attempt < max_attempts THEN 'QUEUED' ELSE 'FAILED' END AS state
    FROM jobs WHERE id = $1 AND state = 'RUNNING' AND lease = $2)
UPDATE jobs j SET state = next.state,
    run_after = CASE WHEN next.state = 'QUEUED'
        THEN now() + make_interval(secs => $5) ELSE j.run_after END,
    finished_at = CASE WHEN next.state = 'QUEUED' THEN NULL ELSE now() END,
    error = $3, lease = NULL, worker_id = NULL, eta_seconds = NULL, rate_per_second = NULL
FROM next WHERE j.id = next.id AND j.state = 'RUNNING' AND j.lease = $2
RETURNING j.state, j.run_after;
