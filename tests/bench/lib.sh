# lib.sh — what the run-loop benchmarks share (sourced, not run; run.sh
# skips it). The caller sets $tmp (its scratch directory) and $MOCK.

# bench_mock NAME ARGS...: start the mock provider on a free loopback port
# with ARGS, output in $tmp/mock.out and $tmp/mock.err; sets mock_pid and
# port. NAME (the calling script) prefixes the error when it does not start.
bench_mock() {
	b_name=$1
	shift
	"$MOCK" --port 0 --threads 2 "$@" >"$tmp/mock.out" 2>"$tmp/mock.err" &
	mock_pid=$!
	port='' b_i=0
	while [ $b_i -lt 100 ] && [ -z "$port" ]; do
		port=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$tmp/mock.out")
		[ -n "$port" ] || sleep 0.05
		b_i=$((b_i + 1))
	done
	if [ -z "$port" ]; then
		echo "$b_name: the mock provider did not start:" >&2
		sed 's/^/    /' "$tmp/mock.err" >&2
		exit 1
	fi
}

# cpu_ticks PID: user+sys clock ticks of a live process (all its threads).
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
tck=$(getconf CLK_TCK 2>/dev/null || echo 100)

# steal_ticks: clock ticks the hypervisor gave to other guests, all CPUs
# (0 where /proc/stat has no such field). A virtual machine's neighbours
# take a varying share, and every figure moves with it.
steal_ticks() {
	awk '$1 == "cpu" { print ($9 == "" ? 0 : $9); exit }' /proc/stat \
		2>/dev/null || echo 0
}
