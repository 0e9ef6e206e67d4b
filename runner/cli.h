/* cli.h — what every command shares: exit codes, the database path, and
 * one way to report usage errors. Not thread-safe (commands run on the
 * main thread before any worker starts). */
#ifndef NIGHTSHIFT_CLI_H
#define NIGHTSHIFT_CLI_H

/* Exit codes (DESIGN.md "Command line"). */
enum {
	EXIT_OK = 0,      /* all jobs succeeded / command did what it said */
	EXIT_RUNTIME = 1, /* I/O or database error */
	EXIT_USAGE = 2,   /* usage or config error */
	EXIT_PARTIAL = 3, /* some jobs dead, or some lines rejected */
	EXIT_STOPPED = 4, /* stopped with work left: run again to resume */
};

#define NIGHTSHIFT_VERSION "0.1.0"

/* cli_db_path: --db if given, else $NIGHTSHIFT_DB, else ./nightshift.db
 * (borrowed: opt or the environment's string or a literal). */
const char *cli_db_path(const char *opt);
/* cli_usage_error: print "nightshift CMD: MSG" and a hint to stderr;
 * returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* cli_input_check: the job file (or "-") can be read, checked before the
 * database is opened, so that a mistyped name creates no empty queue.
 * Prints "nightshift CMD: FILE: why" and returns EXIT_USAGE, or 0. */
int cli_input_check(const char *cmd, const char *path);
/* cli_bad_option: the usage error for what getopt_long (optstring
 * starting with ':') returned: c == ':' a missing value, anything else an
 * unknown option. Returns EXIT_USAGE. */
int cli_bad_option(const char *cmd, int c, char **argv);
/* cli_parse_size: "4MiB", "512k", "1000000" -> bytes; -1 if malformed. */
long long cli_parse_size(const char *s);

#endif
