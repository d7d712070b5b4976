-- list: JobStore::list, the page. Jobs newest first, optionally filtered, with their research
--   context.
--
-- $1 = state  text     JobState, or NULL for every state
-- $2 = kind   text     JobKind, or NULL for every kind
-- $3 = limit  bigint   page size
-- $4 = offset bigint   rows to skip
--
-- Returns up to $3 rows: the jobs' status columns (JobStatus) and `context` (jsonb, JobContext):
--   strategy, dataset name (or id when no dataset has it), the fixed parameters (backtest,
--   train, demo) or a summary of the grid per parameter (optimize, walk-forward: a range as
--   is, a list as its count, first and last value), and for SUCCEEDED jobs the headline figures
--   read from the result with jsonb operators (optimize: the metric of the best run, named
--   `best_<metric>`;
--   walk-forward: the out-of-sample return; backtest: Sharpe and return; train: validation
--   accuracy). Only these few values leave the database, never a whole result or request.
-- Guards: read only. Chunks of fanned-out optimizations are not listed (their parent is; see
--   chunks_list.sql). id breaks ties between equal created_at, so pages never overlap. The page
--   is cut first (CTE), so only its rows are joined and read into.
-- Index: jobs_created_idx (created_at DESC, id), read in order (ties on created_at are sorted
--   by id DESC on top, an incremental sort); the filters apply to the rows read. datasets: a
--   scan (a handful of rows), matched on the canonical text of the id.
WITH page AS (
    SELECT id, kind, state, progress, progress_message, eta_seconds, rate_per_second, error,
        attempt, max_attempts, cancel_requested, log_path, created_at, started_at, finished_at,
        heartbeat_at, args, result
    FROM jobs
    WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2)
        AND parent_id IS NULL
    ORDER BY created_at DESC, id DESC
    LIMIT $3 OFFSET $4
)
SELECT p.id, p.kind, p.state, p.progress, p.progress_message, p.eta_seconds, p.rate_per_second,
    p.error, p.attempt, p.max_attempts, p.cancel_requested, p.log_path, p.created_at,
    p.started_at, p.finished_at, p.heartbeat_at,
    jsonb_strip_nulls(jsonb_build_object(
        'strategy', left(coalesce(p.args->>'strategy', p.args->'rules'->>'name'), 40),
        'dataset', d.name,
        'dataset_id', CASE WHEN d.name IS NULL THEN left(p.args->>'dataset_id', 40) END,
        'params', CASE
            WHEN p.kind = 'backtest' AND jsonb_typeof(p.args->'params') = 'object'
                THEN p.args->'params'
            WHEN p.kind = 'train'
                THEN jsonb_build_object('lags', p.args->'lags', 'epochs', p.args->'epochs')
            WHEN p.kind = 'demo' THEN jsonb_build_object('steps', p.args->'steps')
        END,
        'grid', CASE
            WHEN p.kind IN ('optimize', 'walk_forward') AND jsonb_typeof(p.args->'grid') = 'object'
            THEN (SELECT jsonb_object_agg(g.key, CASE
                    WHEN jsonb_typeof(g.value->'range') = 'object' THEN g.value->'range'
                    WHEN jsonb_typeof(g.value->'list') = 'array' THEN jsonb_build_object(
                        'count', jsonb_array_length(g.value->'list'),
                        'first', g.value->'list'->0,
                        'last', g.value->'list'->-1)
                END)
                FROM jsonb_each(p.args->'grid') AS g)
        END,
        'best', CASE WHEN p.state = 'SUCCEEDED' THEN CASE p.kind
            WHEN 'optimize' THEN jsonb_build_array(jsonb_build_object(
                'name', 'best_' || (p.result->>'metric'),
                'value', p.result->'best_stats'->(p.result->>'metric')))
            WHEN 'walk_forward' THEN jsonb_build_array(jsonb_build_object(
                'name', 'oos_return_pct', 'value', p.result->'oos_return_pct'))
            WHEN 'backtest' THEN jsonb_build_array(
                jsonb_build_object('name', 'sharpe', 'value', p.result->'stats'->'sharpe'),
                jsonb_build_object('name', 'return_pct', 'value', p.result->'stats'->'return_pct'))
            WHEN 'train' THEN jsonb_build_array(jsonb_build_object(
                'name', 'val_accuracy', 'value', p.result->'val_accuracy'))
        END END
    )) AS context
FROM page p
LEFT JOIN datasets d ON d.id::text = lower(btrim(p.args->>'dataset_id'))
ORDER BY p.created_at DESC, p.id DESC;
