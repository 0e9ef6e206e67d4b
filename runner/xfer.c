/* xfer.c — pooled transfers, their buffers and callbacks (see xfer.h). */
#include "runner/xfer.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* Caps on what the network may make us hold. */
#define BODY_CAP (64u << 20)
#define HEADER_CAP (64u << 10)
/* Reply buffers bigger than this are not kept for the next transfer. */
#define BODY_KEEP (1u << 20)

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	/* Past the cap, 0 makes curl fail the transfer: CURLE_WRITE_ERROR */
	return buf_add(&x->body, p, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	/* A new status line starts a new block (1xx, redirects): keep only
	 * the final response's headers. */
	if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		buf_reset(&x->head, HEADER_CAP + 1);
	(void)buf_add(&x->head, p, size * n); /* past the cap: dropped */
	return size * n; /* never fail a transfer over headers */
}

/* on_prereq: curl is about to send x's request on a connection, new or
 * reused: once, or again after a reused connection died unanswered (a
 * retry curl makes by itself, possibly within one call, so socket events
 * cannot be relied on to show it). */
static int on_prereq(void *arg, char *ip, char *local_ip, int port,
		     int local_port)
{
	struct xfer *x = arg;

	(void)ip;
	(void)local_ip;
	(void)port;
	(void)local_port;
	x->sends++;
	return CURL_PREREQFUNC_OK;
}

/* proxy_env: whether any variable curl takes a proxy from is set. When
 * none is, handles are told "no proxy" outright; curl would otherwise look
 * them all up again for every request (~0.7% of a job's CPU). */
static int proxy_env(void)
{
	static const char *const names[] = {
		"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
		"all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (getenv(names[i]))
			return 1;
	return 0;
}

void xfer_pool_init(struct xfer_pool *p)
{
	p->free = NULL;
	p->proxy_env = proxy_env();
}

static void xfer_free(struct xfer *x)
{
	curl_easy_cleanup(x->easy);
	free(x->req);
	buf_free(&x->body);
	buf_free(&x->head);
	free(x);
}

void xfer_pool_free(struct xfer_pool *p)
{
	while (p->free) {
		struct xfer *x = p->free;

		p->free = x->next;
		xfer_free(x);
	}
}

struct xfer *xfer_get(struct xfer_pool *p)
{
	struct xfer *x = p->free;

	if (x) {
		p->free = x->next;
	} else {
		/* Options that never change are set once per handle; a
		 * reused handle keeps them (and its connection cache). No
		 * Accept-Encoding: replies are a few KB, and asking for
		 * gzip cost curl about 4% of a job's CPU (callgrind), reply
		 * compressed or not. */
		x = xcalloc(1, sizeof(*x));
		buf_init(&x->body, BODY_CAP);
		buf_init(&x->head, HEADER_CAP);
		x->easy = curl_easy_init();
		if (!x->easy)
			abort(); /* only fails on OOM; see xalloc.h */
		curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
		curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
		curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
		curl_easy_setopt(x->easy, CURLOPT_PREREQFUNCTION, on_prereq);
		curl_easy_setopt(x->easy, CURLOPT_PREREQDATA, x);
		curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
		curl_easy_setopt(x->easy, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
		if (!p->proxy_env) {
			curl_easy_setopt(x->easy, CURLOPT_PROXY, "");
			curl_easy_setopt(x->easy, CURLOPT_NOPROXY, "");
		}
	}
	x->sends = 0;
	return x;
}

void xfer_put(struct xfer_pool *p, struct xfer *x)
{
	free(x->req);
	x->req = NULL;
	x->t = NULL;
	buf_reset(&x->body, BODY_KEEP);
	buf_reset(&x->head, HEADER_CAP + 1);
	x->next = p->free;
	p->free = x;
}

void xfer_failed(const struct xfer *x, CURLcode cc, struct outcome *o)
{
	const char *msg = x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);

	outcome_clear(o);
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		o->cls = OUTCOME_TIMEOUT;
		break;
	case CURLE_WRITE_ERROR:
		o->cls = OUTCOME_INVALID_OUTPUT;
		msg = "response larger than the 64 MiB cap";
		break;
	default:
		/* refused, reset, nothing received, cut off mid-body, TLS and
		 * DNS trouble: a connection problem, worth retrying */
		o->cls = OUTCOME_CONNECTION;
		break;
	}
	o->error_code = xstrdup(cc == CURLE_OPERATION_TIMEDOUT ? "timeout"
							       : "transport");
	o->error_message = outcome_message_dup(msg, strlen(msg));
}
