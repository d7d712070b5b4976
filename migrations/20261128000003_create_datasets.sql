-- OHLCV datasets, one row each, bars stored column-wise as arrays (a 2,000-bar series is a
-- few dozen KB and loads in one round trip). Jobs name their dataset by id.
CREATE TABLE datasets (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text,
    bars        integer NOT NULL CHECK (bars >= 2),
    start_ts    bigint NOT NULL,
    end_ts      bigint NOT NULL,
    ts          bigint[] NOT NULL,
    open        double precision[] NOT NULL,
    high        double precision[] NOT NULL,
    low         double precision[] NOT NULL,
    close       double precision[] NOT NULL,
    volume      double precision[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT datasets_range CHECK (end_ts > start_ts),
    CONSTRAINT datasets_columns_match CHECK (
        cardinality(ts) = bars AND cardinality(open) = bars AND cardinality(high) = bars
        AND cardinality(low) = bars AND cardinality(close) = bars AND cardinality(volume) = bars)
);

CREATE UNIQUE INDEX datasets_name_idx ON datasets (lower(name));
