# run.sh — `nightshift run` against the mock provider: the happy path,
# faults survived, Retry-After honoured, keys, unknown models.
. "$(dirname "$0")/lib.sh"
export MOCK_KEY_ENV=sk-test-e2e-0123456789

# --- happy path: every job one result, content as served, cost = usage x price
start_mock
providers_file p.json
jobs_file jobs.jsonl 200
run run --db a.db --providers p.json jobs.jsonl
expect "happy path exits 0" 0 "200/200 done"
check "every job has exactly one result" test "$(q a.db 'SELECT count(*), count(DISTINCT job_id) FROM results')" = "200|200"
check "every job is done" test "$(q a.db 'SELECT count(*) FROM jobs WHERE state = 2')" = 200
check "the mock saw one request per job" test "$(grep -c . mock.log)" = 200
check "the ledger has one row per request" test "$(q a.db 'SELECT count(*) FROM attempts')" = 200
check "cost equals usage x price" test "$(q a.db "SELECT count(*) FROM attempts WHERE abs(cost_usd - (tokens_in * 0.5 + tokens_out * 1.5) / 1e6) > 1e-12 OR tokens_in = 0 OR tokens_out = 0")" = 0
check "results cost sums the ledger" test "$(q a.db 'SELECT abs((SELECT total(cost_usd) FROM results) - (SELECT total(cost_usd) FROM attempts)) < 1e-12')" = 1
check "every stored reply is the one the mock served for its job" test "$(unserved a.db)" = 0
check "the key never reaches the database" sh -c "! grep -a -q '$MOCK_KEY_ENV' a.db"
check "the key never reaches the output" sh -c "! cat '$T/out' '$T/err' | grep -q '$MOCK_KEY_ENV'"
check "the key never reaches the mock's log" sh -c "! grep -q '$MOCK_KEY_ENV' mock.log"
run run --db a.db --providers p.json
expect "a second run has nothing to do" 0 "0/0 done"
check "and sends nothing" test "$(grep -c . mock.log)" = 200
stop_mock; rm -f mock.log

# --- past the results' dictionary: the first 2,000 replies are its sample
# and go to the store plain; after it is trained the workers compress
# every reply themselves. Every one must still come back as served.
start_mock
providers_file p.json
jobs_file jobs.jsonl 2300
run run --db dict.db --providers p.json jobs.jsonl
expect "2,300 jobs: exits 0" 0 "2300/2300 done"
check "2,300 jobs: a results dictionary was trained" test "$(q dict.db "SELECT count(*) FROM dicts WHERE kind = 'result'")" = 1
check "2,300 jobs: every stored reply is the one served" test "$(unserved dict.db)" = 0
check "2,300 jobs: the mock's log is complete" test "$(grep -c . mock.log)" = 2300
stop_mock; rm -f mock.log

# --- 429 storm with Retry-After: honoured from the mock's own timestamps
start_mock --fail-first 2=429 --retry-after 1
providers_file p.json
jobs_file jobs.jsonl 30
run run --db b.db --providers p.json jobs.jsonl
expect "429 storm: every job succeeds" 0 "30/30 done"
check "429 storm: three requests per job" test "$(grep -c . mock.log)" = 90
# for each job, the gap between its consecutive requests is >= Retry-After
gaps=$(sed -n 's/.*"t_ms":\([0-9]*\).*"client_request_id":"\([^"]*\)".*/\2 \1/p' mock.log | sort -k1,1 -k2,2n |
  awk '$1 == prev && $2 - last < 1000 { bad++ } { prev = $1; last = $2 } END { print bad + 0 }')
check "429 storm: no retry before Retry-After" test "$gaps" = 0
check "429 storm: ledger classes" test "$(q b.db "SELECT count(*) FROM attempts WHERE error_class = 'rate_limited'")" = 60
stop_mock; rm -f mock.log

# --- server errors, resets, truncated and invalid bodies, errors in a 200
for kind in 500 502 503 reset truncated badjson error200 emptychoices; do
  start_mock --fail-first 1=$kind
  providers_file p.json
  jobs_file jobs.jsonl 20
  t0=$(date +%s)
  run run --db "f-$kind.db" --providers p.json jobs.jsonl
  t1=$(date +%s)
  expect "fault $kind: every job succeeds after a retry" 0 "20/20 done"
  # the failures open the breaker; its probe must let the rest through at
  # once, not after the probe's timeout
  check "fault $kind: done within 30 s ($((t1 - t0)) s)" test $((t1 - t0)) -le 30
  check "fault $kind: two requests per job, one result each" test "$(grep -c . mock.log):$(q "f-$kind.db" 'SELECT count(DISTINCT job_id) FROM results')" = "40:20"
  stop_mock; rm -f mock.log
done

# --- resets on reused connections: libcurl sends such a request again by
# itself, at once; the provider may have read each, so the ledger must hold
# every request the mock saw, each counted on its job
start_mock --fault reset=0.15
providers_file p.json
jobs_file jobs.jsonl 200
run run --db rr.db --providers p.json jobs.jsonl
expect "resets at random: every job done" 0 "200/200 done"
check "resets at random: some were served" test "$(grep -c '"kind":"reset"' mock.log)" -gt 5
check "resets at random: the ledger holds every request the mock saw" test "$(q rr.db 'SELECT count(*) FROM attempts')" = "$(grep -c . mock.log)"
check "resets at random: as many reset rows as resets" test "$(q rr.db "SELECT count(*) FROM attempts WHERE error_class = 'connection'")" = "$(grep -c '"kind":"reset"' mock.log)"
check "resets at random: each counted on its job" test "$(q rr.db 'SELECT sum(attempts) FROM jobs')" = "$(grep -c . mock.log)"
stop_mock; rm -f mock.log

# --- hangs: the client's timeout fires and the retry succeeds
start_mock --fail-first 1=hang --hang-ms 8000
providers_file p.json 1
jobs_file jobs.jsonl 10
run run --db h.db --providers p.json jobs.jsonl
expect "hang: timed out and retried" 0 "10/10 done"
check "hang: timeouts are in the ledger" test "$(q h.db "SELECT count(*) FROM attempts WHERE error_class = 'timeout'")" = 10
stop_mock; rm -f mock.log

# --- retries exhausted: the job is dead with its last error kept
start_mock --fault-match 'item 3"=500'
providers_file p.json 20 2
jobs_file jobs.jsonl 5
run run --db d.db --providers p.json jobs.jsonl
expect "a job that always fails ends dead, exit 3" 3 "4/5 done, 1 dead"
check "dead job: 3 requests (1 + 2 retries)" test "$(requests_for job-3)" = 3
check "dead job: its error is kept" test "$(q d.db "SELECT r.error_code FROM results r JOIN jobs j ON j.id = r.job_id WHERE j.custom_id = 'job-3'")" = server_error
stop_mock; rm -f mock.log

# --- content moderation with one provider: dead at once, not retried
start_mock --fault-match 'item 2"=moderation'
providers_file p.json
jobs_file jobs.jsonl 4
run run --db m.db --providers p.json jobs.jsonl
expect "moderation with no other provider: dead" 3 "1 dead"
check "moderation is not retried" test "$(requests_for job-2)" = 1
check "moderation is classed" test "$(q m.db "SELECT error_class FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.custom_id = 'job-2'")" = content_filter
stop_mock; rm -f mock.log

# --- a wrong key: auth, the provider is dropped, jobs wait for a good key
start_mock --key right-key
providers_file p.json
jobs_file jobs.jsonl 10
run run --db k.db --providers p.json jobs.jsonl
expect "wrong key: exit 4, the provider and variable named" 4 "provider mock refused this account" "MOCK_KEY_ENV"
check "wrong key: no retries of a refused key" test "$(grep -c . mock.log)" -le 10
check "wrong key: jobs kept queued, not dead" test "$(q k.db 'SELECT count(*) FROM jobs WHERE state = 0')" = 10
MOCK_KEY_ENV=right-key "$NIGHTSHIFT" run --db k.db --providers p.json >"$T/out" 2>"$T/err"; rc=$?
expect "with the right key the same jobs run" 0 "10/10 done"
check "wrong key: never in the mock's log or our output" sh -c "! grep -q '$MOCK_KEY_ENV' mock.log && ! cat '$T/out' '$T/err' | grep -q '$MOCK_KEY_ENV'"
stop_mock; rm -f mock.log

# --- a provider shut off after refusing the key: jobs not yet sent are
# parked, and their last error names it (one request in flight at a time,
# so most jobs are still unsent when the 401 comes)
start_mock --key right-key
sed 's/"max_inflight": 64/"max_inflight": 1/' >p1.json <<JSON
$(providers_file /dev/stdout)
JSON
jobs_file jobs.jsonl 5
run run --db off.db --providers p1.json jobs.jsonl
expect "refused key, one in flight: exit 4" 4 "provider mock refused this account"
check "refused key: the unsent jobs' last error names the provider shut off" test "$(q off.db "SELECT count(*) FROM jobs WHERE last_error = 'no usable provider this run; shut off after refusing the account (key or credit): mock'")" -ge 3
stop_mock; rm -f mock.log

# --- run FILE with a missing file: refused before any database is made
run run --db nofile.db --providers p.json nosuch.jsonl
expect "run with a missing job file: exit 2" 2 "nightshift run: nosuch.jsonl: No such file"
check "run with a missing job file: no database made" test ! -e nofile.db

# --- a key with a line break would end its header line and start another:
# refused, naming the variable, never the key; spaces around a key dropped
start_mock --key right-key
providers_file p.json
jobs_file jobs.jsonl 3
MOCK_KEY_ENV="right-key$(printf '\r\nX-Injected: 1')" "$NIGHTSHIFT" run --db cr.db --providers p.json jobs.jsonl >"$T/out" 2>"$T/err"; rc=$?
expect "key with CR LF: exit 2 naming the variable" 2 "MOCK_KEY_ENV: the key holds a control character"
check "key with CR LF: nothing sent" test "$(grep -c . mock.log)" = 0
check "key with CR LF: the key not echoed" sh -c "! cat '$T/out' '$T/err' | grep -q 'X-Injected'"
MOCK_KEY_ENV="  right-key	" "$NIGHTSHIFT" run --db cr.db --providers p.json >"$T/out" 2>"$T/err"; rc=$?
expect "key with spaces around it: sent without them" 0 "3/3 done"
MOCK_KEY_ENV="   " "$NIGHTSHIFT" run --db cr2.db --providers p.json jobs.jsonl >"$T/out" 2>"$T/err"; rc=$?
expect "a key of spaces is no key" 2 "no provider has its API key set"
stop_mock; rm -f mock.log

# --- no key set anywhere: nothing can be sent: exit 2 before sending
start_mock
providers_file p.json
jobs_file jobs.jsonl 5
MOCK_KEY_ENV= "$NIGHTSHIFT" run --db n.db --providers p.json jobs.jsonl >"$T/out" 2>"$T/err"; rc=$?
expect "no key at all: exit 2 naming the variable" 2 "MOCK_KEY_ENV"
check "no key at all: nothing sent" test "$(grep -c . mock.log)" = 0
check "missing key: jobs still queued" test "$(q n.db 'SELECT count(*) FROM jobs WHERE state = 0')" = 5
run run --db n.db --providers p.json
expect "with the key set the same jobs run" 0 "5/5 done"
stop_mock; rm -f mock.log

# --- some jobs need a provider whose key is not set: they wait (exit 4),
# the others run; with the key set the rest run without `retry`
start_mock
cat > p2.json <<JSON
{"providers": {
  "mock": {"dialect": "openai", "base_url": "http://127.0.0.1:$MOCK_PORT/v1",
           "api_key_env": "MOCK_KEY_ENV", "models": {"m1": {"input_per_mtok": 0.5, "output_per_mtok": 1.5}}},
  "other": {"dialect": "openai", "base_url": "http://127.0.0.1:$MOCK_PORT/other/v1",
           "api_key_env": "OTHER_KEY_ENV", "models": {"m2": {"input_per_mtok": 0.5, "output_per_mtok": 1.5}}}},
 "routes": {"cheap": ["mock:m1"]}}
JSON
{ line 1; line 2; printf '{"custom_id":"o1","body":{"model":"other:m2","messages":[{"role":"user","content":"x"}]}}\n'; } > o.jsonl
OTHER_KEY_ENV= "$NIGHTSHIFT" run --db o.db --providers p2.json o.jsonl >"$T/out" 2>"$T/err"; rc=$?
expect "a missing key parks its jobs: exit 4 naming it" 4 "skipping providers without a key: other (OTHER_KEY_ENV)" "set OTHER_KEY_ENV" "2/3 done"
check "parked job still queued" test "$(q o.db "SELECT state FROM jobs WHERE custom_id = 'o1'")" = 0
check "parked job: its last error names the variable" test "$(q o.db "SELECT last_error FROM jobs WHERE custom_id = 'o1'")" = "no usable provider this run; set OTHER_KEY_ENV"
run status --db o.db --json
check "parked job: status counts it as parked, not waiting" sh -c "grep -q '\"waiting\":0,\"parked\":1' '$T/out'"
OTHER_KEY_ENV=sk-other-0123456789 "$NIGHTSHIFT" run --db o.db --providers p2.json >"$T/out" 2>"$T/err"; rc=$?
expect "with the key set the parked job runs" 0 "1/1 done"
check "the parked job went to its provider" test "$(grep -c '/other/v1/chat/completions' mock.log)" = 1
stop_mock; rm -f mock.log

# --- a model nobody serves: dead with a located reason
start_mock
providers_file p.json
printf '{"custom_id":"u1","body":{"model":"no-such-model","messages":[{"role":"user","content":"x"}]}}\n' > u.jsonl
run run --db u.db --providers p.json u.jsonl
expect "unknown model: dead, exit 3" 3 "1 dead"
check "unknown model: reason kept" sh -c "sqlite3 u.db 'SELECT error_message FROM results' | grep -q 'no-such-model'"
stop_mock; rm -f mock.log

# --- proxy variables: honoured when set (handles are told "no proxy"
# only when none is), and no_proxy too; a second mock stands in for the
# proxy and logs the absolute request target it was asked for
start_mock
mock_as proxy
providers_file p.json
jobs_file px.jsonl 2
MOCK_KEY_ENV=k http_proxy=http://127.0.0.1:$proxy_PORT "$NIGHTSHIFT" run --db px.db --providers p.json px.jsonl >"$T/out" 2>"$T/err"; rc=$?
expect "http_proxy: the run succeeds" 0 "2/2 done"
check "http_proxy: requests went through the proxy" test "$(grep -c "\"path\":\"http://127.0.0.1:$MOCK_PORT/v1/chat/completions\"" proxy.log)" = 2
check "http_proxy: none went direct" test "$(logged mock)" = 0
rm -f px.db px.db-wal px.db-shm
MOCK_KEY_ENV=k http_proxy=http://127.0.0.1:$proxy_PORT no_proxy=127.0.0.1 "$NIGHTSHIFT" run --db px.db --providers p.json px.jsonl >"$T/out" 2>"$T/err"; rc=$?
expect "no_proxy: the run succeeds" 0 "2/2 done"
check "no_proxy: requests went direct" test "$(logged mock)" = 2
check "no_proxy: the proxy saw no more requests" test "$(logged proxy)" = 2
kill "$proxy_PID" 2>/dev/null
stop_mock; rm -f mock.log

# --- usage
run run --help; expect "run --help" 0 "usage: nightshift run"
run run --bogus; expect "run: unknown option" 2 "unknown option '--bogus'"
run run --db nosuch.db --providers p.json; expect "run: missing database" 2 "no such database"
echo '{"providers": {"x": {}}}' > bad.json
run run --db a.db --providers bad.json; expect "run: broken providers config" 2 "bad.json"
