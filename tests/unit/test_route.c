/* test_route.c — the routing order: cheapest first, retries stay put,
 * failed-over, resting, unusable, too small and too dear candidates are
 * passed over, and the reason when none is left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runner/sched/route.h"

#define U(c) {1, 1, c}      /* usable, fits, cost */
#define OFF(c) {0, 1, c}    /* no key / disabled */
#define SMALL(c) {1, 0, c}  /* context window too small */

struct row {
	const char *name;
	struct route_option opt[4];
	int n, cur;
	unsigned exhausted, skip;
	double max_cost;
	int want;
	enum route_none why;
};

static const struct row ROWS[] = {
	{"cheapest_first_whatever_the_route_order",
	 {U(3.0), U(2.0), U(1.0)}, 3, -1, 0, 0, -1, 2, 0},
	{"tie_goes_to_the_route_order",
	 {U(1.0), U(1.0)}, 2, -1, 0, 0, -1, 0, 0},
	{"retries_stay_on_the_current_candidate",
	 {U(1.0), U(2.0)}, 2, 1, 0, 0, -1, 1, 0},
	{"a_failed_over_candidate_is_not_used_again",
	 {U(1.0), U(2.0), U(3.0)}, 3, -1, 1u, 0, -1, 1, 0},
	{"current_candidate_exhausted_moves_on",
	 {U(1.0), U(2.0)}, 2, 0, 1u, 0, -1, 1, 0},
	{"open_breaker_skipped_without_exhausting",
	 {U(1.0), U(2.0)}, 2, 0, 0, 1u, -1, 1, 0},
	{"unusable_candidates_skipped",
	 {OFF(1.0), U(2.0)}, 2, 0, 0, 0, -1, 1, 0},
	{"max_cost_skips_dear_candidates",
	 {U(5.0), U(2.0), U(9.0)}, 3, -1, 0, 0, 3.0, 1, 0},
	{"too_small_window_skipped",
	 {SMALL(1.0), U(2.0)}, 2, -1, 0, 0, -1, 1, 0},
	{"none_left_some_unusable_parks",
	 {OFF(1.0), U(2.0)}, 2, -1, 2u, 0, -1, -1, ROUTE_PARK},
	{"none_left_over_cost",
	 {U(5.0), U(6.0)}, 2, -1, 0, 0, 1.0, -1, ROUTE_OVER_COST},
	{"none_left_too_small",
	 {SMALL(1.0), U(6.0)}, 2, -1, 2u, 0, -1, -1, ROUTE_TOO_LONG},
	{"none_left_all_exhausted",
	 {U(1.0), U(2.0)}, 2, -1, 3u, 0, -1, -1, ROUTE_EXHAUSTED},
	{"no_candidates_at_all", {{0}}, 0, -1, 0, 0, -1, -1, ROUTE_EXHAUSTED},
};

static void check_row(void **state)
{
	const struct row *r = *state;
	enum route_none why = ROUTE_EXHAUSTED;
	int got = route_pick(r->opt, r->n, r->cur, r->exhausted, r->skip,
			     r->max_cost, &why);

	assert_int_equal(got, r->want);
	if (got < 0)
		assert_int_equal(why, r->why);
}

int main(void)
{
	struct CMUnitTest t[sizeof(ROWS) / sizeof(ROWS[0])];

	for (size_t i = 0; i < sizeof(ROWS) / sizeof(ROWS[0]); i++)
		t[i] = (struct CMUnitTest){.name = ROWS[i].name,
					   .test_func = check_row,
					   .initial_state = (void *)&ROWS[i]};
	return _cmocka_run_group_tests("route", t,
				       sizeof(ROWS) / sizeof(ROWS[0]), NULL,
				       NULL);
}
