# defects.sh — the defects a hostile probe found (issue 17): each part
# repeats one probe and checks that nightshift now refuses it, repairs it
# or says what is wrong.
. "$(dirname "$0")/lib.sh"

# --- export: a temporary of its own, removed on any exit ----------------
# big_queue DB N: N done jobs with a 1.5 kB reply each, written with the
# sqlite3 shell as a run leaves them (an export of it takes a second or
# so, long enough to be stopped or overlapped).
big_queue() {
  line 1 > one.jsonl
  "$NIGHTSHIFT" ingest --db "$1" one.jsonl >/dev/null 2>&1
  printf '{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"%s"},"finish_reason":"stop"}]}' \
    "$(head -c 1500 /dev/zero | tr '\0' a)" > big.json
  zstd -q -f -o big.zst big.json
  sqlite3 "$1" "UPDATE jobs SET state = 2;
    WITH RECURSIVE c(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM c WHERE i < $2)
    INSERT INTO jobs (id, custom_id, state, body_hash, request, est_input_tokens,
      max_output_tokens, created_at, updated_at)
      SELECT i, 'job-' || i, 2, i, x'00', 1, 0, 0, 0 FROM c;
    INSERT INTO results (job_id, provider, model, status_code, request_id, body,
      attempts, cost_usd, latency_ms, finished_at)
      SELECT id, 'qwen', 'qwen-plus', 200, 'r', readfile('big.zst'), 1, 0.0001, 5, 1
      FROM jobs;"
}
big_queue big.db 100000

# Two exports to one file at once: each had out.jsonl.tmp; the second
# truncated the first's, which then failed to rename, and out.jsonl was
# left with megabytes of NUL bytes.
"$NIGHTSHIFT" export --db big.db -o two.jsonl >e1.out 2>e1.err & p1=$!
"$NIGHTSHIFT" export --db big.db -o two.jsonl >e2.out 2>e2.err & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
check "two exports to one file both succeed" test "$r1.$r2" = 0.0
check "both export every line" sh -c 'grep -q "exported 100000 results" e1.err && grep -q "exported 100000 results" e2.err'
check "the file has every line and no NUL byte" sh -c \
  'test "$(wc -l < two.jsonl)" = 100000 && test "$(tr -d "\000" < two.jsonl | wc -c)" = "$(wc -c < two.jsonl)"'
check "no temporary is left beside it" test -z "$(ls -d two.jsonl.tmp* 2>/dev/null)"

# A stop signal mid-export removes the temporary and leaves no file.
for sig in INT TERM HUP; do
  "$NIGHTSHIFT" export --db big.db -o "sig$sig.jsonl" 2>"sig$sig.err" & p=$!
  i=0
  while [ $i -lt 400 ] && [ -z "$(ls -d sig$sig.jsonl.tmp* 2>/dev/null)" ]; do
    sleep 0.01; i=$((i + 1))
  done
  kill -s "$sig" $p; wait $p; r=$?
  check "SIG$sig mid-export: the process dies of it ($r)" test "$r" -gt 128
  check "SIG$sig mid-export: no temporary, no half file" \
    test -z "$(ls -d sig$sig.jsonl* 2>/dev/null)"
  check "SIG$sig mid-export: it says so" grep -q "stopped by signal" "sig$sig.err"
done

# --- run on a damaged database -----------------------------------------
# It said "nightshift run:  while claiming jobs; ... the database is
# intact; run again to resume": an empty error and a false claim. The
# first leaf page of the jobs table is overwritten, so that the run
# opens the file and fails when it reads the jobs to claim.
start_mock
providers_file p.json
jobs_file c.jsonl 300
run ingest --db c.db c.jsonl
expect "a queue to damage" 0 "enqueued 300"
q c.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
pg=$(q c.db "SELECT min(pageno) FROM dbstat WHERE name = 'jobs' AND pagetype = 'leaf'")
psz=$(q c.db "PRAGMA page_size")
check "the jobs table has a leaf page ($pg)" test "${pg:-0}" -gt 1
head -c "$psz" /dev/zero | tr '\0' '\336' | dd of=c.db bs="$psz" seek=$((pg - 1)) conv=notrunc 2>/dev/null
MOCK_KEY_ENV=k run run --db c.db --providers p.json --lane sync
expect "run on a damaged database: exit 1, says it is corrupt, names the file" 1 \
  "the database c.db is corrupt" "disk image is malformed" 'sqlite3 c.db ".recover"'
check "... and claims nothing false" sh -c '! grep -q "intact" "$1"' sh "$T/err"
check "... and has no empty error" sh -c '! grep -q "run:  " "$1"' sh "$T/err"
# The batch lane reads the jobs on its own path: its message was empty
# too ("batch lane: reading the queue: ").
sed 's/"max_retries"/"batch": {"api": "openai"}, "max_retries"/' p.json > pb.json
MOCK_KEY_ENV=k run run --db c.db --providers pb.json --lane batch --max-runtime 5s
expect "the batch lane on a damaged database: exit 1, says it is corrupt and how to recover" 1 \
  "the database c.db is corrupt (batch lane" "disk image is malformed (c.db)" 'sqlite3 c.db ".recover"'
check "... said once, without the lane's own line" test "$(grep -c 'malformed' "$T/err")" = 1
check "... with nothing empty after a colon" sh -c '! grep -q ": $" "$1"' sh "$T/err"

# --- read-only commands create nothing ------------------------------------
# `status` on an empty file wrote a schema into it. status, report, export
# and plan on an empty file, a schema-less SQLite file or a missing one
# now refuse (exit 2) and leave it exactly as it was.
: > empty.db
sqlite3 bare.db "PRAGMA user_version = 0; CREATE TABLE t (a); DROP TABLE t;"
bare_sum=$(cksum < bare.db)
for cmd in status report export plan; do
  run "$cmd" --db empty.db
  expect "$cmd on an empty file: exit 2, says so" 2 "empty.db: an empty file, no nightshift queue in it yet"
  check "$cmd on an empty file: still empty, no -wal or -shm" \
    sh -c 'test ! -s empty.db && test -z "$(ls empty.db-* 2>/dev/null)"'
  run "$cmd" --db bare.db
  expect "$cmd on a schema-less SQLite file: exit 2" 2 "bare.db: no nightshift queue in it yet"
  check "$cmd on a schema-less SQLite file: not a byte changed" test "$(cksum < bare.db)" = "$bare_sum"
  run "$cmd" --db missing.db
  expect "$cmd on a missing file: exit 2" 2 "missing.db: no such database"
  check "$cmd on a missing file: creates none" test -z "$(ls missing.db* 2>/dev/null)"
done

# --- a long Retry-After is said, with who and until when -------------------
# A 429 with Retry-After: 3600 idled a run for an hour with only
# "ETA --:--". Now a log line names the provider and the time the jobs it
# refused resume, and the progress line on a terminal says it too.
stop_mock
start_mock --fail-first 1=429 --retry-after 3600
providers_file ra.json
jobs_file ra.jsonl 3
MOCK_KEY_ENV=k run run --db ra.db --providers ra.json --max-runtime 3s --no-progress ra.jsonl
expect "a 1 h Retry-After: the run stops at its runtime with work left" 4 \
  "mock asked to wait (Retry-After): the jobs it refused wait until"
check "... until a clock time about an hour from now" \
  sh -c 'grep -Eq "wait until [0-9]{2}:[0-9]{2}:[0-9]{2} \(in (59|1:00):[0-9]{2}" "$1"' sh "$T/err"
check "... said once, not once a 429" test "$(grep -c 'asked to wait' "$T/err")" = 1
# The next run, that got no 429 itself, says why it idles.
MOCK_KEY_ENV=k run run --db ra.db --providers ra.json --max-runtime 1s --no-progress
expect "the next run says when its jobs are due" 4 "no job is due before " \
  "they wait out a provider's Retry-After or their backoff"
# On a terminal (--progress), the progress line says who waits until when.
stop_mock
start_mock --fail-first 1=429 --retry-after 3600
providers_file rb.json
MOCK_KEY_ENV=k run run --db rb.db --providers rb.json --max-runtime 3s --progress ra.jsonl
expect "on a terminal the progress line says it too" 4 ", mock waits until "
