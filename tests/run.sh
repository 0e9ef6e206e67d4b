#!/bin/sh
# run.sh — run unit test binaries and end-to-end scripts, count results and end
# with one line "N passed, N failed, N skipped".
#   usage: run.sh UNIT_BIN... -- SCRIPT...
# Unit binaries are cmocka programs; their "[  PASSED  ] N test(s).",
# "[  FAILED  ] N test(s)" and "[  SKIPPED ] N test(s)" lines are counted (a
# binary that dies without them counts as one failure). Scripts print
# "ok - NAME" / "not ok - NAME" lines, and "skip - NAME (why)" for a check
# that cannot run here (it is neither passed nor failed, and always said).
passed=0; failed=0; skipped=0
log=$(mktemp); trap 'rm -f "$log"' EXIT
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  t=$1; shift
  "$t" >"$log" 2>&1; rc=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
  s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
  [ -n "$p" ] || p=0
  [ -n "$f" ] || f=0
  [ -n "$s" ] || s=0
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$f" -ne 0 ] || [ "$rc" -ne 0 ]; then
    echo "FAIL $(basename "$t") (exit $rc)"; grep -E '^\[  (FAILED|ERROR) |FAILED|ERROR|error|Sanitizer|runtime error' "$log" | head -n 40
  else
    echo "ok   $(basename "$t"): $p"
    [ "$s" -eq 0 ] || sed -n 's/^\[  SKIPPED \] \([^0-9].*\)/skip - \1/p' "$log"
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
[ "$1" = "--" ] && shift
for t in "$@"; do
  sh "$t" >"$log" 2>&1; rc=$?
  p=$(grep -c '^ok - ' "$log")
  f=$(grep -c '^not ok - ' "$log")
  s=$(grep -c '^skip - ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $(basename "$t") exited $rc" >>"$log"; fi
  if [ "$f" -ne 0 ]; then
    echo "FAIL $(basename "$t")"; grep -v '^ok - ' "$log" | tail -n 40
  else
    echo "ok   $(basename "$t"): $p"
    grep '^skip - ' "$log"
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
