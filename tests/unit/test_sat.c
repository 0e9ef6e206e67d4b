/* test_sat.c — saturating int64 arithmetic: sums pinned at the ends
 * instead of wrapping, and doubles (huge, inf, nan, negative, halves)
 * converted without undefined behaviour. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/sat.h"

static void add_pins_at_the_ends(void **state)
{
	(void)state;
	assert_true(sat_add(1, 2) == 3);
	assert_true(sat_add(-5, 2) == -3);
	assert_true(sat_add(INT64_MAX - 1, 1) == INT64_MAX);
	assert_true(sat_add(INT64_MAX - 1, 2) == INT64_MAX);
	assert_true(sat_add(INT64_MAX, INT64_MAX) == INT64_MAX);
	assert_true(sat_add(INT64_MIN + 1, -1) == INT64_MIN);
	assert_true(sat_add(INT64_MIN, -1) == INT64_MIN);
	assert_true(sat_add(INT64_MIN, INT64_MAX) == -1);
	/* 1e15-token replies summed: the 126 of them, and more */
	{
		int64_t s = 0;

		for (int i = 0; i < 100000; i++)
			s = sat_add(s, (int64_t)1500000000000000000);
		assert_true(s == INT64_MAX);
	}
}

static void of_double_is_defined_everywhere(void **state)
{
	(void)state;
	assert_true(sat_of_double(0) == 0);
	assert_true(sat_of_double(-0.0) == 0);
	assert_true(sat_of_double(-1) == 0);
	assert_true(sat_of_double(-INFINITY) == 0);
	assert_true(sat_of_double(0.4) == 0);
	assert_true(sat_of_double(0.5) == 1);
	assert_true(sat_of_double(2.5e-9 * 1e9) == 3);
	assert_true(sat_of_double(1e18) == 1000000000000000000);
	assert_true(sat_of_double(0x1p62) == ((int64_t)1 << 62));
	/* the last double below 2^63 converts exactly; 2^63 and past pin */
	assert_true(sat_of_double(0x1.fffffffffffffp62) ==
		    (int64_t)0x7ffffffffffffc00);
	assert_true(sat_of_double(0x1p63) == INT64_MAX);
	assert_true(sat_of_double(1e300) == INT64_MAX);
	assert_true(sat_of_double(INFINITY) == INT64_MAX);
	/* unknown counts as the most: a cap stops on it */
	assert_true(sat_of_double(NAN) == INT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_pins_at_the_ends),
		cmocka_unit_test(of_double_is_defined_everywhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
