/* cmd_ingest.c — `nightshift ingest`: stream a JSONL file into the queue.
 *
 * Lines are read, validated and inserted one at a time, so memory is the
 * same for ten lines or ten million; the queue batches them into large
 * transactions. A bad line is reported where it is and the rest still go
 * in, unless --strict, where the whole file is one transaction that any
 * bad line rolls back. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/ingest.h"
#include "queue/queue.h"
#include "runner/cli.h"
#include "runner/cmd.h"
#include "runner/ingest_file.h"
#include "runner/ingest/jobline.h"

static const char USAGE[] =
	"usage: nightshift ingest [--db FILE] [--strict] [--max-line-bytes N]\n"
	"                         [--max-errors N] FILE.jsonl|-\n"
	"\n"
	"Queue the jobs of a JSONL file (OpenAI Batch API lines; '-' reads\n"
	"standard input). Idempotent: jobs already queued with the same\n"
	"content are skipped; the same custom_id with a different body is\n"
	"reported and the queued job kept.\n"
	"\n"
	"  --db FILE            queue database (default $NIGHTSHIFT_DB, else\n"
	"                       ./nightshift.db); created 0600 if missing\n"
	"  --strict             queue nothing if any line is bad\n"
	"  --max-line-bytes N   longest accepted line (default 4MiB; k/M/G)\n"
	"  --max-errors N       report at most N bad lines in full (default\n"
	"                       100, 0 = all); the count is always exact\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit: 0 all lines queued or already queued, 3 some lines rejected,\n"
	"2 usage error, 1 I/O or database error.\n";

int cmd_ingest(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPT_DB,
		{"strict", no_argument, NULL, 's'},
		{"max-line-bytes", required_argument, NULL, 'm'},
		{"max-errors", required_argument, NULL, 'e'},
		CLI_OPT_END};
	struct cli_args a = {"ingest", argc, argv, opts, NULL, USAGE, 0};
	struct ingest_opts io = {.max_line = 4u << 20, .max_errors = 100};
	struct ingest_counts counts;
	const char *db = NULL;
	struct queue *q = NULL;
	long long v;
	int c, rc;

	while ((c = cli_opt(&a)) > 0) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 's':
			io.strict = 1;
			break;
		case 'm':
			v = cli_parse_size(optarg);
			if (v < 16)
				return cli_bad_value(
					"ingest", "--max-line-bytes", optarg,
					"a size of at least 16 bytes (e.g. "
					"4MiB)");
			io.max_line = (size_t)v;
			break;
		case 'e':
			v = cli_parse_size(optarg);
			if (v < 0)
				return cli_bad_value("ingest", "--max-errors",
						     optarg, "a count");
			io.max_errors = v;
			break;
		}
	}
	if (c != CLI_END)
		return cli_exit(c);
	if (optind != argc - 1)
		return cli_usage_error(
			"ingest", optind == argc ? "which file? (give FILE.jsonl "
						   "or - for standard input)"
						 : "one file at a time");
	if ((rc = cli_input_check("ingest", argv[optind])))
		return rc;
	db = cli_db_path(db);
	if ((rc = cli_open_queue("ingest", db, QUEUE_OPEN_CREATE, &q)))
		return rc;
	rc = ingest_path(q, argv[optind], &io, &counts);
	queue_close(&q);
	return rc;
}
