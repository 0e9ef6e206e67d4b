-- 005 — the ledger says how each request's cost was found.
--
-- A reply without usable usage (none, negative, not a number) was priced
-- at $0, so a provider that leaves usage out could run past --max-cost
-- with the database's spend still $0; and a reply claiming more tokens
-- than its request allowed (1e15 of them) was priced as claimed and
-- wrapped the budget. Such a request is now charged its worst case (the
-- budget's reservation), at least, and flagged here for the report:
-- 'reported' (the provider's usage at its word), 'estimated' (billed, no
-- usable usage: the worst case) or 'suspect' (usage beyond what the
-- request allowed, kept as reported, charged at least the worst case).
-- Rows written before this are what they were: as reported.

-- The CHECK is spelled as comparisons, not IN (...): SQLite builds an
-- ephemeral index for an IN list each time the INSERT runs (a page
-- allocated and cleared), which made every ledger row cost 6x its
-- instructions: 30,000 more a request.
ALTER TABLE attempts ADD COLUMN cost_basis TEXT NOT NULL DEFAULT 'reported'
  CHECK (cost_basis = 'reported' OR cost_basis = 'estimated' OR
         cost_basis = 'suspect');
