-- Bars are stored packed in one bytea: the six columns one after the other (ts, open, high,
-- low, close, volume), every value 8 bytes big-endian (int8send / float8send order), so a
-- dataset of n bars is exactly 48·n bytes. A million bars insert and load as one 48 MB value
-- instead of six million array elements parsed one by one (measured with
-- server/benches/million.rs; see the README). Stored out of line without compression: float
-- bytes barely compress and trying costs time.
--
-- runboard_pack_bars() builds the value from arrays, for this backfill and for anyone writing
-- a dataset with SQL.
CREATE FUNCTION runboard_pack_bars(ts bigint[], open float8[], high float8[], low float8[],
                                   close float8[], volume float8[])
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce((SELECT string_agg(int8send(v), ''::bytea ORDER BY i)
                     FROM unnest(ts) WITH ORDINALITY AS u(v, i)), ''::bytea)
        || coalesce((SELECT string_agg(float8send(v), ''::bytea ORDER BY i)
                     FROM unnest(open) WITH ORDINALITY AS u(v, i)), ''::bytea)
        || coalesce((SELECT string_agg(float8send(v), ''::bytea ORDER BY i)
                     FROM unnest(high) WITH ORDINALITY AS u(v, i)), ''::bytea)
        || coalesce((SELECT string_agg(float8send(v), ''::bytea ORDER BY i)
                     FROM unnest(low) WITH ORDINALITY AS u(v, i)), ''::bytea)
        || coalesce((SELECT string_agg(float8send(v), ''::bytea ORDER BY i)
                     FROM unnest(close) WITH ORDINALITY AS u(v, i)), ''::bytea)
        || coalesce((SELECT string_agg(float8send(v), ''::bytea ORDER BY i)
                     FROM unnest(volume) WITH ORDINALITY AS u(v, i)), ''::bytea)
$$;

ALTER TABLE datasets ADD COLUMN packed bytea;
UPDATE datasets SET packed = runboard_pack_bars(ts, open, high, low, close, volume);
ALTER TABLE datasets DROP CONSTRAINT datasets_columns_match;
ALTER TABLE datasets DROP COLUMN ts, DROP COLUMN open, DROP COLUMN high, DROP COLUMN low,
    DROP COLUMN close, DROP COLUMN volume;
ALTER TABLE datasets ALTER COLUMN packed SET NOT NULL;
ALTER TABLE datasets ALTER COLUMN packed SET STORAGE EXTERNAL;
ALTER TABLE datasets ADD CONSTRAINT datasets_packed_size
    CHECK (octet_length(packed) = bars::bigint * 48);
