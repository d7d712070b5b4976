-- Reproducibility: what a job ran on and with which program.
--
-- datasets.content_hash: sha256 (64 lower-case hex digits) of the bars' canonical encoding
--   (server/src/datasets.rs, `content_hash`), computed at import. Rows imported before this
--   migration keep NULL (= unknown) until a job is enqueued on them, which fills it in.
-- jobs.program_version: the server that accepted the job, `<crate version> (<git commit>)` or
--   just the crate version when it was built without git. Rows from before: NULL.
-- jobs.dataset_hash: the dataset's content_hash at enqueue, for kinds with a dataset_id in
--   their arguments; NULL otherwise (demo jobs, rows from before).
ALTER TABLE datasets ADD COLUMN content_hash text
    CONSTRAINT datasets_content_hash_hex CHECK (content_hash ~ '^[0-9a-f]{64}$');

ALTER TABLE jobs
    ADD COLUMN program_version text
        CONSTRAINT jobs_program_version_length CHECK (length(program_version) BETWEEN 1 AND 200),
    ADD COLUMN dataset_hash text
        CONSTRAINT jobs_dataset_hash_hex CHECK (dataset_hash ~ '^[0-9a-f]{64}$');
