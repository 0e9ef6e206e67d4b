/* test_breaker.c — the circuit breaker's transitions as a pure function of
 * (events, time): trips on a run of failures and on a failure ratio,
 * denies during the cooldown, lets one probe through half-open, closes on
 * a good probe, re-opens with a doubled (capped) cooldown on a bad one,
 * and which outcome classes count as failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runner/providers/outcome.h"
#include "runner/sched/breaker.h"

#define T0 ((int64_t)1714564800000)

enum op {
	END,
	ALLOW,	 /* breaker_allow, expect verdict */
	OK,	 /* breaker_record(1) */
	FAIL,	 /* breaker_record(0) */
	RELEASE, /* breaker_release */
	FAILS,	 /* n x breaker_record(0) */
	OKS,	 /* n x breaker_record(1) */
};

/* One step: at T0 + at, do op (n times for FAILS/OKS), then the state
 * must be `state`; for ALLOW the verdict must be `verdict`. */
struct step {
	enum op op;
	int64_t at;
	int n;
	enum breaker_verdict verdict;
	enum breaker_state state;
};

struct scenario {
	const char *name;
	struct step steps[24];
	long long trips; /* at the end */
};

#define C BREAKER_CLOSED
#define O BREAKER_OPEN
#define H BREAKER_HALF_OPEN

static const struct scenario scenarios[] = {
    {"four failures in a row do not trip, the fifth does",
     {{FAILS, 0, 4, 0, C},
      {ALLOW, 1, 0, BREAKER_ALLOW, C},
      {FAIL, 2, 0, 0, O},
      {ALLOW, 3, 0, BREAKER_DENY, O},
      {END, 0, 0, 0, 0}},
     1},
    {"a success breaks the run",
     {{FAILS, 0, 4, 0, C},
      {OK, 1, 0, 0, C},
      {FAILS, 2, 4, 0, C},
      {ALLOW, 3, 0, BREAKER_ALLOW, C},
      {END, 0, 0, 0, 0}},
     0},
    {"cooldown: denied until it ends, then exactly one probe",
     {{FAILS, 0, 5, 0, O},
      {ALLOW, 4999, 0, BREAKER_DENY, O},
      {ALLOW, 5000, 0, BREAKER_PROBE, H},
      {ALLOW, 5001, 0, BREAKER_DENY, H},
      {ALLOW, 9000, 0, BREAKER_DENY, H},
      {END, 0, 0, 0, 0}},
     1},
    {"a good probe closes it and the cooldown returns to its base",
     {{FAILS, 0, 5, 0, O},
      {ALLOW, 5000, 0, BREAKER_PROBE, H},
      {FAIL, 5100, 0, 0, O}, /* cooldown now 10 s */
      {ALLOW, 15099, 0, BREAKER_DENY, O},
      {ALLOW, 15100, 0, BREAKER_PROBE, H},
      {OK, 15200, 0, 0, C},
      {ALLOW, 15201, 0, BREAKER_ALLOW, C},
      {FAILS, 16000, 4, 0, C}, /* counts were cleared on closing */
      {FAIL, 16000, 0, 0, O},
      {ALLOW, 20999, 0, BREAKER_DENY, O},
      {ALLOW, 21000, 0, BREAKER_PROBE, H}, /* 5 s again */
      {END, 0, 0, 0, 0}},
     3},
    {"a bad probe re-opens with the cooldown doubled",
     {{FAILS, 0, 5, 0, O},
      {ALLOW, 5000, 0, BREAKER_PROBE, H},
      {FAIL, 5000, 0, 0, O},
      {ALLOW, 14999, 0, BREAKER_DENY, O},
      {ALLOW, 15000, 0, BREAKER_PROBE, H},
      {FAIL, 15000, 0, 0, O},
      {ALLOW, 34999, 0, BREAKER_DENY, O},
      {ALLOW, 35000, 0, BREAKER_PROBE, H},
      {FAIL, 35000, 0, 0, O},
      {ALLOW, 74999, 0, BREAKER_DENY, O},
      {ALLOW, 75000, 0, BREAKER_PROBE, H},
      {END, 0, 0, 0, 0}},
     4},
    {"ratio: half the window failing trips it without a run of five",
     /* ok,fail x5: after 10 samples 5 failures = 50% */
     {{OK, 0, 0, 0, C},
      {FAIL, 1, 0, 0, C},
      {OK, 2, 0, 0, C},
      {FAIL, 3, 0, 0, C},
      {OK, 4, 0, 0, C},
      {FAIL, 5, 0, 0, C},
      {OK, 6, 0, 0, C},
      {FAIL, 7, 0, 0, C},
      {OK, 8, 0, 0, C},
      {FAIL, 9, 0, 0, O},
      {END, 0, 0, 0, 0}},
     1},
    {"ratio needs half a window of samples",
     /* 4 failures of 6 (67%) is too few samples to judge; 5 of 10 trips */
     {{FAIL, 0, 0, 0, C},
      {OK, 1, 0, 0, C},
      {FAIL, 2, 0, 0, C},
      {OK, 3, 0, 0, C},
      {FAILS, 4, 2, 0, C},
      {OKS, 5, 3, 0, C},  /* 4 of 9 */
      {FAIL, 6, 0, 0, O}, /* 5 of 10 */
      {END, 0, 0, 0, 0}},
     1},
    {"a success never trips it, even completing a bad window",
     {{FAILS, 0, 4, 0, C},
      {OK, 1, 0, 0, C},
      {FAILS, 2, 4, 0, C}, /* 8 of 9 */
      {OK, 3, 0, 0, C},	   /* 8 of 10 */
      {FAIL, 4, 0, 0, O},  /* 9 of 11 */
      {END, 0, 0, 0, 0}},
     1},
    {"old failures slide out of the window",
     {{FAILS, 0, 4, 0, C},
      {OKS, 1, 16, 0, C},  /* window: 4 fail, 16 ok */
      {FAILS, 2, 4, 0, C}, /* window: 4 fails fell out, 4 new: 4/20 */
      {ALLOW, 3, 0, BREAKER_ALLOW, C},
      {END, 0, 0, 0, 0}},
     0},
    {"a released probe lets the next caller probe",
     {{FAILS, 0, 5, 0, O},
      {ALLOW, 5000, 0, BREAKER_PROBE, H},
      {RELEASE, 5001, 0, 0, H},
      {ALLOW, 5002, 0, BREAKER_PROBE, H},
      {ALLOW, 5003, 0, BREAKER_DENY, H},
      {END, 0, 0, 0, 0}},
     1},
    {"a probe never heard from is presumed lost",
     {{FAILS, 0, 5, 0, O},
      {ALLOW, 5000, 0, BREAKER_PROBE, H},
      {ALLOW, 5000 + BREAKER_PROBE_TIMEOUT_MS - 1, 0, BREAKER_DENY, H},
      {ALLOW, 5000 + BREAKER_PROBE_TIMEOUT_MS, 0, BREAKER_PROBE, H},
      {END, 0, 0, 0, 0}},
     1},
    {"late replies while open change nothing",
     {{FAILS, 0, 5, 0, O},
      {OKS, 10, 3, 0, O},
      {FAILS, 20, 3, 0, O},
      {ALLOW, 4999, 0, BREAKER_DENY, O},
      {ALLOW, 5000, 0, BREAKER_PROBE, H},
      {END, 0, 0, 0, 0}},
     1},
    {"release outside half-open does nothing",
     {{RELEASE, 0, 0, 0, C},
      {FAILS, 1, 5, 0, O},
      {RELEASE, 2, 0, 0, O},
      {ALLOW, 3, 0, BREAKER_DENY, O},
      {END, 0, 0, 0, 0}},
     1},
};

static void run_scenario(const struct scenario *sc)
{
	struct breaker b;

	breaker_init(&b, NULL);
	for (size_t i = 0; sc->steps[i].op != END; i++) {
		const struct step *st = &sc->steps[i];
		int64_t now = T0 + st->at;

		switch (st->op) {
		case ALLOW:
			if (breaker_allow(&b, now) != st->verdict)
				fail_msg("%s: step %zu: verdict", sc->name, i);
			break;
		case OK:
			breaker_record(&b, 1, now);
			break;
		case FAIL:
			breaker_record(&b, 0, now);
			break;
		case FAILS:
		case OKS:
			for (int k = 0; k < st->n; k++)
				breaker_record(&b, st->op == OKS, now);
			break;
		case RELEASE:
			breaker_release(&b);
			break;
		case END:
			break;
		}
		if (b.state != st->state)
			fail_msg("%s: step %zu: state %s, wanted %s", sc->name,
				 i, breaker_state_name(b.state),
				 breaker_state_name(st->state));
	}
	if (b.trips != sc->trips)
		fail_msg("%s: trips %lld, wanted %lld", sc->name, b.trips,
			 sc->trips);
}

static void transitions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run_scenario(&scenarios[i]);
}

/* The doubled cooldown stops at the cap. */
static void cooldown_capped(void **state)
{
	struct breaker b;
	int64_t now = T0, want = BREAKER_COOLDOWN_MS;

	(void)state;
	breaker_init(&b, NULL);
	for (int k = 0; k < BREAKER_CONSECUTIVE; k++)
		breaker_record(&b, 0, now);
	for (int round = 0; round < 12; round++) {
		assert_int_equal(b.state, BREAKER_OPEN);
		assert_int_equal(b.open_until - now, want);
		assert_int_equal(breaker_retry_at(&b, now), b.open_until);
		now = b.open_until;
		assert_int_equal(breaker_allow(&b, now), BREAKER_PROBE);
		breaker_record(&b, 0, now);
		want *= 2;
		if (want > BREAKER_COOLDOWN_MAX_MS)
			want = BREAKER_COOLDOWN_MAX_MS;
	}
	assert_int_equal(want, BREAKER_COOLDOWN_MAX_MS);
	assert_int_equal(b.trips, 13);
}

/* A custom configuration is honoured, and nonsense in it is clamped. */
static void custom_cfg(void **state)
{
	struct breaker b;
	struct breaker_cfg c = {.consecutive = 2,
				.window = 4,
				.ratio_pct = 75,
				.min_samples = 4,
				.cooldown_ms = 100,
				.cooldown_max_ms = 150,
				.probe_timeout_ms = 50};

	(void)state;
	breaker_init(&b, &c);
	breaker_record(&b, 0, T0);
	assert_int_equal(b.state, BREAKER_CLOSED);
	breaker_record(&b, 0, T0);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(b.open_until, T0 + 100);
	assert_int_equal(breaker_allow(&b, T0 + 100), BREAKER_PROBE);
	breaker_record(&b, 0, T0 + 100);
	assert_int_equal(b.open_until, T0 + 100 + 150); /* 200 capped */

	c = (struct breaker_cfg){.consecutive = 0,
				 .window = 1000,
				 .ratio_pct = 500,
				 .min_samples = 5000,
				 .cooldown_ms = -5,
				 .cooldown_max_ms = -9,
				 .probe_timeout_ms = 0};
	breaker_init(&b, &c);
	assert_int_equal(b.cfg.consecutive, 1);
	assert_int_equal(b.cfg.window, BREAKER_WINDOW_MAX);
	assert_int_equal(b.cfg.ratio_pct, 100);
	assert_int_equal(b.cfg.min_samples, BREAKER_WINDOW_MAX);
	assert_true(b.cfg.cooldown_ms >= 1);
	assert_true(b.cfg.cooldown_max_ms >= b.cfg.cooldown_ms);
	breaker_record(&b, 0, T0);
	assert_int_equal(b.state, BREAKER_OPEN);
}

/* Which classes count as failures, written out from the brief. */
static void kinds(void **state)
{
	static const enum breaker_kind want[OUTCOME__COUNT] = {
	    [OUTCOME_OK] = BREAKER_SUCCESS,
	    [OUTCOME_RATE_LIMITED] = BREAKER_NEUTRAL,
	    [OUTCOME_OVERLOADED] = BREAKER_FAILURE,
	    [OUTCOME_SERVER_ERROR] = BREAKER_FAILURE,
	    [OUTCOME_TIMEOUT] = BREAKER_FAILURE,
	    [OUTCOME_CONNECTION] = BREAKER_FAILURE,
	    [OUTCOME_INVALID_OUTPUT] = BREAKER_SUCCESS,
	    [OUTCOME_CONTENT_FILTER] = BREAKER_SUCCESS,
	    [OUTCOME_AUTH] = BREAKER_NEUTRAL,
	    [OUTCOME_BILLING] = BREAKER_NEUTRAL,
	    [OUTCOME_BAD_REQUEST] = BREAKER_SUCCESS,
	    [OUTCOME_NOT_FOUND] = BREAKER_SUCCESS,
	    [OUTCOME_CONTEXT_OVERFLOW] = BREAKER_SUCCESS,
	    [OUTCOME_TOO_LARGE] = BREAKER_SUCCESS,
	};

	(void)state;
	for (int c = 0; c < OUTCOME__COUNT; c++)
		if (breaker_kind_of((enum outcome_class)c) != want[c])
			fail_msg("class %s", outcome_class_name(c));
	assert_int_equal(breaker_kind_of((enum outcome_class)99),
			 BREAKER_NEUTRAL);
	assert_string_equal(breaker_state_name(BREAKER_HALF_OPEN), "half_open");
	assert_string_equal(breaker_state_name((enum breaker_state)9),
			    "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(transitions),
	    cmocka_unit_test(cooldown_capped),
	    cmocka_unit_test(custom_cfg),
	    cmocka_unit_test(kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
