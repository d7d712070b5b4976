-- heartbeat: JobStore::heartbeat. Proof of life for a running job.
--
-- $1 = id    uuid
-- $2 = lease uuid   the run the write belongs to
--
-- Returns 0 or 1 row: cancel_requested. No row means the run is stale (StoreError::Stale).
-- Guards: state = 'RUNNING' AND lease = $2. Only heartbeat_at changes.
-- Index: jobs_pkey (id).
UPDATE jobs SET heartbeat_at = now()
WHERE id = $1 AND state = 'RUNNING' AND lease = $2
RETURNING cancel_requested;
