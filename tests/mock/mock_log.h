/* mock_log.h — the mock provider's request log: one JSON line per request,
 * appended with a single write as the request ends, so a reader sees whole
 * lines even after the mock is killed. Thread-safe (a mutex orders the
 * writes). */
#ifndef MOCK_LOG_H
#define MOCK_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* The body is logged as JSON when it parsed and fits the cap, else as a
 * string cut to the cap. */
#define MOCK_LOG_BODY_CAP (64 * 1024)

/* One request, as logged. Pointers are borrowed for the call. */
struct mock_log_rec {
	int64_t t_ms, done_ms;
	const char *path;
	const char *dialect; /* NULL: logged as null */
	const char *model;   /* NULL: logged as null */
	const char *kind;
	int status;
	uint64_t hash;
	const char *client_request_id; /* NULL: logged as null */
	bool auth_ok;
	size_t bytes;	  /* body bytes received */
	const char *body; /* what was kept of them, NUL-terminated */
	size_t body_len;
	const cJSON *body_json; /* the parsed body, or NULL */
	/* The usage the reply reported, split as nightshift keeps it
	 * (logged as "usage" when usage_set). */
	bool usage_set;
	long long u_in, u_cached, u_cache_write, u_out, u_reasoning;
};

struct mock_log;

/* mock_log_open opens path for appending (created 0644). Returns new
 * state freed with mock_log_close, or NULL with errno set. */
struct mock_log *mock_log_open(const char *path);

/* mock_log_write appends the line for rec. Returns 0, or -1 when the
 * write failed (reported once on stderr). */
int mock_log_write(struct mock_log *l, const struct mock_log_rec *rec);

/* mock_log_json appends o (borrowed) printed on one line: the batch API's
 * lines, whose fields differ from a chat request's. Returns as
 * mock_log_write does. */
int mock_log_json(struct mock_log *l, const cJSON *o);

/* mock_log_raw appends len bytes of text, which must be whole lines each
 * ending in a newline (many batch lines in one write). Returns as
 * mock_log_write does. */
int mock_log_raw(struct mock_log *l, const char *text, size_t len);

/* mock_log_close closes the file; NULL does nothing. */
void mock_log_close(struct mock_log *l);

#endif
