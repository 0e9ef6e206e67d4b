#!/bin/sh
# run.sh — run every benchmark script in tests/bench/ (but this one) in
# turn, each under a header. Benchmarks print figures rather than pass or
# fail; the exit status is 1 if any script could not run to the end.
#   env: NIGHTSHIFT, MOCK, BENCHBIN (set by `make bench`), passed through.
here=$(cd "$(dirname "$0")" && pwd)
status=0
for s in "$here"/*.sh; do
	[ -f "$s" ] || continue
	case $(basename "$s") in run.sh | lib.sh) continue ;; esac
	echo "=== $(basename "$s" .sh) ==="
	if ! sh "$s"; then
		echo "=== $(basename "$s" .sh): did not complete ==="
		status=1
	fi
	echo
done
exit $status
