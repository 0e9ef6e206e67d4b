/* ingest_file.c — the line loop behind `nightshift ingest`.
 *
 * Lines are validated and compressed ahead on worker threads
 * (ingest_pipe); this thread owns the queue, inserts each batch's valid
 * jobs many to a statement (ingest_add_batch), takes the verdicts in line
 * order and is the only one that prints, so FILE:LINE messages come out
 * in file order. */
#include "runner/ingest_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "queue/ingest.h"
#include "queue/queue.h"
#include "queue/stats.h"
#include "runner/cli.h"
#include "runner/ingest/ingest_pipe.h"
#include "runner/ingest/jobline.h"

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

/* verdict: count a job's verdict, or report its conflict. Returns 1 when
 * the line is rejected. */
static int verdict(struct state *s, const struct ingest_row *row,
		   enum ingest_verdict v)
{
	if (v == INGEST_ADDED) {
		s->n->added++;
		return 0;
	}
	if (v == INGEST_DUPLICATE) {
		s->n->duplicate++;
		return 0;
	}
	bad_line(s, row->lineno,
		 "custom_id \"%s\": already queued with a different body (the "
		 "queued job is kept)",
		 row->job.custom_id);
	return 1;
}

/* take: the rows of a batch, in line order. Each run of valid jobs goes to
 * the queue in one call; under --strict the first rejected line ends
 * queueing (the transaction is rolled back) and the lines after it are
 * only validated, as they would be one at a time. Returns 0, or -1 after a
 * database failure (reported). */
static int take(struct state *s, struct queue *q, struct ingest **in,
		const struct ingest_batch *b)
{
	const struct ingest_job *jobs[INGEST_PIPE_ROWS];
	enum ingest_verdict v[INGEST_PIPE_ROWS];
	size_t i = 0;

	while (i < b->n) {
		size_t j = i, k, failed = 0;
		int rc = 0;

		while (j < b->n && b->rows[j].kind == INGEST_ROW_JOB) {
			jobs[j - i] = &b->rows[j].job;
			j++;
		}
		if (*in && j > i)
			rc = ingest_add_batch(*in, jobs, j - i, v, &failed);
		for (k = i; k < j && (!rc || k < i + failed); k++) {
			s->n->lines++;
			if (*in && verdict(s, &b->rows[k], v[k - i]) &&
			    s->o->strict)
				ingest_abort(in);
		}
		if (rc) {
			fprintf(stderr, "nightshift: %s:%ld: %s\n", s->name,
				b->rows[i + failed].lineno, queue_errmsg(q));
			return -1;
		}
		if (j == b->n)
			break;
		s->n->lines++;
		if (b->rows[j].kind == INGEST_ROW_TOOLONG)
			bad_line(s, b->rows[j].lineno,
				 "line longer than %zu bytes "
				 "(--max-line-bytes)",
				 s->o->max_line);
		else
			bad_line(s, b->rows[j].lineno, "%s", b->rows[j].why);
		if (s->o->strict)
			ingest_abort(in);
		i = j + 1;
	}
	return 0;
}

int ingest_path(struct queue *q, const char *path,
		const struct ingest_opts *o, struct ingest_counts *n)
{
	struct state s = {.name = strcmp(path, "-") == 0 ? "stdin" : path,
			  .o = o,
			  .n = n};
	struct ingest_pipe *p = NULL;
	struct ingest *in = NULL;
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
	/* Jobs queued by older builds were stored re-printed by cJSON. */
	ingest_set_same_json(in, jobline_same_json);
	p = ingest_pipe_new(fd, o->max_line, ingest_pipe_workers());
	for (;;) {
		struct ingest_batch *b;
		enum ingest_pipe_end end;
		int failed;

		/* Workers compress with the dictionary ingest_add wants now;
		 * once --strict has given up, they only validate. */
		ingest_pipe_set_dict(p, in ? ingest_body_dict(in) : NULL, !!in);
		b = ingest_pipe_next(p);
		failed = take(&s, q, &in, b);
		end = b->end;
		if (end == INGEST_PIPE_EIO && !failed)
			fprintf(stderr, "nightshift: %s:%ld: read error: %s\n",
				s.name, b->err_lineno, strerror(b->err));
		ingest_pipe_done(p, b);
		if (failed || end == INGEST_PIPE_EIO) {
			rc = EXIT_RUNTIME;
			goto out;
		}
		if (end == INGEST_PIPE_EOF)
			break;
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
	ingest_abort(&in);
	if (rc == EXIT_RUNTIME && n->added && !o->strict) {
		/* Batches are committed as they fill: say how many jobs the
		 * queue holds now, not how many were read. */
		struct stats st;

		if (stats_read(q, &st) == QUEUE_OK)
			fprintf(stderr,
				"nightshift: %s: the queue holds %lld jobs, "
				"this file's batches committed before the "
				"failure among them; ingesting the file again "
				"adds the rest\n",
				s.name, (long long)st.total);
	}
	ingest_pipe_free(&p);
	if (fd > 0)
		close(fd);
	fflush(stdout);
	return rc;
}
