/* sampler.c — collecting a training sample and rewriting its rows.
 *
 * Rows are inserted at once, compressed without a dictionary, so nothing
 * waits in memory for a verdict; once the sample is complete the rows are
 * rewritten with the new dictionary in the same transaction. */
#include "queue/sampler.h"

#include <stdlib.h>
#include <string.h>

#include "queue/blob.h"
#include "queue/queue_int.h"
#include "util/killpoint.h"
#include "util/xalloc.h"

/* Cap on the bytes kept: rows may be megabytes and the sample must not
 * make memory grow with them. */
#define SAMPLE_CAP (4u << 20)

void sampler_init(struct sampler *s, int active)
{
	memset(s, 0, sizeof(*s));
	s->active = active;
}

void sampler_free(struct sampler *s)
{
	free(s->buf);
	free(s->sizes);
	free(s->ids);
	sampler_init(s, 0);
}

int sampler_add(struct sampler *s, const void *p, size_t n, sqlite3_int64 id)
{
	if (!s->active)
		return 0;
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->buf = xrealloc(s->buf, s->cap);
	}
	if (s->n % 256 == 0) {
		s->sizes = xrealloc(s->sizes, (s->n + 256) * sizeof(*s->sizes));
		s->ids = xrealloc(s->ids, (s->n + 256) * sizeof(*s->ids));
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->sizes[s->n] = n;
	s->ids[s->n++] = id;
	return s->n >= BLOB_TRAIN_ROWS || s->len >= SAMPLE_CAP;
}

int sampler_train(struct sampler *s, struct queue *q, struct blob_codec *c,
		  const char *kind, sqlite3_stmt *upd)
{
	struct blob_dict *d = NULL;
	size_t off = 0;
	int rc = QUEUE_OK;

	if (s->active && s->n >= BLOB_TRAIN_MIN)
		d = blob_dict_train(s->buf, s->sizes, s->n,
				    blob_level_of(kind));
	if (!d)
		goto out; /* too little, or too uniform to be worth it */
	if ((rc = qdict_add(q, kind, d)))
		goto out;
	for (unsigned i = 0; i < s->n; i++) {
		const void *z;
		size_t zlen;

		if (blob_compress(c, d, s->buf + off, s->sizes[i], &z, &zlen)) {
			rc = QUEUE_EINVAL;
			goto out;
		}
		off += s->sizes[i];
		sqlite3_bind_blob(upd, 1, z, (int)zlen, SQLITE_STATIC);
		sqlite3_bind_int64(upd, 2, s->ids[i]);
		if ((rc = qstep(q, upd, "compressing stored rows")))
			goto out;
	}
	/* the crash tests' seam: the dictionary and its rows are written,
	 * not committed */
	kill_point(strcmp(kind, "body") == 0 ? "train-body" : "train-result");
out:
	sampler_free(s);
	return rc;
}
