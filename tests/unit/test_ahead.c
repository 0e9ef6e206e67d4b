/* test_ahead.c — sizing the claim-ahead: it follows the rate jobs come
 * back over the horizon, within its floor and cap, and a slow window
 * halves it at most, so one long store turn cannot starve the workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runner/sched/ahead.h"

static const struct ahead_limits LIM = {
	.horizon_ms = 100, .floor = 64, .cap = 4096};

/* 20,000 jobs/s keeps 100 ms of them: 2,000, from the floor up at once. */
static void follows_the_rate(void **state)
{
	(void)state;
	assert_int_equal(ahead_next(64, 1000, 50, &LIM), 2000);
	assert_int_equal(ahead_next(2000, 5000, 250, &LIM), 2000);
	assert_int_equal(ahead_next(2000, 6000, 250, &LIM), 2400);
	assert_int_equal(ahead_next(2000, 3000, 250, &LIM), 1200);
}

static void stays_within_floor_and_cap(void **state)
{
	(void)state;
	assert_int_equal(ahead_next(4000, 1000000, 250, &LIM), 4096);
	assert_int_equal(ahead_next(64, 0, 250, &LIM), 64);
	assert_int_equal(ahead_next(100, 10, 250, &LIM), 64);
	/* an empty window (no time passed) keeps the size */
	assert_int_equal(ahead_next(1500, 0, 0, &LIM), 1500);
}

/* The overhead bench's case: the store trained a dictionary through most
 * of a window, 55 jobs came back in it. The size halves, not to 110
 * (which starved the workers for the next 250 ms), and a run that has
 * really slowed down still gets to its floor in a few windows. */
static void a_slow_window_halves_it_at_most(void **state)
{
	int a = 1239;

	(void)state;
	assert_int_equal(ahead_next(a, 55, 50, &LIM), 619);
	for (int i = 0; i < 5; i++)
		a = ahead_next(a, 10, 250, &LIM);
	assert_int_equal(a, 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(follows_the_rate),
		cmocka_unit_test(stays_within_floor_and_cap),
		cmocka_unit_test(a_slow_window_halves_it_at_most),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
