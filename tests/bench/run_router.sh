#!/bin/sh
# run_router.sh — what routing costs per job: the zero-latency run-loop
# benchmark with one provider, then with a route of three (the cheapest
# third in the route's order, so every job is priced three ways before it
# goes), on the same jobs in the same run, each twice, alternating so a
# machine that gets busier or quieter evens out. Target: the routed rate
# >= 90% of the single-provider rate. Figures, not a gate: exit 0.
#   env: NIGHTSHIFT, MOCK, BENCHBIN (gen_jobs, runstat), BENCH_ROUTER_JOBS
#        (default 20000), TMPDIR.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
NIGHTSHIFT=${NIGHTSHIFT:-$root/nightshift}
MOCK=${MOCK:-$root/build/default/mock-provider}
BENCHBIN=${BENCHBIN:-$root/build/default/bench}
jobs=${BENCH_ROUTER_JOBS:-20000}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nsroute.XXXXXX") || exit 1
mock_pid=''
cleanup() {
	[ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'cleanup; trap - EXIT; exit 130' HUP INT PIPE TERM

. "$here/lib.sh"
bench_mock run_router.sh

prov() { # NAME PRICE_IN PRICE_OUT
	printf '"%s": {"dialect": "openai", "base_url": "http://127.0.0.1:%s/%s/v1",
	  "api_key_env": "NS_BENCH_KEY", "max_inflight": 64, "timeout_s": 60,
	  "connect_timeout_s": 5, "models": {"m": {"input_per_mtok": %s,
	  "output_per_mtok": %s}}}' "$1" "$port" "$1" "$2" "$3"
}
cat >"$tmp/one.json" <<JSON
{"providers": {$(prov qwen 0.40 1.20)}, "routes": {"cheap": ["qwen:m"]}}
JSON
cat >"$tmp/three.json" <<JSON
{"providers": {$(prov openai 2.50 10.0), $(prov deepseek 0.60 1.80), $(prov qwen 0.40 1.20)},
 "routes": {"cheap": ["openai:m", "deepseek:m", "qwen:m"]}}
JSON
"$BENCHBIN/gen_jobs" "$jobs" 3 | sed -e 's/"model":"[^"]*"/"model":"cheap"/' \
	-e 's/"providers":\[[^]]*\],//' >"$tmp/jobs.jsonl"

# one NAME CONFIG: ingest into a fresh database, time the run; prints the
# jobs/s (empty when not every job ended done).
one() {
	rm -f "$tmp/$1.db"*
	"$NIGHTSHIFT" ingest --db "$tmp/$1.db" "$tmp/jobs.jsonl" >/dev/null 2>&1
	NS_BENCH_KEY=bench "$BENCHBIN/runstat" "$NIGHTSHIFT" run --db "$tmp/$1.db" \
		--providers "$2" --max-inflight 64 --no-progress \
		>/dev/null 2>"$tmp/$1.err"
	done_n=$(sqlite3 "$tmp/$1.db" 'SELECT count(*) FROM jobs WHERE state = 2')
	[ "$done_n" = "$jobs" ] || { echo "  $1: only $done_n of $jobs done" >&2; return; }
	awk -v n="$jobs" '$1 == "runstat_kib" { printf "%.0f\n", n / $4 }' "$tmp/$1.err"
}

echo "routing overhead: $jobs jobs, mock with no latency, 64 in flight"
a1=$(one single1 "$tmp/one.json")
b1=$(one routed1 "$tmp/three.json")
a2=$(one single2 "$tmp/one.json")
b2=$(one routed2 "$tmp/three.json")
q3=$(sqlite3 "$tmp/routed2.db" "SELECT count(*) FROM results WHERE provider = 'qwen'")
awk -v a1="$a1" -v a2="$a2" -v b1="$b1" -v b2="$b2" -v q3="$q3" -v n="$jobs" 'BEGIN {
	if (a1 == "" || a2 == "" || b1 == "" || b2 == "") { print "  a run failed: no figures"; exit }
	a = (a1 + a2) / 2; b = (b1 + b2) / 2
	printf "  %-40s %8.0f   (%s, %s)\n", "one provider (jobs/s)", a, a1, a2
	printf "  %-40s %8.0f   (%s, %s)\n", "route of three (jobs/s)", b, b1, b2
	printf "  %-40s %8s\n", "routed jobs served by the cheapest", q3 "/" n
	printf("  %-40s %8.2f   >= 0.90   %s\n", "routed / single", b / a, (b / a >= 0.9) ? "PASS" : "MISS")
}'
