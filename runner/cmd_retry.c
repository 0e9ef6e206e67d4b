/* cmd_retry.c — `nightshift retry`: put dead jobs back in the queue, so
 * the next `nightshift run` tries them again from scratch. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue.h"
#include "queue/retry.h"
#include "util/xalloc.h"
#include "runner/cli.h"
#include "runner/cmd.h"

static const char USAGE[] =
	"usage: nightshift retry [--db FILE] [--failed] [--id CUSTOM_ID]...\n"
	"\n"
	"Requeue dead jobs: each goes back to queued with its attempt count,\n"
	"backoff and error cleared and its result removed, in one\n"
	"transaction. The ledger keeps the requests already sent, so report\n"
	"still counts their cost. Run `nightshift run` afterwards.\n"
	"\n"
	"  --db FILE        queue database (default $NIGHTSHIFT_DB, else\n"
	"                   ./nightshift.db)\n"
	"  --failed         requeue dead jobs (the default, said explicitly)\n"
	"  --id CUSTOM_ID   only this job (repeatable); jobs that are not\n"
	"                   dead are left as they are. An unknown id\n"
	"                   changes nothing and exits 2\n"
	"  -h, --help       this help\n"
	"\n"
	"Exit: 0 done (also when nothing was dead), 1 I/O or database error,\n"
	"2 usage error or unknown id.\n";

int cmd_retry(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPT_DB,
		{"failed", no_argument, NULL, 'f'},
		{"id", required_argument, NULL, 'i'},
		CLI_OPT_END};
	struct cli_args a = {"retry", argc, argv, opts, NULL, USAGE, 0};
	const char *db = NULL;
	const char **ids = NULL;
	size_t nids = 0;
	int *prev = NULL;
	struct queue *q = NULL;
	int64_t requeued = 0;
	int c, rc;

	/* Room for every --id without a second pass over argv. */
	ids = xcalloc((size_t)argc + 1, sizeof(*ids));
	while ((c = cli_opt(&a)) > 0) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'f':
			break;
		case 'i':
			/* "--id --db x": an option where the id should be */
			if (strncmp(optarg, "--", 2) == 0) {
				rc = cli_usage_error("retry",
						     "--id needs a custom_id, "
						     "not the option '%s'",
						     optarg);
				goto out;
			}
			ids[nids++] = optarg;
			break;
		}
	}
	if (c != CLI_END) {
		rc = cli_exit(c);
		goto out;
	}
	if ((rc = cli_no_operands(&a)))
		goto out;
	db = cli_db_path(db);
	if ((rc = cli_open_queue("retry", db, 0, &q)))
		goto out;
	prev = xcalloc(nids ? nids : 1, sizeof(*prev));
	rc = retry_dead(q, ids, nids, prev, &requeued);
	if (rc) {
		fprintf(stderr, "nightshift retry: %s%s\n", queue_errmsg(q),
			rc == QUEUE_ENOENT ? "; nothing requeued" : "");
		rc = rc == QUEUE_ENOENT ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}
	for (size_t i = 0; i < nids; i++)
		if (prev[i] != JOB_DEAD)
			fprintf(stderr,
				"nightshift retry: job \"%s\" is %s, not "
				"dead; left as it is\n",
				ids[i], job_state_name(prev[i]));
	printf("requeued %lld jobs\n", (long long)requeued);
	rc = EXIT_OK;
out:
	queue_close(&q);
	free(prev);
	free(ids);
	return rc;
}
