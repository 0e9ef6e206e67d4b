/* cmd_providers.c — `nightshift providers`: the catalogue in force (built-in,
 * $NIGHTSHIFT_PROVIDERS or --providers FILE), each provider's endpoint, key
 * variable and whether it is set, its batch lane if it has one, model
 * prices (and batch prices) with their date and source, and the routes.
 * The point is to answer "what will a run use and what will it cost"
 * before spending anything, so it also validates the config: a bad file
 * exits 2 with the located error.
 *
 * Only the NAME of a key variable is ever printed, and whether it is set;
 * never its value. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/cli.h"
#include "runner/cmd.h"
#include "runner/config.h"
#include "runner/keys.h"
#include "runner/providers/cost.h"
#include "runner/providers/prices.h"

static const char USAGE[] =
	"usage: nightshift providers [--providers FILE] [--prices FILE] "
	"[--json]\n"
	"\n"
	"Show the providers config in force: each provider's endpoint, the\n"
	"environment variable holding its key (SET or not set; the key\n"
	"itself is never shown), model prices in USD per million tokens with\n"
	"the date and source of the figures, off-peak windows (with --prices,\n"
	"at the config's discount off the new prices), each provider's batch\n"
	"lane (its API, discount, limits per batch and window) with the\n"
	"models' batch prices, and the routes a job's body.model can name.\n"
	"Checks the config on the way: a bad file exits 2.\n"
	"\n"
	"  --providers FILE  use FILE instead of $NIGHTSHIFT_PROVIDERS or the\n"
	"                    built-in catalogue\n"
	"  --prices FILE     take model prices and context windows from\n"
	"                    LiteLLM's model_prices_and_context_window.json\n"
	"                    (default $NIGHTSHIFT_PRICES, else none)\n"
	"  --json            the same as one JSON object, for scripts\n"
	"  -h, --help        this help\n";

static const char *const day_names[] = {"sun", "mon", "tue", "wed",
					"thu", "fri", "sat"};

/* fmt_price: a price with up to 6 decimals and no trailing zeros. */
static const char *fmt_price(double v, char *buf, size_t n)
{
	size_t len;

	snprintf(buf, n, "%.6f", v);
	len = strlen(buf);
	while (len > 1 && buf[len - 1] == '0' && buf[len - 2] != '.')
		buf[--len] = '\0';
	return buf;
}

static void fmt_hhmm(int min, char *buf, size_t n)
{
	unsigned m = (unsigned)min % 1441u; /* config keeps it in 0..1440 */

	snprintf(buf, n, "%02u:%02u", m / 60u, m % 60u);
}

static void fmt_days(unsigned days, char *buf, size_t n)
{
	size_t len = 0;
	int d;

	buf[0] = '\0';
	if (!days) {
		snprintf(buf, n, "every day");
		return;
	}
	for (d = 1; d <= 7; d++) { /* monday first */
		int w;

		if (!(days & (1u << (d % 7))))
			continue;
		w = snprintf(buf + len, n - len, "%s%s", len ? "," : "",
			     day_names[d % 7]);
		if (w < 0 || (size_t)w >= n - len)
			return;
		len += (size_t)w;
	}
}

/* key_word: "none", "set", "invalid" or "unset"; never the key. */
static const char *key_word(const struct prov *p)
{
	if (!p->api_key_env)
		return "none";
	switch (key_state(p)) {
	case 1:
		return "set";
	case -1:
		return "invalid";
	default:
		return "unset";
	}
}

static void print_quirks(const struct prov_quirks *q)
{
	size_t i;
	int any = 0;

	if (q->json_mode_prompt)
		printf("%sJSON mode emulated", any++ ? ", " : "  quirks     ");
	if (q->needs_json_word)
		printf("%sJSON mode needs the word \"json\"",
		       any++ ? ", " : "  quirks     ");
	if (q->disable_thinking)
		printf("%sthinking off", any++ ? ", " : "  quirks     ");
	if (q->ndrop) {
		printf("%sdrops", any++ ? ", " : "  quirks     ");
		for (i = 0; i < q->ndrop; i++)
			printf(" %s", q->drop_params[i]);
	}
	if (any)
		putchar('\n');
}

/* fmt_bytes: a byte count as "500 MB" when it is whole megabytes (the
 * providers state their caps so), else in bytes. */
static const char *fmt_bytes(int64_t n, char *buf, size_t len)
{
	if (n > 0 && n % 1000000 == 0)
		snprintf(buf, len, "%lld MB", (long long)(n / 1000000));
	else
		snprintf(buf, len, "%lld bytes", (long long)n);
	return buf;
}

static void print_batch(const struct prov_batch *b)
{
	char d[32], bytes[48];

	if (!b->on) {
		printf("  batch      none\n");
		return;
	}
	printf("  batch      %s API (%s), %s x the price, up to %lld "
	       "requests and %s per batch, window %d h\n",
	       prov_batch_api_name(b->api),
	       b->api == PROV_BATCH_ANTHROPIC ? "Message Batches"
					      : "Files + Batches",
	       fmt_price(b->discount, d, sizeof(d)),
	       (long long)b->max_requests,
	       fmt_bytes(b->max_bytes, bytes, sizeof(bytes)), b->window_h);
}

/* print_model_batch: m's prices on p's batch lane, when p has one. */
static void print_model_batch(const struct prov *p, const struct prov_model *m)
{
	struct cost_prices pr;
	char a[32], b[32], d[32];

	if (!p->batch.on)
		return;
	if (!prov_has_lane(p, m, LANE_BATCH)) {
		printf("      batch: not offered for this model\n");
		return;
	}
	/* The instant does not matter: no windows on the batch lane. */
	cost_prices_lane(p, m, LANE_BATCH, 0, &pr);
	printf("      batch: input %s, output %s", fmt_price(pr.in, a, sizeof(a)),
	       fmt_price(pr.out, b, sizeof(b)));
	if (m->batch_input_per_mtok < 0 && m->batch_output_per_mtok < 0)
		printf(" (the price x %s)",
		       fmt_price(p->batch.discount, d, sizeof(d)));
	putchar('\n');
}

static void print_model(const struct prov *p, const struct prov_model *m)
{
	char a[32], b[32], c[32], d[32], s[16], e[16], days[40];
	size_t i;

	printf("    %-24s %9s %9s %9s %11s", m->name,
	       fmt_price(m->input_per_mtok, a, sizeof(a)),
	       fmt_price(m->output_per_mtok, b, sizeof(b)),
	       fmt_price(m->cached_input_per_mtok, c, sizeof(c)),
	       fmt_price(m->cache_write_per_mtok, d, sizeof(d)));
	if (m->context_window)
		printf(" %9lld", (long long)m->context_window);
	putchar('\n');
	/* Only where the model's figures came from elsewhere than the
	 * provider's line says (a --prices file, which has no off-peak
	 * windows: the config's follow its prices at the same discount). */
	if (m->price_source &&
	    (!p->prices_source || strcmp(m->price_source, p->prices_source)))
		printf("      prices from %s%s%s%s\n", m->price_source,
		       m->price_date ? ", as of " : "",
		       m->price_date ? m->price_date : "",
		       m->noffpeak ? "; off-peak windows at the config's "
				     "discount"
				   : "");
	if (m->noffpeak_dropped)
		printf("      %zu off-peak window%s dropped: the config's "
		       "base price is 0, so its discount cannot follow the "
		       "price map\n",
		       m->noffpeak_dropped,
		       m->noffpeak_dropped == 1 ? "" : "s");
	print_model_batch(p, m);
	for (i = 0; i < m->noffpeak; i++) {
		const struct prov_offpeak *w = &m->offpeak[i];

		fmt_hhmm(w->start_min, s, sizeof(s));
		fmt_hhmm(w->end_min, e, sizeof(e));
		fmt_days(w->days, days, sizeof(days));
		printf("      %s-%s UTC %s: input %s, output %s\n", s, e, days,
		       fmt_price(w->input_per_mtok, a, sizeof(a)),
		       fmt_price(w->output_per_mtok, b, sizeof(b)));
	}
}

static void print_text(const struct config *c, const char *prices,
		       size_t npriced)
{
	size_t i, j;

	printf("providers config: %s\n", c->source);
	if (prices)
		printf("price map: %s (%zu model%s priced from it)\n", prices,
		       npriced, npriced == 1 ? "" : "s");
	for (i = 0; i < c->nprovs; i++) {
		const struct prov *p = &c->provs[i];
		const char *ks = key_word(p);

		printf("\n%s (%s dialect, %s flavor)\n", p->name,
		       prov_dialect_name(p->dialect), flavor_name(p->flavor));
		printf("  url        %s\n", p->base_url);
		if (p->api_key_env)
			printf("  key        %s: %s\n", p->api_key_env,
			       strcmp(ks, "set") == 0 ? "SET"
			       : strcmp(ks, "invalid") == 0
				       ? "INVALID (holds a control character; "
					 "run refuses it)"
				       : "not set");
		else
			printf("  key        none needed\n");
		printf("  limits     max_inflight %d, rpm %d, tpm %lld "
		       "(0 = no limit)\n",
		       p->max_inflight, p->rpm, (long long)p->tpm);
		printf("  timeouts   %d s, connect %d s, retries %d\n",
		       p->timeout_s, p->connect_timeout_s, p->max_retries);
		print_quirks(&p->quirks);
		print_batch(&p->batch);
		printf("  prices     USD per 1M tokens");
		if (p->prices_date)
			printf(", as of %s", p->prices_date);
		if (p->prices_source)
			printf(", %s", p->prices_source);
		printf("\n    %-24s %9s %9s %9s %11s %9s\n", "model", "input",
		       "output", "cached", "cache-write", "context");
		for (j = 0; j < p->nmodels; j++)
			print_model(p, &p->models[j]);
	}
	printf("\nroutes (a job's body.model may also be \"provider:model\" "
	       "or a bare model name)\n");
	if (!c->nroutes)
		printf("  (none)\n");
	for (i = 0; i < c->nroutes; i++) {
		const struct route *r = &c->routes[i];

		printf("  %-10s", r->name);
		for (j = 0; j < r->ncands; j++) {
			const struct prov *p = &c->provs[r->cands[j].prov];

			printf(" %s:%s", p->name,
			       p->models[r->cands[j].model].name);
		}
		putchar('\n');
	}
}

/* model_batch_json: m's batch prices on p's lane as "batch" in o: an
 * object of the four prices in force there, or false when m is not
 * offered on it; nothing when p has no lane. */
static void model_batch_json(const struct prov *p, const struct prov_model *m,
			     cJSON *o)
{
	struct cost_prices pr;
	cJSON *b;

	if (!p->batch.on)
		return;
	if (!prov_has_lane(p, m, LANE_BATCH)) {
		cJSON_AddFalseToObject(o, "batch");
		return;
	}
	b = cJSON_AddObjectToObject(o, "batch");
	if (!b)
		return;
	cost_prices_lane(p, m, LANE_BATCH, 0, &pr);
	cJSON_AddNumberToObject(b, "input_per_mtok", pr.in);
	cJSON_AddNumberToObject(b, "output_per_mtok", pr.out);
	cJSON_AddNumberToObject(b, "cached_input_per_mtok", pr.cached);
	cJSON_AddNumberToObject(b, "cache_write_per_mtok", pr.write);
	/* Which figures are the model's own rather than the discount's. */
	cJSON_AddBoolToObject(b, "input_given", m->batch_input_per_mtok >= 0);
	cJSON_AddBoolToObject(b, "output_given",
			      m->batch_output_per_mtok >= 0);
}

static cJSON *model_json(const struct prov *p, const struct prov_model *m)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	char s[16], e[16];
	size_t i;
	int d;

	cJSON_AddStringToObject(o, "name", m->name);
	cJSON_AddNumberToObject(o, "input_per_mtok", m->input_per_mtok);
	cJSON_AddNumberToObject(o, "output_per_mtok", m->output_per_mtok);
	cJSON_AddNumberToObject(o, "cached_input_per_mtok",
				m->cached_input_per_mtok);
	cJSON_AddNumberToObject(o, "cache_write_per_mtok",
				m->cache_write_per_mtok);
	if (m->context_window)
		cJSON_AddNumberToObject(o, "context_window",
					(double)m->context_window);
	if (m->max_output_tokens)
		cJSON_AddNumberToObject(o, "max_output_tokens",
					(double)m->max_output_tokens);
	if (m->price_source)
		cJSON_AddStringToObject(o, "price_source", m->price_source);
	if (m->price_date)
		cJSON_AddStringToObject(o, "price_date", m->price_date);
	if (m->noffpeak_dropped)
		cJSON_AddNumberToObject(o, "offpeak_dropped",
					(double)m->noffpeak_dropped);
	model_batch_json(p, m, o);
	arr = cJSON_AddArrayToObject(o, "offpeak");
	for (i = 0; arr && i < m->noffpeak; i++) {
		const struct prov_offpeak *w = &m->offpeak[i];
		cJSON *wo = cJSON_CreateObject(), *days;

		fmt_hhmm(w->start_min, s, sizeof(s));
		fmt_hhmm(w->end_min, e, sizeof(e));
		cJSON_AddStringToObject(wo, "start", s);
		cJSON_AddStringToObject(wo, "end", e);
		cJSON_AddNumberToObject(wo, "input_per_mtok",
					w->input_per_mtok);
		cJSON_AddNumberToObject(wo, "output_per_mtok",
					w->output_per_mtok);
		if (w->days) {
			days = cJSON_AddArrayToObject(wo, "days");
			for (d = 0; days && d < 7; d++)
				if (w->days & (1u << d))
					cJSON_AddItemToArray(
						days, cJSON_CreateString(
							      day_names[d]));
		}
		cJSON_AddItemToArray(arr, wo);
	}
	return o;
}

static cJSON *prov_json(const struct prov *p)
{
	cJSON *o = cJSON_CreateObject(), *q, *arr;
	size_t i;

	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "dialect", prov_dialect_name(p->dialect));
	cJSON_AddStringToObject(o, "flavor", flavor_name(p->flavor));
	cJSON_AddStringToObject(o, "base_url", p->base_url);
	if (p->api_key_env)
		cJSON_AddStringToObject(o, "api_key_env", p->api_key_env);
	else
		cJSON_AddNullToObject(o, "api_key_env");
	cJSON_AddStringToObject(o, "key", key_word(p));
	cJSON_AddNumberToObject(o, "max_inflight", p->max_inflight);
	cJSON_AddNumberToObject(o, "rpm", p->rpm);
	cJSON_AddNumberToObject(o, "tpm", (double)p->tpm);
	cJSON_AddNumberToObject(o, "timeout_s", p->timeout_s);
	cJSON_AddNumberToObject(o, "connect_timeout_s", p->connect_timeout_s);
	cJSON_AddNumberToObject(o, "max_retries", p->max_retries);
	if (p->prices_date)
		cJSON_AddStringToObject(o, "prices_date", p->prices_date);
	if (p->prices_source)
		cJSON_AddStringToObject(o, "prices_source", p->prices_source);
	q = cJSON_AddObjectToObject(o, "quirks");
	if (q) {
		cJSON_AddStringToObject(q, "json_mode",
					p->quirks.json_mode_prompt ? "prompt"
								   : "native");
		cJSON_AddBoolToObject(q, "needs_json_word",
				      p->quirks.needs_json_word);
		cJSON_AddBoolToObject(q, "enable_thinking",
				      !p->quirks.disable_thinking);
		arr = cJSON_AddArrayToObject(q, "drop_params");
		for (i = 0; arr && i < p->quirks.ndrop; i++) {
			const char *name = p->quirks.drop_params[i];

			cJSON_AddItemToArray(arr, cJSON_CreateString(name));
		}
	}
	if (p->batch.on && (q = cJSON_AddObjectToObject(o, "batch"))) {
		const struct prov_batch *b = &p->batch;

		cJSON_AddStringToObject(q, "api", prov_batch_api_name(b->api));
		cJSON_AddNumberToObject(q, "discount", b->discount);
		cJSON_AddNumberToObject(q, "max_requests",
					(double)b->max_requests);
		cJSON_AddNumberToObject(q, "max_bytes", (double)b->max_bytes);
		cJSON_AddNumberToObject(q, "window_h", b->window_h);
	} else if (!p->batch.on) {
		cJSON_AddNullToObject(o, "batch");
	}
	arr = cJSON_AddArrayToObject(o, "models");
	for (i = 0; arr && i < p->nmodels; i++)
		cJSON_AddItemToArray(arr, model_json(p, &p->models[i]));
	return o;
}

/* print_json: {"source", "providers": [...], "routes": {name: [...]}}.
 * Providers are an array (config order matters); each carries "key":
 * "set" | "unset" | "none" instead of anything about the key's value, and
 * "batch": its lane as the config has it, or null. */
static int print_json(const struct config *c)
{
	cJSON *root = cJSON_CreateObject(), *arr, *routes;
	char *text = NULL;
	size_t i, j;
	int rc = EXIT_RUNTIME;

	if (!root)
		goto out;
	cJSON_AddStringToObject(root, "source", c->source);
	arr = cJSON_AddArrayToObject(root, "providers");
	for (i = 0; arr && i < c->nprovs; i++)
		cJSON_AddItemToArray(arr, prov_json(&c->provs[i]));
	routes = cJSON_AddObjectToObject(root, "routes");
	for (i = 0; routes && i < c->nroutes; i++) {
		const struct route *r = &c->routes[i];
		cJSON *list = cJSON_AddArrayToObject(routes, r->name);

		for (j = 0; list && j < r->ncands; j++) {
			const struct prov *p = &c->provs[r->cands[j].prov];
			char pair[256];

			snprintf(pair, sizeof(pair), "%s:%s", p->name,
				 p->models[r->cands[j].model].name);
			cJSON_AddItemToArray(list, cJSON_CreateString(pair));
		}
	}
	text = cJSON_Print(root);
	if (!text)
		goto out;
	if (puts(text) == EOF)
		goto out;
	rc = EXIT_OK;
out:
	cJSON_free(text);
	cJSON_Delete(root);
	return rc;
}

int cmd_providers(int argc, char **argv)
{
	static const struct option opts[] = {
		{"providers", required_argument, NULL, 'p'},
		{"prices", required_argument, NULL, 'P'},
		{"json", no_argument, NULL, 'j'},
		CLI_OPT_END};
	struct cli_args a = {"providers", argc, argv, opts, NULL, USAGE, 0};
	const char *file = NULL, *prices = NULL;
	struct config *c = NULL;
	char err[1024];
	size_t npriced = 0;
	int ch, json = 0, rc;

	while ((ch = cli_opt(&a)) > 0) {
		switch (ch) {
		case 'p':
			file = optarg;
			break;
		case 'P':
			prices = optarg;
			break;
		case 'j':
			json = 1;
			break;
		}
	}
	if (ch != CLI_END)
		return cli_exit(ch);
	if ((rc = cli_no_operands(&a)))
		return rc;
	if (file && !*file)
		return cli_usage_error("providers",
				       "--providers needs a file name");
	if (prices && !*prices)
		return cli_usage_error("providers",
				       "--prices needs a file name");
	rc = config_load(file, &c, err, sizeof(err));
	if (rc == 0)
		rc = prices_apply(c->provs, c->nprovs, prices, &npriced, err,
				  sizeof(err));
	if (rc) {
		fprintf(stderr, "nightshift providers: %s\n", err);
		config_free(&c);
		return EXIT_USAGE;
	}
	if (!prices && getenv(PRICES_ENV) && *getenv(PRICES_ENV))
		prices = getenv(PRICES_ENV);
	if (json) {
		rc = print_json(c);
	} else {
		print_text(c, prices, npriced);
		rc = EXIT_OK;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = EXIT_RUNTIME;
	config_free(&c);
	return rc;
}
