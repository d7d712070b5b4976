-- complete_batch: JobStore::complete_batch. RUNNING -> SUCCEEDED for many runs in one statement
-- (one commit), each with its result: what complete.sql does, row by row. The worker pool's
-- completions go through it, batched by the process's pulse (jobs/pulse.rs).
--
-- $1 = ids      uuid[]   the jobs, in ascending order (rows are locked in that order)
-- $2 = leases   uuid[]   the run each write belongs to
-- $3 = results  jsonb[]  each handler's result
-- $4 = messages text[]   each run's last progress message not yet written, or NULL to keep
--                        the one written
--
-- Returns the ids completed; a run that is no longer current (its id missing from the answer)
--   was left alone (StoreError::Stale for that job).
-- Guards: state = 'RUNNING' AND lease = the row's lease, per row, as complete.sql; the same
--   columns set and cleared.
-- Index: jobs_pkey (id), one probe per row.
UPDATE jobs j SET state = 'SUCCEEDED', result = c.result, progress = 1.0, finished_at = now(),
    progress_message = COALESCE(c.message, j.progress_message),
    lease = NULL, eta_seconds = NULL, rate_per_second = NULL, checkpoint = NULL
FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[], $4::text[]) AS c (id, lease, result, message)
WHERE j.id = c.id AND j.state = 'RUNNING' AND j.lease = c.lease
RETURNING j.id;
