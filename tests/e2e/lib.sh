# lib.sh — helpers for end-to-end scripts (sourced, not run).
# Each script gets its own temp dir ($T), removed on exit, and reports
# "ok - NAME" / "not ok - NAME" lines that tests/run.sh counts, and
# "skip - NAME (why)" for a check that cannot run here.
: "${NIGHTSHIFT:?set NIGHTSHIFT to the binary under test}"
T=$(mktemp -d /tmp/nightshift-e2e-XXXXXX)
cleanup_hooks=""
on_exit() { eval "$cleanup_hooks"; rm -rf "$T"; }
trap on_exit EXIT
cd "$T" || exit 1
unset NIGHTSHIFT_DB NIGHTSHIFT_PROVIDERS NIGHTSHIFT_PRICES

ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'; return 0; }
# skip "NAME (why)": a check that cannot run here; run.sh counts it apart.
skip() { echo "skip - $1"; }

# run: run nightshift, keeping stdout in $T/out, stderr in $T/err, rc in $rc.
run() { "$NIGHTSHIFT" "$@" >"$T/out" 2>"$T/err"; rc=$?; }

# expect NAME RC [GREP_STDOUT_OR_STDERR...]: check the last run's exit code
# and that each pattern appears in its stdout or stderr.
expect() {
  name=$1; want=$2; shift 2
  if [ "$rc" -ne "$want" ]; then
    notok "$name" "exit $rc, wanted $want; stderr: $(head -c 600 "$T/err")"; return
  fi
  for pat in "$@"; do
    if ! cat "$T/out" "$T/err" | grep -qF -- "$pat"; then
      notok "$name" "missing '$pat' in: $(cat "$T/out" "$T/err" | head -c 800)"; return
    fi
  done
  ok "$name"
}

# check NAME COMMAND...: ok when the command succeeds.
check() { name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; fi; }

# jobs_in DB: total jobs per `status --json`.
jobs_in() { "$NIGHTSHIFT" status --db "$1" --json | sed -n 's/.*"total":\([0-9]*\).*/\1/p'; }

# line N: a valid job line with custom_id job-N.
line() {
  printf '{"custom_id":"job-%s","body":{"model":"cheap","messages":[{"role":"user","content":"Summarize item %s"}],"max_tokens":50}}\n' "$1" "$1"
}

# start_mock ARGS...: run the mock provider on a free loopback port with a
# request log at $T/mock.log; sets MOCK_PORT and MOCK_PID.
start_mock() {
  : "${MOCK:?set MOCK to the mock provider binary}"
  : >"$T/mock.out"
  "$MOCK" --port 0 --log "$T/mock.log" "$@" >"$T/mock.out" 2>"$T/mock.err" &
  MOCK_PID=$!
  cleanup_hooks="$cleanup_hooks kill $MOCK_PID 2>/dev/null;"
  MOCK_PORT=""; i=0
  while [ $i -lt 100 ] && [ -z "$MOCK_PORT" ]; do
    MOCK_PORT=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$T/mock.out")
    [ -n "$MOCK_PORT" ] || sleep 0.05
    i=$((i + 1))
  done
  [ -n "$MOCK_PORT" ] || { notok "mock provider starts" "$(cat "$T/mock.err")"; exit 1; }
}

stop_mock() { kill -TERM "$MOCK_PID" 2>/dev/null; wait "$MOCK_PID" 2>/dev/null; }

# providers_file FILE [TIMEOUT_S] [MAX_RETRIES]: one provider "mock" (the
# openai dialect) at the running mock, key from MOCK_KEY_ENV, models m1
# ($0.50/$1.50 per Mtok) and route "cheap" -> mock:m1.
providers_file() {
  cat >"$1" <<JSON
{"providers": {"mock": {"dialect": "openai", "flavor": "dashscope",
  "base_url": "http://127.0.0.1:$MOCK_PORT/v1", "api_key_env": "MOCK_KEY_ENV",
  "max_inflight": 64, "timeout_s": ${2:-20}, "connect_timeout_s": 1,
  "max_retries": ${3:-4},
  "models": {"m1": {"input_per_mtok": 0.50, "output_per_mtok": 1.50}}}},
 "routes": {"cheap": ["mock:m1"]}}
JSON
}

# jobs_file FILE N: N valid jobs with model "cheap".
jobs_file() {
  i=1; while [ "$i" -le "$2" ]; do line "$i"; i=$((i + 1)); done >"$1"
}

# q DB SQL: one value from the database (the sqlite3 shell reads it as a
# test's independent witness).
q() { sqlite3 "$1" "$2"; }

# unserved DB: how many results of DB do not hold the reply the mock
# served for that job: each exported content must carry "Summary (H8)",
# H8 being the first 8 hex digits of the body hash the mock logged for the
# job (mock_content.c); a job without a result counts too.
unserved() {
  "$NIGHTSHIFT" export --db "$1" -o "$T/served.jsonl" >/dev/null 2>&1
  sed -n 's/.*"hash":"\([0-9a-f]\{8\}\)[0-9a-f]*","client_request_id":"\([^"]*\)".*/\2 \1/p' \
    "$T/mock.log" | sort -u >"$T/served.want"
  [ -s "$T/served.want" ] || { echo "no requests in the mock's log"; return; }
  sed -n 's/.*"custom_id":"\([^"]*\)".*Summary (\([0-9a-f]\{8\}\)).*/\1 \2/p' \
    "$T/served.jsonl" | sort -u >"$T/served.got"
  comm -23 "$T/served.want" "$T/served.got" | wc -l | tr -d ' '
}

# requests_for ID: how many requests the mock logged for job custom_id ID.
requests_for() { grep -c "\"client_request_id\":\"$1\"" "$T/mock.log"; }

# mock_as NAME ARGS...: another mock provider, logging to $T/NAME.log;
# sets NAME_PORT (e.g. qwen_PORT) and NAME_PID.
mock_as() {
  name=$1; shift
  : >"$T/$name.out"
  "$MOCK" --port 0 --log "$T/$name.log" "$@" >"$T/$name.out" 2>"$T/$name.err" &
  eval "${name}_PID=$!"
  cleanup_hooks="$cleanup_hooks kill $! 2>/dev/null;"
  p=""; i=0
  while [ $i -lt 100 ] && [ -z "$p" ]; do
    p=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$T/$name.out")
    [ -n "$p" ] || sleep 0.05
    i=$((i + 1))
  done
  [ -n "$p" ] || { notok "mock $name starts" "$(cat "$T/$name.err")"; exit 1; }
  eval "${name}_PORT=$p"
  : >>"$T/$name.log"
}

# logged NAME: requests the mock NAME has logged.
logged() { grep -c . "$T/$1.log"; }
