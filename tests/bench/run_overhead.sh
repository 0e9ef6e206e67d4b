#!/bin/sh
# run_overhead.sh — the run loop's overhead: nightshift against a server that
# answers at once, next to a plain libcurl client against the same server.
#
# Starts the mock provider with no latency, generates BENCH_RUN_JOBS (default
# 50,000) job lines, ingests them (timed on its own), then times
# `nightshift run --max-inflight 64` end to end: claims, leases, requests,
# parsing, policy, ledger, compressed results, group commits. In the same
# run, plain_client POSTs a typical body the same number of times, 64 at a
# time over keep-alive connections, storing nothing. The two alternate for
# BENCH_RUN_ROUNDS rounds (default 3), each nightshift run on a fresh copy
# of the ingested queue and set against the mean of the plain passes either
# side of it, so that the machine speeding up or slowing down (it drifts by
# a third here) moves both; the medians of the rounds are judged. Then the
# results' stored size is set against their JSON (from `nightshift export`
# when the binary has it, and by decoding the stored frames in any case).
# After each nightshift run, the same jobs go through node_peer/peer.mjs: the
# official openai SDK with p-queue at the same concurrency, writing each
# result as a line, as a user would write it without nightshift; its jobs/s,
# CPU per job and peak RSS are printed beside nightshift's.
#
# A run counts only if every job is done with one 200 result; otherwise the
# figures are printed as such but not judged. Targets get PASS/MISS; they are
# figures, not a gate: the script exits 0 unless it could not run at all.
#   env: NIGHTSHIFT (binary), MOCK (mock provider), BENCHBIN (dir of
#        gen_jobs, plain_client, result_bytes, runstat), NODE_PEER (dir
#        of peer.mjs with its node_modules; make bench installs it),
#        BENCH_RUN_JOBS (job count), BENCH_RUN_ROUNDS (rounds), TMPDIR.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
NIGHTSHIFT=${NIGHTSHIFT:-$root/nightshift}
MOCK=${MOCK:-$root/build/default/mock-provider}
BENCHBIN=${BENCHBIN:-$root/build/default/bench}
NODE_PEER=${NODE_PEER:-$root/build/default/node_peer}
jobs=${BENCH_RUN_JOBS:-50000}
rounds=${BENCH_RUN_ROUNDS:-3}
conc=64

case $jobs in
'' | *[!0-9]*)
	echo "run_overhead.sh: BENCH_RUN_JOBS must be a count, not '$jobs'" >&2
	exit 2
	;;
esac
case $rounds in
'' | *[!0-9]* | 0)
	echo "run_overhead.sh: BENCH_RUN_ROUNDS must be 1 or more," \
		"not '$rounds'" >&2
	exit 2
	;;
esac
if [ "$jobs" -lt 100 ]; then
	echo "run_overhead.sh: BENCH_RUN_JOBS must be at least 100" >&2
	exit 2
fi
for b in gen_jobs plain_client result_bytes runstat; do
	if [ ! -x "$BENCHBIN/$b" ]; then
		echo "run_overhead.sh: $BENCHBIN/$b missing (make bench" \
			"builds it)" >&2
		exit 1
	fi
done
for b in "$NIGHTSHIFT" "$MOCK"; do
	if [ ! -x "$b" ]; then
		echo "run_overhead.sh: $b not found (set NIGHTSHIFT, MOCK)" >&2
		exit 1
	fi
done
if ! command -v sqlite3 >/dev/null 2>&1; then
	echo "run_overhead.sh: the sqlite3 shell is needed to check" \
		"the queue" >&2
	exit 1
fi
if ! command -v node >/dev/null 2>&1 ||
	[ ! -d "$NODE_PEER/node_modules/openai" ]; then
	echo "run_overhead.sh: the Node peer is missing: node and" \
		"$NODE_PEER/node_modules (make bench installs it)" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nsbench.XXXXXX") || exit 1
mock_pid=''
cleanup() {
	if [ -n "$mock_pid" ]; then
		kill "$mock_pid" 2>/dev/null
		wait "$mock_pid" 2>/dev/null
	fi
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


. "$here/lib.sh"
bench_mock run_overhead.sh
url=http://127.0.0.1:$port/v1

cat >"$tmp/providers.json" <<JSON
{"providers": {"mock": {"dialect": "openai",
  "base_url": "$url", "api_key_env": "NS_BENCH_KEY",
  "max_inflight": $conc, "timeout_s": 60, "connect_timeout_s": 5,
  "models": {"m1": {"input_per_mtok": 0.50, "output_per_mtok": 1.50}}}},
 "routes": {"cheap": ["mock:m1"]}}
JSON

# Every job goes to the one route. The 1 in 20 JSON-mode jobs stay: the
# mock answers them with a JSON object, which nightshift checks.
echo "generating $jobs job lines..."
"$BENCHBIN/gen_jobs" "$jobs" 1 |
	sed -e 's/"model":"[^"]*"/"model":"cheap"/' >"$tmp/jobs.jsonl"
got=$(wc -l <"$tmp/jobs.jsonl")
if [ "$got" -ne "$jobs" ]; then
	echo "run_overhead.sh: gen_jobs wrote $got lines, not $jobs" >&2
	exit 1
fi
# plain_client's body: the first job's, as nightshift sends it (model m1).
head -n 1 "$tmp/jobs.jsonl" |
	sed -e 's/^.*"body":\(.*\)}$/\1/' -e 's/"model":"cheap"/"model":"m1"/' \
		>"$tmp/body.json"

echo "nightshift ingest, $jobs lines..."
measure ingest "$NIGHTSHIFT" ingest --db "$tmp/q.db" "$tmp/jobs.jsonl"
ingest_wall=$m_wall
if [ "$m_rc" -ne 0 ] || [ "$(q 'SELECT count(*) FROM jobs')" != "$jobs" ]
then
	echo "run_overhead.sh: nightshift ingest exited $m_rc" \
		"with $(q 'SELECT count(*) FROM jobs') jobs queued:" >&2
	show_err ingest >&2
	exit 1
fi

# plain LABEL: one plain_client pass; sets p_rps (empty if it failed).
plain() {
	echo "plain client ($1), $jobs requests, $conc at a time..."
	measure "plain_$1" "$BENCHBIN/plain_client" "$url/chat/completions" \
		"$jobs" "$conc" "$tmp/body.json"
	p_rps=''
	if [ "$m_rc" -eq 0 ]; then
		sed 's/^/  /' "$tmp/plain_$1.out"
		p_rps=$(sed -n 's/.* rps \([0-9]*\) .*/\1/p' \
			"$tmp/plain_$1.out")
	else
		echo "  plain_client exited $m_rc:"
		cat "$tmp/plain_$1.out"
		show_err "plain_$1"
	fi
}

# node_run: the same jobs through the Node peer; sets n_rate, n_cpu, n_kib
# (empty if it did not do every job).
node_run() {
	echo "node peer (openai SDK + p-queue), $jobs jobs, $conc at a time..."
	measure node node "$NODE_PEER/peer.mjs" "$url" "$tmp/jobs.jsonl" \
		"$conc" "$tmp/node_out.jsonl"
	n_rate='' n_cpu=$m_cpu n_kib=$m_kib
	sed 's/^/  /' "$tmp/node.out"
	n_ok=$(sed -n 's/.* ok \([0-9]*\) failed 0 .*/\1/p' "$tmp/node.out")
	if [ "$m_rc" -eq 0 ] && [ "$n_ok" = "$jobs" ] &&
		[ "$(grep -c '"response"' "$tmp/node_out.jsonl")" = "$jobs" ]
	then
		n_rate=$(awk -v j="$jobs" -v w="$m_wall" \
			'BEGIN { if (w > 0) printf "%.1f", j / w }')
	else
		echo "  INVALID: the peer exited $m_rc with ${n_ok:-?} of $jobs"
		show_err node
	fi
	rm -f "$tmp/node_out.jsonl"
}

# Each round runs on a copy of the queue as ingest left it.
cp "$tmp/q.db" "$tmp/queued.db" || exit 1

# One line per round in $tmp/rounds: rate, plain before, plain after, wall,
# CPU, peak KiB, mock CPU, valid (1/0), CPU stolen by the hypervisor, and
# the Node peer's rate, CPU and peak KiB.
: >"$tmp/rounds"
plain "before round 1"
p_prev=$p_rps
valid=1
r=1
while [ "$r" -le "$rounds" ]; do
	rm -f "$tmp/q.db" "$tmp/q.db-wal" "$tmp/q.db-shm"
	cp "$tmp/queued.db" "$tmp/q.db" || exit 1
	echo "nightshift run (round $r of $rounds), $jobs jobs," \
		"--max-inflight $conc..."
	mock_t0=$(cpu_ticks "$mock_pid")
	steal_t0=$(steal_ticks)
	measure run env NS_BENCH_KEY=bench "$NIGHTSHIFT" run \
		--db "$tmp/q.db" --providers "$tmp/providers.json" \
		--max-inflight "$conc" --no-progress
	mock_t1=$(cpu_ticks "$mock_pid")
	steal_t1=$(steal_ticks)
	run_rc=$m_rc run_wall=$m_wall run_kib=$m_kib run_cpu=$m_cpu
	grep -v '^runstat_kib ' "$tmp/run.err" | tail -n 2 | sed 's/^/  /'
	mock_cpu=$(awk -v a="$mock_t0" -v b="$mock_t1" -v t="$tck" \
		'BEGIN { printf "%.2f", (b - a) / t }')
	steal=$(awk -v a="$steal_t0" -v b="$steal_t1" -v t="$tck" \
		'BEGIN { printf "%.2f", (b - a) / t }')

	# The run counts only if it did all of it: every job done, one
	# result each, every result a 200.
	done_n=$(q 'SELECT count(*) FROM jobs WHERE state = 2')
	res_n=$(q 'SELECT count(*) FROM results')
	ok_n=$(q 'SELECT count(*) FROM results WHERE status_code = 200 AND
		body IS NOT NULL')
	req_n=$(q 'SELECT count(*) FROM attempts')
	ok=1
	if [ "$run_rc" -ne 0 ] || [ "$done_n" != "$jobs" ] ||
		[ "$res_n" != "$jobs" ] || [ "$ok_n" != "$jobs" ]; then
		ok=0 valid=0
		echo "  INVALID RUN: exit $run_rc; done $done_n, results" \
			"$res_n, 200 results $ok_n, of $jobs jobs"
		show_err run
	else
		echo "  checked: $done_n jobs done, $res_n results, all 200;" \
			"$req_n requests in the ledger"
	fi
	node_run
	plain "after round $r"
	rate=''
	[ "$ok" -eq 1 ] && [ -n "$run_wall" ] &&
		rate=$(awk -v j="$jobs" -v w="$run_wall" \
			'BEGIN { if (w > 0) printf "%.1f", j / w }')
	echo "${rate:--} ${p_prev:--} ${p_rps:--} ${run_wall:--}" \
		"${run_cpu:--} ${run_kib:--} ${mock_cpu:--} $ok ${steal:--}" \
		"${n_rate:--} ${n_cpu:--} ${n_kib:--}" >>"$tmp/rounds"
	p_prev=$p_rps
	r=$((r + 1))
done

# Results: stored frames against the JSON they hold.
stored=$(q 'SELECT sum(length(body)) FROM results')
"$BENCHBIN/result_bytes" "$tmp/q.db" >"$tmp/rb.out" 2>"$tmp/rb.err"
# shellcheck disable=SC2046 # numbers, split on purpose
set -- $(awk '$1 == "db" && NF == 11 { print $3, $5, $7, $9, $11 }' \
	"$tmp/rb.out")
dec_json=${3:-} dict_bytes=${4:-} undecodable=${5:-}
[ -n "$dec_json" ] || sed 's/^/  result_bytes: /' "$tmp/rb.err"
exp_json='' exp_note=''
if "$NIGHTSHIFT" export --db "$tmp/q.db" -o "$tmp/export.jsonl" \
	>"$tmp/export.log" 2>&1; then
	"$BENCHBIN/result_bytes" "$tmp/q.db" "$tmp/export.jsonl" \
		>"$tmp/rb2.out" 2>&1
	# shellcheck disable=SC2046
	set -- $(awk '$1 == "export" && NF == 7 { print $3, $5, $7 }' \
		"$tmp/rb2.out")
	if [ "${1:-}" = "$jobs" ] && [ "${2:-}" = "$jobs" ]; then
		exp_json=$3
	else
		exp_note="export gave ${1:-?} lines, ${2:-?} bodies, not $jobs"
	fi
else
	exp_note="nightshift export unavailable or failed: $(head -n 1 \
		"$tmp/export.log")"
fi

echo
awk -v jobs="$jobs" -v conc="$conc" -v valid="$valid" \
	-v ingest_wall="$ingest_wall" \
	-v stored="$stored" -v dec_json="$dec_json" -v exp_json="$exp_json" \
	-v dict_bytes="$dict_bytes" -v undecodable="$undecodable" \
	-v exp_note="$exp_note" '
function num(v, fmt) { return v == "" ? "n/a" : sprintf(fmt, v) }
function verdict(v, ok) { return v == "" ? "----" : (ok ? "PASS" : "MISS") }
function target(name, v, fmt, goal, ok) {
	printf "  %-36s %10s   %-16s %s\n", name, num(v, fmt), goal,
	    verdict(v, ok)
}
function val(v) { return v == "-" ? "" : v }
# median of a[1..n] (sorted in place; n >= 1)
function median(a, n,    i, k, t) {
	for (i = 2; i <= n; i++)
		for (k = i; k > 1 && a[k - 1] > a[k]; k--) {
			t = a[k]; a[k] = a[k - 1]; a[k - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	n++
	rate[n] = val($1); pb[n] = val($2); pa[n] = val($3)
	wall[n] = val($4); cpu[n] = val($5); kib[n] = val($6)
	mock[n] = val($7); steal[n] = val($9)
	nrate[n] = val($10); ncpu[n] = val($11); nkib[n] = val($12)
	# nightshift against the Node peer of the same round
	nr_[n] = (rate[n] == "" || nrate[n] == "" || nrate[n] + 0 <= 0) \
	    ? "" : rate[n] / nrate[n]
	# The baseline of a round is the mean of the passes either side of
	# its run, so a machine that got busier or quieter is evened out.
	base[n] = (pb[n] != "" && pa[n] != "") ? (pb[n] + pa[n]) / 2 \
	    : (pb[n] != "" ? pb[n] : pa[n])
	rt[n] = (rate[n] == "" || base[n] == "" || base[n] + 0 <= 0) \
	    ? "" : rate[n] / base[n]
}
END {
	printf "run overhead: %d jobs, %d in flight, mock with no latency\n",
	    jobs, conc
	printf "  %-36s %10s\n", "nightshift ingest (s)",
	    num(ingest_wall, "%.2f")
	printf "  round  jobs/s  wall s  CPU s  ms/job  RSS MiB  mock CPU s" \
	    "  stolen s  plain req/s (before, after)  ratio\n"
	nr = 0; nq = 0; nc = 0; peak = ""
	for (i = 1; i <= n; i++) {
		printf "  %5d  %6s  %6s  %5s  %6s  %7s  %10s  %8s  %11s %-8s" \
		    "  %5s\n",
		    i, num(rate[i], "%.0f"), num(wall[i], "%.2f"),
		    num(cpu[i], "%.2f"),
		    cpu[i] == "" ? "n/a" : sprintf("%.3f", cpu[i] * 1000 / jobs),
		    kib[i] == "" ? "n/a" : sprintf("%.1f", kib[i] / 1024),
		    num(mock[i], "%.2f"), num(steal[i], "%.2f"),
		    num(pb[i], "%.0f"),
		    "(" num(pa[i], "%.0f") ")", num(rt[i], "%.2f")
		if (rate[i] != "") r_[++nr] = rate[i]
		if (rt[i] != "") q_[++nq] = rt[i]
		if (cpu[i] != "") c_[++nc] = cpu[i]
		if (kib[i] != "" && (peak == "" || kib[i] > peak)) peak = kib[i]
	}
	nn = 0; nnc = 0; nnr = 0; npeak = ""
	for (i = 1; i <= n; i++) {
		if (nrate[i] != "") nrt_[++nn] = nrate[i]
		if (ncpu[i] != "") ncp_[++nnc] = ncpu[i]
		if (nr_[i] != "") nq_[++nnr] = nr_[i]
		if (nkib[i] != "" && (npeak == "" || nkib[i] > npeak))
			npeak = nkib[i]
	}
	ns = (valid && nr == n) ? median(r_, nr) : ""
	ratio_m = (valid && nq == n) ? median(q_, nq) : ""
	cpu_m = nc ? median(c_, nc) : ""
	node_m = nn == n ? median(nrt_, nn) : ""
	ncpu_m = nnc ? median(ncp_, nnc) : ""
	node_ratio = (valid && nnr == n) ? median(nq_, nnr) : ""
	printf "  %-36s %10s   (median of %d rounds)\n",
	    "nightshift run (jobs/s)", num(ns, "%.0f"), n
	printf "  %-36s %10s   (%s ms per job)\n",
	    "nightshift CPU user+sys (s), median", num(cpu_m, "%.2f"),
	    cpu_m == "" ? "n/a" : sprintf("%.3f", cpu_m * 1000 / jobs)
	printf "  %-36s %10s\n", "nightshift peak RSS (MiB)",
	    peak == "" ? "n/a" : sprintf("%.1f", peak / 1024)
	printf "  %-36s %10s   (median of %d rounds)\n",
	    "Node peer, openai SDK (jobs/s)", num(node_m, "%.0f"), n
	printf "  %-36s %10s   (%s ms per job)\n",
	    "Node peer CPU user+sys (s), median", num(ncpu_m, "%.2f"),
	    ncpu_m == "" ? "n/a" : sprintf("%.3f", ncpu_m * 1000 / jobs)
	printf "  %-36s %10s\n", "Node peer peak RSS (MiB)",
	    npeak == "" ? "n/a" : sprintf("%.1f", npeak / 1024)
	json = exp_json != "" ? exp_json : dec_json
	printf "  %-36s %10s\n", "results stored (MB)",
	    stored == "" ? "n/a" : sprintf("%.2f", stored / 1e6)
	printf "  %-36s %10s   (%s)\n", "results as JSON (MB)",
	    json == "" ? "n/a" : sprintf("%.2f", json / 1e6),
	    exp_json != "" ? "nightshift export" : "stored frames decoded"
	if (exp_json != "" && dec_json != "")
		printf "  %-36s %10.2f\n", "  decoded frames (MB), cross-check",
		    dec_json / 1e6
	if (dict_bytes != "")
		printf "  %-36s %10d   (once per database)\n",
		    "result dictionary (bytes)", dict_bytes
	print ""
	ratio = ratio_m
	comp = ""
	if (stored != "" && json != "" && stored + 0 > 0)
		comp = json / stored
	print "  targets"
	target("nightshift / plain client, median", ratio, "%.2f", ">= 0.50",
	    ratio >= 0.50)
	target("nightshift / Node peer jobs/s, median", node_ratio, "%.1f",
	    ">= 10", node_ratio >= 10)
	target("results JSON / stored", comp, "%.2f", ">= 2.5", comp >= 2.5)
	if (!valid)
		print "  note: the run did not finish every job;" \
		    " rates not judged"
	if (exp_note != "")
		printf "  note: %s\n", exp_note
	if (undecodable != "" && undecodable > 0)
		printf "  WARNING: %d stored results did not decode\n",
		    undecodable
}' "$tmp/rounds"
exit 0
