-- finish_cancelled: JobStore::finish_cancelled. RUNNING -> CANCELLED after the handler stopped
-- on a cancel request.
--
-- $1 = id    uuid
-- $2 = lease uuid   the run the write belongs to
--
-- Returns nothing; one row affected, or none when the run is stale (StoreError::Stale).
-- Guards: state = 'RUNNING' AND lease = $2. Progress and the checkpoint are kept.
-- Index: jobs_pkey (id).
UPDATE jobs SET state = 'CANCELLED', finished_at = now(), lease = NULL,
    eta_seconds = NULL, rate_per_second = NULL
WHERE id = $1 AND state = 'RUNNING' AND lease = $2;
