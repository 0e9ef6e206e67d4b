# money.sh — money arithmetic that must not break: --max-cost refuses what
# it cannot hold (inf, nan, past $1e9) with a usage error naming the value;
# a reply without usable usage costs its worst case, never $0, so a cap
# stops the run and the spend grows across reruns; a reply claiming 1e15
# tokens is recorded as reported, flagged suspect, and stops a capped run
# with a spend that is never negative or wrapped; the report says which.
. "$(dirname "$0")/lib.sh"
export MOCK_KEY_ENV=sk-test-money-0123456789

# --- --max-cost: what cannot be a cap is a usage error, before anything
for v in 1e10 inf -inf INF infinity nan NAN 1e300 -1 -0.5 1000000001 abc 5usd ""; do
  run run --db none.db --max-cost "$v"
  expect "--max-cost \"$v\": usage error naming it" 2 \
    "nightshift run: --max-cost: \"$v\" is not an amount in USD from 0 to 1000000000"
done
check "--max-cost refusals: no database made" test ! -e none.db
run run --help
expect "--help says the bound" 0 "--max-cost USD     spend cap, 0 to 1000000000"

# the bound itself and zero are caps (they get as far as the database)
for v in 1e9 1000000000 0 0.0005; do
  run run --db none.db --max-cost "$v"
  expect "--max-cost $v: taken" 2 "none.db: no such database"
done

start_mock --fault nousage=1
providers_file p.json
# Job numbers of one width (1000..1039), so every job has the same worst
# case whichever reach the provider first: two workers admit in no fixed
# order (with job-1..job-40, a job-10 of 9 tokens could beat job-6 of 8).
i=1000; while [ $i -le 1039 ]; do line $i; i=$((i + 1)); done >jobs.jsonl

# --- replies without usage cost their worst case: the cap stops the run.
# Each job's worst case is (9 in x $0.50 + 50 out x $1.50) / 1e6 =
# $0.0000795: six fit in $0.0005.
run run --db n.db --providers p.json --max-cost 0.0005 jobs.jsonl
expect "no usage: the cap stops the run (exit 4)" 4 "--max-cost reached" "spent in all of \$0.000500"
sent=$(q n.db 'SELECT count(*) FROM attempts')
check "no usage: a bounded number of requests ($sent)" test "$sent" -ge 1 -a "$sent" -le 6
check "no usage: every request the mock served is in the ledger" test "$(grep -c . mock.log)" = "$sent"
check "no usage: each costs its worst case, never \$0" \
  test "$(q n.db "SELECT count(*) FROM attempts WHERE cost_basis = 'estimated' AND abs(cost_usd - 0.0000795) < 1e-12")" = "$sent"
check "no usage: the spend is non-zero and within the cap" \
  test "$(q n.db 'SELECT total(cost_usd) > 0 AND total(cost_usd) <= 0.0005 FROM attempts')" = 1
check "no usage: the message says the spend" grep -q "reached: \$0.000[1-9][0-9]* spent in all" "$T/err"
first=$(q n.db 'SELECT total(cost_usd) FROM attempts')
# reruns with the same cap: the database's spend is kept, nothing more fits
for i in 1 2 3; do
  run run --db n.db --providers p.json --max-cost 0.0005
  expect "no usage: rerun $i stops at the cap again" 4 "0 requests" "reached: \$0.000477 spent in all of \$0.000500"
done
check "no usage: reruns send nothing past the cap" test "$(q n.db 'SELECT count(*) FROM attempts')" = "$sent"
# this run's own cap: the spend grows, never back to 0
run run --db n.db --providers p.json --max-cost 0.0005 --max-cost-run
expect "no usage: --max-cost-run stops at its cap" 4 "spent this run of \$0.000500"
check "no usage: the database's spend grows" \
  test "$(q n.db "SELECT total(cost_usd) > $first FROM attempts")" = 1
run report --db n.db
expect "no usage: report counts them as estimated" 0 "cost not as reported: 12 estimated (\$0.0009"
run report --db n.db --json
expect "no usage: report --json too" 0 '"estimated_requests":12,"estimated_cost_usd":0.0009'
run status --db n.db
expect "no usage: status shows the spend" 0 "spend     \$0.0009"
stop_mock; rm -f mock.log

# --- negative usage: the same, estimated
start_mock --fault negusage=1
providers_file p.json
run run --db g.db --providers p.json --max-cost 0.0005 jobs.jsonl
expect "negative usage: the cap stops the run" 4 "--max-cost reached"
check "negative usage: estimated, never \$0 or less" \
  test "$(q g.db "SELECT count(*) = sum(cost_basis = 'estimated' AND cost_usd > 0) FROM attempts")" = 1
stop_mock; rm -f mock.log

# --- 1e15 tokens a reply: recorded as reported, suspect, and the figures
# saturate instead of wrapping (the issue saw "$-1314184810.805068 spent").
# A reply costs 1e15 x $0.50/M + 1e15 x $1.50/M = $2e9.
start_mock --fault hugeusage=1 --latency 100
providers_file p.json
run run --db h.db --providers p.json --max-cost 1000000000 --max-inflight 8 jobs.jsonl
expect "1e15 tokens: the cap stops the run" 4 "--max-cost reached"
check "1e15 tokens: within one in-flight window" test "$(q h.db 'SELECT count(*) BETWEEN 1 AND 9 FROM attempts')" = 1
check "1e15 tokens: the spend printed is not negative" grep -q "reached: \$[1-9][0-9]*\.[0-9]* spent in all of \$1000000000.000000" "$T/err"
# past $9.2e9 the budget's own figure is pinned; the message says the
# ledger's
printed=$(sed -n 's/.*reached: \$\([0-9.]*\) spent.*/\1/p' "$T/err")
check "1e15 tokens: the spend printed is the ledger's ($printed)" \
  test "$printed" = "$(q h.db "SELECT printf('%.6f', total(cost_usd)) FROM attempts")"
check "1e15 tokens: nothing printed wraps" sh -c "! grep -q '\$-' '$T/err'"
check "1e15 tokens: recorded as reported, flagged suspect" \
  test "$(q h.db "SELECT count(*) = sum(cost_basis = 'suspect' AND tokens_in = 1000000000000000 AND tokens_out = 1000000000000000 AND cost_usd = 2e9) FROM attempts")" = 1
run report --db h.db
expect "1e15 tokens: report counts them as suspect" 0 "suspect (\$"
check "1e15 tokens: report prints no negative figure" sh -c "! grep -q -- '-[0-9]' '$T/out'"
run status --db h.db
expect "1e15 tokens: status reads" 0 "tokens"
# a tiny cap: the same reply stops it, and says so with a sane figure
run run --db h2.db --providers p.json --max-cost 0.0005 --max-inflight 1 jobs.jsonl
expect "1e15 tokens, tiny cap: stops" 4 "reached: \$2000000000.000000 spent in all of \$0.000500"
check "1e15 tokens, tiny cap: one request" test "$(q h2.db 'SELECT count(*) FROM attempts')" = 1
stop_mock
