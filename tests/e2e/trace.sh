# trace.sh — NIGHTSHIFT_TRACE=states: every job-state change of real
# commands (ingest, run with retries and with dead jobs, retry, a run
# stopped with jobs in flight) is a trace line naming its move, and the
# transition table refuses none of them.
. "$(dirname "$0")/lib.sh"
export MOCK_KEY_ENV=sk-test-e2e-0123456789

# traced N PATTERN: how many trace lines of the last command end in PATTERN
traced() { grep -c "^nightshift: trace: job [0-9]* $1\$" "$T/err"; }

# --- ingest, then a run where every job's first request fails (500)
start_mock --fail-first 1=500
providers_file p.json
jobs_file jobs.jsonl 20
NIGHTSHIFT_TRACE=states run ingest --db t.db jobs.jsonl
expect "traced ingest exits 0" 0 "enqueued 20"
check "ingest: each job born queued" test "$(traced 'new -> queued (ingest)')" = 20
NIGHTSHIFT_TRACE=states run run --db t.db --providers p.json --no-progress
expect "traced run: every job succeeds" 0 "20/20 done"
check "run: each job leased twice" test "$(traced 'queued -> running (lease)')" = 40
check "run: each job sent back once for its retry" test "$(traced 'running -> queued (retry)')" = 20
check "run: each job finished done" test "$(traced 'running -> done (finish)')" = 20
check "run: every trace line names a move the table has" test "$(grep -c '^nightshift: trace:' "$T/err")" = 80
check "run: no change refused" sh -c "! grep -q 'refused\|no move named' '$T/err'"
stop_mock; rm -f mock.log

# --- jobs that die (a content filter with no other candidate), then
# `nightshift retry` requeues them and a second run finishes them
start_mock --fail-first 1=moderation
providers_file p.json
jobs_file jobs.jsonl 5
run ingest --db d.db jobs.jsonl
NIGHTSHIFT_TRACE=states run run --db d.db --providers p.json --no-progress
expect "traced run: the filtered jobs are dead" 3 "5 jobs dead"
check "run: each job finished dead" test "$(traced 'running -> dead (finish)')" = 5
NIGHTSHIFT_TRACE=states run retry --db d.db --failed
expect "traced retry exits 0" 0
check "retry: each dead job requeued" test "$(traced 'dead -> queued (requeue)')" = 5
NIGHTSHIFT_TRACE=states run run --db d.db --providers p.json --no-progress
expect "traced run after retry: all done" 0 "5/5 done"
check "run after retry: each job finished done" test "$(traced 'running -> done (finish)')" = 5
check "retry and runs: no change refused" sh -c "! grep -q 'refused\|no move named' '$T/err'"
stop_mock; rm -f mock.log

# --- a run stopped while its requests hang: what it holds goes back
start_mock --fault hang=1 --hang-ms 5000
providers_file p.json
jobs_file jobs.jsonl 5
run ingest --db s.db jobs.jsonl
NIGHTSHIFT_TRACE=states run run --db s.db --providers p.json --no-progress --max-runtime 1s
expect "traced run stopped by --max-runtime exits 4" 4 "stopped for the --max-runtime"
check "stopped run: leased jobs go back queued" test "$(($(traced 'running -> queued (retry)') + $(traced 'running -> queued (release)') + $(traced 'running -> queued (release_all)')))" -ge 5
check "stopped run: no change refused" sh -c "! grep -q 'refused\|no move named' '$T/err'"
check "stopped run: every job is queued again" test "$(q s.db 'SELECT count(*) FROM jobs WHERE state = 0')" = 5
stop_mock
