# batch.sh — the provider batch lanes end to end against the mock's batch
# APIs: every job done once at the batch price (Files + Batches and
# Message Batches), line failures retried in a new batch, an expiry's
# unfinished lines redone once, a stuck batch cancelled before the
# deadline and finished synchronously, --submit-only then a collecting
# run, --lane sync and a job's own lane, and what status, report and
# export say of it.
. "$(dirname "$0")/lib.sh"
export MOCK_KEY_ENV=sk-test-batch-0123456789

# prov FILE API [MAX_REQUESTS] [DIALECT]: provider "mock" with a batch lane.
prov() {
  if [ "${4:-openai}" = anthropic ]; then base="http://127.0.0.1:$MOCK_PORT"; else base="http://127.0.0.1:$MOCK_PORT/v1"; fi
  cat >"$1" <<JSON
{"providers": {"mock": {"dialect": "${4:-openai}", "base_url": "$base",
  "api_key_env": "MOCK_KEY_ENV", "max_inflight": 16, "timeout_s": 20,
  "connect_timeout_s": 1, "max_retries": 3,
  "batch": {"api": "$2", "max_requests": ${3:-4}},
  "models": {"m1": {"input_per_mtok": 0.50, "output_per_mtok": 1.50}}}},
 "routes": {"cheap": ["mock:m1"]}}
JSON
}
# lines_ok JOBROWID: successful batch lines the mock ran for that job.
lines_ok() { grep '"kind":"batch_line"' mock.log | grep -c "\"custom_id\":\"[^\"]*-$1\",\"status\":200"; }
# once DB: every job's line ran ok exactly once (prints the first that did not).
once() {
  for id in $(q "$1" 'SELECT id FROM jobs ORDER BY id'); do
    n=$(lines_ok "$id"); [ "$n" = 1 ] || { echo "job row $id: $n ok lines"; return 1; }
  done
}
sync_calls() { grep -c '"path":"/v1/chat/completions"' mock.log; }

# ---- 1. Files + Batches: all done once, at half price, no sync call
start_mock --batch-latency 200
prov p.json openai
jobs_file jobs.jsonl 10
run run --db a.db --providers p.json jobs.jsonl --no-progress
expect "batch: a run with no deadline sends every job through the batch lane" 0 \
  "sending 10 jobs through mock's batch lane" "--lane sync to have them now"
check "batch: 3 batches of at most 4 (max_requests)" \
  test "$(grep -c '"kind":"batch_create"' mock.log)" = 3
check "batch: each job's line ran once" once a.db
check "batch: nothing sent synchronously" test "$(sync_calls)" = 0
check "batch: one ledger row per line, lane batch, at half the sync price" \
  test "$(q a.db "SELECT count(*), sum(lane = 'batch'), round(sum(cost_sync_usd) / sum(cost_usd), 6) FROM attempts")" = "10|10|2.0"
check "batch: results say lane batch" \
  test "$(q a.db "SELECT count(*) FROM results WHERE lane = 'batch'")" = 10
run export --db a.db -o -
expect "batch: export says the lane" 0 '"lane":"batch"'
run report --db a.db
expect "batch: report shows the lanes and the saving" 0 "batch                       10" \
  "batch lanes saved" "(50.0%) against sync prices"
check "batch: the turnaround is learned" \
  test "$(q a.db 'SELECT count(*) FROM batches WHERE ended_at IS NOT NULL AND ended_at >= submitted_at')" = 3
run status --db a.db
expect "batch: status says the turnaround learned" 0 "batch lane mock: usually" "median of its last 3 batches"
stop_mock

# ---- 2. Message Batches (Anthropic), one batch of 10
rm -f mock.log; start_mock --batch-latency 200
prov pa.json anthropic 100 anthropic
run run --db b.db --providers pa.json jobs.jsonl --no-progress
expect "batch: Anthropic's Message Batches" 0 "sending 10 jobs through mock's batch lane"
check "batch: Anthropic: one batch, each line once" once b.db
check "batch: Anthropic: at half price" \
  test "$(q b.db "SELECT count(*), round(sum(cost_sync_usd) / sum(cost_usd), 6) FROM attempts WHERE lane = 'batch'")" = "10|2.0"
# a request list of several MB, written out in pieces
prov pa5.json anthropic 5000 anthropic
pad=$(printf '%0400d' 0)
i=1; while [ $i -le 5000 ]; do
  printf '{"custom_id":"big-%s","body":{"model":"cheap","messages":[{"role":"user","content":"Summarize item %s %s"}],"max_tokens":50}}\n' $i $i "$pad"
  i=$((i + 1))
done >j5k.jsonl
run run --db b5.db --providers pa5.json j5k.jsonl --no-progress
expect "batch: Anthropic: a batch of 5,000 requests (a body of several MB)" 0
check "batch: Anthropic: 5,000 done in the batch (its body was valid JSON)" \
  test "$(q b5.db "SELECT count(*) FROM results WHERE lane = 'batch'")" = 5000
stop_mock

# ---- 3. a line that fails is retried, in another batch, and paid once
rm -f mock.log; start_mock --batch-latency 200 --fault-match 'item 3"=500' --fail-first 1=ok
prov p.json openai
jobs_file j5.jsonl 5
run run --db c.db --providers p.json j5.jsonl --no-progress
expect "batch: a line that keeps failing ends dead like a sync request" 3
check "batch: the failing job was tried max_retries + 1 times, each in a batch" \
  test "$(q c.db "SELECT count(*) FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.custom_id = 'job-3' AND a.lane = 'batch' AND a.error_class = 'server_error'")" = 4
check "batch: the others once" \
  test "$(q c.db "SELECT count(*) FROM attempts WHERE error_class = 'ok'")" = 4
stop_mock

# ---- 4. expiry: what finished is kept, the rest redone once. Every
# batch of this mock expires with the first 3/4 of its lines done: 8 jobs
# take batches of 8, 2 and 1 (which never gets a line done: 3/4 of 1).
rm -f mock.log; start_mock --batch-expire-after 300 --batch-partial 0.75 --batch-stuck
prov p.json openai 8
jobs_file j8.jsonl 8
run run --db d.db --providers p.json j8.jsonl --lane batch --max-runtime 6s --no-progress
expect "batch: expired batches' finished lines are kept, the rest go in new batches" 4 \
  "1 jobs wait in provider batches"
check "batch: 7 done after two expiries, each line run ok once, none twice" \
  test "$(q d.db 'SELECT count(*) FROM jobs WHERE state = 2')-$(for id in $(q d.db 'SELECT id FROM jobs'); do lines_ok $id; done | sort | uniq -c | tr -s ' ' | tr '\n' ' ')" = "7- 1 0  7 1 "
check "batch: the unrun lines are in the ledger as expired, at \$0, not attempts" \
  test "$(q d.db "SELECT count(*) >= 3, sum(cost_usd) FROM attempts WHERE error_class = 'expired'")-$(q d.db 'SELECT max(attempts) FROM jobs')" = "1|0.0-1"
stop_mock

# ---- 5. --submit-only, then a run collects
rm -f mock.log; start_mock --batch-latency 1500
prov p.json openai 100
run run --db e.db --providers p.json jobs.jsonl --submit-only --no-progress
expect "batch: --submit-only submits and exits 4" 4 "10 jobs wait in provider batches"
run status --db e.db
expect "batch: status shows the batch" 0 "provider batches" "mock:m1 batch_" "10 requests"
run status --db e.db --json
expect "batch: status --json lists it" 0 '"batches":[{"provider":"mock"'
sleep 1.6
run run --db e.db --providers p.json --no-progress
expect "batch: the next run collects" 0
# the lane collected every job before the workers started: the rate is
# over the run from its start, not over the last millisecond
rate=$(sed -n 's/.* done, .* dead, \([0-9.]*\) jobs\/s.*/\1/p' err | tail -1)
check "batch: the progress rate counts from the run's start ($rate jobs/s)" \
  awk -v r="$rate" 'BEGIN { exit !(r > 0 && r < 5000) }'
check "batch: collected once, none sent again" once e.db
check "batch: no batch submitted twice" test "$(grep -c '"kind":"batch_create"' mock.log)" = 1
stop_mock

# ---- 6. stuck + deadline: cancelled in time, finished synchronously
rm -f mock.log; start_mock --batch-stuck
prov p.json openai 100
# a turnaround learned by an earlier run makes the batch lane fit 15 s
q e.db "UPDATE batches SET ended_at = submitted_at + 1000" >/dev/null
cp e.db f.db
jobs_file j6.jsonl 16
start=$(date +%s)
run run --db f.db --providers p.json j6.jsonl --max-runtime 15s --no-progress
end=$(date +%s)
expect "batch: a stuck batch is cancelled before the deadline and its jobs sent synchronously" 0 \
  "sending 6 jobs through mock's batch lane" "cancelled: what it finished is kept"
check "batch: within the deadline" test $((end - start)) -le 15
check "batch: the cancelled lines in the ledger at \$0, then sync" \
  test "$(q f.db "SELECT count(*) FROM attempts WHERE error_class = 'cancelled' AND cost_usd = 0")-$(q f.db "SELECT count(*) FROM attempts WHERE lane = 'sync' AND error_class = 'ok'")" = "6-6"
stop_mock

# ---- 6b. a batch live an hour past its window is stuck: cancelled, synced
rm -f mock.log; start_mock --batch-stuck
prov p.json openai 100
jobs_file j4.jsonl 4
run run --db o.db --providers p.json j4.jsonl --submit-only --no-progress
expect "batch: a batch submitted" 4 "4 jobs wait in provider batches"
q o.db "UPDATE batches SET submitted_at = submitted_at - 26 * 3600000" >/dev/null
run run --db o.db --providers p.json --no-progress
expect "batch: a batch an hour past its 24 h window is cancelled, its jobs sent sync" 0 \
  "is still not done an hour past its completion window; cancelled"
check "batch: overdue: 4 sync results, 4 cancelled lines at \$0" \
  test "$(q o.db "SELECT count(*) FROM results WHERE lane = 'sync'")-$(q o.db "SELECT count(*) FROM attempts WHERE error_class = 'cancelled' AND cost_usd = 0")" = "4-4"
stop_mock

# ---- 6c. a batch the provider refuses: its jobs go to the sync lane,
# nothing is dead, and the lane is closed for the run (one try, not a loop)
for api in openai anthropic; do
  rm -f mock.log; start_mock --batch-fail-validation
  if [ $api = openai ]; then prov pv.json openai 100; else prov pv.json anthropic 100 anthropic; fi
  run run --db "v-$api.db" --providers pv.json j4.jsonl --no-progress
  expect "batch: $api: a batch refused at validation sends its jobs sync" 0 "sync lane"
  check "batch: $api: refused: 4 sync results, none dead, one create tried" \
    test "$(q "v-$api.db" "SELECT count(*) FROM results WHERE lane = 'sync' AND error_code IS NULL")-$(grep -c '"kind":"batch_create"' mock.log)" = "4-1"
  stop_mock
done

# ---- 7. --lane sync, and a job's own lane
rm -f mock.log; start_mock --batch-latency 200
prov p.json openai
run run --db g.db --providers p.json jobs.jsonl --lane sync --no-progress
expect "batch: --lane sync never uses a batch" 0
check "batch: --lane sync: no batch created" test "$(grep -c '"kind":"batch_create"' mock.log)" = 0
{
  printf '{"custom_id":"s1","nightshift":{"lane":"sync"},"body":{"model":"cheap","messages":[{"role":"user","content":"sync one"}],"max_tokens":50}}\n'
  printf '{"custom_id":"b1","nightshift":{"lane":"batch"},"body":{"model":"cheap","messages":[{"role":"user","content":"batch one"}],"max_tokens":50}}\n'
} >own.jsonl
rm -f mock.log
run run --db h.db --providers p.json own.jsonl --lane sync --no-progress
expect "batch: a job's own lane wins over --lane" 0
check "batch: the job that chose batch went in a batch, the other sync" \
  test "$(q h.db "SELECT group_concat(j.custom_id || ':' || r.lane) FROM results r JOIN jobs j ON j.id = r.job_id ORDER BY j.custom_id")" = "b1:batch,s1:sync" -o \
       "$(q h.db "SELECT group_concat(j.custom_id || ':' || r.lane) FROM results r JOIN jobs j ON j.id = r.job_id ORDER BY j.custom_id")" = "s1:sync,b1:batch"
printf '{"custom_id":"x","nightshift":{"lane":"later"},"body":{"model":"cheap","messages":[{"role":"user","content":"x"}]}}\n' >bad.jsonl
run ingest --db i.db bad.jsonl
expect "batch: a bad lane is refused with its line and field" 3 "bad.jsonl:1: nightshift.lane: must be"
stop_mock

# ---- 8. --max-cost holds a batch's worst case before it is created
rm -f mock.log; start_mock --batch-latency 200
prov p.json openai 100
run run --db k.db --providers p.json jobs.jsonl --max-cost 0.0002 --no-progress
expect "batch: --max-cost: a batch takes only the jobs whose worst case fits" 4 "--max-cost reached"
n=$(sed -n 's/.*"kind":"batch_create".*"requests":\([0-9]*\).*/\1/p' mock.log)
check "batch: --max-cost: 5 jobs' worst case (\$0.0000378 each at the batch price) fit \$0.0002" test "$n" = 5
sleep 0.3
run run --db k.db --providers p.json --max-cost 0.0002 --no-progress
expect "batch: --max-cost: a later run collects the batch and sends no more" 4 "--max-cost reached"
check "batch: --max-cost: 5 done at the batch price, the spend under the cap" \
  test "$(q k.db "SELECT count(*), sum(lane = 'batch'), sum(cost_usd) <= 0.0002 FROM attempts")" = "5|5|1"
stop_mock
