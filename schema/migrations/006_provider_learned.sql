-- 006 — what runs learned about each provider, for the next run; and
-- each job's invalid outputs on its candidate.
--
-- A cron job that runs every night should start where the last run
-- ended, not probe each provider from scratch: its concurrency window
-- (AIMD), the share of 429s it answers at random, its round trip and the
-- rate it kept up. One row per provider, replaced at the end of each run.
-- Model token calibration is kept the same way, per provider and model.

CREATE TABLE IF NOT EXISTS provider_learned (
  provider    TEXT    PRIMARY KEY,
  updated_at  INTEGER NOT NULL,                    -- epoch ms
  cwnd        REAL    NOT NULL,                    -- concurrency window
  p429        REAL    NOT NULL,                    -- moving share of 429s
  floor429    REAL    NOT NULL,                    -- share found random
  srtt_ms     REAL    NOT NULL,                    -- smoothed round trip
  ok_per_min  REAL    NOT NULL,                    -- successes a minute
  shared      INTEGER NOT NULL,                    -- spent-limit events
  ok          INTEGER NOT NULL                     -- successes that run
) STRICT;

CREATE TABLE IF NOT EXISTS model_calib (
  provider    TEXT    NOT NULL,
  model       TEXT    NOT NULL,
  updated_at  INTEGER NOT NULL,
  est_in      INTEGER NOT NULL,                    -- tokens estimated
  rep_in      INTEGER NOT NULL,                    -- tokens reported
  out_tokens  INTEGER NOT NULL,                    -- output reported
  replies     INTEGER NOT NULL,
  PRIMARY KEY (provider, model)
) STRICT;

-- A model that emits broken JSON gets one more try on the same candidate
-- before the job fails over; the count was read from the candidate's
-- attempts, so a job refused by a 500 and then cut short once died as
-- if the model had failed twice. Its own count.
ALTER TABLE jobs ADD COLUMN cand_invalid INTEGER NOT NULL DEFAULT 0;

-- Requests a run has sent and not yet recorded, as of its last commit:
-- one row per live run, rewritten by its group commits when the set
-- changed. After a kill -9 the run that takes the jobs back records them
-- in the ledger as "lost" at their estimated cost: the provider may have
-- billed them.
CREATE TABLE IF NOT EXISTS inflight (
  owner      TEXT    PRIMARY KEY,
  at         INTEGER NOT NULL,                     -- epoch ms
  requests   TEXT    NOT NULL                      -- JSON: [[job_id, provider, model, nano-dollars], ...]
) STRICT;
