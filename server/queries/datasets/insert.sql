-- insert: DatasetStore::insert (and the built-in sample). One dataset, all or nothing.
--
-- $1  = id           uuid
-- $2  = name         text               1..=100 characters, unique ignoring case
-- $3  = description  text               or NULL
-- $4  = bars         integer            number of bars, at least 2
-- $5  = start_ts     bigint             first bar's time
-- $6  = end_ts       bigint             last bar's time (after start_ts)
-- $7  = packed       bytea              the six columns (ts, open, high, low, close, volume)
--                                       one after the other, 8 bytes big-endian a value
-- $8  = content_hash text               sha256 hex of the bars' canonical encoding
--
-- Returns one row: the dataset's info columns (DatasetInfo).
-- Guards: the table's CHECKs (packed holds 48 bytes a bar, end_ts > start_ts, the hash is
--   64 hex digits); a taken name is a unique violation, reported as DatasetError::NameTaken.
-- Index: datasets_name_idx (lower(name)) enforces the unique name; datasets_pkey
--   the id.
INSERT INTO datasets (id, name, description, bars, start_ts, end_ts, packed, content_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id, name, description, bars, start_ts, end_ts, created_at;
