#!/bin/sh
# ingest.sh — the ingest benchmark: nightshift's ingest against two baselines.
#
# Generates BENCH_ROWS (default 1,000,000) realistic job lines of ~600 bytes
# and, on those same lines in the same run, measures:
#   nightshift   `nightshift ingest --db DB FILE`, on the first 100k lines and
#                on all of them (peak RSS must not grow with the file);
#   (a)          baseline_insert: cJSON + nightshift's blob compression +
#                one prepared INSERT in one transaction (the floor in C);
#   (b)          the sqlite3 shell: .import the lines, then INSERT ... SELECT
#                json_extract(...) into a UNIQUE column (what a user scripts).
# Every command runs under runstat (wall time and peak RSS). The targets are
# printed with PASS/MISS; they are figures, not a gate: the script exits 0
# unless it could not run at all.
#   env: NIGHTSHIFT (binary), BENCHBIN (dir of gen_jobs, baseline_insert,
#        runstat), BENCH_ROWS (line count), TMPDIR (where the ~2 GB go).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
NIGHTSHIFT=${NIGHTSHIFT:-$root/nightshift}
BENCHBIN=${BENCHBIN:-$root/build/default/bench}
rows=${BENCH_ROWS:-1000000}

case $rows in
'' | *[!0-9]*)
	echo "ingest.sh: BENCH_ROWS must be a line count, not '$rows'" >&2
	exit 2
	;;
esac
if [ "$rows" -lt 1000 ]; then
	echo "ingest.sh: BENCH_ROWS must be at least 1000" >&2
	exit 2
fi
# The flatness check compares peak RSS at 100k lines with the full run;
# a quick run smaller than that compares a tenth with the whole.
small=100000
[ "$rows" -gt "$small" ] || small=$((rows / 10))

for b in gen_jobs baseline_insert runstat; do
	if [ ! -x "$BENCHBIN/$b" ]; then
		echo "ingest.sh: $BENCHBIN/$b missing (make bench builds it)" >&2
		exit 1
	fi
done
if ! command -v sqlite3 >/dev/null 2>&1; then
	echo "ingest.sh: the sqlite3 shell is needed for baseline (b)" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nsbench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'rm -rf "$tmp"; exit 130' HUP INT PIPE TERM

# measure NAME CMD...: run CMD under runstat, its stdout to $tmp/NAME.out and
# stderr to $tmp/NAME.err; sets m_rc, m_kib and m_wall.
measure() {
	m_name=$1
	shift
	"$BENCHBIN/runstat" "$@" >"$tmp/$m_name.out" 2>"$tmp/$m_name.err"
	m_rc=$?
	# shellcheck disable=SC2046 # two numbers, split on purpose
	set -- $(sed -n 's/^runstat_kib \([0-9]*\) wall_s \([0-9.]*\) .*$/\1 \2/p' \
		"$tmp/$m_name.err" | tail -n 1)
	m_kib=${1:-}
	m_wall=${2:-}
}

# show_err NAME: the command's own stderr, for a run that failed.
show_err() {
	grep -v '^runstat_kib ' "$tmp/$1.err" | tail -n 5 | sed 's/^/    /'
}

# bytes FILE...: total size of the files that exist (a database and its
# -wal, should one be left behind).
bytes() {
	b_total=0
	for b_f in "$@"; do
		[ -f "$b_f" ] && b_total=$((b_total + $(wc -c <"$b_f")))
	done
	echo "$b_total"
}

# count DB SQL: one number from a query, or empty.
count() {
	sqlite3 "$1" "$2" 2>/dev/null
}

echo "generating $rows job lines..."
measure gen "$BENCHBIN/gen_jobs" "$rows" 1
if [ "$m_rc" -ne 0 ]; then
	echo "ingest.sh: gen_jobs failed (exit $m_rc)" >&2
	show_err gen >&2
	exit 1
fi
mv "$tmp/gen.out" "$tmp/jobs.jsonl"
head -n "$small" "$tmp/jobs.jsonl" >"$tmp/small.jsonl"
jsonl_bytes=$(bytes "$tmp/jobs.jsonl")
gen_wall=$m_wall

# nightshift, at 100k lines and at the full size.
ns_note=''
ns_small_kib='' ns_small_wall='' ns_small_db=''
ns_big_kib='' ns_big_wall='' ns_big_db=''
for size in small big; do
	f=$tmp/jobs.jsonl
	n=$rows
	if [ $size = small ]; then
		f=$tmp/small.jsonl
		n=$small
	fi
	if [ ! -x "$NIGHTSHIFT" ]; then
		ns_note="nightshift not found at $NIGHTSHIFT"
		continue
	fi
	echo "nightshift ingest, $n lines..."
	db=$tmp/ns_$size.db
	measure "ns_$size" "$NIGHTSHIFT" ingest --db "$db" "$f"
	if [ "$m_rc" -ne 0 ] || [ -z "$m_wall" ]; then
		echo "  nightshift ingest exited $m_rc:"
		show_err "ns_$size"
		ns_note="nightshift ingest failed (exit $m_rc)"
		rm -f "$db" "$db-wal" "$db-shm"
		continue
	fi
	# Its summary line, wherever it went.
	{
		cat "$tmp/ns_$size.out"
		grep -v '^runstat_kib ' "$tmp/ns_$size.err"
	} | tail -n 2 | sed 's/^/  /'
	got=$(count "$db" "SELECT count(*) FROM jobs")
	if [ "$got" != "$n" ]; then
		echo "  WARNING: the queue holds '$got' jobs, not $n"
		ns_note="nightshift queued $got of $n jobs"
	fi
	eval "ns_${size}_kib=\$m_kib ns_${size}_wall=\$m_wall"
	eval "ns_${size}_db=\$(bytes \"\$db\" \"\$db-wal\")"
	rm -f "$db" "$db-wal" "$db-shm"
done

# (a): the minimal C program.
echo "baseline (a): C, one transaction, $rows lines..."
a_kib='' a_wall='' a_db=''
measure a "$BENCHBIN/baseline_insert" "$tmp/jobs.jsonl" "$tmp/a.db"
if [ "$m_rc" -eq 0 ] && [ -n "$m_wall" ]; then
	sed 's/^/  /' "$tmp/a.out"
	got=$(count "$tmp/a.db" "SELECT count(*) FROM jobs")
	[ "$got" = "$rows" ] ||
		echo "  WARNING: baseline (a) stored '$got' rows, not $rows"
	a_kib=$m_kib a_wall=$m_wall
	a_db=$(bytes "$tmp/a.db" "$tmp/a.db-wal")
else
	echo "  baseline (a) exited $m_rc:"
	show_err a
fi
rm -f "$tmp/a.db" "$tmp/a.db-wal" "$tmp/a.db-shm"

# (b): the sqlite3 shell. The lines hold commas, quotes and tabs, so the
# import splits columns on \037 (unit separator), which JSON text never
# holds unescaped, and rows on newlines: each line arrives whole (checked
# below, outside the timing). The raw table must exist first, or .import
# would take the first line for column names.
echo "baseline (b): sqlite3 .import + json_extract, $rows lines..."
b_kib='' b_wall='' b_db=''
cat >"$tmp/b.sql" <<SQL
CREATE TABLE raw (line TEXT);
.mode ascii
.separator "\\037" "\\n"
.import "$tmp/jobs.jsonl" raw
BEGIN;
CREATE TABLE jobs (custom_id TEXT UNIQUE, body TEXT);
INSERT INTO jobs SELECT json_extract(line, '\$.custom_id'),
  json_extract(line, '\$.body') FROM raw;
COMMIT;
SQL
measure b sqlite3 -batch -bail "$tmp/b.db" <"$tmp/b.sql"
if [ "$m_rc" -eq 0 ] && [ -n "$m_wall" ]; then
	check=$(count "$tmp/b.db" "SELECT (SELECT count(*) FROM raw) || ' ' ||
		(SELECT count(*) + sum(length(CAST(line AS BLOB))) FROM raw) ||
		' ' || (SELECT count(custom_id) FROM jobs)")
	if [ "$check" = "$rows $jsonl_bytes $rows" ]; then
		echo "  checked: $rows lines imported intact, $rows jobs"
	else
		echo "  WARNING: lines / bytes / jobs = '$check'," \
			"expected '$rows $jsonl_bytes $rows'"
	fi
	b_kib=$m_kib b_wall=$m_wall
	b_db=$(bytes "$tmp/b.db")
else
	echo "  baseline (b) exited $m_rc:"
	show_err b
fi
rm -f "$tmp/b.db" "$tmp/b.db-wal" "$tmp/b.db-journal"

echo
awk -v rows="$rows" -v small="$small" -v jsonl="$jsonl_bytes" \
	-v gen="$gen_wall" -v note="$ns_note" \
	-v ns_s_w="$ns_small_wall" -v ns_s_k="$ns_small_kib" \
	-v ns_s_d="$ns_small_db" \
	-v ns_b_w="$ns_big_wall" -v ns_b_k="$ns_big_kib" -v ns_b_d="$ns_big_db" \
	-v a_w="$a_wall" -v a_k="$a_kib" -v a_d="$a_db" \
	-v b_w="$b_wall" -v b_k="$b_kib" -v b_d="$b_db" '
function rate(n, w) { return (w == "" || w + 0 <= 0) ? "" : n / w }
function num(v, fmt) { return v == "" ? "n/a" : sprintf(fmt, v) }
function mib(k) { return k == "" ? "n/a" : sprintf("%.1f MiB", k / 1024) }
function mb(b) { return b == "" ? "n/a" : sprintf("%.1f MB", b / 1e6) }
function row(name, n, w, k, d) {
	printf "  %-34s %10s %9s %11s %10s\n", name, num(rate(n, w), "%.0f"),
	    num(w, "%.2f"), mib(k), mb(d)
}
# verdict: PASS/MISS, or "----" when a figure is missing.
function verdict(v, ok) { return v == "" ? "----" : (ok ? "PASS" : "MISS") }
function target(name, v, fmt, goal, ok) {
	printf "  %-34s %10s   %-16s %s\n", name, num(v, fmt), goal,
	    verdict(v, ok)
}
BEGIN {
	printf "ingest benchmark: %d lines, %.1f MB of JSONL (%.0f bytes/line;" \
	    " generated in %ss)\n", rows, jsonl / 1e6, jsonl / rows, gen
	printf "  %-34s %10s %9s %11s %10s\n", "", "rows/s", "wall s",
	    "peak RSS", "DB size"
	row(sprintf("nightshift ingest (%d)", small), small, ns_s_w, ns_s_k,
	    ns_s_d)
	row(sprintf("nightshift ingest (%d)", rows), rows, ns_b_w, ns_b_k,
	    ns_b_d)
	row("(a) C + blob API, 1 txn", rows, a_w, a_k, a_d)
	row("(b) sqlite3 .import + json_extract", rows, b_w, b_k, b_d)
	print ""
	ns = rate(rows, ns_b_w); ra = rate(rows, a_w); rb = rate(rows, b_w)
	r_a = (ns == "" || ra == "") ? "" : ns / ra
	r_b = (ns == "" || rb == "") ? "" : ns / rb
	flat = (ns_s_k == "" || ns_b_k == "") ? "" : ns_b_k / ns_s_k
	peak = ns_b_k == "" ? "" : (ns_b_k > ns_s_k ? ns_b_k : ns_s_k)
	dbr = ns_b_d == "" ? "" : ns_b_d / jsonl
	print "  targets"
	target("nightshift / (a) rows/s", r_a, "%.2f", ">= 0.70", r_a >= 0.70)
	target("nightshift / (b) rows/s", r_b, "%.2f", ">= 1.50", r_b >= 1.50)
	target("nightshift peak RSS", peak == "" ? "" : peak / 1024,
	    "%.1f MiB", "< 64 MiB", peak < 64 * 1024)
	target(sprintf("peak RSS %d / %d lines", rows, small), flat, "%.2f",
	    "flat: <= 1.25", flat <= 1.25)
	target("nightshift DB / JSONL size", dbr, "%.2f", "<= 0.50",
	    dbr <= 0.50)
	if (a_d != "")
		printf "  for scale: (a) DB / JSONL = %.2f", a_d / jsonl
	if (b_d != "")
		printf "; (b) DB / JSONL = %.2f (raw lines + uncompressed" \
		    " jobs)", b_d / jsonl
	if (a_d != "" || b_d != "")
		print ""
	if (note != "")
		printf "  note: %s\n", note
}'
exit 0
