-- Jobs of kind 'import': a CSV upload streamed into a new dataset (POST /api/datasets). Such a
-- job is inserted RUNNING by the process that receives the upload and ends with it; it is never
-- QUEUED for a worker (max_attempts 1, so a rescue ends it FAILED).
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('backtest', 'optimize', 'walk_forward', 'train', 'demo', 'import'));
