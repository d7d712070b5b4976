-- update_progress: JobStore::update_progress. One atomic write of the progress fields.
--
-- $1 = id               uuid
-- $2 = lease            uuid     the run the write belongs to
-- $3 = progress         float8   0..=1 (checked in Rust and by the table)
-- $4 = progress_message text     at most 500 characters, or NULL
-- $5 = eta_seconds      float8   finite and >= 0, or NULL
-- $6 = rate_per_second  float8   finite and >= 0, or NULL
-- $7 = checkpoint       jsonb    NULL keeps the saved checkpoint
--
-- Returns 0 or 1 row: cancel_requested. No row means the run is stale (StoreError::Stale).
-- Guards: state = 'RUNNING' AND lease = $2, so a run that was rescued, cancelled or finished
--   cannot overwrite the newer state. Every other field is kept. Counts as a heartbeat.
-- Index: jobs_pkey (id).
UPDATE jobs SET progress = $3, progress_message = $4, eta_seconds = $5, rate_per_second = $6,
    checkpoint = COALESCE($7, checkpoint), heartbeat_at = now()
WHERE id = $1 AND state = 'RUNNING' AND lease = $2
RETURNING cancel_requested;
