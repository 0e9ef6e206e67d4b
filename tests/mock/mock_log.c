/* mock_log.c — JSON-lines request log of the mock provider. Each line is
 * built whole, then written with one write(2) on an O_APPEND descriptor
 * under a mutex: lines from several MHD threads never interleave, and
 * nothing sits in a stdio buffer when the mock is signalled. Only the
 * X-Client-Request-Id header is ever logged, never keys. */
#include "tests/mock/mock_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/mock/mock_util.h"

struct mock_log {
	int fd;
	pthread_mutex_t mu; /* guards writes and failed */
	bool failed;
};

struct mock_log *mock_log_open(const char *path)
{
	struct mock_log *l;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		return NULL;
	l = mock_xcalloc(1, sizeof(*l));
	l->fd = fd;
	pthread_mutex_init(&l->mu, NULL);
	return l;
}

void mock_log_close(struct mock_log *l)
{
	if (!l)
		return;
	close(l->fd);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* raw_body returns the body as one line of raw JSON text, new, or NULL
 * when it cannot be used verbatim. A body that parsed as JSON has line
 * breaks only as whitespace between tokens, so they become spaces; any
 * other control byte (cJSON lets some through in strings) means the tree
 * must be printed instead. */
static char *raw_body(const char *body, size_t len)
{
	char *s = mock_xmalloc(len + 1);

	memcpy(s, body, len);
	s[len] = '\0';
	mock_utf8_clean(s, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n' || ch == '\r' || ch == '\t') {
			s[i] = ' ';
		} else if (ch < 0x20) {
			free(s);
			return NULL;
		}
	}
	return s;
}

static void add_str_or_null(cJSON *o, const char *name, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

/* add_body adds "body" (and "body_truncated" when cut) to o. */
static void add_body(cJSON *o, const struct mock_log_rec *rec)
{
	char *text = NULL;
	size_t n;

	if (rec->body_json && rec->bytes <= MOCK_LOG_BODY_CAP) {
		text = raw_body(rec->body, rec->body_len);
		if (!text)
			text = cJSON_PrintUnformatted(rec->body_json);
		if (text) {
			cJSON_AddRawToObject(o, "body", text);
			free(text);
			return;
		}
	}
	n = rec->body_len < MOCK_LOG_BODY_CAP ? rec->body_len
					      : MOCK_LOG_BODY_CAP;
	n = mock_utf8_cut(rec->body, n);
	text = mock_xstrndup(rec->body, n);
	mock_utf8_clean(text, n);
	cJSON_AddStringToObject(o, "body", text);
	free(text);
	if (rec->bytes > n)
		cJSON_AddTrueToObject(o, "body_truncated");
}

int mock_log_raw(struct mock_log *l, const char *text, size_t len)
{
	size_t off = 0;
	int rc = 0;

	pthread_mutex_lock(&l->mu);
	while (off < len) {
		ssize_t w = write(l->fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!l->failed)
				fprintf(stderr,
					"mock-provider: log write: %s\n",
					strerror(errno));
			l->failed = true;
			rc = -1;
			break;
		}
		off += (size_t)w;
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

int mock_log_json(struct mock_log *l, const cJSON *o)
{
	char *line = cJSON_PrintUnformatted(o);
	size_t len;
	int rc;

	if (!line)
		abort();
	len = strlen(line);
	line[len++] = '\n'; /* replaces the NUL; the length is kept */
	rc = mock_log_raw(l, line, len);
	free(line);
	return rc;
}

int mock_log_write(struct mock_log *l, const struct mock_log_rec *rec)
{
	cJSON *o = cJSON_CreateObject();
	char hash[20];
	int rc;

	if (!o)
		abort();
	snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)rec->hash);
	cJSON_AddNumberToObject(o, "t_ms", (double)rec->t_ms);
	cJSON_AddNumberToObject(o, "done_ms", (double)rec->done_ms);
	cJSON_AddStringToObject(o, "path", rec->path);
	add_str_or_null(o, "dialect", rec->dialect);
	add_str_or_null(o, "model", rec->model);
	cJSON_AddStringToObject(o, "kind", rec->kind);
	cJSON_AddNumberToObject(o, "status", rec->status);
	cJSON_AddStringToObject(o, "hash", hash);
	add_str_or_null(o, "client_request_id", rec->client_request_id);
	cJSON_AddBoolToObject(o, "auth_ok", rec->auth_ok);
	cJSON_AddNumberToObject(o, "bytes", (double)rec->bytes);
	if (rec->usage_set) {
		cJSON *u = cJSON_AddObjectToObject(o, "usage");

		if (!u)
			abort();
		cJSON_AddNumberToObject(u, "in", (double)rec->u_in);
		cJSON_AddNumberToObject(u, "cached", (double)rec->u_cached);
		cJSON_AddNumberToObject(u, "cache_write",
					(double)rec->u_cache_write);
		cJSON_AddNumberToObject(u, "out", (double)rec->u_out);
		cJSON_AddNumberToObject(u, "reasoning",
					(double)rec->u_reasoning);
	}
	add_body(o, rec);
	rc = mock_log_json(l, o);
	cJSON_Delete(o);
	return rc;
}
