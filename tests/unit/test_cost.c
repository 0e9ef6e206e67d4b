/* test_cost.c — cost exactness: every token kind at its own price
 * (uncached input, cache reads, cache writes, output, reasoning billed as
 * output), the off-peak window in force at the instant priced (edges,
 * windows past midnight, weekday windows, first window wins), and the
 * pre-send estimate. Each row's figure is worked out by hand from the
 * prices below and compared to 1e-12 USD, a millionth of a micro-dollar.
 * The model comes from config_parse, so the prices are the ones a user's
 * file would give. cost_price's own table (time-of-day and weekday
 * windows, before 1970 too) comes next; then what a request is charged
 * when its usage is missing or beyond what it allowed (cost_charge); last,
 * the batch lane (cost_*_lane): a model's batch price when given, else
 * its price at the lane's discount, cache prices at the discount, and no
 * off-peak window. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runner/config.h"
#include "runner/providers/cost.h"
#include "runner/providers/dialect_anthropic.h"
#include "runner/sched/route.h"

/* 2026-11-23 00:00:00 UTC, a Monday. */
#define MONDAY 1795392000LL
#define SATURDAY (MONDAY + 5 * DAY)
#define SUNDAY (MONDAY + 6 * DAY)
#define DAY 86400LL
#define H 3600LL
#define MIN 60LL
#define TOL 1e-12

/* "m": input 0.40, output 1.20, cache reads 0.08, cache writes 0.50;
 * 16:30-00:30 UTC every day input 0.20 / output 0.60, and weekends all
 * day input 0.10 / output 0.30 (listed second, so the evening window
 * wins on weekend evenings). "plain": no cache prices (they default to the
 * input price) and no windows. */
static const char config_text[] =
    "{\"providers\":{\"p\":{\"dialect\":\"openai\","
    "\"base_url\":\"https://api.example.com/v1\",\"api_key_env\":\"K\","
    "\"models\":{"
    "\"m\":{\"input_per_mtok\":0.40,\"output_per_mtok\":1.20,"
    "\"cached_input_per_mtok\":0.08,\"cache_write_per_mtok\":0.50,"
    "\"offpeak\":["
    "{\"start\":\"16:30\",\"end\":\"00:30\",\"input_per_mtok\":0.20,"
    "\"output_per_mtok\":0.60},"
    "{\"start\":\"00:00\",\"end\":\"24:00\",\"days\":[\"sat\",\"sun\"],"
    "\"input_per_mtok\":0.10,\"output_per_mtok\":0.30}]},"
    "\"plain\":{\"input_per_mtok\":2.50,\"output_per_mtok\":10}}}}}";

static struct config *cfg;

static int setup(void **state)
{
	char err[512];

	(void)state;
	if (config_parse(config_text, strlen(config_text), "test", &cfg, err,
			 sizeof(err)) != 0) {
		print_error("%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_free(&cfg);
	return 0;
}

static const struct prov_model *model(const char *name)
{
	int i = route_find_model(&cfg->provs[0], name);

	assert_true(i >= 0);
	return &cfg->provs[0].models[i];
}

struct ucase {
	const char *name;
	const char *model;
	struct outcome_usage u; /* in, in_cached, cache_write, out, reasoning */
	int64_t t;
	double want;
};

#define M1 1000000
/* clang-format off */
static const struct ucase ucases[] = {
	/* each kind alone, a million tokens: the price itself */
	{"input at peak", "m", {M1, 0, 0, 0, 0}, MONDAY + 12 * H, 0.40},
	{"cache read", "m", {0, M1, 0, 0, 0}, MONDAY + 12 * H, 0.08},
	{"cache write", "m", {0, 0, M1, 0, 0}, MONDAY + 12 * H, 0.50},
	{"output at peak", "m", {0, 0, 0, M1, 0}, MONDAY + 12 * H, 1.20},
	{"reasoning bills as output", "m", {0, 0, 0, 0, M1}, MONDAY + 12 * H,
	 1.20},
	{"one input token", "m", {1, 0, 0, 0, 0}, MONDAY + 12 * H, 0.0000004},
	{"one cache-read token", "m", {0, 1, 0, 0, 0}, MONDAY + 12 * H,
	 0.00000008},
	{"nothing", "m", {0, 0, 0, 0, 0}, MONDAY + 12 * H, 0},
	/* 1234 x 0.40 + 5678 x 0.08 + 91 x 0.50 + (234 + 567) x 1.20
	 * = 493.6 + 454.24 + 45.5 + 961.2 = 1954.54 micro-dollars */
	{"every kind at once", "m", {1234, 5678, 91, 234, 567},
	 MONDAY + 12 * H, 0.00195454},
	/* an OpenAI-style reply: 1,000 prompt tokens of which 800 cached,
	 * 300 completion tokens of which 200 reasoning */
	{"openai cached+reasoning", "m", {200, 800, 0, 100, 200},
	 MONDAY + 12 * H, 0.000504},
	/* a billion tokens stays exact to the micro-dollar */
	{"a billion input tokens", "m", {1000000000, 0, 0, 0, 0},
	 MONDAY + 12 * H, 400},

	/* off-peak: input and output change, cache prices do not */
	{"off-peak input", "m", {M1, 0, 0, 0, 0}, MONDAY + 17 * H, 0.20},
	{"off-peak output", "m", {0, 0, 0, M1, 0}, MONDAY + 17 * H, 0.60},
	{"off-peak reasoning", "m", {0, 0, 0, 0, M1}, MONDAY + 17 * H, 0.60},
	{"off-peak cache read unchanged", "m", {0, M1, 0, 0, 0},
	 MONDAY + 17 * H, 0.08},
	{"off-peak cache write unchanged", "m", {0, 0, M1, 0, 0},
	 MONDAY + 17 * H, 0.50},
	/* 1234 x 0.20 + 5678 x 0.08 + 91 x 0.50 + 801 x 0.60
	 * = 246.8 + 454.24 + 45.5 + 480.6 = 1227.14 micro-dollars */
	{"off-peak every kind", "m", {1234, 5678, 91, 234, 567},
	 MONDAY + 20 * H, 0.00122714},

	/* window edges: start inclusive, end exclusive, past midnight */
	{"16:29:59 peak", "m", {M1, 0, 0, 0, 0},
	 MONDAY + 16 * H + 29 * MIN + 59, 0.40},
	{"16:30:00 off-peak", "m", {M1, 0, 0, 0, 0},
	 MONDAY + 16 * H + 30 * MIN, 0.20},
	{"00:15 off-peak (wrapped)", "m", {M1, 0, 0, 0, 0},
	 MONDAY + DAY + 15 * MIN, 0.20},
	{"00:29:59 off-peak", "m", {M1, 0, 0, 0, 0},
	 MONDAY + DAY + 29 * MIN + 59, 0.20},
	{"00:30:00 peak", "m", {M1, 0, 0, 0, 0}, MONDAY + DAY + 30 * MIN,
	 0.40},

	/* weekday windows */
	{"saturday noon: weekend price", "m", {M1, 0, 0, M1, 0},
	 SATURDAY + 12 * H, 0.40},
	{"sunday 01:00: weekend price", "m", {M1, 0, 0, 0, 0},
	 SUNDAY + 1 * H, 0.10},
	{"saturday 17:00: first window wins", "m", {M1, 0, 0, 0, 0},
	 SATURDAY + 17 * H, 0.20},
	{"friday noon: peak", "m", {M1, 0, 0, 0, 0}, SATURDAY - 12 * H, 0.40},

	/* no cache prices given: reads and writes at the input price */
	{"plain cache read at input price", "plain", {0, M1, 0, 0, 0},
	 MONDAY + 17 * H, 2.50},
	{"plain cache write at input price", "plain", {0, 0, M1, 0, 0},
	 MONDAY + 17 * H, 2.50},
	{"plain no window", "plain", {M1, 0, 0, M1, M1}, MONDAY + 17 * H,
	 22.50},
};
/* clang-format on */

static void cost_usd_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ucases) / sizeof(ucases[0]); i++) {
		const struct ucase *c = &ucases[i];
		double got = cost_usd(model(c->model), &c->u, c->t);

		if (fabs(got - c->want) > TOL)
			fail_msg("%s: got %.15f, want %.15f", c->name, got,
				 c->want);
	}
}

struct ecase {
	const char *name;
	int64_t est_in, max_out, t;
	double want;
};

static const struct ecase ecases[] = {
    {"peak", 1000, 500, MONDAY + 12 * H, 0.001},
    {"off-peak", 1000, 500, MONDAY + 17 * H, 0.0005},
    {"weekend", 1000, 500, SUNDAY + 12 * H, 0.00025},
    {"input only", 2500, 0, MONDAY + 12 * H, 0.001},
    {"output only", 0, 2500, MONDAY + 12 * H, 0.003},
    {"nothing", 0, 0, MONDAY + 12 * H, 0},
    {"large", 1000000, 1000000, MONDAY + 12 * H, 1.60},
};

static void cost_estimate_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ecases) / sizeof(ecases[0]); i++) {
		const struct ecase *c = &ecases[i];
		double got =
		    cost_estimate(model("m"), c->est_in, c->max_out, c->t);

		if (fabs(got - c->want) > TOL)
			fail_msg("%s: got %.15f, want %.15f", c->name, got,
				 c->want);
	}
}

/* The estimate is the worst case of what cost_usd then charges for the
 * same tokens sent at the same instant: a budget reserved with one never
 * falls short of the other, whichever window is in force. */
static void estimate_matches_charge(void **state)
{
	static const int64_t hours[] = {0, 1, 12, 16, 17, 23};
	size_t i;
	int d;

	(void)state;
	for (d = 0; d < 7; d++) {
		for (i = 0; i < sizeof(hours) / sizeof(hours[0]); i++) {
			int64_t t = MONDAY + d * DAY + hours[i] * H;
			struct outcome_usage u = {.in = 777, .out = 333};

			assert_true(
			    fabs(cost_estimate(model("m"), 777, 333, t) -
				 cost_usd(model("m"), &u, t)) <= TOL);
		}
	}
}

struct pcase {
	const char *name;
	int64_t t;
	double in, out;
};

/* cost_price: base 1/2; 16:30-00:30 every day at 0.5/1; Saturdays all day
 * at 0.25/0.5 (listed second: the first matching window wins). */
static void price_windows_table(void **state)
{
	static const char json[] =
	    "{\"providers\":{\"p\":{\"dialect\":\"openai\","
	    "\"base_url\":\"https://x.example\",\"api_key_env\":\"K\","
	    "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":2,"
	    "\"offpeak\":["
	    "{\"start\":\"16:30\",\"end\":\"00:30\",\"input_per_mtok\":0.5,"
	    "\"output_per_mtok\":1},"
	    "{\"start\":\"00:00\",\"end\":\"24:00\",\"days\":[\"sat\"],"
	    "\"input_per_mtok\":0.25,\"output_per_mtok\":0.5}]}}}}}";
	const int64_t thu = MONDAY + 3 * DAY, sat = MONDAY + 5 * DAY;
	const struct pcase cases[] = {
	    {"thu 12:00 peak", thu + 12 * H, 1, 2},
	    {"thu 16:29 peak", thu + 16 * H + 29 * MIN, 1, 2},
	    {"thu 16:30 off", thu + 16 * H + 30 * MIN, 0.5, 1},
	    {"thu 23:59:59 off", thu + DAY - 1, 0.5, 1},
	    {"fri 00:00 off (wrapped)", thu + DAY, 0.5, 1},
	    {"fri 00:29:59 off", thu + DAY + 30 * MIN - 1, 0.5, 1},
	    {"fri 00:30 peak", thu + DAY + 30 * MIN, 1, 2},
	    {"sat 12:00 weekend", sat + 12 * H, 0.25, 0.5},
	    {"sat 00:10 first window wins", sat + 10 * MIN, 0.5, 1},
	    {"sun 12:00 peak", sat + DAY + 12 * H, 1, 2},
	    {"before 1970, 17:00", -7 * H, 0.5, 1},
	};
	struct config *c = NULL;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(
	    config_parse(json, strlen(json), "o", &c, err, sizeof(err)), 0);
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

/* ---- cost_charge */

struct ccase {
	const char *name;
	int status;
	enum outcome_class cls;
	int reported; /* usage_reported */
	struct outcome_usage u;
	struct cost_allowed al;
	enum cost_basis want_basis;
	double want;
};

/* The usual request: ~100 tokens in a 400-byte body, max_tokens 50, a
 * worst case of half a cent. */
#define AL {100, 400, 50, 0.005}
#define BIG ((int64_t)1000000000000000) /* 1e15, the most a dialect reads */

/* On "plain" at peak: input 2.50, output 10 per Mtok. */
/* clang-format off */
static const struct ccase ccases[] = {
	{"reported", 200, OUTCOME_OK, 1, {90, 0, 0, 40, 0}, AL,
	 COST_REPORTED, 0.000625},
	/* a prompt that read nothing is not a reading: the worst case */
	{"reported zero input is suspect", 200, OUTCOME_OK, 1, {0}, AL,
	 COST_SUSPECT, 0.005},
	{"zero output is taken", 200, OUTCOME_OK, 1, {90, 0, 0, 0, 0}, AL,
	 COST_REPORTED, 0.000225},
	{"an error reporting zeros is not billed", 400, OUTCOME_BAD_REQUEST,
	 1, {0}, AL, COST_REPORTED, 0},
	/* billed without usable usage: the worst case, never $0 */
	{"ok without usage", 200, OUTCOME_OK, 0, {0}, AL,
	 COST_ESTIMATED, 0.005},
	{"invalid output without usage", 200, OUTCOME_INVALID_OUTPUT, 0, {0},
	 AL, COST_ESTIMATED, 0.005},
	{"filtered without usage", 200, OUTCOME_CONTENT_FILTER, 0, {0}, AL,
	 COST_ESTIMATED, 0.005},
	{"cut off after its 200", 200, OUTCOME_CONNECTION, 0, {0}, AL,
	 COST_ESTIMATED, 0.005},
	{"timed out after its 200", 200, OUTCOME_TIMEOUT, 0, {0}, AL,
	 COST_ESTIMATED, 0.005},
	{"a 201 is a 2xx", 201, OUTCOME_OK, 0, {0}, AL, COST_ESTIMATED,
	 0.005},
	/* not billed: no reply, or the provider said it failed */
	{"no response", 0, OUTCOME_CONNECTION, 0, {0}, AL, COST_REPORTED, 0},
	{"429", 429, OUTCOME_RATE_LIMITED, 0, {0}, AL, COST_REPORTED, 0},
	{"an error inside a 200", 200, OUTCOME_SERVER_ERROR, 0, {0}, AL,
	 COST_REPORTED, 0},
	{"an error reporting usage", 400, OUTCOME_BAD_REQUEST, 1,
	 {90, 0, 0, 0, 0}, AL, COST_REPORTED, 0.000225},
	{"an error's partial usage is billed as said", 503,
	 OUTCOME_OVERLOADED, 0, {1000, 0, 0, 0, 0}, AL, COST_REPORTED,
	 0.0025},
	/* beyond what the request allowed: at least the worst case */
	{"one token over max_tokens", 200, OUTCOME_OK, 1, {90, 0, 0, 51, 0},
	 AL, COST_SUSPECT, 0.005},
	{"reasoning counts as output", 200, OUTCOME_OK, 1, {90, 0, 0, 30, 30},
	 AL, COST_SUSPECT, 0.005},
	{"1e15 tokens: as reported", 200, OUTCOME_OK, 1,
	 {BIG, 0, 0, BIG, 0}, AL, COST_SUSPECT, 1.25e10},
	{"at max_tokens", 200, OUTCOME_OK, 1, {90, 0, 0, 50, 0}, AL,
	 COST_REPORTED, 0.000725},
	{"no output bound known", 200, OUTCOME_OK, 1, {90, 0, 0, M1, 0},
	 {100, 400, 0, 0.005}, COST_REPORTED, 10.000225},
	/* input: 4 x max(est_in, bytes / 4) + COST_INPUT_SLACK = 8592 */
	{"input at the bound", 200, OUTCOME_OK, 1, {8592, 0, 0, 0, 0}, AL,
	 COST_REPORTED, 0.02148},
	{"input past the bound", 200, OUTCOME_OK, 1, {8593, 0, 0, 0, 0}, AL,
	 COST_SUSPECT, 0.0214825},
	{"cached input counts", 200, OUTCOME_OK, 1, {0, 8000, 593, 0, 0}, AL,
	 COST_SUSPECT, 0.0214825},
	{"a big body allows more input", 200, OUTCOME_OK, 1,
	 {100000, 0, 0, 0, 0}, {100, 400000, 50, 0.005}, COST_REPORTED, 0.25},
	/* never negative, nan or inf */
	{"negative counts cost nothing", 400, OUTCOME_BAD_REQUEST, 1,
	 {-5, -5, -5, -5, -5}, AL, COST_REPORTED, 0},
	{"a nan worst case", 200, OUTCOME_OK, 0, {0}, {100, 400, 50, NAN},
	 COST_ESTIMATED, 0},
};
/* clang-format on */

static void charge_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
		const struct ccase *c = &ccases[i];
		struct outcome o = OUTCOME_INIT;
		enum cost_basis basis = -1;
		double got;

		o.http_status = c->status;
		o.cls = c->cls;
		o.usage_reported = c->reported;
		o.usage = c->u;
		got = cost_charge(model("plain"), &o, &c->al, MONDAY + 12 * H,
				  &basis);
		if (basis != c->want_basis ||
		    fabs(got - c->want) > TOL * (1 + c->want))
			fail_msg("%s: got %s $%.12g, want %s $%.12g", c->name,
				 cost_basis_name(basis), got,
				 cost_basis_name(c->want_basis), c->want);
	}
}

/* The most tokens an int64 holds, of every kind, on the dearest prices a
 * config takes: a finite figure (the budget then saturates it). */
static void charge_is_finite(void **state)
{
	struct outcome o = OUTCOME_INIT;
	struct cost_allowed al = AL;
	enum cost_basis basis;
	double got;

	(void)state;
	o.http_status = 200;
	o.usage_reported = 1;
	o.usage = (struct outcome_usage){INT64_MAX, INT64_MAX, INT64_MAX,
					 INT64_MAX, INT64_MAX};
	got = cost_charge(model("m"), &o, &al, MONDAY, &basis);
	assert_true(isfinite(got) && got > 1e12);
	assert_int_equal(basis, COST_SUSPECT);
	assert_string_equal(cost_basis_name(COST_REPORTED), "reported");
	assert_string_equal(cost_basis_name(COST_ESTIMATED), "estimated");
	assert_string_equal(cost_basis_name(COST_SUSPECT), "suspect");
}

/* One bound on a request's output for the request builder, the budget
 * and the suspect check: the job's max_tokens, the model's limit, the
 * Messages API's default; nothing for an OpenAI-style request without
 * either. */
static void output_bound(void **state)
{
	struct prov_model capped = {.name = "m", .max_output_tokens = 8192};
	struct prov_model open_ended = {.name = "m"};

	(void)state;
	assert_int_equal(cost_output_bound(PROV_OPENAI, &capped, 50), 50);
	assert_int_equal(cost_output_bound(PROV_ANTHROPIC, &capped, 50), 50);
	assert_int_equal(cost_output_bound(PROV_OPENAI, &capped, 0), 8192);
	assert_int_equal(cost_output_bound(PROV_ANTHROPIC, &open_ended, 0),
			 DIALECT_ANTHROPIC_DEFAULT_MAX_TOKENS);
	assert_int_equal(cost_output_bound(PROV_OPENAI, &open_ended, 0), 0);
}

/* ---- the batch lane */

/* Provider "b", discount 0.5. "m": as above but off-peak 16:30-00:30 at
 * 0.15/0.45 and weekends at 0.10/0.30, none of them the batch price.
 * "given": batch prices of its own, 0.30/0.70. "half": only a batch
 * output price, 0.50. */
static const char batch_text[] =
    "{\"providers\":{\"b\":{\"dialect\":\"openai\","
    "\"base_url\":\"https://api.example.com/v1\",\"api_key_env\":\"K\","
    "\"batch\":{\"discount\":0.5},"
    "\"models\":{"
    "\"m\":{\"input_per_mtok\":0.40,\"output_per_mtok\":1.20,"
    "\"cached_input_per_mtok\":0.08,\"cache_write_per_mtok\":0.50,"
    "\"offpeak\":["
    "{\"start\":\"16:30\",\"end\":\"00:30\",\"input_per_mtok\":0.15,"
    "\"output_per_mtok\":0.45},"
    "{\"start\":\"00:00\",\"end\":\"24:00\",\"days\":[\"sat\",\"sun\"],"
    "\"input_per_mtok\":0.10,\"output_per_mtok\":0.30}]},"
    "\"given\":{\"input_per_mtok\":0.40,\"output_per_mtok\":1.20,"
    "\"cached_input_per_mtok\":0.08,"
    "\"batch_input_per_mtok\":0.30,\"batch_output_per_mtok\":0.70},"
    "\"half\":{\"input_per_mtok\":0.40,\"output_per_mtok\":1.20,"
    "\"batch_output_per_mtok\":0.50}}}}}";

static struct config *batch_cfg(void)
{
	struct config *c = NULL;
	char err[512];

	if (config_parse(batch_text, strlen(batch_text), "b", &c, err,
			 sizeof(err)))
		fail_msg("%s", err);
	return c;
}

static const struct prov_model *bmodel(const struct config *c,
				       const char *name)
{
	int i = route_find_model(&c->provs[0], name);

	assert_true(i >= 0);
	return &c->provs[0].models[i];
}

/* clang-format off */
static const struct ucase batch_ucases[] = {
	/* the price at the discount, whatever the hour */
	{"input at peak hours", "m", {M1, 0, 0, 0, 0}, MONDAY + 12 * H, 0.20},
	{"input in the off-peak window", "m", {M1, 0, 0, 0, 0},
	 MONDAY + 17 * H, 0.20},
	{"input on a weekend", "m", {M1, 0, 0, 0, 0}, SATURDAY + 12 * H,
	 0.20},
	{"output in the off-peak window", "m", {0, 0, 0, M1, 0},
	 MONDAY + 17 * H, 0.60},
	{"reasoning bills as batch output", "m", {0, 0, 0, 0, M1},
	 MONDAY + 12 * H, 0.60},
	/* cache reads and writes at the discount too */
	{"cache read", "m", {0, M1, 0, 0, 0}, MONDAY + 12 * H, 0.04},
	{"cache write", "m", {0, 0, M1, 0, 0}, MONDAY + 17 * H, 0.25},
	/* 1234 x 0.20 + 5678 x 0.04 + 91 x 0.25 + 801 x 0.60
	 * = 246.8 + 227.12 + 22.75 + 480.6 = 977.27 micro-dollars */
	{"every kind at once", "m", {1234, 5678, 91, 234, 567},
	 MONDAY + 17 * H, 0.00097727},
	/* batch prices given: taken as they are */
	{"given input", "given", {M1, 0, 0, 0, 0}, MONDAY + 12 * H, 0.30},
	{"given output", "given", {0, 0, 0, M1, 0}, MONDAY + 12 * H, 0.70},
	{"given: cache read still at the discount", "given",
	 {0, M1, 0, 0, 0}, MONDAY + 12 * H, 0.04},
	/* one given, the other at the discount */
	{"half: input at the discount", "half", {M1, 0, 0, 0, 0},
	 MONDAY + 12 * H, 0.20},
	{"half: output given", "half", {0, 0, 0, M1, 0}, MONDAY + 12 * H,
	 0.50},
	/* no cache prices: the input price's, at the discount */
	{"half: cache write at the input price x 0.5", "half",
	 {0, 0, M1, 0, 0}, MONDAY + 12 * H, 0.20},
};
/* clang-format on */

static void batch_usd_table(void **state)
{
	struct config *c = batch_cfg();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(batch_ucases) / sizeof(batch_ucases[0]); i++) {
		const struct ucase *u = &batch_ucases[i];
		double got = cost_usd_lane(&c->provs[0], bmodel(c, u->model),
					   LANE_BATCH, &u->u, u->t);

		if (fabs(got - u->want) > TOL)
			fail_msg("%s: got %.15f, want %.15f", u->name, got,
				 u->want);
	}
	config_free(&c);
}

/* The off-peak windows still hold on the same model's sync lane, and the
 * functions without _lane are the sync lane. */
static void sync_lane_keeps_windows(void **state)
{
	struct config *c = batch_cfg();
	const struct prov *p = &c->provs[0];
	const struct prov_model *m = bmodel(c, "m");
	struct outcome_usage u = {1234, 5678, 91, 234, 567};
	struct cost_prices pr;
	double in, out, in2, out2;
	int64_t t;

	(void)state;
	for (t = MONDAY; t < MONDAY + 7 * DAY; t += 5 * H + 7 * MIN) {
		cost_price_lane(p, m, LANE_SYNC, t, &in, &out);
		cost_price(m, t, &in2, &out2);
		assert_true(in == in2 && out == out2);
		assert_true(cost_usd_lane(p, m, LANE_SYNC, &u, t) ==
			    cost_usd(m, &u, t));
		assert_true(cost_estimate_lane(NULL, m, LANE_SYNC, 777, 333,
					       t) ==
			    cost_estimate(m, 777, 333, t));
	}
	cost_price_lane(p, m, LANE_SYNC, MONDAY + 17 * H, &in, &out);
	assert_true(in == 0.15 && out == 0.45);
	cost_price_lane(p, m, LANE_BATCH, MONDAY + 17 * H, &in, &out);
	assert_true(in == 0.20 && out == 0.60);
	cost_prices_lane(p, m, LANE_BATCH, SUNDAY, &pr);
	assert_true(pr.in == 0.20 && pr.out == 0.60 && pr.cached == 0.04 &&
		    pr.write == 0.25);
	cost_prices_lane(p, m, LANE_SYNC, SUNDAY + 12 * H, &pr);
	assert_true(pr.in == 0.10 && pr.out == 0.30 && pr.cached == 0.08 &&
		    pr.write == 0.50);
	config_free(&c);
}

/* The batch estimate is the worst case of the batch charge for the same
 * tokens at any hour, and the same at every hour. */
static void batch_estimate_matches_charge(void **state)
{
	static const char *const models[] = {"m", "given", "half"};
	static const double want[] = {0.0005, 0.00065, 0.00045};
	struct config *c = batch_cfg();
	const struct prov *p = &c->provs[0];
	size_t i;
	int h;

	(void)state;
	for (i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		const struct prov_model *m = bmodel(c, models[i]);

		for (h = 0; h < 7 * 24; h += 5) {
			int64_t t = MONDAY + h * H;
			struct outcome_usage u = {.in = 1000, .out = 500};
			double est =
			    cost_estimate_lane(p, m, LANE_BATCH, 1000, 500, t);

			if (fabs(est - want[i]) > TOL)
				fail_msg("%s hour %d: %.15f", models[i], h,
					 est);
			assert_true(fabs(est - cost_usd_lane(p, m, LANE_BATCH,
							     &u, t)) <= TOL);
		}
	}
	config_free(&c);
}

/* cost_charge_lane prices reported usage on the lane's prices and keeps
 * its rules for missing and suspect usage. */
static void batch_charge(void **state)
{
	struct config *c = batch_cfg();
	const struct prov *p = &c->provs[0];
	const struct prov_model *m = bmodel(c, "m");
	struct cost_allowed al = AL;
	struct outcome o = OUTCOME_INIT;
	enum cost_basis basis = -1;
	double got;

	(void)state;
	o.http_status = 200;
	o.cls = OUTCOME_OK;
	o.usage_reported = 1;
	o.usage = (struct outcome_usage){90, 0, 0, 40, 0};
	/* 90 x 0.20 + 40 x 0.60 = 42 micro-dollars, off-peak hour or not */
	got = cost_charge_lane(p, m, LANE_BATCH, &o, &al, MONDAY + 17 * H,
			       &basis);
	assert_int_equal(basis, COST_REPORTED);
	assert_true(fabs(got - 0.000042) <= TOL);
	/* sync at the same instant: the window's 0.15/0.45 */
	got = cost_charge_lane(p, m, LANE_SYNC, &o, &al, MONDAY + 17 * H,
			       &basis);
	assert_true(fabs(got - 0.0000315) <= TOL);
	assert_true(got == cost_charge(m, &o, &al, MONDAY + 17 * H, &basis));
	/* over max_tokens: suspect, at least the worst case */
	o.usage.out = 51;
	got = cost_charge_lane(p, m, LANE_BATCH, &o, &al, MONDAY, &basis);
	assert_int_equal(basis, COST_SUSPECT);
	assert_true(got == 0.005);
	/* billed without usage: the worst case */
	o.usage_reported = 0;
	got = cost_charge_lane(p, m, LANE_BATCH, &o, &al, MONDAY, &basis);
	assert_int_equal(basis, COST_ESTIMATED);
	assert_true(got == 0.005);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cost_usd_table),
	    cmocka_unit_test(cost_estimate_table),
	    cmocka_unit_test(estimate_matches_charge),
	    cmocka_unit_test(price_windows_table),
	    cmocka_unit_test(charge_table),
	    cmocka_unit_test(charge_is_finite),
	    cmocka_unit_test(output_bound),
	    cmocka_unit_test(batch_usd_table),
	    cmocka_unit_test(sync_lane_keeps_windows),
	    cmocka_unit_test(batch_estimate_matches_charge),
	    cmocka_unit_test(batch_charge),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
