# lib.sh — helpers for end-to-end scripts (sourced, not run).
# Each script gets its own temp dir ($T), removed on exit, and reports
# "ok - NAME" / "not ok - NAME" lines that tests/run.sh counts.
: "${NIGHTSHIFT:?set NIGHTSHIFT to the binary under test}"
T=$(mktemp -d /tmp/nightshift-e2e-XXXXXX)
cleanup_hooks=""
on_exit() { eval "$cleanup_hooks"; rm -rf "$T"; }
trap on_exit EXIT
cd "$T" || exit 1
unset NIGHTSHIFT_DB NIGHTSHIFT_PROVIDERS

ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'; return 0; }

# run: run nightshift, keeping stdout in $T/out, stderr in $T/err, rc in $rc.
run() { "$NIGHTSHIFT" "$@" >"$T/out" 2>"$T/err"; rc=$?; }

# expect NAME RC [GREP_STDOUT_OR_STDERR...]: check the last run's exit code
# and that each pattern appears in its stdout or stderr.
expect() {
  name=$1; want=$2; shift 2
  if [ "$rc" -ne "$want" ]; then
    notok "$name" "exit $rc, wanted $want; stderr: $(head -c 600 "$T/err")"; return
  fi
  for pat in "$@"; do
    if ! cat "$T/out" "$T/err" | grep -qF -- "$pat"; then
      notok "$name" "missing '$pat' in: $(cat "$T/out" "$T/err" | head -c 800)"; return
    fi
  done
  ok "$name"
}

# check NAME COMMAND...: ok when the command succeeds.
check() { name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; fi; }

# jobs_in DB: total jobs per `status --json`.
jobs_in() { "$NIGHTSHIFT" status --db "$1" --json | sed -n 's/.*"total":\([0-9]*\).*/\1/p'; }

# line N: a valid job line with custom_id job-N.
line() {
  printf '{"custom_id":"job-%s","body":{"model":"cheap","messages":[{"role":"user","content":"Summarize item %s"}],"max_tokens":50}}\n' "$1" "$1"
}
