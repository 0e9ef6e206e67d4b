-- 002 — drop the ledger's latency index.
--
-- Every request sent inserted an entry at a random place in it (latencies
-- are spread), so each commit of the run loop rewrote about one more page
-- per request: a quarter of the run's SQLite time, for a report that runs
-- once. The report now sorts latencies when it is asked for them.

DROP INDEX IF EXISTS attempts_latency;
