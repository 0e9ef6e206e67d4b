/* test_route.c — candidate resolution (a route name, "provider:model", a
 * bare model name, caps) over providers built by hand, and the routing
 * order: least rank (cost at the compared token counts) first, the cost
 * judged against max_cost, retries stay put, failed-over, resting,
 * unusable, too small and too dear candidates are passed over, and the
 * reason when none is left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runner/sched/route.h"

#define U(c) {1, 1, c, c}     /* usable, fits, cost, rank */
#define OFF(c) {0, 1, c, c}   /* no key / disabled */
#define SMALL(c) {1, 0, c, c} /* context window too small */
#define R(c, r) {1, 1, c, r}  /* ranked apart from its cost */

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
	{"the_rank_orders_not_the_cost",
	 {R(1.0, 3.0), R(2.0, 2.0)}, 2, -1, 0, 0, -1, 1, 0},
	{"max_cost_judges_the_cost_not_the_rank",
	 {R(5.0, 1.0), R(2.0, 2.0)}, 2, -1, 0, 0, 3.0, 1, 0},
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

/* Candidates: a lists x,y; b lists y,z,llama3:8b; route r = [b:z, a:x];
 * route "z" = [a:y] shadows the bare model name z. */
static struct prov_model a_models[] = {{.name = "x"}, {.name = "y"}};
static struct prov_model b_models[] = {
    {.name = "y"}, {.name = "z"}, {.name = "llama3:8b"}};
static const struct prov provs[] = {
    {.name = "a", .models = a_models, .nmodels = 2},
    {.name = "b", .models = b_models, .nmodels = 3},
};
static struct route_cand r_cands[] = {{1, 1}, {0, 0}};
static struct route_cand z_cands[] = {{0, 1}};
static const struct route routes[] = {
    {.name = "r", .cands = r_cands, .ncands = 2},
    {.name = "z", .cands = z_cands, .ncands = 1},
};

struct ccase {
	const char *model;
	size_t cap;
	size_t want_n;
	struct route_cand want[3];
};

static const struct ccase ccases[] = {
    {"r", 8, 2, {{1, 1}, {0, 0}}},   /* route, in route order */
    {"a:y", 8, 1, {{0, 1}}},	     /* pinned */
    {"b:y", 8, 1, {{1, 0}}},	     /* pinned, other provider */
    {"a:z", 8, 0, {{0, 0}}},	     /* pinned to a model a lacks */
    {"nope:x", 8, 0, {{0, 0}}},	     /* pinned to a missing provider */
    {"y", 8, 2, {{0, 1}, {1, 0}}},   /* bare: all, in config order */
    {"x", 8, 1, {{0, 0}}},	     /* bare, one provider */
    {"z", 8, 1, {{0, 1}}},	     /* route name wins over model z */
    {"w", 8, 0, {{0, 0}}},	     /* unknown */
    {"llama3:8b", 8, 1, {{1, 2}}},   /* a colon inside a bare model id */
    {"b:llama3:8b", 8, 1, {{1, 2}}}, /* ...and pinned */
    {"", 8, 0, {{0, 0}}},	     /* empty */
    {"y", 1, 1, {{0, 1}}},	     /* capped: first only */
    {"r", 1, 1, {{1, 1}}},	     /* capped route */
    {"y", 0, 2, {{0, 0}}},	     /* cap 0 counts */
    {"r", 0, 2, {{0, 0}}},	     /* cap 0 counts a route */
};

static void candidates_resolve_routes_pins_and_bare_names(void **state)
{
	size_t i, j;

	(void)state;
	assert_int_equal(route_find_prov(provs, 2, "b"), 1);
	assert_int_equal(route_find_prov(provs, 2, "c"), -1);
	assert_int_equal(route_find_prov(provs, 1, "b"), -1);
	assert_int_equal(route_find_model(&provs[1], "z"), 1);
	assert_int_equal(route_find_model(&provs[1], "x"), -1);
	for (i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
		const struct ccase *k = &ccases[i];
		struct route_cand out[8];
		size_t n;

		memset(out, 0xff, sizeof(out));
		n = route_candidates(provs, 2, routes, 2, k->model,
				     k->cap ? out : NULL, k->cap);
		if (n != k->want_n)
			print_error("case %zu (%s cap %zu): n=%zu want %zu\n",
				    i, k->model, k->cap, n, k->want_n);
		assert_int_equal(n, k->want_n);
		for (j = 0; k->cap && j < n; j++) {
			assert_int_equal(out[j].prov, k->want[j].prov);
			assert_int_equal(out[j].model, k->want[j].model);
		}
		/* nothing written past cap */
		if (k->cap && k->cap < 8)
			assert_int_equal(out[k->cap].prov, -1);
	}
}

/* A provider prefix longer than any provider name is no pin: the whole
 * text is a bare model name. */
static void long_prefix_is_a_bare_name(void **state)
{
	static struct prov_model m[] = {{.name = NULL}};
	char name[PROV_NAME_MAX + 8];
	struct prov p = {.name = "a", .models = m, .nmodels = 1};
	struct route_cand out[2];

	(void)state;
	memset(name, 'a', PROV_NAME_MAX + 1);
	strcpy(name + PROV_NAME_MAX + 1, ":x");
	m[0].name = name;
	assert_int_equal(route_candidates(&p, 1, NULL, 0, name, out, 2), 1);
	assert_int_equal(out[0].prov, 0);
	assert_int_equal(out[0].model, 0);
}

int main(void)
{
	enum { NROWS = sizeof(ROWS) / sizeof(ROWS[0]) };
	struct CMUnitTest t[2 + NROWS] = {
	    cmocka_unit_test(candidates_resolve_routes_pins_and_bare_names),
	    cmocka_unit_test(long_prefix_is_a_bare_name),
	};

	for (size_t i = 0; i < NROWS; i++)
		t[2 + i] = (struct CMUnitTest){.name = ROWS[i].name,
					       .test_func = check_row,
					       .initial_state =
						   (void *)&ROWS[i]};
	return _cmocka_run_group_tests("route", t, 2 + NROWS, NULL, NULL);
}
