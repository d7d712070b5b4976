-- chunks_create: JobStore::create_chunks. Adds a parent optimization's chunk jobs, QUEUED, once.
--
-- $1 = parent_id       uuid       the optimize job being fanned out
-- $2 = ids             uuid[]     a fresh v4 id per chunk
-- $3 = starts          bigint[]   first run (grid order) of each chunk
-- $4 = ends            bigint[]   end of each chunk's runs (exclusive)
-- $5 = log_paths       text[]     <runs_dir>/<id>/artifacts/run.log per chunk
-- $6 = priority        smallint   the parent's + 1: a started optimization finishes first
-- $7 = max_attempts    integer    at least 1
-- $8 = program_version text       the parent's program version, or NULL
--
-- Returns nothing; rows_affected is the number of chunks added (0 for a rescued parent whose
--   chunks exist).
-- Guards: the unique index jobs_chunk_idx (parent_id, chunk_index): ON CONFLICT DO NOTHING, so
--   creating the chunks twice adds none. The table's CHECKs (kind 'chunk' iff a parent). The
--   AFTER INSERT trigger jobs_notify_queued wakes idle workers on every machine.
-- Index: jobs_chunk_idx for the conflict check; jobs_pkey.
INSERT INTO jobs (id, kind, args, priority, max_attempts, log_path, program_version, parent_id,
    chunk_index)
SELECT c.id, 'chunk',
    jsonb_build_object('parent_id', $1::uuid, 'index', c.ord - 1, 'start', c.first_run,
        'end', c.end_run),
    $6, $7, c.log_path, $8, $1, c.ord - 1
FROM unnest($2::uuid[], $3::bigint[], $4::bigint[], $5::text[])
    WITH ORDINALITY AS c (id, first_run, end_run, log_path, ord)
ON CONFLICT (parent_id, chunk_index) WHERE parent_id IS NOT NULL DO NOTHING;
