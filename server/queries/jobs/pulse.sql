-- pulse: JobStore::pulse. One write for every job a process is running (jobs/pulse.rs): each
-- run's new progress (and checkpoint) if it has one, and a heartbeat for all of them.
--
-- $1 = ids          uuid[]    the jobs, in ascending order (rows are locked in that order)
-- $2 = leases       uuid[]    the run each write belongs to
-- $3 = has_progress bool[]    true: set the progress fields below; false: heartbeat only
-- $4 = progress     float8[]  0..=1 (checked in Rust and by the table)
-- $5 = messages     text[]    at most 500 characters, or NULL
-- $6 = etas         float8[]  finite and >= 0, or NULL
-- $7 = rates        float8[]  finite and >= 0, or NULL
-- $8 = checkpoints  jsonb[]   NULL keeps the saved checkpoint
--
-- Returns one row (id, cancel_requested) per run that is still current; a run missing from the
--   answer is stale (rescued, cancelled or finished elsewhere) and nothing changed for it.
-- Guards: state = 'RUNNING' AND lease = the row's lease, per row, as update_progress.sql and
--   heartbeat.sql. Every other field is kept.
-- Index: jobs_pkey (id), one probe per row.
UPDATE jobs j SET
    progress = CASE WHEN u.has_progress THEN u.progress ELSE j.progress END,
    progress_message = CASE WHEN u.has_progress THEN u.message ELSE j.progress_message END,
    eta_seconds = CASE WHEN u.has_progress THEN u.eta ELSE j.eta_seconds END,
    rate_per_second = CASE WHEN u.has_progress THEN u.rate ELSE j.rate_per_second END,
    checkpoint = COALESCE(u.checkpoint, j.checkpoint),
    heartbeat_at = now()
FROM unnest($1::uuid[], $2::uuid[], $3::bool[], $4::float8[], $5::text[], $6::float8[],
        $7::float8[], $8::jsonb[])
    AS u (id, lease, has_progress, progress, message, eta, rate, checkpoint)
WHERE j.id = u.id AND j.state = 'RUNNING' AND j.lease = u.lease
RETURNING j.id, j.cancel_requested;
