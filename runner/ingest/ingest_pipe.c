/* ingest_pipe.c — the threads behind a fast `nightshift ingest`.
 *
 * DESIGN: validating a line (jobline) and compressing its body (zstd) cost
 * about as much as inserting it, so they run on worker threads while the
 * consumer's thread owns the SQLite connection. A worker takes the reader
 * (one at a time, so batches get consecutive sequence numbers), copies up
 * to INGEST_PIPE_ROWS lines into a free batch, lets go of the reader, then
 * parses, hashes and compresses the batch on its own and marks it done.
 * The consumer takes done batches strictly by sequence number and gives
 * them back to the free list. A fixed pool of batches bounds the memory
 * and makes a fast reader wait for a slow consumer.
 *
 * Locks: read_mu (the line reader, seq, read_end) is taken before mu (the
 * free list, batch states, dict/encode, stop), never the other way. No
 * lock is held while parsing or compressing. */
#include "runner/ingest/ingest_pipe.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/blob.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "runner/ingest/jobline.h"
#include "runner/ingest/linereader.h"

/* A batch's buffers are shrunk back when a huge line made them grow past
 * this, so one long line does not pin its size for the rest of the file. */
#define KEEP_CAP (4 * INGEST_PIPE_BYTES)
#define MAX_WORKERS 8
#define WORKER_STACK (4u << 20)

enum { B_FREE, B_BUSY, B_DONE, B_OUT };

/* Where a row's bytes are, as offsets: buffers may move while filling. */
struct slot {
	size_t off, len; /* the line in text */
	size_t aux;      /* its blob in blobs, or its reason in msgs */
};

struct batch {
	struct ingest_batch pub; /* first: the consumer's view */
	struct ingest_row rows[INGEST_PIPE_ROWS];
	struct slot slots[INGEST_PIPE_ROWS];
	struct buf text, blobs, msgs;
	struct batch *next; /* free list */
	unsigned long seq;
	int state;
};

struct ingest_pipe {
	pthread_mutex_t read_mu;
	struct linereader *lr;
	unsigned long read_seq;
	int read_end; /* the reader reached EOF or an error */

	pthread_mutex_t mu;
	pthread_cond_t cv_free, cv_done;
	struct batch *free_list;
	const struct blob_dict *dict;
	int encode;
	int stop;
	unsigned long out_seq; /* next batch for the consumer */

	struct batch *batches;
	unsigned nbatches;
	pthread_t thr[MAX_WORKERS];
	unsigned nthr, want_thr;
	int started;
	struct blob_codec *codec; /* with no workers */
};

/* append: n bytes at the end of b; returns where they start. A batch's
 * text is bounded by its rows and the line cap, so the buffer's own cap
 * is never what stops it. */
static size_t append(struct buf *b, const void *p, size_t n)
{
	size_t at = b->len;

	if (buf_add(b, p, n) != 0)
		abort(); /* past SIZE_MAX: cannot happen */
	return at;
}

static int blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* fill: read the next lines into b. Called with read_mu held. */
static void fill(struct ingest_pipe *p, struct batch *b)
{
	struct ingest_batch *pb = &b->pub;

	buf_reset(&b->text, KEEP_CAP);
	buf_reset(&b->blobs, KEEP_CAP);
	buf_reset(&b->msgs, KEEP_CAP);
	pb->n = 0;
	pb->end = INGEST_PIPE_MORE;
	while (pb->n < INGEST_PIPE_ROWS && b->text.len < INGEST_PIPE_BYTES) {
		const char *line;
		size_t len;
		int r = linereader_next(p->lr, &line, &len);
		struct ingest_row *row = &b->rows[pb->n];

		if (r == LINEREADER_EOF || r == LINEREADER_EIO) {
			pb->end = r == LINEREADER_EOF ? INGEST_PIPE_EOF
						      : INGEST_PIPE_EIO;
			pb->err = errno;
			pb->err_lineno = linereader_lineno(p->lr);
			p->read_end = 1;
			break;
		}
		if (r == LINEREADER_LINE && blank(line, len))
			continue; /* blank lines are not jobs */
		memset(row, 0, sizeof(*row));
		row->lineno = linereader_lineno(p->lr);
		if (r == LINEREADER_ETOOLONG) {
			row->kind = INGEST_ROW_TOOLONG;
		} else {
			row->kind = INGEST_ROW_JOB;
			b->slots[pb->n].off = append(&b->text, line, len);
			b->slots[pb->n].len = len;
		}
		pb->n++;
	}
	b->seq = p->read_seq++;
}

/* work: validate, hash and compress the lines of b; no lock held. */
static void work(struct batch *b, struct blob_codec *c,
		 const struct blob_dict *d, int encode)
{
	char why[400];

	for (size_t i = 0; i < b->pub.n; i++) {
		struct ingest_row *row = &b->rows[i];
		struct slot *s = &b->slots[i];
		struct jobline_view v;

		if (row->kind != INGEST_ROW_JOB)
			continue;
		if (jobline_parse_inplace(b->text.p + s->off, s->len, &v, why,
					  sizeof(why))) {
			row->kind = INGEST_ROW_BAD;
			s->aux = append(&b->msgs, why, strlen(why) + 1);
			continue;
		}
		row->job = (struct ingest_job){
			.custom_id = v.custom_id,
			.body = v.body,
			.body_len = v.body_len,
			.priority = v.priority,
			.providers = v.providers,
			.max_cost_usd = v.max_cost_usd,
			.lane = v.lane,
			.est_input_tokens = v.est_input_tokens,
			.max_output_tokens = v.max_output_tokens,
		};
		/* A body too large to compress is left to ingest_add, which
		 * reports it. */
		if (encode && ingest_encode(c, d, &row->job) == 0)
			s->aux = append(&b->blobs, row->job.blob,
					row->job.blob_len);
		else
			row->job.blob = NULL;
	}
	/* Only now do the buffers stop moving. */
	for (size_t i = 0; i < b->pub.n; i++) {
		struct ingest_row *row = &b->rows[i];

		if (row->kind == INGEST_ROW_BAD)
			row->why = b->msgs.p + b->slots[i].aux;
		else if (row->kind == INGEST_ROW_JOB && row->job.blob)
			row->job.blob = b->blobs.p + b->slots[i].aux;
	}
}

static void *worker(void *arg)
{
	struct ingest_pipe *p = arg;
	struct blob_codec *c = blob_codec_new();

	for (;;) {
		struct batch *b;
		const struct blob_dict *d;
		int encode;

		pthread_mutex_lock(&p->read_mu);
		pthread_mutex_lock(&p->mu);
		while (!p->stop && !p->read_end && !p->free_list)
			pthread_cond_wait(&p->cv_free, &p->mu);
		if (p->stop || p->read_end) {
			pthread_mutex_unlock(&p->mu);
			pthread_mutex_unlock(&p->read_mu);
			break;
		}
		b = p->free_list;
		p->free_list = b->next;
		b->state = B_BUSY;
		pthread_mutex_unlock(&p->mu);
		fill(p, b);
		pthread_mutex_unlock(&p->read_mu);

		pthread_mutex_lock(&p->mu);
		d = p->dict;
		encode = p->encode;
		pthread_mutex_unlock(&p->mu);
		work(b, c, d, encode);
		pthread_mutex_lock(&p->mu);
		b->state = B_DONE;
		pthread_cond_signal(&p->cv_done);
		pthread_mutex_unlock(&p->mu);
	}
	blob_codec_free(&c);
	return NULL;
}

unsigned ingest_pipe_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	/* Measured on lines of ~600 bytes: a worker takes ~6 us a line
	 * (half of it zstd), the consumer ~4 (SQLite). So one worker per
	 * core, sharing with the consumer on a small machine; past three
	 * the single writer cannot keep up with them anyway. */
	if (n < 1)
		return 1;
	return n > 3 ? 3 : (unsigned)n;
}

struct ingest_pipe *ingest_pipe_new(int fd, size_t max_line,
				    unsigned nworkers)
{
	struct ingest_pipe *p = xcalloc(1, sizeof(*p));

	if (nworkers > MAX_WORKERS)
		nworkers = MAX_WORKERS;
	pthread_mutex_init(&p->read_mu, NULL);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_free, NULL);
	pthread_cond_init(&p->cv_done, NULL);
	p->lr = linereader_new(fd, max_line);
	/* One batch being consumed, one being worked on per worker, and as
	 * many ready in between so neither side waits on a hiccup. */
	p->nbatches = nworkers ? 2 * nworkers + 2 : 1;
	p->batches = xcalloc(p->nbatches, sizeof(*p->batches));
	for (unsigned i = p->nbatches; i-- > 0;) {
		p->batches[i].pub.rows = p->batches[i].rows;
		buf_init(&p->batches[i].text, SIZE_MAX);
		buf_init(&p->batches[i].blobs, SIZE_MAX);
		buf_init(&p->batches[i].msgs, SIZE_MAX);
		p->batches[i].next = p->free_list;
		p->free_list = &p->batches[i];
	}
	p->want_thr = nworkers;
	return p;
}

/* start: the workers, at the first ingest_pipe_next, so that they see the
 * dictionary set before it. */
static void start(struct ingest_pipe *p)
{
	pthread_attr_t attr;
	sigset_t all, old;

	p->started = 1;
	/* Parsing recurses up to JSONIDX_MAX_DEPTH; say what that needs
	 * rather than rely on the platform's default thread stack. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	/* Workers block signals (they inherit the mask): SIGINT and SIGTERM
	 * are the main thread's to handle. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < p->want_thr; i++)
		if (pthread_create(&p->thr[p->nthr], &attr, worker, p) == 0)
			p->nthr++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (p->nthr == 0)
		p->codec = blob_codec_new(); /* work inline instead */
}

void ingest_pipe_free(struct ingest_pipe **pp)
{
	struct ingest_pipe *p = *pp;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv_free);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nthr; i++)
		pthread_join(p->thr[i], NULL);
	for (unsigned i = 0; i < p->nbatches; i++) {
		buf_free(&p->batches[i].text);
		buf_free(&p->batches[i].blobs);
		buf_free(&p->batches[i].msgs);
	}
	free(p->batches);
	blob_codec_free(&p->codec);
	linereader_free(&p->lr);
	pthread_cond_destroy(&p->cv_done);
	pthread_cond_destroy(&p->cv_free);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->read_mu);
	free(p);
	*pp = NULL;
}

void ingest_pipe_set_dict(struct ingest_pipe *p, const struct blob_dict *d,
			  int encode)
{
	pthread_mutex_lock(&p->mu);
	p->dict = d;
	p->encode = encode;
	pthread_mutex_unlock(&p->mu);
}

struct ingest_batch *ingest_pipe_next(struct ingest_pipe *p)
{
	struct batch *b = NULL;

	if (!p->started)
		start(p);
	if (p->nthr == 0) {
		b = p->free_list;
		p->free_list = b->next;
		fill(p, b);
		work(b, p->codec, p->dict, p->encode);
		b->state = B_OUT;
		p->out_seq++;
		return &b->pub;
	}
	pthread_mutex_lock(&p->mu);
	for (;;) {
		for (unsigned i = 0; i < p->nbatches && !b; i++)
			if (p->batches[i].state == B_DONE &&
			    p->batches[i].seq == p->out_seq)
				b = &p->batches[i];
		if (b)
			break;
		pthread_cond_wait(&p->cv_done, &p->mu);
	}
	b->state = B_OUT;
	p->out_seq++;
	pthread_mutex_unlock(&p->mu);
	return &b->pub;
}

void ingest_pipe_done(struct ingest_pipe *p, struct ingest_batch *pb)
{
	/* pub is the first member of struct batch */
	struct batch *b = (struct batch *)(void *)pb;

	pthread_mutex_lock(&p->mu);
	b->state = B_FREE;
	b->next = p->free_list;
	p->free_list = b;
	pthread_cond_signal(&p->cv_free);
	pthread_mutex_unlock(&p->mu);
}
