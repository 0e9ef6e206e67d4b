#!/bin/sh
# mock_batch_selftest.sh — end-to-end check of the mock provider's batch
# APIs with curl: OpenAI Files + Batches and Anthropic Message Batches.
# Upload, create, poll, download and join results by custom_id (each equal
# to the synchronous reply for the same body), list by metadata, cancel,
# expiry with --batch-partial, validation failures, stuck batches, faults
# per line, custom_id checks, the log and the temp directory. Every wait is
# a bounded poll. Needs MOCK (and NIGHTSHIFT for lib.sh) and curl.
. "$(dirname "$0")/lib.sh"

# --- helpers ----------------------------------------------------------------

# req METHOD URL [CURL ARGS...]: sets CODE and BODY.
req() {
	m=$1; u=$2; shift 2
	CODE=$(curl -s -m 10 -o "$T/resp" -w '%{http_code}' -X "$m" "$u" "$@")
	BODY=$(cat "$T/resp" 2>/dev/null)
}

# field NAME: the string value of the first member NAME in $BODY ("" when
# it is null or absent).
field() { printf '%s' "$BODY" | grep -o "\"$1\":\"[^\"]*\"" | head -n 1 | sed 's/.*:"\(.*\)"$/\1/'; }

# num NAME: the number value of the first member NAME in $BODY.
num() { printf '%s' "$BODY" | grep -o "\"$1\":[0-9]*" | head -n 1 | sed 's/.*://'; }

eq() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got [$2] want [$3]"; fi; }
has() {
	if printf '%s' "$2" | grep -q -- "$3"; then ok "$1"
	else notok "$1" "[$(printf '%s' "$2" | head -c 400)] lacks [$3]"; fi
}
within() { # within NAME VALUE LO HI
	if [ -n "$2" ] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ]; then ok "$1"
	else notok "$1" "[$2] not in $3..$4"; fi
}

# OpenAI calls against the mock on port $P with key $KEY.
oa() { m=$1; p=$2; shift 2; req "$m" "http://127.0.0.1:$P/v1$p" -H "Authorization: Bearer $KEY" "$@"; }
upload() { oa POST /files -F purpose=batch -F "file=@$1"; FID=$(field id); }
create() { # create FILE_ID [METADATA_JSON]
	oa POST /batches -H 'Content-Type: application/json' \
		-d "{\"input_file_id\":\"$1\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\",\"metadata\":${2:-null}}"
	BID=$(field id)
}
# poll BATCH_ID STATUS...: until the batch has one of the statuses, at most
# 10 s; BODY holds its last object.
poll() {
	b=$1; shift; n=0
	while [ $n -lt 200 ]; do
		oa GET "/batches/$b"
		for s in "$@"; do
			case $BODY in *"\"status\":\"$s\""*) return 0 ;; esac
		done
		sleep 0.05; n=$((n + 1))
	done
	return 1
}
content() { oa GET "/files/$1/content"; printf '%s\n' "$BODY" | grep . >"$2"; }

# Anthropic calls, x-api-key $KEY.
an() {
	m=$1; p=$2; shift 2
	req "$m" "http://127.0.0.1:$P/v1/messages$p" -H "x-api-key: $KEY" \
		-H 'anthropic-version: 2023-06-01' "$@"
}
an_poll() { # an_poll ID: until ended, at most 10 s
	n=0
	while [ $n -lt 200 ]; do
		an GET "/batches/$1"
		case $BODY in *'"processing_status":"ended"'*) return 0 ;; esac
		sleep 0.05; n=$((n + 1))
	done
	return 1
}

body() { # body N [TEXT]: a chat body; also the input line in $T/line
	printf '{"model":"qwen-plus","messages":[{"role":"user","content":"Summarize item %s%s"}],"max_tokens":300}' "$1" "${2:-}"
}
oline() { printf '{"custom_id":"job-%s","method":"POST","url":"/v1/chat/completions","body":%s}\n' "$1" "$(body "$1" "${2:-}")"; }
ojobs() { i=1; while [ "$i" -le "$2" ]; do oline "$i"; i=$((i + 1)); done >"$1"; }
areq() { printf '{"custom_id":"r-%s","params":{"model":"claude-x","max_tokens":300,"messages":[{"role":"user","content":"Note %s%s"}]}}' "$1" "$1" "${2:-}"; }
ajobs() { # ajobs N: a create body of N requests
	printf '{"requests":['
	i=1; while [ "$i" -le "$1" ]; do
		[ "$i" -gt 1 ] && printf ','
		areq "$i"; i=$((i + 1))
	done
	printf ']}'
}
# reply_part: from "choices"/"content" to the end of usage, the part of a
# reply that depends only on the body (ids and times differ per call).
reply_part() { sed -n 's/.*\("choices":.*"usage":{[^}]*}\).*/\1/p; s/.*\("content":\[.*"usage":{[^}]*}\).*/\1/p' | head -n 1; }

KEY=sk-batch-test

# --- A: OpenAI, the whole round trip ------------------------------------------
start_mock --key "$KEY" --batch-latency 300 --fault-match @boom@=500 \
	--fault-match @slow@=429openai --fault-match @cut@=truncated
P=$MOCK_PORT
{ oline 1; oline 2 " @boom@"; oline 3; oline 4 " @slow@"; oline 5 " @cut@"
  oline 6; } >"$T/in.jsonl"
upload "$T/in.jsonl"
eq "openai_upload_200" "$CODE" 200
has "openai_upload_file_object" "$BODY" '"object":"file","bytes":'"$(wc -c <"$T/in.jsonl" | tr -d ' ')"','
has "openai_upload_purpose" "$BODY" '"purpose":"batch"'
case $FID in file-*) ok "openai_upload_file_id" ;; *) notok "openai_upload_file_id" "$FID" ;; esac
oa GET "/files/$FID/content"
eq "openai_input_content_as_uploaded" "$BODY" "$(cat "$T/in.jsonl")"
create "$FID" '{"ns_intent":"run-42"}'
eq "openai_create_200" "$CODE" 200
has "openai_create_validating" "$BODY" '"status":"validating"'
has "openai_create_batch_object" "$BODY" '"object":"batch","endpoint":"/v1/chat/completions"'
has "openai_create_metadata" "$BODY" '"metadata":{"ns_intent":"run-42"}'
has "openai_create_model" "$BODY" '"model":"qwen-plus"'
has "openai_create_counts_total" "$BODY" '"request_counts":{"total":6,"completed":0,"failed":0}'
BATCH_A=$BID
sleep 0.1
oa GET "/batches/$BATCH_A"
has "openai_in_progress_before_latency" "$BODY" '"status":"in_progress"'
if poll "$BATCH_A" completed; then ok "openai_polls_to_completed"; else notok "openai_polls_to_completed" "$BODY"; fi
has "openai_completed_counts" "$BODY" '"request_counts":{"total":6,"completed":3,"failed":3}'
has "openai_completed_at_set" "$BODY" '"completed_at":[0-9]'
OUT=$(field output_file_id); ERR=$(field error_file_id)
content "$OUT" "$T/out.jsonl"
content "$ERR" "$T/err.jsonl"
eq "openai_output_lines" "$(wc -l <"$T/out.jsonl" | tr -d ' ')" 3
eq "openai_error_lines" "$(wc -l <"$T/err.jsonl" | tr -d ' ')" 3
# Each successful line holds the synchronous reply for the same body.
same=0
for i in 1 3 6; do
	got=$(grep "\"custom_id\":\"job-$i\"" "$T/out.jsonl" | reply_part)
	oa POST /chat/completions -H 'Content-Type: application/json' -d "$(body "$i")"
	want=$(printf '%s' "$BODY" | reply_part)
	[ -n "$got" ] && [ "$got" = "$want" ] && same=$((same + 1))
done
eq "openai_output_equals_sync_reply" "$same" 3
has "openai_output_line_shape" "$(grep '"job-1"' "$T/out.jsonl")" '^{"id":"batch_req_[0-9a-f]*","custom_id":"job-1","response":{"status_code":200,"request_id":"req_[0-9a-f]*","body":{"id":"chatcmpl-.*"error":null}$'
has "openai_fault_500_line" "$(grep '"job-2"' "$T/err.jsonl")" '"status_code":500,.*"type":"server_error"'
has "openai_fault_429_line" "$(grep '"job-4"' "$T/err.jsonl")" '"status_code":429,.*"code":"rate_limit_exceeded"'
has "openai_truncated_is_500_line" "$(grep '"job-5"' "$T/err.jsonl")" '"status_code":500,'

# Output order is not input order: 20 lines, shuffled within blocks.
ojobs "$T/in20.jsonl" 20
upload "$T/in20.jsonl"; create "$FID"
poll "$BID" completed >/dev/null
content "$(field output_file_id)" "$T/out20.jsonl"
sed 's/.*"custom_id":"\([^"]*\)".*/\1/' "$T/in20.jsonl" >"$T/ids.in"
sed 's/.*"custom_id":"\([^"]*\)".*/\1/' "$T/out20.jsonl" >"$T/ids.out"
if cmp -s "$T/ids.in" "$T/ids.out"; then notok "openai_output_order_shuffled"; else ok "openai_output_order_shuffled"; fi
eq "openai_output_same_ids" "$(sort "$T/ids.out" | tr '\n' ' ')" "$(sort "$T/ids.in" | tr '\n' ' ')"

# List: newest first, found by metadata, paged.
oa GET "/batches?limit=100"
has "openai_list_shape" "$BODY" '^{"object":"list","data":\[{"id":"'"$BID"'"'
has "openai_list_finds_by_metadata" "$(printf '%s' "$BODY" | sed 's/},{"id"/}\n{"id"/g' | grep '"ns_intent":"run-42"')" "\"id\":\"$BATCH_A\""
oa GET "/batches?limit=1"
has "openai_list_limit_has_more" "$BODY" '"has_more":true'
eq "openai_list_first_id" "$(field first_id)" "$BID"
oa GET "/batches?limit=1&after=$BID"
eq "openai_list_after" "$(field first_id)" "$BATCH_A"
has "openai_list_after_last_page" "$BODY" '"has_more":false'

# Refusals.
oa POST /batches -H 'Content-Type: application/json' -d '{"input_file_id":"file-nope","endpoint":"/v1/chat/completions","completion_window":"24h"}'
eq "openai_unknown_file_404" "$CODE" 404
has "openai_404_shape" "$BODY" '^{"error":{"message":"No such File object: file-nope","type":"invalid_request_error"'
oa POST /batches -H 'Content-Type: application/json' -d "{\"input_file_id\":\"$FID\",\"endpoint\":\"/v1/embeddings\",\"completion_window\":\"24h\"}"
eq "openai_endpoint_mismatch_400" "$CODE" 400
oa GET /batches/batch_nope
eq "openai_unknown_batch_404" "$CODE" 404
req GET "http://127.0.0.1:$P/v1/batches/$BATCH_A"
eq "openai_batches_need_the_key" "$CODE" 401
req POST "http://127.0.0.1:$P/v1/files" -H 'Authorization: Bearer wrong' -F purpose=batch -F "file=@$T/in.jsonl"
eq "openai_upload_needs_the_key" "$CODE" 401
oa POST /files -F purpose=fine-tune -F "file=@$T/in.jsonl"
eq "openai_upload_purpose_batch_only" "$CODE" 400
oa POST "/batches/$BATCH_A/cancel"
eq "openai_cancel_completed_400" "$CODE" 400

# A file with bad lines is taken, and its batch fails validation.
{ oline 1; oline 1; printf 'not json\n'
  printf '{"custom_id":"x","method":"POST","url":"/v1/embeddings","body":{"model":"qwen-plus"}}\n'
  printf '{"custom_id":"y","method":"POST","url":"/v1/chat/completions","body":{"model":"other"}}\n'
} >"$T/bad.jsonl"
upload "$T/bad.jsonl"
eq "openai_bad_file_uploaded" "$CODE" 200
create "$FID"
eq "openai_bad_file_create_200" "$CODE" 200
if poll "$BID" failed; then ok "openai_bad_file_fails"; else notok "openai_bad_file_fails" "$BODY"; fi
has "openai_bad_file_duplicate" "$BODY" '{"code":"duplicate_custom_id","message":"[^"]*","param":"custom_id","line":2}'
has "openai_bad_file_not_json" "$BODY" '{"code":"invalid_json_line","message":"[^"]*","param":null,"line":3}'
has "openai_bad_file_url" "$BODY" '"code":"invalid_url","message":"[^"]*","param":"url","line":4}'
has "openai_bad_file_model" "$BODY" '"code":"mismatched_model","message":"[^"]*","param":"body.model","line":5}'
has "openai_failed_at" "$BODY" '"failed_at":[0-9]'

# A large upload streams to disk: 20,000 lines, each run once.
ojobs "$T/big.jsonl" 20000
upload "$T/big.jsonl"
eq "openai_big_upload_200" "$CODE" 200
create "$FID"
BIG=$BID
n=0; until poll "$BIG" completed || [ $n -ge 3 ]; do n=$((n + 1)); done
has "openai_big_completed" "$BODY" '"request_counts":{"total":20000,"completed":20000,"failed":0}'
content "$(field output_file_id)" "$T/bigout.jsonl"
eq "openai_big_output_lines" "$(wc -l <"$T/bigout.jsonl" | tr -d ' ')" 20000
eq "openai_big_each_id_once" "$(sed 's/.*"custom_id":"\([^"]*\)".*/\1/' "$T/bigout.jsonl" | sort | uniq -d | wc -l | tr -d ' ')" 0

# --- A: Anthropic, the whole round trip ----------------------------------------
an POST /batches -H 'Content-Type: application/json' \
	-d "{\"requests\":[$(areq 1),$(areq 2 " @boom@"),$(areq 3)]}"
eq "anthropic_create_200" "$CODE" 200
has "anthropic_create_object" "$BODY" '"type":"message_batch","processing_status":"in_progress","request_counts":{"processing":3,"succeeded":0,"errored":0,"canceled":0,"expired":0}'
has "anthropic_create_rfc3339" "$BODY" '"created_at":"[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:.]*Z"'
has "anthropic_no_results_url_yet" "$BODY" '"results_url":null'
AID=$(field id)
case $AID in msgbatch_*) ok "anthropic_batch_id" ;; *) notok "anthropic_batch_id" "$AID" ;; esac
an GET "/batches/$AID/results"
eq "anthropic_results_404_before_end" "$CODE" 404
if an_poll "$AID"; then ok "anthropic_polls_to_ended"; else notok "anthropic_polls_to_ended" "$BODY"; fi
has "anthropic_ended_counts" "$BODY" '"request_counts":{"processing":0,"succeeded":2,"errored":1,"canceled":0,"expired":0}'
eq "anthropic_results_url" "$(field results_url)" "http://127.0.0.1:$P/v1/messages/batches/$AID/results"
req GET "$(field results_url)" -H "x-api-key: $KEY" -H 'anthropic-version: 2023-06-01'
printf '%s\n' "$BODY" | grep . >"$T/ares.jsonl"
eq "anthropic_results_lines" "$(wc -l <"$T/ares.jsonl" | tr -d ' ')" 3
same=0
for i in 1 3; do
	got=$(grep "\"custom_id\":\"r-$i\"" "$T/ares.jsonl" | reply_part)
	req POST "http://127.0.0.1:$P/v1/messages" -H "x-api-key: $KEY" \
		-H 'anthropic-version: 2023-06-01' -d "$(areq "$i" | sed 's/^{"custom_id":"[^"]*","params":\(.*\)}$/\1/')"
	want=$(printf '%s' "$BODY" | reply_part)
	[ -n "$got" ] && [ "$got" = "$want" ] && same=$((same + 1))
done
eq "anthropic_result_equals_sync_reply" "$same" 2
has "anthropic_succeeded_shape" "$(grep '"r-1"' "$T/ares.jsonl")" '^{"custom_id":"r-1","result":{"type":"succeeded","message":{"id":"msg_'
has "anthropic_errored_line" "$(grep '"r-2"' "$T/ares.jsonl")" '"result":{"type":"errored","error":{"type":"error","error":{"type":"api_error","message":'
an GET "/batches?limit=20"
has "anthropic_list" "$BODY" "^{\"data\":\[{\"id\":\"$AID\""
has "anthropic_list_has_more" "$BODY" '"has_more":false'
# custom_id and params are checked as Anthropic does; the create is 400.
for bad in '"bad id"' '""' "\"$(printf '%065d' 0)\""; do
	an POST /batches -d "{\"requests\":[{\"custom_id\":$bad,\"params\":{\"model\":\"c\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}]}"
	eq "anthropic_custom_id_refused_$(printf '%s' "$bad" | wc -c | tr -d ' ')" "$CODE" 400
done
has "anthropic_custom_id_message" "$BODY" '"type":"invalid_request_error","message":"requests.0.custom_id:'
an POST /batches -d "{\"requests\":[$(areq 1),$(areq 1)]}"
eq "anthropic_duplicate_custom_id_400" "$CODE" 400
an POST /batches -d '{"requests":[{"custom_id":"a","params":{"model":"c","messages":[{"role":"user","content":"hi"}]}}]}'
eq "anthropic_params_checked_400" "$CODE" 400
has "anthropic_params_message" "$BODY" 'requests.0.params.max_tokens'
an POST /batches -d '{"requests":[]}'
eq "anthropic_empty_requests_400" "$CODE" 400
req POST "http://127.0.0.1:$P/v1/messages/batches" -H "x-api-key: $KEY" -d "$(ajobs 1)"
eq "anthropic_needs_version_400" "$CODE" 400
req POST "http://127.0.0.1:$P/v1/messages/batches" -H 'anthropic-version: 2023-06-01' -d "$(ajobs 1)"
eq "anthropic_needs_key_401" "$CODE" 401
has "anthropic_401_shape" "$BODY" '"type":"authentication_error"'
stop_mock

# The log: one line per API call, one batch_line per request, no key, no
# file contents.
eq "log_never_has_the_key" "$(grep -c "$KEY" "$T/mock.log")" 0
has "log_upload_line" "$(grep '"kind":"file_upload"' "$T/mock.log" | head -n 1)" '"path":"/v1/files","dialect":"openai","kind":"file_upload","status":200,.*"file":"file-[0-9a-f]*","requests":6'
eq "log_upload_no_contents" "$(grep '"kind":"file_upload"' "$T/mock.log" | grep -c 'Summarize')" 0
has "log_create_line" "$(grep "\"kind\":\"batch_create\".*\"batch\":\"$BATCH_A\"" "$T/mock.log")" '"status":200,.*"requests":6,"model":"qwen-plus","metadata":{"ns_intent":"run-42"}'
has "log_anthropic_create_line" "$(grep "\"kind\":\"batch_create\".*\"batch\":\"$AID\"" "$T/mock.log")" '"dialect":"anthropic",.*"requests":3,"model":"claude-x"'
for k in batch_get batch_list batch_cancel file_content batch_results; do
	if grep -q "\"kind\":\"$k\"" "$T/mock.log"; then ok "log_kind_$k"; else notok "log_kind_$k"; fi
done
has "log_batch_line" "$(grep "\"batch\":\"$BATCH_A\",\"custom_id\":\"job-2\"" "$T/mock.log")" '^{"kind":"batch_line","batch":"[^"]*","custom_id":"job-2","status":500,"result":"errored","fault":"500","dialect":"openai","model":"qwen-plus","hash":"[0-9a-f]\{16\}","t_ms":[0-9]*}$'
eq "log_batch_lines_of_a_batch" "$(grep -c "\"kind\":\"batch_line\",\"batch\":\"$BATCH_A\"" "$T/mock.log")" 6
eq "log_big_batch_each_line_once" "$(grep "\"kind\":\"batch_line\",\"batch\":\"$BIG\"" "$T/mock.log" | sed 's/.*"custom_id":"\([^"]*\)".*/\1/' | sort -u | wc -l | tr -d ' ')" 20000
eq "log_no_line_of_a_failed_batch" "$(grep -c '"kind":"batch_line".*"custom_id":"y"' "$T/mock.log")" 0

# --- B: cancel keeps the finished lines; progress shows while running ----------
mkdir -p "$T/tmpb"
TMPDIR="$T/tmpb" mock_as b --batch-latency 500 --batch-progress
P=$b_PORT; KEY=k
ojobs "$T/in10.jsonl" 10
upload "$T/in10.jsonl"; create "$FID"
if [ -n "$(ls "$T/tmpb")" ]; then ok "temp_dir_under_TMPDIR"; else notok "temp_dir_under_TMPDIR"; fi
sleep 0.25
oa GET "/batches/$BID"
within "progress_counts_grow" "$(num completed)" 2 8
CB=$BID
oa POST "/batches/$BID/cancel"
eq "openai_cancel_200" "$CODE" 200
has "openai_cancelling" "$BODY" '"status":"cancelling","output_file_id":null'
has "openai_cancelling_at" "$BODY" '"cancelling_at":[0-9]'
if poll "$BID" cancelled; then ok "openai_cancelled"; else notok "openai_cancelled" "$BODY"; fi
done_n=$(num completed)
within "openai_cancel_keeps_finished" "$done_n" 2 9
OUT=$(field output_file_id); ERR=$(field error_file_id)
content "$OUT" "$T/cout.jsonl"
content "$ERR" "$T/cerr.jsonl"
eq "openai_cancel_output_lines" "$(wc -l <"$T/cout.jsonl" | tr -d ' ')" "$done_n"
eq "openai_cancel_rest_batch_cancelled" "$(grep -c '"response":null,"error":{"code":"batch_cancelled"' "$T/cerr.jsonl")" $((10 - done_n))
# The first ones by input order finished.
eq "openai_cancel_first_lines_finished" "$(sed 's/.*"custom_id":"job-\([0-9]*\)".*/\1/' "$T/cout.jsonl" | sort -n | tr '\n' ' ')" "$(seq 1 "$done_n" | tr '\n' ' ')"
an POST /batches -d "$(ajobs 4)"
ABID=$(field id)
sleep 0.25
an POST "/batches/$ABID/cancel"
has "anthropic_canceling" "$BODY" '"processing_status":"canceling"'
an_poll "$ABID"
has "anthropic_canceled_counts" "$BODY" '"processing":0,"succeeded":[1-3],"errored":0,"canceled":[1-3],"expired":0'
req GET "$(field results_url)" -H "x-api-key: k" -H 'anthropic-version: 2023-06-01'
has "anthropic_canceled_result" "$BODY" '"result":{"type":"canceled"}'
kill -TERM "$b_PID"; wait "$b_PID"
eq "temp_dir_removed_at_exit" "$(ls -A "$T/tmpb" | wc -l | tr -d ' ')" 0
eq "log_cancelled_lines_status_0" "$(grep "\"kind\":\"batch_line\",\"batch\":\"$CB\"" "$T/b.log" | grep -c '"status":0,"result":"cancelled","fault":null')" $((10 - done_n))

# --- C: expiry with --batch-partial --------------------------------------------
mock_as c --batch-expire-after 300 --batch-partial 0.5 --batch-latency 100
P=$c_PORT
upload "$T/in10.jsonl"; create "$FID"
oa GET "/batches/$BID"
has "expiry_expires_at_is_expire_after" "$BODY" '"expires_at":[0-9]'
if poll "$BID" expired; then ok "openai_expired"; else notok "openai_expired" "$BODY"; fi
has "openai_expired_counts" "$BODY" '"request_counts":{"total":10,"completed":5,"failed":0}'
has "openai_expired_at" "$BODY" '"expired_at":[0-9]'
OUT=$(field output_file_id); ERR=$(field error_file_id)
content "$OUT" "$T/xout.jsonl"
content "$ERR" "$T/xerr.jsonl"
eq "openai_expired_first_half_ran" "$(sed 's/.*"custom_id":"job-\([0-9]*\)".*/\1/' "$T/xout.jsonl" | sort -n | tr '\n' ' ')" "1 2 3 4 5 "
eq "openai_expired_rest_batch_expired" "$(grep -c '"response":null,"error":{"code":"batch_expired","message":' "$T/xerr.jsonl")" 5
an POST /batches -d "$(ajobs 4)"
ABID=$(field id)
an_poll "$ABID"
has "anthropic_expired_counts" "$BODY" '"request_counts":{"processing":0,"succeeded":2,"errored":0,"canceled":0,"expired":2}'
req GET "$(field results_url)" -H "x-api-key: k" -H 'anthropic-version: 2023-06-01'
eq "anthropic_expired_results" "$(printf '%s\n' "$BODY" | grep -c '"result":{"type":"expired"}')" 2
kill -TERM "$c_PID"; wait "$c_PID"

# --- D: --batch-fail-validation ----------------------------------------------
mock_as d --batch-fail-validation --batch-latency 100
P=$d_PORT
upload "$T/in10.jsonl"; create "$FID"
has "fail_validation_starts_validating" "$BODY" '"status":"validating"'
if poll "$BID" failed; then ok "fail_validation_failed"; else notok "fail_validation_failed" "$BODY"; fi
has "fail_validation_errors" "$BODY" '"errors":{"object":"list","data":\[{"code":"invalid_request","message":"[^"]*","param":null,"line":1}\]}'
has "fail_validation_no_output" "$BODY" '"output_file_id":null,"error_file_id":null'
an POST /batches -d "$(ajobs 2)"
eq "fail_validation_anthropic_400" "$CODE" 400
kill -TERM "$d_PID"; wait "$d_PID"

# --- E: stuck batches, and the window mapped to ms -------------------------
mock_as e --batch-stuck --batch-latency 100 --batch-window-ms 1500
P=$e_PORT
upload "$T/in10.jsonl"; create "$FID"
BS=$BID
an POST /batches -d "$(ajobs 2)"
AS=$(field id)
sleep 0.6
oa GET "/batches/$BS"
has "stuck_stays_in_progress" "$BODY" '"status":"in_progress"'
an GET "/batches/$AS"
has "stuck_anthropic_in_progress" "$BODY" '"processing_status":"in_progress"'
create "$FID"
oa POST "/batches/$BID/cancel"
poll "$BID" cancelled
has "stuck_cancel_keeps_nothing" "$BODY" '"request_counts":{"total":10,"completed":0,"failed":0}'
if poll "$BS" expired; then ok "stuck_expires_at_the_window"; else notok "stuck_expires_at_the_window" "$BODY"; fi
has "stuck_expired_nothing_ran" "$BODY" '"completed":0,"failed":0}'
kill -TERM "$e_PID"; wait "$e_PID"
eq "sigterm_exits_0" "$?" 0
