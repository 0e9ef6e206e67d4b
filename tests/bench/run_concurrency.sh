#!/bin/sh
# run_concurrency.sh — thousands of slow requests in flight at once.
#
# Starts the mock provider with a fixed latency of 2 s, generates
# BENCH_CONC_JOBS (default 20,000) job lines, ingests them (timed on its
# own), then times `nightshift run --max-inflight 2000` against a provider
# whose max_inflight is 2000 too. With 2,000 requests of 2 s each in flight,
# 20,000 jobs take 10 waves: an ideal 20 s. The run starts with the soft
# open-files limit at 1024, as a login shell has it, so nightshift must raise
# it itself (to the hard limit) to hold 2,000 sockets; if the limit caps the
# concurrency, nightshift says so and the figure shows it.
#
# While the run goes, /proc is sampled every half second: nightshift's and
# the mock's threads and open files (sockets), so a mock that spent a thread
# per connection, or ran out of CPU, shows up as the bottleneck it would be.
#
# A run counts only if every job is done with one 200 result; otherwise the
# figures are printed as such but not judged. Targets get PASS/MISS; they are
# figures, not a gate: the script exits 0 unless it could not run at all.
#   env: NIGHTSHIFT (binary), MOCK (mock provider), BENCHBIN (dir of
#        gen_jobs, runstat), BENCH_CONC_JOBS (job count), TMPDIR.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
NIGHTSHIFT=${NIGHTSHIFT:-$root/nightshift}
MOCK=${MOCK:-$root/build/default/mock-provider}
BENCHBIN=${BENCHBIN:-$root/build/default/bench}
jobs=${BENCH_CONC_JOBS:-20000}
inflight=2000
latency_ms=2000
# A run longer than this many times the ideal is stopped (SIGTERM, then
# SIGKILL) so a stuck run cannot hold the benchmark forever.
give_up_factor=5

case $jobs in
'' | *[!0-9]*)
	echo "run_concurrency.sh: BENCH_CONC_JOBS must be a count," \
		"not '$jobs'" >&2
	exit 2
	;;
esac
if [ "$jobs" -lt 100 ]; then
	echo "run_concurrency.sh: BENCH_CONC_JOBS must be at least 100" >&2
	exit 2
fi
for b in gen_jobs runstat; do
	if [ ! -x "$BENCHBIN/$b" ]; then
		echo "run_concurrency.sh: $BENCHBIN/$b missing (make bench" \
			"builds it)" >&2
		exit 1
	fi
done
for b in "$NIGHTSHIFT" "$MOCK"; do
	if [ ! -x "$b" ]; then
		echo "run_concurrency.sh: $b not found (set NIGHTSHIFT," \
			"MOCK)" >&2
		exit 1
	fi
done
if ! command -v sqlite3 >/dev/null 2>&1; then
	echo "run_concurrency.sh: the sqlite3 shell is needed to check" \
		"the queue" >&2
	exit 1
fi

# Waves of $inflight requests, $latency_ms each.
ideal_ms=$(((jobs + inflight - 1) / inflight * latency_ms))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nsbench.XXXXXX") || exit 1
mock_pid='' run_pid='' ns_pid=''
cleanup() {
	if [ -n "$run_pid" ]; then
		[ -n "$ns_pid" ] && kill "$ns_pid" 2>/dev/null
		kill "$run_pid" 2>/dev/null
		wait "$run_pid" 2>/dev/null
	fi
	if [ -n "$mock_pid" ]; then
		kill "$mock_pid" 2>/dev/null
		wait "$mock_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'cleanup; trap - EXIT; exit 130' HUP INT PIPE TERM

# show_err NAME: the command's own stderr, for a run that failed.
show_err() {
	grep -v '^runstat_kib ' "$tmp/$1.err" | tail -n 5 | sed 's/^/    /'
}

q() {
	sqlite3 "$tmp/q.db" "$1" 2>/dev/null
}

# threads PID, nfiles PID: a live process's thread count and open files.
threads() {
	awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}
nfiles() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

. "$here/lib.sh"
bench_mock run_concurrency.sh --latency "$latency_ms"

cat >"$tmp/providers.json" <<JSON
{"providers": {"mock": {"dialect": "openai",
  "base_url": "http://127.0.0.1:$port/v1", "api_key_env": "NS_BENCH_KEY",
  "max_inflight": $inflight, "timeout_s": 60, "connect_timeout_s": 10,
  "models": {"m1": {"input_per_mtok": 0.50, "output_per_mtok": 1.50}}}},
 "routes": {"cheap": ["mock:m1"]}}
JSON

# Every job goes to the one route. The 1 in 20 JSON-mode jobs stay: the
# mock answers them with a JSON object, which nightshift checks.
echo "generating $jobs job lines..."
"$BENCHBIN/gen_jobs" "$jobs" 2 |
	sed -e 's/"model":"[^"]*"/"model":"cheap"/' >"$tmp/jobs.jsonl"
got=$(wc -l <"$tmp/jobs.jsonl")
if [ "$got" -ne "$jobs" ]; then
	echo "run_concurrency.sh: gen_jobs wrote $got lines, not $jobs" >&2
	exit 1
fi

echo "nightshift ingest, $jobs lines..."
"$BENCHBIN/runstat" "$NIGHTSHIFT" ingest --db "$tmp/q.db" \
	"$tmp/jobs.jsonl" >"$tmp/ingest.out" 2>"$tmp/ingest.err"
rc=$?
ingest_wall=$(sed -n 's/^runstat_kib [0-9]* wall_s \([0-9.]*\) .*/\1/p' \
	"$tmp/ingest.err")
if [ "$rc" -ne 0 ] || [ "$(q 'SELECT count(*) FROM jobs')" != "$jobs" ]
then
	echo "run_concurrency.sh: nightshift ingest exited $rc" \
		"with $(q 'SELECT count(*) FROM jobs') jobs queued:" >&2
	show_err ingest >&2
	exit 1
fi

# A login shell's soft limit, so the run has to raise its own; never above
# the hard limit, which only root could lift.
hard=$(ulimit -Hn)
soft=1024
[ "$hard" != unlimited ] && [ "$hard" -lt "$soft" ] && soft=$hard

echo "nightshift run, $jobs jobs, --max-inflight $inflight, mock latency" \
	"${latency_ms} ms (soft open-files limit $soft, hard $hard)..."
mock_t0=$(cpu_ticks "$mock_pid")
(
	ulimit -Sn "$soft"
	exec env NS_BENCH_KEY=bench "$BENCHBIN/runstat" "$NIGHTSHIFT" run \
		--db "$tmp/q.db" --providers "$tmp/providers.json" \
		--max-inflight "$inflight" --no-progress
) >"$tmp/run.out" 2>"$tmp/run.err" &
run_pid=$!

# Sample both processes until the run ends; bounded by give_up_factor.
ns_thr=0 ns_fd=0 ns_soft='' m_thr=0 m_fd=0 mock_max_cpu=0
limit=$((ideal_ms * give_up_factor / 500 + 20))
prev=$(cpu_ticks "$mock_pid")
i=0 stopped=0
while kill -0 "$run_pid" 2>/dev/null; do
	if [ $i -ge $limit ]; then
		echo "  the run is past ${give_up_factor}x the ideal:" \
			"stopping it"
		[ -n "$ns_pid" ] && kill "$ns_pid" 2>/dev/null
		sleep 5
		[ -n "$ns_pid" ] && kill -9 "$ns_pid" 2>/dev/null
		stopped=1
		break
	fi
	[ -n "$ns_pid" ] ||
		ns_pid=$(cat "/proc/$run_pid/task/$run_pid/children" \
			2>/dev/null | awk '{ print $1 }')
	if [ -n "$ns_pid" ]; then
		t=$(threads "$ns_pid")
		[ -n "$t" ] && [ "$t" -gt "$ns_thr" ] && ns_thr=$t
		f=$(nfiles "$ns_pid")
		[ "$f" -gt "$ns_fd" ] && ns_fd=$f
		[ -n "$ns_soft" ] || ns_soft=$(awk \
			'/^Max open files/ { print $4 }' \
			"/proc/$ns_pid/limits" 2>/dev/null)
	fi
	t=$(threads "$mock_pid")
	[ -n "$t" ] && [ "$t" -gt "$m_thr" ] && m_thr=$t
	f=$(nfiles "$mock_pid")
	[ "$f" -gt "$m_fd" ] && m_fd=$f
	# The mock's busiest half second, in cores.
	now=$(cpu_ticks "$mock_pid")
	mock_max_cpu=$(awk -v a="$prev" -v b="$now" -v t="$tck" \
		-v m="$mock_max_cpu" 'BEGIN { c = (b - a) / t / 0.5;
		printf "%.2f", (c > m ? c : m) }')
	prev=$now
	sleep 0.5
	i=$((i + 1))
done
wait "$run_pid"
run_rc=$?
run_pid=''
mock_t1=$(cpu_ticks "$mock_pid")
mock_cpu=$(awk -v a="$mock_t0" -v b="$mock_t1" -v t="$tck" \
	'BEGIN { printf "%.2f", (b - a) / t }')
grep -v '^runstat_kib ' "$tmp/run.err" | tail -n 3 | sed 's/^/  /'
capped=$(grep -c 'open-files limit' "$tmp/run.err")

# shellcheck disable=SC2046 # four numbers, split on purpose
set -- $(awk '$1 == "runstat_kib" && NF == 8 { print $2, $4, $6, $8 }' \
	"$tmp/run.err" | tail -n 1)
run_kib=${1:-} run_wall=${2:-} run_user=${3:-} run_sys=${4:-}

done_n=$(q 'SELECT count(*) FROM jobs WHERE state = 2')
res_n=$(q 'SELECT count(*) FROM results')
ok_n=$(q 'SELECT count(*) FROM results WHERE status_code = 200 AND
	body IS NOT NULL')
req_n=$(q 'SELECT count(*) FROM attempts')
retries=$(q "SELECT count(*) FROM attempts WHERE error_class != 'ok'")
valid=1
if [ "$stopped" -eq 1 ] || [ "$run_rc" -ne 0 ] ||
	[ "$done_n" != "$jobs" ] || [ "$res_n" != "$jobs" ] ||
	[ "$ok_n" != "$jobs" ]; then
	valid=0
	echo "  INVALID RUN: exit $run_rc; done $done_n, results $res_n," \
		"200 results $ok_n, of $jobs jobs"
	show_err run
else
	echo "  checked: $done_n jobs done, $res_n results, all 200;" \
		"$req_n requests in the ledger, $retries not ok"
fi

echo
awk -v jobs="$jobs" -v inflight="$inflight" -v lat="$latency_ms" \
	-v ideal_ms="$ideal_ms" -v valid="$valid" -v ingest="$ingest_wall" \
	-v wall="$run_wall" -v kib="$run_kib" -v user="$run_user" \
	-v sys="$run_sys" -v ns_thr="$ns_thr" -v ns_fd="$ns_fd" \
	-v ns_soft="$ns_soft" -v soft="$soft" -v capped="$capped" \
	-v m_thr="$m_thr" -v m_fd="$m_fd" -v mock_cpu="$mock_cpu" \
	-v mock_max="$mock_max_cpu" '
function num(v, fmt) { return v == "" ? "n/a" : sprintf(fmt, v) }
function verdict(v, ok) { return v == "" ? "----" : (ok ? "PASS" : "MISS") }
function target(name, v, fmt, goal, ok) {
	printf "  %-36s %10s   %-16s %s\n", name, num(v, fmt), goal,
	    verdict(v, ok)
}
BEGIN {
	ideal = ideal_ms / 1000
	printf "run concurrency: %d jobs, %d in flight, mock latency %d ms," \
	    " ideal %.0f s\n", jobs, inflight, lat, ideal
	cpu = (user == "" || sys == "") ? "" : user + sys
	printf "  %-36s %10s\n", "nightshift ingest (s)", num(ingest, "%.2f")
	printf "  %-36s %10s   (%s jobs/s)\n", "nightshift run wall (s)",
	    num(wall, "%.2f"), (wall > 0 ? sprintf("%.0f", jobs / wall) : "n/a")
	printf "  %-36s %10s   (user %s, sys %s)\n",
	    "nightshift CPU user+sys (s)", num(cpu, "%.2f"), num(user, "%.2f"),
	    num(sys, "%.2f")
	printf "  %-36s %10s   (soft limit at start %s)\n",
	    "nightshift open-files soft limit", ns_soft == "" ? "n/a" : ns_soft,
	    soft
	printf "  %-36s %10d   (%d threads)\n", "nightshift open files (peak)",
	    ns_fd, ns_thr
	printf "  %-36s %10d   (%d threads)\n", "mock open files (peak)", m_fd,
	    m_thr
	printf "  %-36s %10s   (busiest 0.5 s: %s cores)\n",
	    "mock CPU during the run (s)", num(mock_cpu, "%.2f"),
	    num(mock_max, "%.2f")
	print ""
	w = valid ? wall : ""
	over = w == "" ? "" : (w / ideal - 1) * 100
	mib = (valid && kib != "") ? kib / 1024 : ""
	cores = (valid && cpu != "" && wall > 0) ? cpu / wall : ""
	print "  targets"
	target("wall over the ideal (%)", over, "%+.1f", "<= +15%", over <= 15)
	target("peak RSS (MiB)", mib, "%.1f", "< 160 MiB", mib < 160)
	target("CPU / wall (cores)", cores, "%.2f", "<= 0.50", cores <= 0.50)
	if (!valid)
		print "  note: the run did not finish every job;" \
		    " figures not judged"
	if (capped > 0)
		print "  note: nightshift said the open-files limit capped" \
		    " requests in flight"
	# Two polling threads at full tilt would make the mock the limit.
	if (mock_max != "" && mock_max >= 1.6)
		print "  WARNING: the mock ran near its 2 threads flat out;" \
		    " it may be the bottleneck"
	if (m_thr > 16)
		printf "  WARNING: the mock ran %d threads; it should" \
		    " not need one per connection\n", m_thr
}'
exit 0
