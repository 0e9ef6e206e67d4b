# export_report.sh — `nightshift export`, `report` and `retry` as a user
# runs them, on a queue whose results and ledger are written with the
# sqlite3 shell the way a run leaves them.
. "$(dirname "$0")/lib.sh"

# jsonl_field FILE PATH: the JSON PATH of every line of FILE, one a line
# (sqlite3's JSON functions; fails if a line is not JSON).
jsonl_field() {
  { printf '['; paste -sd, "$1"; printf ']'; } > "$T/arr.json"
  sqlite3 :memory: "SELECT json_extract(value, '$2') FROM json_each(readfile('$T/arr.json'))"
}

# --- a queue: 5 jobs; job-1, job-2, job-4 done, job-3 dead, job-5 queued
for i in 1 2 3 4 5; do line $i; done > jobs.jsonl
run ingest --db q.db jobs.jsonl
expect "ingest the jobs" 0 "enqueued 5"
printf '{\n  "id": "chatcmpl-1",\n  "object": "chat.completion",\n  "choices": [{"index": 0, "message": {"role": "assistant", "content": "a \\"summary\\""}, "finish_reason": "stop"}],\n  "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}\n}\n' > body.json
zstd -q -f -o body.zst body.json
sqlite3 q.db <<'EOF'
UPDATE jobs SET state = 2 WHERE custom_id IN ('job-1', 'job-2', 'job-4');
UPDATE jobs SET state = 3, last_error = 'timeout' WHERE custom_id = 'job-3';
INSERT INTO results (job_id, provider, model, status_code, request_id, body, attempts, cost_usd, latency_ms, finished_at)
  SELECT id, 'qwen', 'qwen-plus', 200, 'req-' || id, readfile('body.zst'), 1, 0.000213, 840, 1
  FROM jobs WHERE state = 2;
INSERT INTO results (job_id, provider, model, error_code, error_message, attempts, cost_usd, finished_at)
  SELECT id, 'deepseek', 'deepseek-chat', 'timeout', 'no reply in 120 s', 3, 0, 1
  FROM jobs WHERE state = 3;
INSERT INTO attempts (job_id, run_id, provider, model, sent_at, http_status, error_class, latency_ms, tokens_in, tokens_out, cost_usd)
  SELECT id, 'r1', 'qwen', 'qwen-plus', 0, 200, 'ok', 840, 12, 5, 0.000213 FROM jobs WHERE state = 2;
INSERT INTO attempts (job_id, run_id, provider, model, sent_at, error_class, latency_ms)
  SELECT id, 'r1', 'deepseek', 'deepseek-chat', 0, 'timeout', 120000 FROM jobs WHERE state = 3;
INSERT INTO attempts (job_id, run_id, provider, model, sent_at, http_status, error_class, latency_ms)
  SELECT id, 'r1', 'qwen', 'qwen-plus', 0, 429, 'rate_limited', 30 FROM jobs WHERE custom_id = 'job-3';
INSERT INTO attempts (job_id, run_id, provider, model, sent_at, http_status, error_class, latency_ms)
  SELECT id, 'r1', 'qwen', 'qwen-plus', 0, 429, 'rate_limited', 31 FROM jobs WHERE custom_id = 'job-3';
EOF

# --- export
run export --db q.db
expect "export to stdout" 0 "exported 4 results (1 dead) to stdout"
cp "$T/out" stdout.jsonl
check "stdout has one line per finished job" test "$(grep -c . stdout.jsonl)" = 4
check "lines are JSON in ingest order" test "$(jsonl_field stdout.jsonl '$.custom_id' | tr '\n' ' ')" = "job-1 job-2 job-3 job-4 "
check "a done job carries the stored body" test "$(jsonl_field stdout.jsonl '$.response.body.choices[0].message.content' | head -n 1)" = 'a "summary"'
check "a done job has the batch fields" test "$(jsonl_field stdout.jsonl '$.response.status_code' | head -n 1)" = 200
check "a dead job has its error" test "$(jsonl_field stdout.jsonl '$.error.code' | sed -n 3p)" = timeout
check "the nightshift extension" test "$(jsonl_field stdout.jsonl '$.nightshift.cost_usd' | head -n 1)" = 0.000213
check "the queued job is not exported" test "$(grep -c job-5 stdout.jsonl)" = 0

run export --db q.db -o out.jsonl
expect "export to a file" 0 "exported 4 results (1 dead) to out.jsonl"
check "the file is created 0600" test "$(stat -c %a out.jsonl)" = 600
check "the file matches stdout" cmp -s out.jsonl stdout.jsonl
check "no temporary file is left" test -z "$(ls -d out.jsonl.tmp* 2>/dev/null)"

run export --db q.db -o out.jsonl.zst
expect "export to .zst" 0 "to out.jsonl.zst"
check ".zst decompresses to the same lines" sh -c 'zstd -dc out.jsonl.zst | cmp -s - out.jsonl'
check ".zst is 0600" test "$(stat -c %a out.jsonl.zst)" = 600

run export --db q.db --failed -o dead.jsonl
expect "export --failed" 0 "exported 1 results (1 dead)"
check "--failed writes only the dead job" test "$(jsonl_field dead.jsonl '$.custom_id')" = job-3
run export --db q.db --succeeded
expect "export --succeeded" 0 "exported 3 results (0 dead)"
run export --db q.db -o "$T/no/such/dir/x.jsonl"
expect "export into a missing directory" 1 "no/such/dir/x.jsonl"
# Only a regular file is replaced by renaming a finished copy over it: a
# FIFO (or a device) is written in place, a link keeps pointing at its
# target, which gets the export; a directory is refused.
mkfifo pipe.jsonl
( timeout 20 cat pipe.jsonl >from_pipe.jsonl ) &
run export --db q.db -o pipe.jsonl
wait
expect "export into a FIFO" 0 "exported 4 results (1 dead) to pipe.jsonl"
check "the FIFO is still a FIFO" test -p pipe.jsonl
check "its reader got every line" test "$(grep -c custom_id from_pipe.jsonl)" = 4
ln -s linked.jsonl link.jsonl
run export --db q.db -o link.jsonl
expect "export through a dangling link" 0 "to link.jsonl"
run export --db q.db -o link.jsonl
expect "export through the link again" 0 "to link.jsonl"
check "the link is still a link" test -L link.jsonl
check "its target holds the export" test "$(grep -c custom_id linked.jsonl)" = 4
check "no .tmp left beside either" test -z "$(ls -d link.jsonl.tmp* linked.jsonl.tmp* 2>/dev/null)"
mkdir adir.jsonl
run export --db q.db -o adir.jsonl
expect "export onto a directory" 1 "adir.jsonl: is a directory"
# what -o /dev/stdout is, made here: a regression must not replace the
# system's /dev/stdout
ln -s /proc/self/fd/1 stdout_link
run export --db q.db -o stdout_link
expect "export to a link to standard output" 0 "to stdout_link"
check "standard output got the lines" test "$(grep -c custom_id "$T/out")" = 4
check "the link to it is still a link" test -L stdout_link

# --- report
run report --db q.db
expect "report as a table" 0 "qwen" "qwen-plus" "deepseek" "TOTAL" "rate_limited 2" "timeout 1"
run report --db q.db --json
expect "report --json" 0 '"providers":[{"provider":"deepseek"' '"totals":{"requests":6'
check "report --json is JSON" test "$(sqlite3 :memory: "SELECT json_valid(readfile('$T/out'))")" = 1
run report --db q.db --csv
expect "report --csv" 0 "provider,requests,successes,failures,retries" "TOTAL,6,3,3,1,"
check "report --csv has a header, two providers and TOTAL" test "$(grep -c . "$T/out")" = 4
# --- report: routing (failovers, 429s, circuit trips, saving), on its own
# queue so the ledger above keeps its counts.
#   job-1: qwen 429 retry, 429 failover, deepseek ok (ref 0.010 for 0.003)
#   job-2: qwen ok (ref 0.004 for 0.001)
#   job-3: deepseek 503 failover, qwen ok (ref unknown: no saving)
#   events: qwen breaker_open (and paused, not counted), deepseek disabled
for i in 1 2 3; do line $i; done > routed.jsonl
run ingest --db routed.db routed.jsonl
expect "ingest the routed jobs" 0 "enqueued 3"
sqlite3 routed.db <<'EOF'
UPDATE jobs SET state = 2;
INSERT INTO attempts (job_id, run_id, provider, model, sent_at, http_status, error_class, action, latency_ms, cost_usd)
  SELECT id, 'r1', 'qwen', 'qwen-plus', 0, 429, 'rate_limited', 'retry', 20, 0 FROM jobs WHERE custom_id = 'job-1';
INSERT INTO attempts (job_id, run_id, provider, model, sent_at, http_status, error_class, action, latency_ms, cost_usd)
  SELECT id, 'r1', 'deepseek', 'deepseek-chat', 0, 503, 'server_error', 'failover', 30, 0 FROM jobs WHERE custom_id = 'job-3';
INSERT INTO attempts (job_id, run_id, provider, model, sent_at, http_status, error_class, action, latency_ms, cost_usd)
  SELECT id, 'r1', 'qwen', 'qwen-plus', 0, 429, 'rate_limited', 'failover', 20, 0 FROM jobs WHERE custom_id = 'job-1';
INSERT INTO attempts (job_id, run_id, provider, model, sent_at, http_status, error_class, action, latency_ms, cost_usd)
  SELECT id, 'r1', 'qwen', 'qwen-plus', 0, 200, 'ok', 'done', 500, 0.001 FROM jobs WHERE custom_id IN ('job-2', 'job-3');
INSERT INTO attempts (job_id, run_id, provider, model, sent_at, http_status, error_class, action, latency_ms, cost_usd)
  SELECT id, 'r1', 'deepseek', 'deepseek-chat', 0, 200, 'ok', 'done', 700, 0.003 FROM jobs WHERE custom_id = 'job-1';
INSERT INTO results (job_id, provider, model, status_code, attempts, cost_usd, cost_ref_usd, latency_ms, finished_at)
  SELECT id, 'deepseek', 'deepseek-chat', 200, 3, 0.003, 0.010, 700, 1 FROM jobs WHERE custom_id = 'job-1';
INSERT INTO results (job_id, provider, model, status_code, attempts, cost_usd, cost_ref_usd, latency_ms, finished_at)
  SELECT id, 'qwen', 'qwen-plus', 200, 1, 0.001, 0.004, 500, 1 FROM jobs WHERE custom_id = 'job-2';
INSERT INTO results (job_id, provider, model, status_code, attempts, cost_usd, latency_ms, finished_at)
  SELECT id, 'qwen', 'qwen-plus', 200, 2, 0.002, 500, 1 FROM jobs WHERE custom_id = 'job-3';
INSERT INTO events (run_id, at, provider, kind) VALUES ('r1', 1, 'qwen', 'breaker_open'),
  ('r1', 2, 'qwen', 'paused'), ('r1', 3, 'deepseek', 'disabled');
EOF
# jfield PATH: PATH in the last run's JSON output, floats to 6 places.
jfield() {
  sqlite3 :memory: "SELECT CASE json_type(v, '$1') WHEN 'real' THEN printf('%.6f', json_extract(v, '$1')) ELSE json_extract(v, '$1') END FROM (SELECT readfile('$T/out') AS v)"
}
# jfields PREFIX KEY...: the KEYs of the object at PREFIX, space-separated.
jfields() {
  p=$1; shift
  for k in "$@"; do printf '%s ' "$(jfield "$p.$k")"; done
}
ROUTING="failovers_in failovers_out http_429 circuit_trips disabled cost_ref_usd saving_usd"
run report --db routed.db --json
expect "report --json with routing" 0 '"failovers_in"' '"circuit_trips"' '"saving_usd"'
check "deepseek: failovers in/out, 429s, trips, disabled, cost on the dearest, saving" \
  test "$(jfields '$.providers[0]' $ROUTING)" = "1 1 0 0 1 0.010000 0.007000 "
check "qwen: failovers in/out, 429s, trips, disabled, cost on the dearest, saving" \
  test "$(jfields '$.providers[1]' $ROUTING)" = "1 1 2 1 0 0.006000 0.003000 "
check "a model row has failovers but no provider events" \
  test "$(jfields '$.providers[1].models[0]' failovers_in http_429 circuit_trips)" = "1 2  "
check "totals: failovers, 429s, trips, disabled, cost on the dearest, saving" \
  test "$(jfields '$.totals' $ROUTING)" = "2 2 2 1 1 0.016000 0.010000 "
run report --db routed.db
expect "report says what routing saved" 0 "failovers in" "routing saved \$0.010000 (62.5%) against each route's most expensive candidate"
run report --db routed.db --csv
expect "report --csv has the routing columns" 0 "p99_ms,failovers_in,failovers_out,http_429,circuit_trips,disabled,cost_ref_usd,saving_usd"

line 9 > one.jsonl
run ingest --db empty.db one.jsonl
run report --db empty.db
expect "report on an empty ledger" 0 "no requests yet"
run report --db empty.db --json
expect "report --json on an empty ledger" 0 '"providers":[]'

# --- retry
run retry --db q.db --id nope
expect "retry of an unknown id changes nothing" 2 'no job "nope"'
run retry --db q.db --failed
expect "retry requeues the dead job" 0 "requeued 1 jobs"
run status --db q.db --json
expect "the dead job is queued again" 0 '"queued":2' '"dead":0'
check "retry kept the ledger" test "$(sqlite3 q.db 'SELECT count(*) FROM attempts')" = 6
check "retry dropped the dead job's result" test "$(sqlite3 q.db 'SELECT count(*) FROM results')" = 3
run export --db q.db
expect "the requeued job is no longer exported" 0 "exported 3 results (0 dead)"
run retry --db q.db
expect "retry with nothing dead" 0 "requeued 0 jobs"

# --- usage
run export --help;          expect "export --help" 0 "usage: nightshift export" "--failed" "--succeeded"
run report --help;          expect "report --help" 0 "usage: nightshift report" "--csv"
run retry --help;           expect "retry --help" 0 "usage: nightshift retry" "--id"
run export --bogus;         expect "export: unknown option" 2 "unknown option '--bogus'"
run report --bogus;         expect "report: unknown option" 2 "unknown option '--bogus'"
run retry --bogus;          expect "retry: unknown option" 2 "unknown option '--bogus'"
run status -xh;             expect "status: an unknown letter in a cluster is named" 2 "unknown option '-x'"
run export --db q.db -qo x; expect "export: the unknown letter, not the word before" 2 "unknown option '-q'"
run export --db q.db -o;    expect "export: -o without its value" 2 "-o needs a value"
run status --db q.db --json=1; expect "status: a value for a flag is named as such" 2 "option '--json' takes no value"
run ingest --db q.db --strict=1 one.jsonl; expect "ingest: a value for a flag is named as such" 2 "option '--strict' takes no value"
run export --db=q.db -qo x; expect "export: after --db=F an unknown letter is still the letter" 2 "unknown option '-q'"
run retry --id --db q.db;   expect "retry: an option where the id should be" 2 "--id needs a custom_id, not the option '--db'"
run retry --db;             expect "retry: --db without its value" 2 "--db needs a value"
run export --db q.db --failed --succeeded; expect "export: conflicting filters" 2 "choose one of"
run report --db q.db --json --csv;         expect "report: --json with --csv" 2 "choose --json or --csv"
run export --db nosuch.db;  expect "export on a missing database" 2 "nosuch.db: no such database"
check "export did not create it" test ! -e nosuch.db

# --- report and export on the database of a real run: the mock answers
# with a seeded mix of faults (429s, 503s, 500s, resets; two jobs hit its
# content filter, one more fails over from it), reports cached and
# reasoning tokens, and the report's and the export's figures are checked
# against the ledger and against what the mock logged. Six retries: the
# mix fails a request in five at random (429s that say when do not count),
# so a job dies of it about once in 10^5 runs.
export RK=sk-report-0123456789
mock_as real --key "$RK" --seed 7 --fault 429=0.15 --fault 503=0.1 \
  --fault 500=0.05 --fault reset=0.05 --retry-after 0 --cached 0.3 \
  --reasoning 0.2 --fault-match 'filter me=moderation'
mock_as other --key "$RK"
cat >real.json <<JSON
{"providers": {
 "real": {"dialect": "openai", "flavor": "dashscope", "base_url": "http://127.0.0.1:$real_PORT/v1",
   "api_key_env": "RK", "max_retries": 6, "timeout_s": 10, "connect_timeout_s": 2,
   "models": {"rm": {"input_per_mtok": 0.40, "output_per_mtok": 1.20, "cached_input_per_mtok": 0.08}}},
 "other": {"dialect": "openai", "flavor": "openai", "base_url": "http://127.0.0.1:$other_PORT/v1",
   "api_key_env": "RK", "max_retries": 1, "timeout_s": 10, "connect_timeout_s": 2,
   "models": {"om": {"input_per_mtok": 2.00, "output_per_mtok": 8.00}}}},
 "routes": {"both": ["real:rm", "other:om"]}}
JSON
{
  i=1; while [ $i -le 40 ]; do
    printf '{"custom_id":"r-%s","body":{"model":"real:rm","messages":[{"role":"user","content":"Summarize report item %s"}],"max_tokens":60}}\n' $i $i
    i=$((i + 1))
  done
  for i in 1 2; do
    printf '{"custom_id":"f-%s","body":{"model":"real:rm","messages":[{"role":"user","content":"filter me %s"}],"max_tokens":60}}\n' $i $i
  done
  printf '{"custom_id":"fo-1","body":{"model":"both","messages":[{"role":"user","content":"filter me, then fail over"}],"max_tokens":60}}\n'
} >real.jsonl
timeout -k 5 120 "$NIGHTSHIFT" run --db real.db --providers real.json --workers 4 real.jsonl >"$T/out" 2>"$T/err"; rc=$?
expect "a real run with faults: the filtered jobs dead" 3 "41/43 done, 2 dead"
stop_real() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
stop_real "$real_PID"; stop_real "$other_PID"

# logcount NAME WHERE: requests in mock NAME's log matching a SQL filter
# over (kind, status, model, crid) (sqlite3's JSON functions).
{ printf '['; cat "$T/real.log" "$T/other.log" | paste -sd, -; printf ']'; } >served.json
LOG="(SELECT json_extract(value, '$.model') AS model, json_extract(value, '$.kind') AS kind,
  json_extract(value, '$.client_request_id') AS crid,
  json_extract(value, '$.usage.in') AS ui, json_extract(value, '$.usage.cached') AS uc,
  json_extract(value, '$.usage.out') AS uo, json_extract(value, '$.usage.reasoning') AS ur
  FROM json_each(readfile('served.json')))"
logq() { sqlite3 :memory: "$1"; }
run report --db real.db --json
cp "$T/out" real-report.json
rj() { sqlite3 :memory: "SELECT json_extract(readfile('real-report.json'), '$1')"; }
rf() { sqlite3 :memory: "SELECT printf('%.9f', json_extract(readfile('real-report.json'), '$1'))"; }
check "real run: report --json is JSON" test "$(sqlite3 :memory: "SELECT json_valid(readfile('real-report.json'))")" = 1
n=$(logq "SELECT count(*) FROM $LOG WHERE model = 'rm'")
eq() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got [$2] want [$3]"; fi; }
idx=$(sqlite3 :memory: "SELECT key FROM json_each(json_extract(readfile('real-report.json'), '$.providers')) WHERE json_extract(value, '$.provider') = 'real'")
eq "real run: report's requests = the mock's requests ($n)" "$(rj "\$.providers[$idx].requests")" "$n"
eq "real run: report's requests = the ledger's" "$n" "$(q real.db "SELECT count(*) FROM attempts WHERE provider = 'real'")"
eq "real run: report's successes = the mock's ok replies" "$(rj "\$.providers[$idx].successes")" \
  "$(logq "SELECT count(*) FROM $LOG WHERE model = 'rm' AND kind = 'ok'")"
eq "real run: report's 429s = the mock's" "$(rj "\$.providers[$idx].http_429")" \
  "$(logq "SELECT count(*) FROM $LOG WHERE model = 'rm' AND kind = '429'")"
for pair in rate_limited:429 overloaded:503 server_error:500 connection:reset content_filter:moderation; do
  c=${pair%%:*}; k=${pair#*:}
  eq "real run: report's $c = the mock's $k replies" \
    "$(rj "\$.providers[$idx].failures_by_class.$c" | sed 's/^$/0/')" \
    "$(logq "SELECT count(*) FROM $LOG WHERE model = 'rm' AND kind = '$k'")"
done
check "real run: the mix had every fault" test "$(logq "SELECT count(DISTINCT kind) FROM $LOG WHERE model = 'rm'")" = 6
eq "real run: report's tokens in = what the mock served" "$(rj "\$.providers[$idx].tokens_in")" \
  "$(logq "SELECT sum(ui + uc) FROM $LOG WHERE model = 'rm'")"
eq "real run: report's tokens out = what the mock served" "$(rj "\$.providers[$idx].tokens_out")" \
  "$(logq "SELECT sum(uo + ur) FROM $LOG WHERE model = 'rm'")"
want=$(logq "SELECT printf('%.9f', sum(ui * 0.40 + uc * 0.08 + (uo + ur) * 1.20) / 1e6) FROM $LOG WHERE model = 'rm'")
eq "real run: report's cost = the mock's usage at the prices" "$(rf "\$.providers[$idx].cost_usd")" "$want"
wantall=$(logq "SELECT printf('%.9f', sum(CASE model WHEN 'rm' THEN ui * 0.40 + uc * 0.08 + (uo + ur) * 1.20 ELSE ui * 2 + uo * 8 END) / 1e6) FROM $LOG")
eq "real run: report's total cost = the mock's usage at the prices" "$(rf '$.totals.cost_usd')" "$wantall"
check "real run: the fail-over job reached the other provider" \
  test "$(logq "SELECT count(*) FROM $LOG WHERE model = 'om' AND crid = 'fo-1' AND kind = 'ok'")" = 1

run export --db real.db -o real.jsonl.out
expect "real run: export" 0 "exported 43 results (2 dead)"
# unserved reads $T/mock.log: the replies served, for the done jobs
cat "$T/real.log" "$T/other.log" | grep -F '"kind":"ok"' >"$T/mock.log"
eq "real run: every done job holds the reply the mock served for it" "$(unserved real.db)" 0
eq "real run: export's lines = the jobs" "$(grep -c . real.jsonl.out)" 43
ecost=$(jsonl_field real.jsonl.out '$.nightshift.cost_usd' | awk '{ s += $1 } END { printf "%.9f", s }')
eq "real run: export's costs add up to the report's" "$ecost" "$(rf '$.totals.cost_usd')"
eq "real run: the dead jobs' errors are the filter's" \
  "$(jsonl_field real.jsonl.out '$.error.code' | grep -c data_inspection_failed)" 2
eq "real run: export's usage = the mock's for each job" \
  "$(jsonl_field real.jsonl.out '$.response.body.usage.prompt_tokens_details.cached_tokens' | awk '{ s += $1 } END { print s }')" \
  "$(logq "SELECT sum(uc) FROM $LOG")"
