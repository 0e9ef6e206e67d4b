# two_runs.sh — two `nightshift run` processes on one database at once, as
# when cron starts a run before the last one ended: every job is done
# exactly once and requested once; and with replies slower than a lease
# (the test build's lease, $NIGHTSHIFT_LEASE_MS, cut to 2 s against 20 s
# replies) the first run keeps renewing its leases and the second run,
# started when an unrenewed lease would have expired, takes none of them.
. "$(dirname "$0")/../e2e/lib.sh"
export MOCK_KEY_ENV=sk-test-two-runs-0123456789
: "${NIGHTSHIFT_TBIN:?set NIGHTSHIFT_TBIN to build/.../nightshift-test}"

# ids: custom_ids the mock logged, one a line (a request each).
ids() { sed -n 's/.*"client_request_id":"\([^"]*\)".*/\1/p' "$1"; }

# 1. Started together (the second 0.3 s later), fast replies: the runs
# share the queue.
N=2000
start_mock --latency 10-60 --seed 3
providers_file p.json
jobs_file jobs.jsonl $N
run ingest --db t.db jobs.jsonl
"$NIGHTSHIFT" run --db t.db --providers p.json --max-inflight 32 --no-progress >a.out 2>&1 &
a=$!
# the second a moment later, when the first holds leases it must keep
sleep 0.3
"$NIGHTSHIFT" run --db t.db --providers p.json --max-inflight 32 --no-progress >b.out 2>&1 &
b=$!
wait $a; ra=$?; wait $b; rb=$?
stop_mock
# The run that ends first may leave jobs the other still holds: exit 4
# ("run again"); the other ends with everything done.
check "two runs: both exit cleanly ($ra, $rb)" \
  test "$ra" = 0 -a "$rb" = 0 -o "$ra" = 0 -a "$rb" = 4 -o "$ra" = 4 -a "$rb" = 0
check "two runs: both did work" \
  test "$(q t.db 'SELECT count(DISTINCT run_id) FROM attempts')" = 2
check "two runs: every job done, one result each" \
  test "$(q t.db 'SELECT count(*) FROM jobs WHERE state = 2')-$(q t.db 'SELECT count(*), count(DISTINCT job_id) FROM results')" = "$N-$N|$N"
check "two runs: every job requested exactly once ($(grep -c . mock.log) requests)" \
  test "$(ids mock.log | sort -u | wc -l)-$(ids mock.log | sort | uniq -d | wc -l)-$(grep -c . mock.log)" = "$N-0-$N"
check "two runs: one ledger row per request" \
  test "$(q t.db 'SELECT count(*), count(DISTINCT job_id) FROM attempts')" = "$N|$N"
check "two runs: nothing left leased" \
  test "$(q t.db 'SELECT count(*) FROM jobs WHERE lease_owner IS NOT NULL')" = 0
rm -f mock.log

# 2. Replies (20 s) far slower than a lease (2 s): the first run renews
# its leases; the second, started 5 s later (two leases), must find them
# live and take nothing back. Without renewal it would send all the jobs
# again. Bounded: the replies end at ~20 s and ~25 s.
N=8
start_mock --latency 20000
providers_file p.json 60
jobs_file slow.jsonl $N
run ingest --db s.db slow.jsonl
export NIGHTSHIFT_LEASE_MS=2000
t0=$(date +%s)
"$NIGHTSHIFT_TBIN" run --db s.db --providers p.json --no-progress >a.out 2>&1 &
a=$!
sleep 5
now_ms() { q s.db "SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"; }
live=$(q s.db "SELECT count(*) FROM jobs WHERE state = 1 AND lease_expires > $(now_ms)")
"$NIGHTSHIFT_TBIN" run --db s.db --providers p.json --no-progress >b.out 2>&1 &
b=$!
wait $b; rb=$?; wait $a; ra=$?
t1=$(date +%s)
unset NIGHTSHIFT_LEASE_MS
stop_mock
check "slow replies: the first run's leases were renewed past their 2 s ($live of $N live at 5 s)" test "$live" = $N
check "slow replies: the second run took back nothing, and says whose the jobs are" \
  sh -c "! grep -q 'took back' b.out && grep -q '$N jobs are held by another run' b.out"
check "slow replies: each job requested once ($(grep -c . mock.log) requests)" \
  test "$(ids mock.log | sort -u | wc -l)-$(grep -c . mock.log)" = "$N-$N"
check "slow replies: all done by the first run, one result each" \
  test "$(q s.db 'SELECT count(*) FROM jobs WHERE state = 2')-$(q s.db 'SELECT count(*), count(DISTINCT job_id) FROM results')-$(q s.db 'SELECT count(DISTINCT run_id) FROM attempts')" = "$N-$N|$N-1"
check "slow replies: the first run ends 0, the second 4 (the jobs were another run's) ($ra, $rb)" \
  test "$ra-$rb" = "0-4"
check "slow replies: bounded in time ($((t1 - t0)) s)" test $((t1 - t0)) -lt 45
