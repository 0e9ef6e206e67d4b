/* ingest_pipe.h — job lines read, validated, hashed and compressed on
 * worker threads, handed back in file order, batch by batch.
 *
 * The consumer (the thread that owns the queue) takes batches in line
 * order, so verdicts and FILE:LINE messages come out in order too, and
 * gives each back when done; at most a few batches exist, so memory is
 * the same for any file size. Not thread-safe: every function is called
 * from the consumer's thread; the workers are internal. */
#ifndef NIGHTSHIFT_INGEST_PIPE_H
#define NIGHTSHIFT_INGEST_PIPE_H

#include <stddef.h>

#include "queue/ingest.h"

struct blob_dict;
struct ingest_pipe;

/* Lines per batch, and the bytes after which a batch is closed early. */
#define INGEST_PIPE_ROWS 256
#define INGEST_PIPE_BYTES (512u << 10)

enum ingest_row_kind {
	INGEST_ROW_JOB,     /* a valid job: job is set */
	INGEST_ROW_BAD,     /* rejected: why is set */
	INGEST_ROW_TOOLONG, /* over the line cap, skipped unread */
};

struct ingest_row {
	long lineno;
	enum ingest_row_kind kind;
	/* JOB: strings borrowed from the batch; blob is set when the worker
	 * compressed the body (see ingest_pipe_set_dict). */
	struct ingest_job job;
	const char *why; /* BAD: the reason, borrowed from the batch */
};

/* How the file ended after a batch's rows. */
enum ingest_pipe_end {
	INGEST_PIPE_MORE = 0, /* more batches follow */
	INGEST_PIPE_EOF = 1,
	INGEST_PIPE_EIO = 2, /* read error: err and err_lineno say where */
};

struct ingest_batch {
	struct ingest_row *rows;
	size_t n;
	enum ingest_pipe_end end;
	int err;         /* errno of a read error */
	long err_lineno; /* line being read at the error */
};

/* ingest_pipe_new: read fd (borrowed; must outlive the pipe) as job lines
 * capped at max_line bytes, with nworkers threads (0: no threads; each
 * batch is then read and validated inside ingest_pipe_next). The workers
 * start at the first ingest_pipe_next and do not compress until
 * ingest_pipe_set_dict says how. New; never NULL. */
struct ingest_pipe *ingest_pipe_new(int fd, size_t max_line,
				    unsigned nworkers);
/* ingest_pipe_free: stop the workers (each finishes the batch in hand),
 * join them and free everything, batches included. */
void ingest_pipe_free(struct ingest_pipe **p);
/* ingest_pipe_workers: a worker count for this machine. */
unsigned ingest_pipe_workers(void);
/* ingest_pipe_set_dict: from now on workers compress bodies with d (NULL:
 * none) when encode is set, and only validate when it is not. d is
 * borrowed and must outlive the pipe. Batches already made keep what they
 * were made with (ingest_add compresses again when that is not what it
 * wants). */
void ingest_pipe_set_dict(struct ingest_pipe *p, const struct blob_dict *d,
			  int encode);
/* ingest_pipe_next: the next batch in file order (borrowed until given
 * back), waiting for it. Give each batch back before asking for the next.
 * The batch with end != INGEST_PIPE_MORE is the last; do not ask for more
 * after it. */
struct ingest_batch *ingest_pipe_next(struct ingest_pipe *p);
/* ingest_pipe_done: give back a batch from ingest_pipe_next. */
void ingest_pipe_done(struct ingest_pipe *p, struct ingest_batch *b);

#endif
