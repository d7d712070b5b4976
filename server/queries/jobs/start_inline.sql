-- start_inline: JobStore::start_inline. Adds a job that runs in the calling process (an import
-- inside its upload request) rather than on a worker: inserted RUNNING under a lease the caller
-- chose, attempt 1 of 1.
--
-- $1 = id              uuid      a fresh v4 id
-- $2 = kind            text      JobKind ('import')
-- $3 = args            jsonb     the request (for an import: name, gzip, size hint)
-- $4 = log_path        text      <runs_dir>/<id>/artifacts/run.log, derived from the id only
-- $5 = program_version text      the accepting server's version (PROGRAM_VERSION), or NULL
-- $6 = lease           uuid      the run's lease, kept by the caller for its guarded writes
-- $7 = worker_id       text      who runs it (`<instance>:import`)
-- $8 = node_id         text      the node of that process
--
-- Returns one row: the job's status columns (JobStatus).
-- Guards: the table's CHECKs (kind, a lease exactly when RUNNING). max_attempts = 1, so a run
--   whose process dies is ended FAILED by the rescuer, never QUEUED for a worker (which would
--   have no upload to read). No NOTIFY: the trigger fires for QUEUED rows only.
-- Index: jobs_pkey (id).
INSERT INTO jobs (id, kind, args, max_attempts, log_path, program_version, state, lease,
    worker_id, node_id, attempt, started_at, heartbeat_at)
VALUES ($1, $2, $3, 1, $4, $5, 'RUNNING', $6, $7, $8, 1, now(), now())
RETURNING id, kind, state, progress, progress_message, eta_seconds, rate_per_second, error,
    attempt, max_attempts, cancel_requested, log_path, created_at, started_at, finished_at,
    heartbeat_at;
