/* test_prices.c — LiteLLM's price map laid over a providers config, on a
 * small fixture in LiteLLM's format (tests/fixtures/litellm_prices.json):
 * which entry each configured model takes (prefixed key first, the bare
 * model only with the right litellm_provider, chat models only, odd
 * entries skipped, DashScope's lowest tier), per-token prices converted
 * exactly, what is kept (figures the entry lacks), off-peak windows
 * following the new base prices at the config's discount (DeepSeek's
 * off-peak never dearer than peak) or dropped when they cannot, source
 * and date per model, errors naming the file, the
 * --prices / $NIGHTSHIFT_PRICES precedence, and batch prices (the map's
 * *_cost_per_token_batches for models on a batch lane only; the config's
 * following a new base price). */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner/config.h"
#include "runner/providers/catalogue.h"
#include "runner/providers/cost.h"
#include "runner/providers/prices.h"
#include "runner/sched/route.h"

#define FIXTURE "tests/fixtures/litellm_prices.json"
/* 2026-11-23 00:00:00 UTC, a Monday. */
#define MONDAY 1795392000LL

#define PROV(flavor, models)                                                   \
	"{\"dialect\":\"openai\",\"flavor\":\"" flavor "\","                   \
	"\"base_url\":\"https://api.example.com/v1\","                         \
	"\"api_key_env\":\"EXAMPLE_KEY\",\"models\":{" models "}}"
#define M(name, in, out)                                                       \
	"\"" name "\":{\"input_per_mtok\":" #in ",\"output_per_mtok\":" #out

/* Every model starts at prices the fixture does not have, so a figure
 * that changed can only have come from the fixture. */
/* clang-format off */
static const char config_text[] =
	"{\"providers\":{"
	"\"oa\":" PROV("openai", M("gpt-4o-mini", 9, 9) "},"
		M("text-embedding-3-small", 9, 9) "},"
		M("gpt-6-sol", 2, 10) ",\"cached_input_per_mtok\":0.2}") ","
	"\"qwen\":" PROV("dashscope", M("qwen-flash", 9, 9) "},"
		M("qwen-plus", 9, 9) ",\"cached_input_per_mtok\":0.5}") ","
	"\"ds\":" PROV("deepseek",
		M("deepseek-flash", 9, 9) ",\"offpeak\":[{\"start\":"
		"\"16:30\",\"end\":\"00:30\",\"input_per_mtok\":4.5,"
		"\"output_per_mtok\":4.25}]},"
		M("deepseek-v4-pro", 1.32, 3.96) ",\"context_window\":1000000}")
		","
	"\"mi\":" PROV("mistral", M("mistral-small-latest", 9, 9) "}") ","
	"\"an\":{\"dialect\":\"anthropic\","
	"\"base_url\":\"https://api.example.com\",\"api_key_env\":\"K\","
	"\"models\":{" M("claude-haiku-5-5", 9, 9) "}}},"
	"\"ge\":" PROV("gemini", M("gemini-3.5-flash-lite", 9, 9) "}") ","
	"\"local\":" PROV("generic", M("gpt-4o-mini", 9, 9) "}") "}}";
/* clang-format on */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct config *parse(const char *text)
{
	struct config *c = NULL;
	char err[512];
	int rc = config_parse(text, strlen(text), "test", &c, err, sizeof(err));

	if (rc)
		print_error("config: %s\n", err);
	assert_int_equal(rc, 0);
	return c;
}

static const struct prov_model *model(const struct config *c, const char *prov,
				      const char *name)
{
	int p = route_find_prov(c->provs, c->nprovs, prov), m;

	assert_true(p >= 0);
	m = route_find_model(&c->provs[p], name);
	assert_true(m >= 0);
	return &c->provs[p].models[m];
}

struct want {
	const char *prov, *model;
	double in, out, cached, write;
	int64_t context, max_out;
	int priced;
};

/* Per-token figures of the fixture, per million: 1.5e-07 -> 0.15. A
 * cache price the config left at the input price follows the new input
 * price; one it set (qwen-plus 0.5) stays. */
static const struct want wants[] = {
    {"oa", "gpt-4o-mini", 0.15, 0.60, 0.075, 0.15, 128000, 16384, 1},
    /* mode "embedding": not a chat model */
    {"oa", "text-embedding-3-small", 9, 9, 9, 9, 0, 0, 0},
    /* input_cost_per_token is a string: the entry is skipped whole */
    {"oa", "gpt-6-sol", 2, 10, 0.2, 2, 0, 0, 0},
    /* tiered_pricing: the tier from 0 tokens */
    {"qwen", "qwen-flash", 0.05, 0.40, 0.01, 0.05, 997952, 32768, 1},
    {"qwen", "qwen-plus", 0.40, 1.20, 0.5, 0.40, 129024, 16384, 1},
    {"ds", "deepseek-flash", 0.28, 0.42, 0.028, 0.28, 131072, 8192, 1},
    /* an entry with limits and no prices: window only, not "priced" */
    {"ds", "deepseek-v4-pro", 1.32, 3.96, 1.32, 1.32, 524288, 65536, 0},
    {"mi", "mistral-small-latest", 0.10, 0.30, 0.10, 0.10, 131072, 131072, 1},
    {"an", "claude-haiku-5-5", 1.00, 5.00, 0.10, 1.25, 200000, 64000, 1},
    /* "gemini/..." (gemini) wins; bare "gemini-3.5-flash-lite" is
     * vertex_ai's and must not be taken */
    {"ge", "gemini-3.5-flash-lite", 0.25, 1.50, 0.025, 0.25, 1048576, 65535, 1},
    /* a generic provider (vLLM, a proxy) is not LiteLLM's "openai" */
    {"local", "gpt-4o-mini", 9, 9, 9, 9, 0, 0, 0},
};

static void fixture_table(void **state)
{
	struct config *c = parse(config_text);
	char err[512], *text;
	size_t len, n = 99, i, npriced = 0;

	(void)state;
	text = slurp(FIXTURE, &len);
	assert_int_equal(prices_apply_text(c->provs, c->nprovs, text, len,
					   "fixture.json", "2026-11-20", &n,
					   err, sizeof(err)),
			 0);
	for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		const struct want *w = &wants[i];
		const struct prov_model *m = model(c, w->prov, w->model);

		print_message("%s:%s\n", w->prov, w->model);
		/* exact: the conversion lands on the double a hand-written
		 * figure would be */
		assert_true(m->input_per_mtok == w->in);
		assert_true(m->output_per_mtok == w->out);
		assert_true(m->cached_input_per_mtok == w->cached);
		assert_true(m->cache_write_per_mtok == w->write);
		assert_int_equal(m->context_window, w->context);
		assert_int_equal(m->max_output_tokens, w->max_out);
		if (w->priced) {
			assert_string_equal(m->price_source,
					    "litellm: fixture.json");
			assert_string_equal(m->price_date, "2026-11-20");
			npriced++;
		} else {
			assert_null(m->price_source);
			assert_null(m->price_date);
		}
	}
	assert_int_equal(n, npriced);
	free(text);
	config_free(&c);
}

/* The window keeps its fraction of each base price: 4.5 of 9 and 4.25 of
 * 9 become the same fractions of the fixture's 0.28 and 0.42. */
static void offpeak_windows_follow_the_map(void **state)
{
	struct config *c = parse(config_text);
	const struct prov_model *m;
	char err[512], *text;
	size_t len;
	double in, out;

	(void)state;
	text = slurp(FIXTURE, &len);
	assert_int_equal(prices_apply_text(c->provs, c->nprovs, text, len, "f",
					   NULL, NULL, err, sizeof(err)),
			 0);
	m = model(c, "ds", "deepseek-flash");
	assert_int_equal(m->noffpeak, 1);
	assert_int_equal(m->noffpeak_dropped, 0);
	/* 17:00 UTC is inside the window: the config's discount off the
	 * file's prices */
	cost_price(m, MONDAY + 17 * 3600, &in, &out);
	assert_true(in == 0.14);
	assert_true(out == round(4.25 / 9 * 0.42 * 1e9) / 1e9);
	assert_true(in < 0.28 && out < 0.42);
	/* 12:00 UTC is outside: the file's base prices */
	cost_price(m, MONDAY + 12 * 3600, &in, &out);
	assert_true(in == 0.28 && out == 0.42);
	assert_null(m->price_date); /* no date given */
	free(text);
	config_free(&c);
}

/* The case: LiteLLM prices deepseek-v4-pro at 0.435/0.87 while
 * the catalogue says 1.32/3.96 peak, 0.66/1.98 off-peak. Off-peak must
 * stay half of peak, at every hour of the week, never the catalogue's
 * absolute figures above the map's peak. */
static void deepseek_offpeak_never_dearer_than_peak(void **state)
{
	static const char map[] =
	    "{\"deepseek/deepseek-v4-pro\":{\"litellm_provider\":\"deepseek\","
	    "\"mode\":\"chat\",\"input_cost_per_token\":4.35e-07,"
	    "\"output_cost_per_token\":8.7e-07}}";
	const char *text = catalogue_json();
	struct config *c = NULL;
	const struct prov_model *m;
	char err[256];
	size_t n, h;
	double in, out;

	(void)state;
	assert_int_equal(config_parse(text, strlen(text), "built-in", &c, err,
				      sizeof(err)),
			 0);
	assert_int_equal(prices_apply_text(c->provs, c->nprovs, map,
					   strlen(map), "m.json", NULL, &n, err,
					   sizeof(err)),
			 0);
	assert_int_equal(n, 1);
	m = model(c, "deepseek", "deepseek-v4-pro");
	assert_true(m->input_per_mtok == 0.435 && m->output_per_mtok == 0.87);
	assert_int_equal(m->noffpeak, 3);
	assert_int_equal(m->noffpeak_dropped, 0);
	for (h = 0; h < 7 * 24; h++) {
		cost_price(m, MONDAY + (int64_t)h * 3600 + 1800, &in, &out);
		if (!(in <= 0.435 && out <= 0.87))
			fail_msg("hour %zu: %g/%g dearer than peak", h, in,
				 out);
	}
	/* Monday 12:30 UTC is off-peak: half the map's prices */
	cost_price(m, MONDAY + 12 * 3600 + 1800, &in, &out);
	assert_true(in == 0.2175 && out == 0.435);
	/* Monday 02:30 UTC is peak */
	cost_price(m, MONDAY + 2 * 3600 + 1800, &in, &out);
	assert_true(in == 0.435 && out == 0.87);
	config_free(&c);
}

/* A window whose base price was 0 has no discount to keep once the map
 * prices that token kind: it is dropped and counted. One whose other
 * kind changed keeps following. */
static void offpeak_window_without_a_fraction_is_dropped(void **state)
{
	/* clang-format off */
	static const char cfg[] = "{\"providers\":{\"ds\":" PROV("deepseek",
		M("free-in", 0, 2) ",\"offpeak\":[{\"start\":\"00:00\","
		"\"end\":\"24:00\",\"input_per_mtok\":0,"
		"\"output_per_mtok\":1}]},"
		M("out-only", 0, 2) ",\"offpeak\":[{\"start\":\"00:00\","
		"\"end\":\"24:00\",\"input_per_mtok\":0,"
		"\"output_per_mtok\":1}]}") "}}";
	/* clang-format on */
	static const char map[] =
	    "{\"deepseek/free-in\":{\"litellm_provider\":\"deepseek\","
	    "\"input_cost_per_token\":1e-06,\"output_cost_per_token\":4e-06},"
	    "\"deepseek/out-only\":{\"litellm_provider\":\"deepseek\","
	    "\"output_cost_per_token\":4e-06}}";
	struct config *c = parse(cfg);
	const struct prov_model *m;
	char err[256];
	double in, out;

	(void)state;
	assert_int_equal(prices_apply_text(c->provs, c->nprovs, map,
					   strlen(map), "m.json", NULL, NULL,
					   err, sizeof(err)),
			 0);
	m = model(c, "ds", "free-in");
	assert_int_equal(m->noffpeak, 0);
	assert_int_equal(m->noffpeak_dropped, 1);
	cost_price(m, MONDAY, &in, &out);
	assert_true(in == 1.0 && out == 4.0);
	/* input stays 0 (the map does not price it): the window follows
	 * the output price only */
	m = model(c, "ds", "out-only");
	assert_int_equal(m->noffpeak, 1);
	assert_int_equal(m->noffpeak_dropped, 0);
	cost_price(m, MONDAY, &in, &out);
	assert_true(in == 0.0 && out == 2.0);
	config_free(&c);
}

static void prefixed_key_wins_and_bare_key_needs_provider(void **state)
{
	static const char cfg[] = "{\"providers\":{\"ds\":" PROV(
	    "deepseek",
	    M("x", 9, 9) "}," M("y", 9, 9) "}," M("z", 9, 9) "}") "}}";
	static const char map[] =
	    "{\"x\":{\"litellm_provider\":\"deepseek\","
	    "\"input_cost_per_token\":1e-06,\"output_cost_per_token\":2e-06},"
	    "\"deepseek/x\":{\"litellm_provider\":\"deepseek\","
	    "\"input_cost_per_token\":3e-06,\"output_cost_per_token\":4e-06},"
	    "\"y\":{\"litellm_provider\":\"deepseek\",\"mode\":\"chat\","
	    "\"input_cost_per_token\":5e-06},"
	    "\"deepseek/z\":{\"litellm_provider\":\"openrouter\","
	    "\"input_cost_per_token\":7e-06},"
	    "\"z\":{\"input_cost_per_token\":8e-06}}";
	struct config *c = parse(cfg);
	char err[256];
	size_t n;

	(void)state;
	assert_int_equal(prices_apply_text(c->provs, c->nprovs, map,
					   strlen(map), "m.json", NULL, &n, err,
					   sizeof(err)),
			 0);
	assert_int_equal(n, 2);
	assert_true(model(c, "ds", "x")->input_per_mtok == 3.0);
	assert_true(model(c, "ds", "x")->output_per_mtok == 4.0);
	/* y: only the input price is stated; output kept */
	assert_true(model(c, "ds", "y")->input_per_mtok == 5.0);
	assert_true(model(c, "ds", "y")->output_per_mtok == 9.0);
	/* z: one entry names another provider, the other names none */
	assert_true(model(c, "ds", "z")->input_per_mtok == 9.0);
	assert_null(model(c, "ds", "z")->price_source);
	config_free(&c);
}

static void bad_maps_name_the_file(void **state)
{
	static const struct {
		const char *text, *want;
	} rows[] = {
	    {"{\"gpt-4o-mini\": }", "p.json: invalid JSON near byte 16 "
				    "(line 1, column 17)"},
	    {"{\n\"a\": {}\n} {}", "p.json: invalid JSON"},
	    {"", "p.json: invalid JSON near byte 0"},
	    {"[{\"input_cost_per_token\": 1e-06}]",
	     "p.json: not a LiteLLM price map (the top level must be an "
	     "object of models), got an array"},
	    {"\"prices\"", "p.json: not a LiteLLM price map (the top level "
			   "must be an object of models), got \"prices\""},
	    {"42.5", "models), got 42.5"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct config *c = parse(config_text);
		char err[256];

		assert_int_equal(
		    prices_apply_text(c->provs, c->nprovs, rows[i].text,
				      strlen(rows[i].text), "p.json", NULL,
				      NULL, err, sizeof(err)),
		    PRICES_EINVAL);
		print_message("%s\n", err);
		assert_non_null(strstr(err, rows[i].want));
		/* nothing changed on failure */
		assert_true(model(c, "oa", "gpt-4o-mini")->input_per_mtok ==
			    9.0);
		config_free(&c);
	}
}

static void odd_entries_are_skipped_silently(void **state)
{
	/* Negative, absurd, non-integral and wrongly typed figures each
	 * void their entry; the map still loads. */
	static const char map[] =
	    "{\"sample_spec\":{\"max_input_tokens\":\"text\"},"
	    "\"openai/a\":{\"litellm_provider\":\"openai\","
	    "\"input_cost_per_token\":-1e-06},"
	    "\"openai/b\":{\"litellm_provider\":\"openai\","
	    "\"input_cost_per_token\":2.0},"
	    "\"openai/c\":{\"litellm_provider\":\"openai\","
	    "\"input_cost_per_token\":1e-06,\"max_input_tokens\":1000.5},"
	    "\"openai/d\":{\"litellm_provider\":\"openai\","
	    "\"input_cost_per_token\":1e-06,\"mode\":5},"
	    "\"openai/e\":[1,2],"
	    "\"openai/f\":{\"litellm_provider\":\"openai\","
	    "\"tiered_pricing\":[{\"input_cost_per_token\":\"x\"}]},"
	    "\"openai/g\":{\"litellm_provider\":\"openai\","
	    "\"max_output_tokens\":0}}";
	/* clang-format off */
	static const char cfg[] = "{\"providers\":{\"oa\":" PROV("openai",
		M("a", 9, 9) "}," M("b", 9, 9) "}," M("c", 9, 9) "},"
		M("d", 9, 9) "}," M("e", 9, 9) "}," M("f", 9, 9) "},"
		M("g", 9, 9) "}") "}}";
	/* clang-format on */
	static const char *const names[] = {"a", "b", "c", "d", "e", "f", "g"};
	struct config *c = parse(cfg);
	char err[256];
	size_t n = 99, i;

	(void)state;
	assert_int_equal(prices_apply_text(c->provs, c->nprovs, map,
					   strlen(map), "m", NULL, &n, err,
					   sizeof(err)),
			 0);
	assert_int_equal(n, 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct prov_model *m = model(c, "oa", names[i]);

		assert_true(m->input_per_mtok == 9.0);
		assert_int_equal(m->context_window, 0);
		assert_int_equal(m->max_output_tokens, 0);
	}
	config_free(&c);
}

/* copy_fixture: the fixture in a temp file dated MONDAY; returns its path
 * (new). */
static char *copy_fixture(void)
{
	char tmpl[] = "/tmp/ns-prices-XXXXXX", *text;
	struct timespec ts[2] = {{MONDAY + 3600, 0}, {MONDAY + 3600, 0}};
	size_t len;
	int fd = mkstemp(tmpl);

	assert_true(fd >= 0);
	text = slurp(FIXTURE, &len);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);
	free(text);
	return strdup(tmpl);
}

static void file_date_and_errors(void **state)
{
	struct config *c = parse(config_text);
	char err[512], *path = copy_fixture(), src[600];
	char dir[] = "/tmp/ns-prices-dir-XXXXXX";
	const struct prov_model *m;
	size_t n = 0;

	(void)state;
	assert_int_equal(
	    prices_apply(c->provs, c->nprovs, path, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 7);
	m = model(c, "an", "claude-haiku-5-5");
	snprintf(src, sizeof(src), "litellm: %s", path);
	assert_string_equal(m->price_source, src);
	assert_string_equal(m->price_date, "2026-11-23");
	/* applying again replaces, and leaks nothing (ASan) */
	assert_int_equal(
	    prices_apply(c->provs, c->nprovs, path, &n, err, sizeof(err)), 0);
	assert_string_equal(m->price_source, src);

	assert_int_equal(prices_apply(c->provs, c->nprovs,
				      "/nonexistent/prices.json", NULL, err,
				      sizeof(err)),
			 PRICES_EIO);
	assert_non_null(strstr(err, "/nonexistent/prices.json: cannot open: "));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(
	    prices_apply(c->provs, c->nprovs, dir, NULL, err, sizeof(err)),
	    PRICES_EIO);
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, "cannot read"));
	rmdir(dir);
	unlink(path);
	free(path);
	config_free(&c);
}

static void env_and_flag(void **state)
{
	struct config *c = parse(config_text);
	char err[512], *path = copy_fixture();
	size_t n = 99;

	(void)state;
	unsetenv(PRICES_ENV);
	assert_int_equal(
	    prices_apply(c->provs, c->nprovs, NULL, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_true(model(c, "oa", "gpt-4o-mini")->input_per_mtok == 9.0);
	setenv(PRICES_ENV, "", 1); /* empty: as unset */
	assert_int_equal(
	    prices_apply(c->provs, c->nprovs, NULL, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	setenv(PRICES_ENV, "/nonexistent/env.json", 1);
	/* an explicit file wins over the variable */
	assert_int_equal(
	    prices_apply(c->provs, c->nprovs, path, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 7);
	assert_int_equal(
	    prices_apply(c->provs, c->nprovs, NULL, &n, err, sizeof(err)),
	    PRICES_EIO);
	assert_non_null(strstr(err, "/nonexistent/env.json"));
	config_free(&c);
	c = parse(config_text);
	setenv(PRICES_ENV, path, 1);
	assert_int_equal(
	    prices_apply(c->provs, c->nprovs, NULL, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 7);
	assert_true(model(c, "oa", "gpt-4o-mini")->input_per_mtok == 0.15);
	unsetenv(PRICES_ENV);
	unlink(path);
	free(path);
	config_free(&c);
}

static void costs_follow_the_file(void **state)
{
	struct config *c = parse(config_text);
	struct outcome_usage u = {.in = 1000000,
				  .in_cached = 2000000,
				  .cache_write = 3000000,
				  .out = 4000000,
				  .out_reasoning = 5000000};
	char err[256], *text;
	size_t len;

	(void)state;
	text = slurp(FIXTURE, &len);
	assert_int_equal(prices_apply_text(c->provs, c->nprovs, text, len, "f",
					   NULL, NULL, err, sizeof(err)),
			 0);
	/* claude-haiku-5-5: 1.00 + 2 x 0.10 + 3 x 1.25 + 9 x 5.00 */
	assert_true(
	    fabs(cost_usd(model(c, "an", "claude-haiku-5-5"), &u, MONDAY) -
		 49.95) < 1e-12);
	/* 1,000 input tokens at the estimate: 1000 x 0.15 / 1e6 */
	assert_true(
	    fabs(cost_estimate(model(c, "oa", "gpt-4o-mini"), 1000, 0, MONDAY) -
		 0.00015) < 1e-12);
	free(text);
	config_free(&c);
}

/* The built-in catalogue goes through the same path: whatever it lists
 * that the fixture names is priced, and nothing else changes. */
static void builtin_catalogue(void **state)
{
	struct config *cat = NULL, *orig = NULL;
	const char *text = catalogue_json();
	char err[512], *map;
	size_t len, n, i, j, seen = 0;

	(void)state;
	assert_int_equal(config_parse(text, strlen(text), "built-in", &cat, err,
				      sizeof(err)),
			 0);
	assert_int_equal(config_parse(text, strlen(text), "built-in", &orig,
				      err, sizeof(err)),
			 0);
	map = slurp(FIXTURE, &len);
	assert_int_equal(prices_apply_text(cat->provs, cat->nprovs, map, len,
					   "f", "2026-11-20", &n, err,
					   sizeof(err)),
			 0);
	for (i = 0; i < cat->nprovs; i++) {
		for (j = 0; j < cat->provs[i].nmodels; j++) {
			const struct prov_model *m = &cat->provs[i].models[j];
			const struct prov_model *o = &orig->provs[i].models[j];

			assert_int_equal(m->noffpeak, o->noffpeak);
			if (m->price_source) {
				assert_non_null(
				    flavor_litellm(cat->provs[i].flavor));
				seen++;
				continue;
			}
			assert_true(m->input_per_mtok == o->input_per_mtok);
			assert_true(m->output_per_mtok == o->output_per_mtok);
		}
	}
	assert_int_equal(seen, n);
	free(map);
	config_free(&cat);
	config_free(&orig);
}

static void litellm_provider_names(void **state)
{
	static const char *const rows[][2] = {
	    {"dashscope", "dashscope"}, {"deepseek", "deepseek"},
	    {"mistral", "mistral"},	{"openai", "openai"},
	    {"anthropic", "anthropic"}, {"gemini", "gemini"},
	    {"generic", NULL},		{"qwen", NULL},
	    {"OpenAI", NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum prov_flavor f;
		const char *got = NULL;

		/* "qwen" and "OpenAI" name no flavor: nothing to price by */
		if (flavor_parse(rows[i][0], &f) == 0) {
			assert_string_equal(flavor_name(f), rows[i][0]);
			got = flavor_litellm(f);
		}
		if (rows[i][1])
			assert_string_equal(got, rows[i][1]);
		else
			assert_null(got);
	}
	assert_int_equal(flavor_parse(NULL, NULL), -1);
	assert_null(flavor_litellm(FLAVOR__COUNT));
}

/* A provider with a batch lane and one without, both LiteLLM's
 * "openai". */
/* clang-format off */
static const char batch_cfg[] =
	"{\"providers\":{"
	"\"oa\":{\"dialect\":\"openai\",\"flavor\":\"openai\","
	"\"base_url\":\"https://api.example.com/v1\",\"api_key_env\":\"K\","
	"\"batch\":{},\"models\":{"
		M("a", 9, 9) "}," M("off", 9, 9) ",\"batch\":false},"
		M("d", 9, 9) "},"
		M("f", 1, 2) ",\"batch_input_per_mtok\":0.4,"
		"\"batch_output_per_mtok\":1.5},"
		M("z", 0, 2) ",\"batch_input_per_mtok\":0},"
		M("g", 1, 2) "}}},"
	"\"nb\":" PROV("openai", M("c", 9, 9) "}," M("e", 9, 9) "}") "}}";
/* clang-format on */

#define BATCH_ENTRY(name)                                                      \
	"\"openai/" name "\":{\"litellm_provider\":\"openai\","               \
	"\"input_cost_per_token\":1e-06,\"output_cost_per_token\":2e-06,"    \
	"\"input_cost_per_token_batches\":5e-07,"                             \
	"\"output_cost_per_token_batches\":9e-07}"

/* The map's batch prices become those of a model on a batch lane, and
 * are passed over for one that is not (no lane could charge them). */
static void litellm_batch_prices(void **state)
{
	static const char map[] =
	    "{" BATCH_ENTRY("a") "," BATCH_ENTRY("off") "," BATCH_ENTRY(
		"c") ","
		 "\"openai/d\":{\"litellm_provider\":\"openai\","
		 "\"output_cost_per_token_batches\":3e-07},"
		 "\"openai/e\":{\"litellm_provider\":\"openai\","
		 "\"output_cost_per_token_batches\":3e-07}}";
	struct config *c = parse(batch_cfg);
	const struct prov_model *m;
	char err[256];
	size_t n = 99;
	double in, out;

	(void)state;
	assert_int_equal(prices_apply_text(c->provs, c->nprovs, map,
					   strlen(map), "m.json", NULL, &n, err,
					   sizeof(err)),
			 0);
	/* a, off, c by their base prices; d by its batch price alone */
	assert_int_equal(n, 4);
	m = model(c, "oa", "a");
	assert_true(m->input_per_mtok == 1.0 && m->output_per_mtok == 2.0);
	assert_true(m->batch_input_per_mtok == 0.5);
	assert_true(m->batch_output_per_mtok == 0.9);
	cost_price_lane(&c->provs[0], m, LANE_BATCH, MONDAY, &in, &out);
	assert_true(in == 0.5 && out == 0.9);
	/* off the lane, and on a provider without one: none taken */
	m = model(c, "oa", "off");
	assert_true(m->input_per_mtok == 1.0);
	assert_true(m->batch_input_per_mtok < 0 &&
		    m->batch_output_per_mtok < 0);
	m = model(c, "nb", "c");
	assert_true(m->input_per_mtok == 1.0);
	assert_true(m->batch_input_per_mtok < 0 &&
		    m->batch_output_per_mtok < 0);
	/* only a batch price: priced on a lane, untouched without one */
	m = model(c, "oa", "d");
	assert_true(m->batch_output_per_mtok == 0.3);
	assert_true(m->batch_input_per_mtok < 0 && m->input_per_mtok == 9.0);
	assert_string_equal(m->price_source, "litellm: m.json");
	m = model(c, "nb", "e");
	assert_true(m->batch_output_per_mtok < 0);
	assert_null(m->price_source);
	config_free(&c);
}

/* A map that moves a base price and has no batch price leaves no stale
 * batch price: the config's keeps its fraction of the base (as an
 * off-peak window does), or, with no fraction to keep, gives way to the
 * lane's discount; without one the discount applies to the new price. */
static void config_batch_prices_follow_the_base(void **state)
{
	static const char map[] =
	    "{\"openai/f\":{\"litellm_provider\":\"openai\","
	    "\"input_cost_per_token\":5e-07,\"output_cost_per_token\":2e-06},"
	    "\"openai/z\":{\"litellm_provider\":\"openai\","
	    "\"input_cost_per_token\":1e-06},"
	    "\"openai/g\":{\"litellm_provider\":\"openai\","
	    "\"input_cost_per_token\":5e-07,\"output_cost_per_token\":1e-06}}";
	struct config *c = parse(batch_cfg);
	const struct prov *p;
	const struct prov_model *m;
	char err[256];
	double in, out;

	(void)state;
	assert_int_equal(prices_apply_text(c->provs, c->nprovs, map,
					   strlen(map), "m.json", NULL, NULL,
					   err, sizeof(err)),
			 0);
	p = &c->provs[0];
	/* input 1 -> 0.5: 0.4 of 1 becomes 0.2; output unchanged at 2:
	 * its batch price stays 1.5 */
	m = model(c, "oa", "f");
	assert_true(m->batch_input_per_mtok == 0.2);
	assert_true(m->batch_output_per_mtok == 1.5);
	/* input 0 -> 1: no fraction of 0 to keep; the discount's 0.5 */
	m = model(c, "oa", "z");
	assert_true(m->batch_input_per_mtok < 0);
	cost_price_lane(p, m, LANE_BATCH, MONDAY, &in, &out);
	assert_true(in == 0.5 && out == 1.0);
	/* none given: the discount off the map's prices */
	m = model(c, "oa", "g");
	assert_true(m->batch_input_per_mtok < 0);
	cost_price_lane(p, m, LANE_BATCH, MONDAY, &in, &out);
	assert_true(in == 0.25 && out == 0.5);
	config_free(&c);
}

/* DashScope's tiers: the lowest tier's prices, a tier's batch price
 * too, and a flat batch price beside the tiers wins over the tier's. */
static void tiers_with_batch_prices(void **state)
{
	static const char cfg[] =
	    "{\"providers\":{\"qwen\":{\"dialect\":\"openai\","
	    "\"base_url\":\"https://api.example.com/v1\","
	    "\"api_key_env\":\"K\",\"batch\":{},"
	    "\"models\":{" M("qx", 9, 9) "}}}}}";
	static const char map[] =
	    "{\"dashscope/qx\":{\"litellm_provider\":\"dashscope\","
	    "\"input_cost_per_token_batches\":4e-08,"
	    "\"tiered_pricing\":["
	    "{\"range\":[32000,128000],\"input_cost_per_token\":3e-07,"
	    "\"output_cost_per_token\":9e-07,"
	    "\"output_cost_per_token_batches\":4.5e-07},"
	    "{\"range\":[0,32000],\"input_cost_per_token\":1e-07,"
	    "\"output_cost_per_token\":4e-07,"
	    "\"input_cost_per_token_batches\":5e-08,"
	    "\"output_cost_per_token_batches\":2e-07}]}}";
	struct config *c = parse(cfg);
	const struct prov_model *m;
	char err[256];

	(void)state;
	assert_int_equal(prices_apply_text(c->provs, c->nprovs, map,
					   strlen(map), "m.json", NULL, NULL,
					   err, sizeof(err)),
			 0);
	m = model(c, "qwen", "qx");
	assert_true(m->input_per_mtok == 0.1 && m->output_per_mtok == 0.4);
	assert_true(m->batch_input_per_mtok == 0.04);
	assert_true(m->batch_output_per_mtok == 0.2);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fixture_table),
	    cmocka_unit_test(offpeak_windows_follow_the_map),
	    cmocka_unit_test(deepseek_offpeak_never_dearer_than_peak),
	    cmocka_unit_test(offpeak_window_without_a_fraction_is_dropped),
	    cmocka_unit_test(prefixed_key_wins_and_bare_key_needs_provider),
	    cmocka_unit_test(bad_maps_name_the_file),
	    cmocka_unit_test(odd_entries_are_skipped_silently),
	    cmocka_unit_test(file_date_and_errors),
	    cmocka_unit_test(env_and_flag),
	    cmocka_unit_test(costs_follow_the_file),
	    cmocka_unit_test(builtin_catalogue),
	    cmocka_unit_test(litellm_provider_names),
	    cmocka_unit_test(litellm_batch_prices),
	    cmocka_unit_test(config_batch_prices_follow_the_base),
	    cmocka_unit_test(tiers_with_batch_prices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
