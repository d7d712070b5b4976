-- complete: JobStore::complete. RUNNING -> SUCCEEDED with the result.
--
-- $1 = id     uuid
-- $2 = lease  uuid    the run the write belongs to
-- $3 = result jsonb   the handler's result (the table requires one for SUCCEEDED)
--
-- Returns nothing; one row affected, or none when the run is stale (StoreError::Stale).
-- Guards: state = 'RUNNING' AND lease = $2. The lease and checkpoint are cleared, progress is
--   set to 1 and finished_at is stamped, as the table's CHECKs require of a terminal state.
-- Index: jobs_pkey (id).
UPDATE jobs SET state = 'SUCCEEDED', result = $3, progress = 1.0, finished_at = now(),
    lease = NULL, eta_seconds = NULL, rate_per_second = NULL, checkpoint = NULL
WHERE id = $1 AND state = 'RUNNING' AND lease = $2;
