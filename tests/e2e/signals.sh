# signals.sh — SIGTERM/SIGINT stop a run cleanly (exit 4, resumable), a
# second signal stops it at once, SIGHUP and SIGQUIT stop it as cleanly,
# SIGUSR1/SIGUSR2 print the progress line and the run goes on, and a full
# disk stops it with "disk full" and nothing lost.
. "$(dirname "$0")/lib.sh"
export MOCK_KEY_ENV=sk-test-signal-0123456789

start_mock --latency 400
providers_file p.json
jobs_file jobs.jsonl 150
run ingest --db s.db jobs.jsonl
"$NIGHTSHIFT" run --db s.db --providers p.json --max-inflight 20 >"$T/out" 2>"$T/err" &
pid=$!
sleep 1.2
kill -TERM $pid
t0=$(date +%s)
wait $pid; rc=$?
t1=$(date +%s)
expect "SIGTERM: exit 4 with work left" 4 "stopping" "run again to resume"
check "SIGTERM: in-flight requests finished quickly" test $((t1 - t0)) -le 5
check "SIGTERM: nothing left running" test "$(q s.db 'SELECT count(*) FROM jobs WHERE state = 1')" = 0
check "SIGTERM: some done, the rest queued" test "$(q s.db 'SELECT (SELECT count(*) FROM jobs WHERE state = 2) > 0 AND (SELECT count(*) FROM jobs WHERE state = 0) > 0')" = 1
check "SIGTERM: every answered request has its result" test "$(q s.db 'SELECT count(*) FROM results')" = "$(q s.db 'SELECT count(*) FROM jobs WHERE state = 2')"
run run --db s.db --providers p.json --max-inflight 50
expect "after SIGTERM the next run finishes" 0 "done"
check "after SIGTERM: one result per job" test "$(q s.db 'SELECT count(*), count(DISTINCT job_id) FROM results')" = "150|150"
stop_mock; rm -f mock.log

# a second signal: requests that would hang are given up at once
start_mock --fault hang=1 --hang-ms 30000
providers_file p.json 60
jobs_file jobs.jsonl 10
run ingest --db h.db jobs.jsonl
"$NIGHTSHIFT" run --db h.db --providers p.json >"$T/out" 2>"$T/err" &
pid=$!
sleep 1
kill -INT $pid; sleep 0.5; kill -INT $pid
t0=$(date +%s); wait $pid; rc=$?; t1=$(date +%s)
expect "second signal: exit 4 at once" 4 "run again to resume"
check "second signal: did not wait for the hung requests" test $((t1 - t0)) -le 3
check "second signal: leases released" test "$(q h.db 'SELECT count(*) FROM jobs WHERE state = 0 AND lease_owner IS NULL')" = 10
# the ten hung requests were sent: each is a ledger row, counted on its job
check "second signal: every request sent is in the ledger" test "$(q h.db "SELECT count(*), count(DISTINCT job_id) FROM attempts WHERE error_class = 'aborted' AND action = 'retry'")" = "10|10"
check "second signal: the given-up request counts on its job" test "$(q h.db 'SELECT count(*) FROM jobs WHERE attempts = 1')" = 10
# it may be billed: its worst case, as an estimate, in the job's spend
check "second signal: given up, it costs its worst case (estimated)" test "$(q h.db "SELECT count(*) FROM attempts WHERE error_class = 'aborted' AND cost_basis = 'estimated' AND cost_usd > 0")" = 10
check "second signal: the jobs' spend is the ledger's" test "$(q h.db "SELECT abs((SELECT total(spent_usd) FROM jobs) - (SELECT total(cost_usd) FROM attempts)) < 1e-12")" = 1
stop_mock; rm -f mock.log

# a signal while the deadline already stops the run is not swallowed: it
# says so (and the earlier end holds)
start_mock --fault hang=1 --hang-ms 30000
providers_file p.json
jobs_file jobs.jsonl 5
run ingest --db dl.db jobs.jsonl
"$NIGHTSHIFT" run --db dl.db --providers p.json --max-runtime 4s --no-progress >"$T/out" 2>"$T/err" &
pid=$!
sleep 3
kill -INT $pid
t0=$(date +%s); wait $pid; rc=$?; t1=$(date +%s)
expect "signal after the deadline's stop: said, exit 4" 4 "time is up" "stopping: no new requests"
check "signal after the deadline's stop: the deadline still ends it" test $((t1 - t0)) -le 3
stop_mock; rm -f mock.log

# SIGHUP (a closed terminal or ssh session) and SIGQUIT stop the run as
# SIGTERM does; SIGUSR1 and SIGUSR2 print the progress line and the run goes
# on. Never the default action (death like kill -9: jobs left leased, paid
# replies unrecorded and sent again). Whatever the signal, after a resume
# every job has one result and every request the mock served is a ledger
# row.
for sig in HUP QUIT USR1 USR2; do
  start_mock --latency 400
  providers_file p.json
  jobs_file jobs.jsonl 150
  run ingest --db "$sig.db" jobs.jsonl
  "$NIGHTSHIFT" run --db "$sig.db" --providers p.json --max-inflight 20 >"$T/out" 2>"$T/err" &
  pid=$!
  sleep 1.2
  kill -"$sig" $pid
  sleep 0.3
  if kill -0 $pid 2>/dev/null; then alive=1; else alive=0; fi
  wait $pid; rc=$?
  case $sig in
  HUP|QUIT)
    expect "SIG$sig: a clean stop, exit 4" 4 "stopping" "run again to resume"
    check "SIG$sig: some done, the rest queued" test "$(q "$sig.db" 'SELECT (SELECT count(*) FROM jobs WHERE state = 2) > 0 AND (SELECT count(*) FROM jobs WHERE state = 0) > 0')" = 1 ;;
  USR1|USR2)
    expect "SIG$sig: the run goes on to the end" 0 "150/150 done"
    check "SIG$sig: still running after it" test "$alive" = 1
    # the start line, the signal's progress line and the last one
    check "SIG$sig: prints the progress line" test "$(grep -c '/150 done' "$T/err")" -ge 2 ;;
  esac
  check "SIG$sig: no job left leased" test "$(q "$sig.db" 'SELECT count(*) FROM jobs WHERE state = 1 OR lease_owner IS NOT NULL')" = 0
  run run --db "$sig.db" --providers p.json --max-inflight 50
  check "SIG$sig: the resume ends the work" test "$rc" = 0
  check "SIG$sig: one result per job" test "$(q "$sig.db" 'SELECT count(*), count(DISTINCT job_id) FROM results')" = "150|150"
  stop_mock
  check "SIG$sig: every request the mock served is in the ledger" test "$(q "$sig.db" 'SELECT count(*) FROM attempts')" = "$(grep -c . mock.log)"
  rm -f mock.log
done

# a full disk during a run: "disk full", exit 1, intact, resumable. As any
# user: the fault shim (tests/shim/iofault.c) makes SQLite's writes fail
# with SQLITE_FULL from the Nth on, N a third of the writes a whole run
# makes (counted on a copy), so the disk fills mid-run.
SHIM=${IOFAULT_SHIM:-$(dirname "$MOCK")/iofault.so}
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS
if [ -f "$SHIM" ]; then
  start_mock
  providers_file p.json
  jobs_file jobs.jsonl 400
  run ingest --db full.db jobs.jsonl
  cp full.db count.db
  rm -f "$T/flog"
  NS_FAULT_LOG="$T/flog" LD_PRELOAD="$SHIM" "$NIGHTSHIFT" run --db count.db --providers p.json --max-inflight 16 >"$T/out" 2>"$T/err"
  writes=$(sed -n 's/^write \([0-9]*\) .*/\1/p' "$T/flog")
  check "disk-full run (shim): its writes are counted ($writes)" test "${writes:-0}" -ge 6
  rm -f "$T/flog"
  NS_FAULT="full:$((writes / 3))" NS_FAULT_LOG="$T/flog" LD_PRELOAD="$SHIM" \
    "$NIGHTSHIFT" run --db full.db --providers p.json --max-inflight 16 >"$T/out" 2>"$T/err"
  rc=$?
  expect "disk-full run (shim): stops with disk full, exit 1" 1 "disk full" "run again to resume"
  check "disk-full run (shim): database intact" test "$(q full.db 'PRAGMA integrity_check')" = ok
  last=$(grep -o '[0-9]*/400 done' "$T/err" | tail -1 | cut -d/ -f1)
  check "disk-full run (shim): its last count ($last) is what was kept" \
    test "$last" = "$(q full.db 'SELECT count(*) FROM results')"
  check "disk-full run (shim): some work was kept before the disk filled" test "${last:-0}" -gt 0
  run run --db full.db --providers p.json
  expect "disk-full run (shim): with room again the run finishes" 0 "done"
  check "disk-full run (shim): one result per job" test "$(q full.db 'SELECT count(*), count(DISTINCT job_id) FROM results')" = "400|400"
  stop_mock
else
  notok "the fault shim is built" "$SHIM missing: make $SHIM"
fi
# The same on a real file system that fills up (SQLite's own ENOSPC path,
# which the shim stands in for); needs root to mount a small tmpfs.
if [ "$(id -u)" = 0 ] && mkdir -p "$T/small" && mount -t tmpfs -o size=8m tmpfs "$T/small" 2>/dev/null; then
  cleanup_hooks="$cleanup_hooks umount '$T/small' 2>/dev/null;"
  start_mock
  providers_file p.json
  jobs_file jobs.jsonl 400
  run ingest --db "$T/small/f.db" jobs.jsonl
  expect "disk-full run: ingest fits" 0 "enqueued 400"
  # fill most of what is left so results cannot all fit
  avail=$(df -k "$T/small" | awk 'NR == 2 { print $4 }')
  dd if=/dev/zero of="$T/small/filler" bs=1k count=$((avail - 150)) 2>/dev/null
  run run --db "$T/small/f.db" --providers p.json
  expect "disk-full run: stops with disk full, exit 1" 1 "disk full" "run again to resume"
  check "disk-full run: database intact" test "$(q "$T/small/f.db" 'PRAGMA integrity_check')" = ok
  # the last progress line counts what was committed, not what was lost
  last=$(grep -o '[0-9]*/400 done' "$T/err" | tail -1 | cut -d/ -f1)
  check "disk-full run: its last count is what was kept" \
    test "$last" = "$(q "$T/small/f.db" 'SELECT count(*) FROM results')"
  rm -f "$T/small/filler"
  run run --db "$T/small/f.db" --providers p.json
  expect "disk-full run: with room again the run finishes" 0 "done"
  check "disk-full run: one result per job" test "$(q "$T/small/f.db" 'SELECT count(*), count(DISTINCT job_id) FROM results')" = "400|400"
  stop_mock
  umount "$T/small"
else
  skip "disk-full run on a small tmpfs (needs root to mount it; the shim's checks above ran)"
fi
