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

/* A validated line whose strings live in the caller's line buffer. */
struct jobline_view {
	const char *custom_id; /* decoded, NUL-terminated */
	const char *body;      /* compact JSON (no whitespace outside strings),
				* NUL-terminated */
	size_t body_len;
	long long priority;
	const char *providers; /* compact JSON array, or NULL */
	double max_cost_usd;   /* -1 when absent */
	int lane; /* "nightshift": {"lane"}: 0 auto (or absent), 1 sync,
		     2 batch */
	int64_t est_input_tokens;
	int64_t max_output_tokens; /* 0 when absent */
};

/* The same, owning its strings. */
struct jobline {
	char *custom_id; /* new */
	char *body;      /* the body as compact JSON, new */
	size_t body_len;
	long long priority;
	char *providers; /* compact JSON array text, new, or NULL */
	double max_cost_usd; /* -1 when absent */
	int lane;	     /* as in jobline_view */
	int64_t est_input_tokens;
	int64_t max_output_tokens; /* 0 when absent */
};

/* jobline_parse_inplace: validate line (len bytes, need not be
 * NUL-terminated) and fill *out with pointers into line, which is
 * rewritten in place: the custom_id decoded, the body and providers values
 * compacted (whitespace outside strings dropped, so the same job spelled
 * with other spacing yields the same bytes), each NUL-terminated. No
 * allocation unless the line holds more than a few hundred JSON values.
 * Returns 0, or -1 with the reason in err (line then holds unspecified
 * bytes). */
int jobline_parse_inplace(char *line, size_t len, struct jobline_view *out,
			  char *err, size_t errlen);
/* jobline_parse: the same on a borrowed line, filling *out (cleared
 * first) with new strings. Returns 0, or -1 with the reason in err. */
int jobline_parse(const char *line, size_t len, struct jobline *out,
		  char *err, size_t errlen);
/* jobline_same_json: 1 if JSON texts a and b (alen, blen bytes) hold the
 * same value (numbers by value, strings decoded, members in any order),
 * else 0 (also when either is not JSON). For ingest_set_same_json. */
int jobline_same_json(const char *a, size_t alen, const char *b,
		      size_t blen);
/* jobline_clear: free what *j holds and zero it. */
void jobline_clear(struct jobline *j);

#endif
