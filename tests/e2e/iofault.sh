# iofault.sh — faults below the process (issue 17): storage that fails on
# cue, as SQLite's own tests make it fail. An LD_PRELOAD shim
# (tests/shim/iofault.c) wraps SQLite's default VFS and allocator and fails
# the Nth write, sync, truncate, read or allocation, or fills the disk from
# the Nth write on, or makes plain writes under a path fail with ENOSPC.
# For ingest, run (claims and group commits), a batch-lane run, export and
# a schema migration, a counting pass learns how many calls the operation
# makes and N sweeps over them (every one when few, else an even sample).
# The run's also checks that every request the mock served is in the
# ledger but those the failure message counts as sent since the last
# commit, and that the last line says why the run stopped. After each
# fault: nightshift either says what failed and exits 1, or (a fault after
# the work was committed, e.g. in the checkpoint at close) exits 0 with
# all the work done; never a crash, never a success line for work that is
# not there. The database passes integrity_check, what was committed
# before is all there, and the same command run again without the fault
# succeeds and ends with every job once.
SCHEMA=$(cd "$(dirname "$0")/../../schema" && pwd)
. "$(dirname "$0")/lib.sh"
export MOCK_KEY_ENV=sk-test-e2e-0123456789
SHIM=${IOFAULT_SHIM:-$(dirname "$MOCK")/iofault.so}
if [ ! -f "$SHIM" ]; then
  notok "the fault shim is built" "$SHIM missing: make $SHIM"; exit 0
fi
# A sanitized binary takes a preloaded library ahead of its runtime.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS

# faulted SPEC ARGS...: nightshift ARGS with NS_FAULT=SPEC; sets rc and
# keeps the shim's counts in $T/flog.
faulted() {
  spec=$1; shift
  rm -f "$T/flog"
  NS_FAULT=$spec NS_FAULT_LOG="$T/flog" NS_FAULT_PATH="${FAULT_PATH:-}" \
    LD_PRELOAD="$SHIM" "$NIGHTSHIFT" "$@" >"$T/out" 2>"$T/err"
  rc=$?
}

# counted KIND: calls of KIND the last faulted command made.
counted() { sed -n "s/.* *$1 \([0-9]*\).*/\1/p" "$T/flog" | head -n 1; }
injected() { sed -n 's/.*injected \([0-9]*\)$/\1/p' "$T/flog"; }

# points TOTAL MAX: 1..TOTAL, or MAX of them spread evenly, the last
# included (the final commit and the checkpoint at close).
points() {
  awk -v t="$1" -v m="$2" 'BEGIN {
    if (t <= m) { for (i = 1; i <= t; i++) print i; exit }
    for (i = 0; i < m; i++) print 1 + int(i * (t - 1) / (m - 1)) }' | uniq
}

# spec_of KIND N: the shim's spec; KIND+ is the Nth call and every later.
spec_of() { case $1 in *+) echo "${1%+}:$2+" ;; *) echo "$1:$2" ;; esac; }

# Failures are collected per operation and kind, one line each, so a
# sweep of a hundred faults reports one ok or one not ok with the cases.
bad=""
fault_bad() { bad="$bad
N=$1: $2"; }

# fault_outcome CMD N: the faulted command's exit and message. Sets
# failed_run=1 when it said it failed, 0 when it succeeded.
fault_outcome() {
  failed_run=0
  if [ "$(injected)" = 0 ]; then
    [ "$rc" = 0 ] || fault_bad "$2" "no fault injected, yet exit $rc: $(tail -n 2 "$T/err")"
    return
  fi
  case $rc in
  0) ;;
  1) failed_run=1
     ! grep -q 'not an error' "$T/err" ||
       fault_bad "$2" "the message lost its cause: $(grep 'not an error' "$T/err")"
     grep -Eq '^nightshift[ a-z]*: .*(I/O error|disk full|out of memory|locked|damaged|cannot)' "$T/err" ||
       fault_bad "$2" "exit 1 without a message: $(tail -n 2 "$T/err")" ;;
  *) fault_bad "$2" "exit $rc, wanted 1 (or 0, all done): $(tail -n 3 "$T/err")" ;;
  esac
}

# integrity DB N
integrity() {
  v=$(q "$1" 'PRAGMA integrity_check' 2>&1)
  [ "$v" = ok ] || fault_bad "$2" "integrity_check: $v"
}

# report_sweep NAME COUNT
report_sweep() {
  if [ -z "$bad" ]; then ok "$1 ($2 faults)"; else notok "$1" "$(printf '%s\n' "$bad" | head -n 12)"; fi
  bad=""
}

# ---------------------------------------------------------------- ingest
# 40 jobs committed before; the faulted ingest adds 160 more (its file
# holds all 200, so the 40 are "already queued").
i=1; while [ $i -le 40 ]; do line "pre-$i"; i=$((i + 1)); done >pre.jsonl
i=1; while [ $i -le 160 ]; do line "new-$i"; i=$((i + 1)); done | cat pre.jsonl - >all.jsonl
run ingest --db base.db pre.jsonl
expect "ingest: the 40 committed before go in" 0 "enqueued 40"
cp base.db cnt.db
faulted "" ingest --db cnt.db all.jsonl
expect "ingest under the shim, no fault: works as without" 0 "enqueued 160, already queued 40"
check "ingest: the shim counts its writes ($(counted write)), syncs ($(counted sync)), reads ($(counted read))" \
  test "$(counted write)" -ge 5 -a "$(counted sync)" -ge 1 -a "$(counted read)" -ge 1

ingest_sweep() { # KIND TOTAL MAX
  kind=$1; n=0
  for N in $(points "$2" "$3"); do
    n=$((n + 1))
    rm -f f.db f.db-wal f.db-shm; cp base.db f.db
    faulted "$(spec_of "$kind" "$N")" ingest --db f.db all.jsonl
    fault_outcome ingest "$N"
    integrity f.db "$N"
    jobs=$(q f.db 'SELECT count(*) FROM jobs')
    pre=$(q f.db "SELECT count(*) FROM jobs WHERE custom_id LIKE 'job-pre-%'")
    [ "$pre" = 40 ] || fault_bad "$N" "$pre of the 40 committed jobs left"
    if [ "$failed_run" = 1 ]; then
      ! grep -q 'enqueued' "$T/out" "$T/err" || fault_bad "$N" "failed, yet says: $(grep enqueued "$T/out" "$T/err")"
      [ "$jobs" = 40 ] || fault_bad "$N" "a failed ingest left $jobs jobs (its one transaction is all or nothing)"
    elif [ "$jobs" != 200 ]; then
      fault_bad "$N" "exit 0 with $jobs jobs of 200"
    fi
    run ingest --db f.db all.jsonl
    [ "$rc" = 0 ] || fault_bad "$N" "the ingest again: exit $rc: $(tail -n 2 "$T/err")"
    [ "$(q f.db 'SELECT count(*), count(DISTINCT custom_id) FROM jobs')" = "200|200" ] ||
      fault_bad "$N" "after the ingest again: $(q f.db 'SELECT count(*), count(DISTINCT custom_id) FROM jobs') jobs"
  done
  report_sweep "ingest, $kind fault at each N of $2: said, intact, kept, the next ingest completes" "$n"
}
cp base.db cnt.db; faulted "" ingest --db cnt.db all.jsonl
W=$(counted write); S=$(counted sync); R=$(counted read); M=$(counted malloc); TR=$(counted trunc)
ingest_sweep write "$W" 200
ingest_sweep full "$W" 40
ingest_sweep sync "$S" 50
ingest_sweep trunc "$TR" 10
ingest_sweep read "$R" 60
ingest_sweep malloc "$M" 80

# ---------------------------------------------------------------- migration
# A database at schema version 1 (queue.sql alone), with 300 jobs and a
# ledger row each, as an old nightshift left it; any command that opens
# it migrates it, in one transaction.
{
  cat "$SCHEMA/queue.sql"
  echo "PRAGMA user_version = 1; PRAGMA application_id = 1314080340;"
  echo "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
    INSERT INTO jobs (custom_id, body_hash, request, est_input_tokens, max_output_tokens,
      created_at, updated_at) SELECT 'old-' || i, i, x'00', 1, 0, 0, 0 FROM n;"
  echo "INSERT INTO attempts (job_id, run_id, provider, model, sent_at, error_class,
      latency_ms, cost_usd) SELECT id, 'r', 'p', 'm', 1, 'ok', 1, 0.25 FROM jobs;"
} | sqlite3 old.db
check "migration: an old database is made (version $(q old.db 'PRAGMA user_version'))" \
  test "$(q old.db 'PRAGMA user_version')" = 1 -a "$(q old.db 'SELECT count(*) FROM jobs')" = 300
cp old.db cnt.db
faulted "" status --db cnt.db
expect "migration under the shim, no fault: status opens and upgrades it" 0 "300"
NEWV=$(q cnt.db 'PRAGMA user_version')
check "migration: it went to the current version ($NEWV)" test "$NEWV" -gt 1
W=$(counted write); S=$(counted sync); R=$(counted read); M=$(counted malloc)

migrate_sweep() { # KIND TOTAL MAX
  kind=$1; n=0
  for N in $(points "$2" "$3"); do
    n=$((n + 1))
    rm -f f.db f.db-wal f.db-shm; cp old.db f.db
    faulted "$(spec_of "$kind" "$N")" status --db f.db
    fault_outcome status "$N"
    integrity f.db "$N"
    v=$(q f.db 'PRAGMA user_version')
    [ "$(q f.db 'SELECT count(*) FROM jobs')" = 300 ] || fault_bad "$N" "$(q f.db 'SELECT count(*) FROM jobs') jobs of 300"
    if [ "$failed_run" = 1 ]; then
      [ "$v" = 1 ] || [ "$v" = "$NEWV" ] || fault_bad "$N" "a failed migration left version $v"
    elif [ "$v" != "$NEWV" ]; then
      fault_bad "$N" "exit 0 at version $v"
    fi
    run status --db f.db
    [ "$rc" = 0 ] || fault_bad "$N" "status again: exit $rc: $(tail -n 2 "$T/err")"
    [ "$(q f.db 'PRAGMA user_version')" = "$NEWV" ] || fault_bad "$N" "version $(q f.db 'PRAGMA user_version') after status again"
    # 004: each job's spend comes from its ledger row
    [ "$(q f.db 'SELECT sum(spent_usd) * 4 FROM jobs')" = 300.0 ] ||
      fault_bad "$N" "spend after the migration: $(q f.db 'SELECT sum(spent_usd) FROM jobs')"
  done
  report_sweep "migration, $kind fault at each N of $2: said, at the old or new version, intact, the next open migrates" "$n"
}
migrate_sweep write "$W" 100
migrate_sweep full "$W" 25
migrate_sweep sync "$S" 20
migrate_sweep read "$R" 40
migrate_sweep malloc "$M" 60

# ---------------------------------------------------------------- run
# 30 jobs done before; the faulted run has 60 more to claim and commit.
start_mock
providers_file p.json
i=1; while [ $i -le 60 ]; do line "new-$i"; i=$((i + 1)); done >new.jsonl
rm -f rbase.db*; run ingest --db rbase.db pre.jsonl
run run --db rbase.db --providers p.json --no-progress
expect "run: the 40 jobs before are done" 0 "40/40 done"
run ingest --db rbase.db new.jsonl
expect "run: 60 more queued" 0 "enqueued 60"
cp rbase.db cnt.db
faulted "" run --db cnt.db --providers p.json --no-progress --max-inflight 8
expect "run under the shim, no fault: works as without" 0 "60/60 done"
W=$(counted write); S=$(counted sync); R=$(counted read); M=$(counted malloc)
base_attempts=$(q rbase.db 'SELECT count(*) FROM attempts')
unlisted=0

run_sweep() { # KIND TOTAL MAX
  kind=$1; n=0
  for N in $(points "$2" "$3"); do
    n=$((n + 1))
    rm -f f.db f.db-wal f.db-shm; cp rbase.db f.db
    served0=$(grep -c . "$T/mock.log")
    faulted "$(spec_of "$kind" "$N")" run --db f.db --providers p.json --no-progress --max-inflight 8
    said=$(sed -n 's/.*not the \([0-9]*\) requests sent since the last commit.*/\1/p' "$T/err")
    fault_outcome run "$N"
    integrity f.db "$N"
    res=$(q f.db 'SELECT count(*) FROM results')
    pre=$(q f.db "SELECT count(*) FROM results JOIN jobs j ON j.id = job_id WHERE custom_id LIKE 'job-pre-%'")
    [ "$pre" = 40 ] || fault_bad "$N" "$pre of the 40 results committed before left"
    if [ "$failed_run" = 1 ]; then
      # the last count it printed is what it kept
      last=$(grep -o '[0-9]*/60 done' "$T/err" | tail -n 1 | cut -d/ -f1)
      [ -z "$last" ] || [ $((last + 40)) = "$res" ] || fault_bad "$N" "said $last of 60 done, kept $res of 100"
    elif [ "$res" != 100 ]; then
      fault_bad "$N" "exit 0 with $res results of 100"
    fi
    run run --db f.db --providers p.json --no-progress
    [ "$rc" = 0 ] || fault_bad "$N" "the run again: exit $rc: $(tail -n 2 "$T/err")"
    [ "$(q f.db 'SELECT count(*), count(DISTINCT job_id) FROM results')" = "100|100" ] ||
      fault_bad "$N" "after the run again: $(q f.db 'SELECT count(*), count(DISTINCT job_id) FROM results') results"
    [ "$(q f.db 'SELECT count(*) FROM jobs WHERE state <> 2 OR lease_owner IS NOT NULL')" = 0 ] ||
      fault_bad "$N" "jobs left undone or leased after the run again"
    # Every request the mock served is a ledger row (after the run
    # again, which records a dead run's in-flight list as lost), but
    # those sent after the last commit, which the message counts.
    served=$(($(grep -c . "$T/mock.log") - served0))
    ledger=$(($(q f.db 'SELECT count(*) FROM attempts') - base_attempts))
    [ $((served - ledger)) -le "${said:-0}" ] ||
      fault_bad "$N" "$((served - ledger)) of the $served requests served are in no ledger row; the message said ${said:-none}"
    [ -z "$said" ] || unlisted=$((unlisted + said))
  done
  report_sweep "run (claims, group commits), $kind fault at each N of $2: said, intact, kept, the next run completes, every job once" "$n"
}
run_sweep write "$W" 60
run_sweep write+ "$W" 15
run_sweep full "$W" 20
run_sweep sync "$S" 15
run_sweep read "$R" 60
run_sweep malloc "$M" 40
echo "# requests the failed runs said were sent after their last commit: $unlisted"

# ---------------------------------------------------------------- batch lane
# The same run through the mock's Files + Batches API (batches of 4): the
# lane commits an intent before each create, then the file and batch ids,
# then each collection. After any fault the run again finishes with each
# job's batch line run once, none sent twice, none synchronously.
mock_as bm --batch-latency 200
cat >pb.json <<JSON
{"providers": {"mock": {"dialect": "openai", "base_url": "http://127.0.0.1:$bm_PORT/v1",
  "api_key_env": "MOCK_KEY_ENV", "max_inflight": 16, "timeout_s": 20,
  "connect_timeout_s": 1, "max_retries": 3, "batch": {"api": "openai", "max_requests": 4},
  "models": {"m1": {"input_per_mtok": 0.50, "output_per_mtok": 1.50}}}},
 "routes": {"cheap": ["mock:m1"]}}
JSON
head -n 10 new.jsonl >b10.jsonl
rm -f bbase.db*; run ingest --db bbase.db b10.jsonl
cp bbase.db bcnt.db
faulted "" run --db bcnt.db --providers pb.json --no-progress
expect "batch lane under the shim, no fault: every job through it" 0 "sending 10 jobs through mock's batch lane"
W=$(counted write); S=$(counted sync)
# batch_once: each job's batch line ran ok once since mark, and nothing
# went synchronously.
batch_once() {
  tail -n +"$((mark + 1))" "$T/bm.log" >"$T/bm.new"
  for id in $(q f.db 'SELECT id FROM jobs'); do
    k=$(grep '"kind":"batch_line"' "$T/bm.new" | grep -c "\"custom_id\":\"[^\"]*-$id\",\"status\":200")
    [ "$k" = 1 ] || { echo "job row $id: $k batch lines ran"; return; }
  done
  k=$(grep -c '"path":"/v1/chat/completions"' "$T/bm.new")
  [ "$k" = 0 ] || echo "$k sent synchronously"
}
batch_sweep() { # KIND TOTAL MAX
  kind=$1; n=0
  for N in $(points "$2" "$3"); do
    n=$((n + 1))
    rm -f f.db f.db-wal f.db-shm; cp bbase.db f.db
    mark=$(grep -c . "$T/bm.log")
    faulted "$(spec_of "$kind" "$N")" run --db f.db --providers pb.json --no-progress
    fault_outcome run "$N"
    # the last line says why the run stopped (it said " while ;" when
    # the lane failed)
    [ "$failed_run" = 0 ] || tail -n 1 "$T/err" | grep -Eq 'error|disk full|out of memory|failed' ||
      fault_bad "$N" "its last line says no cause: $(tail -n 1 "$T/err")"
    integrity f.db "$N"
    run run --db f.db --providers pb.json --no-progress
    [ "$rc" = 0 ] || fault_bad "$N" "the run again: exit $rc: $(tail -n 2 "$T/err")"
    [ "$(q f.db 'SELECT count(*), count(DISTINCT job_id) FROM results')" = "10|10" ] ||
      fault_bad "$N" "after the run again: $(q f.db 'SELECT count(*), count(DISTINCT job_id) FROM results') results"
    v=$(batch_once); [ -z "$v" ] || fault_bad "$N" "$v"
  done
  report_sweep "batch lane, $kind fault at each N of $2: said, intact, the next run collects, each job's line run once" "$n"
}
batch_sweep write "$W" 14
batch_sweep full "$W" 6
batch_sweep sync "$S" 6

# ---------------------------------------------------------------- export
# 100 results; a fault while reading them, or a full disk under the
# output. A failed export leaves no file under its name, and an older
# export there stays as it was.
mkdir -p outdir
cp cnt.db ex.db
faulted "" export --db ex.db -o outdir/r.jsonl
check "export under the shim, no fault: 100 lines" test "$rc" = 0 -a "$(grep -c . outdir/r.jsonl 2>/dev/null)" = 100
R=$(counted read); M=$(counted malloc)
echo "an older export" >outdir/old.jsonl
# lines_of FILE: its lines, a .zst decompressed.
lines_of() {
  case $1 in
  *.zst) zstd -dc "$1" 2>/dev/null | grep -c . ;;
  *) grep -c . "$1" ;;
  esac
}

export_sweep() { # KIND TOTAL MAX OUT
  kind=$1; out=$4; n=0
  for N in $(points "$2" "$3"); do
    n=$((n + 1))
    rm -f "outdir/$out"; cp outdir/old.jsonl outdir/keep.jsonl
    FAULT_PATH=$T/outdir faulted "$(spec_of "$kind" "$N")" export --db ex.db -o "outdir/$out"
    fault_outcome export "$N"
    if [ "$failed_run" = 1 ]; then
      [ ! -e "outdir/$out" ] || fault_bad "$N" "a failed export left outdir/$out"
    elif [ "$(lines_of "outdir/$out")" != 100 ]; then
      fault_bad "$N" "exit 0 with a short file"
    fi
    FAULT_PATH=$T/outdir faulted "$(spec_of "$kind" "$N")" export --db ex.db -o outdir/keep.jsonl
    if [ "$rc" != 0 ] && ! cmp -s outdir/old.jsonl outdir/keep.jsonl; then
      fault_bad "$N" "a failed export over an older one changed it"
    fi
    [ -z "$(find outdir -name '*.tmp*' 2>/dev/null)" ] || fault_bad "$N" "temporary files left: $(ls outdir)"
    integrity ex.db "$N"
    run export --db ex.db -o "outdir/$out"
    [ "$rc" = 0 ] || fault_bad "$N" "the export again: exit $rc: $(tail -n 2 "$T/err")"
  done
  report_sweep "export -o $4, $kind fault at each N of $2: said, no partial file, the next export works" "$n"
}
export_sweep read "$R" 40 r.jsonl
export_sweep malloc "$M" 40 r.jsonl
# the output's own writes: counted with the path watched
FAULT_PATH=$T/outdir faulted "" export --db ex.db -o outdir/r.jsonl
E=$(counted enospc)
check "export: the shim sees its writes to the output ($E)" test "$E" -ge 1
export_sweep enospc "$E" 10 r.jsonl
FAULT_PATH=$T/outdir faulted "" export --db ex.db -o outdir/r.jsonl.zst
export_sweep enospc "$(counted enospc)" 10 r.jsonl.zst
FAULT_PATH=$T/outdir faulted enospc:1 export --db ex.db -o outdir/r2.jsonl
expect "export: a full disk is said as such" 1 "disk full"
stop_mock
