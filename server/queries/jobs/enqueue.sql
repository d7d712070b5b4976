-- enqueue: JobStore::enqueue, and step 3 of 3 of JobStore::enqueue_capped. Adds a QUEUED job.
--
-- $1 = id              uuid      a fresh v4 id
-- $2 = kind            text      JobKind ('backtest', 'optimize', 'walk_forward', 'train', 'demo')
-- $3 = args            jsonb     the request as submitted
-- $4 = priority        smallint  higher is claimed first
-- $5 = max_attempts    integer   at least 1
-- $6 = log_path        text      <runs_dir>/<id>/artifacts/run.log, derived from the id only
-- $7 = program_version text      the accepting server's version (PROGRAM_VERSION), or NULL
-- $8 = dataset_hash    text      the dataset's content hash (64 hex digits), or NULL
--
-- Returns one row: the job's status columns (JobStatus).
-- Guards: the table's CHECKs (kind, attempts, version length, hash format). state, attempt,
--   run_after and created_at take their defaults. The AFTER INSERT trigger jobs_notify_queued
--   announces the job on the queue channel (QUEUE_CHANNEL), which wakes an idle worker.
-- Index: jobs_pkey (id).
INSERT INTO jobs (id, kind, args, priority, max_attempts, log_path, program_version,
    dataset_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id, kind, state, progress, progress_message, eta_seconds, rate_per_second, error,
    attempt, max_attempts, cancel_requested, log_path, created_at, started_at, finished_at,
    heartbeat_at;
