-- One optimization over many processes and machines (issue 10): an optimize job above the
-- fan-out threshold is split into jobs of kind 'chunk', its children, each a contiguous range of
-- the grid's runs. Any worker that shares the database claims them like any other job (FOR
-- UPDATE SKIP LOCKED), with the same leases, heartbeats, rescue, retries and cancel; the parent
-- waits for them (running its own queued chunks meanwhile) and ranks the assembled metrics.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('backtest', 'optimize', 'walk_forward', 'train', 'demo', 'import', 'chunk'));
-- A chunk names its parent and its place in the grid; nothing else has either.
ALTER TABLE jobs ADD COLUMN parent_id uuid REFERENCES jobs (id) ON DELETE CASCADE;
ALTER TABLE jobs ADD COLUMN chunk_index integer CHECK (chunk_index >= 0);
ALTER TABLE jobs ADD CONSTRAINT jobs_chunk_has_parent
    CHECK ((kind = 'chunk') = (parent_id IS NOT NULL) AND (parent_id IS NULL) = (chunk_index IS NULL));
-- A parent's chunks, by index: creating them twice (a rescued parent) adds nothing, and the
-- parent reads its chunks' progress and results through this index.
CREATE UNIQUE INDEX jobs_chunk_idx ON jobs (parent_id, chunk_index) WHERE parent_id IS NOT NULL;
