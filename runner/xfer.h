/* xfer.h — one HTTP transfer of a worker: a pooled libcurl easy handle
 * set up once with what every request shares, its reply buffers (capped:
 * STYLE's rule for buffers that grow from network data), how many times
 * libcurl sent the request (it sends again, unasked, when a reused
 * connection dies before any reply, and the provider may bill each), and
 * what a transfer that failed below HTTP comes to.
 * Not thread-safe: a pool and its transfers belong to one worker. */
#ifndef NIGHTSHIFT_XFER_H
#define NIGHTSHIFT_XFER_H

#include <stdint.h>

#include <curl/curl.h>

#include "runner/providers/outcome.h"
#include "util/buf.h"

struct task;

struct xfer {
	CURL *easy;
	struct task *t; /* the job it carries, borrowed */
	/* this request's own header, in front of its provider's list */
	struct curl_slist idnode;
	char idline[240];
	char *req; /* the request body (new), or NULL */
	struct buf body, head;
	unsigned resp_flags; /* what the request builder set */
	int64_t t0_ms;	     /* monotonic start */
	int sends;	     /* times libcurl sent the request */
	char errbuf[CURL_ERROR_SIZE];
	struct xfer *next;	    /* free list */
	struct xfer *aprev, *anext; /* the worker's active list */
};

struct xfer_pool {
	struct xfer *free;
	int proxy_env; /* a proxy variable is set: curl reads them */
};

/* xfer_pool_init: an empty pool; reads the proxy variables once. */
void xfer_pool_init(struct xfer_pool *p);
/* xfer_pool_free: free the pooled transfers (none may be in use). */
void xfer_pool_free(struct xfer_pool *p);
/* xfer_get: a transfer from the pool (made when it is empty), with empty
 * buffers and no sends counted. */
struct xfer *xfer_get(struct xfer_pool *p);
/* xfer_put: back to the pool: its request is freed and big reply buffers
 * are given back, so memory stays flat. */
void xfer_put(struct xfer_pool *p, struct xfer *x);
/* xfer_failed: the outcome (o: initialized; cleared first) of x when
 * libcurl ended it with cc instead of a reply. */
void xfer_failed(const struct xfer *x, CURLcode cc, struct outcome *o);

#endif
