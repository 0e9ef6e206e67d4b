# two_runs.sh — two `nightshift run` processes on one database at once, as
# when cron starts a run before the last one ended: every job is done
# exactly once and requested once; and with replies slower than a lease
# (the test build's lease, $NIGHTSHIFT_LEASE_MS, cut to 2 s against 20 s
# replies) the first run keeps renewing its leases and the second run,
# started when an unrenewed lease would have expired, takes none of them.
# Also two `run FILE` at once on a new database, and an ingest into a
# running queue: a run decodes the jobs another process queued with a
# dictionary it trained after the run opened the file. And a run killed
# next to another: the live one takes back and finishes its jobs.
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

# 2. Two `run FILE` at once on a new database: one ingests (and trains
# the body dictionary), the other finds the jobs queued and claims some.
rm -f mock.log
start_mock --latency 10-60 --seed 4
providers_file p.json
"$NIGHTSHIFT" run --db f.db --providers p.json --max-inflight 32 --no-progress jobs.jsonl >a.out 2>&1 &
a=$!
"$NIGHTSHIFT" run --db f.db --providers p.json --max-inflight 32 --no-progress jobs.jsonl >b.out 2>&1 &
b=$!
wait $a; ra=$?; wait $b; rb=$?
stop_mock
check "two run FILE: both exit cleanly ($ra, $rb)$(grep -h cannot a.out b.out | head -1 | sed "s/^/: /")" \
  test "$ra" = 0 -a "$rb" = 0 -o "$ra" = 0 -a "$rb" = 4 -o "$ra" = 4 -a "$rb" = 0
check "two run FILE: every job once, done once, requested once" \
  test "$(q f.db 'SELECT count(*), sum(state = 2) FROM jobs')-$(q f.db 'SELECT count(DISTINCT job_id) FROM results')-$(ids mock.log | sort -u | wc -l)-$(grep -c . mock.log)" = "$N|$N-$N-$N-$N"

# 3. An ingest into a queue a run is draining, deterministically: the
# run opens a queue that has no body dictionary yet and holds a few slow
# jobs (their own provider, 3 s replies); meanwhile an ingest queues
# 3,000 more, training the dictionary; the run claims and sends those too.
rm -f mock.log
start_mock --latency 0-20 --seed 6
mock_as slow --latency 3000
cat >p2.json <<JSON
{"providers": {"mock": {"dialect": "openai", "base_url": "http://127.0.0.1:$MOCK_PORT/v1",
  "api_key_env": "MOCK_KEY_ENV", "max_inflight": 64, "timeout_s": 20,
  "models": {"m1": {"input_per_mtok": 0.50, "output_per_mtok": 1.50}}},
  "slow": {"dialect": "openai", "base_url": "http://127.0.0.1:$slow_PORT/v1",
  "api_key_env": "MOCK_KEY_ENV", "max_inflight": 64, "timeout_s": 20,
  "models": {"m1": {"input_per_mtok": 0.50, "output_per_mtok": 1.50}}}},
 "routes": {"cheap": ["mock:m1"]}}
JSON
i=1; while [ $i -le 8 ]; do
  printf '{"custom_id":"slow-%s","body":{"model":"slow:m1","messages":[{"role":"user","content":"wait %s"}],"max_tokens":5}}\n' $i $i
  i=$((i + 1)); done >slow8.jsonl
jobs_file more.jsonl 3000
run ingest --db g.db slow8.jsonl
"$NIGHTSHIFT" run --db g.db --providers p2.json --no-progress >a.out 2>&1 &
a=$!
sleep 0.5
run ingest --db g.db more.jsonl
expect "ingest into a running queue: queued, with a body dictionary" 0 "enqueued 3000"
wait $a; ra=$?
stop_mock; kill "$slow_PID" 2>/dev/null
check "ingest into a running queue: the run sent the new jobs too and ended well ($ra)$(grep -h cannot a.out | head -1 | sed "s/^/: /")" \
  test "$ra-$(q g.db 'SELECT count(*) FROM dicts WHERE kind = '"'body'")-$(q g.db 'SELECT sum(state = 2) FROM jobs')" = "0-1-3008"
check "ingest into a running queue: each new job requested once" \
  test "$(ids mock.log | sort -u | wc -l)-$(grep -c . mock.log)" = "3000-3000"

# 4. Two runs, and the first is killed (kill -9) while the second works:
# once the second has sent everything queued, it takes back the dead
# run's jobs and finishes them, repeating only what that run had in
# flight or answered uncommitted (at most its --max-inflight of 16, plus
# the few answered since its last commit).
rm -f mock.log
start_mock --latency 100-300 --seed 8
providers_file p.json
jobs_file k.jsonl 600
run ingest --db k.db k.jsonl
"$NIGHTSHIFT" run --db k.db --providers p.json --max-inflight 16 --no-progress >a.out 2>&1 &
a=$!
sleep 0.3
"$NIGHTSHIFT" run --db k.db --providers p.json --max-inflight 16 --no-progress >b.out 2>&1 &
b=$!
sleep 1
kill -9 $a; wait $a 2>/dev/null
held=$(q k.db "SELECT count(*) FROM jobs WHERE state = 1 AND lease_owner LIKE '%:$a:%'")
wait $b; rb=$?
stop_mock
check "a run killed next to another: it held jobs ($held)" test "$held" -gt 0
check "a run killed next to another: the other takes them back and finishes ($rb)" \
  sh -c "[ $rb = 0 ] && grep -q 'took back $held jobs' b.out"
check "a run killed next to another: every job done, one result each" \
  test "$(q k.db 'SELECT sum(state = 2) FROM jobs')-$(q k.db 'SELECT count(*), count(DISTINCT job_id) FROM results')" = "600-600|600"
rep=$(ids mock.log | sort | uniq -d | wc -l)
check "a run killed next to another: every job requested, $rep again (at most 16 + 8)" \
  test "$(ids mock.log | sort -u | wc -l)" = 600 -a "$rep" -le 24
check "a run killed next to another: what it had in flight is in the ledger as lost" \
  test "$(q k.db "SELECT count(*) FROM attempts WHERE error_class = 'lost'")" -gt 0

rm -f mock.log

# 5. Replies (20 s) far slower than a lease (2 s): the first run renews
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
