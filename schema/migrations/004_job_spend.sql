-- 004 — each job keeps what its requests have cost so far.
--
-- A run read it from the ledger instead: a lookup in attempts_job for
-- every job claimed, and an entry into that index for every request sent,
-- about 4% of the run loop's work. spent_usd is kept equal to the sum of
-- the job's ledger rows by the statements that record each request's
-- fate, in the same transaction as the ledger row; a `retry` leaves it,
-- as it leaves the ledger. The index then has no reader in the run loop
-- (the report sorts the ledger instead), so it goes.

ALTER TABLE jobs ADD COLUMN spent_usd REAL NOT NULL DEFAULT 0;
UPDATE jobs SET spent_usd = s.usd
  FROM (SELECT job_id, total(cost_usd) AS usd FROM attempts GROUP BY job_id) AS s
  WHERE jobs.id = s.job_id;
DROP INDEX IF EXISTS attempts_job;
