# storm.sh — a "rate-limit storm": the provider refuses 30% of requests
# at random with 429 and Retry-After: 1 (plus 5% 500s, 2% resets, 1%
# broken JSON). Only the refused job waits: 1,000 jobs at 32 in flight
# finish in about what honouring each job's Retry-After takes (the
# issue's bound: 45 s), and no job is asked again before its Retry-After.
. "$(dirname "$0")/lib.sh"
export MOCK_KEY_ENV=sk-test-e2e-0123456789

start_mock --fault 429=0.30 --fault 500=0.05 --fault reset=0.02 \
  --fault badjson=0.01 --retry-after 1 --latency 20-80 --seed 7
providers_file p.json 20 8
jobs_file jobs.jsonl 1000
t0=$(date +%s)
run run --db s.db --providers p.json --max-inflight 32 --max-runtime 60s \
  jobs.jsonl
t1=$(date +%s)
stop_mock
# Every job ends; a job whose broken-JSON reply comes after a 429 may die
# (policy counts its earlier attempts as invalid outputs): a handful.
left=$(q s.db "SELECT count(*) FROM jobs WHERE state < 2")
dead=$(q s.db "SELECT count(*) FROM jobs WHERE state = 3")
check "storm: the run ends with every job settled (exit $rc, $dead dead)" \
  test "$left" -eq 0 -a "$dead" -le 10
n429=$(grep -c '"kind":"429"' mock.log)
check "storm: the storm did rage ($n429 429s)" test "$n429" -ge 300
check "storm: done in $((t1 - t0)) s, within 45 s" test $((t1 - t0)) -le 45

# Per job (the body's hash), each request after a 429: how long after the
# 429 ended did it arrive? The mock stamps done_ms once its reply is out,
# a ms or so after nightshift has read it: 10 ms of slack.
gaps=$(sed -n 's/.*"t_ms":\([0-9]*\),"done_ms":\([0-9]*\).*"kind":"\([a-z0-9]*\)".*"hash":"\([0-9a-f]*\)".*/\4 \1 \2 \3/p' mock.log |
  sort -k1,1 -k2,2n |
  awk '$1 == h && pk == "429" { n++; if ($2 - pd < 990) early++ }
       { h = $1; pd = $3; pk = $4 }
       END { printf "%d %d\n", n, early + 0 }')
set -- $gaps
check "storm: $1 retries after a 429, none before its Retry-After ($2 early)" \
  test "$1" -ge 250 -a "$2" -eq 0
# the provider was never paused as a whole for a 429 between successes
npause=$(q s.db "SELECT count(*) FROM events WHERE kind = 'paused'")
check "storm: few provider-wide pauses ($npause)" test "$npause" -le 8
