# plan.sh — `nightshift plan`: a dry run of `run`. Where each job would
# go (cheapest first; pinned jobs to their provider), the estimated cost
# and the time at each provider's limits, against a deadline and the
# dearest plan; it sends nothing and writes nothing.
. "$(dirname "$0")/lib.sh"
export QWEN_KEY=sk-qwen-0123456789 DEEPSEEK_KEY=sk-ds-0123456789
unset CLAUDE_KEY

start_mock
cat >p.json <<JSON
{"providers": {
  "qwen": {"dialect": "openai", "base_url": "http://127.0.0.1:$MOCK_PORT/v1",
           "api_key_env": "QWEN_KEY", "max_inflight": 10, "rpm": 60,
           "models": {"qwen-plus": {"input_per_mtok": 0.40, "output_per_mtok": 1.20}}},
  "deepseek": {"dialect": "openai", "base_url": "http://127.0.0.1:$MOCK_PORT/v1",
           "api_key_env": "DEEPSEEK_KEY", "max_inflight": 4,
           "models": {"deepseek-chat": {"input_per_mtok": 0.56, "output_per_mtok": 1.68}}},
  "claude": {"dialect": "anthropic", "base_url": "http://127.0.0.1:$MOCK_PORT",
           "api_key_env": "CLAUDE_KEY",
           "models": {"claude-sonnet": {"input_per_mtok": 3.00, "output_per_mtok": 15.00}}}},
 "routes": {"cheap": ["claude:claude-sonnet", "deepseek:deepseek-chat", "qwen:qwen-plus"]}}
JSON
pj() { printf '{"custom_id":"%s","body":{"model":"%s","messages":[{"role":"user","content":"Summarize item %s"}],"max_tokens":100}}\n' "$1" "$2" "$1"; }
{
  i=1; while [ $i -le 30 ]; do pj "r$i" cheap; i=$((i + 1)); done
  i=1; while [ $i -le 5 ]; do pj "d$i" deepseek:deepseek-chat; i=$((i + 1)); done
  i=1; while [ $i -le 3 ]; do pj "c$i" claude:claude-sonnet; i=$((i + 1)); done
  pj "x1" nosuchmodel
} >jobs.jsonl
run ingest --db q.db jobs.jsonl
expect "plan: ingest" 0 "enqueued 39"
sum=$(cat q.db* | cksum)

run plan --db q.db --providers p.json
expect "plan: route jobs to qwen, pinned to deepseek" 0 \
  "plan: 39 jobs in q.db" "qwen         qwen-plus" "      30 " \
  "deepseek     deepseek-chat" "       5 "
expect "plan: qwen's time at 60 rpm: 30 jobs take 30 s" 0 \
  "time at qwen's limits: 0:30 (rpm" "round trip 5000 ms, assumed"
expect "plan: claude has no key: parked; the unknown model is unroutable" 0 \
  "parked: 3 jobs" "unroutable: 1 jobs (x1: body.model"
expect "plan: the saving against the dearest plan" 0 "dearest plan: \$" "this one saves"
check "plan: nothing sent" test "$(wc -l <mock.log)" -eq 0
check "plan: nothing written" test "$(cat q.db* | cksum)" = "$sum"

run plan --db q.db --providers p.json --json
check "plan --json: rows and totals" sh -c "grep -q '\"provider\":\"qwen\",\"model\":\"qwen-plus\",\"lane\":\"sync\",\"jobs\":30' out && grep -q '\"total\":{\"jobs\":35' out && grep -q '\"parked\":3,\"unroutable\":1' out"

run plan --db q.db --providers p.json --max-runtime 10s
expect "plan: 30 s of work does not fit in 10 s" 0 "does not fit"
run plan --db q.db --providers p.json --max-runtime 2m
expect "plan: it fits in 2 minutes" 0 "fits"

# a file, with no queue: planned as run FILE would queue it
run plan --db none.db --providers p.json jobs.jsonl
expect "plan FILE without a queue" 0 "plan: 39 jobs in FILE" "      30 "
check "plan FILE: no database made" test ! -e none.db
printf 'not json\n' >>jobs.jsonl
run plan --db none.db --providers p.json jobs.jsonl
expect "plan FILE: a bad line is counted" 0 "rejected: 1 lines"

# lanes: qwen with a batch lane at half price
sed 's/"api_key_env": "QWEN_KEY",/"api_key_env": "QWEN_KEY", "batch": {"api": "openai"},/' p.json >pb.json
run plan --db q.db --providers pb.json
expect "plan: with no deadline qwen's jobs take its batch lane, at half price" 0 \
  "qwen         qwen-plus                batch       30" \
  "time in qwen's batch lane: 24:00:00 (its window; no turnaround learned yet)"
run plan --db q.db --providers pb.json --max-runtime 2h
expect "plan: a deadline before the lane's window keeps them sync" 0 \
  "qwen         qwen-plus                sync        30"
run plan --db q.db --providers pb.json --max-runtime 2h --lane batch
expect "plan --lane batch: the batch lane whatever the deadline" 0 \
  "qwen         qwen-plus                batch       30" "does not fit"
run plan --db q.db --providers pb.json --lane sync --json
check "plan --lane sync: no batch row" sh -c "grep -q '\"lane\":\"sync\",\"jobs\":30' out && ! grep -q '\"lane\":\"batch\"' out"
printf '{"custom_id":"own","nightshift":{"lane":"sync"},"body":{"model":"cheap","messages":[{"role":"user","content":"x"}],"max_tokens":100}}\n' >own.jsonl
run plan --db none.db --providers pb.json own.jsonl
expect "plan: a job's own lane wins" 0 "qwen         qwen-plus                sync         1"
run plan --db q.db --lane fast
expect "plan --lane: the value is named" 2 '--lane: "fast" is not auto, sync or batch'
run plan --help
expect "plan --help" 0 "usage: nightshift plan"
run plan --db missing.db
expect "plan: no queue, no file" 2 "missing.db"
stop_mock
