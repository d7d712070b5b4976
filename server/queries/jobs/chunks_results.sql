-- chunks_results: JobStore::chunk_results. The results (the runs' metrics) of a fanned-out
-- optimization's finished chunks, in grid order, for the parent to assemble.
--
-- $1 = parent_id uuid
--
-- Returns one row per SUCCEEDED chunk: chunk_index (integer), result (jsonb: ChunkResult).
-- Guards: read only.
-- Index: jobs_chunk_idx (parent_id, chunk_index), read in order.
SELECT chunk_index, result FROM jobs
WHERE parent_id = $1 AND state = 'SUCCEEDED'
ORDER BY chunk_index;
