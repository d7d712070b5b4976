-- logs_tail: JobStore::log_tail. The last lines of a job's run log as shipped from every
-- machine that ran it, newest first (the caller restores the order).
--
-- $1 = job_id uuid
-- $2 = limit  bigint  most lines (MAX_TAIL_LINES)
--
-- Returns up to $2 rows: line (text).
-- Guards: read only.
-- Index: job_logs_pkey (job_id, seq), read backwards.
SELECT line FROM job_logs WHERE job_id = $1 ORDER BY seq DESC LIMIT $2;
