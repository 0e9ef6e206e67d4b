# ingest.sh — `nightshift ingest` and `status` as a user runs them.
EX=$(cd "$(dirname "$0")/../../jobs-examples" && pwd)
. "$(dirname "$0")/lib.sh"

# --- the examples go in, and again adds nothing
for f in "$EX"/*.jsonl; do
  n=$(grep -c . "$f")
  run ingest --db ex.db "$f"
  expect "example $(basename "$f") ingests" 0 "enqueued $n, already queued 0, rejected 0"
done
total=$(cat "$EX"/*.jsonl | grep -c .)
check "status shows every example job" test "$(jobs_in ex.db)" = "$total"
run ingest --db ex.db "$EX/summarize.jsonl"
expect "re-ingest adds nothing and says so" 0 "enqueued 0" "nothing new"
check "re-ingest leaves the count" test "$(jobs_in ex.db)" = "$total"
check "database is created 0600" test "$(stat -c %a ex.db)" = 600
run status --db ex.db
expect "status lists states" 0 "queued  $total" "done    0" "dead    0" "spend"

# --- bad lines: located errors, the good lines still go in
{
  line 1
  echo 'not json at all'
  line 2
  echo '{"custom_id":"x","body":{"model":"m","messages":[{"role":"user"}]}}'
  echo '{"custom_id":"y","method":"GET","body":{"model":"m","messages":[{"role":"user","content":"a"}]}}'
  printf '{"custom_id":"z\377","body":{}}\n'
  echo '{"custom_id":"job-1","body":{"model":"cheap","messages":[{"role":"user","content":"changed"}]}}'
  echo '[1]'
  line 3
} > bad.jsonl
run ingest --db bad.db bad.jsonl
expect "bad lines are located and the rest go in" 3 \
  "bad.jsonl:2: not valid JSON" \
  "bad.jsonl:4: body.messages[0].content: missing" \
  "bad.jsonl:5: method: must be \"POST\", got \"GET\"" \
  "bad.jsonl:6: not valid UTF-8" \
  "bad.jsonl:7: custom_id \"job-1\": already queued with a different body" \
  "bad.jsonl:8: not a JSON object" \
  "enqueued 3, already queued 0, rejected 6"
check "only the good lines are queued" test "$(jobs_in bad.db)" = 3

# --- many batches (validated on worker threads): messages still come in line
# order, verdicts are exact, and the same jobs spelled with other spacing
# are already queued
i=1; while [ $i -le 3000 ]; do
  case $i in
  7|1500|2999) echo "{\"custom_id\":\"broken-$i\",\"body\":{\"model\":\"m\"}}" ;;
  2000) echo '{"custom_id":"job-5","body":{"model":"cheap","messages":[{"role":"user","content":"other"}]}}' ;;
  *) line $i ;;
  esac
  i=$((i + 1))
done > many.jsonl
run ingest --db many.db many.jsonl
expect "a file of many batches: every bad line reported" 3 \
  "many.jsonl:7: body.messages: missing" \
  "many.jsonl:2000: custom_id \"job-5\": already queued with a different body" \
  "enqueued 2996, already queued 0, rejected 4"
check "its errors come in line order" \
  test "$(grep -o '^many.jsonl:[0-9]*' "$T/err" | tr '\n' ' ')" = "many.jsonl:7 many.jsonl:1500 many.jsonl:2000 many.jsonl:2999 "
check "every good line is queued" test "$(jobs_in many.db)" = 2996
sed -e 's/":/" :  /g' -e 's/,"/ ,	"/g' -e 's/{/{ /g' -e 's/}/ }/g' many.jsonl > pretty.jsonl
run ingest --db many.db pretty.jsonl
expect "the same jobs pretty-printed are already queued" 3 "enqueued 0, already queued 2996, rejected 4"
"$NIGHTSHIFT" ingest --db stdin-many.db - < many.jsonl >"$T/out" 2>"$T/err"; rc=$?
expect "many batches from standard input" 3 "stdin: enqueued 2996, already queued 0, rejected 4"
run ingest --db many-strict.db --strict many.jsonl
expect "--strict over many batches reports every bad line" 3 \
  "many.jsonl:2999: body.messages: missing" "rejected 3 of 3000 lines; nothing queued (--strict)"
check "--strict over many batches queued nothing" test "$(jobs_in many-strict.db)" = 0

# --- --strict: nothing goes in when any line is bad
{ line 10; line 11; echo '{"custom_id":"q"}'; line 12; } > strict.jsonl
run ingest --db strict.db --strict strict.jsonl
expect "--strict reports and queues nothing" 3 "strict.jsonl:3: body: missing" "nothing queued (--strict)"
check "--strict left the queue empty" test "$(jobs_in strict.db)" = 0
{ line 10; line 11; } > strict-ok.jsonl
run ingest --db strict.db --strict strict-ok.jsonl
expect "--strict with a clean file queues it" 0 "enqueued 2"

# --- CRLF, BOM, blank lines, no final newline, stdin
printf '\357\273\277%s\r\n\r\n%s' "$(line 20)" "$(line 21)" > crlf.jsonl
run ingest --db crlf.db crlf.jsonl
expect "CRLF, BOM and a missing final newline are accepted" 0 "enqueued 2, already queued 0, rejected 0"
line 30 | "$NIGHTSHIFT" ingest --db stdin.db - >"$T/out" 2>"$T/err"; rc=$?
expect "reads standard input with -" 0 "stdin: enqueued 1"

# --- line length cap
{ line 40; printf '{"custom_id":"long","body":{"model":"m","messages":[{"role":"user","content":"%0600d"}]}}\n' 0; line 41; } > long.jsonl
run ingest --db long.db --max-line-bytes 300 long.jsonl
expect "an over-long line is rejected with its number" 3 "long.jsonl:2: line longer than 300 bytes" "enqueued 2"

# --- NIGHTSHIFT_DB and the default path
line 50 > one.jsonl
NIGHTSHIFT_DB="$T/env.db" "$NIGHTSHIFT" ingest one.jsonl >/dev/null 2>&1
check "NIGHTSHIFT_DB chooses the database" test -f "$T/env.db"
"$NIGHTSHIFT" ingest one.jsonl >/dev/null 2>&1
check "default database is ./nightshift.db" test -f "$T/nightshift.db"

# --- usage and errors
run ingest --help;                 expect "ingest --help" 0 "usage: nightshift ingest"
run status --help;                 expect "status --help" 0 "usage: nightshift status"
run --help;                        expect "nightshift --help" 0 "ingest" "status"
run --version;                     expect "nightshift --version" 0 "nightshift "
run ingest --db x.db;              expect "ingest without a file" 2 "which file?" "Try 'nightshift ingest --help'"
run ingest --bogus one.jsonl;      expect "unknown option" 2 "unknown option '--bogus'" "--help"
rm -f x.db
run ingest --db x.db nosuch.jsonl; expect "missing input file" 2 "nightshift ingest: nosuch.jsonl: No such file"
check "a missing input file creates no database" test ! -e x.db
mkdir -p adir
run ingest --db x.db adir; expect "a directory as input" 2 "adir: is a directory"
check "a directory as input creates no database" test ! -e x.db
run frobnicate;                    expect "unknown command" 2 "unknown command 'frobnicate'"
# a refused option value is named, quoted as a JSON string (issue 15)
run ingest --db x.db --max-errors abc one.jsonl
expect "a refused --max-errors is named" 2 'ingest: --max-errors: "abc" is not a count'
run run --db x.db --workers "$(printf 'a\033[2J')"
expect "a refused --workers is named, escaped" 2 \
  'run: --workers: "a\u001b[2J" is not a whole number from 1 to 256'
check "a refused option creates no database" test ! -e x.db
run status --db nosuch.db;         expect "status on a missing database" 2 "nosuch.db: no such database"
check "status did not create it" test ! -e nosuch.db
echo "hello" > notadb.db
run ingest --db notadb.db one.jsonl; expect "a file that is not a database" 2 "not a nightshift database"
run status --db ex.db --json
expect "status --json" 0 "\"total\":$total" "\"queued\":$total" "\"spend_usd\":0"

# --- a full disk: ingest stops with "disk full", what was committed stays,
# the database stays intact and a later ingest adds the rest. As any user:
# the fault shim (tests/shim/iofault.c) makes SQLite's writes fail with
# SQLITE_FULL from the Nth on, N half the writes the ingest makes.
i=0; while [ $i -lt 3000 ]; do
  printf '{"custom_id":"f-%s","body":{"model":"m","messages":[{"role":"user","content":"%s %s"}]}}\n' $i "$(head -c 200 /dev/urandom | od -An -tx1 | tr -d ' \n')" $i
  i=$((i + 1))
done > full.jsonl
head -n 50 full.jsonl > first.jsonl
SHIM=${IOFAULT_SHIM:-$(dirname "${MOCK:-.}")/iofault.so}
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS
# shimmed SPEC ARGS...: nightshift ARGS with NS_FAULT=SPEC; the shim's
# counts in $T/flog.
shimmed() {
  spec=$1; shift; rm -f "$T/flog"
  NS_FAULT=$spec NS_FAULT_LOG="$T/flog" LD_PRELOAD="$SHIM" "$NIGHTSHIFT" "$@" >"$T/out" 2>"$T/err"
  rc=$?
}
if [ -f "$SHIM" ]; then
  run ingest --db full.db first.jsonl
  expect "disk full (shim): the first 50 go in" 0 "enqueued 50"
  cp full.db count.db
  shimmed "" ingest --db count.db full.jsonl
  writes=$(sed -n 's/^write \([0-9]*\) .*/\1/p' "$T/flog")
  check "disk full (shim): the ingest's writes are counted ($writes)" test "${writes:-0}" -ge 4
  shimmed "full:$((writes / 2))" ingest --db full.db full.jsonl
  expect "disk full (shim) is reported as such" 1 "disk full"
  check "disk full (shim): the fault was hit" grep -q 'injected [1-9]' "$T/flog"
  check "disk full (shim): the database is intact" test "$(sqlite3 full.db 'PRAGMA integrity_check')" = ok
  check "disk full (shim): what was committed before is kept" test "$(jobs_in full.db)" = 50
  run ingest --db full.db full.jsonl
  expect "disk full (shim): with room again, ingest adds the rest" 0 "enqueued 2950, already queued 50"
else
  notok "the fault shim is built" "$SHIM missing: make $SHIM"
fi
# The same on a real file system that fills up: SQLite's own translation of
# ENOSPC, which the shim stands in for. Needs root for a small tmpfs.
if [ "$(id -u)" = 0 ] && mkdir -p "$T/small" && mount -t tmpfs -o size=600k tmpfs "$T/small" 2>/dev/null; then
  cleanup_hooks="umount '$T/small' 2>/dev/null;"
  run ingest --db "$T/small/q.db" first.jsonl
  expect "ingest on the small disk" 0 "enqueued 50"
  run ingest --db "$T/small/q.db" full.jsonl
  expect "disk full is reported as such" 1 "disk full"
  check "the database is intact after disk full" test "$(sqlite3 "$T/small/q.db" 'PRAGMA integrity_check')" = ok
  check "what was committed before the full disk is kept" test "$(jobs_in "$T/small/q.db")" = 50
  mount -o remount,size=16m "$T/small"
  run ingest --db "$T/small/q.db" full.jsonl
  expect "with room again, ingest adds the rest" 0 "enqueued 2950, already queued 50"
  umount "$T/small"; cleanup_hooks=""
else
  skip "disk full on a small tmpfs (needs root to mount it; the shim's checks above ran)"
fi
