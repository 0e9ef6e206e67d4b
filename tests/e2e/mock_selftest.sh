#!/bin/sh
# mock_selftest.sh — end-to-end check of the mock provider itself: every
# fault kind, every selection mode, both dialects' checks, latency without
# a thread per connection, and the request log. Prints "ok - NAME" or
# "not ok - NAME" per check. Needs MOCK (path of mock-provider) and curl.
MOCK=${MOCK:-build/default/mock-provider}
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok - $1"; }
nok() { echo "not ok - $1${2:+ # $2}"; }
eq() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "got [$2] want [$3]"; fi; }
has() {
	if printf '%s' "$2" | grep -q -- "$3"; then ok "$1"
	else nok "$1" "[$(printf '%s' "$2" | head -c 300)] lacks [$3]"; fi
}
hasnt() {
	if printf '%s' "$2" | grep -q -- "$3"; then nok "$1" "has [$3]"
	else ok "$1"; fi
}

# start NAME ARGS...: runs the mock on a free port; sets PORT and PID.
start() {
	name=$1; shift
	# Created first: the background shell may open it after sed reads.
	: >"$tmp/$name.out"
	"$MOCK" --port 0 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	PID=$!
	pids="$pids $PID"
	PORT=""
	i=0
	while [ $i -lt 50 ] && [ -z "$PORT" ]; do
		PORT=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$tmp/$name.out")
		[ -n "$PORT" ] || sleep 0.1
		i=$((i + 1))
	done
	if [ -z "$PORT" ]; then
		nok "$name starts and prints its port" "$(cat "$tmp/$name.err")"
		exit 1
	fi
}

# stop: SIGTERM the last started mock; sets STOPRC to its exit status.
stop() {
	kill -TERM "$PID"
	wait "$PID"
	STOPRC=$?
}

# post PATH BODY [CURL ARGS...]: sets CODE (HTTP status), RC (curl exit),
# HDRS and BODY (response headers and body).
post() {
	path=$1; data=$2; shift 2
	CODE=$(curl -s -m 5 -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' \
		-X POST "http://127.0.0.1:$PORT$path" \
		-H 'Content-Type: application/json' --data-binary "$data" "$@")
	RC=$?
	HDRS=$(cat "$tmp/h" 2>/dev/null); BODY=$(cat "$tmp/b" 2>/dev/null)
	rm -f "$tmp/h" "$tmp/b"
}

chat() { # chat TEXT [CURL ARGS...]: an OpenAI request with TEXT inside
	text=$1; shift
	post /v1/chat/completions "{\"model\":\"qwen-plus\",\"messages\":[{\"role\":\"user\",\"content\":\"$text\"}],\"max_tokens\":300}" "$@"
}

msg() { # msg BODY [CURL ARGS...]: an Anthropic request
	b=$1; shift
	post /v1/messages "$b" -H 'anthropic-version: 2023-06-01' "$@"
}

# --- options --------------------------------------------------------------
"$MOCK" --help >"$tmp/help" 2>&1
eq "help_exits_0" "$?" 0
for o in --port --key --content-json --latency --seed --threads \
	--retry-after --hang-ms --fault-match --fail-first --schedule --fault \
	--rpm --window-ms --log --max-body --prompt-scale; do
	grep -q -- "$o" "$tmp/help" || nok "help_lists_$o"
done
ok "help_lists_every_option"
"$MOCK" --bogus >/dev/null 2>&1
eq "unknown_option_exits_2" "$?" 2
"$MOCK" --fault nosuchkind=0.5 >/dev/null 2>&1
eq "unknown_fault_kind_exits_2" "$?" 2
"$MOCK" --fault 500=1.5 >/dev/null 2>&1
eq "rate_out_of_range_exits_2" "$?" 2
"$MOCK" --latency 5-2 >/dev/null 2>&1
eq "latency_min_over_max_exits_2" "$?" 2
"$MOCK" --prompt-scale 3-2 >/dev/null 2>&1
eq "prompt_scale_min_over_max_exits_2" "$?" 2

# --- mock A: every fault kind by --fault-match, auth, checks, log -----------
log="$tmp/a.log"
start a --log "$log" --key sk-test-123 --retry-after 3 --max-body 4096 \
	--hang-ms 1500 \
	--fault-match @429openai@=429openai --fault-match @429quota@=429quota \
	--fault-match @429anthropic@=429anthropic --fault-match @429@=429 \
	--fault-match @529@=529 --fault-match @500@=500 --fault-match @502@=502 \
	--fault-match @503@=503 --fault-match @reset@=reset \
	--fault-match @hang@=hang --fault-match @truncated@=truncated \
	--fault-match @badjson@=badjson --fault-match @error200@=error200 \
	--fault-match @moderation@=moderation --fault-match @401@=401 \
	--fault-match @emptychoices@=emptychoices \
	--fault-match @badcontent@=badcontent \
	--fault-match @noschema@=noschema --fault-match @nousage@=nousage \
	--fault-match @negusage@=negusage --fault-match @hugeusage@=hugeusage
eq "port_line_is_the_only_stdout" "$(wc -l <"$tmp/a.out" | tr -d ' ')" 1
A='-H Authorization:Bearer\ sk-test-123'
auth="Authorization: Bearer sk-test-123"
nreq=0

chat "Summarize: alpha beta gamma" -H "$auth" -H 'X-Client-Request-Id: doc-1'
nreq=$((nreq + 1))
eq "openai_ok_status" "$CODE" 200
has "openai_ok_object" "$BODY" '"object":"chat.completion"'
has "openai_ok_model_echoed" "$BODY" '"model":"qwen-plus"'
has "openai_ok_role" "$BODY" '"role":"assistant"'
has "openai_ok_finish_stop" "$BODY" '"finish_reason":"stop"'
has "openai_ok_content_quotes_prompt" "$BODY" '"content":"Summary ([0-9a-f]\{8\}): Summarize: alpha beta gamma'
has "openai_ok_request_id_header" "$HDRS" 'x-request-id: req_'
# prompt: 27 bytes -> ceil(27/4)=7, + 4 for one message = 11
has "openai_ok_prompt_tokens" "$BODY" '"prompt_tokens":11,'
clen=$(printf '%s' "$BODY" | sed 's/.*"content":"\([^"]*\)".*/\1/' | awk '{print length($0)}')
ctok=$(printf '%s' "$BODY" | sed 's/.*"completion_tokens":\([0-9]*\).*/\1/')
eq "openai_ok_completion_tokens_ceil_len_div_4" "$ctok" $(( (clen + 3) / 4 ))
if [ "$clen" -ge 200 ] && [ "$clen" -le 700 ]; then ok "content_length_realistic"
else nok "content_length_realistic" "$clen"; fi
first=$(printf '%s' "$BODY" | sed 's/.*"choices":\(.*\),"usage".*/\1/')
chat "Summarize: alpha beta gamma" -H "$auth"
nreq=$((nreq + 1))
eq "content_deterministic_per_body" "$(printf '%s' "$BODY" | sed 's/.*"choices":\(.*\),"usage".*/\1/')" "$first"
chat "Summarize: something else entirely" -H "$auth"
nreq=$((nreq + 1))
second=$(printf '%s' "$BODY" | sed 's/.*"choices":\(.*\),"usage".*/\1/')
if [ "$second" != "$first" ]; then ok "content_differs_per_body"; else nok "content_differs_per_body"; fi

post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"cut me short please"}],"max_tokens":5}' -H "$auth"
nreq=$((nreq + 1))
has "max_tokens_cut_finish_length" "$BODY" '"finish_reason":"length"'
has "max_tokens_cut_completion_tokens" "$BODY" '"completion_tokens":5,'
clen=$(printf '%s' "$BODY" | sed 's/.*"content":"\([^"]*\)".*/\1/' | awk '{print length($0)}')
eq "max_tokens_cut_content_to_4x" "$clen" 20

chat "x" -H 'Authorization: Bearer wrong'
nreq=$((nreq + 1))
eq "openai_wrong_key_401" "$CODE" 401
has "openai_wrong_key_body" "$BODY" '"code":"invalid_api_key"'
chat "x"
nreq=$((nreq + 1))
eq "openai_missing_key_401" "$CODE" 401

good='{"model":"claude-x","max_tokens":300,"system":"be brief","messages":[{"role":"user","content":"Summarize: delta epsilon"}]}'
msg "$good" -H 'x-api-key: sk-test-123'
nreq=$((nreq + 1))
eq "anthropic_ok_status" "$CODE" 200
has "anthropic_ok_type" "$BODY" '"type":"message"'
has "anthropic_ok_id" "$BODY" '"id":"msg_'
has "anthropic_ok_content_block" "$BODY" '"content":\[{"type":"text","text":"Summary ([0-9a-f]*): Summarize: delta epsilon'
has "anthropic_ok_stop_reason" "$BODY" '"stop_reason":"end_turn"'
# 23 + 8 (system) bytes -> 8 tokens, + 4 x 2 messages = 16
has "anthropic_ok_usage" "$BODY" '"usage":{"input_tokens":16,"output_tokens":[0-9]'
has "anthropic_ok_request_id_header" "$HDRS" 'request-id: req_'
msg "$good" -H 'x-api-key: nope'
nreq=$((nreq + 1))
eq "anthropic_wrong_key_401" "$CODE" 401
has "anthropic_wrong_key_body" "$BODY" '"type":"authentication_error","message":"invalid x-api-key"'
post /v1/messages "$good" -H 'x-api-key: sk-test-123'
nreq=$((nreq + 1))
eq "anthropic_missing_version_400" "$CODE" 400
has "anthropic_400_shape" "$BODY" '^{"type":"error","error":{"type":"invalid_request_error"'
msg '{"model":"c","messages":[{"role":"user","content":"hi"}]}' -H 'x-api-key: sk-test-123'
nreq=$((nreq + 1))
eq "anthropic_missing_max_tokens_400" "$CODE" 400
msg '{"model":"c","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}' -H 'x-api-key: sk-test-123'
nreq=$((nreq + 1))
eq "anthropic_zero_max_tokens_400" "$CODE" 400
msg '{"model":"c","max_tokens":10,"messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"}]}' -H 'x-api-key: sk-test-123'
nreq=$((nreq + 1))
eq "anthropic_system_role_400" "$CODE" 400
has "anthropic_system_role_message" "$BODY" 'Unexpected role'
msg '{"model":"c","max_tokens":10,"messages":[]}' -H 'x-api-key: sk-test-123'
nreq=$((nreq + 1))
eq "anthropic_empty_messages_400" "$CODE" 400
msg '{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}' -H 'x-api-key: sk-test-123'
nreq=$((nreq + 1))
eq "anthropic_missing_model_400" "$CODE" 400
msg '{"model":"c","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}' -H 'x-api-key: sk-test-123'
nreq=$((nreq + 1))
has "anthropic_max_tokens_stop_reason" "$BODY" '"stop_reason":"max_tokens"'

CODE=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v1/chat/completions")
nreq=$((nreq + 1))
eq "get_is_405" "$CODE" 405
post /v1/embeddings '{"model":"m","input":"x"}' -H "$auth"
nreq=$((nreq + 1))
eq "unknown_path_404" "$CODE" 404
has "unknown_path_openai_shape" "$BODY" '^{"error":{"message":'
big=$(awk 'BEGIN { s = ""; for (i = 0; i < 600; i++) s = s "xxxxxxxx"; print s }')
chat "$big" -H "$auth"
nreq=$((nreq + 1))
eq "body_over_max_body_413" "$CODE" 413
post /custom/prefix/v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"p"}]}' -H "$auth"
nreq=$((nreq + 1))
eq "any_path_ending_chat_completions" "$CODE" 200

# Fault kinds.
chat "go @429@" -H "$auth"
nreq=$((nreq + 1))
eq "fault_429_status" "$CODE" 429
has "fault_429_retry_after" "$HDRS" 'Retry-After: 3'
has "fault_429_dashscope_body" "$BODY" '"type":"Throttling.RateQuota","param":null,"code":"Throttling.RateQuota"},"request_id":"'
chat "go @429openai@" -H "$auth"
nreq=$((nreq + 1))
eq "fault_429openai_status" "$CODE" 429
has "fault_429openai_retry_after" "$HDRS" 'Retry-After: 3'
has "fault_429openai_reset_header" "$HDRS" 'x-ratelimit-reset-requests: 3s'
has "fault_429openai_body" "$BODY" '"code":"rate_limit_exceeded"'
chat "go @429quota@" -H "$auth"
nreq=$((nreq + 1))
eq "fault_429quota_status" "$CODE" 429
has "fault_429quota_body" "$BODY" '"type":"insufficient_quota","param":"insufficient_quota","code":"insufficient_quota"'
chat "go @429anthropic@" -H "$auth"
nreq=$((nreq + 1))
eq "fault_429anthropic_status" "$CODE" 429
has "fault_429anthropic_retry_after" "$HDRS" 'retry-after: 3'
has "fault_429anthropic_reset_rfc3339" "$HDRS" 'anthropic-ratelimit-requests-reset: [0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:]\{8\}Z'
has "fault_429anthropic_body" "$BODY" '"type":"rate_limit_error"'
chat "go @529@" -H "$auth"
nreq=$((nreq + 1))
eq "fault_529_status" "$CODE" 529
has "fault_529_body" "$BODY" '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
for s in 500 502 503; do
	chat "go @$s@" -H "$auth"
	nreq=$((nreq + 1))
	eq "fault_${s}_status" "$CODE" "$s"
	has "fault_${s}_body" "$BODY" '"type":"server_error"'
done
chat "go @reset@" -H "$auth"
nreq=$((nreq + 1))
case $RC in 52|56) ok "fault_reset_curl_empty_reply" ;; *) nok "fault_reset_curl_empty_reply" "rc $RC" ;; esac
eq "fault_reset_no_status" "$CODE" 000
chat "go @hang@" -H "$auth" -m 1
nreq=$((nreq + 1))
eq "fault_hang_client_times_out" "$RC" 28
chat "go @truncated@" -H "$auth"
nreq=$((nreq + 1))
eq "fault_truncated_curl_partial" "$RC" 18
eq "fault_truncated_status_200" "$CODE" 200
chat "go @badjson@" -H "$auth"
nreq=$((nreq + 1))
eq "fault_badjson_status" "$CODE" 200
has "fault_badjson_content_type" "$HDRS" 'Content-Type: application/json'
case $BODY in *'}') nok "fault_badjson_not_json" "$BODY" ;; '{'*) ok "fault_badjson_not_json" ;; *) nok "fault_badjson_not_json" "$BODY" ;; esac
chat "go @error200@" -H "$auth"
nreq=$((nreq + 1))
eq "fault_error200_status" "$CODE" 200
eq "fault_error200_body" "$BODY" '{"error":{"message":"internal error","type":"server_error","code":"internal_error"}}'
chat "go @moderation@" -H "$auth"
nreq=$((nreq + 1))
eq "fault_moderation_status" "$CODE" 400
has "fault_moderation_body" "$BODY" '"type":"data_inspection_failed","param":null,"code":"data_inspection_failed"},"request_id":"'
chat "go @401@" -H "$auth"
nreq=$((nreq + 1))
eq "fault_401_status" "$CODE" 401
has "fault_401_body" "$BODY" '"code":"invalid_api_key"'
chat "go @emptychoices@" -H "$auth"
nreq=$((nreq + 1))
eq "fault_emptychoices_status" "$CODE" 200
has "fault_emptychoices_body" "$BODY" '"choices":\[\]'
chat "go @badcontent@" -H "$auth"
nreq=$((nreq + 1))
eq "fault_badcontent_status" "$CODE" 200
has "fault_badcontent_is_a_completion" "$BODY" '"object":"chat.completion"'
has "fault_badcontent_content_not_json" "$BODY" '"content":"Sure! Here is the JSON: {\\"summary\\": \\"broken"'
# 43 bytes of content -> ceil(43/4) = 11
has "fault_badcontent_usage" "$BODY" '"completion_tokens":11,'
msg '{"model":"c","max_tokens":10,"messages":[{"role":"user","content":"@badcontent@"}]}' -H 'x-api-key: sk-test-123'
nreq=$((nreq + 1))
has "fault_badcontent_anthropic_text_block" "$BODY" '"content":\[{"type":"text","text":"Sure! Here'
# A native json_schema is followed: every property, a value of its type.
sch='"response_format":{"type":"json_schema","json_schema":{"name":"b","schema":{"type":"object","properties":{"title":{"type":"string"},"year":{"type":"integer"},"tags":{"type":["null","array"]}},"required":["title","year","tags"]}}}'
post /v1/chat/completions "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"go\"}],$sch}" -H "$auth"
nreq=$((nreq + 1))
has "json_schema_followed_integer" "$BODY" '\\"year\\":[0-9]'
has "json_schema_followed_type_list" "$BODY" '\\"tags\\":\[\]'
has "json_schema_followed_string" "$BODY" '\\"title\\":\\"'
post /v1/chat/completions "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"@noschema@\"}],$sch}" -H "$auth"
nreq=$((nreq + 1))
has "fault_noschema_ignores_it" "$BODY" '\\"summary\\":'
# Usage faults: a normal reply whose usage is missing, negative or 1e15.
chat "go @nousage@" -H "$auth"
nreq=$((nreq + 1))
eq "fault_nousage_status" "$CODE" 200
has "fault_nousage_is_a_completion" "$BODY" '"finish_reason":"stop"}\]}$'
hasnt "fault_nousage_has_no_usage" "$BODY" '"usage"'
chat "go @negusage@" -H "$auth"
nreq=$((nreq + 1))
has "fault_negusage_negative" "$BODY" '"usage":{"prompt_tokens":-[0-9]*,"completion_tokens":-[0-9]*,'
chat "go @hugeusage@" -H "$auth"
nreq=$((nreq + 1))
has "fault_hugeusage_1e15" "$BODY" '"usage":{"prompt_tokens":1000000000000000,"completion_tokens":1000000000000000,"total_tokens":2000000000000000}}$'
msg '{"model":"c","max_tokens":10,"messages":[{"role":"user","content":"@nousage@"}]}' -H 'x-api-key: sk-test-123'
nreq=$((nreq + 1))
has "fault_nousage_anthropic" "$BODY" '"stop_sequence":null}$'
msg '{"model":"c","max_tokens":10,"messages":[{"role":"user","content":"@hugeusage@"}]}' -H 'x-api-key: sk-test-123'
nreq=$((nreq + 1))
has "fault_hugeusage_anthropic" "$BODY" '"usage":{"input_tokens":1000000000000000,"output_tokens":1000000000000000}}$'
msg '{"model":"c","max_tokens":10,"messages":[{"role":"user","content":"@negusage@"}]}' -H 'x-api-key: sk-test-123'
nreq=$((nreq + 1))
has "fault_negusage_anthropic" "$BODY" '"usage":{"input_tokens":-[0-9]*,"output_tokens":-[0-9]*}}$'
msg '{"model":"c","max_tokens":10,"messages":[{"role":"user","content":"@529@"}]}' -H 'x-api-key: sk-test-123'
nreq=$((nreq + 1))
eq "fault_applies_to_anthropic_dialect" "$CODE" 529

# The hang request is held 1.5 s; wait (bounded) for its log line.
i=0
while [ $i -lt 30 ] && ! grep -q '@hang@' "$log"; do sleep 0.1; i=$((i + 1)); done
stop
eq "sigterm_exits_0" "$STOPRC" 0
eq "log_one_line_per_request" "$(wc -l <"$log" | tr -d ' ')" "$nreq"
bad=$(grep -v '^{"t_ms":[0-9]*,"done_ms":[0-9]*,"path":"[^"]*","dialect":[^,]*,"model":[^,]*,"kind":"[a-z0-9]*","status":[0-9]*,"hash":"[0-9a-f]\{16\}","client_request_id":[^,]*,"auth_ok":\(true\|false\),"bytes":[0-9]*,\("usage":{[^}]*},\)\{0,1\}"body":.*}$' "$log" | head -n 2)
eq "log_lines_have_every_field" "$bad" ""
hasnt "log_never_has_the_key" "$(cat "$log")" 'sk-test-123'
has "log_client_request_id" "$(grep '"client_request_id":"doc-1"' "$log")" '"kind":"ok","status":200'
has "log_body_as_json" "$(head -n 1 "$log")" '"body":{"model":"qwen-plus","messages":\[{"role":"user","content":"Summarize: alpha beta gamma"}\],"max_tokens":300}}$'
has "log_reset_status_0" "$(grep '@reset@' "$log")" '"kind":"reset","status":0'
has "log_hang_status_0" "$(grep '@hang@' "$log")" '"kind":"hang","status":0'
has "log_wrong_key_auth_false" "$(grep '"kind":"auth"' "$log" | head -n 1)" '"status":401,.*"auth_ok":false'
has "log_405" "$(grep '"kind":"method"' "$log")" '"status":405'
has "log_413_body_string" "$(grep '"kind":"toolarge"' "$log")" '"status":413,.*"body":"{'
hang_line=$(grep '@hang@' "$log")
t=$(printf '%s' "$hang_line" | sed 's/.*"t_ms":\([0-9]*\),"done_ms":\([0-9]*\).*/\2 \1/' | awk '{print $1 - $2}')
if [ "$t" -ge 1400 ] && [ "$t" -le 3000 ]; then ok "hang_held_for_hang_ms"; else nok "hang_held_for_hang_ms" "$t ms"; fi

# --- mock B: fail-first ----------------------------------------------------
start b --fail-first 2=503
chat "job one"; c1=$CODE
chat "job two"; c2=$CODE
chat "job one"; c3=$CODE
chat "job one"; c4=$CODE
chat "job two"; c5=$CODE
chat "job two"; c6=$CODE
chat "job one"; c7=$CODE
eq "fail_first_n_then_ok_per_body" "$c1 $c2 $c3 $c4 $c5 $c6 $c7" "503 503 503 200 503 200 200"
stop

# --- mock C: schedule ------------------------------------------------------
start c --schedule 500,429,ok,502 --fault-match MATCHED=moderation
seq_codes=""
for i in 1 2 3 4 5 6; do chat "n$i"; seq_codes="$seq_codes $CODE"; done
eq "schedule_in_order_then_ok" "$seq_codes" " 500 429 200 502 200 200"
chat "MATCHED"
eq "fault_match_wins_over_schedule" "$CODE" 400
stop

# --- mock D: random faults, deterministic by seed --------------------------
runs=""
for run in 1 2; do
	start "d$run" --fault 500=0.5 --fault reset=0.1 --seed 7
	s=""
	for i in $(awk 'BEGIN { for (i = 0; i < 40; i++) print i }'); do
		chat "r$i"; s="$s$CODE,"
	done
	stop
	runs="$runs|$s"
done
r1=$(printf '%s' "$runs" | cut -d'|' -f2); r2=$(printf '%s' "$runs" | cut -d'|' -f3)
eq "random_faults_same_seed_same_sequence" "$r1" "$r2"
n500=$(printf '%s' "$r1" | tr ',' '\n' | grep -c '^500$')
n000=$(printf '%s' "$r1" | tr ',' '\n' | grep -c '^000$')
if [ "$n500" -ge 10 ] && [ "$n500" -le 30 ]; then ok "random_fault_rate_roughly_0.5"
else nok "random_fault_rate_roughly_0.5" "$n500 of 40"; fi
if [ "$n000" -ge 1 ] && [ "$n000" -le 12 ]; then ok "random_reset_rate_roughly_0.1"
else nok "random_reset_rate_roughly_0.1" "$n000 of 40"; fi
start d3 --fault 500=0.5 --fault reset=0.1 --seed 8
s=""
for i in $(awk 'BEGIN { for (i = 0; i < 40; i++) print i }'); do chat "r$i"; s="$s$CODE,"; done
stop
if [ "$s" != "$r1" ]; then ok "random_faults_other_seed_differs"; else nok "random_faults_other_seed_differs"; fi

# --- mock E: rpm limit -----------------------------------------------------
start e --rpm 120 --window-ms 1000
chat "a"; e1=$CODE
chat "b"; e2=$CODE
chat "c"; e3=$CODE; h3=$HDRS; b3=$BODY
eq "rpm_limit_third_in_window_429" "$e1 $e2 $e3" "200 200 429"
has "rpm_429_retry_after" "$h3" 'Retry-After: 1'
has "rpm_429_dashscope_body" "$b3" '"code":"Throttling.RateQuota"'
sleep 1.1
chat "d"
eq "rpm_window_frees_slot" "$CODE" 200
stop

# --- mock F: latency, content-json, parallel held connections --------------
start f --latency 400 --threads 1 --content-json --log "$tmp/f.log"
t=$(curl -s -m 5 -o "$tmp/b" -w '%{time_total}' -X POST "http://127.0.0.1:$PORT/v1/chat/completions" -d '{"model":"m","messages":[{"role":"user","content":"json please"}],"max_tokens":100}')
awk -v t="$t" 'BEGIN { exit !(t >= 0.39 && t < 2) }' && ok "latency_delays_reply" || nok "latency_delays_reply" "$t s"
has "content_json_is_json_object" "$(cat "$tmp/b")" '"content":"{\\"summary\\":\\"Summary ([0-9a-f]*): json please[^"]*\\",\\"id\\":\\"[0-9a-f]\{8\}\\"}"'
has "content_json_fits_max_tokens" "$(cat "$tmp/b")" '"finish_reason":"stop"'
: >"$tmp/urls"
for i in $(awk 'BEGIN { for (i = 0; i < 40; i++) print i }'); do
	[ "$i" -eq 0 ] || echo next >>"$tmp/urls"
	printf 'url = "http://127.0.0.1:%s/v1/chat/completions"\ndata = "{\\"model\\":\\"m\\",\\"messages\\":[{\\"role\\":\\"user\\",\\"content\\":\\"p%s\\"}]}"\noutput = "/dev/null"\nmax-time = 10\nwrite-out = "%%{http_code}\\n"\n' "$PORT" "$i" >>"$tmp/urls"
done
curl -s --parallel --parallel-max 40 -K "$tmp/urls" >"$tmp/codes" 2>/dev/null
eq "parallel_delayed_all_200" "$(grep -c '^200$' "$tmp/codes")" 40
stop
# From the first arrival to the last reply, by the mock's own clock.
ms=$(grep '"content":"p' "$tmp/f.log" | sed 's/^{"t_ms":\([0-9]*\),"done_ms":\([0-9]*\).*/\1 \2/' |
	awk 'NR == 1 || $1 < lo { lo = $1 } $2 > hi { hi = $2 } END { print hi - lo }')
if [ "$ms" -ge 400 ] && [ "$ms" -lt 2000 ]; then ok "parallel_delays_overlap_on_one_thread"
else nok "parallel_delays_overlap_on_one_thread" "$ms ms for 40 x 400 ms"; fi
eq "sigterm_with_latency_exits_0" "$STOPRC" 0

# --- mock G: prompt_tokens scaled, the same for a body every time ----------
start g --prompt-scale 2
chat "Summarize: alpha beta gamma"
has "prompt_scale_doubles_prompt_tokens" "$BODY" '"prompt_tokens":22,'
stop
start g2 --prompt-scale 1.5-3.5
chat "Summarize: alpha beta gamma"
first=$(printf '%s' "$BODY" | sed 's/.*"prompt_tokens":\([0-9]*\).*/\1/')
chat "Summarize: alpha beta gamma"
eq "prompt_scale_range_same_per_body" "$(printf '%s' "$BODY" | sed 's/.*"prompt_tokens":\([0-9]*\).*/\1/')" "$first"
if [ "$first" -ge 17 ] && [ "$first" -le 39 ]; then ok "prompt_scale_range_within"
else nok "prompt_scale_range_within" "$first for 11 x 1.5-3.5"; fi
stop

# --- mock H: the real providers' error shapes, usage details, slow replies
start h --retry-after 3 --cached 0.5 --cache-write 0.25 --reasoning 0.5 \
	--drip-ms 50 --drip-bytes 100 --hang-ms 600 --latency-per-ktok 500 \
	--log "$tmp/h.log" --fault-match @once@=503*1 \
	--fault-match @allocquota@=allocquota --fault-match @arrearage@=arrearage \
	--fault-match @402deepseek@=402deepseek --fault-match @503deepseek@=503deepseek \
	--fault-match @422mistral@=422mistral --fault-match @429gemini@=429gemini \
	--fault-match @503gemini@=503gemini --fault-match @context@=context \
	--fault-match @429date@=429date --fault-match @429ms@=429ms \
	--fault-match @429reset@=429reset --fault-match @429rfc3339@=429rfc3339 \
	--fault-match @drip@=drip --fault-match @stall@=stall
# shape KIND STATUS PATTERN...: the OpenAI path's reply to @KIND@.
shape() {
	k=$1; st=$2; shift 2
	chat "go @$k@"
	eq "shape_${k}_status" "$CODE" "$st"
	for pat in "$@"; do has "shape_${k}_has_$(printf '%s' "$pat" | tr -cd 'a-z0-9_' | head -c 24)" "$HDRS
$BODY" "$pat"; done
}
shape allocquota 429 '"type":"insufficient_quota","param":"insufficient_quota"' '"request_id":"[0-9a-f-]\{36\}"}$'
hasnt "shape_allocquota_no_retry_after" "$HDRS" 'Retry-After'
shape arrearage 400 '"code":"Arrearage"' 'good standing'
shape 402deepseek 402 '"message":"Insufficient Balance"'
shape 503deepseek 503 '"message":"Server overloaded, please try again later"'
shape 422mistral 422 '^{"object":"error","message":{"detail":\[{"type":"extra_forbidden"'
shape 429gemini 429 '^\[{"error":{"code":429,' 'Please retry in 3.5s' '"retryDelay":"3s"'
shape 503gemini 503 '^\[{"error":{"code":503,' '"status":"UNAVAILABLE"'
shape context 400 '"code":"context_length_exceeded"'
shape 429date 429 'Retry-After: [A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] 20[0-9][0-9] [0-9:]\{8\} GMT'
shape 429ms 429 'retry-after-ms: 3250'
hasnt "shape_429ms_only_ms" "$HDRS" 'Retry-After'
shape 429reset 429 'x-ratelimit-reset-requests: 3s' 'x-ratelimit-reset-tokens: 3300ms'
shape 429rfc3339 429 'anthropic-ratelimit-input-tokens-reset: [0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:]\{8\}Z'
msg '{"model":"c","max_tokens":10,"messages":[{"role":"user","content":"@context@"}]}' -H 'x-api-key: k'
has "shape_context_anthropic" "$BODY" '"message":"prompt is too long: '
# the stamp is now + 3 s rounded up: never less than 3 s ahead of the
# Date header (which MHD stamps to the second, at a moment of its own)
chat "go @429date@"
d=$(printf '%s' "$HDRS" | sed -n 's/^Date: \(.*GMT\).*/\1/p'); r=$(printf '%s' "$HDRS" | sed -n 's/^Retry-After: \(.*GMT\).*/\1/p')
dt=$(( $(date -d "$r" +%s) - $(date -d "$d" +%s) ))
check_dt() { if [ "$dt" -ge 3 ] && [ "$dt" -le 5 ]; then ok "$1"; else nok "$1" "$dt s"; fi; }
check_dt "shape_429date_is_now_plus_S"
chat "go @once@"; eq "fault_match_times_first" "$CODE" 503
chat "go @once@"; eq "fault_match_times_then_ok" "$CODE" 200
# usage details: 11 prompt tokens, half cached (rounded down), reasoning
# half the output; Anthropic: 15 in, half read from the cache, a quarter
# written to it
chat "Summarize: alpha beta gamma"
has "usage_openai_cached" "$BODY" '"prompt_tokens":11,.*"prompt_tokens_details":{"cached_tokens":5}'
out=$(printf '%s' "$BODY" | sed 's/.*"reasoning_tokens":\([0-9]*\).*/\1/')
comp=$(printf '%s' "$BODY" | sed 's/.*"completion_tokens":\([0-9]*\),.*/\1/')
eq "usage_openai_reasoning_in_completion" "$comp" "$(( out * 3 ))"
msg '{"model":"c","max_tokens":10,"messages":[{"role":"user","content":"Summarize: alpha beta gamma delta epsilon"}]}' -H 'x-api-key: k'
has "usage_anthropic_cache" "$BODY" '"usage":{"input_tokens":5,"output_tokens":10,"cache_read_input_tokens":7,"cache_creation_input_tokens":3}}$'
# drip: headers at once, the body over several chunks; stall: headers, then a cut
curl -s -m 10 -o /dev/null -w '%{time_starttransfer} %{time_total} %{http_code}\n' \
	-H 'Content-Type: application/json' --data-binary '{"model":"q","messages":[{"role":"user","content":"go @drip@"}]}' \
	"http://127.0.0.1:$PORT/v1/chat/completions" >"$tmp/drip.t"
read -r first total code <"$tmp/drip.t"
eq "drip_status" "$code" 200
check_t() { if awk "BEGIN { exit !($2) }"; then ok "$1"; else nok "$1" "$(cat "$tmp/drip.t")"; fi; }
check_t "drip_headers_at_once" "$first < 0.2"
check_t "drip_body_takes_chunks" "$total >= 0.1"
curl -s -m 10 -o /dev/null -w '%{time_starttransfer} %{time_total} %{http_code}\n' \
	-H 'Content-Type: application/json' --data-binary '{"model":"q","messages":[{"role":"user","content":"go @stall@"}]}' \
	"http://127.0.0.1:$PORT/v1/chat/completions" >"$tmp/drip.t"
eq "stall_cut_after_headers" "$?" 18
read -r first total code <"$tmp/drip.t"
check_t "stall_headers_at_once" "$first < 0.2"
check_t "stall_holds_hang_ms" "$total >= 0.55 && $total < 2"
# latency per 1,000 prompt tokens: 4,000 bytes are 1,004 tokens, 502 ms
big=$(awk 'BEGIN { for (i = 0; i < 400; i++) printf "abcdefghi " }')
curl -s -m 10 -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' \
	--data-binary "{\"model\":\"q\",\"messages\":[{\"role\":\"user\",\"content\":\"$big\"}]}" \
	"http://127.0.0.1:$PORT/v1/chat/completions" >"$tmp/drip.t"
check_t "latency_per_ktok" "$(cat "$tmp/drip.t") >= 0.5 && $(cat "$tmp/drip.t") < 1.5"
stop
has "log_usage_split_openai" "$(cat "$tmp/h.log")" '"usage":{"in":6,"cached":5,"cache_write":0,"out":[0-9]*,"reasoning":[0-9]*}'
has "log_usage_split_anthropic" "$(cat "$tmp/h.log")" '"usage":{"in":5,"cached":7,"cache_write":3,"out":10,"reasoning":0}'
eq "log_no_usage_for_a_stall_or_an_error" "$(grep -F -e '@stall@' -e '@429ms@' "$tmp/h.log" | grep -c '"usage"')" 0
eq "log_usage_for_a_whole_drip" "$(grep -F '@drip@' "$tmp/h.log" | grep -c '"usage"')" 1
