/* cmd_export.c — `nightshift export`: finished jobs as OpenAI Batch API
 * output lines, one per job in ingest order, plus a "nightshift" object
 * (provider, model, attempts, cost, latency).
 *
 * Lines are written piece by piece straight into the output's buffer, one
 * row at a time, so an export of millions of jobs runs in constant memory.
 * The stored result body is already JSON: it is spliced in as is (keeping
 * the provider's bytes and skipping a parse and re-print), with raw line
 * breaks, which valid JSON can only have between tokens, turned into
 * spaces so each record stays on one line, and invalid UTF-8 replaced by
 * U+FFFD (counted in "utf8_replaced"), so every line is valid UTF-8. Every
 * other string goes through a JSON escaper that also replaces invalid UTF-8,
 * since error messages come from providers. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/export.h"
#include "queue/queue.h"
#include "runner/cli.h"
#include "runner/cmd.h"
#include "util/utf8.h"

static const char USAGE[] =
	"usage: nightshift export [--db FILE]\n"
	"                         [-o FILE.jsonl|FILE.jsonl.zst|-]\n"
	"                         [--all|--succeeded|--failed]\n"
	"\n"
	"Write one OpenAI Batch API output line per finished job, in ingest\n"
	"order: id, custom_id, response, error, and nightshift (provider,\n"
	"model, attempts, cost_usd, latency_ms). A dead job has\n"
	"\"response\":null and \"error\":{\"code\",\"message\"}.\n"
	"Jobs still queued or running are not exported.\n"
	"\n"
	"  --db FILE         queue database (default $NIGHTSHIFT_DB, else\n"
	"                    ./nightshift.db)\n"
	"  -o, --output FILE where to write (default '-', standard output);\n"
	"                    a name ending in .zst is zstd-compressed. The\n"
	"                    file is created 0600 and appears only when\n"
	"                    complete\n"
	"  --all             every finished job, done and dead (the default,\n"
	"                    so no job is silently missing)\n"
	"  --succeeded       only jobs that succeeded\n"
	"  --failed          only dead jobs\n"
	"  -h, --help        this help\n"
	"\n"
	"Exit: 0 exported, 1 I/O or database error, 2 usage error.\n";

/* SIGINT, SIGTERM and SIGHUP stop the export between rows, so that its
 * temporary file is removed before the process dies of the signal. */
static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

static const int STOP_SIGNALS[] = {SIGINT, SIGTERM, SIGHUP};
#define NSTOP (sizeof(STOP_SIGNALS) / sizeof(STOP_SIGNALS[0]))

/* catch_stops: on_stop for the stop signals; SA_RESETHAND so that a second
 * signal kills at once. No SA_RESTART, so a blocked read returns. */
static void catch_stops(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NSTOP; i++)
		sigaction(STOP_SIGNALS[i], &sa, NULL);
}

/* One output line under construction; the first failure sticks. */
struct line {
	struct export_out *o;
	int rc;
};

static void put(struct line *l, const void *p, size_t n)
{
	if (!l->rc)
		l->rc = export_out_write(l->o, p, n);
}

static void put_lit(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void put_int(struct line *l, long long v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%lld", v);

	put(l, buf, (size_t)n);
}

/* put_num: the shortest of %.15g / %.17g that reads back as v, as cJSON
 * prints numbers; JSON has no infinities, so those become null. */
static void put_num(struct line *l, double v)
{
	char buf[32];
	int n;

	if (!isfinite(v)) {
		put_lit(l, "null");
		return;
	}
	n = snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		n = snprintf(buf, sizeof(buf), "%.17g", v);
	put(l, buf, (size_t)n);
}

/* put_str: s as a JSON string, or null. Plain runs are written whole;
 * only the bytes that need it are escaped. */
static void put_str(struct line *l, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n, run = 0, i = 0;

	if (!str) {
		put_lit(l, "null");
		return;
	}
	n = strlen(str);
	put_lit(l, "\"");
	while (i < n) {
		unsigned char c = s[i];
		const char *esc = NULL;
		char ubuf[8];
		size_t k = 1;

		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c < 0x20 || c == 0x7F) {
			snprintf(ubuf, sizeof(ubuf), "\\u%04x", c);
			esc = ubuf;
		} else if (c >= 0x80 && (k = utf8_seq(s + i, n - i)) == 0) {
			esc = "\\ufffd";
			k = 1;
		}
		if (esc) {
			put(l, s + i - run, run);
			put_lit(l, esc);
			run = 0;
		} else {
			run += k;
		}
		i += k;
	}
	put(l, s + n - run, run);
	put_lit(l, "\"");
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* trim: drop the JSON whitespace around b[0..*n). */
static const char *trim(const char *b, size_t *n)
{
	while (*n > 0 && is_ws(*b)) {
		b++;
		(*n)--;
	}
	while (*n > 0 && is_ws(b[*n - 1]))
		(*n)--;
	return b;
}

/* body_ok: a cheap check that the stored body is a JSON object, so a
 * damaged row fails the export instead of producing a broken line. */
static int body_ok(const char *b, size_t n)
{
	b = trim(b, &n);
	return n >= 2 && b[0] == '{' && b[n - 1] == '}';
}

/* put_body: the stored JSON spliced in, trimmed, raw line breaks as
 * spaces, and each byte that starts no valid UTF-8 sequence as U+FFFD
 * (issue 17: a provider's reply with \xff or a surrogate made a line
 * strict JSON readers refuse; results stored before the fix are repaired
 * here too). Valid JSON has bytes >= 0x80 only inside strings, where
 * U+FFFD is as good as any character. Returns how many were replaced. */
static long put_body(struct line *l, const char *b, size_t n)
{
	static const char FFFD[] = "\xef\xbf\xbd";
	const unsigned char *u;
	size_t start = 0, i = 0, k;
	long bad = 0;

	b = trim(b, &n);
	u = (const unsigned char *)b;
	while (i < n) {
		if (u[i] >= 0x80) {
			if ((k = utf8_seq(u + i, n - i)) > 0) {
				i += k;
				continue;
			}
			put(l, b + start, i - start);
			put(l, FFFD, 3);
			bad++;
			start = ++i;
			continue;
		}
		if (b[i] == '\n' || b[i] == '\r') {
			put(l, b + start, i - start);
			put_lit(l, " ");
			start = i + 1;
		}
		i++;
	}
	put(l, b + start, n - start);
	return bad;
}

static void put_line(struct line *l, const struct export_row *r)
{
	long repaired = 0;

	put_lit(l, "{\"id\":\"batch_req_");
	put_int(l, (long long)r->job_id);
	put_lit(l, "\",\"custom_id\":");
	put_str(l, r->custom_id);
	if (r->dead) {
		put_lit(l, ",\"response\":null,\"error\":{\"code\":");
		put_str(l, r->error_code);
		put_lit(l, ",\"message\":");
		put_str(l, r->error_message);
		put_lit(l, "}");
	} else {
		put_lit(l, ",\"response\":{\"status_code\":");
		if (r->status_code >= 0)
			put_int(l, (long long)r->status_code);
		else
			put_lit(l, "null");
		put_lit(l, ",\"request_id\":");
		put_str(l, r->request_id);
		put_lit(l, ",\"body\":");
		if (r->body)
			repaired = put_body(l, r->body, r->body_len);
		else
			put_lit(l, "null");
		put_lit(l, "},\"error\":null");
	}
	put_lit(l, ",\"nightshift\":{\"provider\":");
	put_str(l, r->provider);
	put_lit(l, ",\"model\":");
	put_str(l, r->model);
	put_lit(l, ",\"lane\":");
	put_str(l, r->lane);
	put_lit(l, ",\"attempts\":");
	put_int(l, (long long)r->attempts);
	put_lit(l, ",\"cost_usd\":");
	put_num(l, r->cost_usd);
	put_lit(l, ",\"latency_ms\":");
	if (r->latency_ms >= 0)
		put_int(l, (long long)r->latency_ms);
	else
		put_lit(l, "null");
	if (repaired) {
		/* The reply is not quite the provider's: say so. */
		put_lit(l, ",\"utf8_replaced\":");
		put_int(l, repaired);
	}
	put_lit(l, "}}\n");
}

/* export_rows: write every row of the cursor; EXIT_* code, reported. */
static int export_rows(struct queue *q, enum export_filter filter,
		       struct export_out *o, long long *n, long long *dead)
{
	struct export_cursor *c = NULL;
	struct export_row r;
	struct line l = {o, 0};
	int rc;

	if ((rc = export_open(q, filter, &c))) {
		fprintf(stderr, "nightshift export: %s\n", queue_errmsg(q));
		return EXIT_RUNTIME;
	}
	while (!stop_sig && (rc = export_next(c, &r)) == 1) {
		if (!r.dead && r.body && !body_ok(r.body, r.body_len)) {
			fprintf(stderr,
				"nightshift export: job \"%s\": its stored "
				"result is not a JSON object\n",
				r.custom_id ? r.custom_id : "?");
			rc = EXIT_RUNTIME;
			goto out;
		}
		put_line(&l, &r);
		if (l.rc) {
			fprintf(stderr, "nightshift export: %s\n",
				export_out_errmsg(o));
			rc = EXIT_RUNTIME;
			goto out;
		}
		(*n)++;
		*dead += r.dead;
	}
	if (stop_sig) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (rc < 0) {
		fprintf(stderr, "nightshift export: %s\n", queue_errmsg(q));
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = EXIT_OK;
out:
	export_close(&c);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPT_DB,
		{"output", required_argument, NULL, 'o'},
		{"all", no_argument, NULL, 'a'},
		{"succeeded", no_argument, NULL, 's'},
		{"failed", no_argument, NULL, 'f'},
		CLI_OPT_END};
	struct cli_args a = {"export", argc, argv, opts, "o:", USAGE, 0};
	const char *db = NULL, *path = "-";
	enum export_filter filter = EXPORT_FINISHED;
	struct export_out *o = NULL;
	struct queue *q = NULL;
	long long n = 0, dead = 0;
	int c, nfilters = 0, rc;
	char err[600];

	while ((c = cli_opt(&a)) > 0) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'o':
			if (!*optarg)
				return cli_usage_error("export",
						       "-o needs a file name");
			path = optarg;
			break;
		case 'a':
			filter = EXPORT_FINISHED;
			nfilters++;
			break;
		case 's':
			filter = EXPORT_DONE;
			nfilters++;
			break;
		case 'f':
			filter = EXPORT_DEAD;
			nfilters++;
			break;
		}
	}
	if (c != CLI_END)
		return cli_exit(c);
	if ((rc = cli_no_operands(&a)))
		return rc;
	if (nfilters > 1)
		return cli_usage_error(
			"export", "choose one of --all, --succeeded, --failed");
	db = cli_db_path(db);
	if ((rc = cli_open_queue("export", db, QUEUE_OPEN_READ, &q)))
		return rc;
	/* A closed pipe (export | head) must be a write error we report,
	 * not a silent death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	catch_stops();
	if (export_out_open(path, &o, err, sizeof(err))) {
		fprintf(stderr, "nightshift export: %s\n", err);
		rc = EXIT_RUNTIME;
		goto out;
	}
	if ((rc = export_rows(q, filter, o, &n, &dead)))
		goto out;
	if (stop_sig) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (export_out_commit(o)) {
		fprintf(stderr, "nightshift export: %s\n",
			export_out_errmsg(o));
		rc = EXIT_RUNTIME;
		goto out;
	}
	fprintf(stderr, "exported %lld results (%lld dead) to %s\n", n, dead,
		export_out_name(o));
	rc = EXIT_OK;
out:
	if (stop_sig && rc != EXIT_OK)
		fprintf(stderr, "nightshift export: stopped by signal %d%s%s\n",
			(int)stop_sig,
			o && export_out_tmp(o) ? "; not written: " : "",
			o && export_out_tmp(o) ? export_out_name(o) : "");
	export_out_free(&o); /* removes an uncommitted temporary */
	queue_close(&q);
	if (stop_sig && rc != EXIT_OK) {
		/* Die of the signal, as the shell expects of a stopped
		 * command, now that nothing is left behind. */
		signal(stop_sig, SIG_DFL);
		raise(stop_sig);
		rc = EXIT_RUNTIME;
	}
	return rc;
}
