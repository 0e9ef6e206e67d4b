-- 007 — provider batch lanes (DESIGN.md "Lanes").
--
-- A job may choose its lane (jobs.lane: 0 auto, 1 sync, 2 batch, from the
-- job line's "nightshift": {"lane": ...}). A job inside a provider batch is
-- running under the lease owner 'batch' with batch_id naming the batch; the
-- batch row is the intent, committed with that mapping before the create
-- call, so a run restarted after kill -9 at any step finds what it may have
-- created and never submits the same job again while a batch holding it
-- lives. Ledger rows and results say which lane served them.

ALTER TABLE jobs ADD COLUMN lane INTEGER NOT NULL DEFAULT 0
  CHECK (lane >= 0 AND lane <= 2);
ALTER TABLE jobs ADD COLUMN batch_id INTEGER;
CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (batch_id)
  WHERE batch_id IS NOT NULL;

ALTER TABLE attempts ADD COLUMN lane TEXT NOT NULL DEFAULT 'sync'
  CHECK (lane = 'sync' OR lane = 'batch');
-- what a batch line would have cost at the model's sync price (NULL: the
-- row's own cost), for the report's saving
ALTER TABLE attempts ADD COLUMN cost_sync_usd REAL;
ALTER TABLE results ADD COLUMN lane TEXT;

CREATE TABLE IF NOT EXISTS batches (
  id           INTEGER PRIMARY KEY,
  tag          TEXT    NOT NULL UNIQUE,        -- nightshift's id for it, in its metadata and custom_ids
  provider     TEXT    NOT NULL,
  model        TEXT    NOT NULL,
  state        INTEGER NOT NULL,               -- 0 intent, 1 uploaded, 2 live, 3 collected, 4 dropped
  file_id      TEXT,                           -- the uploaded input file (Files + Batches)
  remote_id    TEXT,                           -- the provider's batch id
  status       TEXT,                           -- the provider's last word on it
  requests     INTEGER NOT NULL,
  bytes        INTEGER NOT NULL DEFAULT 0,
  reserved_usd REAL    NOT NULL DEFAULT 0,     -- its worst case, held against --max-cost
  created_at   INTEGER NOT NULL,               -- intent committed, epoch ms
  submitted_at INTEGER,                        -- the create answered
  ended_at     INTEGER,                        -- the provider ended it
  collected_at INTEGER,
  cancel_at    INTEGER,                        -- nightshift asked to cancel it
  done         INTEGER NOT NULL DEFAULT 0,     -- lines succeeded, as last polled
  failed       INTEGER NOT NULL DEFAULT 0,     -- lines errored, as last polled
  owner        TEXT    NOT NULL                -- the run that created it
) STRICT;

CREATE INDEX IF NOT EXISTS batches_open ON batches (state) WHERE state < 3;
CREATE INDEX IF NOT EXISTS batches_turnaround ON batches (provider, ended_at)
  WHERE ended_at IS NOT NULL;

-- Jobs a batch line sent back for another batch (not_before =
-- CLAIM_LANE_WAIT, queue/claim.h), found without reading the queue.
CREATE INDEX IF NOT EXISTS jobs_lane_wait ON jobs (id)
  WHERE state = 0 AND not_before = 4611686018427387905;
