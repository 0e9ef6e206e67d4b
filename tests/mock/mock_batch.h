/* mock_batch.h — the state behind the mock's batch APIs: uploaded files
 * (OpenAI Files), batches of both dialects with the timeline the
 * --batch-* options script, their JSON objects as each provider shows
 * them, and a worker thread that writes a batch's results when it ends.
 * Files live on disk in a per-process temp directory, removed by
 * mock_batch_free. Thread-safe: one mutex guards the files and batches;
 * inputs are checked and results written outside it. */
#ifndef MOCK_BATCH_H
#define MOCK_BATCH_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "tests/mock/mock_fault.h"
#include "tests/mock/mock_log.h"
#include "tests/mock/mock_opts.h"
#include "tests/mock/mock_reply.h"

struct mock_batch;

/* Why a call was refused: the HTTP status and, for OpenAI's shape, the
 * error's code and param (NULL: null). */
struct mock_batch_err {
	int status;
	const char *code;
	const char *param;
	char message[320];
};

/* mock_batch_new creates the temp directory (under $TMPDIR, else /tmp)
 * and starts the worker. o, f and log (NULL: no log) are borrowed and
 * must outlive it. Returns NULL, with the reason on stderr, when either
 * fails. */
struct mock_batch *mock_batch_new(const struct mock_opts *o,
				  struct mock_fault *f, struct mock_log *log);

/* mock_batch_free stops the worker (a batch being written is abandoned),
 * removes the temp directory and frees s; NULL does nothing. */
void mock_batch_free(struct mock_batch *s);

/* mock_batch_tmp_path returns a new unused path in the temp directory
 * for an upload to stream into (freed with free()). */
char *mock_batch_tmp_path(struct mock_batch *s);

/* --- OpenAI Files. Objects returned are new (cJSON_Delete). ---------- */

/* mock_batch_file_add registers the bytes-long upload at path (taken
 * over: s unlinks it in time) as a file of purpose named filename, after
 * checking it as a batch input when purpose is "batch" (faults show only
 * when a batch is created from it). Adds "file" (and "requests") to
 * logrec. Returns the File object. */
cJSON *mock_batch_file_add(struct mock_batch *s, char *path,
			   const char *filename, const char *purpose,
			   size_t bytes, cJSON *logrec);

/* mock_batch_file_get sets *obj to file id's File object. Returns 0, or
 * -1 with *e set (404). */
int mock_batch_file_get(struct mock_batch *s, const char *id, cJSON **obj,
			struct mock_batch_err *e);

/* mock_batch_file_open opens file id's content for reading into *fd
 * (the caller closes it) and its size into *len. Returns 0 or -1 (*e). */
int mock_batch_file_open(struct mock_batch *s, const char *id, int *fd,
			 size_t *len, struct mock_batch_err *e);

/* mock_batch_file_delete deletes file id: 404 after, its disk space
 * freed once no running batch reads it. Sets *obj to OpenAI's deletion
 * object. Returns 0 or -1 (*e). */
int mock_batch_file_delete(struct mock_batch *s, const char *id,
			   cJSON **obj, struct mock_batch_err *e);

/* --- Batches. base is the results_url prefix of Anthropic objects
 * ("http://HOST/v1"); unused for OpenAI. ----------------------------- */

/* mock_batch_create_openai creates a batch from POST /batches body req
 * (borrowed). Adds "batch", "file", "requests", "model" and "metadata" to
 * logrec. Returns 0 with the Batch object in *obj, or -1 (*e). */
int mock_batch_create_openai(struct mock_batch *s, const cJSON *req,
			     cJSON **obj, cJSON *logrec,
			     struct mock_batch_err *e);

/* mock_batch_create_anthropic creates a message batch from the bytes-long
 * create body at path (taken over). Adds "batch", "requests" and "model"
 * to logrec. Returns 0 with the object in *obj, or -1 (*e). */
int mock_batch_create_anthropic(struct mock_batch *s, char *path,
				const char *base, cJSON **obj, cJSON *logrec,
				struct mock_batch_err *e);

/* mock_batch_get sets *obj to batch id (of dialect d) as it is now.
 * Returns 0 or -1 (*e). */
int mock_batch_get(struct mock_batch *s, enum mock_dialect d, const char *id,
		   const char *base, cJSON **obj, struct mock_batch_err *e);

/* mock_batch_list sets *obj to the dialect's list page: up to limit
 * batches, newest first, starting after batch after (NULL: the newest).
 * Returns 0 or -1 (*e: an unknown after). */
int mock_batch_list(struct mock_batch *s, enum mock_dialect d, long limit,
		    const char *after, const char *base, cJSON **obj,
		    struct mock_batch_err *e);

/* mock_batch_cancel starts cancelling batch id: it ends shortly after,
 * keeping the requests done by then. Cancelling a cancelling batch
 * changes nothing; an ended one is refused (400). Returns 0 with the
 * object in *obj, or -1 (*e). */
int mock_batch_cancel(struct mock_batch *s, enum mock_dialect d,
		      const char *id, const char *base, cJSON **obj,
		      struct mock_batch_err *e);

/* mock_batch_results_open opens an ended Anthropic batch's results for
 * reading into *fd (the caller closes it), size into *len. Returns 0, or
 * -1 (*e: 404 for an unknown batch or one not ended yet). */
int mock_batch_results_open(struct mock_batch *s, const char *id, int *fd,
			    size_t *len, struct mock_batch_err *e);

#endif
