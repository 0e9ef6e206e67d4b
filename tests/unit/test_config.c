/* test_config.c — the providers config: every validation rule (each a row
 * of a table: JSON in, error path and reason out), defaults, flavors and
 * dialects, loading from a file and from $NIGHTSHIFT_PROVIDERS, and the
 * built-in catalogue (it parses, and qwen is the cheapest first choice of
 * the "cheap" route at every hour of the week). Candidate resolution is
 * tested in test_route.c, price windows in test_cost.c, keys in
 * test_keys.c, the batch lane's members in test_batchcfg.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner/config.h"
#include "runner/providers/catalogue.h"
#include "runner/providers/cost.h"
#include "runner/sched/route.h"

/* 2026-11-23 00:00:00 UTC, a Monday. */
#define MONDAY 1795392000LL
#define HOUR 3600LL

/* A valid provider body to splice into test configs. */
#define PROV_OK                                                                \
	"\"dialect\":\"openai\",\"base_url\":\"https://api.example.com/v1\","  \
	"\"api_key_env\":\"EXAMPLE_KEY\","                                    \
	"\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":2}}"

#define ONE(body) "{\"providers\":{\"p\":{" body "}}}"

/* 65 request field names, one over the cap. */
#define DROP8(c)                                                               \
	"\"" c "0\",\"" c "1\",\"" c "2\",\"" c "3\",\"" c "4\",\"" c          \
	"5\",\"" c "6\",\"" c "7\","
#define DROP65                                                                 \
	DROP8("a")                                                             \
	DROP8("b") DROP8("c") DROP8("d") DROP8("e") DROP8("f") DROP8("g")      \
	    DROP8("h") "\"z\""

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
     "\"enable_thinking\":false,\"drop_params\":[\"seed\",\"user\"]},"
     "\"batch\":{\"api\":\"openai\",\"discount\":0.5,"
     "\"max_requests\":100,\"max_bytes\":100000,\"window_h\":48}}},"
     "\"routes\":{\"r\":[\"p:m\"]}}",
     NULL},
    /* top level and JSON */
    {"invalid JSON", "{\n \"providers\": ,\n}",
     "invalid JSON near byte 16 "
     "(line 2, column 15)"},
    {"trailing garbage", ONE(PROV_OK) " x", "invalid JSON"},
    {"empty text", "", "invalid JSON near byte 0"},
    {"top level array", "[]", "top level must be a JSON object, got an empty array"},
    {"no providers", "{}", "providers: required"},
    {"empty providers", "{\"providers\":{}}", "at least one provider"},
    {"unknown top field", "{\"providers\":{\"p\":{" PROV_OK "}},\"rutes\":1}",
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
     "providers.p.dialect: must be \"openai\" or \"anthropic\", got "
     "\"gemini\""},
    /* the issue's own case, as the whole message */
    {"dialect grpc",
     "{\"providers\":{\"qwen\":{\"dialect\":\"grpc\","
     "\"base_url\":\"https://x.example\",\"api_key_env\":\"K\","
     "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}}}}",
     "test.json: providers.qwen.dialect: must be \"openai\" or "
     "\"anthropic\", got \"grpc\""},
    {"dialect of another type",
     ONE("\"dialect\":[\"openai\"],\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"K\","
	 "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
     "providers.p.dialect: must be \"openai\" or \"anthropic\", got an "
     "array"},
    {"key pasted into dialect",
     ONE("\"dialect\":\"sk-secret-999\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"K\","
	 "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
     "providers.p.dialect: must be \"openai\" or \"anthropic\", got a "
     "string that looks like an API key (not shown)"},
    {"bad flavor", ONE(PROV_OK ",\"flavor\":\"qwen\""),
     "providers.p.flavor: must be one of"},
    {"bad flavor names it", ONE(PROV_OK ",\"flavor\":\"qwen\""),
     ", got \"qwen\""},
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
    {"http non-loopback names it",
     ONE("\"dialect\":\"openai\",\"base_url\":\"http://api.example.com\","
	 "\"api_key_env\":\"K\","
	 "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
     "use https://, got \"http://api.example.com\""},
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
     "providers.p.base_url: must start with https:// (or http:// for a "
     "loopback host), got \"ftp://x.example\""},
    {"bad port",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example:99999\","
	 "\"api_key_env\":\"K\","
	 "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
     "malformed port, got \"https://x.example:99999\""},
    {"query in url",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example/?a=1\","
	 "\"api_key_env\":\"K\","
	 "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
     "providers.p.base_url: must not contain a query or fragment"},
    /* keys */
    {"api_key field", ONE(PROV_OK ",\"api_key\":\"sk-secret-999\""),
     "providers.p.api_key: keys do not belong in the config"},
    {"key pasted into api_key_env",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"sk-secret-999\","
	 "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
     "providers.p.api_key_env: must be the NAME of an environment "
     "variable ([A-Za-z_][A-Za-z0-9_]*), not a key; got a string of 13 "
     "bytes (not shown)"},
    {"api_key_env of another type",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":5,"
	 "\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":1}}"),
     "providers.p.api_key_env: must be the NAME of an environment "
     "variable, or null, got 5"},
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
     "providers.p.max_inflight: must be a positive integer, got 0"},
    {"max_inflight fraction", ONE(PROV_OK ",\"max_inflight\":1.5"),
     "providers.p.max_inflight: must be a positive integer, got 1.5"},
    {"max_inflight string", ONE(PROV_OK ",\"max_inflight\":\"8\""),
     "providers.p.max_inflight: must be a positive integer, got \"8\""},
    {"max_inflight huge", ONE(PROV_OK ",\"max_inflight\":1e12"),
     "providers.p.max_inflight: must be at most 100000, got 1000000000000"},
    {"rpm negative", ONE(PROV_OK ",\"rpm\":-1"),
     "providers.p.rpm: must be a non-negative integer, got -1"},
    {"timeout_s 0", ONE(PROV_OK ",\"timeout_s\":0"),
     "providers.p.timeout_s: must be a positive integer, got 0"},
    {"max_retries bool", ONE(PROV_OK ",\"max_retries\":true"),
     "providers.p.max_retries: must be a non-negative integer, got a "
     "boolean"},
    {"connect above timeout",
     ONE(PROV_OK ",\"timeout_s\":5,\"connect_timeout_s\":6"),
     "providers.p.connect_timeout_s: must not exceed timeout_s (5), got 6"},
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
     "providers.p.models.m.input_per_mtok: must be a non-negative number "
     "(USD per million tokens), got -0.1"},
    {"missing output price",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1}}"),
     "providers.p.models.m.output_per_mtok: required"},
    {"negative cached price",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1,\"cached_input_per_mtok\":-1}}"),
     "providers.p.models.m.cached_input_per_mtok: must be a non-negative "
     "number (USD per million tokens), got -1"},
    {"context_window 0",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1,\"context_window\":0}}"),
     "providers.p.models.m.context_window: must be a positive integer, "
     "got 0"},
    {"model not an object",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"K\",\"models\":{\"m\":1}"),
     "providers.p.models.m: must be an object with input_per_mtok and "
     "output_per_mtok, got 1"},
    /* off-peak windows */
    {"offpeak bad hour",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1,\"offpeak\":[{\"start\":\"25:00\","
	 "\"end\":\"01:00\",\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1}]}}"),
     "providers.p.models.m.offpeak[0].start: must be a UTC time \"HH:MM\" "
     "(00:00-23:59), got \"25:00\""},
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
    {"offpeak single-digit hours",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1,\"offpeak\":[{\"start\":\"7:00\","
	 "\"end\":\"9:30\",\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1}]}}"),
     NULL},
    {"offpeak 24:00 start",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1,\"offpeak\":[{\"start\":\"24:00\","
	 "\"end\":\"01:00\",\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1}]}}"),
     "providers.p.models.m.offpeak[0].start: must be a UTC time \"HH:MM\" "
     "(00:00-23:59), got \"24:00\""},
    {"offpeak end not a time",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1,\"offpeak\":[{\"start\":\"01:00\","
	 "\"end\":\"1:5\",\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1}]}}"),
     "providers.p.models.m.offpeak[0].end: must be a UTC time \"HH:MM\" "
     "(00:00-24:00), got \"1:5\""},
    {"offpeak start missing",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1,\"offpeak\":[{"
	 "\"end\":\"1:05\",\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1}]}}"),
     "providers.p.models.m.offpeak[0].start: must be a UTC time \"HH:MM\" "
     "(00:00-23:59), got nothing"},
    {"offpeak not an array",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1,\"offpeak\":{}}}"),
     "providers.p.models.m.offpeak: must be an array of time windows, got "
     "an empty object"},
    {"offpeak bad day",
     ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
	 "\"api_key_env\":\"K\",\"models\":{\"m\":{\"input_per_mtok\":1,"
	 "\"output_per_mtok\":1,\"offpeak\":[{\"start\":\"01:00\","
	 "\"end\":\"02:00\",\"input_per_mtok\":1,\"output_per_mtok\":1,"
	 "\"days\":[\"sat\",\"Sunday\"]}]}}"),
     "providers.p.models.m.offpeak[0].days[1]: must be one of \"mon\", "
     "\"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\", got "
     "\"Sunday\""},
    /* quirks and metadata */
    {"bad json_mode", ONE(PROV_OK ",\"quirks\":{\"json_mode\":\"yes\"}"),
     "providers.p.quirks.json_mode: must be \"native\" or \"prompt\", got "
     "\"yes\""},
    {"bad drop_params", ONE(PROV_OK ",\"quirks\":{\"drop_params\":[1]}"),
     "providers.p.quirks.drop_params[0]: must be a request field name, got "
     "1"},
    {"bad prices_date", ONE(PROV_OK ",\"prices_date\":\"26/11/2026\""),
     "providers.p.prices_date: must be a date \"YYYY-MM-DD\", got "
     "\"26/11/2026\""},
    {"prices_date month 13", ONE(PROV_OK ",\"prices_date\":\"2026-13-01\""),
     "providers.p.prices_date: must be a date \"YYYY-MM-DD\", got "
     "\"2026-13-01\""},
    {"bad prices_source", ONE(PROV_OK ",\"prices_source\":\"the web\""),
     "providers.p.prices_source: must be a URL, got \"the web\""},
    {"too many drop_params",
     ONE(PROV_OK ",\"quirks\":{\"drop_params\":[" DROP65 "]}"),
     "providers.p.quirks.drop_params: must have at most 64 names, got 65"},
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
     "routes.r[0]: must be \"provider:model\", got \"pm\""},
    {"empty route",
     "{\"providers\":{\"p\":{" PROV_OK "}},\"routes\":{\"r\":[]}}",
     "routes.r: must be a non-empty array of \"provider:model\", got an "
     "empty array"},
    {"duplicate route entry",
     "{\"providers\":{\"p\":{" PROV_OK "}},"
     "\"routes\":{\"r\":[\"p:m\",\"p:m\"]}}",
     "routes.r[1]: duplicate of entry 0, got \"p:m\""},
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

/* Issue 17: a NUL, raw or as \u0000, cut a string short in cJSON's C
 * strings: base_url ".../v1\u0000.evil" ran as ".../v1", api_key_env
 * "A\u0000B" read $A. Each is refused with its line and column; an
 * escaped backslash before "u0000" is no NUL. */
static void nul_is_refused(void **state)
{
	static const char esc_url[] = ONE(
		"\"dialect\":\"openai\",\"base_url\":"
		"\"https://api.example.com/v1\\u0000.evil\",\"models\":{\"m\":"
		"{\"input_per_mtok\":1,\"output_per_mtok\":2}}");
	static const char esc_env[] = "{\"providers\":{\"p\":{\n"
		"\"dialect\":\"openai\",\"base_url\":"
		"\"https://api.example.com/v1\",\n\"api_key_env\":\"A\\u0000B\","
		"\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":2}}}}}";
	static const char raw[] = ONE(
		"\"dialect\":\"openai\",\"base_url\":"
		"\"https://api.example.com/v1\0\",\"api_key_env\":\"A\","
		"\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":2}}");
	static const char not_nul[] = ONE(
		"\"dialect\":\"openai\",\"base_url\":"
		"\"https://api.example.com/v1\",\"api_key_env\":\"A\","
		"\"prices_source\":\"https://example.com/a\\\\u0000b\","
		"\"models\":{\"m\":{\"input_per_mtok\":1,\"output_per_mtok\":2}}");
	struct config *c = NULL;
	char err[512];

	(void)state;
	assert_int_equal(config_parse(esc_url, strlen(esc_url), "t.json", &c,
				      err, sizeof(err)),
			 CONFIG_EINVAL);
	assert_null(c);
	assert_non_null(strstr(err, "t.json: line 1, column 77: a NUL "
				    "character (\\u0000) is not allowed"));
	assert_int_equal(config_parse(esc_env, strlen(esc_env), "t.json", &c,
				      err, sizeof(err)),
			 CONFIG_EINVAL);
	assert_non_null(strstr(err, "t.json: line 3, column 17: a NUL "
				    "character"));
	assert_int_equal(config_parse(raw, sizeof(raw) - 1, "t.json", &c, err,
				      sizeof(err)),
			 CONFIG_EINVAL);
	assert_non_null(strstr(err, "t.json: line 1, column 77: a NUL byte"));
	if (config_parse(not_nul, strlen(not_nul), "t.json", &c, err,
			 sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(c->provs[0].prices_source,
			    "https://example.com/a\\u0000b");
	config_free(&c);
}

/* Issue 17: "timeout_s": 5 alone was refused because connect_timeout_s's
 * default (10) exceeded it; the default now follows timeout_s down. A
 * connect_timeout_s the user sets above timeout_s is still refused. */
static void short_timeout_alone_is_accepted(void **state)
{
	static const char alone[] = ONE(PROV_OK ",\"timeout_s\":5");
	static const char both[] =
		ONE(PROV_OK ",\"timeout_s\":5,\"connect_timeout_s\":6");
	struct config *c = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(config_parse(alone, strlen(alone), "t.json", &c, err,
				      sizeof(err)),
			 0);
	assert_int_equal(c->provs[0].timeout_s, 5);
	assert_int_equal(c->provs[0].connect_timeout_s, 5);
	config_free(&c);
	assert_int_equal(config_parse(both, strlen(both), "t.json", &c, err,
				      sizeof(err)),
			 CONFIG_EINVAL);
	assert_non_null(strstr(err, "must not exceed timeout_s (5)"));
}

/* What may hold a key is refused without its value, even where the value
 * does not look like one: a string in api_key_env, a base_url with
 * credentials or a query (Gemini's ?key=). */
static void refusals_that_show_no_value(void **state)
{
	static const struct {
		const char *json, *want, *lacks;
	} rows[] = {
	    {ONE("\"dialect\":\"openai\",\"base_url\":\"https://x.example\","
		 "\"api_key_env\":\"my-key\","
		 "\"models\":{\"m\":{\"input_per_mtok\":1,"
		 "\"output_per_mtok\":1}}"),
	     "providers.p.api_key_env: must be the NAME of an environment "
	     "variable ([A-Za-z_][A-Za-z0-9_]*), not a key; got a string of 6 "
	     "bytes (not shown)",
	     "my-key"},
	    {ONE("\"dialect\":\"openai\","
		 "\"base_url\":\"https://x.example/v1?key=AB12cd\","
		 "\"api_key_env\":\"K\","
		 "\"models\":{\"m\":{\"input_per_mtok\":1,"
		 "\"output_per_mtok\":1}}"),
	     "providers.p.base_url: must not contain a query or fragment",
	     "AB12cd"},
	    {ONE("\"dialect\":\"openai\","
		 "\"base_url\":\"http://u:pw12@x.example\","
		 "\"api_key_env\":\"K\","
		 "\"models\":{\"m\":{\"input_per_mtok\":1,"
		 "\"output_per_mtok\":1}}"),
	     "providers.p.base_url: must not contain credentials", "pw12"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct config *c = NULL;
		char err[512];

		assert_int_equal(config_parse(rows[i].json,
					      strlen(rows[i].json), "t", &c,
					      err, sizeof(err)),
				 CONFIG_EINVAL);
		if (!strstr(err, rows[i].want) || strstr(err, rows[i].lacks))
			fail_msg("row %zu: %s", i, err);
	}
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
	/* no "batch": no batch lane, no batch prices */
	assert_int_equal(p->batch.on, 0);
	assert_true(p->models[0].batch_input_per_mtok < 0);
	assert_true(p->models[0].batch_output_per_mtok < 0);
	assert_int_equal(p->models[0].batch_off, 0);
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
	assert_string_equal(prov_dialect_name(c->provs[2].dialect),
			    "anthropic");
	assert_string_equal(prov_dialect_name(c->provs[0].dialect), "openai");
	config_free(&c);
}

/* Two providers, for loading. */
static const char two_json[] =
    "{\"providers\":{\"a\":{" PROV_OK "},\"b\":{" PROV_OK "}}}";

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
	char *good = write_temp(two_json);
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
	assert_true(route_find_prov(c->provs, c->nprovs, "qwen") >= 0);
	assert_int_equal(
	    c->provs[route_find_prov(c->provs, c->nprovs, "qwen")].dialect,
	    PROV_OPENAI);
	assert_int_equal(
	    c->provs[route_find_prov(c->provs, c->nprovs, "anthropic")].dialect,
	    PROV_ANTHROPIC);

	n = route_candidates(c->provs, c->nprovs, c->routes, c->nroutes,
			     "cheap", cands, 16);
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
	n = route_candidates(c->provs, c->nprovs, c->routes, c->nroutes,
			     "quality", cands, 16);
	assert_true(n >= 5);
	assert_string_equal(c->provs[cands[0].prov].name, "qwen");
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(validation_table),
		cmocka_unit_test(nul_is_refused),
		cmocka_unit_test(short_timeout_alone_is_accepted),
		cmocka_unit_test(refusals_that_show_no_value),
		cmocka_unit_test(defaults_and_normalisation),
		cmocka_unit_test(flavor_defaults),
		cmocka_unit_test(load_file_and_env),
		cmocka_unit_test(builtin_catalogue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
