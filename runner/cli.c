/* cli.c — helpers shared by the commands. */
#include "runner/cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "queue/queue.h"
#include "util/quote.h"
#include "util/timeparse.h"

const char *cli_db_path(const char *opt)
{
	const char *env = getenv("NIGHTSHIFT_DB");

	if (opt && *opt)
		return opt;
	if (env && *env)
		return env;
	return "nightshift.db";
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nightshift %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'nightshift %s --help'.\n", cmd);
	return EXIT_USAGE;
}

int cli_bad_value(const char *cmd, const char *opt, const char *value,
		  const char *fmt, ...)
{
	char what[256], q[QUOTE_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return cli_usage_error(cmd, "%s: %s is not %s", opt,
			       quote_str(q, sizeof(q), value, strlen(value)),
			       what);
}

int cli_input_check(const char *cmd, const char *path)
{
	struct stat sb;
	int fd;

	if (strcmp(path, "-") == 0)
		return 0;
	if (stat(path, &sb) != 0 || (fd = open(path, O_RDONLY)) < 0) {
		fprintf(stderr, "nightshift %s: %s: %s\n", cmd, path,
			strerror(errno));
		return EXIT_USAGE;
	}
	close(fd);
	if (S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "nightshift %s: %s: is a directory, not a JSONL "
				"file\n",
			cmd, path);
		return EXIT_USAGE;
	}
	return 0;
}

int cli_bad_option(const char *cmd, int c, char **argv)
{
	if (c == ':')
		return cli_usage_error(cmd, "%s needs a value", argv[optind - 1]);
	/* A short option inside a cluster (-xq) leaves optind on the
	 * cluster's word, not past it: name the letter getopt saw. An
	 * unknown long option sets optopt to 0. */
	if (optopt > 0) {
		/* "--json=1": a long option given a value it does not take
		 * also ends here, with optopt its letter; the word is the
		 * one getopt just stepped past. */
		const char *w = optind > 0 ? argv[optind - 1] : "";
		const char *eq = strchr(w, '=');

		if (strncmp(w, "--", 2) == 0 && eq && w[2] == optopt)
			return cli_usage_error(cmd,
					       "option '%.*s' takes no value",
					       (int)(eq - w), w);
		return cli_usage_error(cmd, "unknown option '-%c'", optopt);
	}
	return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

long long cli_parse_size(const char *s)
{
	static const struct {
		const char *suffix;
		long long mult;
	} units[] = {{"", 1},
		     {"b", 1},
		     {"k", 1024},
		     {"kb", 1024},
		     {"kib", 1024},
		     {"m", 1024 * 1024},
		     {"mb", 1024 * 1024},
		     {"mib", 1024 * 1024},
		     {"g", 1024LL * 1024 * 1024},
		     {"gb", 1024LL * 1024 * 1024},
		     {"gib", 1024LL * 1024 * 1024}};
	char *end;
	long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	v = strtoll(s, &end, 10);
	if (v < 0 || v > (1LL << 40))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(end, units[i].suffix) == 0)
			return v * units[i].mult;
	return -1;
}

int cli_opt(struct cli_args *a)
{
	char shorts[32];
	int c;

	if (!a->started) {
		optind = 1;
		opterr = 0; /* cli_bad_option says it, naming the command */
		a->started = 1;
	}
	snprintf(shorts, sizeof(shorts), ":h%s", a->shorts ? a->shorts : "");
	c = getopt_long(a->argc, a->argv, shorts, a->opts, NULL);
	if (c == -1)
		return CLI_END;
	if (c == 'h') {
		fputs(a->usage, stdout);
		return CLI_HELP;
	}
	if (c == '?' || c == ':') {
		cli_bad_option(a->cmd, c, a->argv);
		return CLI_BAD;
	}
	return c;
}

int cli_exit(int c)
{
	return c == CLI_HELP ? EXIT_OK : c == CLI_BAD ? EXIT_USAGE : 0;
}

int cli_no_operands(const struct cli_args *a)
{
	if (optind == a->argc)
		return 0;
	return cli_usage_error(a->cmd, "unexpected argument '%s'",
			       a->argv[optind]);
}

/* sh_word: s as one shell word (single-quoted unless plainly safe) into
 * buf[0..n), cut to fit; returns buf. */
static const char *sh_word(char *buf, size_t n, const char *s)
{
	size_t w = 0;

	if (s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			"0123456789._/+,:@%=-")] == '\0') {
		snprintf(buf, n, "%s", s);
		return buf;
	}
	buf[w++] = '\'';
	for (; *s && w + 6 < n; s++) {
		if (*s == '\'') {
			memcpy(buf + w, "'\\''", 4);
			w += 4;
		} else {
			buf[w++] = *s;
		}
	}
	buf[w++] = '\'';
	buf[w] = '\0';
	return buf;
}

int cli_db_error(const char *cmd, const char *db, int code, const char *msg)
{
	char word[1200];

	if (code != QUEUE_ECORRUPT) {
		fprintf(stderr, "nightshift %s: %s\n", cmd, msg);
		return EXIT_RUNTIME;
	}
	/* Issue 17: a damaged file was reported as an empty error "and the
	 * database is intact". Running again cannot help; sqlite3 can save
	 * the readable rows into a new file. */
	fprintf(stderr,
		"nightshift %s: the database %s is corrupt (%s). Running "
		"again will not repair it; save what can still be read into "
		"a new file with: sqlite3 %s \".recover\" | sqlite3 "
		"recovered.db, then use --db recovered.db\n",
		cmd, db, msg, sh_word(word, sizeof(word), db));
	return EXIT_RUNTIME;
}

int cli_open_queue(const char *cmd, const char *db, unsigned flags,
		   struct queue **q)
{
	char err[600];
	int code = queue_open(db, flags, q, err, sizeof(err));

	if (code == 0)
		return 0;
	if (code == QUEUE_ECORRUPT)
		return cli_db_error(cmd, db, code, err);
	fprintf(stderr, "nightshift %s: %s\n", cmd, err);
	return code == QUEUE_ENOENT || code == QUEUE_ENOTDB ||
			       code == QUEUE_EVERSION
		       ? EXIT_USAGE
		       : EXIT_RUNTIME;
}

int64_t cli_next_hhmm_ms(int minutes)
{
	time_t now = time(NULL), t;
	struct tm tm;

	localtime_r(&now, &tm);
	tm.tm_hour = minutes / 60;
	tm.tm_min = minutes % 60;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t <= now) {
		tm.tm_mday++;
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	return (int64_t)t * 1000;
}

int cli_time_limit(const char *cmd, int opt, const char *arg,
		   int *deadline_min, int64_t *runtime_ms)
{
	if (opt == 'D') {
		if (tp_hhmm(arg, 0, deadline_min) != 0)
			return cli_bad_value(cmd, "--deadline", arg, "HH:MM");
		return 0;
	}
	if (tp_duration(arg, strlen(arg), TP_UNITS | TP_SECS, runtime_ms) !=
		    0 ||
	    *runtime_ms <= 0)
		return cli_bad_value(cmd, "--max-runtime", arg,
				     "a duration (e.g. 90m, 2h)");
	return 0;
}

int cli_time_limits_ok(const char *cmd, int deadline_min, int64_t runtime_ms)
{
	if (deadline_min >= 0 && runtime_ms)
		return cli_usage_error(cmd,
				       "--deadline or --max-runtime, not both");
	return 0;
}

int cli_print_json(cJSON *root)
{
	char *text = root ? cJSON_PrintUnformatted(root) : NULL;

	cJSON_Delete(root);
	if (!text)
		return EXIT_RUNTIME;
	puts(text);
	cJSON_free(text);
	return EXIT_OK;
}

int cli_lane(const char *cmd, const char *arg, int *lane)
{
	static const char *const NAMES[] = {"auto", "sync", "batch"};

	for (int i = 0; i < 3; i++)
		if (strcmp(arg, NAMES[i]) == 0) {
			*lane = i;
			return 0;
		}
	return cli_bad_value(cmd, "--lane", arg, "auto, sync or batch");
}
