/* sampler.h — the first rows of a kind (bodies, results) kept aside to
 * train a zstd dictionary, then rewritten with it. Shared by ingest and
 * the run loop's store. Not thread-safe. */
#ifndef NIGHTSHIFT_SAMPLER_H
#define NIGHTSHIFT_SAMPLER_H

#include <sqlite3.h>
#include <stddef.h>

struct queue;
struct blob_codec;

struct sampler {
	int active; /* collecting: no dictionary of this kind yet */
	char *buf;
	size_t len, cap;
	size_t *sizes;
	sqlite3_int64 *ids;
	unsigned n;
};

/* sampler_init: start collecting only when active (no dictionary yet). */
void sampler_init(struct sampler *s, int active);
void sampler_free(struct sampler *s);
/* sampler_add: keep a copy of p (n bytes) for row id. Returns 1 when the
 * sample is complete and should be trained now, else 0. */
int sampler_add(struct sampler *s, const void *p, size_t n,
		sqlite3_int64 id);
/* sampler_train: train a dictionary of kind ("body"/"result") from the
 * sample if it is big enough, store it, and rewrite each sampled row with
 * upd (?1 = the new blob, ?2 = the row id). Must run inside the caller's
 * open transaction. Stops collecting either way. QUEUE_* code. */
int sampler_train(struct sampler *s, struct queue *q, struct blob_codec *c,
		  const char *kind, sqlite3_stmt *upd);

#endif
