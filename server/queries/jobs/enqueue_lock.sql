-- enqueue_lock: JobStore::enqueue_capped, step 1 of 3 (one transaction).
--
-- $1 = key bigint   ENQUEUE_LOCK_KEY ("runboard" in ASCII)
--
-- Returns one row (void).
-- Guards: a transaction-scoped advisory lock, released at COMMIT/ROLLBACK, serializes capped
--   enqueues, so the count below and the insert after it cannot interleave with another
--   submitter's: two submitters never both take the last place.
-- Index: none (no table is read).
SELECT pg_advisory_xact_lock($1);
