/* test_budget.c — the --max-cost reservations: what fits, what is
 * refused (and remembered for the message), release, a cap of zero, no
 * cap at all; amounts that would wrap an int64 (inf, nan, 1e300, a cap
 * above the bound) saturate instead; threads racing for the cap never
 * hold past it. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runner/sched/budget.h"

/* The most the budget can count: INT64_MAX nano-dollars. */
#define MOST_USD ((double)INT64_MAX / 1e9)

static void holds_refuses_releases(void **state)
{
	struct budget b;
	long long h1, h2, h3;

	(void)state;
	budget_init(&b, 1.0, 0.25);
	assert_int_equal(budget_reserve(&b, 0.5, &h1), 0);
	assert_true(h1 > 0);
	/* 0.25 spent + 0.5 held: another 0.5 does not fit */
	assert_int_equal(budget_reserve(&b, 0.5, &h2), -1);
	assert_int_equal(h2, 0);
	assert_true(atomic_load(&b.hit));
	assert_true(budget_refused_usd(&b) > 0.4999 &&
		    budget_refused_usd(&b) < 0.5001);
	/* the first refusal is the one the message names */
	assert_int_equal(budget_reserve(&b, 0.9, &h3), -1);
	assert_true(budget_refused_usd(&b) < 0.5001);
	budget_release(&b, &h1);
	assert_int_equal(h1, 0);
	budget_spend(&b, 0.3);
	assert_true(budget_spent_usd(&b) > 0.5499 &&
		    budget_spent_usd(&b) < 0.5501);
	assert_int_equal(budget_reserve(&b, 0.4, &h2), 0);
	budget_release(&b, &h2);
	assert_int_equal(atomic_load(&b.reserved_nusd), 0);
}

static void zero_and_none(void **state)
{
	struct budget b;
	long long h;

	(void)state;
	budget_init(&b, 0, 0); /* a cap of zero is a cap */
	assert_int_equal(budget_reserve(&b, 0.000001, &h), -1);
	budget_init(&b, -1, 5.0); /* no cap: nothing is held */
	assert_int_equal(budget_reserve(&b, 1e6, &h), 0);
	assert_int_equal(h, 0);
	assert_false(atomic_load(&b.hit));
	budget_spend(&b, 1.0);
	assert_true(budget_spent_usd(&b) > 5.999);
}

/* What the issue saw: a cost of 1e15 tokens' worth, spent again and
 * again, wrapped the spend negative ("$-1314184810.805068 spent"). */
static void spend_saturates_never_wraps(void **state)
{
	static const double huge[] = {1.5e9, 1e300, INFINITY, NAN};
	struct budget b;

	(void)state;
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		budget_init(&b, 9e8, 0);
		for (int k = 0; k < 10; k++) {
			budget_spend(&b, huge[i]);
			assert_true(budget_spent_usd(&b) >= 1.5e9);
		}
		assert_true(budget_spent_usd(&b) <= MOST_USD);
		assert_true(atomic_load(&b.spent_nusd) > 0);
	}
	/* pinned, it stays pinned: nothing wraps past it */
	assert_int_equal(atomic_load(&b.spent_nusd), INT64_MAX);
	budget_spend(&b, 1.0);
	assert_int_equal(atomic_load(&b.spent_nusd), INT64_MAX);
	/* a negative cost buys no refund */
	budget_init(&b, 1.0, 0.5);
	budget_spend(&b, -0.25);
	budget_spend(&b, -INFINITY);
	assert_true(budget_spent_usd(&b) > 0.4999 &&
		    budget_spent_usd(&b) < 0.5001);
}

/* A worst case too big for any cap is refused, and the figure kept for
 * the message is the saturated one, never negative; nothing stays held. */
static void huge_reservations_are_refused_whole(void **state)
{
	static const double huge[] = {2e9, 1e300, INFINITY, NAN};
	struct budget b;
	long long h;

	(void)state;
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		budget_init(&b, 1e9, 0);
		assert_int_equal(budget_reserve(&b, huge[i], &h), -1);
		assert_int_equal(h, 0);
		assert_int_equal(atomic_load(&b.reserved_nusd), 0);
		assert_true(budget_refused_usd(&b) >= 1e9);
		assert_true(budget_refused_usd(&b) <= MOST_USD);
		/* the cap still takes what fits */
		assert_int_equal(budget_reserve(&b, 0.5e9, &h), 0);
		budget_release(&b, &h);
	}
	/* holds add up to the cap and no further */
	budget_init(&b, 1e9, 0);
	for (int k = 0; k < 9; k++)
		assert_int_equal(budget_reserve(&b, 1e8, &h), 0);
	assert_int_equal(budget_reserve(&b, 2e8, &h), -1);
	assert_true(atomic_load(&b.reserved_nusd) <= b.cap_nusd);
}

/* A cap past the bound (cmd_run refuses it; the budget does not trust
 * that) is the bound, and a spend read from a ledger of absurd costs
 * saturates: nothing more is sent. */
static void cap_and_start_are_bounded(void **state)
{
	struct budget b;
	long long h;

	(void)state;
	budget_init(&b, 1e300, 0);
	assert_true(b.cap_nusd > 0);
	assert_true((double)b.cap_nusd <= BUDGET_MAX_USD * 1e9 + 1);
	budget_init(&b, INFINITY, 0);
	assert_true((double)b.cap_nusd <= BUDGET_MAX_USD * 1e9 + 1);
	budget_init(&b, BUDGET_MAX_USD, 1e300);
	assert_int_equal(atomic_load(&b.spent_nusd), INT64_MAX);
	assert_int_equal(budget_reserve(&b, 1e-6, &h), -1);
	budget_init(&b, BUDGET_MAX_USD, NAN);
	assert_int_equal(budget_reserve(&b, 1e-6, &h), -1);
}

/* Threads reserving, spending and releasing at once: what is held never
 * passes the cap, and all of it comes back. */
struct racer {
	struct budget *b;
	int over; /* held past the cap, seen */
};

static void *race(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < 20000; i++) {
		long long h;

		if (budget_reserve(r->b, 0.3, &h) != 0)
			continue;
		if (atomic_load(&r->b->reserved_nusd) > r->b->cap_nusd)
			r->over = 1;
		budget_spend(r->b, 1e-9);
		budget_release(r->b, &h);
	}
	return NULL;
}

static void racing_holds_stay_within_the_cap(void **state)
{
	struct budget b;
	struct racer r[4];
	pthread_t th[4];

	(void)state;
	budget_init(&b, 1.0, 0);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){.b = &b};
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_false(r[i].over);
	}
	assert_int_equal(atomic_load(&b.reserved_nusd), 0);
	assert_true(atomic_load(&b.spent_nusd) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(holds_refuses_releases),
		cmocka_unit_test(zero_and_none),
		cmocka_unit_test(spend_saturates_never_wraps),
		cmocka_unit_test(huge_reservations_are_refused_whole),
		cmocka_unit_test(cap_and_start_are_bounded),
		cmocka_unit_test(racing_holds_stay_within_the_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
