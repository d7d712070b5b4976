-- name_taken: DatasetStore::name_taken. Whether a dataset already has this name (ignoring case),
-- so an upload can be refused before its body is read.
--
-- $1 = name text
--
-- Returns one row: a boolean.
-- Guards: read only. Advisory: the insert's unique index is what decides (a name taken meanwhile
--   still fails the insert, as DatasetError::NameTaken).
-- Index: datasets_name_idx (lower(name)).
SELECT EXISTS (SELECT 1 FROM datasets WHERE lower(name) = lower($1));
