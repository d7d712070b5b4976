-- Which node (RUNBOARD_NODE_ID) ran a job last, matched exactly by start-up recovery. worker_id
-- holds the process's unique instance id (`<node>-<random>:<n>`), so two processes that share a
-- node name never rescue each other's live runs, and no LIKE pattern is built from a name.
ALTER TABLE jobs ADD COLUMN node_id text;
-- The cap on active jobs counts QUEUED + RUNNING rows (see JobStore::enqueue_capped).
CREATE INDEX jobs_active_idx ON jobs (state) WHERE state IN ('QUEUED', 'RUNNING');
