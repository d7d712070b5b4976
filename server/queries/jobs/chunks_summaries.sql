-- chunks_summaries: JobStore::chunk_summaries. What a fanned-out optimization's finished chunks
-- add to its live heatmap and top runs (the `summary` of each ChunkResult), without their
-- metrics.
--
-- $1 = parent_id uuid
--
-- Returns one row per SUCCEEDED chunk, in grid order: summary (jsonb: ChunkSummary, or NULL
--   for a chunk of an older version).
-- Guards: read only.
-- Index: jobs_chunk_idx (parent_id, chunk_index), read in order.
SELECT result -> 'summary' AS summary FROM jobs
WHERE parent_id = $1 AND state = 'SUCCEEDED'
ORDER BY chunk_index;
