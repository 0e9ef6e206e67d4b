# kill9_cmds.sh — kill -9 the commands other than a plain `run` at random
# moments: ingest of a big file, `run FILE`, export, retry, a schema
# migration and dictionary training. After each kill the database is
# intact, the next command succeeds, and nothing is lost or doubled
# (counted with sqlite3). The moments come from a seed, $KILL9_SEED or the
# clock, printed ("# seed N") so a failure can be replayed; each window is
# measured first on a clean copy of the same work, so the kills land
# across it on a fast or a slow machine. Where the window is a single
# transaction a few ms long (a migration, a retry's commit, a dictionary
# written with the rows it recompressed), the test build also dies there
# itself ($NIGHTSHIFT_KILL_AT, util/killpoint.h), since random timing
# cannot hit it reliably.
S=$(cd "$(dirname "$0")/../../schema" && pwd) # before lib.sh moves to $T
. "$(dirname "$0")/../e2e/lib.sh"
export MOCK_KEY_ENV=sk-test-kill-cmds-0123456789
: "${NIGHTSHIFT_TBIN:?set NIGHTSHIFT_TBIN to build/.../nightshift-test}"
seed=${KILL9_SEED:-$(( $(date +%s) % 1000000 ))}
echo "# seed $seed (replay: KILL9_SEED=$seed)"

# rnd LO HI: r = a number from LO to HI, the next from the seed.
rnd() {
  seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
  r=$(( $1 + (seed / 65536) % ($2 - $1 + 1) ))
}
now_ms() { date +%s%3N; }
# timed CMD...: run CMD to its end; took = how long, in ms; trc its status.
timed() { t0=$(now_ms); "$@" >/dev/null 2>&1; trc=$?; took=$(( $(now_ms) - t0 )); }
# kill_after MS CMD...: start CMD and kill -9 it MS ms later, if it still
# runs; krc = its status (137: killed).
kill_after() {
  ms=$1; shift
  "$@" >/dev/null 2>&1 &
  kp=$!
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -9 $kp 2>/dev/null; wait $kp 2>/dev/null; krc=$?
}
intact() { test "$(q "$1" 'PRAGMA integrity_check')" = ok; }
# has_jobs DB: its schema was committed (a kill can come before it is).
has_jobs() { test "$(q "$1" "SELECT count(*) FROM sqlite_master WHERE name = 'results'")" = 1; }
# once DB: 1 when no job has two results (none when there is no schema yet).
once() { if has_jobs "$1"; then q "$1" 'SELECT count(*) = count(DISTINCT job_id) FROM results'; else echo 1; fi; }
# bodies_right: every request the mock logged carried its own job's body
# (item N for job-N), so every stored body decoded to the right one.
bodies_right() {
  sed -n 's/.*"client_request_id":"job-\([0-9]*\)".*"content":"Summarize item \([0-9]*\) .*/\1 \2/p' mock.log >pairs
  test "$(wc -l <pairs)" -gt 0 -a "$(wc -l <pairs)" = "$(grep -c . mock.log)" -a "$(awk '$1 != $2' pairs | wc -l)" = 0
}
ids() { sed -n 's/.*"client_request_id":"\([^"]*\)".*/\1/p'; }
# big_file FILE N: N distinct jobs, quickly (awk, not a shell loop).
big_file() {
  awk -v n="$2" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"custom_id\":\"job-%d\",\"body\":{\"model\":\"cheap\",\"messages\":[{\"role\":\"user\",\"content\":\"Summarize item %d of the night: %s\"}],\"max_tokens\":50}}\n",
      i, i, substr("lorem ipsum dolor sit amet consectetur adipiscing elit sed do", 1 + (i * 7) % 40) }' >"$1"
}

start_mock --latency 0-20 --seed 5
providers_file p.json

# 1. ingest of a big file, killed at moments across its run; ingesting the
# same file again puts in what was not committed, once.
N=150000
big_file big.jsonl $N
timed "$NIGHTSHIFT" ingest --db ref.db big.jsonl
check "ingest: a clean ingest of $N lines (${took} ms)" test $trc = 0
killed=0; k=0
while [ $k -lt 4 ]; do
  rnd 1 "$took"; at=$r
  kill_after $at "$NIGHTSHIFT" ingest --db i.db big.jsonl
  [ $krc = 137 ] && killed=$((killed + 1))
  check "ingest kill $k (at $at ms, $(q i.db 'SELECT count(*) FROM jobs') in): database intact" intact i.db
  k=$((k + 1))
done
check "ingest: the kills stopped some ingests ($killed of 4)" test $killed -gt 0
before=$(q i.db 'SELECT count(*) FROM jobs')
run ingest --db i.db big.jsonl
expect "ingest after the kills: the next ingest succeeds" 0 "enqueued $((N - before)), already queued $before, rejected 0"
# jobs_sum DB: its jobs, each custom_id with its body's hash, in one line
jobs_sum() { q "$1" 'SELECT count(*), count(DISTINCT custom_id) FROM jobs'; q "$1" 'SELECT custom_id, body_hash FROM jobs ORDER BY custom_id' | cksum; }
check "ingest after the kills: every line once, as a clean ingest has it ($(q i.db 'SELECT count(*) FROM jobs'))" \
  test "$(jobs_sum i.db)" = "$(jobs_sum ref.db)"
check "ingest after the kills: one body dictionary" \
  test "$(q i.db "SELECT count(*) FROM dicts WHERE kind = 'body'")" = 1
rm -f ref.db* i.db* big.jsonl

# 2. `run FILE` (ingest, then run) killed at moments across both; the next
# `run FILE` finishes, each job with one result, and nothing committed
# before a kill is requested again.
M=3000
big_file jobs.jsonl $M
timed "$NIGHTSHIFT" run --db ref.db --providers p.json --no-progress jobs.jsonl
check "run FILE: a clean run ($took ms)" test $trc = 0
: >mock.log; k=0; killed=0
while [ $k -lt 4 ]; do
  # each run has less left to do: the windows shrink with it
  rnd 1 $((took * (4 - k) / 4)); at=$r
  kill_after $at "$NIGHTSHIFT" run --db r.db --providers p.json --no-progress jobs.jsonl
  [ $krc = 137 ] && killed=$((killed + 1))
  check "run FILE kill $k (at $at ms): database intact, no job twice" \
    test "$(q r.db 'PRAGMA integrity_check')-$(once r.db)" = ok-1
  # a kill in the first milliseconds leaves a file with no schema yet
  has_jobs r.db && q r.db 'SELECT custom_id FROM jobs WHERE state = 2' | sort >"done.$k" || : >"done.$k"
  grep -c . mock.log >"pos.$k"
  k=$((k + 1))
done
check "run FILE: the kills stopped some runs ($killed of 4)" test $killed -gt 0
run run --db r.db --providers p.json --no-progress jobs.jsonl
expect "run FILE after the kills: the next one finishes" 0
check "run FILE after the kills: every job once, done, one result each" \
  test "$(q r.db 'SELECT count(*), count(DISTINCT custom_id), sum(state = 2) FROM jobs')-$(q r.db 'SELECT count(*), count(DISTINCT job_id) FROM results')" = "$M|$M|$M-$M|$M"
resent=0; k=0
while [ $k -lt 4 ]; do
  n=$(sed -n "$(( $(cat "pos.$k") + 1 )),\$p" mock.log | ids | sort -u | comm -12 - "done.$k" | wc -l)
  resent=$((resent + n)); k=$((k + 1))
done
check "run FILE: nothing committed before a kill was requested again" test $resent = 0
check "run FILE: every result holds the reply the mock served" test "$(unserved r.db)" = 0
check "run FILE: every request carried its job's own body" bodies_right
check "run FILE: the ledger has every request the mock answered ok" \
  test "$(q r.db "SELECT count(*) >= $M FROM attempts")" = 1

# 3. export killed while writing: the file is never there torn. The
# results of section 2 exported clean first, to compare.
timed "$NIGHTSHIFT" export --db r.db -o ref.jsonl
check "export: a clean export ($took ms)" test "$trc-$(grep -c . ref.jsonl)" = "0-$M"
for out in out.jsonl out.jsonl.zst; do
  k=0; killed=0
  while [ $k -lt 4 ]; do
    rnd 0 "$took"; at=$r
    kill_after $at "$NIGHTSHIFT" export --db r.db -o $out
    [ $krc = 137 ] && killed=$((killed + 1))
    # absent (killed first time), else whole: a kill after the rename
    # leaves the complete file
    if [ ! -e $out ]; then whole=absent
    elif [ $out = out.jsonl ]; then cmp -s $out ref.jsonl && whole=whole || whole=torn
    else whole=$("$NIGHTSHIFT" export --db r.db -o - 2>/dev/null | cmp -s - ref.jsonl && zstd -dc $out 2>/dev/null | cmp -s - ref.jsonl && echo whole || echo torn)
    fi
    check "export $out kill $k (at $at ms): the file is absent or whole ($whole)" test $whole != torn
    k=$((k + 1))
  done
  check "export $out: the kills stopped some exports ($killed of 4)" test $killed -gt 0
  run export --db r.db -o $out
  expect "export $out after the kills: the next export succeeds" 0 "exported $M results"
  check "export $out after the kills: whole, and no temporary file left" \
    test "$([ $out = out.jsonl ] && cat $out || zstd -dc $out)" = "$(cat ref.jsonl)" -a ! -e $out.tmp
done
rm -f ref.db* ref.jsonl out.jsonl*

# 4. retry killed: one transaction, so every dead job comes back or none.
mock_as bad --fault moderation=1
sed "s/$MOCK_PORT/$bad_PORT/" p.json >bad.json
D=3000
big_file dead.jsonl $D
run run --db d.db --providers bad.json --no-progress dead.jsonl
expect "retry: $D jobs dead first" 3
q d.db "VACUUM INTO 'dead0.db'"
q d.db "VACUUM INTO 'ref.db'"
timed "$NIGHTSHIFT" retry --db ref.db
check "retry: a clean retry ($took ms)" test "$trc-$(q ref.db 'SELECT count(*) FROM jobs WHERE state = 0')" = "0-$D"
# all_or_none DB: every dead job (and its result) still there, or every
# one queued again without a result.
all_or_none() {
  s=$(q "$1" 'SELECT sum(state = 3), sum(state = 0), (SELECT count(*) FROM results) FROM jobs')
  test "$s" = "$D|0|$D" -o "$s" = "0|$D|0"
}
k=0
while [ $k -lt 3 ]; do
  rnd 0 $((took + 5)); at=$r
  kill_after $at "$NIGHTSHIFT" retry --db d.db
  check "retry kill $k (at $at ms, exit $krc): database intact" intact d.db
  check "retry kill $k: all requeued or none ($(q d.db 'SELECT sum(state = 3), sum(state = 0) FROM jobs'))" all_or_none d.db
  k=$((k + 1))
done
rm -f d.db*; q dead0.db "VACUUM INTO 'd.db'"
NIGHTSHIFT_KILL_AT=retry "$NIGHTSHIFT_TBIN" retry --db d.db >/dev/null 2>&1
check "retry killed before its commit: none requeued" test "$?-$(q d.db 'SELECT sum(state = 3) FROM jobs')" = "137-$D"
check "retry killed before its commit: database intact, every dead job with its result" \
  test "$(q d.db 'PRAGMA integrity_check')-$(q d.db 'SELECT sum(state = 3), (SELECT count(*) FROM results) FROM jobs')" = "ok-$D|$D"
run retry --db d.db
expect "retry after the kill: the next retry requeues every dead job" 0 "requeued $D jobs"
run run --db d.db --providers p.json --no-progress
expect "retry after the kill: the next run does them" 0
check "retry after the kill: each job done once, its refusal kept in the ledger" \
  test "$(q d.db 'SELECT sum(state = 2) FROM jobs')-$(q d.db 'SELECT count(*), count(DISTINCT job_id) FROM results')-$(q d.db "SELECT sum(error_class = 'ok'), sum(error_class = 'content_filter'), count(DISTINCT job_id) FROM attempts")" = "$D-$D|$D-$D|$D|$D"
rm -f d.db* dead0.db* ref.db*

# 5. a schema migration killed: an old database (schema 3, built from the
# embedded steps' SQL, its jobs copied from a current one), opened by
# `status`, which migrates it in one transaction; killed at random and at
# the migration's last step before its commit.
old_db() {
  rm -f "$1"*
  cat "$S/queue.sql" "$S/migrations/002_drop_attempts_latency.sql" \
    "$S/migrations/003_jobs_dead_index.sql" | sqlite3 "$1"
  sqlite3 "$1" "PRAGMA user_version = 3; PRAGMA application_id = 1314080340;
    ATTACH 'cur.db' AS c;
    INSERT INTO jobs (id, custom_id, body_hash, request, est_input_tokens,
      max_output_tokens, created_at, updated_at)
      SELECT id, custom_id, body_hash, request, est_input_tokens,
        max_output_tokens, created_at, updated_at FROM c.jobs;
    INSERT INTO dicts SELECT id, kind, data, created_at FROM c.dicts;
    -- a ledger for 004 to sum into each job's spend: 4 rows a job
    INSERT INTO attempts (job_id, run_id, provider, model, sent_at,
      error_class, latency_ms, cost_usd)
      SELECT id, 'old', 'mock', 'm1', 1, 'server_error', 1, 0.25 FROM jobs, (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4);"
}
G=20000
big_file mig.jsonl $G
"$NIGHTSHIFT" ingest --db cur.db mig.jsonl >/dev/null 2>&1
old_db old.db
timed "$NIGHTSHIFT" status --db old.db
check "migration: a clean one from schema 3 ($took ms)" \
  test "$trc-$(q old.db 'PRAGMA user_version')" = "0-$(q cur.db 'PRAGMA user_version')"
WANT=$(q cur.db 'PRAGMA user_version')
# migrated DB: 3 untouched, or WANT with each job's spend its ledger's
migrated() {
  v=$(q "$1" 'PRAGMA user_version')
  [ "$(q "$1" 'SELECT count(*), count(DISTINCT custom_id) FROM jobs')-$(q "$1" 'SELECT count(*) FROM attempts')" = "$G|$G-$((4 * G))" ] || return 1
  [ "$v" = 3 ] && return 0
  [ "$v" = "$WANT" ] && [ "$(q "$1" 'SELECT sum(spent_usd = 1.0) FROM jobs')" = $G ]
}
k=0; killed=0
while [ $k -lt 3 ]; do
  old_db m.db
  rnd 0 "$took"; at=$r
  kill_after $at "$NIGHTSHIFT" status --db m.db
  [ $krc = 137 ] && killed=$((killed + 1))
  check "migration kill $k (at $at ms): intact, schema 3 or $WANT and nothing lost ($(q m.db 'PRAGMA user_version'))" \
    sh -c "[ \"\$(sqlite3 m.db 'PRAGMA integrity_check')\" = ok ]"
  check "migration kill $k: jobs and ledger whole, at one schema" migrated m.db
  k=$((k + 1))
done
old_db m.db
NIGHTSHIFT_KILL_AT=migrate "$NIGHTSHIFT_TBIN" status --db m.db >/dev/null 2>&1
check "migration killed before its commit: still schema 3, intact" \
  test "$?-$(q m.db 'PRAGMA user_version')-$(q m.db 'PRAGMA integrity_check')" = "137-3-ok"
check "migration killed before its commit: nothing lost" migrated m.db
run status --db m.db
expect "migration after the kill: the next command migrates" 0
check "migration after the kill: at schema $WANT, spend from the ledger" \
  test "$(q m.db 'PRAGMA user_version')" = "$WANT" -a "$(q m.db 'SELECT sum(spent_usd = 1.0) FROM jobs')" = $G
: >mock.log
run run --db m.db --providers p.json --no-progress --max-inflight 128
expect "migration after the kill: the next run does every job" 0
check "migration after the kill: one result a job, each as served" \
  test "$(q m.db 'SELECT count(*), count(DISTINCT job_id) FROM results')-$(unserved m.db)" = "$G|$G-0"
check "migration after the kill: every request carried its job's own body" bodies_right
rm -f m.db* old.db* cur.db* mig.jsonl

# 6. dictionary training: the body dictionary is trained inside ingest's
# first transaction (after 2,000 rows), the result dictionary inside a
# run's group commit (after 2,000 results); killed there, when the
# dictionary and the rows it recompressed are written but not committed.
# Enough jobs that the next run, too, gets 2,000 results to train on.
M=4500
big_file jobs.jsonl $M
NIGHTSHIFT_KILL_AT=train-body "$NIGHTSHIFT_TBIN" ingest --db t.db jobs.jsonl >/dev/null 2>&1
check "body dictionary killed in training: nothing half kept" \
  test "$?-$(q t.db 'PRAGMA integrity_check')-$(q t.db 'SELECT count(*) FROM jobs')-$(q t.db 'SELECT count(*) FROM dicts')" = "137-ok-0-0"
run ingest --db t.db jobs.jsonl
expect "body dictionary: the next ingest trains it and queues every job" 0 "enqueued $M, already queued 0"
check "body dictionary: one" test "$(q t.db "SELECT count(*) FROM dicts WHERE kind = 'body'")" = 1
: >mock.log
NIGHTSHIFT_KILL_AT=train-result "$NIGHTSHIFT_TBIN" run --db t.db --providers p.json --no-progress >/dev/null 2>&1
check "result dictionary killed in training: intact, no result dictionary, fewer than 2,000 results" \
  test "$?-$(q t.db 'PRAGMA integrity_check')-$(q t.db "SELECT count(*) FROM dicts WHERE kind = 'result'")-$(q t.db 'SELECT count(*) < 2000 FROM results')" = "137-ok-0-1"
run run --db t.db --providers p.json --no-progress
expect "result dictionary: the next run finishes" 0 "took back"
got="$(q t.db "SELECT count(*) FROM dicts WHERE kind = 'result'")-$(q t.db 'SELECT count(*), count(DISTINCT job_id) FROM results')-$(unserved t.db)"
check "result dictionary: trained once, every job one result as served ($got)" test "$got" = "1-$M|$M-0"
check "dictionaries: every request carried its job's own body" bodies_right
stop_mock
