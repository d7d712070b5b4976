-- count: StrategyStore::list, the total. Strategies (not versions).
--
-- No parameters.
--
-- Returns one row: the number of strategies (bigint).
-- Guards: read only.
-- Index: strategies_name_idx (lower(name)) WHERE version = 1: one entry per strategy.
SELECT count(*) FROM strategies WHERE version = 1;
