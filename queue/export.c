/* export.c — finished jobs out of the queue, and the export file.
 *
 * The cursor is one SELECT over results joined to jobs in job id order:
 * both tables are keyed by the job id, so SQLite walks them in step and
 * never sorts, and the statement's snapshot keeps the export consistent
 * while a run keeps writing. Result bodies decode into the codec's buffer,
 * reused row after row.
 *
 * The writer stages bytes in a fixed buffer and, for .zst, feeds them to
 * one streaming zstd frame, so memory does not grow with the export. */
#define _DEFAULT_SOURCE /* realpath */
#include "queue/export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "queue/queue_int.h"
#include "util/xalloc.h"

/* zstd's default level: fast, and exports are written once. */
#define EXPORT_ZSTD_LEVEL 3
/* Staging buffer: large enough that write(2) calls are few. */
#define EXPORT_BUF (256u << 10)

struct export_cursor {
	struct queue *q;
	sqlite3_stmt *st;
	struct blob_codec *codec;
};

struct export_out {
	int fd;
	int is_stdout;
	int committed;
	int created; /* tmp is ours to remove */
	int direct;  /* written in place: a device, FIFO or dangling link */
	int rc;      /* sticky failure */
	char *path;
	char *tmp;	 /* PATH.tmp.XXXXXX, NULL for stdout and direct */
	char *dest;	 /* what tmp is renamed to: path, or a link's target */
	ZSTD_CCtx *cctx; /* NULL: plain */
	char *buf;
	size_t len;
	char *zbuf;
	size_t zcap;
	char err[600];
};

int export_open(struct queue *q, enum export_filter filter,
		struct export_cursor **out)
{
	struct export_cursor *c;
	int lo = JOB_DONE, hi = JOB_DEAD, rc;

	*out = NULL;
	if (filter == EXPORT_DONE)
		hi = JOB_DONE;
	else if (filter == EXPORT_DEAD)
		lo = JOB_DEAD;
	c = xcalloc(1, sizeof(*c));
	c->q = q;
	rc = qquery(q,
		    "SELECT r.job_id, j.custom_id, j.state, r.provider, "
		    "r.model, r.status_code, r.request_id, r.body, "
		    "r.error_code, r.error_message, r.attempts, r.cost_usd, "
		    "r.latency_ms, coalesce(r.lane, 'sync') FROM results r "
		    "JOIN jobs j ON j.id = "
		    "r.job_id WHERE j.state IN (?1, ?2) ORDER BY r.job_id",
		    &c->st, "reading results");
	if (rc) {
		export_close(&c);
		return rc;
	}
	sqlite3_bind_int(c->st, 1, lo);
	sqlite3_bind_int(c->st, 2, hi);
	c->codec = blob_codec_new();
	*out = c;
	return QUEUE_OK;
}

static const char *text_or_null(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

static int64_t int_or(sqlite3_stmt *st, int col, int64_t none)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL
		       ? none
		       : sqlite3_column_int64(st, col);
}

/* decode_body: the row's result frame into the codec's buffer. */
static int decode_body(struct export_cursor *c, struct export_row *row)
{
	const void *z = sqlite3_column_blob(c->st, 7);
	size_t zlen = (size_t)sqlite3_column_bytes(c->st, 7);
	const void *p;
	unsigned id;
	int rc;

	row->body = NULL;
	row->body_len = 0;
	if (!z)
		return QUEUE_OK;
	id = blob_frame_dict_id(z, zlen);
	rc = blob_decompress(c->codec, id ? qdict_find(c->q, id) : NULL, z,
			     zlen, &p, &row->body_len);
	if (rc) {
		snprintf(c->q->err, sizeof(c->q->err),
			 "job \"%s\": its stored result cannot be decoded (%s)",
			 row->custom_id ? row->custom_id : "?",
			 rc == BLOB_ENODICT ? "its dictionary is missing"
			 : rc == BLOB_ETOOBIG ? "too large"
					      : "corrupt frame");
		return QUEUE_EINVAL;
	}
	row->body = p;
	return QUEUE_OK;
}

int export_next(struct export_cursor *c, struct export_row *row)
{
	sqlite3_stmt *st = c->st;
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return qfail(c->q, rc, "reading results");
	memset(row, 0, sizeof(*row));
	row->job_id = sqlite3_column_int64(st, 0);
	row->custom_id = text_or_null(st, 1);
	row->dead = sqlite3_column_int(st, 2) == JOB_DEAD;
	row->provider = text_or_null(st, 3);
	row->model = text_or_null(st, 4);
	row->status_code = int_or(st, 5, -1);
	row->request_id = text_or_null(st, 6);
	row->error_code = text_or_null(st, 8);
	row->error_message = text_or_null(st, 9);
	row->attempts = sqlite3_column_int64(st, 10);
	row->cost_usd = sqlite3_column_double(st, 11);
	row->latency_ms = int_or(st, 12, -1);
	row->lane = text_or_null(st, 13);
	if ((rc = decode_body(c, row)))
		return rc;
	return 1;
}

void export_close(struct export_cursor **cp)
{
	struct export_cursor *c = *cp;

	if (!c)
		return;
	sqlite3_finalize(c->st);
	blob_codec_free(&c->codec);
	free(c);
	*cp = NULL;
}

static int errno_code(int e)
{
	switch (e) {
	case ENOSPC:
#ifdef EDQUOT
	case EDQUOT:
#endif
		return QUEUE_EFULL;
	case EACCES:
	case EPERM:
	case EROFS:
		return QUEUE_EPERM;
	case ENOENT:
	case ENOTDIR:
		return QUEUE_ENOENT;
	default:
		return QUEUE_EIO;
	}
}

/* fail: record "NAME: what: reason" once and make it sticky. */
static int fail(struct export_out *o, const char *what, int e)
{
	if (o->rc)
		return o->rc;
	o->rc = errno_code(e);
	snprintf(o->err, sizeof(o->err), "%s: %s: %s", export_out_name(o),
		 what, o->rc == QUEUE_EFULL ? "disk full" : strerror(e));
	return o->rc;
}

static int write_all(struct export_out *o, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(o->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return fail(o, "cannot write", errno);
		p += w;
		n -= (size_t)w;
	}
	return QUEUE_OK;
}

/* drain: push the staged bytes out; with end, close the zstd frame. */
static int drain(struct export_out *o, int end)
{
	ZSTD_inBuffer in = {o->buf, o->len, 0};
	int rc = QUEUE_OK;

	if (!o->cctx) {
		rc = write_all(o, o->buf, o->len);
		o->len = 0;
		return rc;
	}
	for (;;) {
		ZSTD_outBuffer zo = {o->zbuf, o->zcap, 0};
		size_t left = ZSTD_compressStream2(
			o->cctx, &zo, &in, end ? ZSTD_e_end : ZSTD_e_continue);

		if (ZSTD_isError(left)) {
			o->rc = QUEUE_EIO;
			snprintf(o->err, sizeof(o->err), "%s: zstd: %s",
				 export_out_name(o), ZSTD_getErrorName(left));
			return o->rc;
		}
		if ((rc = write_all(o, o->zbuf, zo.pos)))
			return rc;
		if (end ? left == 0 : in.pos == in.size)
			break;
	}
	o->len = 0;
	return QUEUE_OK;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int export_out_open(const char *path, struct export_out **out, char *err,
		    size_t errlen)
{
	struct export_out *o = xcalloc(1, sizeof(*o));
	size_t n;
	int rc;

	*out = NULL;
	o->fd = -1;
	if (!path || strcmp(path, "-") == 0) {
		o->is_stdout = 1;
		o->fd = STDOUT_FILENO;
		o->path = xstrdup("stdout");
	} else {
		struct stat sb;
		int linked, exists;

		o->path = xstrdup(path);
		/* Only a regular file (or a new name) is replaced by renaming
		 * a finished copy over it. A device or FIFO (-o /dev/stdout,
		 * a pipe) is written in place: renaming over it would put a
		 * file where the device was. A link keeps pointing where it
		 * did: its target is what gets replaced. */
		linked = lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode);
		exists = stat(path, &sb) == 0; /* what a link points at */
		if (exists && S_ISDIR(sb.st_mode)) {
			rc = QUEUE_EIO;
			snprintf(err, errlen, "%s: is a directory", path);
			goto fail;
		}
		if (exists ? !S_ISREG(sb.st_mode) : linked) {
			o->direct = 1;
			o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
						   O_CLOEXEC,
				     0600);
			if (o->fd < 0) {
				rc = errno_code(errno);
				snprintf(err, errlen, "%s: cannot open: %s",
					 path, strerror(errno));
				goto fail;
			}
			goto opened;
		}
		o->dest = linked ? realpath(path, NULL) : xstrdup(path);
		if (!o->dest) {
			rc = errno_code(errno);
			snprintf(err, errlen, "%s: cannot follow the link: %s",
				 path, strerror(errno));
			goto fail;
		}
		/* A name of our own (mkstemp: O_EXCL, 0600), in the target's
		 * directory so the rename stays within one file system: two
		 * exports to one file at once must not share a temporary
		 * and write over each other. A planted link at that name
		 * makes mkstemp pick another. */
		n = strlen(o->dest);
		o->tmp = xmalloc(n + sizeof(".tmp.XXXXXX"));
		memcpy(o->tmp, o->dest, n);
		memcpy(o->tmp + n, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
		o->fd = mkstemp(o->tmp);
		o->created = o->fd >= 0;
		if (o->fd < 0 || fcntl(o->fd, F_SETFD, FD_CLOEXEC) != 0 ||
		    fchmod(o->fd, 0600) != 0) {
			rc = errno_code(errno);
			snprintf(err, errlen, "%s: cannot create: %s", o->tmp,
				 strerror(errno));
			goto fail;
		}
opened:
		if (has_suffix(path, ".zst")) {
			o->cctx = ZSTD_createCCtx();
			if (!o->cctx ||
			    ZSTD_isError(ZSTD_CCtx_setParameter(
				    o->cctx, ZSTD_c_compressionLevel,
				    EXPORT_ZSTD_LEVEL)) ||
			    ZSTD_isError(ZSTD_CCtx_setParameter(
				    o->cctx, ZSTD_c_checksumFlag, 1))) {
				rc = QUEUE_EIO;
				snprintf(err, errlen,
					 "%s: cannot start zstd", path);
				goto fail;
			}
			o->zcap = ZSTD_CStreamOutSize();
			o->zbuf = xmalloc(o->zcap);
		}
	}
	o->buf = xmalloc(EXPORT_BUF);
	*out = o;
	return QUEUE_OK;
fail:
	export_out_free(&o);
	return rc;
}

int export_out_write(struct export_out *o, const void *p, size_t n)
{
	const char *s = p;

	if (o->rc)
		return o->rc;
	while (n > 0) {
		size_t k = EXPORT_BUF - o->len;

		if (k > n)
			k = n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
		if (o->len == EXPORT_BUF && drain(o, 0))
			return o->rc;
	}
	return QUEUE_OK;
}

int export_out_commit(struct export_out *o)
{
	if (o->rc)
		return o->rc;
	if (drain(o, 1))
		return o->rc;
	if (o->is_stdout) {
		o->committed = 1;
		return QUEUE_OK;
	}
	if (o->direct) {
		int fd = o->fd;

		o->fd = -1;
		if (close(fd) != 0)
			return fail(o, "cannot write", errno);
		o->committed = 1;
		return QUEUE_OK;
	}
	/* Sync before the rename: otherwise a power cut can leave the new
	 * name pointing at an empty file. */
	if (fsync(o->fd) != 0)
		return fail(o, "cannot sync", errno);
	if (close(o->fd) != 0) {
		o->fd = -1;
		return fail(o, "cannot write", errno);
	}
	o->fd = -1;
	if (rename(o->tmp, o->dest) != 0)
		return fail(o, "cannot rename the finished file into place",
			    errno);
	o->committed = 1;
	return QUEUE_OK;
}

const char *export_out_errmsg(const struct export_out *o)
{
	return o->err;
}

const char *export_out_name(const struct export_out *o)
{
	return o->path;
}

const char *export_out_tmp(const struct export_out *o)
{
	return o->created && !o->committed ? o->tmp : NULL;
}

void export_out_free(struct export_out **op)
{
	struct export_out *o = *op;

	if (!o)
		return;
	if (!o->is_stdout && o->fd >= 0)
		close(o->fd);
	if (!o->committed && o->created)
		unlink(o->tmp);
	ZSTD_freeCCtx(o->cctx);
	free(o->zbuf);
	free(o->buf);
	free(o->tmp);
	free(o->dest);
	free(o->path);
	free(o);
	*op = NULL;
}
