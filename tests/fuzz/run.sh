#!/bin/sh
# run.sh — run each fuzz target for FUZZ_SECONDS (default 60) on a scratch
# copy of its seed corpus and regression inputs, so the tree is never
# written to; print per target the executions libFuzzer ran and what it
# found, then the total. Exit 1 when any target found something.
#   usage: run.sh BUILD_DIR NAME...    (make fuzz calls it)
# A crash, a hang (-timeout), a leak or a failed check leaves its input
# under BUILD_DIR/artifacts/NAME/; copy it into tests/fuzz/regress/NAME/
# (after the fix) and make check replays it from then on.
set -u
build=$1; shift
secs=${FUZZ_SECONDS:-60}
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/nightshift-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$build/logs"
total=0; bad=0
for name in "$@"; do
  corpus=$scratch/$name; art=$build/artifacts/$name
  mkdir -p "$corpus" "$art"
  for d in "$here/corpus/$name" "$here/regress/$name"; do
    [ -d "$d" ] && find "$d" -type f -exec cp {} "$corpus/" \;
  done
  seeds=$(find "$corpus" -type f | wc -l)
  log=$build/logs/$name.log
  "$build/fuzz_$name" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 \
    -print_final_stats=1 -max_len=8192 -dict="$here/json.dict" -artifact_prefix="$art/" \
    "$corpus" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  [ -n "$execs" ] || execs=0
  total=$((total + execs))
  grown=$(find "$corpus" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz $name: $execs executions in ${secs}s, corpus $seeds -> $grown, nothing found"
  else
    bad=$((bad + 1))
    echo "fuzz $name: FOUND after $execs executions (exit $rc); log $log, input in $art/:"
    grep -aE '^(ERROR|==[0-9]+==ERROR|SUMMARY)|runtime error|check failed|Test unit written' "$log" | head -n 8
  fi
done
echo "fuzz: $total executions, $bad of $# targets found something"
[ "$bad" -eq 0 ]
