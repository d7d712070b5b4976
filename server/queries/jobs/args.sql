-- args: JobStore::args. A job's arguments as submitted.
--
-- $1 = id uuid
--
-- Returns 0 or 1 row: args (jsonb). No row: StoreError::NotFound.
-- Guards: read only.
-- Index: jobs_pkey (id).
SELECT args FROM jobs WHERE id = $1;
