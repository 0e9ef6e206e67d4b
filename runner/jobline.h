/* jobline.h — parse and validate one job line (OpenAI Batch API format).
 *
 * Pure: no I/O, no globals; thread-safe. The reason for a rejected line
 * names the field and what is wrong with it; the caller adds FILE:LINE. */
#ifndef NIGHTSHIFT_JOBLINE_H
#define NIGHTSHIFT_JOBLINE_H

#include <stddef.h>
#include <stdint.h>

/* Longest custom_id accepted: it goes into logs, exports and headers. */
#define JOBLINE_MAX_ID 512

struct jobline {
	char *custom_id;   /* new */
	char *body;        /* the body as normalized JSON, new */
	size_t body_len;
	long long priority;
	char *providers;   /* JSON array text, new, or NULL */
	double max_cost_usd; /* -1 when absent */
	int64_t est_input_tokens;
	int64_t max_output_tokens; /* 0 when absent */
};

/* jobline_parse: validate line (len bytes, need not be NUL-terminated) and
 * fill *out (cleared first). Returns 0, or -1 with the reason in err. */
int jobline_parse(const char *line, size_t len, struct jobline *out,
		  char *err, size_t errlen);
/* jobline_clear: free what *j holds and zero it. */
void jobline_clear(struct jobline *j);
/* jobline_utf8_valid: 1 if s is valid UTF-8; else 0 and *bad = offset. */
int jobline_utf8_valid(const char *s, size_t n, size_t *bad);

#endif
