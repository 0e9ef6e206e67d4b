/* test_admit.c — admission without a network: routing (routes, pins,
 * the providers allow-list, unknown models), the routing order (cheapest
 * usable candidate that fits, retries staying put), parking for want of
 * a key or a shut-off provider, an open breaker passed over for the next
 * candidate, the in-flight cap's wait, the budget's refusal (the slot
 * given back), max_cost_usd and the context window; calibration that
 * never reorders a route unless established beyond its noise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runner/config.h"
#include "queue/claim.h"
#include "runner/json/jsonidx.h"
#include "runner/sched/admit.h"
#include "runner/sched/budget.h"
#include "runner/sched/estimate.h"
#include "runner/sched/sched.h"

#define T0 ((int64_t)1714564800000)

/* a: mid price, one request at a time; b: dearest; c: cheapest, with a
 * context window of 10 tokens. Route r lists them dearest first. */
static const char CONFIG[] =
	"{\"providers\":{"
	"\"a\":{\"dialect\":\"openai\",\"base_url\":\"http://127.0.0.1:9\","
	"\"api_key_env\":\"KA\",\"max_inflight\":1,\"models\":{\"m\":"
	"{\"input_per_mtok\":1,\"output_per_mtok\":2}}},"
	"\"b\":{\"dialect\":\"openai\",\"base_url\":\"http://127.0.0.1:9\","
	"\"api_key_env\":\"KB\",\"models\":{\"m\":"
	"{\"input_per_mtok\":3,\"output_per_mtok\":6}}},"
	"\"c\":{\"dialect\":\"openai\",\"base_url\":\"http://127.0.0.1:9\","
	"\"api_key_env\":\"KC\",\"models\":{\"m\":"
	"{\"input_per_mtok\":0.5,\"output_per_mtok\":1,"
	"\"context_window\":10}}}},"
	"\"routes\":{\"r\":[\"b:m\",\"a:m\",\"c:m\"]}}";

struct fx {
	struct config *cfg;
	unsigned char keyed[3];
	atomic_int disabled[3];
	struct sched *sched;
	struct estimates *est;
	struct budget budget;
	struct admit a;
	struct jsonidx x;
};

/* The route of issue 15, list prices per Mtok: q 0.40/1.20, d 0.56/1.68,
 * cl 3/15. */
static const char CHEAP[] =
	"{\"providers\":{"
	"\"q\":{\"dialect\":\"openai\",\"base_url\":\"http://127.0.0.1:9\","
	"\"api_key_env\":\"KQ\",\"models\":{\"m\":"
	"{\"input_per_mtok\":0.40,\"output_per_mtok\":1.20}}},"
	"\"d\":{\"dialect\":\"openai\",\"base_url\":\"http://127.0.0.1:9\","
	"\"api_key_env\":\"KD\",\"models\":{\"m\":"
	"{\"input_per_mtok\":0.56,\"output_per_mtok\":1.68}}},"
	"\"cl\":{\"dialect\":\"openai\",\"base_url\":\"http://127.0.0.1:9\","
	"\"api_key_env\":\"KC\",\"models\":{\"m\":"
	"{\"input_per_mtok\":3,\"output_per_mtok\":15}}}},"
	"\"routes\":{\"cheap\":[\"q:m\",\"d:m\",\"cl:m\"]}}";

static void setup_with(struct fx *f, double cap_usd, const char *config)
{
	char err[300];

	memset(f, 0, sizeof(*f));
	assert_int_equal(config_parse(config, strlen(config), "t", &f->cfg,
				      err, sizeof(err)),
			 0);
	for (int i = 0; i < 3; i++) {
		f->keyed[i] = 1;
		atomic_init(&f->disabled[i], 0);
	}
	f->sched = sched_new(f->cfg->provs, f->cfg->nprovs);
	f->est = est_new(f->cfg->provs, f->cfg->nprovs);
	budget_init(&f->budget, cap_usd, 0);
	f->a = (struct admit){.provs = f->cfg->provs,
			      .nprovs = f->cfg->nprovs,
			      .routes = f->cfg->routes,
			      .nroutes = f->cfg->nroutes,
			      .keyed = f->keyed,
			      .disabled = f->disabled,
			      .sched = f->sched,
			      .est = f->est,
			      .budget = &f->budget};
}

static void setup_fx(struct fx *f, double cap_usd)
{
	setup_with(f, cap_usd, CONFIG);
}

static void teardown_fx(struct fx *f)
{
	jsonidx_free(&f->x);
	sched_free(&f->sched);
	est_free(&f->est);
	config_free(&f->cfg);
}

/* job: a claimed job asking for model, est_in input tokens. */
static struct claim_job job(const char *model, const char *providers,
			   int64_t est_in)
{
	static char body[200];
	struct claim_job j;

	memset(&j, 0, sizeof(j));
	snprintf(body, sizeof(body),
		 "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\","
		 "\"content\":\"hi\"}]}",
		 model);
	j.body = body;
	j.body_len = strlen(body);
	j.providers = (char *)providers;
	j.est_input_tokens = est_in;
	j.max_cost_usd = -1;
	j.candidate = -1;
	return j;
}

/* routed: route j into s; returns the detail (new) or NULL. */
static char *routed(struct fx *f, struct claim_job *j, struct admit_state *s)
{
	char *detail = NULL;
	size_t end;

	admit_state_init(s);
	admit_route(&f->a, j, s, &f->x, &end, &detail);
	return detail;
}

static void routes_pins_and_allow_lists(void **state)
{
	struct fx f;
	struct admit_state s;
	struct claim_job j;
	char *d;
	size_t end;

	(void)state;
	setup_fx(&f, -1);
	j = job("r", NULL, 5);
	assert_null(routed(&f, &j, &s));
	assert_int_equal(s.ncands, 3);
	assert_int_equal(s.cands[0].prov, 1); /* b, as the route lists */
	j = job("r", "[\"c\",\"a\"]", 5);
	assert_null(routed(&f, &j, &s));
	assert_int_equal(s.ncands, 2);
	assert_int_equal(s.cands[0].prov, 0);
	assert_int_equal(s.cands[1].prov, 2);
	j = job("b:m", NULL, 5);
	assert_null(routed(&f, &j, &s));
	assert_int_equal(s.ncands, 1);
	assert_int_equal(s.cands[0].prov, 1);
	j = job("r", "[\"zz\"]", 5);
	d = routed(&f, &j, &s);
	assert_int_equal(s.ncands, 0);
	assert_non_null(strstr(d, "no candidate is in the job's providers"));
	free(d);
	j = job("nosuch", NULL, 5);
	d = routed(&f, &j, &s);
	assert_int_equal(s.ncands, 0);
	assert_non_null(strstr(d, "\"nosuch\": no route"));
	free(d);
	/* a body that does not index: not indexed, no candidate */
	j.body = "not json";
	j.body_len = 8;
	admit_state_init(&s);
	d = NULL;
	assert_int_equal(admit_route(&f.a, &j, &s, &f.x, &end, &d), 0);
	assert_int_equal(s.ncands, 0);
	free(d);
	teardown_fx(&f);
}

static void cheapest_that_fits_and_stays(void **state)
{
	struct fx f;
	struct admit_state s;
	struct claim_job j;
	char *d = NULL;

	(void)state;
	setup_fx(&f, -1);
	/* 5 tokens fit c, the cheapest */
	j = job("r", NULL, 5);
	routed(&f, &j, &s);
	assert_int_equal(admit_job(&f.a, &j, &s, T0, &d), ADMIT_GO);
	assert_int_equal(j.candidate, 2);
	admit_cancel(&f.a, &s, 2);
	/* 50 do not: a, the cheapest of the rest */
	j = job("r", NULL, 50);
	routed(&f, &j, &s);
	assert_int_equal(admit_job(&f.a, &j, &s, T0, &d), ADMIT_GO);
	assert_int_equal(j.candidate, 1);
	assert_int_equal(s.cands[1].prov, 0);
	admit_cancel(&f.a, &s, 0);
	/* a retry stays on its candidate while it is usable... */
	j = job("r", NULL, 5);
	routed(&f, &j, &s);
	j.candidate = 0;
	j.cand_attempts = 2;
	assert_int_equal(admit_job(&f.a, &j, &s, T0, &d), ADMIT_GO);
	assert_int_equal(j.candidate, 0);
	assert_int_equal(j.cand_attempts, 2);
	admit_cancel(&f.a, &s, 1);
	/* ...and moves, counting afresh, once it was failed over from */
	j.cand_exhausted = 1u << 0;
	assert_int_equal(admit_job(&f.a, &j, &s, T0, &d), ADMIT_GO);
	assert_int_equal(j.candidate, 2);
	assert_int_equal(j.cand_attempts, 0);
	admit_cancel(&f.a, &s, 2);
	assert_true(admit_others_left(&f.a, &j, &s)); /* a is left */
	j.cand_exhausted |= 1u << 1;
	assert_false(admit_others_left(&f.a, &j, &s));
	assert_null(d);
	teardown_fx(&f);
}

static void parks_without_key_or_when_shut_off(void **state)
{
	struct fx f;
	struct admit_state s;
	struct claim_job j;
	char *d = NULL;

	(void)state;
	setup_fx(&f, -1);
	f.keyed[0] = f.keyed[2] = 0;
	atomic_store(&f.disabled[1], 1);
	j = job("r", NULL, 5);
	routed(&f, &j, &s);
	assert_int_equal(admit_job(&f.a, &j, &s, T0, &d), ADMIT_PARK);
	assert_string_equal(d, "no usable provider this run; set KA, KC; "
			       "shut off after refusing the account (key or "
			       "credit): b");
	free(d);
	teardown_fx(&f);
}

/* trip: fail prov's requests until its breaker opens. */
static void trip(struct fx *f, int prov)
{
	for (int i = 0; i < 10; i++) {
		int64_t at;

		if (sched_admit(f->sched, prov, 1, T0, &at, NULL) != SCHED_GO)
			break;
		sched_done(f->sched, prov,
			   &(struct sched_reply){.cls = OUTCOME_SERVER_ERROR,
						 .retry_after_ms = -1},
			   T0);
	}
}

static void open_breaker_passed_over(void **state)
{
	struct fx f;
	struct admit_state s;
	struct claim_job j;
	char *d = NULL;

	(void)state;
	setup_fx(&f, -1);
	trip(&f, 2); /* c's breaker opens */
	j = job("r", NULL, 5);
	routed(&f, &j, &s);
	assert_int_equal(admit_job(&f.a, &j, &s, T0 + 1, &d), ADMIT_GO);
	assert_int_equal(s.cands[j.candidate].prov, 0); /* a, next cheapest */
	admit_cancel(&f.a, &s, 0);
	/* pinned to c alone: it waits for the breaker, a little at a time */
	j = job("c:m", NULL, 5);
	routed(&f, &j, &s);
	assert_int_equal(admit_job(&f.a, &j, &s, T0 + 1, &d), ADMIT_WAIT);
	assert_true(s.wait_until_ms > T0 + 1);
	assert_true(s.wait_until_ms <= T0 + 1 + 200);
	assert_null(d);
	teardown_fx(&f);
}

/* Candidates are measured once per admission: two open breakers pass the
 * job to the third candidate; a gate found shut off (an auth failure its
 * own replies saw) marks the provider disabled and every candidate on it
 * unusable, and the next one goes. */
static void passed_over_twice_and_shut_off(void **state)
{
	struct fx f;
	struct admit_state s;
	struct claim_job j;
	char *d = NULL;

	(void)state;
	setup_fx(&f, -1);
	trip(&f, 2);
	trip(&f, 0);
	j = job("r", NULL, 5);
	routed(&f, &j, &s);
	assert_int_equal(admit_job(&f.a, &j, &s, T0 + 1, &d), ADMIT_GO);
	assert_int_equal(s.cands[j.candidate].prov, 1); /* b, the dearest */
	admit_cancel(&f.a, &s, 1);
	teardown_fx(&f);

	setup_fx(&f, -1);
	sched_done(f.sched, 2,
		   &(struct sched_reply){.cls = OUTCOME_AUTH,
					 .retry_after_ms = -1},
		   T0);
	j = job("r", NULL, 5);
	routed(&f, &j, &s);
	assert_int_equal(admit_job(&f.a, &j, &s, T0 + 1, &d), ADMIT_GO);
	assert_int_equal(s.cands[j.candidate].prov, 0); /* a, next cheapest */
	assert_true(atomic_load(&f.disabled[2]));
	admit_cancel(&f.a, &s, 0);
	assert_null(d);
	teardown_fx(&f);
}

static void waits_at_the_cap(void **state)
{
	struct fx f;
	struct admit_state s1, s2;
	struct claim_job j1, j2;
	char *d = NULL;

	(void)state;
	setup_fx(&f, -1);
	j1 = job("a:m", NULL, 5);
	routed(&f, &j1, &s1);
	assert_int_equal(admit_job(&f.a, &j1, &s1, T0, &d), ADMIT_GO);
	j2 = job("a:m", NULL, 5);
	routed(&f, &j2, &s2);
	assert_int_equal(admit_job(&f.a, &j2, &s2, T0, &d), ADMIT_WAIT);
	assert_int_equal(s2.wait_until_ms, T0 + SCHED_SLOT_RETRY_MS);
	/* asked again before then: still waiting, gate not asked */
	assert_int_equal(admit_job(&f.a, &j2, &s2, T0 + 1, &d), ADMIT_WAIT);
	admit_cancel(&f.a, &s1, 0);
	assert_int_equal(admit_job(&f.a, &j2, &s2, T0 + SCHED_SLOT_RETRY_MS,
				   &d),
			 ADMIT_GO);
	admit_cancel(&f.a, &s2, 0);
	assert_null(d);
	teardown_fx(&f);
}

static void budget_refuses_and_gives_the_slot_back(void **state)
{
	struct fx f;
	struct admit_state s;
	struct claim_job j;
	struct sched_stats st;
	char *d = NULL;

	(void)state;
	/* a's worst case: 1,000 in at $1/M + 4,096 out at $2/M = $0.009192 */
	setup_fx(&f, 0.009);
	j = job("a:m", NULL, 1000);
	routed(&f, &j, &s);
	assert_int_equal(admit_job(&f.a, &j, &s, T0, &d), ADMIT_OVER_BUDGET);
	assert_true(atomic_load(&f.budget.hit));
	assert_true(budget_refused_usd(&f.budget) > 0.009);
	sched_stats(f.sched, 0, &st);
	assert_int_equal(st.inflight, 0);
	/* with max_tokens the worst case fits, and is held until released */
	j.max_output_tokens = 100;
	assert_int_equal(admit_job(&f.a, &j, &s, T0, &d), ADMIT_GO);
	assert_true(s.reserved_nusd > 0);
	assert_true(atomic_load(&f.budget.reserved_nusd) == s.reserved_nusd);
	admit_release(&f.a, &s);
	assert_int_equal(s.reserved_nusd, 0);
	assert_int_equal(atomic_load(&f.budget.reserved_nusd), 0);
	assert_null(d);
	teardown_fx(&f);
}

static void dead_over_cost_or_too_long(void **state)
{
	struct fx f;
	struct admit_state s;
	struct claim_job j;
	char *d = NULL;

	(void)state;
	setup_fx(&f, -1);
	j = job("r", NULL, 5);
	j.max_cost_usd = 1e-12;
	routed(&f, &j, &s);
	assert_int_equal(admit_job(&f.a, &j, &s, T0, &d), ADMIT_DEAD);
	assert_non_null(strstr(d, "max_cost_usd"));
	free(d);
	d = NULL;
	j = job("c:m", NULL, 50); /* c's window is 10 tokens */
	routed(&f, &j, &s);
	assert_int_equal(admit_job(&f.a, &j, &s, T0, &d), ADMIT_DEAD);
	assert_non_null(strstr(d, "context window"));
	free(d);
	teardown_fx(&f);
}

/* picked: the provider index job (model, est_in, max_out) goes to now. */
static int picked(struct fx *f, const char *model, int64_t est_in,
		  int64_t max_out)
{
	struct admit_state s;
	struct claim_job j = job(model, NULL, est_in);
	char *d = NULL;
	int prov;

	j.max_output_tokens = max_out;
	routed(f, &j, &s);
	assert_int_equal(admit_job(&f->a, &j, &s, T0, &d), ADMIT_GO);
	prov = s.cands[j.candidate].prov;
	admit_cancel(&f->a, &s, prov);
	assert_null(d);
	return prov;
}

/* reply: a successful reply from provider prov's model to a job estimated
 * at job_in, reporting in and out tokens. */
static void reply(struct fx *f, int prov, int64_t job_in, int64_t in,
		  int64_t out)
{
	est_learn(f->est, (struct route_cand){prov, 0}, job_in,
		  &(struct outcome_usage){.in = in, .out = out}, 1, 50);
}

/* Issue 15: q's first replies calibrated it (3x the estimated input)
 * while d stayed on the prior, or d's pinned jobs gave it an average
 * output while q had none: either way d looked cheaper and took the
 * route. Compared at the same counts, q stays first whatever came back
 * from whom, in any order. */
static void calibration_does_not_reorder_the_route(void **state)
{
	struct fx f;
	unsigned x = 12345;

	(void)state;
	setup_with(&f, -1, CHEAP);
	reply(&f, 0, 1000, 3000, 100);
	assert_int_equal(picked(&f, "cheap", 1000, 0), 0);
	for (int i = 0; i < 10; i++)
		reply(&f, 1, 1000, 3000, 20);
	assert_int_equal(picked(&f, "cheap", 1000, 1000), 0);
	/* replies from every model in a scrambled order, reporting 2.5-3.5x
	 * the estimate and 50-150 tokens out, jobs of 100-2,000 tokens with
	 * and without max_tokens */
	for (int i = 0; i < 600; i++) {
		int64_t in;

		x = x * 1103515245u + 12345u;
		in = 100 + (x >> 8) % 1900;
		reply(&f, (int)((x >> 20) % 3), in,
		      in * (25 + (x >> 4) % 11) / 10, 50 + (x >> 12) % 101);
		assert_int_equal(picked(&f, "cheap", in, i % 2 ? 0 : 800), 0);
	}
	teardown_fx(&f);
}

/* A model's own calibration, once established beyond its noise, does
 * count: q reporting twice the tokens d does is dearer on a long prompt. */
static void established_calibration_counts(void **state)
{
	struct est_counts c[2] = {
		{.prov = "q", .model = "m", .est_in = 1200, .rep_in = 2400,
		 .out = 1200, .n = 12},
		{.prov = "d", .model = "m", .est_in = 1200, .rep_in = 1200,
		 .out = 1200, .n = 12},
	};
	struct fx f;

	(void)state;
	setup_with(&f, -1, CHEAP);
	assert_int_equal(est_import(f.est, c, 2), 2);
	assert_int_equal(picked(&f, "cheap", 1000, 1), 0); /* 12: noise */
	for (int i = 0; i < 2; i++) {
		c[i].est_in *= 25;
		c[i].rep_in *= 25;
		c[i].out *= 25;
		c[i].n *= 25;
	}
	assert_int_equal(est_import(f.est, c, 2), 2);
	assert_int_equal(picked(&f, "cheap", 1000, 1), 1); /* 312 */
	teardown_fx(&f);
}

/* Within the noise of 50 replies (2 / sqrt(50): 28%), figures that
 * blended would put d first (q at 1.25x the pool's input, d at 0.75x)
 * leave the route at list price. */
static void noise_does_not_reorder(void **state)
{
	struct est_counts c[2] = {
		{.prov = "q", .model = "m", .est_in = 5000, .rep_in = 7000,
		 .out = 500, .n = 50},
		{.prov = "d", .model = "m", .est_in = 5000, .rep_in = 3000,
		 .out = 500, .n = 50},
	};
	struct fx f;
	struct est_tokens t;

	(void)state;
	setup_with(&f, -1, CHEAP);
	assert_int_equal(est_import(f.est, c, 2), 2);
	est_tokens(f.est, (struct route_cand){1, 0}, 1000, 1, &t);
	assert_int_equal(t.in, 750);
	assert_int_equal(picked(&f, "cheap", 1000, 1), 0);
	teardown_fx(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(routes_pins_and_allow_lists),
		cmocka_unit_test(cheapest_that_fits_and_stays),
		cmocka_unit_test(parks_without_key_or_when_shut_off),
		cmocka_unit_test(open_breaker_passed_over),
		cmocka_unit_test(passed_over_twice_and_shut_off),
		cmocka_unit_test(waits_at_the_cap),
		cmocka_unit_test(budget_refuses_and_gives_the_slot_back),
		cmocka_unit_test(dead_over_cost_or_too_long),
		cmocka_unit_test(calibration_does_not_reorder_the_route),
		cmocka_unit_test(established_calibration_counts),
		cmocka_unit_test(noise_does_not_reorder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
