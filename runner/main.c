/* main.c — nightshift's entry point: dispatch to a subcommand.
 *
 * Files nightshift creates (the database, exports) hold job contents and
 * spend: umask 077 makes them 0600 even where a library creates them. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "runner/cli.h"
#include "runner/cmd.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} CMDS[] = {
	{"ingest", cmd_ingest, "queue the jobs of a JSONL file"},
	{"status", cmd_status, "jobs by state and spend so far"},
	{"run", cmd_run, "send queued jobs to providers, resumably"},
	{"plan", cmd_plan, "a dry run: where jobs would go, cost, time"},
	{"providers", cmd_providers, "the provider catalogue, prices, keys set"},
	{"report", cmd_report, "requests, failures, tokens, cost per provider"},
	{"export", cmd_export, "finished jobs as OpenAI Batch API output lines"},
	{"retry", cmd_retry, "requeue dead jobs"},
};
#define NCMDS (sizeof(CMDS) / sizeof(CMDS[0]))

static void usage(FILE *f)
{
	fputs("usage: nightshift COMMAND [OPTIONS] [ARGS]\n"
	      "\n"
	      "Run large batches of LLM jobs on the cheapest provider that can\n"
	      "serve them, resumably, with a ledger of every cent.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(f, "  %-10s %s\n", CMDS[i].name, CMDS[i].summary);
	fputs("\n'nightshift COMMAND --help' describes a command.\n"
	      "Exit codes: 0 ok, 1 runtime error, 2 usage or config error,\n"
	      "3 some jobs dead or lines rejected, 4 stopped with work left.\n",
	      f);
}

int main(int argc, char **argv)
{
	umask(077);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("nightshift %s\n", NIGHTSHIFT_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < NCMDS; i++)
		if (strcmp(argv[1], CMDS[i].name) == 0)
			return CMDS[i].fn(argc - 1, argv + 1);
	fprintf(stderr,
		"nightshift: unknown command '%s'\n"
		"Try 'nightshift --help'.\n",
		argv[1]);
	return EXIT_USAGE;
}
