/* test_policy.c — the retry/failover decision: every outcome class against
 * (attempts left / spent) x (candidate left / last), the backoff's full
 * jitter range and cap, Retry-After, and arithmetic at the extremes. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runner/providers/outcome.h"
#include "runner/policy.h"

#define NOW ((int64_t)1714564800000)

static const struct policy_cfg cfg = {
    .max_attempts = 5,
    .base_ms = 1000,
    .cap_ms = 60000,
    .quality_retries = 1,
    .max_wait_ms = 0,
};

/* What the rules say for each class, written out independently of the
 * implementation's switch. */
enum kind { K_DONE, K_RETRY, K_QUALITY, K_MOVE, K_MOVE_DISABLE, K_DEAD };

static const enum kind class_kind[OUTCOME__COUNT] = {
    [OUTCOME_OK] = K_DONE,
    [OUTCOME_RATE_LIMITED] = K_RETRY,
    [OUTCOME_OVERLOADED] = K_RETRY,
    [OUTCOME_SERVER_ERROR] = K_RETRY,
    [OUTCOME_TIMEOUT] = K_RETRY,
    [OUTCOME_CONNECTION] = K_RETRY,
    [OUTCOME_INVALID_OUTPUT] = K_QUALITY,
    [OUTCOME_CONTENT_FILTER] = K_MOVE,
    [OUTCOME_AUTH] = K_MOVE_DISABLE,
    [OUTCOME_BILLING] = K_MOVE_DISABLE,
    [OUTCOME_BAD_REQUEST] = K_DEAD,
    [OUTCOME_NOT_FOUND] = K_MOVE,
    [OUTCOME_CONTEXT_OVERFLOW] = K_MOVE,
    [OUTCOME_TOO_LARGE] = K_DEAD,
};

static struct outcome make_outcome(enum outcome_class c, int64_t ra)
{
	struct outcome o;

	outcome_init(&o);
	o.cls = c;
	o.retry_after_ms = ra;
	return o;
}

/* Every class x attempts {1 (left), 5 (spent)} x candidate {0 of 2
 * (one left), 1 of 2 (last)} x invalid_outputs {1, 2}. */
static void class_matrix(void **state)
{
	static const int attempts_set[] = {1, 4, 5, 9};
	int c;
	size_t ai;
	int cand, bad;

	(void)state;
	for (c = 0; c < OUTCOME__COUNT; c++)
		for (ai = 0; ai < 4; ai++)
			for (cand = 0; cand < 2; cand++)
				for (bad = 1; bad <= 2; bad++) {
					struct policy_job job = {
					    .attempts = attempts_set[ai],
					    .invalid_outputs = bad,
					    .candidate = cand,
					    .ncandidates = 2,
					    .now_ms = NOW,
					};
					struct outcome o = make_outcome(
					    (enum outcome_class)c, -1);
					struct policy_action a =
					    policy_next(&cfg, &job, &o, 7);
					int left = job.attempts < 5;
					int has_next = cand == 0;
					enum policy_verb want;
					int want_disable = 0;

					switch (class_kind[c]) {
					case K_DONE:
						want = POLICY_DONE;
						break;
					case K_QUALITY:
						left = left && bad <= 1;
						/* fall through */
					case K_RETRY:
						want = left ? POLICY_RETRY
						       : has_next
							   ? POLICY_FAILOVER
							   : POLICY_DEAD;
						break;
					case K_MOVE_DISABLE:
						want_disable = 1;
						/* fall through */
					case K_MOVE:
						want = has_next
							   ? POLICY_FAILOVER
							   : POLICY_DEAD;
						break;
					default:
						want = POLICY_DEAD;
						break;
					}
					if (a.verb != want ||
					    a.disable_provider != want_disable)
						fail_msg(
						    "%s attempts=%d cand=%d "
						    "bad=%d: got %s/%d "
						    "want %s/%d",
						    outcome_class_name(
							(enum outcome_class)c),
						    job.attempts, cand, bad,
						    policy_verb_name(a.verb),
						    a.disable_provider,
						    policy_verb_name(want),
						    want_disable);
					if (a.verb == POLICY_RETRY &&
					    (a.at_ms < NOW ||
					     a.at_ms > NOW + cfg.cap_ms))
						fail_msg(
						    "%s: retry at %+lld ms",
						    outcome_class_name(
							(enum outcome_class)c),
						    (long long)(a.at_ms - NOW));
					if (a.verb == POLICY_FAILOVER &&
					    a.at_ms != NOW)
						fail_msg(
						    "failover not at once");
				}
}

/* A few rows spelled out, as a reader would check them by hand. */
static void literal_rows(void **state)
{
	static const struct {
		enum outcome_class cls;
		int attempts, candidate, ncandidates;
		enum policy_verb want;
		int disable;
	} rows[] = {
	    {OUTCOME_OK, 1, 0, 1, POLICY_DONE, 0},
	    {OUTCOME_RATE_LIMITED, 1, 0, 1, POLICY_RETRY, 0},
	    {OUTCOME_RATE_LIMITED, 5, 0, 1, POLICY_DEAD, 0},
	    {OUTCOME_RATE_LIMITED, 5, 0, 3, POLICY_FAILOVER, 0},
	    {OUTCOME_RATE_LIMITED, 5, 2, 3, POLICY_DEAD, 0},
	    {OUTCOME_CONNECTION, 4, 0, 1, POLICY_RETRY, 0},
	    {OUTCOME_CONTENT_FILTER, 1, 0, 3, POLICY_FAILOVER, 0},
	    {OUTCOME_CONTENT_FILTER, 1, 0, 1, POLICY_DEAD, 0},
	    {OUTCOME_AUTH, 1, 1, 3, POLICY_FAILOVER, 1},
	    {OUTCOME_BILLING, 1, 0, 1, POLICY_DEAD, 1},
	    {OUTCOME_BAD_REQUEST, 1, 0, 3, POLICY_DEAD, 0},
	    {OUTCOME_TOO_LARGE, 1, 0, 3, POLICY_DEAD, 0},
	    {OUTCOME_CONTEXT_OVERFLOW, 1, 0, 2, POLICY_FAILOVER, 0},
	    {OUTCOME_NOT_FOUND, 1, 1, 2, POLICY_DEAD, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct policy_job job = {
		    .attempts = rows[i].attempts,
		    .candidate = rows[i].candidate,
		    .ncandidates = rows[i].ncandidates,
		    .now_ms = NOW,
		};
		struct outcome o = make_outcome(rows[i].cls, -1);
		struct policy_action a = policy_next(&cfg, &job, &o, 0);

		if (a.verb != rows[i].want ||
		    a.disable_provider != rows[i].disable)
			fail_msg("row %zu (%s): got %s", i,
				 outcome_class_name(rows[i].cls),
				 policy_verb_name(a.verb));
	}
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static int64_t expected_ceiling(int attempts)
{
	int64_t c = 1000;
	int i;

	for (i = 1; i < attempts && c < 60000; i++)
		c *= 2;
	return c > 60000 ? 60000 : c;
}

/* Full jitter: every draw in [0, ceiling], the ends reachable, the mean
 * near the middle, the ceiling doubling per attempt up to the cap. */
static void backoff_full_jitter(void **state)
{
	static const int64_t ceilings[] = {
	    1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000,
	};
	uint64_t s = 0x9e3779b97f4a7c15ull;
	int attempts;

	(void)state;
	for (attempts = 1; attempts <= 8; attempts++) {
		int64_t hi = ceilings[attempts - 1], lo_seen = INT64_MAX,
			hi_seen = -1;
		double sum = 0;
		int k;

		assert_int_equal(hi, expected_ceiling(attempts));
		assert_int_equal(policy_backoff_ms(&cfg, attempts, 0), 0);
		assert_int_equal(
		    policy_backoff_ms(&cfg, attempts, (uint64_t)hi), hi);
		assert_int_equal(
		    policy_backoff_ms(&cfg, attempts, (uint64_t)hi + 1), 0);
		for (k = 0; k < 20000; k++) {
			int64_t b =
			    policy_backoff_ms(&cfg, attempts, xorshift(&s));

			if (b < 0 || b > hi)
				fail_msg("attempts %d: %lld outside [0,%lld]",
					 attempts, (long long)b, (long long)hi);
			lo_seen = b < lo_seen ? b : lo_seen;
			hi_seen = b > hi_seen ? b : hi_seen;
			sum += (double)b;
		}
		/* 20000 uniform draws: extremes within 1%, mean within 3%. */
		assert_true(lo_seen <= hi / 100);
		assert_true(hi_seen >= hi - hi / 100);
		assert_true(sum / 20000 > hi * 0.47 && sum / 20000 < hi * 0.53);
	}
	assert_true(policy_backoff_ms(&cfg, 1, UINT64_MAX) <= 1000);
}

/* Huge attempt counts and extreme configs: no overflow, cap respected
 * (the sanitizer build turns any signed overflow into a failure). */
static void backoff_extremes(void **state)
{
	struct policy_cfg big = {.max_attempts = INT_MAX,
				 .base_ms = INT64_MAX / 2,
				 .cap_ms = INT64_MAX};
	struct policy_cfg inverted = {.base_ms = 5000, .cap_ms = 3000};
	struct policy_cfg zero = {.base_ms = 0, .cap_ms = 60000};
	struct policy_cfg negative = {.base_ms = -5, .cap_ms = -1};
	int attempts[] = {0, -3, 1, 2, 62, 63, 64, 65, 1000, INT_MAX};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		int a = attempts[i];

		assert_true(policy_backoff_ms(&cfg, a, UINT64_MAX) <= 60000);
		assert_true(policy_backoff_ms(&cfg, a, UINT64_MAX) >= 0);
		assert_true(policy_backoff_ms(&big, a, UINT64_MAX) >= 0);
		assert_true(policy_backoff_ms(&inverted, a, UINT64_MAX) <=
			    3000);
		assert_int_equal(policy_backoff_ms(&zero, a, 12345), 0);
		assert_int_equal(policy_backoff_ms(&negative, a, 12345), 0);
	}
	/* attempts <= 1 means the base ceiling. */
	assert_int_equal(policy_backoff_ms(&cfg, 0, 1000), 1000);
	assert_int_equal(policy_backoff_ms(&cfg, INT_MAX, 60000), 60000);
	assert_int_equal(policy_backoff_ms(&big, INT_MAX, INT64_MAX),
			 INT64_MAX);
	{
		/* A retry time that would pass INT64_MAX saturates. */
		struct policy_job job = {
		    .attempts = 3, .ncandidates = 1, .now_ms = INT64_MAX - 10};
		struct outcome o = make_outcome(OUTCOME_SERVER_ERROR, -1);
		struct policy_action a =
		    policy_next(&big, &job, &o, UINT64_MAX - 1);

		assert_int_equal(a.verb, POLICY_RETRY);
		assert_true(a.at_ms >= job.now_ms);
	}
}

/* The provider's Retry-After sets the retry time (plus a spread of up to
 * POLICY_SPREAD_MS), whatever the backoff would be: never before it,
 * and not 30 s after a Retry-After of 1 s because the attempts doubled
 * the backoff. */
static void retry_after_respected(void **state)
{
	uint64_t s = 42;
	int k;

	(void)state;
	for (k = 0; k < 2000; k++) {
		int64_t ra = NOW + (int64_t)(xorshift(&s) % 120000);
		struct policy_job job = {
		    .attempts = 1 + k % 4, .ncandidates = 1, .now_ms = NOW};
		struct outcome o = make_outcome(OUTCOME_RATE_LIMITED, ra);
		uint64_t rnd = xorshift(&s);
		struct policy_action a = policy_next(&cfg, &job, &o, rnd);
		assert_int_equal(a.verb, POLICY_RETRY);
		assert_true(a.at_ms >= ra);
		assert_true(a.at_ms <= ra + POLICY_SPREAD_MS);
	}
	{
		/* A Retry-After in the past does not pull the retry early. */
		struct policy_job job = {
		    .attempts = 2, .ncandidates = 1, .now_ms = NOW};
		struct outcome o = make_outcome(OUTCOME_OVERLOADED, NOW - 5000);
		struct policy_action a = policy_next(&cfg, &job, &o, 1500);

		assert_int_equal(a.at_ms, NOW + 1500);
	}
}

/* A 429 that said when does not use up the candidate's attempts: a
 * storm of them neither kills the job nor doubles its backoff. The job's
 * requests in all bound them, so a provider that refuses forever cannot
 * keep a job going forever. Without a time, a 429 is an attempt. */
static void refusals_with_a_time_are_not_attempts(void **state)
{
	struct policy_cfg c = cfg;
	struct outcome told = make_outcome(OUTCOME_RATE_LIMITED, NOW + 1000);
	struct outcome untold = make_outcome(OUTCOME_RATE_LIMITED, -1);
	struct outcome busy = make_outcome(OUTCOME_OVERLOADED, NOW + 1000);
	struct policy_job job = {.attempts = 5,
				 .requests = 12,
				 .candidate = 0,
				 .ncandidates = 1,
				 .now_ms = NOW};
	struct policy_action a;

	(void)state;
	c.max_requests = 20;
	assert_int_equal(policy_counts(&told), 0);
	assert_int_equal(policy_counts(&untold), 1);
	assert_int_equal(policy_counts(&busy), 1);
	a = policy_next(&c, &job, &told, 99);
	assert_int_equal(a.verb, POLICY_RETRY);
	assert_true(a.at_ms >= NOW + 1000);
	assert_int_equal(policy_next(&c, &job, &untold, 99).verb, POLICY_DEAD);
	assert_int_equal(policy_next(&c, &job, &busy, 99).verb, POLICY_DEAD);
	/* the bound on requests in all */
	job.attempts = 1;
	job.requests = 20;
	assert_int_equal(policy_next(&c, &job, &told, 99).verb, POLICY_DEAD);
	job.ncandidates = 2;
	assert_int_equal(policy_next(&c, &job, &told, 99).verb,
			 POLICY_FAILOVER);
	/* no bound given: none */
	c.max_requests = 0;
	job.requests = 1000;
	assert_int_equal(policy_next(&c, &job, &told, 99).verb, POLICY_RETRY);
}

static void max_wait_fails_over(void **state)
{
	struct policy_cfg c = cfg;
	struct policy_job job = {
	    .attempts = 1, .candidate = 0, .ncandidates = 2, .now_ms = NOW};
	struct outcome o =
	    make_outcome(OUTCOME_RATE_LIMITED, NOW + 2 * 3600 * 1000);
	struct policy_action a;

	(void)state;
	c.max_wait_ms = 10 * 60 * 1000;
	a = policy_next(&c, &job, &o, 0);
	assert_int_equal(a.verb, POLICY_FAILOVER);
	assert_int_equal(a.at_ms, NOW);
	/* On the last candidate it waits instead. */
	job.candidate = 1;
	a = policy_next(&c, &job, &o, 0);
	assert_int_equal(a.verb, POLICY_RETRY);
	assert_int_equal(a.at_ms, NOW + 2 * 3600 * 1000);
	/* A short pause is waited out even with a candidate left. */
	job.candidate = 0;
	o.retry_after_ms = NOW + 30000;
	a = policy_next(&c, &job, &o, 0);
	assert_int_equal(a.verb, POLICY_RETRY);
	assert_int_equal(a.at_ms, NOW + 30000);
	/* 0 disables the rule. */
	c.max_wait_ms = 0;
	o.retry_after_ms = NOW + 2 * 3600 * 1000;
	a = policy_next(&c, &job, &o, 0);
	assert_int_equal(a.verb, POLICY_RETRY);
}

static void odd_inputs(void **state)
{
	struct policy_cfg c = cfg;
	struct policy_job job = {
	    .attempts = 1, .ncandidates = 2, .now_ms = NOW};
	struct outcome o = make_outcome(OUTCOME_TIMEOUT, -1);
	struct policy_action a;

	(void)state;
	/* max_attempts below 1 means one attempt. */
	c.max_attempts = 0;
	a = policy_next(&c, &job, &o, 0);
	assert_int_equal(a.verb, POLICY_FAILOVER);
	/* invalid_outputs left at 0 counts this outcome. */
	o.cls = OUTCOME_INVALID_OUTPUT;
	job.invalid_outputs = 0;
	a = policy_next(&cfg, &job, &o, 0);
	assert_int_equal(a.verb, POLICY_RETRY);
	/* quality_retries 0: no second try on the same candidate. */
	c = cfg;
	c.quality_retries = 0;
	a = policy_next(&c, &job, &o, 0);
	assert_int_equal(a.verb, POLICY_FAILOVER);
	/* An out-of-range class is not retried forever. */
	o.cls = OUTCOME__COUNT;
	a = policy_next(&cfg, &job, &o, 0);
	assert_int_equal(a.verb, POLICY_DEAD);
	assert_string_equal(policy_verb_name(POLICY_FAILOVER), "failover");
	assert_string_equal(policy_verb_name((enum policy_verb)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(class_matrix),
	    cmocka_unit_test(literal_rows),
	    cmocka_unit_test(backoff_full_jitter),
	    cmocka_unit_test(backoff_extremes),
	    cmocka_unit_test(retry_after_respected),
	    cmocka_unit_test(refusals_with_a_time_are_not_attempts),
	    cmocka_unit_test(max_wait_fails_over),
	    cmocka_unit_test(odd_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
