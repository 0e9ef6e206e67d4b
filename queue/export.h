/* export.h — finished jobs read back in ingest order, and the file they
 * are written to (plain JSONL or a zstd stream, replaced atomically).
 *
 * The cursor yields one row at a time with the result body decoded, so an
 * export of any size runs in the memory of one row. Formatting the lines is
 * the caller's (runner/cmd_export.c): this module knows rows and bytes, not
 * JSON. Not thread-safe (a cursor uses the queue's connection; an
 * export_out is used by one thread). */
#ifndef NIGHTSHIFT_EXPORT_H
#define NIGHTSHIFT_EXPORT_H

#include <stddef.h>
#include <stdint.h>

struct queue;
struct export_cursor;
struct export_out;

/* Which finished jobs to read. */
enum export_filter {
	EXPORT_FINISHED, /* done and dead */
	EXPORT_DONE,
	EXPORT_DEAD,
};

/* One finished job. Every pointer is borrowed from the cursor and dies at
 * its next call; a NULL string is a column with no value. */
struct export_row {
	int64_t job_id;
	const char *custom_id;
	int dead;		/* 1: the job is dead (state 3) */
	const char *provider;
	const char *model;
	int64_t status_code;	/* -1: not stored */
	const char *request_id;
	const char *body;	/* decoded reply JSON, NUL-terminated */
	size_t body_len;
	const char *error_code;
	const char *error_message;
	int64_t attempts;
	double cost_usd;
	int64_t latency_ms;	/* -1: not stored */
	const char *lane;	/* "sync" or "batch" */
};

/* Reading */
/* export_open: a cursor over the finished jobs that filter selects, by job
 * id. *out new (export_close). QUEUE_* code, message in queue_errmsg(q). */
int export_open(struct queue *q, enum export_filter filter,
		struct export_cursor **out);
/* export_next: fill *row with the next job. Returns 1 for a row, 0 at the
 * end, or a negative QUEUE_* code (QUEUE_EINVAL when a stored body cannot
 * be decoded; queue_errmsg names the job). */
int export_next(struct export_cursor *c, struct export_row *row);
void export_close(struct export_cursor **c);

/* Writing */
/* export_out_open: write to path, or to standard output when path is NULL
 * or "-". A path ending in ".zst" gets one zstd frame. A file is written to
 * a temporary of its own beside it (PATH.tmp.XXXXXX, 0600, see
 * export_out_tmp) and renamed over path only by export_out_commit, so a
 * failed export never leaves a half file under the real name, and two
 * exports to one path do not mix: the last to finish wins whole; a
 * symbolic link's target is replaced so, the link kept. A device or FIFO
 * (or a link to one, or to nothing yet) is written in place; a directory
 * is refused.
 * *out new (export_out_free). On failure *out is NULL and err holds a line
 * naming the file. */
int export_out_open(const char *path, struct export_out **out, char *err,
		    size_t errlen);
/* export_out_write: append n bytes. Failures are sticky: after one, every
 * call returns the same code. QUEUE_EFULL for a full disk, else
 * QUEUE_EIO; export_out_errmsg says which file and why. */
int export_out_write(struct export_out *o, const void *p, size_t n);
/* export_out_commit: flush, end the zstd frame, sync and rename into
 * place. QUEUE_* code as export_out_write. */
int export_out_commit(struct export_out *o);
/* export_out_errmsg: the last failure in words (borrowed from o). */
const char *export_out_errmsg(const struct export_out *o);
/* export_out_name: the path as the user should see it ("stdout" for
 * standard output); borrowed from o. */
const char *export_out_name(const struct export_out *o);
/* export_out_tmp: the temporary file's name while one exists, else NULL
 * (borrowed from o). A caller that dies by a signal removes it first. */
const char *export_out_tmp(const struct export_out *o);
/* export_out_free: close; an uncommitted file's temporary is removed. */
void export_out_free(struct export_out **o);

#endif
