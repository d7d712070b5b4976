-- upsert: GridStore::upsert. Stores (or replaces) the full grid of a running optimization.
--
-- $1 = job_id        uuid
-- $2 = lease         uuid     the run the write belongs to
-- $3 = params        text[]   parameter names, in declaration order
-- $4 = axes          jsonb    one array of values per parameter
-- $5 = metric_values bytea    one little-endian f64 per combination (last parameter fastest)
--
-- Returns nothing; one row affected, or none when the run is stale (the job is no longer
--   RUNNING under this lease: a newer run owns it, or it ended).
-- Guards: the job is RUNNING under lease $2 (a stale worker writes nothing); the table's CHECKs
--   (one axis per parameter, a whole number of f64s). A retried run replaces the row.
-- Index: jobs_pkey (id) for the guard; job_grids_pkey (job_id) for the conflict.
INSERT INTO job_grids (job_id, params, axes, metric_values)
SELECT $1, $3, $4, $5
WHERE EXISTS (SELECT 1 FROM jobs WHERE id = $1 AND state = 'RUNNING' AND lease = $2)
ON CONFLICT (job_id) DO UPDATE
    SET params = EXCLUDED.params, axes = EXCLUDED.axes,
        metric_values = EXCLUDED.metric_values, created_at = now();
