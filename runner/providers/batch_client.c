/* batch_client.c — a batch lane's HTTP calls (see batch_client.h).
 *
 * Bodies of calls go through one growable buffer; files (an input file to
 * upload, output to download) stream between disk and the socket, so a
 * 200 MB batch never sits in memory. A file transfer has no total
 * timeout, only a floor on its speed: a big upload on a slow link is
 * fine, a stalled one is not. */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "runner/providers/batch_client.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/providers/auth.h"
#include "runner/providers/outcome.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* Most bytes a reply to a call (not a download) may hold: a page of 100
 * batch objects is ~150 KB. */
#define REPLY_MAX (16u << 20)
/* A transfer slower than this many bytes a second for LOW_SPEED_S is
 * given up as stalled. */
#define LOW_SPEED 1024
#define LOW_SPEED_S 60

struct bclient {
	const struct prov *p;
	enum batch_api api;
	CURL *h;
	struct curl_slist *json, *plain; /* with and without a JSON body */
	struct buf reply;
	FILE *sink; /* a download's file, else the reply buffer */
	int status;
	char err[400];
	char *base; /* the batch API's root URL */
};

struct bclient *bclient_new(const struct prov *p, const char *key)
{
	struct bclient *c = xcalloc(1, sizeof(*c));

	c->p = p;
	c->api = (enum batch_api)p->batch.api;
	if (!(c->h = curl_easy_init()))
		abort(); /* only fails on OOM; see xalloc.h */
	c->json = auth_headers(p, key, 1);
	c->plain = auth_headers(p, key, 0);
	buf_init(&c->reply, REPLY_MAX);
	/* Anthropic's base_url is the host (the Messages path carries /v1);
	 * OpenAI-style ones end in /v1 or the compatible-mode root. */
	c->base = xmalloc(strlen(p->base_url) + 32);
	sprintf(c->base, "%s%s", p->base_url,
		c->api == BATCH_API_ANTHROPIC ? "/v1/messages/batches" : "");
	return c;
}

void bclient_free(struct bclient **cp)
{
	struct bclient *c;

	if (!cp || !*cp)
		return;
	c = *cp;
	curl_easy_cleanup(c->h);
	auth_headers_free(c->json);
	auth_headers_free(c->plain);
	buf_free(&c->reply);
	free(c->base);
	free(c);
	*cp = NULL;
}

const char *bclient_err(const struct bclient *c)
{
	return c->err;
}

int bclient_status(const struct bclient *c)
{
	return c->status;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct bclient *c = arg;
	size_t len = size * n;

	if (c->sink)
		return fwrite(p, 1, len, c->sink);
	return buf_add(&c->reply, p, len) == 0 ? len : 0;
}

/* fail: set err from fmt (scrubbed: a provider's message may quote what
 * it was sent) and return code. */
static int fail(struct bclient *c, int code, const char *fmt, ...)
{
	char raw[600];
	char *clean;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	clean = outcome_message_dup(raw, strlen(raw));
	snprintf(c->err, sizeof(c->err), "%s", clean ? clean : "failed");
	free(clean);
	return code;
}

/* call: one request to c->base + path; body (a NUL-terminated JSON text)
 * or form (multipart) or upload (a file sent as the body, size bytes) is
 * sent, or none of them for a GET. The reply lands in c->reply, or in
 * c->sink when set. */
static int call(struct bclient *c, const char *method, const char *path,
		const char *body, curl_mime *form, FILE *upload,
		curl_off_t size)
{
	char url[2048];
	long status = 0;
	CURLcode rc;
	int big = form || upload || c->sink;

	/* a path that is a whole URL (a batch's results_url) is taken as
	 * it is: same_origin checked it */
	if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0)
		snprintf(url, sizeof(url), "%s", path);
	else
		snprintf(url, sizeof(url), "%s%s", c->base, path);
	buf_reset(&c->reply, 1u << 20);
	c->status = 0;
	c->err[0] = '\0';
	curl_easy_reset(c->h);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER,
			 body || upload ? c->json : c->plain);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT,
			 (long)(c->p->connect_timeout_s > 0
					? c->p->connect_timeout_s
					: 10));
	if (big) {
		curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_LIMIT,
				 (long)LOW_SPEED);
		curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_TIME,
				 (long)LOW_SPEED_S);
	} else {
		curl_easy_setopt(c->h, CURLOPT_TIMEOUT,
				 (long)(c->p->timeout_s > 0 ? c->p->timeout_s
							    : 120));
	}
	curl_easy_setopt(c->h, CURLOPT_ACCEPT_ENCODING, "");
	if (form) {
		curl_easy_setopt(c->h, CURLOPT_MIMEPOST, form);
	} else if (upload) {
		curl_easy_setopt(c->h, CURLOPT_POST, 1L);
		curl_easy_setopt(c->h, CURLOPT_READDATA, upload);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, size);
	} else if (body) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, "");
	}
	rc = curl_easy_perform(c->h);
	if (rc != CURLE_OK)
		return fail(c, BC_RETRY, "%s %s: %s", method, path,
			    curl_easy_strerror(rc));
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	c->status = (int)status;
	if (status >= 200 && status < 300)
		return BC_OK;
	/* the provider's own words, when the body is one of its errors */
	return fail(c,
		    status == 408 || status == 409 || status == 429 ||
				    status >= 500
			    ? BC_RETRY
			    : BC_REFUSED,
		    "%s %s: HTTP %ld: %.300s", method, path, status,
		    c->sink ? "" : (c->reply.p ? c->reply.p : ""));
}

/* info: the call's reply as a batch object. */
static int info(struct bclient *c, int rc, struct batch_info *out)
{
	if (rc != BC_OK)
		return rc;
	if (batch_info_parse(c->api, c->reply.p ? c->reply.p : "",
			     c->reply.len, out) != 0)
		return fail(c, BC_RETRY,
			    "the provider's reply is not a batch object");
	return BC_OK;
}

int bclient_upload(struct bclient *c, const char *path, char **file_id)
{
	curl_mime *form = curl_mime_init(c->h);
	curl_mimepart *part;
	int rc;

	*file_id = NULL;
	part = curl_mime_addpart(form);
	curl_mime_name(part, "purpose");
	curl_mime_data(part, "batch", CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(form);
	curl_mime_name(part, "file");
	if (curl_mime_filedata(part, path) != CURLE_OK) {
		curl_mime_free(form);
		return fail(c, BC_RETRY, "cannot read the batch input file");
	}
	curl_mime_filename(part, "nightshift-batch.jsonl");
	curl_mime_type(part, "application/jsonl");
	rc = call(c, "POST", "/files", NULL, form, NULL, 0);
	curl_mime_free(form);
	if (rc != BC_OK)
		return rc;
	*file_id = batch_file_id_parse(c->reply.p ? c->reply.p : "",
				       c->reply.len);
	if (!*file_id)
		return fail(c, BC_RETRY, "the upload's reply has no file id");
	return BC_OK;
}

int bclient_create(struct bclient *c, const char *file_id, const char *tag,
		   const char *path, struct batch_info *out)
{
	char window[32];
	char *body;
	FILE *f;
	long size;
	int rc;

	if (c->api == BATCH_API_OPENAI) {
		snprintf(window, sizeof(window), "%dh",
			 c->p->batch.window_h > 0 ? c->p->batch.window_h : 24);
		body = batch_create_openai(file_id, "/v1/chat/completions",
					   window, tag);
		rc = call(c, "POST", "/batches", body, NULL, NULL, 0);
		free(body);
		return info(c, rc, out);
	}
	if (!(f = fopen(path, "rb")))
		return fail(c, BC_RETRY, "cannot read the batch input file");
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return fail(c, BC_RETRY, "cannot read the batch input file");
	}
	rc = call(c, "POST", "", NULL, NULL, f, (curl_off_t)size);
	fclose(f);
	return info(c, rc, out);
}

/* on_batch: method on batch remote_id (+ suffix), its reply in *out. */
static int on_batch(struct bclient *c, const char *method,
		    const char *remote_id, const char *suffix,
		    struct batch_info *out)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/%s%s",
		 c->api == BATCH_API_OPENAI ? "/batches" : "", remote_id,
		 suffix);
	return info(c, call(c, method, path, NULL, NULL, NULL, 0), out);
}

int bclient_get(struct bclient *c, const char *remote_id,
		struct batch_info *out)
{
	return on_batch(c, "GET", remote_id, "", out);
}

int bclient_cancel(struct bclient *c, const char *remote_id,
		   struct batch_info *out)
{
	return on_batch(c, "POST", remote_id, "/cancel", out);
}

int bclient_list(struct bclient *c, const char *after,
		 struct batch_info **items, size_t *n, int *has_more,
		 char **last_id)
{
	char path[400];
	int rc;

	*items = NULL;
	*n = 0;
	*has_more = 0;
	*last_id = NULL;
	if (c->api == BATCH_API_OPENAI)
		snprintf(path, sizeof(path), "/batches?limit=100%s%s",
			 after ? "&after=" : "", after ? after : "");
	else
		snprintf(path, sizeof(path), "?limit=100%s%s",
			 after ? "&after_id=" : "", after ? after : "");
	if ((rc = call(c, "GET", path, NULL, NULL, NULL, 0)))
		return rc;
	if (batch_list_parse(c->api, c->reply.p ? c->reply.p : "",
			     c->reply.len, items, n, has_more, last_id))
		return fail(c, BC_RETRY, "the provider's batch list did not "
					 "parse");
	return BC_OK;
}

int bclient_same_origin(const struct bclient *c, const char *url)
{
	const char *b = c->p->base_url, *s = strstr(b, "://");
	size_t n;

	if (!s)
		return 0;
	s += 3;
	n = (size_t)(s - b) + strcspn(s, "/");
	return strncmp(url, b, n) == 0 && (url[n] == '/' || url[n] == '\0');
}

int bclient_download(struct bclient *c, const char *file_id, FILE *out)
{
	char path[2048];
	int rc;

	if (fflush(out) != 0 || fseek(out, 0, SEEK_SET) != 0 ||
	    ftruncate(fileno(out), 0) != 0)
		return fail(c, BC_RETRY, "cannot write the downloaded results");
	if (bclient_same_origin(c, file_id))
		snprintf(path, sizeof(path), "%s", file_id);
	else
		snprintf(path, sizeof(path),
			 c->api == BATCH_API_OPENAI ? "/files/%s/content"
						    : "/%s/results",
			 file_id);
	c->sink = out;
	rc = call(c, "GET", path, NULL, NULL, NULL, 0);
	c->sink = NULL;
	if (rc == BC_OK && fflush(out) != 0)
		return fail(c, BC_RETRY, "cannot write the downloaded results");
	return rc;
}
