# batch_kill9.sh — kill -9 a run at each step of a batch submission (the
# intent committed; the file uploaded, before and after that is recorded;
# the batch created, before that is recorded) and in the middle of a
# collection, for both batch APIs; the next run must adopt or finish what
# exists, never create a second batch for the same jobs, and pay each job
# once.
. "$(dirname "$0")/../e2e/lib.sh"
export MOCK_KEY_ENV=sk-test-batch-kill-0123456789
# the test build has the kill points ($NIGHTSHIFT_KILL_AT); ./nightshift resumes
: "${NIGHTSHIFT_TBIN:?set NIGHTSHIFT_TBIN to build/.../nightshift-test}"

start_mock --batch-latency 200
prov() {
  if [ "$2" = anthropic ]; then base="http://127.0.0.1:$MOCK_PORT"; else base="http://127.0.0.1:$MOCK_PORT/v1"; fi
  cat >"$1" <<JSON
{"providers": {"mock": {"dialect": "$2", "base_url": "$base",
  "api_key_env": "MOCK_KEY_ENV", "max_inflight": 16, "timeout_s": 20,
  "connect_timeout_s": 1, "batch": {"api": "$2", "max_requests": 5000},
  "models": {"m1": {"input_per_mtok": 0.50, "output_per_mtok": 1.50}}}},
 "routes": {"cheap": ["mock:m1"]}}
JSON
}
# ok_lines_twice: custom_ids of batch lines the mock ran ok more than once
# (a job id is the custom_id's last part, the same across batches).
ok_lines_twice() {
  grep '"kind":"batch_line"' mock.log | grep '"status":200' |
    sed 's/.*"custom_id":"[^"]*-\([0-9]*\)".*/\1/' | sort | uniq -d | head -3
}
creates() { grep -c '"kind":"batch_create"' mock.log; }

jobs_file jobs.jsonl 30
for api in openai anthropic; do
  prov "p-$api.json" $api
  if [ $api = openai ]; then steps="intent upload uploaded create"; else steps="intent create"; fi
  for step in $steps; do
    db="$api-$step.db"; : >mock.log
    NIGHTSHIFT_KILL_AT=$step "$NIGHTSHIFT_TBIN" run --db "$db" --providers "p-$api.json" jobs.jsonl --no-progress >/dev/null 2>&1
    rc=$?
    check "batch kill $api/$step: killed there" test $rc = 137
    check "batch kill $api/$step: database intact" test "$(q "$db" 'PRAGMA integrity_check')" = ok
    made=$(creates)
    run run --db "$db" --providers "p-$api.json" --no-progress
    expect "batch kill $api/$step: the next run finishes" 0
    check "batch kill $api/$step: one batch for the jobs, adopted or created once" test "$(creates)" = 1
    check "batch kill $api/$step: all done, each paid once" \
      test "$(q "$db" "SELECT count(*), sum(lane = 'batch') FROM attempts WHERE error_class = 'ok'")-$(ok_lines_twice)" = "30|30-"
    [ "$step" = create ] && check "batch kill $api/create: the created batch was adopted" test "$made" = 1
  done
done

# mid-collection: more lines than one commit takes
jobs_file big.jsonl 2600
for api in openai anthropic; do
  db="$api-collect.db"; : >mock.log
  NIGHTSHIFT_KILL_AT=collect "$NIGHTSHIFT_TBIN" run --db "$db" --providers "p-$api.json" big.jsonl --no-progress >/dev/null 2>&1
  rc=$?
  part=$(q "$db" 'SELECT count(*) FROM jobs WHERE state = 2')
  check "batch kill $api/collect: killed after a commit of part of the lines" \
    test $rc = 137 -a "$part" -gt 0 -a "$part" -lt 2600
  run run --db "$db" --providers "p-$api.json" --no-progress
  expect "batch kill $api/collect: the next run collects the rest" 0
  check "batch kill $api/collect: each job once in the ledger and in results" \
    test "$(q "$db" "SELECT count(*), count(DISTINCT job_id) FROM attempts")-$(q "$db" 'SELECT count(*) FROM results')-$(creates)" = "2600|2600-2600-1"
done
stop_mock
