-- count: JobStore::list, the total. Jobs matching the same filter as list.sql, over all pages.
--
-- $1 = state text   JobState, or NULL for every state
-- $2 = kind  text   JobKind, or NULL for every kind
--
-- Returns one row: the count (bigint).
-- Guards: read only.
-- Index: none usable for an optional filter: a scan of jobs (jobs_active_idx covers only
--   QUEUED and RUNNING, and a generic plan cannot know $1 is one of them).
SELECT count(*) FROM jobs
WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2)
    AND parent_id IS NULL;
