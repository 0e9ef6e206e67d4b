/* cmd_status.c — `nightshift status`: jobs by state, spend so far, and
 * what runs learned about each provider. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "queue/batch.h"
#include "queue/learned.h"
#include "queue/queue.h"
#include "queue/stats.h"
#include "runner/cli.h"
#include "runner/cmd.h"
#include "util/timeparse.h"
#include "util/xalloc.h"

static const char USAGE[] =
	"usage: nightshift status [--db FILE] [--json]\n"
	"\n"
	"Show the queue: jobs by state (queued, running, done, dead), how many\n"
	"queued jobs wait for a backoff, requests sent and money spent, and\n"
	"what runs learned about each provider (its concurrency window, its\n"
	"share of 429s, round trip and rate; the next run starts from it).\n"
	"\n"
	"  --db FILE   queue database (default $NIGHTSHIFT_DB, else "
	"./nightshift.db)\n"
	"  --json      one JSON object, for scripts\n"
	"  -h, --help  this help\n";

/* What one run's end left of each provider and model. */
struct learned {
	struct learned_prov *p;
	size_t np;
	struct learned_calib *c;
	size_t nc;
};

static void utc(int64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void learned_json(cJSON *root, const struct learned *l)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "learned");
	char when[32];

	for (size_t i = 0; i < l->np; i++) {
		const struct learned_prov *p = &l->p[i];
		cJSON *o = cJSON_CreateObject();

		utc(p->updated_at, when, sizeof(when));
		cJSON_AddStringToObject(o, "provider", p->provider);
		cJSON_AddStringToObject(o, "updated_at", when);
		cJSON_AddNumberToObject(o, "window", p->cwnd);
		cJSON_AddNumberToObject(o, "share_429", p->p429);
		cJSON_AddNumberToObject(o, "random_429", p->floor429);
		cJSON_AddNumberToObject(o, "rtt_ms", p->srtt_ms);
		cJSON_AddNumberToObject(o, "ok_per_min", p->ok_per_min);
		cJSON_AddNumberToObject(o, "limit_pauses", (double)p->shared);
		cJSON_AddNumberToObject(o, "ok", (double)p->ok);
		cJSON_AddItemToArray(arr, o);
	}
	arr = cJSON_AddArrayToObject(root, "calibration");
	for (size_t i = 0; i < l->nc; i++) {
		const struct learned_calib *c = &l->c[i];
		cJSON *o = cJSON_CreateObject();

		utc(c->updated_at, when, sizeof(when));
		cJSON_AddStringToObject(o, "provider", c->provider);
		cJSON_AddStringToObject(o, "model", c->model);
		cJSON_AddStringToObject(o, "updated_at", when);
		cJSON_AddNumberToObject(o, "input_factor",
					c->est_in ? (double)c->rep_in /
							(double)c->est_in
						  : 1.0);
		cJSON_AddNumberToObject(o, "mean_output",
					c->replies ? (double)c->out_tokens /
							 (double)c->replies
						   : 0.0);
		cJSON_AddNumberToObject(o, "replies", (double)c->replies);
		cJSON_AddItemToArray(arr, o);
	}
}

static void learned_text(const struct learned *l)
{
	char when[32];

	if (l->np || l->nc)
		printf("learned   (what runs learned; the next run starts "
		       "from it)\n");
	for (size_t i = 0; i < l->np; i++) {
		const struct learned_prov *p = &l->p[i];

		utc(p->updated_at, when, sizeof(when));
		printf("  %s: window %.1f, 429s %.0f%% (random %.0f%%), round "
		       "trip %.0f ms, %.0f ok/min, %lld limit pauses; %s\n",
		       p->provider, p->cwnd, 100 * p->p429, 100 * p->floor429,
		       p->srtt_ms, p->ok_per_min, p->shared, when);
	}
	for (size_t i = 0; i < l->nc; i++) {
		const struct learned_calib *c = &l->c[i];

		utc(c->updated_at, when, sizeof(when));
		printf("  %s:%s: input tokens x%.2f of the estimate, %.0f "
		       "output tokens a reply (%lld replies); %s\n",
		       c->provider, c->model,
		       c->est_in ? (double)c->rep_in / (double)c->est_in : 1.0,
		       c->replies ? (double)c->out_tokens / (double)c->replies
				  : 0.0,
		       c->replies, when);
	}
}

/* The batches not yet collected: what the provider last said. */
struct open_batches {
	struct qbatch *b;
	size_t n;
	/* per provider with ended batches: the turnaround learned */
	char **prov;
	int64_t *turn_ms;
	int *turn_n;
	size_t nprov;
};

/* turnarounds: what each provider's batch lane took, as runs decide by. */
static int turnarounds(struct queue *q, struct open_batches *ob)
{
	int rc = qbatch_providers(q, &ob->prov, &ob->nprov);

	ob->turn_ms = xcalloc(ob->nprov + 1, sizeof(*ob->turn_ms));
	ob->turn_n = xcalloc(ob->nprov + 1, sizeof(*ob->turn_n));
	for (size_t i = 0; i < ob->nprov && !rc; i++)
		rc = qbatch_turnaround(q, ob->prov[i], &ob->turn_ms[i],
				       &ob->turn_n[i]);
	return rc;
}

static const char *const BATCH_STATE[] = {"intent", "uploaded", "live",
					  "collected", "dropped"};

static const char *batch_state(const struct qbatch *b)
{
	return b->state >= 0 && b->state <= 4 ? BATCH_STATE[b->state] : "?";
}

static void batches_text(const struct open_batches *ob)
{
	int64_t now = (int64_t)time(NULL) * 1000;

	for (size_t i = 0; i < ob->nprov; i++) {
		char t[32];

		tp_hms(t, sizeof(t), (long long)((ob->turn_ms[i] + 500) / 1000));
		printf("batch lane %s: usually %s (median of its last %d "
		       "batches, created to ended)\n",
		       ob->prov[i], t, ob->turn_n[i]);
	}
	if (!ob->n)
		return;
	printf("provider batches (jobs waiting on them are running)\n");
	for (size_t i = 0; i < ob->n; i++) {
		const struct qbatch *b = &ob->b[i];
		int64_t age = (now - b->created_at) / 1000;

		printf("  %s:%s %s %s, %s: %lld requests, %lld done, %lld "
		       "failed, %lldh%02lldm old%s\n",
		       b->provider, b->model,
		       b->remote_id ? b->remote_id : b->tag, batch_state(b),
		       b->status ? b->status : "not created yet",
		       (long long)b->requests, (long long)b->done,
		       (long long)b->failed, (long long)(age / 3600),
		       (long long)(age / 60 % 60),
		       b->cancel_at ? " (cancel asked)" : "");
	}
}

static void batches_json(cJSON *root, const struct open_batches *ob)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "batch_turnaround");

	for (size_t i = 0; arr && i < ob->nprov; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o)
			return;
		cJSON_AddStringToObject(o, "provider", ob->prov[i]);
		cJSON_AddNumberToObject(o, "median_ms",
					(double)ob->turn_ms[i]);
		cJSON_AddNumberToObject(o, "batches", ob->turn_n[i]);
		cJSON_AddItemToArray(arr, o);
	}
	arr = cJSON_AddArrayToObject(root, "batches");

	for (size_t i = 0; arr && i < ob->n; i++) {
		const struct qbatch *b = &ob->b[i];
		cJSON *o = cJSON_CreateObject();

		if (!o)
			return;
		cJSON_AddStringToObject(o, "provider", b->provider);
		cJSON_AddStringToObject(o, "model", b->model);
		cJSON_AddStringToObject(o, "tag", b->tag);
		if (b->remote_id)
			cJSON_AddStringToObject(o, "id", b->remote_id);
		else
			cJSON_AddNullToObject(o, "id");
		cJSON_AddStringToObject(o, "state", batch_state(b));
		if (b->status)
			cJSON_AddStringToObject(o, "status", b->status);
		else
			cJSON_AddNullToObject(o, "status");
		cJSON_AddNumberToObject(o, "requests", (double)b->requests);
		cJSON_AddNumberToObject(o, "done", (double)b->done);
		cJSON_AddNumberToObject(o, "failed", (double)b->failed);
		cJSON_AddNumberToObject(o, "created_at_ms",
					(double)b->created_at);
		cJSON_AddBoolToObject(o, "cancel_asked", b->cancel_at != 0);
		cJSON_AddItemToArray(arr, o);
	}
}

static int print_json(const char *db, const struct stats *s,
		      const struct learned *l, const struct open_batches *ob)
{
	cJSON *root = cJSON_CreateObject(), *jobs;

	if (!root)
		return EXIT_RUNTIME;
	cJSON_AddStringToObject(root, "db", db);
	jobs = cJSON_AddObjectToObject(root, "jobs");
	cJSON_AddNumberToObject(jobs, "total", (double)s->total);
	for (int i = 0; i < JOB_NSTATES; i++)
		cJSON_AddNumberToObject(jobs, job_state_name(i),
					(double)s->by_state[i]);
	cJSON_AddNumberToObject(jobs, "waiting", (double)s->waiting);
	cJSON_AddNumberToObject(jobs, "parked", (double)s->parked);
	cJSON_AddNumberToObject(root, "requests", (double)s->requests);
	cJSON_AddNumberToObject(root, "spend_usd", s->spend_usd);
	cJSON_AddNumberToObject(root, "tokens_in", (double)s->tokens_in);
	cJSON_AddNumberToObject(root, "tokens_out", (double)s->tokens_out);
	learned_json(root, l);
	batches_json(root, ob);
	return cli_print_json(root);
}

static void print_text(const char *db, const struct stats *s,
		       const struct learned *l, const struct open_batches *ob)
{
	printf("queue     %s\n", db);
	printf("jobs      %lld\n", (long long)s->total);
	printf("  queued  %lld", (long long)s->by_state[JOB_QUEUED]);
	if (s->waiting)
		printf(" (%lld waiting for a retry time)",
		       (long long)s->waiting);
	if (s->parked)
		printf(" (%lld parked: no usable provider; they run when a "
		       "key is set or at the next run)",
		       (long long)s->parked);
	printf("\n  running %lld\n", (long long)s->by_state[JOB_RUNNING]);
	printf("  done    %lld\n", (long long)s->by_state[JOB_DONE]);
	printf("  dead    %lld\n", (long long)s->by_state[JOB_DEAD]);
	printf("requests  %lld\n", (long long)s->requests);
	printf("tokens    %lld in, %lld out\n", (long long)s->tokens_in,
	       (long long)s->tokens_out);
	printf("spend     $%.6f\n", s->spend_usd);
	batches_text(ob);
	learned_text(l);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPT_DB,
		{"json", no_argument, NULL, 'j'},
		CLI_OPT_END};
	struct cli_args a = {"status", argc, argv, opts, NULL, USAGE, 0};
	const char *db = NULL;
	struct queue *q = NULL;
	struct stats s;
	struct learned l = {0};
	struct open_batches ob = {0};
	int c, json = 0, rc;

	while ((c = cli_opt(&a)) > 0) {
		if (c == 'd')
			db = optarg;
		else if (c == 'j')
			json = 1;
	}
	if (c != CLI_END)
		return cli_exit(c);
	if ((rc = cli_no_operands(&a)))
		return rc;
	db = cli_db_path(db);
	if ((rc = cli_open_queue("status", db, QUEUE_OPEN_READ, &q)))
		return rc;
	rc = stats_read(q, &s);
	if (!rc)
		rc = learned_load(q, &l.p, &l.np, &l.c, &l.nc);
	if (!rc)
		rc = qbatch_open_list(q, &ob.b, &ob.n);
	if (!rc)
		rc = turnarounds(q, &ob);
	if (rc) {
		fprintf(stderr, "nightshift status: %s\n", queue_errmsg(q));
		queue_close(&q);
		return EXIT_RUNTIME;
	}
	queue_close(&q);
	if (json) {
		rc = print_json(db, &s, &l, &ob);
	} else {
		print_text(db, &s, &l, &ob);
		rc = EXIT_OK;
	}
	learned_free(l.p, l.np, l.c, l.nc);
	for (size_t i = 0; i < ob.n; i++)
		qbatch_clear(&ob.b[i]);
	free(ob.b);
	for (size_t i = 0; i < ob.nprov; i++)
		free(ob.prov[i]);
	free(ob.prov);
	free(ob.turn_ms);
	free(ob.turn_n);
	return rc;
}
