/* mock_batch_http.h — the HTTP side of the mock's batch APIs: which paths
 * they are (matched by suffix, like the chat endpoints, so any base path
 * works), the key checks, bodies streamed to disk (multipart uploads and
 * large create bodies), replies in each dialect's shape, and one log line
 * per request. A request's state belongs to the MHD thread serving its
 * connection; the state it reads and changes is in mock_batch. */
#ifndef MOCK_BATCH_HTTP_H
#define MOCK_BATCH_HTTP_H

#include <stddef.h>

#include <microhttpd.h>

#include "tests/mock/mock_batch.h"
#include "tests/mock/mock_log.h"
#include "tests/mock/mock_opts.h"

struct mock_batch_req;

/* mock_batch_req_new returns the state of a new request when path is
 * one of the batch APIs' (any method: a wrong one gets 405), else NULL.
 * s, o and log (NULL: no log) are borrowed for the request's life; conn
 * and path for the call. Freed with mock_batch_req_free. */
struct mock_batch_req *mock_batch_req_new(struct mock_batch *s,
					  const struct mock_opts *o,
					  struct mock_log *log,
					  struct MHD_Connection *conn,
					  const char *path, const char *method);

/* mock_batch_req_step takes a call of MHD's access handler for the
 * request: a chunk of body (consumed; *size set to 0), or the final call
 * (*size == 0), which queues the reply. Returns what the handler must. */
enum MHD_Result mock_batch_req_step(struct mock_batch_req *q,
				    struct MHD_Connection *conn,
				    const char *data, size_t *size);

/* mock_batch_req_free logs the request's line (when it was answered or
 * cut short after the start) and frees q; NULL does nothing. */
void mock_batch_req_free(struct mock_batch_req *q);

#endif
