-- queue.sql — schema version 1 of the nightshift queue.
--
-- To change the schema: never edit this file once released; add
-- schema/migrations/NNN_what.sql (NNN = the version it produces, 002 next).
-- The build embeds every file in order and the version is their count, so
-- adding a file bumps PRAGMA user_version; keep the upgrade test passing.
--
-- Times are Unix epoch milliseconds. Job states: 0 queued, 1 running
-- (leased), 2 done, 3 dead.

CREATE TABLE jobs (
  id                INTEGER PRIMARY KEY,
  custom_id         TEXT    NOT NULL UNIQUE,
  state             INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 3),
  priority          INTEGER NOT NULL DEFAULT 0,
  attempts          INTEGER NOT NULL DEFAULT 0,     -- requests sent, all candidates
  candidate         INTEGER NOT NULL DEFAULT -1,    -- current candidate (config order), -1 none yet
  cand_attempts     INTEGER NOT NULL DEFAULT 0,     -- requests sent to that candidate
  cand_exhausted    INTEGER NOT NULL DEFAULT 0,     -- bit i: candidate i failed over from
  not_before        INTEGER NOT NULL DEFAULT 0,   -- backoff: not claimable before
  lease_owner       TEXT,                          -- "host:pid:run" while running
  lease_expires     INTEGER,
  body_hash         INTEGER NOT NULL,              -- detects a changed re-ingest
  request           BLOB    NOT NULL,              -- zstd frame of the body JSON
  est_input_tokens  INTEGER NOT NULL,
  max_output_tokens INTEGER NOT NULL,              -- 0 = not given in the job
  max_cost_usd      REAL,
  providers         TEXT,                          -- JSON array allow-list or NULL
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  last_error        TEXT
) STRICT;

-- "Next ready job": only queued rows are indexed, so the index stays as
-- small as the backlog and claiming never scans finished work.
CREATE INDEX jobs_ready ON jobs (priority DESC, not_before, id) WHERE state = 0;
-- Expired leases are found without a scan when a run resumes.
CREATE INDEX jobs_leased ON jobs (lease_expires) WHERE state = 1;

-- At most one result per job: the primary key is the job.
CREATE TABLE results (
  job_id       INTEGER PRIMARY KEY REFERENCES jobs (id),
  provider     TEXT,
  model        TEXT,
  status_code  INTEGER,
  request_id   TEXT,
  body         BLOB,                               -- zstd frame of the reply
  error_code   TEXT,
  error_message TEXT,
  attempts     INTEGER NOT NULL,
  cost_usd     REAL    NOT NULL DEFAULT 0,
  cost_ref_usd REAL,                               -- same tokens on the route's dearest candidate
  latency_ms   INTEGER,
  finished_at  INTEGER NOT NULL
) STRICT;

-- The ledger: one row per request sent, whatever became of it.
CREATE TABLE attempts (
  id             INTEGER PRIMARY KEY,
  job_id         INTEGER NOT NULL REFERENCES jobs (id),
  run_id         TEXT    NOT NULL,
  provider       TEXT    NOT NULL,
  model          TEXT    NOT NULL,
  sent_at        INTEGER NOT NULL,
  http_status    INTEGER,
  error_class    TEXT    NOT NULL,                 -- "ok" or an outcome class
  action         TEXT,                             -- what followed: done, retry, failover, dead, park
  latency_ms     INTEGER NOT NULL,
  tokens_in      INTEGER NOT NULL DEFAULT 0,       -- uncached input
  tokens_cached  INTEGER NOT NULL DEFAULT 0,       -- cache-read input
  tokens_cache_write INTEGER NOT NULL DEFAULT 0,
  tokens_out     INTEGER NOT NULL DEFAULT 0,       -- output excluding reasoning
  tokens_reasoning INTEGER NOT NULL DEFAULT 0,
  cost_usd       REAL    NOT NULL DEFAULT 0
) STRICT;

-- Per-provider reports; latency last so p50/p95/p99 walk the index in
-- order instead of sorting the ledger.
CREATE INDEX attempts_latency ON attempts (provider, model, latency_ms);
CREATE INDEX attempts_job ON attempts (job_id);

-- Provider-level events of a run: circuit trips, disabled providers,
-- pauses after a 429. For the report; one row per event, not per job.
CREATE TABLE events (
  id         INTEGER PRIMARY KEY,
  run_id     TEXT    NOT NULL,
  at         INTEGER NOT NULL,
  provider   TEXT    NOT NULL,
  kind       TEXT    NOT NULL,                     -- breaker_open, disabled, paused
  detail     TEXT
) STRICT;

CREATE INDEX events_provider ON events (provider, kind);

-- zstd dictionaries, referenced by id from every frame that uses one.
CREATE TABLE dicts (
  id         INTEGER PRIMARY KEY,                  -- the zstd dictionary id
  kind       TEXT    NOT NULL CHECK (kind IN ('body', 'result')),
  data       BLOB    NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
