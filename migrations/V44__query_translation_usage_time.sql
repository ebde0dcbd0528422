-- Query translation's cost in time (issue #15): the console shows an admin, beside the switch, how many
-- of the day's calls gave no translation (failed, empty, cut or given up after the timeout) and how long
-- the calls took on average, since each new question waits for its translation before the search.
-- Rows written before this migration count as 0 failed and 0 ms.
ALTER TABLE query_translation_usage
  ADD COLUMN failed   integer NOT NULL DEFAULT 0,
  ADD COLUMN total_ms bigint  NOT NULL DEFAULT 0;
