/* cmd_status.c — `nightshift status`: jobs by state and spend so far. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "queue/queue.h"
#include "queue/stats.h"
#include "runner/cli.h"
#include "runner/cmd.h"

static const char USAGE[] =
	"usage: nightshift status [--db FILE] [--json]\n"
	"\n"
	"Show the queue: jobs by state (queued, running, done, dead), how many\n"
	"queued jobs wait for a backoff, requests sent and money spent.\n"
	"\n"
	"  --db FILE   queue database (default $NIGHTSHIFT_DB, else "
	"./nightshift.db)\n"
	"  --json      one JSON object, for scripts\n"
	"  -h, --help  this help\n";

static int print_json(const char *db, const struct stats *s)
{
	cJSON *root = cJSON_CreateObject(), *jobs;
	char *text;

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
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		return EXIT_RUNTIME;
	puts(text);
	cJSON_free(text);
	return EXIT_OK;
}

static void print_text(const char *db, const struct stats *s)
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
	if ((rc = cli_open_queue("status", db, 0, &q)))
		return rc;
	rc = stats_read(q, &s);
	if (rc) {
		fprintf(stderr, "nightshift status: %s\n", queue_errmsg(q));
		queue_close(&q);
		return EXIT_RUNTIME;
	}
	queue_close(&q);
	if (json)
		return print_json(db, &s);
	print_text(db, &s);
	return EXIT_OK;
}
