-- release: JobStore::release. RUNNING -> QUEUED on a clean shutdown (CANCELLED if a cancel was
-- requested).
--
-- $1 = id    uuid
-- $2 = lease uuid   the run the write belongs to
--
-- Returns 0 or 1 row: the new state. No row means the run is stale (StoreError::Stale).
-- Guards: state = 'RUNNING' AND lease = $2. The attempt is given back (the job did nothing
--   wrong) and the checkpoint stays for the next claimer; a pending cancel request wins over
--   the hand-back, and then the attempt is kept and finished_at stamped.
-- Index: jobs_pkey (id).
UPDATE jobs SET state = CASE WHEN cancel_requested THEN 'CANCELLED' ELSE 'QUEUED' END,
    finished_at = CASE WHEN cancel_requested THEN now() ELSE NULL END,
    lease = NULL, worker_id = NULL,
    attempt = CASE WHEN cancel_requested THEN attempt ELSE GREATEST(attempt - 1, 0) END,
    run_after = now(), eta_seconds = NULL, rate_per_second = NULL
WHERE id = $1 AND state = 'RUNNING' AND lease = $2
RETURNING state;
