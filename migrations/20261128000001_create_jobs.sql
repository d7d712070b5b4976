-- One row per job. The state machine is enforced here as far as a table can enforce it;
-- every transition is a single guarded UPDATE in server/src/jobs/store.rs.
--
--   QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED
--   QUEUED -> CANCELLED             (cancelled before a worker claimed it)
--   RUNNING -> QUEUED               (rescued after a crash / stuck heartbeat, or a retry)
CREATE TABLE jobs (
    id               uuid PRIMARY KEY,
    kind             text NOT NULL
                     CHECK (kind IN ('backtest', 'optimize', 'walk_forward', 'train', 'demo')),
    state            text NOT NULL DEFAULT 'QUEUED'
                     CHECK (state IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    priority         smallint NOT NULL DEFAULT 0,
    args             jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Progress is metadata inside RUNNING (kept after the end): a fraction in 0..1.
    progress         double precision CHECK (progress >= 0 AND progress <= 1),
    progress_message text CHECK (length(progress_message) <= 500),
    eta_seconds      double precision CHECK (eta_seconds >= 0),
    rate_per_second  double precision CHECK (rate_per_second >= 0),
    checkpoint       jsonb,
    result           jsonb,
    error            text,
    attempt          integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts     integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    -- A fresh token per run: every write from a worker names it, so a stale run cannot
    -- overwrite a newer one.
    lease            uuid,
    worker_id        text,
    heartbeat_at     timestamptz,
    cancel_requested boolean NOT NULL DEFAULT false,
    run_after        timestamptz NOT NULL DEFAULT now(),
    log_path         text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    CONSTRAINT jobs_finished_iff_terminal
        CHECK ((finished_at IS NOT NULL) = (state IN ('SUCCEEDED', 'FAILED', 'CANCELLED'))),
    CONSTRAINT jobs_lease_iff_running CHECK ((lease IS NOT NULL) = (state = 'RUNNING')),
    CONSTRAINT jobs_running_has_started_and_heartbeat
        CHECK (state <> 'RUNNING' OR (started_at IS NOT NULL AND heartbeat_at IS NOT NULL)),
    CONSTRAINT jobs_succeeded_has_result CHECK (state <> 'SUCCEEDED' OR result IS NOT NULL),
    CONSTRAINT jobs_failed_has_error CHECK (state <> 'FAILED' OR error IS NOT NULL),
    CONSTRAINT jobs_attempts_bounded CHECK (attempt <= max_attempts)
);

-- claim: the oldest runnable job of the highest priority.
CREATE INDEX jobs_claimable_idx ON jobs (priority DESC, run_after, created_at) WHERE state = 'QUEUED';
-- rescue: running jobs by heartbeat age.
CREATE INDEX jobs_running_heartbeat_idx ON jobs (heartbeat_at) WHERE state = 'RUNNING';
-- list: newest first.
CREATE INDEX jobs_created_idx ON jobs (created_at DESC, id);
