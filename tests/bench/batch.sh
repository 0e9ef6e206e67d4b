#!/bin/sh
# batch.sh — the provider batch lane at scale: submitting and collecting
# BENCH_BATCH_JOBS (default 1,000,000) short jobs through the mock's
# OpenAI-style Files + Batches API, 50,000 requests a file (20 files).
#
# For the full size and for 100,000 jobs (the flatness check compares
# the two), on a fresh queue and a fresh mock each time:
#   submission  `nightshift run --submit-only`: the assignment pass, every
#               input file built from the queue, uploaded, and its batch
#               created (exit 4: the jobs wait in provider batches);
#   wait        until the mock says every batch has ended (its results are
#               written then; not timed against nightshift);
#   collection  the next `nightshift run`: every output file downloaded
#               and every line stored, priced and recorded.
# Each is timed under runstat (wall, CPU, peak RSS), with the mock's CPU
# over the same span, so that a figure the mock holds back shows as such.
# Then the same for BENCH_BATCH_ANTH_JOBS (default 100,000; 0 skips it)
# through the Message Batches API, as figures only.
#
# A step counts only if the queue afterwards is what it should be (every
# job held by a live batch; then every job done, once, with a batch-lane
# result and ledger row); otherwise its figures are printed but not judged.
# Targets get PASS/MISS; they are figures, not a gate: the script exits 0
# unless it could not run at all.
#   env: NIGHTSHIFT (binary), MOCK (mock provider), BENCHBIN (dir of
#        gen_jobs, runstat), BENCH_BATCH_JOBS, BENCH_BATCH_ANTH_JOBS,
#        BENCH_BATCH_LATENCY (the mock's batch latency, ms; default 1000),
#        TMPDIR (where the ~3 GB go).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
NIGHTSHIFT=${NIGHTSHIFT:-$root/nightshift}
MOCK=${MOCK:-$root/build/default/mock-provider}
BENCHBIN=${BENCHBIN:-$root/build/default/bench}
jobs=${BENCH_BATCH_JOBS:-1000000}
anth=${BENCH_BATCH_ANTH_JOBS:-100000}
latency=${BENCH_BATCH_LATENCY:-1000}
per=50000

for v in "BENCH_BATCH_JOBS=$jobs" "BENCH_BATCH_ANTH_JOBS=$anth" \
	"BENCH_BATCH_LATENCY=$latency"; do
	case ${v#*=} in
	'' | *[!0-9]*)
		echo "batch.sh: ${v%%=*} must be a number, not '${v#*=}'" >&2
		exit 2
		;;
	esac
done
if [ "$jobs" -lt 1000 ]; then
	echo "batch.sh: BENCH_BATCH_JOBS must be at least 1000" >&2
	exit 2
fi
# The flatness check compares peak RSS at 100k jobs with the full run; a
# quick run smaller than that compares a tenth with the whole.
small=100000
[ "$jobs" -gt "$small" ] || small=$((jobs / 10))
for b in gen_jobs runstat; do
	if [ ! -x "$BENCHBIN/$b" ]; then
		echo "batch.sh: $BENCHBIN/$b missing (make bench builds it)" >&2
		exit 1
	fi
done
for b in "$NIGHTSHIFT" "$MOCK"; do
	if [ ! -x "$b" ]; then
		echo "batch.sh: $b not found (set NIGHTSHIFT, MOCK)" >&2
		exit 1
	fi
done
for b in sqlite3 curl; do
	if ! command -v $b >/dev/null 2>&1; then
		echo "batch.sh: $b is needed (the queue's and the mock's" \
			"witness)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nsbench.XXXXXX") || exit 1
mock_pid=''
stop_mock() {
	if [ -n "$mock_pid" ]; then
		kill "$mock_pid" 2>/dev/null
		wait "$mock_pid" 2>/dev/null
		mock_pid=''
	fi
}
cleanup() {
	stop_mock
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'cleanup; trap - EXIT; exit 130' HUP INT PIPE TERM

# measure NAME CMD...: run CMD under runstat, stdout to $tmp/NAME.out and
# stderr to $tmp/NAME.err; sets m_rc, m_kib, m_wall, m_cpu (user+sys).
measure() {
	m_name=$1
	shift
	"$BENCHBIN/runstat" "$@" >"$tmp/$m_name.out" 2>"$tmp/$m_name.err"
	m_rc=$?
	# shellcheck disable=SC2046 # four numbers, split on purpose
	set -- $(awk '$1 == "runstat_kib" && NF == 8 { print $2, $4, $6, $8 }' \
		"$tmp/$m_name.err" | tail -n 1)
	m_kib=${1:-}
	m_wall=${2:-}
	m_cpu=''
	[ -n "${4:-}" ] && m_cpu=$(awk -v u="$3" -v s="$4" \
		'BEGIN { printf "%.3f", u + s }')
}

# show_err NAME: the command's own stderr, for a run that failed.
show_err() {
	grep -v '^runstat_kib ' "$tmp/$1.err" | tail -n 5 | sed 's/^/    /'
}

# q SQL: one value from the queue, read by the sqlite3 shell (an
# independent witness of what nightshift says it did).
q() {
	sqlite3 "$tmp/q.db" "$1" 2>/dev/null
}

# secs T0 T1: clock ticks to seconds.
secs() {
	awk -v a="$1" -v b="$2" -v t="$tck" 'BEGIN { printf "%.2f", (b - a) / t }'
}

# mock_ended API: how many batches the mock says have ended.
mock_ended() {
	if [ "$1" = anthropic ]; then
		curl -s -m 10 -H 'x-api-key: bench' \
			-H 'anthropic-version: 2023-06-01' \
			"http://127.0.0.1:$port/v1/messages/batches?limit=100" |
			grep -o '"processing_status": *"ended"' | wc -l
	else
		curl -s -m 10 "http://127.0.0.1:$port/v1/batches?limit=100" |
			grep -o '"status": *"completed"' | wc -l
	fi
}

. "$here/lib.sh"

echo "generating $jobs job lines..."
big=$jobs
[ "$anth" -gt "$big" ] && big=$anth
"$BENCHBIN/gen_jobs" "$big" 1 |
	sed -e 's/"model":"[^"]*"/"model":"cheap"/' >"$tmp/all.jsonl"
got=$(wc -l <"$tmp/all.jsonl")
if [ "$got" -ne "$big" ]; then
	echo "batch.sh: gen_jobs wrote $got lines, not $big" >&2
	exit 1
fi

# One line per case in $tmp/cases: api, jobs, then for submission, the
# wait and collection: wall, CPU, peak KiB, mock CPU (the wait: wall and
# mock CPU only), stolen CPU, and whether each step checked out.
: >"$tmp/cases"

# run_case API N: one full case on a fresh queue and mock.
run_case() {
	api=$1 n=$2
	files=$(((n + per - 1) / per))
	stop_mock
	rm -f "$tmp/q.db" "$tmp/q.db-wal" "$tmp/q.db-shm"
	bench_mock batch.sh --batch-latency "$latency"
	if [ "$api" = anthropic ]; then
		dialect=anthropic base=http://127.0.0.1:$port
	else
		dialect=openai base=http://127.0.0.1:$port/v1
	fi
	cat >"$tmp/providers.json" <<JSON
{"providers": {"mock": {"dialect": "$dialect",
  "base_url": "$base", "api_key_env": "NS_BENCH_KEY",
  "max_inflight": 64, "timeout_s": 600, "connect_timeout_s": 5,
  "batch": {"api": "$api", "max_requests": $per},
  "models": {"m1": {"input_per_mtok": 0.50, "output_per_mtok": 1.50}}}},
 "routes": {"cheap": ["mock:m1"]}}
JSON
	echo "$api, $n jobs: ingest..."
	head -n "$n" "$tmp/all.jsonl" >"$tmp/jobs.jsonl"
	measure ingest "$NIGHTSHIFT" ingest --db "$tmp/q.db" "$tmp/jobs.jsonl"
	rm -f "$tmp/jobs.jsonl"
	if [ "$m_rc" -ne 0 ] || [ "$(q 'SELECT count(*) FROM jobs')" != "$n" ]
	then
		echo "batch.sh: nightshift ingest exited $m_rc with" \
			"$(q 'SELECT count(*) FROM jobs') jobs queued:" >&2
		show_err ingest >&2
		exit 1
	fi

	echo "$api, $n jobs: submission (run --submit-only, $files" \
		"input files)..."
	mock_t0=$(cpu_ticks "$mock_pid")
	steal_t0=$(steal_ticks)
	measure submit env NS_BENCH_KEY=bench "$NIGHTSHIFT" run \
		--db "$tmp/q.db" --providers "$tmp/providers.json" \
		--submit-only --no-progress
	mock_t1=$(cpu_ticks "$mock_pid")
	steal_t1=$(steal_ticks)
	s_wall=$m_wall s_cpu=$m_cpu s_kib=$m_kib
	s_mock=$(secs "$mock_t0" "$mock_t1")
	s_steal=$(secs "$steal_t0" "$steal_t1")
	grep -v "^runstat_kib " "$tmp/submit.err" | tail -n 2 | sed 's/^/  /'
	live=$(q 'SELECT count(*) FROM batches WHERE state = 2')
	held=$(q "SELECT count(*) FROM jobs WHERE state = 1 AND
		lease_owner = 'batch' AND batch_id IS NOT NULL")
	s_ok=1
	if [ "$m_rc" -ne 4 ] || [ "$live" != "$files" ] || [ "$held" != "$n" ]
	then
		s_ok=0
		echo "  INVALID: exit $m_rc (4 expected); $live live batches" \
			"of $files, $held jobs held of $n"
		show_err submit
	else
		echo "  checked: $live batches live, $held jobs held by them"
	fi

	# The mock writes a batch's results when it ends; collection is
	# timed from when all have, so that it measures collecting.
	echo "$api, $n jobs: waiting for the mock's $files batches to end..."
	mock_t0=$(cpu_ticks "$mock_pid")
	w0=$(date +%s.%N)
	i=0
	[ "$s_ok" -eq 1 ] || i=1200 # nothing to wait for
	while [ $i -lt 1200 ] && [ "$(mock_ended "$api")" -lt "$files" ]; do
		sleep 0.5
		i=$((i + 1))
	done
	w1=$(date +%s.%N)
	mock_t1=$(cpu_ticks "$mock_pid")
	w_wall=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", b - a }')
	w_mock=$(secs "$mock_t0" "$mock_t1")
	ended=$(mock_ended "$api")
	[ "$s_ok" -eq 0 ] || [ "$ended" -ge "$files" ] ||
		echo "  WARNING: only $ended of $files batches ended in 600 s"

	echo "$api, $n jobs: collection (run)..."
	mock_t0=$(cpu_ticks "$mock_pid")
	steal_t0=$(steal_ticks)
	measure collect env NS_BENCH_KEY=bench "$NIGHTSHIFT" run \
		--db "$tmp/q.db" --providers "$tmp/providers.json" --no-progress
	mock_t1=$(cpu_ticks "$mock_pid")
	steal_t1=$(steal_ticks)
	c_wall=$m_wall c_cpu=$m_cpu c_kib=$m_kib
	c_mock=$(secs "$mock_t0" "$mock_t1")
	c_steal=$(secs "$steal_t0" "$steal_t1")
	grep -v '^runstat_kib ' "$tmp/collect.err" | tail -n 1 | sed 's/^/  /'
	# Every job done once by a batch line: its result and its one
	# ledger row say lane batch.
	check=$(q "SELECT (SELECT count(*) FROM jobs WHERE state = 2) || ' ' ||
		(SELECT count(*) FROM results WHERE lane = 'batch' AND
		 status_code = 200 AND body IS NOT NULL) || ' ' ||
		(SELECT count(*) FROM attempts WHERE lane = 'batch' AND
		 error_class = 'ok') || ' ' || (SELECT count(*) FROM attempts)")
	c_ok=1
	if [ "$m_rc" -ne 0 ] || [ "$check" != "$n $n $n $n" ]; then
		c_ok=0
		echo "  INVALID: exit $m_rc; done, batch results, ok batch" \
			"rows, all rows = '$check', not '$n $n $n $n'"
		show_err collect
	else
		echo "  checked: $n jobs done, each with one batch-lane result" \
			"and ledger row"
	fi
	echo "$api $n ${s_wall:--} ${s_cpu:--} ${s_kib:--} ${s_mock:--}" \
		"${s_steal:--} $s_ok $w_wall $w_mock ${c_wall:--} ${c_cpu:--}" \
		"${c_kib:--} ${c_mock:--} ${c_steal:--} $c_ok" >>"$tmp/cases"
	stop_mock
}

run_case openai "$small"
run_case openai "$jobs"
[ "$anth" -gt 0 ] && run_case anthropic "$anth"
rm -f "$tmp/all.jsonl" "$tmp/q.db" "$tmp/q.db-wal" "$tmp/q.db-shm"

echo
awk -v jobs="$jobs" -v small="$small" -v per="$per" -v lat="$latency" '
function val(v) { return v == "-" ? "" : v }
function num(v, fmt) { return v == "" ? "n/a" : sprintf(fmt, v) }
function rate(n, w) { return (w == "" || w + 0 <= 0) ? "" : n / w }
function verdict(v, ok) { return v == "" ? "----" : (ok ? "PASS" : "MISS") }
function target(name, v, fmt, goal, ok) {
	printf "  %-40s %10s   %-16s %s\n", name, num(v, fmt), goal,
	    verdict(v, ok)
}
# row: one step of case i (s: submission, c: collection).
function row(i, what, unit, w, cpu, kib, mock, steal, ok,    r) {
	r = ok ? rate(n[i], w) : ""
	printf "  %-9s %-8s %8d  %11s  %6s  %5s  %7s  %8s  %8s%s\n", api[i],
	    what, n[i], num(r, "%.0f") " " unit, num(w, "%.2f"),
	    num(cpu, "%.2f"), kib == "" ? "n/a" : sprintf("%.1f", kib / 1024),
	    num(mock, "%.2f"), num(steal, "%.2f"),
	    ok ? "" : "  (invalid: not judged)"
}
{
	k++
	api[k] = $1; n[k] = $2
	sw[k] = val($3); sc[k] = val($4); sk[k] = val($5); sm[k] = val($6)
	ss[k] = val($7); sok[k] = $8; ww[k] = $9; wm[k] = $10
	cw[k] = val($11); cc[k] = val($12); ck[k] = val($13); cm[k] = val($14)
	cs[k] = val($15); cok[k] = $16
	if (api[k] == "openai" && n[k] == jobs) big = k
	if (api[k] == "openai" && n[k] == small && !sm_i) sm_i = k
}
END {
	printf "batch lane: %d requests a file, mock batch latency %d ms\n",
	    per, lat
	printf "  %-9s %-8s %8s  %11s  %6s  %5s  %7s  %8s  %8s\n", "api",
	    "step", "jobs", "rate/s", "wall s", "CPU s", "RSS MiB",
	    "mock CPU", "stolen s"
	for (i = 1; i <= k; i++) {
		row(i, "submit", "jobs", sw[i], sc[i], sk[i], sm[i], ss[i],
		    sok[i])
		row(i, "collect", "lines", cw[i], cc[i], ck[i], cm[i], cs[i],
		    cok[i])
	}
	print ""
	for (i = 1; i <= k; i++)
		if (wm[i] + 0 > 0)
			printf "  mock, %s %d: results written in about %.1f s," \
			    " %.0f lines per mock CPU-second\n", api[i], n[i],
			    ww[i], n[i] / wm[i]
	# The mock holds a figure back when its CPU over the step is a
	# large share of the step: nightshift waits on its replies.
	for (i = 1; i <= k; i++) {
		if (sw[i] != "" && sm[i] > 0.3 * sw[i])
			printf "  note: %s %d submission: the mock was busy" \
			    " %.0f%% of it\n", api[i], n[i], 100 * sm[i] / sw[i]
		if (cw[i] != "" && cm[i] > 0.3 * cw[i])
			printf "  note: %s %d collection: the mock was busy" \
			    " %.0f%% of it\n", api[i], n[i], 100 * cm[i] / cw[i]
	}
	s_rate = big && sok[big] ? rate(n[big], sw[big]) : ""
	c_rate = big && cok[big] ? rate(n[big], cw[big]) : ""
	s_flat = c_flat = ""
	if (big && sm_i && sk[big] != "" && sk[sm_i] + 0 > 0)
		s_flat = sk[big] / sk[sm_i]
	if (big && sm_i && ck[big] != "" && ck[sm_i] + 0 > 0)
		c_flat = ck[big] / ck[sm_i]
	print ""
	print "  targets"
	target(sprintf("submission jobs/s (%d)", jobs), s_rate, "%.0f",
	    ">= 100000", s_rate >= 100000)
	target(sprintf("collection lines/s (%d)", jobs), c_rate, "%.0f",
	    ">= 50000", c_rate >= 50000)
	target(sprintf("submission peak RSS %d / %d", jobs, small), s_flat,
	    "%.2f", "flat: <= 1.25", s_flat <= 1.25)
	target(sprintf("collection peak RSS %d / %d", jobs, small), c_flat,
	    "%.2f", "flat: <= 1.25", c_flat <= 1.25)
}' "$tmp/cases"
exit 0
