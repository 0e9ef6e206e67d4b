#!/bin/sh
# demo.sh — `make demo`: run the example jobs through nightshift against
# the local mock provider (no keys, no spend), with a few injected faults,
# then show the per-provider report and the first exported results.
# Everything it writes stays under build/demo/.
set -e
cd "$(dirname "$0")/.."
BIN=${NIGHTSHIFT:-./nightshift}
MOCK=${MOCK:-build/default/mock-provider}
D=build/demo
rm -rf "$D"; mkdir -p "$D"

# A few realistic faults: throttling with Retry-After, server errors, a
# dropped connection. JSON jobs get JSON back; prose jobs get prose.
"$MOCK" --port 0 --log "$D/mock.log" --latency 20-200 --seed 42 \
  --fault 429=0.08 --fault 503=0.04 --fault reset=0.02 --retry-after 1 \
  >"$D/mock.out" 2>"$D/mock.err" &
mock=$!
trap 'kill $mock 2>/dev/null' EXIT INT TERM
port=""; i=0
while [ -z "$port" ] && [ $i -lt 100 ]; do
  port=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$D/mock.out"); [ -n "$port" ] || sleep 0.05; i=$((i + 1))
done
[ -n "$port" ] || { echo "demo: the mock provider did not start:" >&2; cat "$D/mock.err" >&2; exit 1; }
sed "s/@PORT@/$port/g" jobs-examples/providers-mock.json.in > "$D/providers.json"
export NIGHTSHIFT_MOCK_KEY=demo-key-not-secret
export NIGHTSHIFT_DB="$D/demo.db"

echo "== mock provider on 127.0.0.1:$port (faults: 8% 429, 4% 503, 2% reset)"
echo "== nightshift ingest jobs-examples/*.jsonl"
"$BIN" ingest jobs-examples/summarize.jsonl
"$BIN" ingest jobs-examples/extract.jsonl
echo "== nightshift run --providers $D/providers.json"
set +e
"$BIN" run --providers "$D/providers.json"
rc=$?
set -e
echo "   (exit $rc)"
echo "== nightshift status"
"$BIN" status
if "$BIN" report --help >/dev/null 2>&1; then
  echo "== nightshift report"
  "$BIN" report
fi
if "$BIN" export --help >/dev/null 2>&1; then
  echo "== nightshift export -o $D/results.jsonl (first 2 lines)"
  "$BIN" export -o "$D/results.jsonl"
  head -n 2 "$D/results.jsonl" | cut -c 1-600
fi
echo "== the database is $D/demo.db; the mock's request log is $D/mock.log"
