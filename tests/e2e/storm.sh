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
# Every job ends. A job whose two replies both come back as broken JSON
# has used its one quality retry and dies (1 in 10,000 jobs here): a few.
left=$(q s.db "SELECT count(*) FROM jobs WHERE state < 2")
dead=$(q s.db "SELECT count(*) FROM jobs WHERE state = 3")
check "storm: every job settled (exit $rc, $dead dead)" \
  test "$left" -eq 0 -a "$dead" -le 2 -a "$rc" -le 3
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

# --- what a run learned, the next run starts from
# Run 1: the provider says its window is spent on 30% of requests
# (x-ratelimit-remaining-requests: 0): the window comes down to 1 or 2.
rm -f mock.log
start_mock --fault 429openai=0.3 --retry-after 1 --seed 3 --latency 20 \
  --prompt-scale 2
providers_file p.json 20 20
jobs_file jobs1.jsonl 60
run run --db l.db --providers p.json --max-inflight 32 --max-runtime 60s \
  jobs1.jsonl
stop_mock
expect "learned: run 1 ends" 0 "60/60 done"
run status --db l.db
expect "learned: status shows what was learned" 0 "learned" "mock: window" \
  "mock:m1: input tokens x2.00 of the estimate" "(60 replies)"
win=$("$NIGHTSHIFT" status --db l.db --json |
  sed -n 's/.*"window":\([0-9.]*\).*/\1/p' | cut -d. -f1)
check "learned: a small window was learned ($win)" test "${win:-99}" -le 4
# Run 2 on the same queue, a healthy slow provider: it starts from the
# learned window, not from 32 at once.
rm -f mock.log
start_mock --latency 500
providers_file p.json 20 20
i=1; while [ $i -le 20 ]; do line "b$i"; i=$((i + 1)); done >jobs2.jsonl
run run --db l.db --providers p.json --max-inflight 32 jobs2.jsonl
stop_mock
expect "learned: run 2 ends" 0 "20/20 done"
first=$(sed -n 's/.*"t_ms":\([0-9]*\).*/\1/p' mock.log | sort -n | head -1)
early=$(sed -n 's/.*"t_ms":\([0-9]*\).*/\1/p' mock.log |
  awk -v f="$first" '$1 < f + 400 { n++ } END { print n + 0 }')
check "learned: run 2 sent $early at first (window $win), not 20" \
  test "$early" -le $((win + 1))
# the calibration went on from run 1's: 60 replies then, 20 now
run status --db l.db
expect "learned: the calibration carries over" 0 "(80 replies)"

# --- a broken reply after other failures is the model's first, not its
# third: one more try (quality_retries 1); a second broken reply on the
# same candidate, even with a 500 between, moves the job on (here: dead,
# it has one candidate).
rm -f mock.log
start_mock --schedule 500,reset,badjson
providers_file p.json 20 8
line 1 >one.jsonl
run run --db i1.db --providers p.json one.jsonl
expect "invalid output: after a 500 and a reset it is the first" 0 "1/1 done"
stop_mock
rm -f mock.log
start_mock --schedule badjson,500,badjson
providers_file p.json 20 8
run run --db i2.db --providers p.json one.jsonl
expect "invalid output: the second on one candidate moves the job on" 3 "1 jobs dead"
stop_mock
check "invalid output: three requests, then dead ($(wc -l <mock.log))" \
  test "$(wc -l <mock.log)" -eq 3
