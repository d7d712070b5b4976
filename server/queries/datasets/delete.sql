-- delete: DatasetStore::delete. Removes a dataset unless a QUEUED or RUNNING job names it.
--
-- $1 = id uuid
--
-- Returns 0 or 1 row: the deleted id. No row: the dataset does not exist or a live job uses
--   it (DatasetStore::delete tells which with in_use.sql).
-- Guards: one statement, so a job cannot start using the dataset between the check and the
--   delete unnoticed: a job queued meanwhile fails at its start with "no such dataset", a
--   terminal error that names the field. Finished jobs keep their results.
-- Index: datasets_pkey (id); jobs_active_idx (state) for the live jobs.
DELETE FROM datasets d
WHERE d.id = $1
    AND NOT EXISTS (
        SELECT 1 FROM jobs j
        WHERE j.state IN ('QUEUED', 'RUNNING') AND j.args->>'dataset_id' = $1::text)
RETURNING d.id;
