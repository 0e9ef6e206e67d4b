/* cli.h — what every command shares: exit codes, the database path, and
 * one way to report usage errors. Not thread-safe (commands run on the
 * main thread before any worker starts). */
#ifndef NIGHTSHIFT_CLI_H
#define NIGHTSHIFT_CLI_H

#include <getopt.h>
#include <stdint.h>

/* Exit codes (DESIGN.md "Command line"). */
enum {
	EXIT_OK = 0,      /* all jobs succeeded / command did what it said */
	EXIT_RUNTIME = 1, /* I/O or database error */
	EXIT_USAGE = 2,   /* usage or config error */
	EXIT_PARTIAL = 3, /* some jobs dead, or some lines rejected */
	EXIT_STOPPED = 4, /* stopped with work left: run again to resume */
};

#define NIGHTSHIFT_VERSION "0.1.0"

/* Options every command has: --db FILE, and --help (with the table's
 * end). */
#define CLI_OPT_DB {"db", required_argument, NULL, 'd'}
#define CLI_OPT_END {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}

/* A command's arguments, read option by option with cli_opt. */
struct cli_args {
	const char *cmd;	   /* "run", for messages */
	int argc;
	char **argv;
	const struct option *opts; /* getopt_long's, ending with zeros */
	const char *shorts;	   /* short options beside -h ("o:"), or
				      NULL */
	const char *usage;	   /* --help's text */
	int started;		   /* (cli_opt's own) */
};

/* What cli_opt returns besides an option's val. */
#define CLI_END 0     /* no option left: operands start at optind */
#define CLI_HELP (-2) /* --help printed the usage: exit 0 */
#define CLI_BAD (-3)  /* a usage error was printed: exit 2 */

/* cli_opt: the next option of a's argv, as getopt_long gives it (optarg
 * set), with -h/--help and errors taken care of: CLI_HELP after printing
 * the usage to stdout, CLI_BAD after printing what is wrong (unknown
 * option, missing or unwanted value), CLI_END when the options end. */
int cli_opt(struct cli_args *a);
/* cli_exit: the exit code for what cli_opt returned at its end: EXIT_OK
 * for CLI_HELP, EXIT_USAGE for CLI_BAD; 0 for CLI_END (go on). */
int cli_exit(int c);
/* cli_no_operands: 0 when no operand follows the options, else the usage
 * error for the first one (EXIT_USAGE). */
int cli_no_operands(const struct cli_args *a);

/* cli_open_queue: open the queue at db (cli_db_path's answer) for cmd
 * with queue_open's flags. 0 and *q, or the exit code after printing
 * "nightshift CMD: why": EXIT_USAGE when there is no database there, it
 * is not nightshift's, or a newer nightshift wrote it; EXIT_RUNTIME
 * otherwise. */
struct queue;
int cli_open_queue(const char *cmd, const char *db, unsigned flags,
		   struct queue **q);

/* cli_db_error: print "nightshift CMD: MSG" for a failure code on the
 * database db; a damaged file (QUEUE_ECORRUPT) is named as such, with how
 * to save what can still be read (sqlite3 DB ".recover"). Returns
 * EXIT_RUNTIME. */
int cli_db_error(const char *cmd, const char *db, int code, const char *msg);

/* cli_db_path: --db if given, else $NIGHTSHIFT_DB, else ./nightshift.db
 * (borrowed: opt or the environment's string or a literal). */
const char *cli_db_path(const char *opt);
/* cli_usage_error: print "nightshift CMD: MSG" and a hint to stderr;
 * returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* cli_bad_value: the usage error for a value option opt does not take:
 * "nightshift CMD: OPT: VALUE is not WHAT", the value quoted as a JSON
 * string and cut (util/quote.h: one that looks like a key is not shown).
 * Returns EXIT_USAGE. */
int cli_bad_value(const char *cmd, const char *opt, const char *value,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* cli_input_check: the job file (or "-") can be read, checked before the
 * database is opened, so that a mistyped name creates no empty queue.
 * Prints "nightshift CMD: FILE: why" and returns EXIT_USAGE, or 0. */
int cli_input_check(const char *cmd, const char *path);
/* cli_lane: --lane's value: "auto" 0, "sync" 1, "batch" 2 into *lane,
 * and 0; else the usage error for cmd (said), EXIT_USAGE. */
int cli_lane(const char *cmd, const char *arg, int *lane);
/* cli_bad_option: the usage error for what getopt_long (optstring
 * starting with ':') returned: c == ':' a missing value, anything else an
 * unknown option. Returns EXIT_USAGE. */
int cli_bad_option(const char *cmd, int c, char **argv);
/* cli_time_limit: read the value of --deadline HH:MM (opt 'D', into
 * *deadline_min) or --max-runtime DUR (opt 'R', into *runtime_ms) for
 * cmd. 0, or the usage error's exit code. cli_time_limits_ok: 0 when not
 * both are given, else the usage error's exit code. */
int cli_time_limit(const char *cmd, int opt, const char *arg,
		   int *deadline_min, int64_t *runtime_ms);
int cli_time_limits_ok(const char *cmd, int deadline_min,
		       int64_t runtime_ms);
/* cli_print_json: print root (taken, deleted here) as one line on
 * stdout; EXIT_OK, or EXIT_RUNTIME when it cannot be printed. */
struct cJSON;
int cli_print_json(struct cJSON *root);
/* cli_next_hhmm_ms: epoch ms of the next local time minutes after
 * midnight (--deadline HH:MM): today's, or tomorrow's once it has passed. */
int64_t cli_next_hhmm_ms(int minutes);
/* cli_parse_size: "4MiB", "512k", "1000000" -> bytes; -1 if malformed. */
long long cli_parse_size(const char *s);

#endif
