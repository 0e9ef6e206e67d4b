# routing.sh — cheapest-first routing, failover, spend cap and time limits,
# with several mock providers standing in for several real ones.
. "$(dirname "$0")/lib.sh"
export QWEN_KEY=sk-qwen-0123456789 DEEPSEEK_KEY=sk-ds-0123456789 OPENAI_KEY=sk-oa-0123456789

# three_providers FILE: qwen (cheapest), deepseek, openai (dearest), each
# at its own mock; the route lists them dearest first, so only the price
# comparison can put qwen first.
three_providers() {
  cat >"$1" <<JSON
{"providers": {
  "qwen": {"dialect": "openai", "flavor": "dashscope", "base_url": "http://127.0.0.1:$qwen_PORT/v1",
           "api_key_env": "QWEN_KEY", "max_retries": ${2:-2}, "timeout_s": 10, "connect_timeout_s": 2,
           "models": {"qwen-plus": {"input_per_mtok": 0.40, "output_per_mtok": 1.20}}},
  "deepseek": {"dialect": "openai", "flavor": "deepseek", "base_url": "http://127.0.0.1:$deepseek_PORT/v1",
           "api_key_env": "DEEPSEEK_KEY", "max_retries": ${2:-2}, "timeout_s": 10, "connect_timeout_s": 2,
           "models": {"deepseek-flash": {"input_per_mtok": 0.60, "output_per_mtok": 1.80}}},
  "openai": {"dialect": "openai", "flavor": "openai", "base_url": "http://127.0.0.1:$openai_PORT/v1",
           "api_key_env": "OPENAI_KEY", "max_retries": ${2:-2}, "timeout_s": 10, "connect_timeout_s": 2,
           "models": {"gpt-4o-mini": {"input_per_mtok": 2.50, "output_per_mtok": 10.0}}}},
 "routes": {"cheap": ["openai:gpt-4o-mini", "deepseek:deepseek-flash", "qwen:qwen-plus"]}}
JSON
}

fresh() { for m in qwen deepseek openai; do : >"$T/$m.log"; done; }

mock_as qwen
mock_as deepseek
mock_as openai
three_providers p.json

# --- all healthy: every job goes to the cheapest
jobs_file jobs.jsonl 60
run run --db a.db --providers p.json jobs.jsonl
expect "healthy: exit 0" 0 "60/60 done"
check "healthy: every job went to qwen" test "$(logged qwen):$(logged deepseek):$(logged openai)" = "60:0:0"
check "healthy: results name qwen" test "$(q a.db "SELECT count(*) FROM results WHERE provider = 'qwen'")" = 60
check "healthy: the saving is recorded" test "$(q a.db 'SELECT total(cost_ref_usd) > 3 * total(cost_usd) FROM results')" = 1

# --- a job's providers allow-list and max_cost_usd narrow its candidates
fresh
printf '%s\n' \
 '{"custom_id":"allow","providers":["openai"],"body":{"model":"cheap","messages":[{"role":"user","content":"x"}]}}' \
 '{"custom_id":"cap","max_cost_usd":0.0000001,"body":{"model":"cheap","max_tokens":1000,"messages":[{"role":"user","content":"x"}]}}' > narrow.jsonl
run run --db n.db --providers p.json narrow.jsonl
expect "max_cost_usd below every candidate: dead with the reason" 3 "1/2 done, 1 dead"
check "allow-list: served by openai only" test "$(logged openai):$(logged qwen)" = "1:0"
check "max_cost_usd: reason kept" sh -c "sqlite3 n.db \"SELECT error_message FROM results r JOIN jobs j ON j.id = r.job_id WHERE custom_id = 'cap'\" | grep -q max_cost_usd"

# --- a prompt longer than the cheapest model's context window goes to a
# bigger window instead of coming back as a context overflow
sed 's/"qwen-plus": {"input_per_mtok": 0.40/"qwen-plus": {"context_window": 50, "input_per_mtok": 0.40/' p.json > small.json
fresh
{ line 1; printf '{"custom_id":"long","body":{"model":"cheap","messages":[{"role":"user","content":"%0800d"}]}}\n' 0; } > long.jsonl
run run --db w.db --providers small.json long.jsonl
expect "context window: both jobs done" 0 "2/2 done"
check "context window: the long prompt skipped the small window" test "$(logged qwen):$(logged deepseek)" = "1:1"

# --- content moderation on qwen for some jobs: they fail over and succeed
kill "$qwen_PID"; wait "$qwen_PID" 2>/dev/null
mock_as qwen --fault-match 'item 1"=moderation' --fault-match 'item 2"=moderation'
three_providers p.json
fresh
jobs_file jobs.jsonl 10
run run --db m.db --providers p.json jobs.jsonl
expect "moderation: every job succeeds" 0 "10/10 done"
check "moderation: refused jobs asked qwen once, then deepseek" test "$(logged qwen):$(logged deepseek)" = "10:2"
check "moderation: the ledger says failover" test "$(q m.db "SELECT count(*) FROM attempts WHERE action = 'failover' AND error_class = 'content_filter'")" = 2

# --- qwen down (every request 503): jobs finish on the next candidate
kill "$qwen_PID"; wait "$qwen_PID" 2>/dev/null
mock_as qwen --fault 503=1
three_providers p.json 1
fresh
jobs_file jobs.jsonl 40
run run --db d.db --providers p.json jobs.jsonl
expect "qwen down: every job succeeds elsewhere" 0 "40/40 done"
check "qwen down: deepseek served them all" test "$(logged deepseek)" = 40
check "qwen down: openai (dearer) not needed" test "$(logged openai)" = 0
# without a breaker qwen would see 2 requests per job (80); with it, the
# first wave in flight (max_inflight 16), the few admitted as that wave's
# slots freed before the 5th failure opened it, and a probe or two
check "qwen down: after the breaker opened qwen saw only probes ($(logged qwen))" test "$(logged qwen)" -le 24
check "qwen down: the trip is in the ledger" test "$(q d.db "SELECT count(*) > 0 FROM events WHERE provider = 'qwen' AND kind = 'breaker_open'")" = 1

# --- qwen's shared limit is spent (its 429s say x-ratelimit-remaining-
# requests: 0, with Retry-After): the provider pauses as a whole. (Bare
# 429s mixed with successes would hold back only their own jobs; which
# comes back first is a matter of timing, so the test says it outright.)
kill "$qwen_PID"; wait "$qwen_PID" 2>/dev/null
mock_as qwen --schedule 429openai,429openai,429openai --retry-after 2 --latency 50
three_providers p.json 3
fresh
jobs_file jobs.jsonl 40
run run --db s.db --providers p.json jobs.jsonl
expect "429 storm: every job finishes" 0 "40/40 done"
t429=$(grep '"status":429' "$T/qwen.log" | sed -n 's/.*"done_ms":\([0-9]*\).*/\1/p' | sort -n | head -n 1)
check "429 storm: qwen did answer 429 (else the next check proves nothing)" test -n "$t429"
early=$(awk -v t="$t429" 'match($0, /"t_ms":[0-9]+/) { v = substr($0, RSTART + 7, RLENGTH - 7) + 0; if (v > t + 20 && v < t + 1950) n++ } END { print n + 0 }' "$T/qwen.log")
check "429 storm: no request to qwen before its Retry-After ($early early)" test "$early" = 0
check "429 storm: qwen served the jobs after the pause" test "$(q s.db "SELECT count(*) FROM results WHERE provider = 'qwen'")" -ge 30
check "429 storm: the pause is in the ledger" test "$(q s.db "SELECT count(*) > 0 FROM events WHERE provider = 'qwen' AND kind = 'paused'")" = 1

# --- qwen refusing connections: the same
kill "$qwen_PID"; wait "$qwen_PID" 2>/dev/null
fresh
jobs_file jobs.jsonl 15
run run --db r.db --providers p.json jobs.jsonl
expect "qwen refused: every job succeeds elsewhere" 0 "15/15 done"
check "qwen refused: connection errors in the ledger" test "$(q r.db "SELECT count(*) > 0 FROM attempts WHERE provider = 'qwen' AND error_class = 'connection'")" = 1
mock_as qwen
three_providers p.json

# --- --max-cost: stops within one in-flight window, a higher cap continues
fresh
jobs_file jobs.jsonl 300
run ingest --db c.db jobs.jsonl
run run --db c.db --providers p.json --max-cost 0.0005 --max-inflight 4
expect "--max-cost: exit 4 with the spend printed" 4 "--max-cost reached" "run again with a higher cap"
spent=$(q c.db 'SELECT total(cost_usd) FROM attempts')
# the cap may be passed by at most the requests in flight (4) at worst case
check "--max-cost: spend within one in-flight window of the cap ($spent)" \
  test "$(q c.db "SELECT total(cost_usd) <= 0.0005 + 4 * (SELECT max(cost_usd) FROM attempts) FROM attempts")" = 1
check "--max-cost: work left" test "$(q c.db 'SELECT count(*) > 0 FROM jobs WHERE state = 0')" = 1
run run --db c.db --providers p.json --max-cost 1
expect "--max-cost: a higher cap finishes the work" 0 "done"
check "--max-cost: one result per job" test "$(q c.db 'SELECT count(*), count(DISTINCT job_id) FROM results')" = "300|300"
# a cap below one request's worst case stops before spending anything and
# says so: the job has no max_tokens, so the model's output limit counts
printf '{"custom_id":"nomax","body":{"model":"cheap","messages":[{"role":"user","content":"hi"}]}}\n' >nomax.jsonl
run run --db nm.db --providers p.json --max-cost 0.000001 nomax.jsonl
expect "--max-cost below one request: exit 4 naming the worst case" 4 "\$0.000000 spent in all of \$0.000001, and the next request could cost up to" "give the jobs max_tokens"
check "--max-cost below one request: nothing sent" test "$(q nm.db 'SELECT count(*) FROM attempts')" = 0

# --- --max-runtime: exit 4 with work left; the next run finishes
kill "$qwen_PID"; wait "$qwen_PID" 2>/dev/null
mock_as qwen --latency 300
three_providers p.json
fresh
jobs_file jobs.jsonl 200
run ingest --db t.db jobs.jsonl
t0=$(date +%s)
run run --db t.db --providers p.json --max-inflight 5 --max-runtime 2s
t1=$(date +%s)
expect "--max-runtime: exit 4" 4 "time is up" "--max-runtime"
check "--max-runtime: ended on time" test $((t1 - t0)) -le 4
check "--max-runtime: nothing left running" test "$(q t.db 'SELECT count(*) FROM jobs WHERE state = 1')" = 0
run run --db t.db --providers p.json --max-inflight 50
expect "--max-runtime: the next run finishes" 0 "done"
check "--max-runtime: one result per job" test "$(q t.db 'SELECT count(*), count(DISTINCT job_id) FROM results')" = "200|200"
run run --db t.db --providers p.json --deadline 25:00
expect "--deadline: malformed time is a usage error" 2 "HH:MM"

# --- durations and times of day: one parser (util/timeparse) reads them
for v in 7:5 +7:05 7:60 24:00 " 7:30"; do
  run run --db t.db --providers p.json --deadline "$v"
  expect "--deadline '$v' is a usage error" 2 "is not HH:MM"
done
for v in 1e3 inf nan -5s 5d 1h30; do
  run run --db t.db --providers p.json --max-runtime "$v"
  expect "--max-runtime '$v' is a usage error" 2 "is not a duration"
done
run run --db t.db --providers p.json --grace 1e3
expect "--grace 1e3 is a usage error" 2 "is not a duration"
run run --db t.db --providers p.json --deadline 7:30 --grace 1.5
expect "--deadline 7:30 --grace 1.5 are read" 0 "done"
run run --db t.db --providers p.json --max-runtime 1h30m --grace 2m
expect "--max-runtime 1h30m --grace 2m are read" 0 "done"

# --- a low open-files limit caps requests in flight, and says so
(ulimit -n 128 && exec "$NIGHTSHIFT" run --db t.db --providers p.json \
  --max-inflight 500) >"$T/out" 2>"$T/err"
rc=$?
expect "a low open-files limit caps requests in flight, saying so" 0 \
  "open-files limit (128) caps requests in flight at 64 (asked 500)"
