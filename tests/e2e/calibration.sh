# calibration.sh — calibration never reorders a route (issue 15): route
# "cheap" = qwen (0.40/1.20 per Mtok), deepseek (0.56/1.68), claude
# (3/15), all healthy, with jobs pinned to the dearer ones in several mixes
# and orders, and a mock whose prompt_tokens run 2.5-3.5x what nightshift
# estimates (a body's own factor), so calibration moves as replies come
# in. At least 99% of the route's jobs must go to qwen, the cheapest at
# list price for the same token counts; before the fix, qwen calibrated by
# its first replies while deepseek stayed on the prior (or deepseek's
# pinned replies gave it an average output while qwen had none) and the
# route went to deepseek.
. "$(dirname "$0")/lib.sh"
export QWEN_KEY=sk-qwen-0123456789 DEEPSEEK_KEY=sk-ds-0123456789 CLAUDE_KEY=sk-cl-0123456789

# One mock stands for the three providers; each asks for its own model.
start_mock --prompt-scale 2.5-3.5 --latency 5-40 --threads 4

# The route lists the dearest first: only the price comparison puts qwen
# first (ties go to the route's order).
cat >p.json <<JSON
{"providers": {
  "qwen": {"dialect": "openai", "flavor": "dashscope", "base_url": "http://127.0.0.1:$MOCK_PORT/v1",
           "api_key_env": "QWEN_KEY", "timeout_s": 10, "connect_timeout_s": 2,
           "models": {"qwen-plus": {"input_per_mtok": 0.40, "output_per_mtok": 1.20}}},
  "deepseek": {"dialect": "openai", "flavor": "deepseek", "base_url": "http://127.0.0.1:$MOCK_PORT/v1",
           "api_key_env": "DEEPSEEK_KEY", "timeout_s": 10, "connect_timeout_s": 2,
           "models": {"deepseek-chat": {"input_per_mtok": 0.56, "output_per_mtok": 1.68}}},
  "claude": {"dialect": "anthropic", "base_url": "http://127.0.0.1:$MOCK_PORT",
           "api_key_env": "CLAUDE_KEY", "timeout_s": 10, "connect_timeout_s": 2,
           "models": {"claude-sonnet": {"input_per_mtok": 3.00, "output_per_mtok": 15.00}}}},
 "routes": {"cheap": ["claude:claude-sonnet", "deepseek:deepseek-chat", "qwen:qwen-plus"]}}
JSON

# job KIND N: one job line; KIND r (the route), c (pinned to claude) or d
# (pinned to deepseek). Prompts of 100-1,500 estimated tokens, every other
# one with max_tokens 800, the same shapes whatever the kind.
job() {
  case $1 in
  r) model=cheap ;;
  c) model=claude:claude-sonnet ;;
  d) model=deepseek:deepseek-chat ;;
  esac
  awk -v k="$1" -v n="$2" -v m="$model" 'BEGIN {
    len = 400 + (n * 7919 + (k == "r" ? 0 : k == "c" ? 13 : 29)) % 5600
    s = "Summarize item " k n ":"
    while (length(s) < len) s = s " lorem ipsum dolor"
    mt = n % 2 ? ",\"max_tokens\":800" : ""
    printf "{\"custom_id\":\"%s-%d\",\"body\":{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]%s}}\n", k, n, m, s, mt
  }'
}

# mixed NAME SPEC...: a jobs file of the kinds in SPEC order, each SPEC
# "KIND:COUNT" (numbered on from the kind's last); then run it.
mixed() {
  name=$1; shift
  : >"$name.jsonl"; nr=0; nc=0; nd=0
  for spec in "$@"; do
    k=${spec%%:*}; cnt=${spec#*:}; mi=0
    while [ $mi -lt "$cnt" ]; do
      case $k in r) nr=$((nr + 1)); n=$nr ;; c) nc=$((nc + 1)); n=$nc ;; d) nd=$((nd + 1)); n=$nd ;; esac
      job "$k" "$n" >>"$name.jsonl"
      mi=$((mi + 1))
    done
  done
}

# route_check NAME: run NAME.jsonl; the route's jobs must go to qwen.
route_check() {
  run run --db "$1.db" --providers p.json --max-inflight 8 --no-progress "$1.jsonl"
  expect "$1: every job done" 0 "done"
  total=$(q "$1.db" "SELECT count(*) FROM jobs WHERE custom_id LIKE 'r-%'")
  elsewhere=$(q "$1.db" "SELECT count(DISTINCT a.job_id) FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.custom_id LIKE 'r-%' AND a.provider != 'qwen'")
  check "$1: route jobs exist" test "$total" -gt 0
  # at least 99%: at most one in a hundred anywhere but qwen
  if [ $((elsewhere * 100)) -le "$total" ]; then ok "$1: at least 99% of $total route jobs went to qwen"
  else notok "$1: at least 99% of $total route jobs went to qwen" \
    "$(q "$1.db" "SELECT a.provider, count(*) FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.custom_id LIKE 'r-%' GROUP BY a.provider")"
  fi
  check "$1: pinned jobs stayed pinned" test "$(q "$1.db" "SELECT count(*) FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE (j.custom_id LIKE 'c-%' AND a.provider != 'claude') OR (j.custom_id LIKE 'd-%' AND a.provider != 'deepseek')")" = 0
}

# pinned first, as in the issue: 100 on claude, 50 on deepseek, then 150
mixed first c:100 d:50 r:150
route_check first
# calibration did move: the mock reported 2.5-3.5x the estimates
check "first: the ledger saw prompts 2.5-3.5x the estimates" test "$(q first.db "SELECT total(a.tokens_in) > 2.4 * total(j.est_input_tokens) FROM attempts a JOIN jobs j ON j.id = a.job_id")" = 1

# interleaved: claude, claude, deepseek, route, route, route
round=0; : >inter.jsonl
while [ $round -lt 50 ]; do
  mixed part c:2 d:1 r:3
  sed -e "s/\"custom_id\":\"\([crd]\)-\([0-9]*\)\"/\"custom_id\":\"\1-$round-\2\"/" -e "s/item \([crd]\)/item $round \1/" part.jsonl >>inter.jsonl
  round=$((round + 1))
done
route_check inter

# pinned last: the route first, then 50 on deepseek and 100 on claude
mixed last r:150 d:50 c:100
route_check last

# deepseek's pins spread among the route's, no claude
mixed spread d:25 r:50 d:25 r:50 d:50 r:50
route_check spread
