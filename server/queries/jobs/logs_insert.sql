-- logs_insert: the log shipper (joblog::LogShipper). A batch of run-log lines, in the order
-- they were written in this process.
--
-- $1 = job_ids uuid[]  the job of each line
-- $2 = lines   text[]  `<RFC 3339 time>  <message>`, at most 2,000 characters each
--
-- Returns nothing.
-- Guards: the foreign key (a line of a deleted job fails the batch: the shipper retries the
--   others one by one); the length CHECK. seq (bigserial) keeps each process's order.
-- Index: job_logs_pkey (job_id, seq).
INSERT INTO job_logs (job_id, line)
SELECT * FROM unnest($1::uuid[], $2::text[]);
