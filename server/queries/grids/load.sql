-- load: GridStore::load. A job's full grid, for the grid_view server function.
--
-- $1 = job_id uuid
--
-- Returns 0 or 1 row: (params, axes, metric_values). No row: the job has no stored grid (not an
--   optimization, not finished, or run before grids were stored).
-- Guards: read only.
-- Index: job_grids_pkey (job_id).
SELECT params, axes, metric_values FROM job_grids WHERE job_id = $1;
