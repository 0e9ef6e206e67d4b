# provider_errors.sh — every provider error shape through a whole
# `nightshift run`: the mock sends the real wire bodies and headers
# (DashScope's quota trap and Arrearage, OpenAI's 429 with reset headers
# and its insufficient_quota, Anthropic's 529 and RFC 3339 resets,
# DeepSeek's 402 and 503, Mistral's 422, Gemini's array-wrapped errors
# with "retry in Ns", a context overflow in both dialects, Retry-After as
# an HTTP-date and retry-after-ms), and the test checks from the ledger
# and the mock's log what nightshift made of each: the class it recorded,
# what policy did (a retry not before the announced pause, measured on the
# mock's clock; failover for billing; dead at once for a request's own
# fault), the exit code, and that the ledger's split prices (cached input,
# cache writes, reasoning) equal what the mock served at the configured
# prices. Each shape has a provider and a model of its own, so that one
# shape's failures never trip another's breaker and the mock picks the
# shape by the model in the body.
# Needs NIGHTSHIFT, MOCK and the sqlite3 shell. Prints "ok - NAME" lines.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
export PK=sk-perr-0123456789
S=2 # the pause every 429 shape announces, in seconds

eq() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got [$2] want [$3]"; fi; }

# Shapes that fail a job's first try only, then serve it; and shapes that
# fail every try (billing, bad request, overflow).
once="allocquota 503deepseek 429gemini 503gemini 429date 429ms 429reset 429openai 429rfc3339 429anthropic 529"
always="arrearage 402deepseek 429quota 422mistral context"
margs=""
for k in $once; do margs="$margs --fault-match \"model\":\"m-$k\"=$k*1"; done
for k in $always; do margs="$margs --fault-match \"model\":\"m-$k\"=$k"; done
for k in context; do margs="$margs --fault-match \"model\":\"a-$k\"=$k"; done
# shellcheck disable=SC2086
mock_as main --key "$PK" --retry-after $S --cached 0.25 --cache-write 0.125 \
  --reasoning 0.5 $margs
P=$main_PORT

# prov NAME FLAVOR DIALECT: one provider with its model m-NAME (a-NAME
# for the Anthropic dialect); prices with every token kind apart.
prov() {
  m=m-$1; url="http://127.0.0.1:$P/v1"
  if [ "$3" = anthropic ]; then url="http://127.0.0.1:$P"; fi
  printf '"%s": {"dialect": "%s", "flavor": "%s", "base_url": "%s",
    "api_key_env": "PK", "max_retries": 2, "timeout_s": 10,
    "connect_timeout_s": 2, "models": {"%s": {"input_per_mtok": 0.40,
    "output_per_mtok": 1.60, "cached_input_per_mtok": 0.10,
    "cache_write_per_mtok": 0.50}}}' "$1" "$3" "$2" "$url" "$m"
}
{
  printf '{"providers": {\n'
  for s in allocquota:dashscope arrearage:dashscope 402deepseek:deepseek \
    503deepseek:deepseek 422mistral:mistral 429gemini:gemini 503gemini:gemini \
    context:openai 429date:openai 429ms:openai 429reset:openai \
    429openai:openai 429quota:openai; do
    prov "${s%%:*}" "${s#*:}" openai; printf ',\n'
  done
  for s in 429rfc3339 429anthropic 529; do
    prov "$s" anthropic anthropic; printf ',\n'
  done
  printf '"actx": {"dialect": "anthropic", "flavor": "anthropic",
    "base_url": "http://127.0.0.1:%s", "api_key_env": "PK", "max_retries": 2,
    "timeout_s": 10, "connect_timeout_s": 2, "models": {"a-context":
    {"input_per_mtok": 1, "output_per_mtok": 5}}},\n' "$P"
  prov spare openai openai
  printf '},\n "routes": {
    "r-arrearage": ["arrearage:m-arrearage", "spare:m-spare"],
    "r-402deepseek": ["402deepseek:m-402deepseek", "spare:m-spare"],
    "r-429quota": ["429quota:m-429quota", "spare:m-spare"],
    "r-context": ["context:m-context", "spare:m-spare"]}}\n'
} >p.json

job() { # ID MODEL
  printf '{"custom_id":"%s","body":{"model":"%s","messages":[{"role":"user","content":"Summarize the %s case"}],"max_tokens":80}}\n' "$1" "$2" "$1"
}
{
  for k in $once; do job "$k" "$k:m-$k"; done
  job arrearage r-arrearage
  job 402deepseek r-402deepseek
  job 429quota r-429quota
  job context r-context
  job 422mistral 422mistral:m-422mistral
  job context-alone context:m-context
  job context-anthropic actx:a-context
} >jobs.jsonl
timeout -k 5 120 "$NIGHTSHIFT" run --db e.db --providers p.json --workers 4 \
  jobs.jsonl >"$T/out" 2>"$T/err"; rc=$?
expect "the run ends, the request's own faults dead: exit 3" 3 "15/18 done, 3 dead"

# ledger_of DB JOB: provider:class/action of each attempt of a job, in
# order; ledger JOB: the same in the main run's database.
ledger() { ledger_of e.db "$1"; }
ledger_of() {
  q "$1" "SELECT group_concat(x, ' ') FROM (SELECT a.provider || ':' ||
    a.error_class || '/' || coalesce(a.action, '-') AS x FROM attempts a
    JOIN jobs j ON j.id = a.job_id WHERE j.custom_id = '$2' ORDER BY a.id)"
}
# gap_ms ID: ms between the arrivals (mock's clock) of ID's first two
# requests.
gap_ms() {
  grep -F "\"client_request_id\":\"$1\"" "$T/main.log" |
    sed -n 's/^{"t_ms":\([0-9]*\),.*/\1/p' | head -n 2 | tr '\n' ' ' |
    awk '{ print $2 - $1 }'
}
sent() { grep -c -F "\"client_request_id\":\"$1\"" "$T/main.log"; }
# sent_to ID MODEL: requests the mock logged for job ID with model MODEL.
sent_to() { grep -F "\"client_request_id\":\"$1\"" "$T/main.log" | grep -c -F "\"model\":\"$2\""; }
# paused_ok NAME ID FLOOR: the retry came no sooner than FLOOR ms after
# the refused request (the pause was honoured; a missed one retries at
# the backoff, under 1 s), and not much later.
paused_ok() {
  g=$(gap_ms "$2")
  if [ -n "$g" ] && [ "$g" -ge "$3" ] && [ "$g" -lt $(($3 + 4000)) ]; then
    ok "$1 (${g} ms, floor $3)"
  else
    notok "$1" "gap [$g] ms, floor $3"
  fi
}

# --- transient shapes: classified, retried on the same provider, served
eq "DashScope AllocationQuota (429 insufficient_quota) is a throttle, retried" \
  "$(ledger allocquota)" "allocquota:rate_limited/retry allocquota:ok/done"
eq "  recorded with its status" "$(q e.db "SELECT http_status FROM attempts WHERE error_class = 'rate_limited' AND provider = 'allocquota'")" 429
check "  it paused the provider (a quota is a spent window, not a refusal)" \
  test "$(q e.db "SELECT count(*) FROM events WHERE provider = 'allocquota' AND kind = 'paused'")" -ge 1
eq "DeepSeek 503 is overloaded, retried" "$(ledger 503deepseek)" \
  "503deepseek:overloaded/retry 503deepseek:ok/done"
eq "Gemini array-wrapped 429 is rate_limited, retried" "$(ledger 429gemini)" \
  "429gemini:rate_limited/retry 429gemini:ok/done"
eq "  recorded with its status" "$(q e.db "SELECT http_status FROM attempts WHERE provider = '429gemini' AND error_class = 'rate_limited'")" 429
paused_ok "  the retry waited for \"Please retry in ${S}.5s\"" 429gemini $((S * 1000 + 500))
eq "Gemini array-wrapped 503 UNAVAILABLE is overloaded" "$(ledger 503gemini)" \
  "503gemini:overloaded/retry 503gemini:ok/done"
eq "Anthropic 529 overloaded_error is overloaded, retried" "$(ledger 529)" \
  "529:overloaded/retry 529:ok/done"
eq "  recorded with its status" "$(q e.db "SELECT http_status FROM attempts WHERE provider = '529' AND error_class = 'overloaded'")" 529
for k in 429date 429ms 429reset 429openai 429rfc3339 429anthropic; do
  eq "$k: rate_limited, retried on the same provider" "$(ledger $k)" \
    "$k:rate_limited/retry $k:ok/done"
done
paused_ok "Retry-After as an HTTP-date: the retry waited for it" 429date $((S * 1000))
paused_ok "retry-after-ms: the retry waited for it" 429ms $((S * 1000 + 250))
paused_ok "x-ratelimit-reset-* alone: the retry waited for the later reset" 429reset $((S * 1000 + 300))
paused_ok "Retry-After with x-ratelimit-reset-requests" 429openai $((S * 1000))
paused_ok "Anthropic RFC 3339 reset alone: the retry waited for it" 429rfc3339 $((S * 1000))
paused_ok "Anthropic retry-after with its reset stamp" 429anthropic $((S * 1000))

# --- billing: the provider is dropped for the run, the job fails over
eq "DashScope Arrearage is billing: failover" "$(ledger arrearage)" \
  "arrearage:billing/failover spare:ok/done"
eq "DeepSeek 402 is billing: failover" "$(ledger 402deepseek)" \
  "402deepseek:billing/failover spare:ok/done"
eq "OpenAI 429 insufficient_quota is billing: failover" "$(ledger 429quota)" \
  "429quota:billing/failover spare:ok/done"
eq "  the billing providers were disabled, once each" \
  "$(q e.db "SELECT group_concat(provider, ' ') FROM (SELECT provider FROM events WHERE kind = 'disabled' ORDER BY provider)")" \
  "402deepseek 429quota arrearage"
for k in arrearage 402deepseek 429quota; do
  eq "  $k: one request, no retry" "$(sent_to $k m-$k)" 1
done

# --- the request's own fault: dead at once, no retry wasted
eq "Mistral 422 is a bad request: dead after one request" "$(ledger 422mistral)" \
  "422mistral:bad_request/dead"
eq "  one request only" "$(sent 422mistral)" 1
eq "  its message names the field" \
  "$(q e.db "SELECT instr(error_message, 'extra_forbidden') > 0 FROM results r JOIN jobs j ON j.id = r.job_id WHERE j.custom_id = '422mistral'")" 1
eq "context overflow with a bigger candidate: failover, not a retry" "$(ledger context)" \
  "context:context_overflow/failover spare:ok/done"
eq "context overflow alone (OpenAI shape): dead after one request" "$(ledger context-alone)" \
  "context:context_overflow/dead"
eq "  one request only" "$(sent context-alone)" 1
eq "context overflow (Anthropic shape): dead after one request" "$(ledger context-anthropic)" \
  "actx:context_overflow/dead"
eq "  the dead jobs keep their class" \
  "$(q e.db "SELECT group_concat(x, ' ') FROM (SELECT r.error_code AS x FROM results r JOIN jobs j ON j.id = r.job_id WHERE j.state = 3 ORDER BY j.custom_id)")" \
  "invalid_request_error context_length_exceeded invalid_request_error"

# --- report: the classes as the ledger has them
run report --db e.db --json
expect "report --json" 0 '"failures_by_class"'
printf '%s' "$(cat "$T/out")" >rep.json
for c in rate_limited overloaded billing bad_request context_overflow; do
  want=$(q e.db "SELECT count(*) FROM attempts WHERE error_class = '$c'")
  got=$(sqlite3 :memory: "SELECT sum(json_extract(value, '$.failures_by_class.$c')) FROM json_each(json_extract(readfile('rep.json'), '$.providers'))")
  eq "report: $c failures as in the ledger ($want)" "$got" "$want"
done

# --- cost: the ledger's split prices equal the mock's served usage at the
# configured prices (summed from the mock's log, not from the ledger)
{ printf '['; grep '"usage":{' "$T/main.log" | paste -sd, -; printf ']'; } >served.json
served="SELECT json_extract(value, '$.model') AS model,
  json_extract(value, '$.usage.in') AS i, json_extract(value, '$.usage.cached') AS c,
  json_extract(value, '$.usage.cache_write') AS w, json_extract(value, '$.usage.out') AS o,
  json_extract(value, '$.usage.reasoning') AS r FROM json_each(readfile('served.json'))"
want=$(sqlite3 :memory: "SELECT printf('%.12f', sum(i * 0.40 + c * 0.10 + w * 0.50 + (o + r) * 1.60) / 1e6) FROM ($served) WHERE model LIKE 'm-%'")
got=$(q e.db "SELECT printf('%.12f', sum(cost_usd)) FROM attempts WHERE error_class = 'ok' AND model LIKE 'm-%'")
eq "cost: the ledger's ok attempts cost what the mock served" "$got" "$want"
for col in "tokens_cached:c" "tokens_cache_write:w" "tokens_reasoning:r" "tokens_in:i" "tokens_out:o"; do
  w=$(sqlite3 :memory: "SELECT sum(${col#*:}) FROM ($served)")
  g=$(q e.db "SELECT sum(${col%%:*}) FROM attempts WHERE error_class = 'ok'")
  eq "cost: ${col%%:*} sum as served ($w)" "$g" "$w"
done
check "cost: the mock served cached, cache-write and reasoning tokens" \
  test "$(sqlite3 :memory: "SELECT min(c) > 0 AND max(w) > 0 AND max(r) > 0 FROM ($served) WHERE model LIKE 'm-%'")" = 1
eq "cost: one served usage per ok attempt" \
  "$(sqlite3 :memory: "SELECT count(*) FROM ($served)")" \
  "$(q e.db "SELECT count(*) FROM attempts WHERE error_class = 'ok'")"

# --- billing with no other candidate: the provider is dropped, its jobs
# wait in the queue for the account to be fixed (exit 4); nothing more is
# sent to it once it refused
{ job solo-1 arrearage:m-arrearage; job solo-2 arrearage:m-arrearage; } >solo.jsonl
before=$(grep -c . "$T/main.log")
timeout -k 5 60 "$NIGHTSHIFT" run --db solo.db --providers p.json --max-inflight 1 \
  solo.jsonl >"$T/out" 2>"$T/err"; rc=$?
expect "billing, no other candidate: the jobs wait, exit 4" 4 "refused this account" "stopped with 2 jobs left"
eq "  both jobs still queued" "$(q solo.db "SELECT count(*) FROM jobs WHERE state = 0")" 2
eq "  one request, then none to the refusing provider" "$(( $(grep -c . "$T/main.log") - before ))" 1
eq "  the ledger: billing, parked" "$(ledger_of solo.db solo-1)$(ledger_of solo.db solo-2)" "arrearage:billing/park"
