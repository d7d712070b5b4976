-- result: JobStore::result. A job's state and result.
--
-- $1 = id uuid
--
-- Returns 0 or 1 row: (state, result); result is NULL until the job SUCCEEDED. No row:
--   StoreError::NotFound.
-- Guards: read only.
-- Index: jobs_pkey (id).
SELECT state, result FROM jobs WHERE id = $1;
