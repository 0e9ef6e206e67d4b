# durability.sh — commits survive a power loss (issue 15, part 3): with
# synchronous=FULL, SQLite syncs the WAL at every commit; nightshift
# commits in groups, so that is one sync per group commit, never one per
# job. An LD_PRELOAD shim (tests/shim/fsync_count.c) logs every fsync and
# fdatasync, NIGHTSHIFT_TRACE=commits every commit. Under
# synchronous=NORMAL the WAL is synced only at checkpoints (a handful in
# a run of hundreds of commits), which fails the first check of each
# command.
. "$(dirname "$0")/lib.sh"
export MOCK_KEY_ENV=sk-test-e2e-0123456789
SHIM=${FSYNC_SHIM:-$(dirname "$MOCK")/fsync_count.so}
if [ ! -f "$SHIM" ]; then
  notok "the fsync shim is built" "$SHIM missing: make $SHIM"; exit 0
fi
# A sanitized binary takes a preloaded library ahead of its runtime.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS

# synced ARGS...: nightshift ARGS with the shim and the commit trace; sets
# rc, syncs (every fsync/fdatasync), wal_syncs (of the -wal file) and
# commits (commits that wrote), and keeps the WAL sizes in $T/frames.
synced() {
  : >"$T/fsync.log"
  FSYNC_COUNT_LOG="$T/fsync.log" NIGHTSHIFT_TRACE=commits \
    LD_PRELOAD="$SHIM" "$NIGHTSHIFT" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  syncs=$(grep -c . "$T/fsync.log")
  wal_syncs=$(grep -c -- '-wal$' "$T/fsync.log")
  commits=$(grep -c '^nightshift: trace: commit (WAL at [0-9]* frames)$' "$T/err")
  sed -n 's/^nightshift: trace: commit (WAL at \([0-9]*\) frames)$/\1/p' "$T/err" >"$T/frames"
}

start_mock
providers_file p.json
jobs_file jobs.jsonl 8000

synced ingest --db d.db jobs.jsonl
expect "ingest: 8,000 jobs in" 0 "enqueued 8000"
check "ingest: its $commits commits traced" test "$commits" -ge 1
check "ingest: the WAL synced at each commit ($wal_syncs syncs, $commits commits)" \
  test "$wal_syncs" -ge "$commits"
check "ingest: a few syncs ($syncs) for 8,000 jobs" test "$syncs" -le 20

synced run --db d.db --providers p.json --no-progress
expect "run: every job done" 0 "8000/8000 done"
check "run: group commits traced ($commits)" test "$commits" -ge 5
check "run: the WAL synced at each commit ($wal_syncs syncs, $commits commits)" \
  test "$wal_syncs" -ge "$commits"
check "run: at most two syncs a commit, checkpoints' included ($syncs for $commits)" \
  test "$syncs" -le $((2 * commits + 8))
# A sync per job would be 8,000. Under ThreadSanitizer the threads run ~10x
# slower and a group commit takes fewer jobs: 180-228 syncs, at bdfbfd0 as
# now, so 40 jobs a sync on average was within its noise; 10 is not.
check "run: never a sync per job ($syncs for 8,000 jobs)" test $((syncs * 10)) -le 8000
check "run: one result per job" test "$(q d.db 'SELECT count(*) FROM results')" = 8000
# The trace's WAL hook stands in for SQLite's autocheckpoint: the WAL
# still goes back to the start once past 1,000 frames.
check "run: the WAL is checkpointed while traced ($(tr "\n" " " <"$T/frames"))" \
  awk 'prev >= 1000 && $1 < prev { reset = 1 } { prev = $1 } END { exit !reset }' "$T/frames"
