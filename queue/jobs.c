/* jobs.c — reading jobs back out of the queue. */
#include "queue/jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue_int.h"
#include "util/xalloc.h"

int qframe_dict(struct queue *q, const void *z, size_t zlen,
		const struct blob_dict **d)
{
	unsigned id = blob_frame_dict_id(z, zlen);

	*d = id ? qdict_find(q, id) : NULL;
	if (id && !*d) {
		snprintf(q->err, sizeof(q->err),
			 "a stored body cannot be decoded (its dictionary is "
			 "missing)");
		return QUEUE_EINVAL;
	}
	return QUEUE_OK;
}

/* qdecode: decode a stored frame with whichever dictionary it names; *out
 * new. Shared by every reader of request and result blobs. */
int qdecode(struct queue *q, struct blob_codec *c, const void *z, size_t zlen,
	    char **out, size_t *len)
{
	const void *p;
	size_t n;
	const struct blob_dict *d;
	int rc = qframe_dict(q, z, zlen, &d);

	if (rc)
		return rc;
	if (blob_decompress(c, d, z, zlen, &p, &n)) {
		snprintf(q->err, sizeof(q->err),
			 "a stored body cannot be decoded (corrupt frame)");
		return QUEUE_EINVAL;
	}
	*out = xstrndup(p, n);
	*len = n;
	return QUEUE_OK;
}

int queue_job_body(struct queue *q, const char *custom_id, char **body,
		   size_t *len)
{
	sqlite3_stmt *st = NULL;
	struct blob_codec *c = NULL;
	int rc = qquery(q, "SELECT request FROM jobs WHERE custom_id = ?1",
			&st, "reading a job");

	if (rc)
		goto out;
	sqlite3_bind_text(st, 1, custom_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		snprintf(q->err, sizeof(q->err), "no job \"%s\"", custom_id);
		rc = QUEUE_ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = qfail(q, rc, "reading a job");
		goto out;
	}
	c = blob_codec_new();
	rc = qdecode(q, c, sqlite3_column_blob(st, 0),
		     (size_t)sqlite3_column_bytes(st, 0), body, len);
out:
	blob_codec_free(&c);
	sqlite3_finalize(st);
	return rc;
}
