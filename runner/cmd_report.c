/* cmd_report.c — `nightshift report`: the ledger per provider (and per
 * model under it): requests, outcomes, retries, tokens, cost and latency
 * percentiles; what routing did (failovers, 429s, circuit trips) and what
 * it saved against each route's dearest candidate; then totals; as a
 * table, JSON or CSV. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue.h"
#include "queue/report.h"
#include "util/xalloc.h"
#include "runner/cli.h"
#include "runner/cmd.h"

static const char USAGE[] =
	"usage: nightshift report [--db FILE] [--json|--csv]\n"
	"\n"
	"Sum the ledger (one row per request sent) per provider, with one\n"
	"line per model under it: requests, successes, failures by error\n"
	"class, retries (requests that were not the job's first on that\n"
	"provider; a failover is not a retry), tokens in (uncached + cached\n"
	"+ cache write) and out (incl. reasoning), cost, and latency\n"
	"p50/p95/p99 in ms (exact, nearest rank, over all of the provider's\n"
	"requests). Cost not taken from the provider's usage is counted\n"
	"apart: estimated (a billed reply without usable usage, charged its\n"
	"worst case) and suspect (usage beyond what the request allowed,\n"
	"charged at least its worst case).\n"
	"\n"
	"Routing, per provider and model: failovers out (requests after\n"
	"which the job moved to its next candidate) and in (requests that\n"
	"followed one on another provider), HTTP 429 replies, circuit\n"
	"breaker trips and times the provider was disabled for a run; and,\n"
	"over the done jobs it served, what the winning tokens would have\n"
	"cost on the route's most expensive candidate, and the saving: that\n"
	"minus the job's cost, failed requests included.\n"
	"\n"
	"  --db FILE   queue database (default $NIGHTSHIFT_DB, else "
	"./nightshift.db)\n"
	"Lanes: requests, cost and, for the batch lane, the same tokens at\n"
	"the models' sync prices and the saving.\n"
	"\n"
	"  --json      {\"providers\":[...],\"totals\":{...},\"lanes\":{...}},\n"
	"              for scripts\n"
	"  --csv       a header, one row per provider and a TOTAL row; one\n"
	"              failed_CLASS column per error class seen\n"
	"  -h, --help  this help\n";

/* ---- JSON */

static void add_pct(cJSON *o, const char *name, long long v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddNumberToObject(o, name, (double)v);
}

static cJSON *row_json(const struct report_row *r)
{
	cJSON *o = cJSON_CreateObject(), *cls, *lat;

	if (!o)
		return NULL;
	if (r->provider)
		cJSON_AddStringToObject(o, "provider", r->provider);
	if (r->model)
		cJSON_AddStringToObject(o, "model", r->model);
	cJSON_AddNumberToObject(o, "requests", (double)r->requests);
	cJSON_AddNumberToObject(o, "successes", (double)r->successes);
	cJSON_AddNumberToObject(o, "failures", (double)r->failures);
	cls = cJSON_AddObjectToObject(o, "failures_by_class");
	for (size_t i = 0; cls && i < r->nclasses; i++)
		cJSON_AddNumberToObject(cls, r->classes[i].name,
					(double)r->classes[i].count);
	cJSON_AddNumberToObject(o, "retries", (double)r->retries);
	cJSON_AddNumberToObject(o, "tokens_in", (double)r->tokens_in);
	cJSON_AddNumberToObject(o, "tokens_out", (double)r->tokens_out);
	cJSON_AddNumberToObject(o, "cost_usd", r->cost_usd);
	cJSON_AddNumberToObject(o, "estimated_requests", (double)r->estimated);
	cJSON_AddNumberToObject(o, "estimated_cost_usd", r->estimated_usd);
	cJSON_AddNumberToObject(o, "suspect_requests", (double)r->suspect);
	cJSON_AddNumberToObject(o, "suspect_cost_usd", r->suspect_usd);
	cJSON_AddNumberToObject(o, "failovers_in", (double)r->failovers_in);
	cJSON_AddNumberToObject(o, "failovers_out", (double)r->failovers_out);
	cJSON_AddNumberToObject(o, "http_429", (double)r->http_429);
	/* events belong to a provider, not to one of its models */
	if (!r->model) {
		cJSON_AddNumberToObject(o, "circuit_trips",
					(double)r->circuit_trips);
		cJSON_AddNumberToObject(o, "disabled", (double)r->disabled);
	}
	cJSON_AddNumberToObject(o, "cost_ref_usd", r->cost_ref_usd);
	cJSON_AddNumberToObject(o, "saving_usd", r->saving_usd);
	lat = cJSON_AddObjectToObject(o, "latency_ms");
	if (lat) {
		add_pct(lat, "p50", (long long)r->p50_ms);
		add_pct(lat, "p95", (long long)r->p95_ms);
		add_pct(lat, "p99", (long long)r->p99_ms);
	}
	return o;
}

static int print_json(const struct report *r)
{
	cJSON *root = cJSON_CreateObject(), *provs, *p, *models;
	char *text = NULL;
	int rc = EXIT_RUNTIME;

	if (!root || !(provs = cJSON_AddArrayToObject(root, "providers")))
		goto out;
	for (size_t i = 0; i < r->nproviders; i++) {
		if (!(p = row_json(&r->providers[i])))
			goto out;
		cJSON_AddItemToArray(provs, p);
		if (!(models = cJSON_AddArrayToObject(p, "models")))
			goto out;
		for (size_t j = 0; j < r->nmodels; j++) {
			cJSON *m;

			if (strcmp(r->models[j].provider,
				   r->providers[i].provider) != 0)
				continue;
			if (!(m = row_json(&r->models[j])))
				goto out;
			cJSON_DeleteItemFromObject(m, "provider");
			cJSON_AddItemToArray(models, m);
		}
	}
	if (!(p = row_json(&r->totals)))
		goto out;
	cJSON_AddItemToObject(root, "totals", p);
	if (!(p = cJSON_AddObjectToObject(root, "lanes")))
		goto out;
	for (int i = 0; i < 2; i++) {
		const struct report_lane *ln = &r->lanes[i];
		cJSON *o = cJSON_AddObjectToObject(p, i ? "batch" : "sync");

		if (!o)
			goto out;
		cJSON_AddNumberToObject(o, "requests", (double)ln->requests);
		cJSON_AddNumberToObject(o, "cost_usd", ln->cost_usd);
		cJSON_AddNumberToObject(o, "cost_at_sync_usd",
					ln->cost_sync_usd);
		cJSON_AddNumberToObject(o, "saving_usd",
					ln->cost_sync_usd - ln->cost_usd);
	}
	if (!(text = cJSON_PrintUnformatted(root)))
		goto out;
	puts(text);
	rc = EXIT_OK;
out:
	cJSON_free(text);
	cJSON_Delete(root);
	return rc;
}

/* ---- CSV */

/* csv_field: s quoted when it holds a comma, quote or line break. */
static void csv_field(const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

/* csv_num: the shortest of %.15g / %.17g that reads back as v. */
static void csv_num(double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, stdout);
}

static void csv_pct(long long v)
{
	if (v >= 0)
		printf(",%lld", v);
	else
		putchar(',');
}

static void csv_row(const char *name, const struct report_row *r,
		    const struct report_row *cols)
{
	size_t j = 0;

	csv_field(name);
	printf(",%lld,%lld,%lld,%lld,%lld,%lld,", (long long)r->requests,
	       (long long)r->successes, (long long)r->failures,
	       (long long)r->retries, (long long)r->tokens_in,
	       (long long)r->tokens_out);
	csv_num(r->cost_usd);
	csv_pct((long long)r->p50_ms);
	csv_pct((long long)r->p95_ms);
	csv_pct((long long)r->p99_ms);
	printf(",%lld,%lld,%lld,%lld,%lld,", (long long)r->failovers_in,
	       (long long)r->failovers_out, (long long)r->http_429,
	       (long long)r->circuit_trips, (long long)r->disabled);
	csv_num(r->cost_ref_usd);
	putchar(',');
	csv_num(r->saving_usd);
	printf(",%lld,", (long long)r->estimated);
	csv_num(r->estimated_usd);
	printf(",%lld,", (long long)r->suspect);
	csv_num(r->suspect_usd);
	/* Both class lists are sorted by name and the totals' holds them
	 * all, so one walk fills the columns. */
	for (size_t i = 0; i < cols->nclasses; i++) {
		long long n = 0;

		if (j < r->nclasses &&
		    strcmp(r->classes[j].name, cols->classes[i].name) == 0)
			n = (long long)r->classes[j++].count;
		printf(",%lld", n);
	}
	putchar('\n');
}

static void print_csv(const struct report *r)
{
	fputs("provider,requests,successes,failures,retries,tokens_in,"
	      "tokens_out,cost_usd,p50_ms,p95_ms,p99_ms,failovers_in,"
	      "failovers_out,http_429,circuit_trips,disabled,cost_ref_usd,"
	      "saving_usd,estimated_requests,estimated_cost_usd,"
	      "suspect_requests,suspect_cost_usd",
	      stdout);
	for (size_t i = 0; i < r->totals.nclasses; i++) {
		const char *name = r->totals.classes[i].name;
		char *col = xmalloc(strlen(name) + 8);

		memcpy(col, "failed_", 7);
		strcpy(col + 7, name);
		putchar(',');
		csv_field(col);
		free(col);
	}
	putchar('\n');
	for (size_t i = 0; i < r->nproviders; i++)
		csv_row(r->providers[i].provider, &r->providers[i],
			&r->totals);
	csv_row("TOTAL", &r->totals, &r->totals);
}

/* ---- text */

static void text_pct(long long v)
{
	if (v >= 0)
		printf(" %7lld", v);
	else
		printf(" %7s", "-");
}

static void text_row(const char *indent, const char *name,
		     const struct report_row *r)
{
	int w = 20 - (int)strlen(indent);

	printf("%s%-*s %9lld %9lld %8lld %8lld %11lld %11lld %12.6f", indent,
	       w < 1 ? 1 : w, name, (long long)r->requests,
	       (long long)r->successes, (long long)r->failures,
	       (long long)r->retries, (long long)r->tokens_in,
	       (long long)r->tokens_out, r->cost_usd);
	text_pct((long long)r->p50_ms);
	text_pct((long long)r->p95_ms);
	text_pct((long long)r->p99_ms);
	putchar('\n');
}

static void text_classes(const char *indent, const struct report_row *r)
{
	if (!r->nclasses)
		return;
	printf("%sfailures:", indent);
	for (size_t i = 0; i < r->nclasses; i++)
		printf("%s %s %lld", i ? "," : "", r->classes[i].name,
		       (long long)r->classes[i].count);
	putchar('\n');
}

/* text_basis: how many requests were not charged as reported, and what
 * they cost, when any were. */
static void text_basis(const char *indent, const struct report_row *r)
{
	if (!r->estimated && !r->suspect)
		return;
	printf("%scost not as reported:", indent);
	if (r->estimated)
		printf(" %lld estimated ($%.6f: billed without usable usage, "
		       "charged their worst case)%s",
		       (long long)r->estimated, r->estimated_usd,
		       r->suspect ? "," : "");
	if (r->suspect)
		printf(" %lld suspect ($%.6f: usage beyond what the request "
		       "allowed, charged at least their worst case)",
		       (long long)r->suspect, r->suspect_usd);
	putchar('\n');
}

/* text_count: a count, or "-" where the row cannot have one. */
static void text_count(int width, int known, long long v)
{
	if (known)
		printf(" %*lld", width, v);
	else
		printf(" %*s", width, "-");
}

static void routing_row(const char *indent, const char *name,
			const struct report_row *r)
{
	int w = 20 - (int)strlen(indent);

	printf("%s%-*s", indent, w < 1 ? 1 : w, name);
	text_count(12, 1, (long long)r->failovers_in);
	text_count(13, 1, (long long)r->failovers_out);
	text_count(8, 1, (long long)r->http_429);
	text_count(7, !r->model, (long long)r->circuit_trips);
	text_count(8, !r->model, (long long)r->disabled);
	printf(" %14.6f %12.6f", r->cost_ref_usd, r->saving_usd);
	if (r->cost_ref_usd > 0)
		printf(" %7.1f%%\n", 100 * r->saving_usd / r->cost_ref_usd);
	else
		printf(" %8s\n", "-");
}

/* print_routing: the second table, one line per provider and model as in
 * the first, and the saving in one sentence. */
static void print_routing(const struct report *r)
{
	const struct report_row *t = &r->totals;
	double save = t->saving_usd;

	printf("\n%-20s %12s %13s %8s %7s %8s %14s %12s %8s\n", "routing",
	       "failovers in", "failovers out", "429s", "trips", "disabled",
	       "dearest (USD)", "saved (USD)", "saved");
	for (size_t i = 0; i < r->nproviders; i++) {
		const struct report_row *p = &r->providers[i];

		routing_row("", p->provider, p);
		for (size_t j = 0; j < r->nmodels; j++)
			if (strcmp(r->models[j].provider, p->provider) == 0)
				routing_row("  ", r->models[j].model,
					    &r->models[j]);
	}
	routing_row("", "TOTAL", t);
	/* Failed requests can cost more than the cheap route saved. */
	printf("routing %s $%.6f", save < 0 ? "lost" : "saved",
	       save < 0 ? -save : save);
	if (t->cost_ref_usd > 0)
		printf(" (%.1f%%)", 100 * (save < 0 ? -save : save) /
					    t->cost_ref_usd);
	puts(" against each route's most expensive candidate");
}

/* print_lanes: the requests each lane carried, and what the batch lane
 * saved against the same tokens at the sync price. */
static void print_lanes(const struct report *r)
{
	const struct report_lane *b = &r->lanes[1];

	printf("\n%-20s %9s %12s %14s %12s\n", "lane", "requests",
	       "cost (USD)", "at sync (USD)", "saved (USD)");
	for (int i = 0; i < 2; i++) {
		const struct report_lane *ln = &r->lanes[i];

		printf("%-20s %9lld %12.6f %14.6f %12.6f\n",
		       i ? "batch" : "sync", (long long)ln->requests,
		       ln->cost_usd, ln->cost_sync_usd,
		       ln->cost_sync_usd - ln->cost_usd);
	}
	if (b->requests && b->cost_sync_usd > 0)
		printf("batch lanes saved $%.6f (%.1f%%) against sync prices\n",
		       b->cost_sync_usd - b->cost_usd,
		       100 * (b->cost_sync_usd - b->cost_usd) /
			       b->cost_sync_usd);
}

static void print_text(const struct report *r)
{
	if (r->totals.requests == 0) {
		puts("no requests yet");
		return;
	}
	printf("%-20s %9s %9s %8s %8s %11s %11s %12s %7s %7s %7s\n",
	       "provider / model", "requests", "ok", "failed", "retries",
	       "tokens in", "tokens out", "cost (USD)", "p50 ms", "p95 ms",
	       "p99 ms");
	for (size_t i = 0; i < r->nproviders; i++) {
		const struct report_row *p = &r->providers[i];

		text_row("", p->provider, p);
		for (size_t j = 0; j < r->nmodels; j++)
			if (strcmp(r->models[j].provider, p->provider) == 0)
				text_row("  ", r->models[j].model,
					 &r->models[j]);
		text_classes("  ", p);
		text_basis("  ", p);
	}
	text_row("", "TOTAL", &r->totals);
	text_classes("  ", &r->totals);
	text_basis("  ", &r->totals);
	print_routing(r);
	print_lanes(r);
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPT_DB,
		{"json", no_argument, NULL, 'j'},
		{"csv", no_argument, NULL, 'c'},
		CLI_OPT_END};
	struct cli_args a = {"report", argc, argv, opts, NULL, USAGE, 0};
	const char *db = NULL;
	struct queue *q = NULL;
	struct report *r = NULL;
	int c, json = 0, csv = 0, rc;

	while ((c = cli_opt(&a)) > 0) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'c':
			csv = 1;
			break;
		}
	}
	if (c != CLI_END)
		return cli_exit(c);
	if ((rc = cli_no_operands(&a)))
		return rc;
	if (json && csv)
		return cli_usage_error("report", "choose --json or --csv");
	db = cli_db_path(db);
	if ((rc = cli_open_queue("report", db, QUEUE_OPEN_READ, &q)))
		return rc;
	if (report_load(q, &r)) {
		fprintf(stderr, "nightshift report: %s\n", queue_errmsg(q));
		queue_close(&q);
		return EXIT_RUNTIME;
	}
	queue_close(&q);
	if (json) {
		rc = print_json(r);
	} else {
		if (csv)
			print_csv(r);
		else
			print_text(r);
		rc = EXIT_OK;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "nightshift report: cannot write the report\n");
		rc = EXIT_RUNTIME;
	}
	report_free(&r);
	return rc;
}
