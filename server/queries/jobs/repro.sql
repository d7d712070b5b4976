-- repro: JobStore::repro. A job's reproducibility record: what was asked, on which data, by
--   which program.
--
-- $1 = id uuid
--
-- Returns 0 or 1 row: (kind, state, args, program_version, dataset_hash, dataset_name);
--   dataset_name is NULL when the arguments name no stored dataset. No row:
--   StoreError::NotFound.
-- Guards: read only; the result and checkpoint are not read.
-- Index: jobs_pkey (id); datasets: a scan (a handful of rows), matched on the canonical text of
--   the id.
SELECT j.kind, j.state, j.args, j.program_version, j.dataset_hash, d.name AS dataset_name
FROM jobs j
LEFT JOIN datasets d ON d.id::text = lower(btrim(j.args->>'dataset_id'))
WHERE j.id = $1;
