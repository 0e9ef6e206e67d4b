# ratelimit.sh — a provider with a real rate limit, and rpm configured to
# it: nightshift keeps the provider near its limit and all but never draws
# a 429. Needs runner/sched wired into the worker.
. "$(dirname "$0")/lib.sh"
export MOCK_KEY_ENV=sk-test-e2e-0123456789

# providers_rpm FILE RPM: lib.sh's providers file, plus "rpm".
providers_rpm() {
  cat >"$1" <<JSON
{"providers": {"mock": {"dialect": "openai", "flavor": "dashscope",
  "base_url": "http://127.0.0.1:$MOCK_PORT/v1", "api_key_env": "MOCK_KEY_ENV",
  "max_inflight": 64, "rpm": $2, "timeout_s": 20, "connect_timeout_s": 1,
  "max_retries": 4,
  "models": {"m1": {"input_per_mtok": 0.50, "output_per_mtok": 1.50}}}},
 "routes": {"cheap": ["mock:m1"]}}
JSON
}

# rate_per_min LOG: accepted requests per minute, from the first request
# the mock saw to the last (its own timestamps): (accepted - 1) / span.
rate_per_min() {
  sed -n 's/.*"t_ms":\([0-9]*\).*"status":\([0-9]*\).*/\1 \2/p' "$1" |
    awk '{ if (n == 0 || $1 < lo) lo = $1; if (n == 0 || $1 > hi) hi = $1; n++ }
         $2 == 200 { ok++ }
         END { if (hi > lo && ok > 1) printf "%d\n", (ok - 1) * 60000 / (hi - lo); else print 0 }'
}

# --- mock: 600 rpm as 50 per sliding 5 s window; config rpm 600
start_mock --rpm 600 --window-ms 5000
providers_rpm p.json 600
jobs_file jobs.jsonl 150
run run --db r.db --providers p.json jobs.jsonl
expect "rpm at the limit: every job succeeds" 0 "150/150 done"
n429=$(grep -c '"kind":"rpm"' mock.log)
check "rpm at the limit: at most 3 429s (saw $n429)" test "$n429" -le 3
rate=$(rate_per_min mock.log)
check "rpm at the limit: >= 90% of 600/min achieved (got $rate/min)" test "$rate" -ge 540
check "rpm at the limit: one result per job" test "$(q r.db 'SELECT count(DISTINCT job_id) FROM results')" = 150
stop_mock; rm -f mock.log

# --- the issue's case: 120 rpm over a short (10 s) window
start_mock --rpm 120 --window-ms 10000
providers_rpm p.json 120
jobs_file jobs.jsonl 30
run run --db s.db --providers p.json jobs.jsonl
expect "rpm 120: every job succeeds" 0 "30/30 done"
n429=$(grep -c '"kind":"rpm"' mock.log)
check "rpm 120: at most 3 429s (saw $n429)" test "$n429" -le 3
rate=$(rate_per_min mock.log)
check "rpm 120: >= 90% of 120/min achieved (got $rate/min)" test "$rate" -ge 108
stop_mock
