-- chunks_results: JobStore::chunk_metrics. The results (the runs' metrics) of a fanned-out
-- optimization's finished chunks, in grid order, for the parent to assemble; the chunks it ran
-- itself are left out (it holds their metrics).
--
-- $1 = parent_id uuid
-- $2 = chunk indexes to leave out, integer[]
--
-- Returns one row per SUCCEEDED chunk: chunk_index (integer), result (jsonb: ChunkResult).
-- Guards: read only.
-- Index: jobs_chunk_idx (parent_id, chunk_index), read in order.
SELECT chunk_index, result FROM jobs
WHERE parent_id = $1 AND state = 'SUCCEEDED' AND chunk_index <> ALL ($2)
ORDER BY chunk_index;
