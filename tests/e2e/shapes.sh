# shapes.sh — real-work shapes through the run loop: a prompt of 100k+
# tokens against a mock whose latency grows with the prompt (the request
# timeout scales with the request, so it succeeds where the provider's
# base timeout alone would cut it off), a slow drip (headers, then the
# body a few bytes at a time) and a stall after the headers: each of
# those two is cut off by the timeout, recorded as a timeout, retried,
# then failed over, and the test's own time stays bounded.
# Needs NIGHTSHIFT, MOCK and the sqlite3 shell. Prints "ok - NAME" lines.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
export SK=sk-shapes-0123456789

eq() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got [$2] want [$3]"; fi; }
ledger() {
  q "$1" "SELECT group_concat(x, ' ') FROM (SELECT a.provider || ':' ||
    a.error_class || '/' || coalesce(a.action, '-') AS x FROM attempts a
    JOIN jobs j ON j.id = a.job_id WHERE j.custom_id = '$2' ORDER BY a.id)"
}
# took NAME: ms from arrival to end of each request the mock NAME logged.
took() { sed -n 's/^{"t_ms":\([0-9]*\),"done_ms":\([0-9]*\),.*/\1 \2/p' "$T/$1.log" | awk '{ print $2 - $1 }'; }

# prov NAME PORT TIMEOUT_S MAX_RETRIES: an openai-dialect provider with
# model m-NAME and a 200k-token context window.
prov() {
  printf '"%s": {"dialect": "openai", "flavor": "openai",
    "base_url": "http://127.0.0.1:%s/v1", "api_key_env": "SK",
    "timeout_s": %s, "connect_timeout_s": 1, "max_retries": %s,
    "models": {"m-%s": {"input_per_mtok": 0.10, "output_per_mtok": 0.40,
    "context_window": 200000}}}' "$1" "$2" "$3" "$4" "$1"
}

# --- a 100k-token prompt: 40 ms a 1,000 prompt tokens makes its reply take
# about 4 s, twice the provider's 2 s base timeout
mock_as big --key "$SK" --latency-per-ktok 40
printf '{"providers": {%s}}\n' "$(prov big "$big_PORT" 2 0)" >big.json
words=$(awk 'BEGIN { for (i = 0; i < 40000; i++) printf "lorem%04d ", i % 10000 }')
printf '{"custom_id":"big-1","body":{"model":"big:m-big","messages":[{"role":"user","content":"Summarize: %s"}],"max_tokens":50}}\n' "$words" >big.jsonl
printf '{"custom_id":"small-1","body":{"model":"big:m-big","messages":[{"role":"user","content":"Summarize: a short one"}],"max_tokens":50}}\n' >>big.jsonl
t0=$(date +%s)
timeout -k 5 60 "$NIGHTSHIFT" run --db big.db --providers big.json big.jsonl >"$T/out" 2>"$T/err"; rc=$?
expect "100k-token prompt: the run succeeds" 0 "2/2 done"
tokens=$(q big.db "SELECT tokens_in FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.custom_id = 'big-1'")
check "100k-token prompt: the provider counted 100k+ tokens ($tokens)" test "${tokens:-0}" -ge 100000
eq "100k-token prompt: served by its first request" "$(ledger big.db big-1)" "big:ok/done"
slow=$(took big | sort -n | tail -n 1)
check "100k-token prompt: its reply took longer than the 2 s base timeout ($slow ms)" \
  test "${slow:-0}" -gt 3000
fast=$(took big | sort -n | head -n 1)
check "the short prompt's reply was quick ($fast ms)" test "${fast:-9999}" -lt 1000
check "100k-token prompt: the run took what the reply took, no retry ($(( $(date +%s) - t0 )) s)" \
  test $(( $(date +%s) - t0 )) -lt 20

# --- a slow drip and a stall after the headers: each attempt ends as a
# timeout near its bound (base 1 s + 1 s per 1,000 prompt tokens + 10 ms
# per requested output token, here about 1.2 s), is retried once, then the
# job fails over to a provider that answers
mock_as slow --key "$SK" --drip-ms 100 --drip-bytes 8 --hang-ms 30000 \
  --fault-match '"model":"m-drip"=drip' --fault-match '"model":"m-stall"=stall'
mock_as spare --key "$SK"
cat >slow.json <<JSON
{"providers": {$(prov drip "$slow_PORT" 1 1), $(prov stall "$slow_PORT" 1 1),
  $(prov spare "$spare_PORT" 10 1)},
 "routes": {"r-drip": ["drip:m-drip", "spare:m-spare"],
   "r-stall": ["stall:m-stall", "spare:m-spare"]}}
JSON
# The spare is dearer, so the drip and stall providers are tried first.
sed -i 's/"m-spare": {"input_per_mtok": 0.10, "output_per_mtok": 0.40/"m-spare": {"input_per_mtok": 1, "output_per_mtok": 4/' slow.json
for k in drip stall; do
  printf '{"custom_id":"%s-1","body":{"model":"r-%s","messages":[{"role":"user","content":"Summarize the %s case"}],"max_tokens":20}}\n' "$k" "$k" "$k"
done >slow.jsonl
t0=$(date +%s)
timeout -k 5 60 "$NIGHTSHIFT" run --db slow.db --providers slow.json slow.jsonl >"$T/out" 2>"$T/err"; rc=$?
elapsed=$(( $(date +%s) - t0 ))
expect "drip and stall: the run succeeds by failover" 0 "2/2 done"
check "drip and stall: the run's time is bounded ($elapsed s)" test "$elapsed" -lt 15
for k in drip stall; do
  eq "$k: timeout, retried, timeout, failed over, served" "$(ledger slow.db $k-1)" \
    "$k:timeout/retry $k:timeout/failover spare:ok/done"
  b=$(q slow.db "SELECT group_concat(latency_ms >= 1000 AND latency_ms < 2500, '') FROM attempts WHERE provider = '$k'")
  eq "$k: each attempt was cut off by its timeout, about 1.2 s" "$b" 11
done
stop_mock
kill "$slow_PID" 2>/dev/null; wait "$slow_PID" 2>/dev/null
eq "drip: the mock sent headers (200) before the cut" \
  "$(grep -F '"model":"m-drip"' "$T/slow.log" | grep -c -F '"kind":"drip","status":200')" 2
eq "stall: the mock sent headers (200) and then nothing" \
  "$(grep -F '"model":"m-stall"' "$T/slow.log" | grep -c -F '"kind":"stall","status":200')" 2
eq "drip and stall: no usage is logged as served" "$(grep -c '"usage":{' "$T/slow.log")" 0
