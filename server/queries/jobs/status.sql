-- status: JobStore::status (and request_cancel's second look). One job's status.
--
-- $1 = id uuid
--
-- Returns 0 or 1 row: the job's status columns (JobStatus). No row: StoreError::NotFound.
-- Guards: read only. args, checkpoint and result (which can be large) are not read: the
--   browser polls this every 2 s.
-- Index: jobs_pkey (id).
SELECT id, kind, state, progress, progress_message, eta_seconds, rate_per_second, error,
    attempt, max_attempts, cancel_requested, log_path, created_at, started_at, finished_at,
    heartbeat_at
FROM jobs WHERE id = $1;
