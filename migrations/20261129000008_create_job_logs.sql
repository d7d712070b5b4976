-- Run-log lines in Postgres (issue 10): a job's lines are written where it runs (the local
-- file under RUNBOARD_RUNS_DIR, as before) and shipped here in batches, so the web process
-- shows the log tail of a job that ran on any machine. Deleted with their job.
CREATE TABLE job_logs (
    job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq    bigserial,
    -- The whole line as the file has it: `<RFC 3339 time>  <message>`.
    line   text NOT NULL CHECK (length(line) <= 2000),
    PRIMARY KEY (job_id, seq)
);
