-- count: DatasetStore::count. How many datasets there are, for the list's pages.
--
-- No parameters.
--
-- Returns one row: the count.
-- Guards: read only.
-- Index: none; a scan of datasets (one row per dataset).
SELECT count(*) FROM datasets;
