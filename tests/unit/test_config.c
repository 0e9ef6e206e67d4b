/* test_config.c — the providers config: every validation rule (each a row
 * of a table: JSON in, error path and reason out), candidate resolution,
 * off-peak prices, loading from a file and from $NIGHTSHIFT_PROVIDERS, and
 * the built-in catalogue (it parses, and qwen is the cheapest first choice
 * of the "cheap" route at every hour of the week). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner/providers/catalogue.h"
#include "runner/config.h"
#include "runner/providers/cost.h"

/* 2026-11-23 00:00:00 UTC, a Monday. */
#define MONDAY 1795392000LL
#define HOUR 3600LL
#define DAY (24 * HOUR)

/* A valid provider body to splice into test configs. */
#define PROV_OK                                                                \
	"\"dialect\":\"openai\",\"base_url\":\"https://api.example.com/v1\","  \
	"\"api_key_env\":\"EXAMPLE_KEY\","                                    \
	"\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":2}}"

#define ONE(body) "{\"providers\":{\"p\":{" body "}}}"

struct vcase {
	const char *name;
	const char *json;
	const char *want; /* NULL: must parse; else a substring of err */
};

static const struct vcase vcases[] = {
	/* accepted */
	{"minimal https", ONE(PROV_OK), NULL},
	{"http loopback 127.0.0.1 keyless",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"http://127.0.0.1:8080/v1\","
	     "\"models\":{\"m\":{\"input_per_mtok\":0,\"output_per_mtok\":0}}"),
	 NULL},
	{"http loopback 127.1.2.3",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"http://127.1.2.3/v1\","
	     "\"models\":{\"m\":{\"input_per_mtok\":0,\"output_per_mtok\":0}}"),
	 NULL},
	{"http localhost",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"http://LocalHost:9/\","
	     "\"models\":{\"m\":{\"input_per_mtok\":0,\"output_per_mtok\":0}}"),
	 NULL},
	{"http [::1]",
	 ONE("\"dialect\":\"anthropic\",\"base_url\":\"http://[::1]:9\","
	     "\"models\":{\"m\":{\"input_per_mtok\":0,\"output_per_mtok\":0}}"),
	 NULL},
	{"explicit null key on https",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":null,"
	     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
	 NULL},
	{"all fields",
	 "{\"$schema\":\"x\",\"providers\":{\"p\":{" PROV_OK
	 ",\"flavor\":\"dashscope\",\"max_inflight\":8,\"rpm\":60,"
	 "\"tpm\":100000,\"timeout_s\":30,\"connect_timeout_s\":5,"
	 "\"max_retries\":0,\"prices_date\":\"2026-11-01\","
	 "\"prices_source\":\"https://example.com/p\","
	 "\"quirks\":{\"json_mode\":\"prompt\",\"needs_json_word\":true,"
	 "\"enable_thinking\":false,\"drop_params\":[\"seed\",\"user\"]}}},"
	 "\"routes\":{\"r\":[\"p:m\"]}}",
	 NULL},
	/* top level and JSON */
	{"invalid JSON", "{\n \"providers\": ,\n}", "invalid JSON near byte 16 "
						  "(line 2, column 15)"},
	{"trailing garbage", ONE(PROV_OK) " x", "invalid JSON"},
	{"empty text", "", "invalid JSON near byte 0"},
	{"top level array", "[]", "top level must be a JSON object"},
	{"no providers", "{}", "providers: required"},
	{"empty providers", "{\"providers\":{}}", "at least one provider"},
	{"unknown top field",
	 "{\"providers\":{\"p\":{" PROV_OK "}},\"rutes\":1}",
	 "rutes: unknown field"},
	{"bad provider name", "{\"providers\":{\"a:b\":{" PROV_OK "}}}",
	 "providers.a:b: provider name"},
	{"duplicate provider",
	 "{\"providers\":{\"p\":{" PROV_OK "},\"p\":{" PROV_OK "}}}",
	 "providers.p: duplicate name"},
	/* dialect and flavor */
	{"missing dialect",
	 ONE("\"base_url\":\"https://x.example\",\"api_key_env\":\"K\","
	     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
	 "providers.p.dialect: required"},
	{"dialect given twice", ONE(PROV_OK ",\"dialect\":\"gemini\""),
	 "providers.p.dialect: duplicate field"},
	{"bad dialect value",
	 ONE("\"dialect\":\"gemini\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"K\","
	     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
	 "providers.p.dialect: must be \"openai\" or \"anthropic\""},
	{"bad flavor", ONE(PROV_OK ",\"flavor\":\"qwen\""),
	 "providers.p.flavor: must be one of"},
	/* base_url */
	{"missing base_url",
	 ONE("\"dialect\":\"openai\",\"api_key_env\":\"K\","
	     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
	 "providers.p.base_url: required"},
	{"http non-loopback",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"http://api.example.com\","
	     "\"api_key_env\":\"K\","
	     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
	 "providers.p.base_url: http:// is only allowed for loopback"},
	{"http 127.0.0.1 as a subdomain",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"http://127.0.0.1.evil.io\","
	     "\"api_key_env\":\"K\","
	     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
	 "http:// is only allowed for loopback"},
	{"http 10.0.0.1",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"http://10.0.0.1:80\","
	     "\"api_key_env\":\"K\","
	     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
	 "http:// is only allowed for loopback"},
	{"ftp scheme",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"ftp://x.example\","
	     "\"api_key_env\":\"K\","
	     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
	 "providers.p.base_url: must start with https://"},
	{"bad port",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example:99999\","
	     "\"api_key_env\":\"K\","
	     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
	 "malformed port"},
	{"query in url",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example/?a=1\","
	     "\"api_key_env\":\"K\","
	     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
	 "query or fragment"},
	/* keys */
	{"api_key field", ONE(PROV_OK ",\"api_key\":\"sk-secret-999\""),
	 "providers.p.api_key: keys do not belong in the config"},
	{"key pasted into api_key_env",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"sk-secret-999\","
	     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
	 "providers.p.api_key_env: must be the NAME of an environment"},
	{"credentials in url",
	 ONE("\"dialect\":\"openai\","
	     "\"base_url\":\"https://u:sk-secret-999@x.example\","
	     "\"api_key_env\":\"K\","
	     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
	 "providers.p.base_url: must not contain credentials"},
	{"missing api_key_env on https",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
	 "providers.p.api_key_env: required"},
	/* numbers */
	{"max_inflight 0", ONE(PROV_OK ",\"max_inflight\":0"),
	 "providers.p.max_inflight: must be a positive integer"},
	{"max_inflight fraction", ONE(PROV_OK ",\"max_inflight\":1.5"),
	 "providers.p.max_inflight: must be a positive integer"},
	{"max_inflight string", ONE(PROV_OK ",\"max_inflight\":\"8\""),
	 "providers.p.max_inflight: must be a positive integer"},
	{"max_inflight huge", ONE(PROV_OK ",\"max_inflight\":1e12"),
	 "providers.p.max_inflight: must be at most"},
	{"rpm negative", ONE(PROV_OK ",\"rpm\":-1"),
	 "providers.p.rpm: must be a non-negative integer"},
	{"timeout_s 0", ONE(PROV_OK ",\"timeout_s\":0"),
	 "providers.p.timeout_s: must be a positive integer"},
	{"max_retries bool", ONE(PROV_OK ",\"max_retries\":true"),
	 "providers.p.max_retries: must be a non-negative integer"},
	{"connect above timeout",
	 ONE(PROV_OK ",\"timeout_s\":5,\"connect_timeout_s\":6"),
	 "providers.p.connect_timeout_s: must not exceed timeout_s"},
	/* unknown and duplicate fields */
	{"unknown provider field", ONE(PROV_OK ",\"max_inflght\":4"),
	 "providers.p.max_inflght: unknown field"},
	{"duplicate provider field", ONE(PROV_OK ",\"rpm\":1,\"rpm\":2"),
	 "providers.p.rpm: duplicate field"},
	{"unknown model field",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	     "\"output_per_mtok\":1,\"ouput_per_mtok\":1}}"),
	 "providers.p.models.m.ouput_per_mtok: unknown field"},
	{"unknown quirk", ONE(PROV_OK ",\"quirks\":{\"json\":true}"),
	 "providers.p.quirks.json: unknown field"},
	/* models and prices */
	{"no models",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"K\""),
	 "providers.p.models: required"},
	{"empty models",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"K\",\"models\":{}"),
	 "providers.p.models: must list at least one model"},
	{"negative price",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"K\","
	     "\"models\":{\"m\":{\"input_per_mtok\":-0.1,"
	     "\"output_per_mtok\":1}}"),
	 "providers.p.models.m.input_per_mtok: must be a non-negative number"},
	{"missing output price",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1}}"),
	 "providers.p.models.m.output_per_mtok: required"},
	{"negative cached price",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	     "\"output_per_mtok\":1,\"cached_input_per_mtok\":-1}}"),
	 "providers.p.models.m.cached_input_per_mtok: must be a non-negative"},
	{"context_window 0",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	     "\"output_per_mtok\":1,\"context_window\":0}}"),
	 "providers.p.models.m.context_window: must be a positive integer"},
	{"model not an object",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"K\",\"models\":{\"m\":1}"),
	 "providers.p.models.m: must be an object"},
	/* off-peak windows */
	{"offpeak bad hour",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	     "\"output_per_mtok\":1,\"offpeak\":[{\"start\":\"25:00\","
	     "\"end\":\"01:00\",\"input_per_mtok\":1,"
	     "\"output_per_mtok\":1}]}}"),
	 "providers.p.models.m.offpeak[0].start: must be a UTC time"},
	{"offpeak empty window",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	     "\"output_per_mtok\":1,\"offpeak\":[{\"start\":\"01:00\","
	     "\"end\":\"01:00\",\"input_per_mtok\":1,"
	     "\"output_per_mtok\":1}]}}"),
	 "providers.p.models.m.offpeak[0].end: must differ from start"},
	{"offpeak missing price",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	     "\"output_per_mtok\":1,\"offpeak\":[{\"start\":\"01:00\","
	     "\"end\":\"02:00\",\"input_per_mtok\":1}]}}"),
	 "providers.p.models.m.offpeak[0].output_per_mtok: required"},
	{"offpeak bad day",
	 ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	     "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	     "\"output_per_mtok\":1,\"offpeak\":[{\"start\":\"01:00\","
	     "\"end\":\"02:00\",\"input_per_mtok\":1,\"output_per_mtok\":1,"
	     "\"days\":[\"sat\",\"Sunday\"]}]}}"),
	 "providers.p.models.m.offpeak[0].days[1]: must be one of"},
	/* quirks and metadata */
	{"bad json_mode", ONE(PROV_OK ",\"quirks\":{\"json_mode\":\"yes\"}"),
	 "providers.p.quirks.json_mode: must be \"native\" or \"prompt\""},
	{"bad drop_params", ONE(PROV_OK ",\"quirks\":{\"drop_params\":[1]}"),
	 "providers.p.quirks.drop_params[0]: must be a request field name"},
	{"bad prices_date", ONE(PROV_OK ",\"prices_date\":\"26/11/2026\""),
	 "providers.p.prices_date: must be a date"},
	/* routes */
	{"route to missing provider",
	 "{\"providers\":{\"p\":{" PROV_OK "}},"
	 "\"routes\":{\"r\":[\"p:m\",\"nope:m\"]}}",
	 "routes.r[1]: provider \"nope\" is not configured"},
	{"route to missing model",
	 "{\"providers\":{\"p\":{" PROV_OK "}},\"routes\":{\"r\":[\"p:x\"]}}",
	 "routes.r[0]: provider \"p\" has no model \"x\""},
	{"route entry without colon",
	 "{\"providers\":{\"p\":{" PROV_OK "}},\"routes\":{\"r\":[\"pm\"]}}",
	 "routes.r[0]: must be \"provider:model\""},
	{"empty route",
	 "{\"providers\":{\"p\":{" PROV_OK "}},\"routes\":{\"r\":[]}}",
	 "routes.r: must be a non-empty array"},
	{"duplicate route entry",
	 "{\"providers\":{\"p\":{" PROV_OK "}},"
	 "\"routes\":{\"r\":[\"p:m\",\"p:m\"]}}",
	 "routes.r[1]: duplicate of entry 0"},
	{"route name with colon",
	 "{\"providers\":{\"p\":{" PROV_OK "}},\"routes\":{\"a:b\":[\"p:m\"]}}",
	 "routes.a:b: route name"},
};

static void validation_table(void **state)
{
	size_t i;
	int failures = 0;

	(void)state;
	for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *v = &vcases[i];
		struct config *c = (struct config *)1;
		char err[512] = "untouched";
		int rc = config_parse(v->json, strlen(v->json), "test.json",
				      &c, err, sizeof(err));

		if (!v->want) {
			if (rc != 0 || !c) {
				print_error("%s: rejected: %s\n", v->name, err);
				failures++;
			}
		} else if (rc != CONFIG_EINVAL || c != NULL ||
			   strncmp(err, "test.json: ", 11) != 0 ||
			   !strstr(err, v->want)) {
			print_error("%s: rc=%d err=\"%s\", wanted \"%s\"\n",
				    v->name, rc, err, v->want);
			failures++;
		} else if (strstr(err, "sk-secret-999")) {
			print_error("%s: error echoes a secret: %s\n", v->name,
				    err);
			failures++;
		}
		config_free(&c);
	}
	assert_int_equal(failures, 0);
}

static void defaults_and_normalisation(void **state)
{
	static const char json[] = ONE(
		"\"dialect\":\"openai\","
		"\"base_url\":\"http://127.0.0.1:9/v1//\","
		"\"models\":{\"m\":{\"input_per_mtok\":1.5,"
		"\"output_per_mtok\":2}}");
	struct config *c = NULL;
	char err[256];
	const struct prov *p;

	(void)state;
	assert_int_equal(config_parse(json, strlen(json), NULL, &c, err,
				      sizeof(err)),
			 0);
	p = &c->provs[0];
	assert_string_equal(c->source, "config");
	assert_string_equal(p->base_url, "http://127.0.0.1:9/v1");
	assert_null(p->api_key_env);
	assert_int_equal(p->max_inflight, 16);
	assert_int_equal(p->rpm, 0);
	assert_int_equal(p->tpm, 0);
	assert_int_equal(p->timeout_s, 120);
	assert_int_equal(p->connect_timeout_s, 10);
	assert_int_equal(p->max_retries, 4);
	assert_int_equal(p->flavor, FLAVOR_GENERIC);
	assert_int_equal(p->dialect, PROV_OPENAI);
	/* unknown cache discounts default to the plain input price */
	assert_true(p->models[0].cached_input_per_mtok == 1.5);
	assert_true(p->models[0].cache_write_per_mtok == 1.5);
	assert_int_equal(p->quirks.disable_thinking, 0);
	assert_int_equal(c->nroutes, 0);
	config_free(&c);
	assert_null(c);
	config_free(&c); /* NULL is fine */
	config_free(NULL);
}

static void flavor_defaults(void **state)
{
	static const char json[] =
		"{\"providers\":{"
		"\"qwen\":{" PROV_OK "},\"deepseek\":{" PROV_OK "},"
		"\"claude\":{\"dialect\":\"anthropic\","
		"\"base_url\":\"https://a.example\",\"api_key_env\":\"K\","
		"\"models\":{\"m\":{\"input_per_mtok\":1,"
		"\"output_per_mtok\":1}}},"
		"\"local\":{" PROV_OK ",\"flavor\":\"mistral\"}}}";
	struct config *c = NULL;
	char err[256];

	(void)state;
	assert_int_equal(config_parse(json, strlen(json), "f", &c, err,
				      sizeof(err)),
			 0);
	assert_int_equal(c->provs[0].flavor, FLAVOR_DASHSCOPE);
	assert_int_equal(c->provs[1].flavor, FLAVOR_DEEPSEEK);
	assert_int_equal(c->provs[2].flavor, FLAVOR_ANTHROPIC);
	assert_int_equal(c->provs[2].dialect, PROV_ANTHROPIC);
	assert_int_equal(c->provs[3].flavor, FLAVOR_MISTRAL);
	config_free(&c);
}

/* Candidates: a lists x,y; b lists y,z; route r = [b:z, a:x]; route "y"
 * shadows the bare model name y. */
static const char cand_json[] =
	"{\"providers\":{"
	"\"a\":{\"dialect\":\"openai\",\"base_url\":\"https://a.example\","
	"\"api_key_env\":\"A_KEY\",\"models\":{"
	"\"x\":{\"input_per_mtok\":1,\"output_per_mtok\":1},"
	"\"y\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}},"
	"\"b\":{\"dialect\":\"openai\",\"base_url\":\"https://b.example\","
	"\"api_key_env\":\"B_KEY\",\"models\":{"
	"\"y\":{\"input_per_mtok\":1,\"output_per_mtok\":1},"
	"\"z\":{\"input_per_mtok\":1,\"output_per_mtok\":1},"
	"\"llama3:8b\":{\"input_per_mtok\":0,\"output_per_mtok\":0}}}},"
	"\"routes\":{\"r\":[\"b:z\",\"a:x\"],\"z\":[\"a:y\"]}}";

struct ccase {
	const char *model;
	size_t cap;
	size_t want_n;
	struct route_cand want[3];
};

static const struct ccase ccases[] = {
	{"r", 8, 2, {{1, 1}, {0, 0}}},	/* route, in route order */
	{"a:y", 8, 1, {{0, 1}}},	/* pinned */
	{"b:y", 8, 1, {{1, 0}}},	/* pinned, other provider */
	{"a:z", 8, 0, {{0, 0}}},	/* pinned to a model a lacks */
	{"nope:x", 8, 0, {{0, 0}}},	/* pinned to a missing provider */
	{"y", 8, 2, {{0, 1}, {1, 0}}}, /* bare: all, in config order */
	{"x", 8, 1, {{0, 0}}},		/* bare, one provider */
	{"z", 8, 1, {{0, 1}}},		/* route name wins over model z */
	{"w", 8, 0, {{0, 0}}},		/* unknown */
	{"llama3:8b", 8, 1, {{1, 2}}},	/* a colon inside a bare model id */
	{"b:llama3:8b", 8, 1, {{1, 2}}}, /* ...and pinned */
	{"", 8, 0, {{0, 0}}},		/* empty */
	{"y", 1, 1, {{0, 1}}},		/* capped: first only */
	{"r", 1, 1, {{1, 1}}},		/* capped route */
	{"y", 0, 2, {{0, 0}}},		/* cap 0 counts */
	{"r", 0, 2, {{0, 0}}},		/* cap 0 counts a route */
};

static void candidates_table(void **state)
{
	struct config *c = NULL;
	char err[256];
	size_t i, j;

	(void)state;
	assert_int_equal(config_parse(cand_json, strlen(cand_json), "c", &c,
				      err, sizeof(err)),
			 0);
	assert_int_equal(config_find_prov(c, "b"), 1);
	assert_int_equal(config_find_prov(c, "c"), -1);
	assert_int_equal(config_find_model(&c->provs[1], "z"), 1);
	assert_int_equal(config_find_model(&c->provs[1], "x"), -1);
	for (i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
		const struct ccase *k = &ccases[i];
		struct route_cand out[8];
		size_t n;

		memset(out, 0xff, sizeof(out));
		n = config_candidates(c, k->model, k->cap ? out : NULL, k->cap);
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
	config_free(&c);
}

struct pcase {
	const char *name;
	int64_t t;
	double in, out;
};

static void offpeak_prices(void **state)
{
	/* base 1/2; 16:30-00:30 every day at 0.5/1; Saturdays all day at
	 * 0.25/0.5 (listed second: the first matching window wins). */
	static const char json[] = ONE(
		"\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
		"\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
		"\"output_per_mtok\":2,\"offpeak\":["
		"{\"start\":\"16:30\",\"end\":\"00:30\",\"input_per_mtok\":0.5,"
		"\"output_per_mtok\":1},"
		"{\"start\":\"00:00\",\"end\":\"24:00\",\"days\":[\"sat\"],"
		"\"input_per_mtok\":0.25,\"output_per_mtok\":0.5}]}}");
	const int64_t thu = MONDAY + 3 * DAY, sat = MONDAY + 5 * DAY;
	const struct pcase cases[] = {
		{"thu 12:00 peak", thu + 12 * HOUR, 1, 2},
		{"thu 16:29 peak", thu + 16 * HOUR + 29 * 60, 1, 2},
		{"thu 16:30 off", thu + 16 * HOUR + 30 * 60, 0.5, 1},
		{"thu 23:59:59 off", thu + DAY - 1, 0.5, 1},
		{"fri 00:00 off (wrapped)", thu + DAY, 0.5, 1},
		{"fri 00:29:59 off", thu + DAY + 30 * 60 - 1, 0.5, 1},
		{"fri 00:30 peak", thu + DAY + 30 * 60, 1, 2},
		{"sat 12:00 weekend", sat + 12 * HOUR, 0.25, 0.5},
		{"sat 00:10 first window wins", sat + 10 * 60, 0.5, 1},
		{"sun 12:00 peak", sat + DAY + 12 * HOUR, 1, 2},
		{"before 1970, 17:00", -7 * HOUR, 0.5, 1},
	};
	struct config *c = NULL;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(config_parse(json, strlen(json), "o", &c, err,
				      sizeof(err)),
			 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double in = -1, out = -1;

		cost_price(&c->provs[0].models[0], cases[i].t, &in, &out);
		if (in != cases[i].in || out != cases[i].out)
			print_error("%s: got %g/%g\n", cases[i].name, in, out);
		assert_true(in == cases[i].in);
		assert_true(out == cases[i].out);
	}
	config_free(&c);
}

static void key_set(void **state)
{
	struct config *c = NULL;
	char err[256], *k;
	int bad = -1;

	(void)state;
	assert_int_equal(config_parse(cand_json, strlen(cand_json), "c", &c,
				      err, sizeof(err)),
			 0);
	unsetenv("A_KEY");
	assert_int_equal(config_key_state(&c->provs[0]), 0);
	setenv("A_KEY", "", 1);
	assert_int_equal(config_key_state(&c->provs[0]), 0);
	setenv("A_KEY", " \t ", 1); /* blank is unset */
	assert_int_equal(config_key_state(&c->provs[0]), 0);
	setenv("A_KEY", "sk-test-123", 1);
	assert_int_equal(config_key_state(&c->provs[0]), 1);
	/* spaces around the key are not sent */
	setenv("A_KEY", "  sk-test-123\t", 1);
	k = config_key(&c->provs[0], &bad);
	assert_string_equal(k, "sk-test-123");
	assert_int_equal(bad, 0);
	free(k);
	/* a CR LF would start another header line */
	setenv("A_KEY", "sk-test\r\nX-Injected: 1", 1);
	assert_int_equal(config_key_state(&c->provs[0]), -1);
	k = config_key(&c->provs[0], &bad);
	assert_int_equal(bad, 1);
	free(k);
	unsetenv("A_KEY");
	free(c->provs[1].api_key_env);
	c->provs[1].api_key_env = NULL; /* keyless server */
	assert_int_equal(config_key_state(&c->provs[1]), 1);
	k = config_key(&c->provs[1], NULL);
	assert_string_equal(k, "");
	free(k);
	config_free(&c);
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/test_config_XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void load_file_and_env(void **state)
{
	char *good = write_temp(cand_json);
	char *bad = write_temp(ONE(PROV_OK ",\"max_inflight\":0"));
	struct config *c = NULL;
	char err[512];

	(void)state;
	unsetenv(CONFIG_ENV);
	/* built-in when nothing says otherwise */
	assert_int_equal(config_load(NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c->source, "built-in");
	config_free(&c);
	/* explicit path */
	assert_int_equal(config_load(good, &c, err, sizeof(err)), 0);
	assert_string_equal(c->source, good);
	assert_int_equal(c->nprovs, 2);
	config_free(&c);
	/* $NIGHTSHIFT_PROVIDERS, and an explicit path wins over it */
	setenv(CONFIG_ENV, good, 1);
	assert_int_equal(config_load(NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c->source, good);
	config_free(&c);
	assert_int_equal(config_load(bad, &c, err, sizeof(err)),
			 CONFIG_EINVAL);
	assert_null(c);
	assert_non_null(strstr(err, bad));
	assert_non_null(strstr(err, "providers.p.max_inflight"));
	/* empty variable means unset */
	setenv(CONFIG_ENV, "", 1);
	assert_int_equal(config_load(NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c->source, "built-in");
	config_free(&c);
	unsetenv(CONFIG_ENV);
	/* a file that is not there */
	assert_int_equal(config_load("/nonexistent/providers.json", &c, err,
				     sizeof(err)),
			 CONFIG_EIO);
	assert_null(c);
	assert_non_null(strstr(err, "/nonexistent/providers.json: "));
	unlink(good);
	unlink(bad);
	free(good);
	free(bad);
}

/* The built-in catalogue parses, every provider is dated, sourced, keyed
 * and on https, and qwen is the cheapest first candidate of "cheap" at
 * every hour of a week (DeepSeek has time-of-day prices). */
static void builtin_catalogue(void **state)
{
	const char *text = catalogue_json();
	struct route_cand cands[16];
	struct config *c = NULL;
	char err[512];
	size_t i, n, h;

	(void)state;
	if (config_parse(text, strlen(text), "built-in", &c, err,
			 sizeof(err)) != 0)
		print_error("%s\n", err);
	assert_non_null(c);
	assert_true(c->nprovs >= 6);
	for (i = 0; i < c->nprovs; i++) {
		const struct prov *p = &c->provs[i];

		assert_non_null(p->prices_date);
		assert_non_null(p->prices_source);
		assert_non_null(p->api_key_env);
		assert_int_equal(strncmp(p->base_url, "https://", 8), 0);
	}
	assert_true(config_find_prov(c, "qwen") >= 0);
	assert_int_equal(c->provs[config_find_prov(c, "qwen")].dialect,
			 PROV_OPENAI);
	assert_int_equal(c->provs[config_find_prov(c, "anthropic")].dialect,
			 PROV_ANTHROPIC);

	n = config_candidates(c, "cheap", cands, 16);
	assert_true(n >= 5);
	assert_string_equal(c->provs[cands[0].prov].name, "qwen");
	for (h = 0; h < 7 * 24; h++) {
		int64_t t = MONDAY + (int64_t)h * HOUR + 30 * 60;
		double qin, qout;

		cost_price(&c->provs[cands[0].prov].models[cands[0].model],
			     t, &qin, &qout);
		for (i = 1; i < n; i++) {
			const struct prov *p = &c->provs[cands[i].prov];
			double in, out;

			cost_price(&p->models[cands[i].model], t, &in, &out);
			if (!(qin < in && qout < out))
				print_error("hour %zu: qwen %g/%g vs %s "
					    "%g/%g\n",
					    h, qin, qout, p->name, in, out);
			assert_true(qin < in);
			assert_true(qout < out);
		}
	}
	/* "quality" exists too and starts with qwen */
	n = config_candidates(c, "quality", cands, 16);
	assert_true(n >= 5);
	assert_string_equal(c->provs[cands[0].prov].name, "qwen");
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(validation_table),
		cmocka_unit_test(defaults_and_normalisation),
		cmocka_unit_test(flavor_defaults),
		cmocka_unit_test(candidates_table),
		cmocka_unit_test(offpeak_prices),
		cmocka_unit_test(key_set),
		cmocka_unit_test(load_file_and_env),
		cmocka_unit_test(builtin_catalogue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
