/* test_lane_choice.c — which (candidate, lane) a job takes, without a
 * network: a dearer model's batch lane beats a cheaper model's sync lane,
 * a job's lane and --lane, a lane the deadline rules out (taken only by
 * jobs that must), a model kept off its provider's lane; when a lane fits
 * a deadline; the sync lane parks a job that wants the batch lane. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "queue/claim.h"
#include "runner/config.h"
#include "runner/json/jsonidx.h"
#include "runner/sched/admit.h"
#include "runner/sched/budget.h"
#include "runner/sched/estimate.h"
#include "runner/sched/sched.h"

#define T0 ((int64_t)1714564800000)
#define HOUR ((int64_t)3600000)

/* q: cheapest sync, no batch lane; o: 1.5x q's price, a batch lane at half
 * price (so 0.75x q); o's model n is kept off the lane. Route r: q, o. */
static const char CONFIG[] =
	"{\"providers\":{"
	"\"q\":{\"dialect\":\"openai\",\"base_url\":\"http://127.0.0.1:9\","
	"\"api_key_env\":\"KQ\",\"models\":{\"m\":"
	"{\"input_per_mtok\":1,\"output_per_mtok\":2}}},"
	"\"o\":{\"dialect\":\"openai\",\"base_url\":\"http://127.0.0.1:9\","
	"\"api_key_env\":\"KO\",\"batch\":{\"api\":\"openai\"},\"models\":{"
	"\"m\":{\"input_per_mtok\":1.5,\"output_per_mtok\":3},"
	"\"n\":{\"input_per_mtok\":1.5,\"output_per_mtok\":3,\"batch\":false}"
	"}}},"
	"\"routes\":{\"r\":[\"q:m\",\"o:m\"],\"rn\":[\"q:m\",\"o:n\"]}}";

struct fx {
	struct config *cfg;
	unsigned char keyed[2];
	atomic_int disabled[2];
	struct sched *sched;
	struct estimates *est;
	struct budget budget;
	struct admit a;
	struct jsonidx x;
	struct claim_job j;
	struct admit_state s;
	char body[200];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[300];

	assert_int_equal(config_parse(CONFIG, strlen(CONFIG), "t", &f->cfg,
				      err, sizeof(err)),
			 0);
	f->keyed[0] = f->keyed[1] = 1;
	f->sched = sched_new(f->cfg->provs, f->cfg->nprovs);
	f->est = est_new(f->cfg->provs, f->cfg->nprovs);
	budget_init(&f->budget, -1, 0);
	f->a = (struct admit){.provs = f->cfg->provs,
			      .nprovs = f->cfg->nprovs,
			      .routes = f->cfg->routes,
			      .nroutes = f->cfg->nroutes,
			      .keyed = f->keyed,
			      .disabled = f->disabled,
			      .sched = f->sched,
			      .est = f->est,
			      .budget = &f->budget};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	jsonidx_free(&f->x);
	sched_free(&f->sched);
	est_free(&f->est);
	config_free(&f->cfg);
	free(f);
	return 0;
}

/* route: f's job, asking for model with lane (0 auto, 1 sync, 2 batch),
 * routed. */
static void route(struct fx *f, const char *model, int lane)
{
	char *detail = NULL;
	size_t end;

	snprintf(f->body, sizeof(f->body),
		 "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\","
		 "\"content\":\"hi\"}],\"max_tokens\":100}",
		 model);
	memset(&f->j, 0, sizeof(f->j));
	f->j.body = f->body;
	f->j.body_len = strlen(f->body);
	f->j.est_input_tokens = 1000;
	f->j.max_output_tokens = 100;
	f->j.max_cost_usd = -1;
	f->j.candidate = -1;
	f->j.lane = lane;
	admit_state_init(&f->s);
	admit_route(&f->a, &f->j, &f->s, &f->x, &end, &detail);
	assert_null(detail);
	assert_int_equal(f->s.ncands, 2);
}

/* pick: admit_lane for f's job wanting want, o's lane as given; the
 * candidate's provider index, or -1; *lane set. */
static int pick(struct fx *f, int want, int o_lane, int *lane, double *cost,
		double *sync_cost)
{
	unsigned char batch[2] = {ADMIT_LANE_NONE, (unsigned char)o_lane};
	double dearest;
	enum route_none why;
	int i = admit_lane(&f->a, &f->j, &f->s, want, batch, T0, lane, cost,
			   &dearest, sync_cost, &why);

	return i < 0 ? -1 : f->s.cands[i].prov;
}

static void a_dearer_models_batch_lane_wins(void **state)
{
	struct fx *f = *state;
	double cost, sync;
	int lane;

	route(f, "r", 0);
	assert_int_equal(pick(f, 0, ADMIT_LANE_OPEN, &lane, &cost, &sync), 1);
	assert_int_equal(lane, 1);
	/* half o's sync price, which is 1.5x q's */
	assert_true(cost > 0 && sync > 1.99 * cost && sync < 2.01 * cost);
	/* the lane closed: q's sync lane, the cheapest left */
	assert_int_equal(pick(f, 0, ADMIT_LANE_NONE, &lane, &cost, &sync), 0);
	assert_int_equal(lane, 0);
}

static void the_jobs_lane_and_the_deadline(void **state)
{
	struct fx *f = *state;
	double cost, sync;
	int lane;

	route(f, "r", 0);
	/* sync: never a batch */
	assert_int_equal(pick(f, 1, ADMIT_LANE_OPEN, &lane, &cost, &sync), 0);
	assert_int_equal(lane, 0);
	/* a lane the deadline rules out: not for auto, yes for batch */
	assert_int_equal(pick(f, 0, ADMIT_LANE_FORCED, &lane, &cost, &sync),
			 0);
	assert_int_equal(lane, 0);
	assert_int_equal(pick(f, 2, ADMIT_LANE_FORCED, &lane, &cost, &sync),
			 1);
	assert_int_equal(lane, 1);
	/* batch with no lane usable: none, never the sync lane */
	assert_int_equal(pick(f, 2, ADMIT_LANE_NONE, &lane, &cost, &sync), -1);
}

static void a_model_kept_off_the_lane(void **state)
{
	struct fx *f = *state;
	double cost, sync;
	int lane;

	route(f, "rn", 0);
	assert_int_equal(pick(f, 0, ADMIT_LANE_OPEN, &lane, &cost, &sync), 0);
	assert_int_equal(lane, 0);
	assert_int_equal(pick(f, 2, ADMIT_LANE_OPEN, &lane, &cost, &sync), -1);
}

static void when_a_lane_fits(void **state)
{
	struct fx *f = *state;
	const struct prov *q = &f->cfg->provs[0], *o = &f->cfg->provs[1];

	assert_int_equal(admit_lane_turnaround(o, 0), 24 * HOUR);
	assert_int_equal(admit_lane_turnaround(o, 600000), 600000);
	assert_int_equal(admit_lane_state(o, 1, 0, T0, 0), ADMIT_LANE_OPEN);
	/* its window (24 h) before a deadline in 2 h: forced only */
	assert_int_equal(admit_lane_state(o, 1, 0, T0, T0 + 2 * HOUR),
			 ADMIT_LANE_FORCED);
	/* 10 min learned: 15 min with its margin, within 2 h */
	assert_int_equal(admit_lane_state(o, 1, 600000, T0, T0 + 2 * HOUR),
			 ADMIT_LANE_OPEN);
	assert_int_equal(admit_lane_state(o, 1, 600000, T0, T0 + 14 * 60000),
			 ADMIT_LANE_FORCED);
	assert_int_equal(admit_lane_state(o, 0, 0, T0, 0), ADMIT_LANE_NONE);
	assert_int_equal(admit_lane_state(q, 1, 0, T0, 0), ADMIT_LANE_NONE);
}

static void the_sync_lane_parks_a_job_that_wants_batch(void **state)
{
	struct fx *f = *state;
	char *detail = NULL;

	route(f, "r", 2);
	assert_int_equal(admit_job(&f->a, &f->j, &f->s, T0, &detail),
			 ADMIT_PARK);
	assert_non_null(strstr(detail, "batch lane"));
	free(detail);
	/* --lane batch does the same for a job without a lane of its own */
	route(f, "r", 0);
	f->a.run_lane = 2;
	assert_int_equal(admit_job(&f->a, &f->j, &f->s, T0, &detail),
			 ADMIT_PARK);
	free(detail);
	f->a.run_lane = 0;
	assert_int_equal(admit_job(&f->a, &f->j, &f->s, T0, &detail),
			 ADMIT_GO);
	admit_cancel(&f->a, &f->s, f->s.cands[f->j.candidate].prov);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_dearer_models_batch_lane_wins,
						setup, teardown),
		cmocka_unit_test_setup_teardown(the_jobs_lane_and_the_deadline,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_model_kept_off_the_lane,
						setup, teardown),
		cmocka_unit_test_setup_teardown(when_a_lane_fits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			the_sync_lane_parks_a_job_that_wants_batch, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
