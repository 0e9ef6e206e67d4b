/* test_budget.c — the --max-cost reservations: what fits, what is
 * refused (and remembered for the message), release, a cap of zero, no
 * cap at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runner/sched/budget.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(holds_refuses_releases),
		cmocka_unit_test(zero_and_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
