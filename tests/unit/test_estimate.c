/* test_estimate.c — token estimates: the job's own until a model has
 * reported enough, then scaled by what it reported; output the model's
 * average within max_tokens; the worst case for the budget; latency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runner/sched/estimate.h"

static void calibrates_after_enough(void **state)
{
	struct prov_model models[2];
	struct prov p[2];
	struct estimates *e;
	struct route_cand c0 = {0, 0}, c1 = {1, 0};
	struct outcome_usage u = {.in = 150, .out = 40};

	(void)state;
	memset(models, 0, sizeof(models));
	memset(p, 0, sizeof(p));
	p[0].models = &models[0];
	p[0].nmodels = 1;
	p[1].models = &models[1];
	p[1].nmodels = 1;
	e = est_new(p, 2);
	assert_int_equal(est_input(e, c0, 100), 100);
	assert_int_equal(est_output(e, c0, 0), 256);
	assert_int_equal(est_output(e, c0, 64), 64);
	/* replies that report 1.5x the job's estimate, 40 tokens out */
	for (int i = 0; i < 9; i++)
		est_learn(e, c0, 100, &u, 1, 100);
	assert_int_equal(est_input(e, c0, 100), 100); /* 900 seen: < 1,000 */
	assert_int_equal(est_output(e, c0, 0), 256);  /* 9 replies: < 10 */
	est_learn(e, c0, 100, &u, 1, 300);
	assert_int_equal(est_input(e, c0, 100), 150);
	assert_int_equal(est_output(e, c0, 0), 40);
	assert_int_equal(est_output(e, c0, 30), 30); /* within max_tokens */
	/* failures count for latency only; other models are apart */
	est_learn(e, c0, 100, &(struct outcome_usage){.in = 1000}, 0, 1200);
	assert_int_equal(est_input(e, c0, 100), 150);
	assert_int_equal(est_input(e, c1, 100), 100);
	assert_int_equal(est_latency_ms(e), (9 * 100 + 300 + 1200) / 11);
	est_free(&e);
	assert_null(e);
	est_free(&e);
}

static void worst_case(void **state)
{
	struct prov_model m;

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(est_worst_output(&m, 0), 4096);
	assert_int_equal(est_worst_output(&m, 300), 300);
	m.max_output_tokens = 8192;
	assert_int_equal(est_worst_output(&m, 0), 8192);
	assert_int_equal(est_worst_output(&m, 300), 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(calibrates_after_enough),
		cmocka_unit_test(worst_case),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
