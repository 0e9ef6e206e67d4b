/* test_bucket.c — token bucket arithmetic: refill and the wait it asks
 * for, the burst cap, oversized requests (let through when full, leaving
 * a debt), refunds, clipping, a clock that steps back, and the long-run
 * rate over a minute of fractional refill. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runner/sched/bucket.h"

#define T0 ((int64_t)1714564800000)

enum op { END, TAKE, REFUND, CLIP, LEVEL };

/* At T0 + at: TAKE n expects `want` (0 = taken, else the wait);
 * REFUND/CLIP n; LEVEL expects the level to be n (within 1e-6). */
struct step {
	enum op op;
	int64_t at;
	double n;
	int64_t want;
};

struct scenario {
	const char *name;
	double cap, rate, initial;
	struct step steps[16];
};

static const struct scenario scenarios[] = {
    {"600 rpm from one token: one now, the next 100 ms later",
     1,
     0.01,
     1,
     {{TAKE, 0, 1, 0},
      {TAKE, 0, 1, 100},
      {TAKE, 40, 1, 60},
      {TAKE, 99, 1, 1},
      {TAKE, 100, 1, 0},
      {TAKE, 100, 1, 100},
      {END, 0, 0, 0}}},
    {"the wait is rounded up, never down",
     1,
     1.0 / 3, /* a token every 3 ms */
     0,
     {{TAKE, 0, 1, 3}, {TAKE, 2, 1, 1}, {TAKE, 3, 1, 0}, {END, 0, 0, 0}}},
    {"a quiet spell earns at most the burst",
     10,
     0.01,
     0,
     {{LEVEL, 0, 0, 0},
      {LEVEL, 500, 5, 0},
      {LEVEL, 60000, 10, 0},
      {TAKE, 60000, 4, 0},
      {TAKE, 60000, 6, 0},
      {TAKE, 60000, 1, 100},
      {END, 0, 0, 0}}},
    {"a request bigger than the burst goes when the bucket is full",
     100,
     1,
     0,
     {{TAKE, 0, 250, 100}, /* waits for full, not for 250 */
      {TAKE, 99, 250, 1},
      {TAKE, 100, 250, 0},
      {LEVEL, 100, -150, 0}, /* the debt */
      {TAKE, 100, 1, 151},
      {TAKE, 251, 1, 0},
      {END, 0, 0, 0}}},
    {"refund gives back, up to the cap",
     5,
     0.001,
     5,
     {{TAKE, 0, 3, 0},
      {LEVEL, 0, 2, 0},
      {REFUND, 0, 1, 0},
      {LEVEL, 0, 3, 0},
      {REFUND, 0, 100, 0},
      {LEVEL, 0, 5, 0},
      {REFUND, 0, -4, 0}, /* nothing */
      {LEVEL, 0, 5, 0},
      {END, 0, 0, 0}}},
    {"clip drops saved tokens, keeps a debt",
     10,
     0.01,
     10,
     {{CLIP, 0, 1, 0},
      {LEVEL, 0, 1, 0},
      {TAKE, 0, 1, 0},
      {TAKE, 0, 1, 100},
      {TAKE, 0, 20, 1000}, /* oversized: wait until full */
      {TAKE, 1000, 20, 0},
      {CLIP, 1000, 1, 0},
      {LEVEL, 1000, -10, 0},
      {END, 0, 0, 0}}},
    {"a clock stepping back stands still; it does not owe the step",
     1,
     0.01,
     0,
     {{TAKE, 1000, 1, 0},
      {TAKE, 50, 1, 100}, /* stepped back: no refill, no extra wait */
      {TAKE, 1050, 1, 50},
      {TAKE, 1100, 1, 0},
      {END, 0, 0, 0}}},
    {"nothing to take always goes",
     1,
     0.01,
     0,
     {{TAKE, 0, 0, 0}, {TAKE, 0, -3, 0}, {LEVEL, 0, 0, 0}, {END, 0, 0, 0}}},
    {"a bucket that never refills",
     3,
     0,
     2,
     {{TAKE, 0, 2, 0},
      {TAKE, 99999, 1, BUCKET_NEVER_MS},
      {REFUND, 99999, 1, 0},
      {TAKE, 99999, 1, 0},
      {END, 0, 0, 0}}},
    {"initial level is clamped to the cap",
     2,
     0.5,
     50,
     {{LEVEL, 0, 2, 0}, {END, 0, 0, 0}}},
};

static void run_scenario(const struct scenario *sc)
{
	struct bucket b;

	bucket_init(&b, sc->cap, sc->rate, sc->initial, T0);
	for (size_t i = 0; sc->steps[i].op != END; i++) {
		const struct step *st = &sc->steps[i];
		int64_t now = T0 + st->at, got;
		double l;

		switch (st->op) {
		case TAKE:
			got = bucket_take(&b, st->n, now);
			if (got != st->want)
				fail_msg("%s: step %zu: take %g -> %lld, "
					 "wanted %lld",
					 sc->name, i, st->n, (long long)got,
					 (long long)st->want);
			break;
		case REFUND:
			bucket_refund(&b, st->n, now);
			break;
		case CLIP:
			bucket_clip(&b, st->n, now);
			break;
		case LEVEL:
			l = bucket_level(&b, now);
			if (l < st->n - 1e-6 || l > st->n + 1e-6)
				fail_msg("%s: step %zu: level %g, wanted %g",
					 sc->name, i, l, st->n);
			break;
		case END:
			break;
		}
	}
}

static void table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run_scenario(&scenarios[i]);
}

/* Taking whenever allowed for ten minutes, at rates that are not whole
 * per ms, gets the rate to within one burst, and waiting exactly what
 * the bucket asked for always succeeds. */
static void long_run_rate(void **state)
{
	static const double per_min[] = {1, 7, 60, 119, 600, 1234, 90000};

	(void)state;
	for (size_t k = 0; k < sizeof(per_min) / sizeof(per_min[0]); k++) {
		double rate = per_min[k] / 60000, cap = per_min[k] / 60;
		const int64_t span = 600000;
		int64_t now = T0, end = T0 + span, w;
		long long taken = 0;
		struct bucket b;

		if (cap < 1)
			cap = 1;
		bucket_init(&b, cap, rate, 1, T0);
		while (now <= end) {
			w = bucket_take(&b, 1, now);
			if (w == 0) {
				taken++;
				continue;
			}
			assert_true(w >= 1);
			now += w;
			if (now <= end)
				assert_int_equal(bucket_take(&b, 1, now), 0);
			if (now <= end)
				taken++;
		}
		/* 1 at the start, then rate x span, minus what rounding up
		 * the waits costs (< 1 ms per request). */
		assert_true(taken <= 1 + rate * span + 1e-6);
		assert_true(taken >= rate * span * 0.99 - 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(table),
	    cmocka_unit_test(long_run_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
