/* test_batchcfg.c — the batch lane in the providers config
 * (runner/providers/batchcfg.c, through config_parse as a user's file
 * reaches it): every refusal of the "batch" object and of a model's batch
 * members, each a table row with its whole located message; the defaults
 * by API; the lane and batch-API names; which models have which lane;
 * and the built-in catalogue's lanes (qwen, openai and anthropic have
 * one, qwen3-max is not batched, the others have none), with qwen still
 * the cheapest first candidate of "cheap" on the batch lane. Batch
 * prices are tested in test_cost.c, LiteLLM's in test_prices.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "runner/config.h"
#include "runner/providers/batchcfg.h"
#include "runner/providers/catalogue.h"
#include "runner/providers/cost.h"
#include "runner/sched/route.h"

/* 2026-11-23 00:00:00 UTC, a Monday. */
#define MONDAY 1795392000LL

/* An openai-dialect provider "p" with members extra and model "m" with
 * members mextra; AN is the same as anthropic-dialect. */
#define OA(extra, mextra)                                                      \
	"{\"providers\":{\"p\":{\"dialect\":\"openai\","                       \
	"\"base_url\":\"https://api.example.com/v1\","                         \
	"\"api_key_env\":\"K\"" extra ",\"models\":{\"m\":{"                   \
	"\"input_per_mtok\":1,\"output_per_mtok\":2" mextra "}}}}}"
#define AN(extra, mextra)                                                      \
	"{\"providers\":{\"p\":{\"dialect\":\"anthropic\","                    \
	"\"base_url\":\"https://api.example.com\","                            \
	"\"api_key_env\":\"K\"" extra ",\"models\":{\"m\":{"                   \
	"\"input_per_mtok\":1,\"output_per_mtok\":2" mextra "}}}}}"
#define LANE ",\"batch\":{}"

struct vcase {
	const char *name;
	const char *json;
	const char *want; /* NULL: must parse; else the whole message */
};

/* clang-format off */
static const struct vcase vcases[] = {
	/* accepted */
	{"empty batch object", OA(LANE, ""), NULL},
	{"every member",
	 OA(",\"batch\":{\"api\":\"openai\",\"discount\":0.4,"
	    "\"max_requests\":1000,\"max_bytes\":1000000,\"window_h\":24}",
	    ",\"batch\":true,\"batch_input_per_mtok\":0.3,"
	    "\"batch_output_per_mtok\":0.7"),
	 NULL},
	{"discount 1", OA(",\"batch\":{\"discount\":1}", ""), NULL},
	{"anthropic api on anthropic dialect",
	 AN(",\"batch\":{\"api\":\"anthropic\"}", ""), NULL},
	{"dashscope takes 336 h",
	 OA(",\"flavor\":\"dashscope\",\"batch\":{\"window_h\":336}", ""),
	 NULL},
	{"a model off the lane", OA(LANE, ",\"batch\":false"), NULL},
	{"a free batch price", OA(LANE, ",\"batch_input_per_mtok\":0"), NULL},

	/* the object */
	{"batch not an object", OA(",\"batch\":true", ""),
	 "t.json: providers.p.batch: must be an object such as "
	 "{\"api\": \"openai\", \"discount\": 0.5}, got a boolean"},
	{"unknown member", OA(",\"batch\":{\"windows_h\":24}", ""),
	 "t.json: providers.p.batch.windows_h: unknown field"},
	{"duplicate member",
	 OA(",\"batch\":{\"discount\":0.5,\"discount\":0.4}", ""),
	 "t.json: providers.p.batch.discount: duplicate field"},
	/* api */
	{"unknown api", OA(",\"batch\":{\"api\":\"mistral\"}", ""),
	 "t.json: providers.p.batch.api: must be \"openai\" (Files + "
	 "Batches) or \"anthropic\" (Message Batches), got \"mistral\""},
	{"api of another type", OA(",\"batch\":{\"api\":1}", ""),
	 "t.json: providers.p.batch.api: must be \"openai\" (Files + "
	 "Batches) or \"anthropic\" (Message Batches), got 1"},
	{"openai api on anthropic dialect",
	 AN(",\"batch\":{\"api\":\"openai\"}", ""),
	 "t.json: providers.p.batch.api: an anthropic-dialect provider's "
	 "requests go in Message Batches; use \"anthropic\" (or leave api "
	 "out), got \"openai\""},
	{"anthropic api on openai dialect",
	 OA(",\"batch\":{\"api\":\"anthropic\"}", ""),
	 "t.json: providers.p.batch.api: an openai-dialect provider's "
	 "requests go in Files + Batches; use \"openai\" (or leave api out), "
	 "got \"anthropic\""},
	/* discount */
	{"discount above 1", OA(",\"batch\":{\"discount\":2}", ""),
	 "t.json: providers.p.batch.discount: must be a number in (0, 1], "
	 "got 2"},
	{"discount 0", OA(",\"batch\":{\"discount\":0}", ""),
	 "t.json: providers.p.batch.discount: must be a number in (0, 1], "
	 "got 0"},
	{"discount negative", OA(",\"batch\":{\"discount\":-0.5}", ""),
	 "t.json: providers.p.batch.discount: must be a number in (0, 1], "
	 "got -0.5"},
	{"discount a string", OA(",\"batch\":{\"discount\":\"50%\"}", ""),
	 "t.json: providers.p.batch.discount: must be a number in (0, 1], "
	 "got \"50%\""},
	/* limits */
	{"max_requests 0", OA(",\"batch\":{\"max_requests\":0}", ""),
	 "t.json: providers.p.batch.max_requests: must be a positive "
	 "integer, got 0"},
	{"max_requests huge", OA(",\"batch\":{\"max_requests\":1e9}", ""),
	 "t.json: providers.p.batch.max_requests: must be at most 10000000, "
	 "got 1000000000"},
	{"max_bytes fraction", OA(",\"batch\":{\"max_bytes\":1.5}", ""),
	 "t.json: providers.p.batch.max_bytes: must be a positive integer, "
	 "got 1.5"},
	/* window */
	{"window under a day", OA(",\"batch\":{\"window_h\":12}", ""),
	 "t.json: providers.p.batch.window_h: must be at least 24 (hours: "
	 "no batch API offers a shorter completion window), got 12"},
	{"window over 14 days", OA(",\"batch\":{\"window_h\":337}", ""),
	 "t.json: providers.p.batch.window_h: must be at most 336, got 337"},
	{"window 0", OA(",\"batch\":{\"window_h\":0}", ""),
	 "t.json: providers.p.batch.window_h: must be a positive integer, "
	 "got 0"},
	{"anthropic window is fixed", AN(",\"batch\":{\"window_h\":48}", ""),
	 "t.json: providers.p.batch.window_h: must be 24: Message Batches "
	 "have a fixed 24 h window, got 48"},
	{"openai takes only 24h",
	 OA(",\"flavor\":\"openai\",\"batch\":{\"window_h\":48}", ""),
	 "t.json: providers.p.batch.window_h: must be 24: OpenAI's Batch API "
	 "takes only \"24h\", got 48"},

	/* a model's batch members */
	{"batch price without a lane", OA("", ",\"batch_input_per_mtok\":0.5"),
	 "t.json: providers.p.models.m.batch_input_per_mtok: the provider has "
	 "no batch lane (no \"batch\" object), so this would never be used"},
	{"batch output price without a lane",
	 OA("", ",\"batch_output_per_mtok\":0.5"),
	 "t.json: providers.p.models.m.batch_output_per_mtok: the provider "
	 "has no batch lane (no \"batch\" object), so this would never be "
	 "used"},
	{"batch false without a lane", OA("", ",\"batch\":false"),
	 "t.json: providers.p.models.m.batch: the provider has no batch lane "
	 "(no \"batch\" object), so this would never be used"},
	{"batch price on a model off the lane",
	 OA(LANE, ",\"batch\":false,\"batch_output_per_mtok\":0.5"),
	 "t.json: providers.p.models.m.batch_output_per_mtok: the model is "
	 "not on the batch lane (\"batch\": false), so this would never be "
	 "used"},
	{"model batch not a boolean", OA(LANE, ",\"batch\":\"no\""),
	 "t.json: providers.p.models.m.batch: must be true or false, got "
	 "\"no\""},
	{"negative batch price", OA(LANE, ",\"batch_input_per_mtok\":-1"),
	 "t.json: providers.p.models.m.batch_input_per_mtok: must be a "
	 "non-negative number (USD per million tokens), got -1"},
	{"absurd batch price", OA(LANE, ",\"batch_output_per_mtok\":2e6"),
	 "t.json: providers.p.models.m.batch_output_per_mtok: must be at "
	 "most 1000000 (USD per million tokens), got 2000000"},
	{"misspelt batch price", OA(LANE, ",\"batch_input_mtok\":1"),
	 "t.json: providers.p.models.m.batch_input_mtok: unknown field"},
};
/* clang-format on */

static void validation_table(void **state)
{
	size_t i;
	int failures = 0;

	(void)state;
	for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *v = &vcases[i];
		struct config *c = NULL;
		char err[512] = "untouched";
		int rc = config_parse(v->json, strlen(v->json), "t.json", &c,
				      err, sizeof(err));

		if (!v->want && (rc != 0 || !c)) {
			print_error("%s: rejected: %s\n", v->name, err);
			failures++;
		} else if (v->want && (rc != CONFIG_EINVAL || c ||
				       strcmp(err, v->want) != 0)) {
			print_error("%s: rc=%d\n  got  \"%s\"\n  want \"%s\"\n",
				    v->name, rc, err, v->want);
			failures++;
		}
		config_free(&c);
	}
	assert_int_equal(failures, 0);
}

static struct config *parse(const char *json)
{
	struct config *c = NULL;
	char err[512];

	if (config_parse(json, strlen(json), "t", &c, err, sizeof(err)))
		fail_msg("%s", err);
	return c;
}

/* Limits default by API; discount and window the same for both. */
static void defaults_by_api(void **state)
{
	static const struct {
		const char *json;
		enum prov_batch_api api;
		int64_t max_requests, max_bytes;
	} rows[] = {
	    {OA(LANE, ""), PROV_BATCH_OPENAI, 50000, 200000000},
	    {AN(LANE, ""), PROV_BATCH_ANTHROPIC, 100000, 256000000},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct config *c = parse(rows[i].json);
		const struct prov *p = &c->provs[0];
		const struct prov_model *m = &p->models[0];

		assert_int_equal(p->batch.on, 1);
		assert_int_equal(p->batch.api, rows[i].api);
		assert_true(p->batch.discount == 0.5);
		assert_int_equal(p->batch.max_requests, rows[i].max_requests);
		assert_int_equal(p->batch.max_bytes, rows[i].max_bytes);
		assert_int_equal(p->batch.window_h, 24);
		/* no batch prices: < 0, the discount applies */
		assert_true(m->batch_input_per_mtok < 0);
		assert_true(m->batch_output_per_mtok < 0);
		assert_int_equal(m->batch_off, 0);
		assert_true(prov_has_lane(p, m, LANE_BATCH));
		config_free(&c);
	}
}

static void given_values_are_kept(void **state)
{
	struct config *c = parse(
	    OA(",\"flavor\":\"dashscope\",\"batch\":{\"discount\":0.4,"
	       "\"max_requests\":1000,\"max_bytes\":500000000,"
	       "\"window_h\":72}",
	       ",\"batch_input_per_mtok\":0.3,\"batch_output_per_mtok\":0"));
	const struct prov *p = &c->provs[0];

	(void)state;
	assert_true(p->batch.discount == 0.4);
	assert_int_equal(p->batch.max_requests, 1000);
	assert_int_equal(p->batch.max_bytes, 500000000);
	assert_int_equal(p->batch.window_h, 72);
	assert_true(p->models[0].batch_input_per_mtok == 0.3);
	assert_true(p->models[0].batch_output_per_mtok == 0);
	config_free(&c);
}

/* A provider without "batch" has no lane: on is 0, and no model of it is
 * on a batch lane; every model is on the sync lane. */
static void lanes_of_models(void **state)
{
	struct config *none = parse(OA("", ""));
	struct config *off = parse(OA(LANE, ",\"batch\":false"));
	const struct prov *p;

	(void)state;
	p = &none->provs[0];
	assert_int_equal(p->batch.on, 0);
	assert_false(prov_has_lane(p, &p->models[0], LANE_BATCH));
	assert_true(prov_has_lane(p, &p->models[0], LANE_SYNC));
	p = &off->provs[0];
	assert_int_equal(p->batch.on, 1);
	assert_int_equal(p->models[0].batch_off, 1);
	assert_false(prov_has_lane(p, &p->models[0], LANE_BATCH));
	assert_true(prov_has_lane(p, &p->models[0], LANE_SYNC));
	config_free(&none);
	config_free(&off);
}

static void names(void **state)
{
	enum prov_lane l = LANE_BATCH;

	(void)state;
	assert_string_equal(prov_lane_name(LANE_SYNC), "sync");
	assert_string_equal(prov_lane_name(LANE_BATCH), "batch");
	assert_int_equal(prov_lane_parse("sync", &l), 0);
	assert_int_equal(l, LANE_SYNC);
	assert_int_equal(prov_lane_parse("batch", &l), 0);
	assert_int_equal(l, LANE_BATCH);
	assert_int_equal(prov_lane_parse("Batch", &l), -1);
	assert_int_equal(prov_lane_parse("auto", &l), -1);
	assert_int_equal(prov_lane_parse("", &l), -1);
	assert_int_equal(prov_lane_parse(NULL, &l), -1);
	assert_int_equal(l, LANE_BATCH); /* untouched on failure */
	assert_string_equal(prov_batch_api_name(PROV_BATCH_OPENAI), "openai");
	assert_string_equal(prov_batch_api_name(PROV_BATCH_ANTHROPIC),
			    "anthropic");
	/* batch_wire.h's enum batch_api has these values */
	assert_int_equal(PROV_BATCH_OPENAI, 0);
	assert_int_equal(PROV_BATCH_ANTHROPIC, 1);
}

static const struct prov *find(const struct config *c, const char *name)
{
	int i = route_find_prov(c->provs, c->nprovs, name);

	assert_true(i >= 0);
	return &c->provs[i];
}

static const struct prov_model *find_model(const struct prov *p,
					   const char *name)
{
	int i = route_find_model(p, name);

	assert_true(i >= 0);
	return &p->models[i];
}

/* The catalogue's lanes as its comments state them. */
static void catalogue_lanes(void **state)
{
	static const char *const without[] = {"deepseek", "mistral", "gemini"};
	const char *text = catalogue_json();
	struct config *c = NULL;
	const struct prov *p;
	char err[512];
	size_t i;

	(void)state;
	assert_int_equal(
	    config_parse(text, strlen(text), "built-in", &c, err, sizeof(err)),
	    0);
	p = find(c, "qwen");
	assert_int_equal(p->batch.on, 1);
	assert_int_equal(p->batch.api, PROV_BATCH_OPENAI);
	assert_true(p->batch.discount == 0.5);
	assert_int_equal(p->batch.max_requests, 50000);
	assert_int_equal(p->batch.max_bytes, 500000000);
	assert_int_equal(p->batch.window_h, 24);
	assert_true(prov_has_lane(p, find_model(p, "qwen-flash"), LANE_BATCH));
	assert_true(prov_has_lane(p, find_model(p, "qwen-plus"), LANE_BATCH));
	/* Singapore does not batch qwen3-max */
	assert_false(prov_has_lane(p, find_model(p, "qwen3-max"), LANE_BATCH));

	p = find(c, "openai");
	assert_int_equal(p->batch.on, 1);
	assert_int_equal(p->batch.api, PROV_BATCH_OPENAI);
	assert_int_equal(p->batch.max_requests, 50000);
	assert_int_equal(p->batch.max_bytes, 200000000);
	for (i = 0; i < p->nmodels; i++)
		assert_true(prov_has_lane(p, &p->models[i], LANE_BATCH));

	p = find(c, "anthropic");
	assert_int_equal(p->batch.on, 1);
	assert_int_equal(p->batch.api, PROV_BATCH_ANTHROPIC);
	assert_int_equal(p->batch.max_requests, 100000);
	assert_int_equal(p->batch.max_bytes, 256000000);
	for (i = 0; i < p->nmodels; i++)
		assert_true(prov_has_lane(p, &p->models[i], LANE_BATCH));

	for (i = 0; i < sizeof(without) / sizeof(without[0]); i++)
		assert_int_equal(find(c, without[i])->batch.on, 0);
	config_free(&c);
}

/* qwen's batch lane is the cheapest of every lane of every "cheap"
 * candidate at every hour of a week, as its sync lane is of the sync
 * lanes (test_config.c): a batch at half price must not make another
 * provider the better first choice. */
static void catalogue_qwen_cheapest_on_batch(void **state)
{
	const char *text = catalogue_json();
	struct route_cand cands[16];
	struct config *c = NULL;
	const struct prov *q;
	char err[512];
	size_t i, n, h;
	double qin, qout;

	(void)state;
	assert_int_equal(
	    config_parse(text, strlen(text), "built-in", &c, err, sizeof(err)),
	    0);
	n = route_candidates(c->provs, c->nprovs, c->routes, c->nroutes,
			     "cheap", cands, 16);
	assert_true(n >= 5);
	q = &c->provs[cands[0].prov];
	assert_string_equal(q->name, "qwen");
	cost_price_lane(q, &q->models[cands[0].model], LANE_BATCH, MONDAY, &qin,
			&qout);
	for (h = 0; h < 7 * 24; h++) {
		int64_t t = MONDAY + (int64_t)h * 3600 + 1800;

		for (i = 1; i < n; i++) {
			const struct prov *p = &c->provs[cands[i].prov];
			const struct prov_model *m = &p->models[cands[i].model];
			enum prov_lane l;

			for (l = LANE_SYNC; l <= LANE_BATCH; l++) {
				double in, out;

				if (!prov_has_lane(p, m, l))
					continue;
				cost_price_lane(p, m, l, t, &in, &out);
				if (!(qin < in && qout < out))
					fail_msg("hour %zu: qwen batch %g/%g "
						 "vs %s %s %g/%g",
						 h, qin, qout, p->name,
						 prov_lane_name(l), in, out);
			}
		}
	}
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(validation_table),
	    cmocka_unit_test(defaults_by_api),
	    cmocka_unit_test(given_values_are_kept),
	    cmocka_unit_test(lanes_of_models),
	    cmocka_unit_test(names),
	    cmocka_unit_test(catalogue_lanes),
	    cmocka_unit_test(catalogue_qwen_cheapest_on_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
