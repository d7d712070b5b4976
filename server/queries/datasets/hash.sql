-- hash: DatasetStore::content_hash, the first look. One dataset's content hash.
--
-- $1 = id uuid
--
-- Returns 0 or 1 row: content_hash (text), NULL for a dataset imported before hashes were
--   recorded. No row: DatasetError::NotFound.
-- Guards: read only; the bars are not read.
-- Index: datasets_pkey (id).
SELECT content_hash FROM datasets WHERE id = $1;
