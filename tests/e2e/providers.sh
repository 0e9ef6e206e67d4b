#!/bin/sh
# providers.sh — end-to-end checks of `nightshift providers`: the built-in
# catalogue, --providers FILE, $NIGHTSHIFT_PROVIDERS (and which one wins), a
# broken file (exit 2, message naming the file, the field and the refused
# value), usage errors, that a key is shown as SET but its value never
# appears anywhere, --prices moving off-peak windows with the prices, and
# the batch lanes (each provider's, each model's batch prices).
# Needs NIGHTSHIFT (path of the binary). Prints "ok - NAME" / "not ok - NAME".

: "${NIGHTSHIFT:?set NIGHTSHIFT to the nightshift binary}"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# Whatever keys the caller has must neither leak into nor change the test.
unset DASHSCOPE_API_KEY DEEPSEEK_API_KEY MISTRAL_API_KEY OPENAI_API_KEY \
	ANTHROPIC_API_KEY GEMINI_API_KEY NIGHTSHIFT_PROVIDERS NIGHTSHIFT_PRICES REMOTE_TEST_KEY
FAKE_KEY=sk-test-123

report() { # NAME STATUS
	if [ "$2" -eq 0 ]; then echo "ok - $1"; else echo "not ok - $1"; fi
}
run() { # ARGS... -> $tmp/out, $tmp/err, $rc
	"$NIGHTSHIFT" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
runenv() { # VAR=VALUE ARGS... (env, not a prefix: sh functions differ)
	_e=$1
	shift
	env "$_e" "$NIGHTSHIFT" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
has() { grep -q -- "$2" "$tmp/$1"; }       # out|err PATTERN (basic regex)
has_fixed() { grep -q -F -- "$2" "$tmp/$1"; }
lacks_key() { ! grep -q -F -- "$FAKE_KEY" "$tmp/out" "$tmp/err"; }

cat >"$tmp/good.json" <<'EOF'
{"providers": {
  "local": {"dialect": "openai", "base_url": "http://127.0.0.1:9/v1",
            "models": {"tiny": {"input_per_mtok": 0, "output_per_mtok": 0}}},
  "remote": {"dialect": "anthropic", "base_url": "https://llm.example.com",
             "api_key_env": "REMOTE_TEST_KEY",
             "models": {"big": {"input_per_mtok": 1.5, "output_per_mtok": 7}}}},
 "routes": {"r": ["local:tiny", "remote:big"]}}
EOF
cat >"$tmp/bad.json" <<'EOF'
{"providers": {
  "local": {"dialect": "openai", "base_url": "http://127.0.0.1:9/v1",
            "max_inflight": 0,
            "models": {"tiny": {"input_per_mtok": 0, "output_per_mtok": 0}}}}}
EOF
printf '{"providers": {"local": ' >"$tmp/broken.json"
sed "s/\"api_key_env\": \"REMOTE_TEST_KEY\"/\"api_key\": \"$FAKE_KEY\"/" \
	"$tmp/good.json" >"$tmp/haskey.json"

# help
run providers --help
report "help exits 0 and prints usage" \
	"$([ $rc -eq 0 ] && has out 'usage: nightshift providers'; echo $?)"

# built-in catalogue
run providers
report "built-in catalogue exits 0" "$([ $rc -eq 0 ]; echo $?)"
report "built-in catalogue names its source" \
	"$(has out 'providers config: built-in'; echo $?)"
report "built-in lists qwen with its key variable unset" \
	"$(has out 'DASHSCOPE_API_KEY: not set'; echo $?)"
report "built-in shows dated prices" \
	"$(has out 'as of 20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]'; echo $?)"
report "built-in cheap route starts with qwen" \
	"$(has out '^  cheap  *qwen:'; echo $?)"

run providers --json
report "--json exits 0 with the source" \
	"$([ $rc -eq 0 ] && has out '"source":[[:space:]]*"built-in"'; echo $?)"
report "--json reports key state" \
	"$(has out '"key":[[:space:]]*"unset"'; echo $?)"

# a key that is set: shown as SET, its value nowhere
runenv DASHSCOPE_API_KEY=$FAKE_KEY providers
report "key set shows SET" \
	"$([ $rc -eq 0 ] && has out 'DASHSCOPE_API_KEY: SET'; echo $?)"
report "key value never printed (text)" "$(lacks_key; echo $?)"
runenv DASHSCOPE_API_KEY=$FAKE_KEY providers --json
report "key set shows \"set\" in JSON" \
	"$(has out '"key":[[:space:]]*"set"'; echo $?)"
report "key value never printed (json)" "$(lacks_key; echo $?)"
# a key with a line break cannot be sent: shown as INVALID, never its value
runenv DASHSCOPE_API_KEY="$FAKE_KEY$(printf '\r')" providers
report "key with a control character shows INVALID" \
	"$([ $rc -eq 0 ] && has out 'DASHSCOPE_API_KEY: INVALID'; echo $?)"
report "key value never printed (invalid key)" "$(lacks_key; echo $?)"
runenv DASHSCOPE_API_KEY="$FAKE_KEY$(printf '\r')" providers --json
report "key with a control character shows \"invalid\" in JSON" \
	"$(has out '"key":[[:space:]]*"invalid"'; echo $?)"
runenv DASHSCOPE_API_KEY="   " providers
report "a key of spaces shows not set" \
	"$(has out 'DASHSCOPE_API_KEY: not set'; echo $?)"

# --providers FILE
run providers --providers "$tmp/good.json"
report "--providers FILE exits 0" "$([ $rc -eq 0 ]; echo $?)"
report "--providers FILE is the source" \
	"$(has_fixed out "providers config: $tmp/good.json"; echo $?)"
report "--providers FILE replaces the catalogue" \
	"$(has out '^local ' && has out '^remote ' && ! has out '^qwen '
	echo $?)"
report "keyless local server needs no key" \
	"$(has out 'none needed'; echo $?)"
report "file route is listed" \
	"$(has out '^  r  *local:tiny remote:big'; echo $?)"
run providers --providers="$tmp/good.json" --json
report "--providers=FILE --json" \
	"$([ $rc -eq 0 ] && has out '"name":[[:space:]]*"remote"'; echo $?)"

# $NIGHTSHIFT_PROVIDERS, and --providers wins over it
runenv NIGHTSHIFT_PROVIDERS=$tmp/good.json providers
report "NIGHTSHIFT_PROVIDERS is used" \
	"$([ $rc -eq 0 ] && has_fixed out "providers config: $tmp/good.json"
	echo $?)"
runenv NIGHTSHIFT_PROVIDERS=$tmp/bad.json providers --providers "$tmp/good.json"
report "--providers wins over NIGHTSHIFT_PROVIDERS" \
	"$([ $rc -eq 0 ] && has out '^remote '; echo $?)"

# broken configs: exit 2, the file, the field and the value named, nothing
# on stdout
run providers --providers "$tmp/bad.json"
report "bad field exits 2" "$([ $rc -eq 2 ]; echo $?)"
want="$tmp/bad.json: providers.local.max_inflight: must be a positive integer, got 0"
report "bad field message names file and field" \
	"$(has_fixed err "$want"; echo $?)"
report "bad config prints nothing on stdout" "$([ ! -s "$tmp/out" ]; echo $?)"
runenv NIGHTSHIFT_PROVIDERS=$tmp/bad.json providers
report "bad NIGHTSHIFT_PROVIDERS file exits 2 naming it" \
	"$([ $rc -eq 2 ] && has_fixed err "$tmp/bad.json: providers.local"
	echo $?)"
run providers --providers "$tmp/broken.json"
report "invalid JSON exits 2 naming the file" \
	"$([ $rc -eq 2 ] && has_fixed err "$tmp/broken.json: invalid JSON"
	echo $?)"
run providers --providers "$tmp/missing.json"
report "missing file exits 2 naming it" \
	"$([ $rc -eq 2 ] && has_fixed err "$tmp/missing.json"; echo $?)"
run providers --providers "$tmp/haskey.json"
report "api_key in the file is refused" \
	"$([ $rc -eq 2 ] && has err 'providers.remote.api_key: .*api_key_env'
	echo $?)"
report "refused key is not echoed" "$(lacks_key; echo $?)"

# a refused value is named (issue 15), but never a key pasted into a field
cat >"$tmp/grpc.json" <<'EOF'
{"providers": {"qwen": {"dialect": "grpc", "base_url": "https://llm.example.com",
  "api_key_env": "REMOTE_TEST_KEY",
  "models": {"m": {"input_per_mtok": 1, "output_per_mtok": 2}}}}}
EOF
run providers --providers "$tmp/grpc.json"
want="$tmp/grpc.json: providers.qwen.dialect: must be \"openai\" or \"anthropic\", got \"grpc\""
report "refused dialect is named" \
	"$([ $rc -eq 2 ] && has_fixed err "$want"; echo $?)"
sed "s/\"grpc\"/\"$FAKE_KEY\"/" "$tmp/grpc.json" >"$tmp/keydialect.json"
run providers --providers "$tmp/keydialect.json"
report "a key in the dialect field is refused, not shown" \
	"$([ $rc -eq 2 ] &&
	has err 'got a string that looks like an API key (not shown)' &&
	lacks_key; echo $?)"
sed "s/\"REMOTE_TEST_KEY\"/\"$FAKE_KEY\"/" "$tmp/good.json" >"$tmp/keyenv.json"
run providers --providers "$tmp/keyenv.json"
report "a key in api_key_env is refused, not shown" \
	"$([ $rc -eq 2 ] && has err 'providers.remote.api_key_env: .*not shown' &&
	lacks_key; echo $?)"

# --prices: off-peak windows follow the map's price at the catalogue's
# discount (deepseek-v4-pro: 1.32/3.96 peak, 0.66/1.98 off-peak in the
# catalogue; 0.435/0.87 in the map), or are dropped with a note
cat >"$tmp/map.json" <<'EOF'
{"deepseek/deepseek-v4-pro": {"litellm_provider": "deepseek", "mode": "chat",
  "input_cost_per_token": 4.35e-07, "output_cost_per_token": 8.7e-07},
 "deepseek/free": {"litellm_provider": "deepseek", "mode": "chat",
  "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}}
EOF
run providers --prices "$tmp/map.json"
sed -n '/^    deepseek-v4-pro /,/^    [a-z]/p' "$tmp/out" >"$tmp/v4"
report "--prices: the map's base price" \
	"$([ $rc -eq 0 ] &&
	grep -q '^    deepseek-v4-pro  *0\.435  *0\.87 ' "$tmp/v4"; echo $?)"
report "--prices: off-peak at the catalogue's discount off the map's price" \
	"$(grep -q -F '10:00-01:00 UTC every day: input 0.2175, output 0.435' \
		"$tmp/v4" &&
	grep -q -F '00:00-24:00 UTC sat,sun: input 0.2175, output 0.435' \
		"$tmp/v4"; echo $?)"
report "--prices: no off-peak price above the map's peak" \
	"$(! grep -q -F 'input 0.66, output 1.98' "$tmp/v4"; echo $?)"
report "--prices: says the windows follow at the config's discount" \
	"$(grep -q "off-peak windows at the config's discount" "$tmp/v4"
	echo $?)"
cat >"$tmp/free.json" <<'EOF'
{"providers": {"ds": {"dialect": "openai", "flavor": "deepseek",
  "base_url": "http://127.0.0.1:9/v1",
  "models": {"free": {"input_per_mtok": 0, "output_per_mtok": 0,
    "offpeak": [{"start": "00:00", "end": "06:00",
                 "input_per_mtok": 0, "output_per_mtok": 0}]}}}}}
EOF
run providers --providers "$tmp/free.json" --prices "$tmp/map.json"
report "--prices: a window that cannot follow is dropped with a note" \
	"$([ $rc -eq 0 ] &&
	has out '1 off-peak window dropped: the config.s base price is 0' &&
	! has out '00:00-06:00 UTC'; echo $?)"
run providers --providers "$tmp/free.json" --prices "$tmp/map.json" --json
report "--prices: the dropped window counted in --json" \
	"$([ $rc -eq 0 ] && has out '"offpeak_dropped":[[:space:]]*1'; echo $?)"

# batch lanes: the catalogue's, a file's, in text and --json
run providers
sed -n '/^qwen /,/^$/p' "$tmp/out" >"$tmp/qwen"
report "built-in: qwen's batch lane with its limits" \
	"$(grep -q -F '  batch      openai API (Files + Batches), 0.5 x the price, up to 50000 requests and 500 MB per batch, window 24 h' "$tmp/qwen"
	echo $?)"
report "built-in: qwen-flash's batch price at the discount" \
	"$(sed -n '/^    qwen-flash /{n;p;}' "$tmp/qwen" |
	grep -q -F '      batch: input 0.025, output 0.2 (the price x 0.5)'
	echo $?)"
report "built-in: qwen3-max is not batched" \
	"$(sed -n '/^    qwen3-max /{n;p;}' "$tmp/qwen" |
	grep -q -F '      batch: not offered for this model'; echo $?)"
report "built-in: anthropic's lane is Message Batches" \
	"$(sed -n '/^anthropic /,/^$/p' "$tmp/out" | grep -q -F \
	'  batch      anthropic API (Message Batches), 0.5 x the price, up to 100000 requests and 256 MB'
	echo $?)"
sed -n '/^deepseek /,/^$/p' "$tmp/out" >"$tmp/deepseek"
report "built-in: deepseek has no batch lane" \
	"$(grep -q '^  batch      none$' "$tmp/deepseek" &&
	! grep -q '      batch:' "$tmp/deepseek"; echo $?)"
run providers --json
# the JSON without white space, to match members in order
tr -d ' \t\n' <"$tmp/out" >"$tmp/flat"
report "--json: qwen's lane" \
	"$([ $rc -eq 0 ] && has_fixed flat '"batch":{"api":"openai","discount":0.5,"max_requests":50000,"max_bytes":500000000,"window_h":24}'
	echo $?)"
report "--json: a model's batch prices, and one not offered" \
	"$(has_fixed flat '"name":"qwen-flash","input_per_mtok":0.05' &&
	has_fixed flat '"batch":{"input_per_mtok":0.025,"output_per_mtok":0.2,"cached_input_per_mtok":0.005,"cache_write_per_mtok":0.025,"input_given":false,"output_given":false}' &&
	has_fixed flat '"max_output_tokens":65536,"batch":false'; echo $?)"
report "--json: no lane is null" \
	"$(has_fixed flat '"batch":null,"models":[{"name":"deepseek-flash"'
	echo $?)"

cat >"$tmp/lane.json" <<'EOF'
{"providers": {
  "remote": {"dialect": "anthropic", "base_url": "https://llm.example.com",
             "api_key_env": "REMOTE_TEST_KEY",
             "batch": {"discount": 0.4, "max_requests": 1000,
                       "max_bytes": 1234567},
             "models": {"big": {"input_per_mtok": 1.5, "output_per_mtok": 7,
                                "batch_input_per_mtok": 0.5,
                                "batch_output_per_mtok": 3}}}}}
EOF
run providers --providers "$tmp/lane.json"
report "a file's batch lane, its api from the dialect" \
	"$([ $rc -eq 0 ] && has_fixed out '  batch      anthropic API (Message Batches), 0.4 x the price, up to 1000 requests and 1234567 bytes per batch, window 24 h'
	echo $?)"
report "a file's batch prices as given" \
	"$(has_fixed out '      batch: input 0.5, output 3.0' &&
	! has out 'the price x'; echo $?)"
sed 's/"discount": 0.4/"discount": 2/' "$tmp/lane.json" >"$tmp/badlane.json"
run providers --providers "$tmp/badlane.json"
want="$tmp/badlane.json: providers.remote.batch.discount: must be a number in (0, 1], got 2"
report "a bad discount exits 2 naming file, field and value" \
	"$([ $rc -eq 2 ] && has_fixed err "$want" && [ ! -s "$tmp/out" ]
	echo $?)"
sed 's/"discount": 0.4/"api": "openai"/' "$tmp/lane.json" >"$tmp/badapi.json"
run providers --providers "$tmp/badapi.json"
report "an openai batch api on an anthropic provider exits 2" \
	"$([ $rc -eq 2 ] &&
	has err 'providers.remote.batch.api: an anthropic-dialect provider'
	echo $?)"
cat >"$tmp/bmap.json" <<'EOF'
{"gpt-6-luna": {"litellm_provider": "openai", "mode": "chat",
  "input_cost_per_token": 1e-07, "output_cost_per_token": 5e-07,
  "input_cost_per_token_batches": 4e-08,
  "output_cost_per_token_batches": 2e-07}}
EOF
run providers --prices "$tmp/bmap.json"
report "--prices: LiteLLM's batch prices" \
	"$([ $rc -eq 0 ] && sed -n '/^    gpt-6-luna /,/^    [a-z]/p' "$tmp/out" |
	grep -q -F '      batch: input 0.04, output 0.2'; echo $?)"

# usage errors
run providers --bogus
report "unknown option exits 2 with a hint" \
	"$([ $rc -eq 2 ] && has_fixed err "Try 'nightshift providers --help'."
	echo $?)"
run providers extra
report "extra argument exits 2" \
	"$([ $rc -eq 2 ] && has err 'unexpected argument'; echo $?)"
run providers --providers
report "--providers without a value exits 2" "$([ $rc -eq 2 ]; echo $?)"
exit 0
