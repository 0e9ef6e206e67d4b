# quirks.sh — provider quirks end to end, against the mock provider and
# asserted from its request log: Qwen3 thinking turned off, parameters a
# provider rejects dropped, JSON mode (the word "json" ensured, or emulated
# by instruction), JSON-output validation (a broken reply retried once on
# the same provider, then failed over), an Anthropic round trip (job ->
# Messages request -> chat.completion result), prices from a LiteLLM price
# map (--prices, $NIGHTSHIFT_PRICES), and every ledger row's cost equal to
# its token kinds at the configured prices.
# Needs NIGHTSHIFT, MOCK and the sqlite3 shell. Prints "ok - NAME" lines.
here=$(cd "$(dirname "$0")" && pwd)
FIXTURE="$here/../fixtures/litellm_prices.json"
. "$here/lib.sh"
unset NIGHTSHIFT_PRICES
export QK=sk-quirks-0123456789

# line_for NAME ID: the first request the mock NAME logged for custom_id ID
# (a whole log line: the request body is in it, compact, as sent).
line_for() { grep -F "\"client_request_id\":\"$2\"" "$T/$1.log" | head -n 1; }
# count_for NAME ID: how many requests the mock NAME logged for ID.
count_for() { grep -c -F "\"client_request_id\":\"$2\"" "$T/$1.log"; }
# has/lacks NAME TEXT PATTERN: a fixed string is (not) in TEXT.
has() {
  if printf '%s' "$2" | grep -q -F -- "$3"; then ok "$1"
  else notok "$1" "[$(printf '%s' "$2" | head -c 600)] lacks [$3]"; fi
}
lacks() {
  if printf '%s' "$2" | grep -q -F -- "$3"; then notok "$1" "has [$3]"
  else ok "$1"; fi
}
eq() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got [$2] want [$3]"; fi; }

# prov NAME PORT EXTRA MODELS: one openai-dialect provider entry.
prov() {
  printf '"%s": {"dialect": "openai", "base_url": "http://127.0.0.1:%s/v1",
    "api_key_env": "QK", "max_retries": 2, "timeout_s": 10,
    "connect_timeout_s": 2, %s "models": {%s}}' "$1" "$2" "$3" "$4"
}

# A model that ignores the json_schema it was given, for the job that
# carries this schema (see "json_schema not followed" below).
mock_as main --key "$QK" --fault-match '"title":{"type":"string"}=noschema'
P=$main_PORT
cat >p.json <<JSON
{"providers": {
 $(prov think "$P" '"flavor": "dashscope", "quirks": {"enable_thinking": false},' \
   '"qwen-think": {"input_per_mtok": 0.40, "output_per_mtok": 1.20,
     "cached_input_per_mtok": 0.08, "cache_write_per_mtok": 0.50}'),
 $(prov plain "$P" '"flavor": "openai",' \
   '"plain-m": {"input_per_mtok": 2.50, "output_per_mtok": 10}'),
 $(prov mistral "$P" '"flavor": "mistral", "quirks": {"drop_params": ["seed", "user"]},' \
   '"mistral-small": {"input_per_mtok": 0.10, "output_per_mtok": 0.30}'),
 $(prov dash "$P" '"flavor": "dashscope", "quirks": {"needs_json_word": true},' \
   '"qwen-json": {"input_per_mtok": 0.05, "output_per_mtok": 0.40}'),
 $(prov prompted "$P" '"flavor": "generic", "quirks": {"json_mode": "prompt"},' \
   '"pm": {"input_per_mtok": 1.00, "output_per_mtok": 5.00}'),
 $(prov night "$P" '"flavor": "deepseek",' \
   '"nm": {"input_per_mtok": 0.60, "output_per_mtok": 2.40,
     "offpeak": [{"start": "00:00", "end": "24:00",
       "input_per_mtok": 0.30, "output_per_mtok": 1.20}]}'),
 "claude": {"dialect": "anthropic", "base_url": "http://127.0.0.1:$P",
   "api_key_env": "QK", "max_retries": 2, "timeout_s": 10, "connect_timeout_s": 2,
   "models": {"claude-x": {"input_per_mtok": 1.00, "output_per_mtok": 5.00,
     "cached_input_per_mtok": 0.10, "cache_write_per_mtok": 1.25,
     "max_output_tokens": 2048}}}}}
JSON

u='[{"role":"user","content":"Summarize: the quick brown fox"}]'
xf='[{"role":"user","content":"Extract the title and year of: Dune, 1965"}]'
schema='{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object","properties":{"summary":{"type":"string"}},"required":["summary"]}}}'
cat >jobs.jsonl <<JSONL
{"custom_id":"think-1","body":{"model":"think:qwen-think","messages":$u,"max_tokens":60}}
{"custom_id":"nothink-1","body":{"model":"plain:plain-m","messages":$u,"max_tokens":60}}
{"custom_id":"drop-1","body":{"model":"mistral:mistral-small","messages":$u,"seed":7,"user":"u-42","temperature":0.2}}
{"custom_id":"keep-1","body":{"model":"plain:plain-m","messages":$u,"seed":7,"user":"u-42","temperature":0.2}}
{"custom_id":"jw-1","body":{"model":"dash:qwen-json","messages":$xf,"response_format":{"type":"json_object"}}}
{"custom_id":"jw-2","body":{"model":"dash:qwen-json","messages":[{"role":"user","content":"Answer in JSON: title of Dune"}],"response_format":{"type":"json_object"}}}
{"custom_id":"jw-0","body":{"model":"plain:plain-m","messages":$xf,"response_format":{"type":"json_object"}}}
{"custom_id":"jp-1","body":{"model":"prompted:pm","messages":$xf,"response_format":{"type":"json_object"}}}
{"custom_id":"jp-2","body":{"model":"prompted:pm","messages":$xf,"response_format":$schema}}
{"custom_id":"night-1","body":{"model":"night:nm","messages":$u,"max_tokens":80}}
{"custom_id":"an-1","body":{"model":"claude:claude-x","messages":[{"role":"system","content":"Be brief."},{"role":"system","content":"Answer in English."},{"role":"user","content":"Summarize: a long anthropic story"}],"max_tokens":300,"stop":["END"],"temperature":0.3}}
{"custom_id":"an-2","body":{"model":"claude:claude-x","messages":[{"role":"user","content":"Summarize: no max tokens given"}]}}
JSONL
run run --db q.db --providers p.json jobs.jsonl
expect "quirk jobs: all succeed" 0 "12/12 done"

# --- Qwen3 thinking off, only where the quirk says
l=$(line_for main think-1)
has "thinking: enable_thinking false sent" "$l" '"enable_thinking":false'
lacks "thinking: absent without the quirk" "$(line_for main nothink-1)" 'enable_thinking'

# --- parameters the provider rejects are dropped, others kept
l=$(line_for main drop-1)
lacks "drop_params: seed dropped" "$l" '"seed"'
lacks "drop_params: user dropped" "$l" '"user":"u-42"'
has "drop_params: other fields kept" "$l" '"temperature":0.2'
l=$(line_for main keep-1)
has "drop_params: kept without the quirk (seed)" "$l" '"seed":7'
has "drop_params: kept without the quirk (user)" "$l" '"user":"u-42"'

# --- JSON mode
instr='Respond with a single valid JSON object'
l=$(line_for main jw-1)
has "needs_json_word: instruction added when no message says json" "$l" "\"role\":\"system\",\"content\":\"$instr"
has "needs_json_word: response_format kept" "$l" '"response_format":{"type":"json_object"}'
lacks "needs_json_word: nothing added when a message says json" "$(line_for main jw-2)" "$instr"
lacks "needs_json_word: nothing added without the quirk" "$(line_for main jw-0)" "$instr"
l=$(line_for main jp-1)
lacks "json_mode prompt: response_format dropped" "$l" 'response_format'
has "json_mode prompt: instruction added" "$l" "$instr"
l=$(line_for main jp-2)
lacks "json_mode prompt: json_schema dropped" "$l" 'response_format'
has "json_mode prompt: the schema is in the instruction" "$l" 'It must conform to this JSON Schema: {\"type\":\"object\"'
check "json_mode prompt: results stored" test "$(q q.db "SELECT count(*) FROM results r JOIN jobs j ON j.id = r.job_id WHERE j.custom_id IN ('jp-1','jp-2') AND r.provider = 'prompted'")" = 2

# --- Anthropic round trip
l=$(line_for main an-1)
has "anthropic: Messages API path" "$l" '"path":"/v1/messages","dialect":"anthropic"'
has "anthropic: headers pass the mock's checks" "$l" '"kind":"ok","status":200'
has "anthropic: key accepted" "$l" '"auth_ok":true'
has "anthropic: system messages hoisted and joined" "$l" '"system":"Be brief.'
has "anthropic: second system message kept" "$l" 'Answer in English.'
lacks "anthropic: no system role in messages" "$l" '"role":"system"'
has "anthropic: job's max_tokens sent" "$l" '"max_tokens":300'
has "anthropic: stop mapped to stop_sequences" "$l" '"stop_sequences":["END"]'
has "anthropic: max_tokens defaults to the model's cap" "$(line_for main an-2)" '"max_tokens":2048'
run export --db q.db -o -
grep -F '"custom_id":"an-1"' "$T/out" >an.jsonl
a=$(cat an.jsonl)
has "anthropic: result is a chat.completion" "$a" '"object":"chat.completion"'
has "anthropic: choices[0].message.content" "$a" '"choices":[{"index":0,"message":{"role":"assistant","content":"Summary ('
has "anthropic: finish_reason from stop_reason" "$a" '"finish_reason":"stop"'
has "anthropic: original usage kept" "$a" '"anthropic":{"input_tokens":'
# members OpenAI's schema requires, null where Messages has no value:
# the export keeps them (typed clients refuse a reply without them)
has "anthropic: refusal and logprobs null in the export" "$a" \
  '"refusal":null},"logprobs":null,"finish_reason":'
has "anthropic: result names the provider" "$a" '"provider":"claude","model":"claude-x"'

# --- JSON-output validation: one broken reply, retried on the same provider
mock_as flaky --key "$QK" --fail-first 1=badcontent
cat >f.json <<JSON
{"providers": {$(prov flaky "$flaky_PORT" '"flavor": "openai",' \
  '"fm": {"input_per_mtok": 0.20, "output_per_mtok": 0.80}')}}
JSON
cat >fjobs.jsonl <<JSONL
{"custom_id":"bc-1","body":{"model":"flaky:fm","messages":$xf,"response_format":{"type":"json_object"}}}
{"custom_id":"bc-text","body":{"model":"flaky:fm","messages":$u}}
JSONL
run run --db f.db --providers f.json fjobs.jsonl
expect "badcontent once: the job succeeds" 0 "2/2 done"
eq "badcontent once: retried once on the same provider" "$(count_for flaky bc-1)" 2
eq "badcontent once: first reply was the broken one" \
  "$(grep -F '"client_request_id":"bc-1"' "$T/flaky.log" | sed 's/.*"kind":"\([a-z0-9]*\)".*/\1/' | tr '\n' ' ')" "badcontent ok "
eq "badcontent once: ledger says invalid_output, retry" \
  "$(q f.db "SELECT group_concat(error_class || '/' || action, ' ') FROM (SELECT a.* FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.custom_id = 'bc-1' ORDER BY a.id)")" \
  "invalid_output/retry ok/done"
eq "badcontent: prose is fine when no JSON was asked" "$(count_for flaky bc-text)" 1

# --- a provider that always breaks JSON: one quality retry, then failover
mock_as broken --key "$QK" --fault badcontent=1
mock_as healthy --key "$QK"
cat >fo.json <<JSON
{"providers": {
 $(prov broken "$broken_PORT" '"flavor": "openai",' \
   '"bm": {"input_per_mtok": 0.10, "output_per_mtok": 0.20}'),
 $(prov healthy "$healthy_PORT" '"flavor": "openai",' \
   '"hm": {"input_per_mtok": 3.00, "output_per_mtok": 9.00}')},
 "routes": {"json": ["broken:bm", "healthy:hm"]}}
JSON
printf '{"custom_id":"fo-1","body":{"model":"json","messages":%s,"response_format":{"type":"json_object"}}}\n' "$xf" >fojobs.jsonl
run run --db fo.db --providers fo.json fojobs.jsonl
expect "badcontent always: the job succeeds elsewhere" 0 "1/1 done"
eq "badcontent always: 1 try + 1 quality retry on the broken provider" "$(count_for broken fo-1)" 2
eq "badcontent always: then the healthy one, once" "$(count_for healthy fo-1)" 1
eq "badcontent always: result from the healthy provider" "$(q fo.db 'SELECT provider FROM results')" healthy
eq "badcontent always: ledger" \
  "$(q fo.db "SELECT group_concat(provider || ':' || error_class || '/' || action, ' ') FROM (SELECT * FROM attempts ORDER BY id)")" \
  "broken:invalid_output/retry broken:invalid_output/failover healthy:ok/done"

# --- json_schema: a reply missing a required key is invalid output
badschema='{"type":"json_schema","json_schema":{"name":"b","schema":{"type":"object","properties":{"title":{"type":"string"},"year":{"type":"integer"}},"required":["title","year"]}}}'
printf '{"custom_id":"sch-1","body":{"model":"plain:plain-m","messages":%s,"response_format":%s}}\n' "$xf" "$badschema" >sch.jsonl
run run --db sch.db --providers p.json sch.jsonl
expect "json_schema not followed: dead after one quality retry" 3 "1 dead"
eq "json_schema not followed: two requests" "$(count_for main sch-1)" 2
eq "json_schema not followed: the reason is kept" "$(q sch.db 'SELECT error_code FROM results')" schema_mismatch
has "json_schema not followed: the missing key is named" "$(q sch.db 'SELECT error_message FROM results')" 'required key "title"'
eq "json_schema followed: the schema job above succeeded" "$(q q.db "SELECT r.status_code FROM results r JOIN jobs j ON j.id = r.job_id WHERE j.custom_id = 'jp-2'")" 200

# --- cost exactness: every attempt, its token kinds x the config's prices
# (the "night" model is inside its all-day off-peak window, so its window
# prices apply, not the base ones)
prices="WITH p(provider, model, pin, pout, pcached, pwrite) AS (VALUES
  ('think','qwen-think',0.40,1.20,0.08,0.50), ('plain','plain-m',2.50,10,2.50,2.50),
  ('mistral','mistral-small',0.10,0.30,0.10,0.10), ('dash','qwen-json',0.05,0.40,0.05,0.05),
  ('prompted','pm',1.00,5.00,1.00,1.00), ('night','nm',0.30,1.20,0.60,0.60),
  ('claude','claude-x',1.00,5.00,0.10,1.25), ('flaky','fm',0.20,0.80,0.20,0.20),
  ('broken','bm',0.10,0.20,0.10,0.10), ('healthy','hm',3.00,9.00,3.00,3.00))"
expected="(a.tokens_in * p.pin + a.tokens_cached * p.pcached + a.tokens_cache_write * p.pwrite + (a.tokens_out + a.tokens_reasoning) * p.pout) / 1e6"
for db in q.db f.db fo.db; do
  n=$(q $db "SELECT count(*) FROM attempts")
  good=$(q $db "$prices SELECT count(*) FROM attempts a JOIN p USING (provider, model) WHERE a.tokens_in > 0 AND a.tokens_out > 0 AND abs(a.cost_usd - $expected) <= 1e-12")
  check "cost exact to 1e-12 USD on every attempt of $db ($good of $n)" test "$n" -gt 0 -a "$good" = "$n"
done
check "cost: the off-peak window price was used, not the base" \
  test "$(q q.db "SELECT count(*) FROM attempts WHERE provider = 'night' AND abs(cost_usd - (tokens_in * 0.60 + tokens_out * 2.40) / 1e6) > 1e-9")" = 1
check "cost: the broken replies were billed too" \
  test "$(q fo.db "SELECT count(*) FROM attempts WHERE provider = 'broken' AND cost_usd > 0")" = 2

# --- prices from LiteLLM's price map
cp "$FIXTURE" lp.json
touch -d '2026-11-20 12:00:00 UTC' lp.json
cat >pp.json <<JSON
{"providers": {
 $(prov ds "$P" '"flavor": "deepseek",' \
   '"deepseek-flash": {"input_per_mtok": 9, "output_per_mtok": 9}'),
 $(prov local "$P" '"flavor": "generic",' \
   '"gpt-4o-mini": {"input_per_mtok": 9, "output_per_mtok": 9}')}}
JSON
run providers --providers pp.json --prices lp.json
expect "--prices: providers shows the map" 0 "price map: lp.json (1 model priced from it)"
expect "--prices: the model's new prices" 0 "deepseek-flash                0.28      0.42     0.028        0.28    131072"
expect "--prices: source and date per model" 0 "prices from litellm: lp.json, as of 2026-11-20"
check "--prices: a generic provider keeps its prices" grep -q 'gpt-4o-mini  *9\.0  *9\.0' "$T/out"
run providers --providers pp.json --json --prices lp.json
expect "--prices: in --json too" 0 '"price_source":	"litellm: lp.json"' '"price_date":	"2026-11-20"'
NIGHTSHIFT_PRICES=lp.json "$NIGHTSHIFT" providers --providers pp.json >"$T/out" 2>"$T/err"; rc=$?
expect "\$NIGHTSHIFT_PRICES: used without --prices" 0 "prices from litellm: lp.json, as of 2026-11-20"
run providers --providers pp.json --prices missing.json
expect "--prices: a missing file exits 2 naming it" 2 "missing.json: cannot open"
printf '{"deepseek/deepseek-flash": {' >torn.json
run providers --providers pp.json --prices torn.json
expect "--prices: a torn file exits 2 naming it" 2 "torn.json: invalid JSON"
run run --db x.db --providers pp.json --prices torn.json jobs.jsonl
expect "--prices: run refuses a torn file" 2 "torn.json: invalid JSON"
printf '{"custom_id":"lp-1","body":{"model":"ds:deepseek-flash","messages":%s,"max_tokens":60}}\n' "$u" >lpjobs.jsonl
run run --db lp.db --providers pp.json --prices lp.json lpjobs.jsonl
expect "--prices: run succeeds" 0 "1/1 done"
check "--prices: the ledger is priced from the map" \
  test "$(q lp.db 'SELECT count(*) FROM attempts WHERE tokens_in > 0 AND abs(cost_usd - (tokens_in * 0.28 + tokens_out * 0.42) / 1e6) <= 1e-12')" = 1

# --- a job the Messages API cannot express (n > 1) dies without holding
# its admission slot: with max_inflight 2, three of them used to leave the
# provider full and the run hung
mock_as cap --key "$QK"
cat >cap.json <<JSON
{"providers": {"claude": {"dialect": "anthropic",
  "base_url": "http://127.0.0.1:$cap_PORT", "api_key_env": "QK",
  "max_inflight": 2, "timeout_s": 10, "connect_timeout_s": 2,
  "models": {"claude-x": {"input_per_mtok": 1.00, "output_per_mtok": 5.00}}}}}
JSON
for i in 1 2 3; do
  printf '{"custom_id":"n2-%s","body":{"model":"claude:claude-x","messages":%s,"n":2}}\n' "$i" "$xf"
done >cap.jsonl
for i in 1 2; do
  printf '{"custom_id":"ok-%s","body":{"model":"claude:claude-x","messages":%s}}\n' "$i" "$xf"
done >>cap.jsonl
timeout 30 "$NIGHTSHIFT" run --db cap.db --providers cap.json --workers 1 \
  cap.jsonl >"$T/out" 2>"$T/err"; rc=$?
expect "unsendable jobs free their slot: the run ends" 3 "2/5 done, 3 dead"
eq "unsendable jobs free their slot: the others are sent" "$(logged cap)" 2

# --- a stored body that cannot be decoded (workers decode bodies now, not
# the store): that job dies saying why, the others are sent, the run goes on
for i in 1 2 3; do
  printf '{"custom_id":"cf-%s","body":{"model":"claude:claude-x","messages":%s}}\n' "$i" "$xf"
done >cf.jsonl
run ingest --db cf.db cf.jsonl
q cf.db "UPDATE jobs SET request = x'28b52ffd2400ffffffffffff' WHERE custom_id = 'cf-2'; UPDATE jobs SET request = x'' WHERE custom_id = 'cf-3'"
sent=$(logged cap)
timeout 30 "$NIGHTSHIFT" run --db cf.db --providers cap.json >"$T/out" 2>"$T/err"; rc=$?
expect "a corrupt stored body: that job dies, the run ends" 3 "1/3 done, 2 dead"
eq "a corrupt stored body: its reason" \
  "$(q cf.db "SELECT r.error_code || ': ' || r.error_message FROM results r JOIN jobs j ON j.id = r.job_id WHERE j.custom_id = 'cf-2' AND j.state = 3")" \
  "corrupt_body: its stored body cannot be decoded (corrupt frame)"
eq "a corrupt stored body: an empty one too" \
  "$(q cf.db "SELECT r.error_code FROM results r JOIN jobs j ON j.id = r.job_id WHERE j.custom_id = 'cf-3'")" corrupt_body
eq "a corrupt stored body: only the others were sent" "$(( $(logged cap) - sent ))" 1
