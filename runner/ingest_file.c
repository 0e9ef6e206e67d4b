/* ingest_file.c — the line loop behind `nightshift ingest`. */
#include "runner/ingest_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "queue/ingest.h"
#include "queue/queue.h"
#include "runner/cli.h"
#include "runner/jobline.h"
#include "runner/linereader.h"

struct state {
	const char *name;
	const struct ingest_opts *o;
	struct ingest_counts *n;
};

static void bad_line(struct state *s, long lineno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bad_line(struct state *s, long lineno, const char *fmt, ...)
{
	va_list ap;

	s->n->rejected++;
	if (s->o->max_errors && s->n->rejected > s->o->max_errors)
		return;
	fprintf(stderr, "%s:%ld: ", s->name, lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (s->o->max_errors && s->n->rejected == s->o->max_errors)
		fprintf(stderr, "%s: further bad lines are counted but not "
				"shown (--max-errors)\n",
			s->name);
}

static int blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

int ingest_path(struct queue *q, const char *path,
		const struct ingest_opts *o, struct ingest_counts *n)
{
	struct state s = {.name = strcmp(path, "-") == 0 ? "stdin" : path,
			  .o = o,
			  .n = n};
	struct linereader *lr = NULL;
	struct ingest *in = NULL;
	struct jobline j = {0};
	char why[400];
	int fd = 0, rc = EXIT_OK, qrc;

	memset(n, 0, sizeof(*n));
	if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "nightshift: %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	if ((qrc = ingest_begin(q, o->strict, &in))) {
		fprintf(stderr, "nightshift: %s\n", queue_errmsg(q));
		rc = EXIT_RUNTIME;
		goto out;
	}
	lr = linereader_new(fd, o->max_line);
	for (;;) {
		const char *line;
		size_t len;
		enum ingest_verdict v;
		struct ingest_job job;
		int r = linereader_next(lr, &line, &len);
		long no = linereader_lineno(lr);

		if (r == LINEREADER_EOF)
			break;
		if (r == LINEREADER_EIO) {
			fprintf(stderr, "nightshift: %s:%ld: read error: %s\n",
				s.name, no, strerror(errno));
			rc = EXIT_RUNTIME;
			goto out;
		}
		n->lines++;
		if (r == LINEREADER_ETOOLONG) {
			bad_line(&s, no, "line longer than %zu bytes "
					 "(--max-line-bytes)",
				 o->max_line);
			goto rejected;
		}
		if (blank(line, len)) {
			n->lines--; /* blank lines are not jobs */
			continue;
		}
		if (jobline_parse(line, len, &j, why, sizeof(why))) {
			bad_line(&s, no, "%s", why);
			goto rejected;
		}
		if (!in) { /* --strict after a bad line: validate only */
			jobline_clear(&j);
			continue;
		}
		job = (struct ingest_job){
			.custom_id = j.custom_id,
			.body = j.body,
			.body_len = j.body_len,
			.priority = j.priority,
			.providers = j.providers,
			.max_cost_usd = j.max_cost_usd,
			.est_input_tokens = j.est_input_tokens,
			.max_output_tokens = j.max_output_tokens,
		};
		qrc = ingest_add(in, &job, &v);
		if (qrc) {
			fprintf(stderr, "nightshift: %s:%ld: %s\n", s.name, no,
				queue_errmsg(q));
			jobline_clear(&j);
			rc = EXIT_RUNTIME;
			goto out;
		}
		if (v == INGEST_ADDED) {
			n->added++;
		} else if (v == INGEST_DUPLICATE) {
			n->duplicate++;
		} else {
			bad_line(&s, no,
				 "custom_id \"%s\": already queued with a "
				 "different body (the queued job is kept)",
				 j.custom_id);
			jobline_clear(&j);
			goto rejected;
		}
		jobline_clear(&j);
		continue;
rejected:
		if (o->strict && in)
			ingest_abort(&in);
	}
	if (in && (qrc = ingest_commit(&in))) {
		fprintf(stderr, "nightshift: %s: %s\n", s.name, queue_errmsg(q));
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (o->strict && n->rejected) {
		printf("%s: rejected %lld of %lld lines; nothing queued "
		       "(--strict)\n",
		       s.name, n->rejected, n->lines);
		n->added = n->duplicate = 0;
	} else {
		printf("%s: enqueued %lld, already queued %lld, rejected %lld\n",
		       s.name, n->added, n->duplicate, n->rejected);
		if (n->added == 0 && n->duplicate > 0 && n->rejected == 0)
			printf("%s: nothing new: every job was already "
			       "queued\n",
			       s.name);
	}
	rc = n->rejected ? EXIT_PARTIAL : EXIT_OK;
out:
	if (rc == EXIT_RUNTIME && n->added && !o->strict)
		fprintf(stderr,
			"nightshift: %s: jobs committed before the failure stay "
			"queued; ingesting the file again adds the rest\n",
			s.name);
	ingest_abort(&in);
	linereader_free(&lr);
	if (fd > 0)
		close(fd);
	fflush(stdout);
	return rc;
}
