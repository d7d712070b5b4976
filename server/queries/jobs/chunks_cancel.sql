-- chunks_cancel: JobStore::cancel_chunks. Stops every live chunk of a parent that ends without
-- them (it failed, or gave up): QUEUED chunks end CANCELLED at once, RUNNING ones are flagged
-- and stop at their next progress report or heartbeat.
--
-- $1 = parent_id uuid
--
-- Returns nothing; rows_affected is the number of chunks stopped or flagged.
-- Guards: state IN ('QUEUED', 'RUNNING'): finished chunks are never changed; a RUNNING chunk
--   keeps its lease (its worker records the cancel).
-- Index: jobs_chunk_idx (parent_id, chunk_index).
UPDATE jobs SET cancel_requested = true,
    state = CASE WHEN state = 'QUEUED' THEN 'CANCELLED' ELSE state END,
    finished_at = CASE WHEN state = 'QUEUED' THEN now() ELSE finished_at END
WHERE parent_id = $1 AND state IN ('QUEUED', 'RUNNING');
