-- 003 — index the dead jobs.
--
-- Every run ends by asking whether any job is dead (exit code 3), and
-- `nightshift retry` and `export --failed` look for them too. Without an
-- index each of those read the whole jobs table, request bodies and all:
-- a tenth of a second per 50,000 jobs at the end of every run. Dead jobs
-- are few, so a partial index on them costs next to nothing to keep.

CREATE INDEX IF NOT EXISTS jobs_dead ON jobs (id) WHERE state = 3;
