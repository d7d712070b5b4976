-- delete: StrategyStore::delete. Deletes every version of a strategy, unless a QUEUED or
--   RUNNING job runs it.
--
-- $1 = id  uuid
--
-- Returns one row: active_jobs (bigint: QUEUED + RUNNING jobs whose args->'rules'->>'id' is
--   this id; when > 0 nothing was deleted) and deleted (bigint: versions removed; 0 with no
--   active job means no such strategy).
-- Guards: one statement: the versions go only when no active job names the strategy. Jobs
--   record the id as canonical UUID text (lower case), as $1::text spells it. A submit that
--   read the strategy just before the delete can still queue a job; its run then fails with
--   "the strategy was deleted".
-- Index: jobs_active_idx (state) WHERE state IN ('QUEUED', 'RUNNING'): only the active jobs
--   are read; strategies_pkey (id, version) for the delete.
WITH active AS (
    SELECT count(*) AS n
    FROM jobs
    WHERE state IN ('QUEUED', 'RUNNING') AND args->'rules'->>'id' = $1::text
), gone AS (
    DELETE FROM strategies
    WHERE id = $1 AND (SELECT n FROM active) = 0
    RETURNING version
)
SELECT (SELECT n FROM active) AS active_jobs, (SELECT count(*) FROM gone) AS deleted;
