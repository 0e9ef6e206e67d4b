/* mock_opts.c — option parsing for the mock provider: `--name VALUE` or
 * `--name=VALUE`, every number range-checked, fault kinds resolved to
 * enum values up front so a typo fails at start (exit 2) rather than
 * silently serving `ok`. getopt_long is GNU-only, hence the small loop. */
#include "tests/mock/mock_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/mock/mock_util.h"

static const char *const usage[] = {
    "usage: mock-provider [options]",
    "A local LLM provider (OpenAI and Anthropic dialects) for tests.",
    "Binds 127.0.0.1, prints \"port N\", serves until SIGINT/SIGTERM.",
    "",
    "  --port N              port to bind; 0 = any free port (default 0)",
    "  --key K               require this API key (Bearer / x-api-key)",
    "  --content-json        content is a small JSON object, not prose",
    "  --latency MS|MIN-MAX  delay before each reply (default 0)",
    "  --latency-per-ktok MS more delay per 1,000 prompt tokens (0)",
    "  --seed N              seed of every random choice (default 1)",
    "  --prompt-scale K|MIN-MAX",
    "                        report prompt_tokens times K (per body, "
    "from its hash)",
    "  --threads N           MHD polling threads (default 2)",
    "  --retry-after S       Retry-After of 429 replies (default 1)",
    "  --hang-ms MS          how long `hang` and `stall` hold (60000)",
    "  --drip-ms MS          `drip` sends a chunk every MS (default 200)",
    "  --drip-bytes N        `drip`'s chunk size (default 16)",
    "  --cached F            report F of the prompt as cached input (0)",
    "  --cache-write F       Anthropic: F of it as cache writes (0)",
    "  --reasoning F         OpenAI: F x output more reasoning tokens (0)",
    "  --fault-match SUBSTR=KIND[*N]",
    "                        a body containing SUBSTR gets KIND "
    "(repeatable);",
    "                        with *N only the first N such requests",
    "  --fail-first N=KIND   each distinct body gets KIND for its first N",
    "  --schedule K,K,...    the k-th request gets the k-th kind, then ok",
    "  --fault KIND=RATE     KIND with probability RATE in 0..1 "
    "(repeatable)",
    "  --rpm N               accept at most N requests a minute, then 429",
    "  --window-ms W         the --rpm window in ms (default 60000)",
    "  --log FILE            append one JSON line per request",
    "  --max-body BYTES      larger bodies get 413 (default 33554432)",
    "  --idle-timeout S      close idle connections after S s (120)",
    "  --verbose             libmicrohttpd's errors to stderr",
    "Batch APIs (OpenAI files + batches, Anthropic message batches):",
    "  --batch-latency MS|MIN-MAX",
    "                        from create to end (default 200)",
    "  --batch-stuck         batches never end by themselves",
    "  --batch-expire-after MS",
    "                        every batch ends expired MS after create",
    "  --batch-partial F     share of lines done at expiry (0..1; default:",
    "                        the elapsed share of the latency)",
    "  --batch-fail-validation",
    "                        OpenAI batches fail validation; Anthropic 400",
    "  --batch-progress      request counts grow while in progress",
    "  --batch-window-ms MS  what the 24h completion window lasts (24 h)",
    "  --help                this text",
    "",
    "Fault kinds: ok 429 429openai 429quota 429anthropic 529 500 502 503",
    "  reset hang truncated badjson error200 moderation 401 emptychoices",
    "  badcontent noschema nousage negusage hugeusage",
    "  allocquota arrearage 402deepseek 503deepseek 422mistral 429gemini",
    "  503gemini context 429date 429ms 429reset 429rfc3339 drip stall",
    "Selection, first match wins: --fault-match, --fail-first, --schedule,",
    "  --fault, --rpm, else ok.",
};

void mock_opts_usage(FILE *out)
{
	for (size_t i = 0; i < sizeof(usage) / sizeof(usage[0]); i++)
		fprintf(out, "%s\n", usage[i]);
}

static int bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "mock-provider: %s %s: %s\n", opt, val ? val : "", why);
	return -1;
}

/* parse_long parses all of s as a decimal in [lo, hi]. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_kind(const char *opt, const char *s, enum mock_kind *k)
{
	if (mock_kind_parse(s, k) < 0)
		return bad(opt, s, "unknown fault kind (see --help)");
	return 0;
}

/* parse_ms_range: MS or MIN-MAX, each in 0..hi. */
static int parse_ms_range(const char *v, long hi, long *min, long *max)
{
	const char *dash = strchr(v, '-');
	char buf[32];

	if (!dash) {
		if (parse_long(v, 0, hi, min) < 0)
			return -1;
		*max = *min;
		return 0;
	}
	if ((size_t)(dash - v) >= sizeof(buf))
		return -1;
	memcpy(buf, v, (size_t)(dash - v));
	buf[dash - v] = '\0';
	if (parse_long(buf, 0, hi, min) < 0 ||
	    parse_long(dash + 1, 0, hi, max) < 0 || *max < *min)
		return -1;
	return 0;
}

/* parse_scale: K or MIN-MAX, factors in (0, 100]. */
static int parse_scale(const char *v, struct mock_opts *o)
{
	char *end;

	errno = 0;
	o->scale_min = strtod(v, &end);
	if (errno || end == v || !(o->scale_min > 0 && o->scale_min <= 100))
		return -1;
	o->scale_max = o->scale_min;
	if (*end == '\0')
		return 0;
	if (*end != '-')
		return -1;
	v = end + 1;
	o->scale_max = strtod(v, &end);
	if (errno || end == v || *end || !(o->scale_max <= 100) ||
	    o->scale_max < o->scale_min)
		return -1;
	return 0;
}

/* parse_share: a number in 0..1. */
static int parse_share(const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (errno || end == v || *end || !(*out >= 0 && *out <= 1))
		return -1;
	return 0;
}

static int add_match(const char *opt, const char *v, struct mock_opts *o)
{
	/* The last '=' splits, so the substring itself may hold '='. */
	const char *eq = strrchr(v, '='), *star;
	struct mock_fault_cfg *f = &o->fault;
	enum mock_kind k;
	char kind[32];
	long times = 0;
	size_t kl;

	if (!eq || eq == v)
		return bad(opt, v, "expected SUBSTR=KIND or SUBSTR=KIND*N");
	/* KIND*N: only the first N requests that match. */
	star = strchr(eq + 1, '*');
	kl = star ? (size_t)(star - eq - 1) : strlen(eq + 1);
	if (kl >= sizeof(kind))
		return bad(opt, v, "unknown fault kind (see --help)");
	memcpy(kind, eq + 1, kl);
	kind[kl] = '\0';
	if (parse_kind(opt, kind, &k) < 0)
		return -1;
	if (star && parse_long(star + 1, 1, 1000000000L, &times) < 0)
		return bad(opt, v, "N in KIND*N must be 1..1000000000");
	f->match = mock_xrealloc(f->match, (f->nmatch + 1) * sizeof(*f->match));
	f->match[f->nmatch].substr = mock_xstrndup(v, (size_t)(eq - v));
	f->match[f->nmatch].kind = k;
	f->match[f->nmatch].times = times;
	f->nmatch++;
	return 0;
}

static int add_rate(const char *opt, const char *v, struct mock_opts *o)
{
	const char *eq = strchr(v, '=');
	struct mock_fault_cfg *f = &o->fault;
	char kind[32], *end;
	enum mock_kind k;
	double rate, sum = 0;

	if (!eq || (size_t)(eq - v) >= sizeof(kind))
		return bad(opt, v, "expected KIND=RATE");
	memcpy(kind, v, (size_t)(eq - v));
	kind[eq - v] = '\0';
	if (parse_kind(opt, kind, &k) < 0)
		return -1;
	errno = 0;
	rate = strtod(eq + 1, &end);
	if (errno || end == eq + 1 || *end || !(rate >= 0 && rate <= 1))
		return bad(opt, v, "RATE must be a number in 0..1");
	for (size_t i = 0; i < f->nrates; i++)
		sum += f->rates[i].rate;
	if (sum + rate > 1.0 + 1e-9)
		return bad(opt, v, "the --fault rates add up to more than 1");
	f->rates = mock_xrealloc(f->rates, (f->nrates + 1) * sizeof(*f->rates));
	f->rates[f->nrates].kind = k;
	f->rates[f->nrates].rate = rate;
	f->nrates++;
	return 0;
}

static int parse_fail_first(const char *opt, const char *v, struct mock_opts *o)
{
	const char *eq = strchr(v, '=');
	char num[24];

	if (!eq || (size_t)(eq - v) >= sizeof(num))
		return bad(opt, v, "expected N=KIND");
	memcpy(num, v, (size_t)(eq - v));
	num[eq - v] = '\0';
	if (parse_long(num, 0, 1000000, &o->fault.fail_first) < 0)
		return bad(opt, v, "N must be 0..1000000");
	return parse_kind(opt, eq + 1, &o->fault.fail_first_kind);
}

static int parse_schedule(const char *opt, const char *v, struct mock_opts *o)
{
	struct mock_fault_cfg *f = &o->fault;
	const char *p = v;

	free(f->schedule);
	f->schedule = NULL;
	f->nschedule = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		char kind[32];

		if (n == 0 || n >= sizeof(kind))
			return bad(opt, v, "expected KIND,KIND,...");
		memcpy(kind, p, n);
		kind[n] = '\0';
		f->schedule = mock_xrealloc(
		    f->schedule, (f->nschedule + 1) * sizeof(*f->schedule));
		if (parse_kind(opt, kind, &f->schedule[f->nschedule]) < 0)
			return -1;
		f->nschedule++;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* set_batch applies a --batch-* option that takes a value. */
static int set_batch(const char *name, const char *v, struct mock_batch_opts *b)
{
	char *end;

	if (strcmp(name, "--batch-latency") == 0) {
		if (parse_ms_range(v, 86400000L, &b->lat_min, &b->lat_max) < 0)
			return bad(name, v, "expected MS or MIN-MAX (ms)");
	} else if (strcmp(name, "--batch-expire-after") == 0) {
		if (parse_long(v, 1, 86400000L * 14, &b->expire_after_ms) < 0)
			return bad(name, v, "expected milliseconds >= 1");
	} else if (strcmp(name, "--batch-window-ms") == 0) {
		if (parse_long(v, 1, 86400000L * 14, &b->window_ms) < 0)
			return bad(name, v, "expected milliseconds >= 1");
	} else if (strcmp(name, "--batch-partial") == 0) {
		errno = 0;
		b->partial = strtod(v, &end);
		if (errno || end == v || *end ||
		    !(b->partial >= 0 && b->partial <= 1))
			return bad(name, v, "expected a fraction in 0..1");
	} else {
		return bad(name, NULL, "unknown option (see --help)");
	}
	return 0;
}

/* set applies option name with value v (NULL for flags). */
static int set(const char *name, const char *v, struct mock_opts *o)
{
	long n;

	if (strcmp(name, "--port") == 0) {
		if (parse_long(v, 0, 65535, &n) < 0)
			return bad(name, v, "expected a port 0..65535");
		o->port = (unsigned)n;
	} else if (strcmp(name, "--key") == 0) {
		if (!*v)
			return bad(name, "", "the key must not be empty");
		o->key = v;
	} else if (strcmp(name, "--latency") == 0) {
		if (parse_ms_range(v, 3600000, &o->lat_min, &o->lat_max) < 0)
			return bad(name, v, "expected MS or MIN-MAX (ms)");
	} else if (strcmp(name, "--latency-per-ktok") == 0) {
		if (parse_long(v, 0, 3600000, &o->lat_per_ktok) < 0)
			return bad(name, v, "expected milliseconds");
	} else if (strcmp(name, "--drip-ms") == 0) {
		if (parse_long(v, 1, 3600000, &o->drip_ms) < 0)
			return bad(name, v, "expected milliseconds >= 1");
	} else if (strcmp(name, "--drip-bytes") == 0) {
		if (parse_long(v, 1, 1 << 20, &o->drip_bytes) < 0)
			return bad(name, v, "expected bytes 1..1048576");
	} else if (strcmp(name, "--cached") == 0) {
		if (parse_share(v, &o->cached) < 0)
			return bad(name, v, "expected a share in 0..1");
	} else if (strcmp(name, "--cache-write") == 0) {
		if (parse_share(v, &o->cache_write) < 0)
			return bad(name, v, "expected a share in 0..1");
	} else if (strcmp(name, "--reasoning") == 0) {
		if (parse_share(v, &o->reasoning) < 0)
			return bad(name, v, "expected a share in 0..1");
	} else if (strcmp(name, "--prompt-scale") == 0) {
		if (parse_scale(v, o) < 0)
			return bad(name, v, "expected K or MIN-MAX, factors "
					    "in (0, 100]");
	} else if (strcmp(name, "--seed") == 0) {
		if (parse_long(v, 0, 2147483647L, &n) < 0)
			return bad(name, v, "expected a number >= 0");
		o->fault.seed = (uint64_t)n;
	} else if (strcmp(name, "--threads") == 0) {
		if (parse_long(v, 1, 64, &n) < 0)
			return bad(name, v, "expected 1..64");
		o->threads = (unsigned)n;
	} else if (strcmp(name, "--retry-after") == 0) {
		if (parse_long(v, 0, 86400, &n) < 0)
			return bad(name, v, "expected seconds 0..86400");
		o->fault.retry_after_s = (int)n;
	} else if (strcmp(name, "--hang-ms") == 0) {
		if (parse_long(v, 0, 86400000L, &o->hang_ms) < 0)
			return bad(name, v, "expected milliseconds");
	} else if (strcmp(name, "--fault-match") == 0) {
		return add_match(name, v, o);
	} else if (strcmp(name, "--fail-first") == 0) {
		return parse_fail_first(name, v, o);
	} else if (strcmp(name, "--schedule") == 0) {
		return parse_schedule(name, v, o);
	} else if (strcmp(name, "--fault") == 0) {
		return add_rate(name, v, o);
	} else if (strcmp(name, "--rpm") == 0) {
		if (parse_long(v, 1, 100000000L, &o->fault.rpm) < 0)
			return bad(name, v, "expected a number >= 1");
	} else if (strcmp(name, "--window-ms") == 0) {
		if (parse_long(v, 1, 86400000L, &o->fault.window_ms) < 0)
			return bad(name, v, "expected milliseconds >= 1");
	} else if (strcmp(name, "--log") == 0) {
		o->log_path = v;
	} else if (strcmp(name, "--max-body") == 0) {
		if (parse_long(v, 1, 1L << 30, &n) < 0)
			return bad(name, v, "expected bytes 1..2^30");
		o->max_body = (size_t)n;
	} else if (strcmp(name, "--idle-timeout") == 0) {
		if (parse_long(v, 1, 86400, &n) < 0)
			return bad(name, v, "expected seconds 1..86400");
		o->idle_timeout_s = (unsigned)n;
	} else {
		return set_batch(name, v, &o->batch);
	}
	return 0;
}

static const char *const valued[] = {
    "--port",	    "--key",	     "--latency",  "--seed",
    "--threads",    "--retry-after", "--hang-ms",  "--fault-match",
    "--fail-first", "--schedule",    "--fault",	   "--rpm",
    "--window-ms",  "--log",	     "--max-body", "--idle-timeout",
    "--prompt-scale", "--batch-latency", "--batch-expire-after",
    "--batch-partial", "--batch-window-ms", "--latency-per-ktok",
    "--drip-ms", "--drip-bytes", "--cached", "--cache-write", "--reasoning",
};

static bool takes_value(const char *name)
{
	for (size_t i = 0; i < sizeof(valued) / sizeof(valued[0]); i++) {
		if (strcmp(name, valued[i]) == 0)
			return true;
	}
	return false;
}

/* flag returns where the flag option name is kept in o, or NULL when name
 * is not a flag (--help has no place: it is acted on at once). */
static bool *flag(const char *name, struct mock_opts *o)
{
	static bool help;

	if (strcmp(name, "--content-json") == 0)
		return &o->content_json;
	if (strcmp(name, "--verbose") == 0)
		return &o->verbose;
	if (strcmp(name, "--batch-stuck") == 0)
		return &o->batch.stuck;
	if (strcmp(name, "--batch-fail-validation") == 0)
		return &o->batch.fail_validation;
	if (strcmp(name, "--batch-progress") == 0)
		return &o->batch.progress;
	if (strcmp(name, "--help") == 0)
		return &help;
	return NULL;
}

int mock_opts_parse(int argc, char **argv, struct mock_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->threads = 2;
	o->scale_min = o->scale_max = 1;
	o->hang_ms = 60000;
	o->drip_ms = 200;
	o->drip_bytes = 16;
	o->max_body = 32u << 20;
	o->idle_timeout_s = 120;
	o->fault.window_ms = 60000;
	o->fault.retry_after_s = 1;
	o->fault.seed = 1;
	o->batch.lat_min = o->batch.lat_max = 200;
	o->batch.partial = -1;
	o->batch.window_ms = 86400000L;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq = strchr(arg, '='), *v;
		char name[32];
		size_t nl = eq ? (size_t)(eq - arg) : strlen(arg);

		if (strncmp(arg, "--", 2) != 0 || nl >= sizeof(name))
			return bad(arg, NULL, "unknown argument (see --help)");
		memcpy(name, arg, nl);
		name[nl] = '\0';
		if (flag(name, o)) {
			if (eq)
				return bad(name, eq + 1, "takes no value");
			if (strcmp(name, "--help") == 0) {
				mock_opts_usage(stdout);
				return 1;
			}
			*flag(name, o) = true;
			continue;
		}
		if (!takes_value(name))
			return bad(name, NULL, "unknown option (see --help)");
		if (eq) {
			v = eq + 1;
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			return bad(name, NULL, "needs a value");
		}
		if (set(name, v, o) < 0)
			return -1;
	}
	return 0;
}

void mock_opts_free(struct mock_opts *o)
{
	for (size_t i = 0; i < o->fault.nmatch; i++)
		free(o->fault.match[i].substr);
	free(o->fault.match);
	free(o->fault.schedule);
	free(o->fault.rates);
	memset(o, 0, sizeof(*o));
}
