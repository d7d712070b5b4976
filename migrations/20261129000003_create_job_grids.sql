-- The metric of every combination of an optimization's grid (before constraints), one row per
-- job, so the results page can show other axes and folds than the default heatmap stored in
-- jobs.result. Kept out of jobs.result on purpose: up to 2,000,000 values (16 MB) that neither
-- the result JSON nor the browser should carry. The optimize handler writes it before the job
-- completes (an upsert: a retried run overwrites it); the grid_view server function reads it.
--
-- params        the parameter names, in the strategy's declaration order
-- axes          one JSON array of numbers per parameter (the values tried), same order
-- metric_values one little-endian f64 per combination, in mixed-radix order over `axes` (the
--               last parameter fastest); NaN where the combination was not admissible or the
--               metric undefined
CREATE TABLE job_grids (
    job_id        uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    params        text[] NOT NULL,
    axes          jsonb NOT NULL,
    metric_values bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT job_grids_params CHECK (cardinality(params) >= 1),
    CONSTRAINT job_grids_axes CHECK (
        jsonb_typeof(axes) = 'array' AND jsonb_array_length(axes) = cardinality(params)),
    CONSTRAINT job_grids_values CHECK (
        octet_length(metric_values) >= 8 AND octet_length(metric_values) % 8 = 0)
);
